# The two commands of the README:
#   make book   execute every notebook headlessly, in course order (outputs in build/book)
#   make test   run the whole test suite: unit tests + every notebook in fast mode (nbval)
# Both create the virtual environment .venv and install everything on first use.

PYTHON ?= python3
VENV ?= .venv
# Which torch to install when the environment has none (any torch >= 2.1 works).
TORCH_SPEC ?= torch>=2.1,<3
# Where pip looks for it. On Linux the default index serves the CUDA build (GBs of CUDA
# libraries); `make test CPU=1` installs the CPU-only build from PyTorch's wheel index
# instead. TORCH_INDEX=URL names any other index. Both matter only when torch is installed,
# the first time: remove $(VENV) to switch builds.
CPU ?=
TORCH_INDEX ?= $(if $(filter 1 yes true,$(CPU)),https://download.pytorch.org/whl/cpu)
TORCH_PIP_ARGS := $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
PY := $(VENV)/bin/python
CNNBOOK := $(PY) -m cnnbook
STAMP := $(VENV)/.cnnbook-installed

.PHONY: book notebooks test unit env clean site

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install $(TORCH_PIP_ARGS) "$(TORCH_SPEC)"
	$(PY) -m pip install -e ".[test]"
	touch $(STAMP)

# The book: fetch MNIST's test set if the data root lacks it (see data/README.md), then
# execute every notebook into build/book.
book: $(STAMP)
	$(CNNBOOK) data fetch mnist10k --quiet
	$(CNNBOOK) book run --output build/book

# Re-execute the notebooks in place, to commit their outputs.
notebooks: $(STAMP)
	$(CNNBOOK) data fetch mnist10k --quiet
	$(CNNBOOK) book run --in-place

# The book as a website, from the committed notebooks (no execution, no network): build/html.
site: $(STAMP)
	$(CNNBOOK) book html --output build/html

# The suite runs on every core (pytest-xdist); each test file, and each notebook, stays
# on one worker (--dist loadscope), so a notebook's cells run in order in one kernel.
test: $(STAMP)
	$(CNNBOOK) data fetch mnist10k --quiet
	rm -rf build/nbtest
	$(CNNBOOK) book prepare --fast --output build/nbtest
	MPLBACKEND=Agg $(PY) -m pytest tests build/nbtest --nbval-lax --nbval-current-env \
		--nbval-cell-timeout=600 -p no:cacheprovider -n auto --dist loadscope

unit: $(STAMP)
	MPLBACKEND=Agg $(PY) -m pytest tests -p no:cacheprovider

env: $(STAMP)
	$(CNNBOOK) env

clean:
	rm -rf build
