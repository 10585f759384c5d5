"""The website (cnnbook.book.site): its sources, and the built site in headless Chromium.

The browser tests build the site once (into build/html, as `cnnbook book html` does), serve
it on 127.0.0.1 and walk it as a reader would: the home page, then every chapter through the
home page's links. They need Debian's `chromium`, `chromium-driver` and `fonts-noto-cjk`
(.ci/run installs them); elsewhere they skip, saying so. In CI they never skip.
"""

import contextlib
import functools
import io
import json
import os
import re
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from cnnbook import cli
from cnnbook.book import BookError, launch, list_notebooks, site

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "build" / "html"
SCREENSHOTS = ROOT / "build" / "screenshots"
NOTEBOOKS = list_notebooks()
SCREENSHOT_CHAPTER = "02_vanishing_gradient"  # figures, math and Hangul near the top
APT = "apt-get install chromium chromium-driver fonts-noto-cjk"


# --- the sources ----------------------------------------------------------------------------------


def _title(path):
    """A notebook's title as Sphinx shows it: its first heading, without Markdown marks."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return re.sub(r"[`*]", "", line[2:]).strip()
    raise AssertionError(f"{path.name} has no title")


def _tiny_book(root, names=("01_alpha", "02_beta"), table=None):
    """A checkout in miniature: notebooks with a figure-free cell each, and a README."""
    (root / "notebooks").mkdir(parents=True)
    for name in names:
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
        nb.cells = [nbformat.v4.new_markdown_cell(f"# {name.split('_')[1].title()} (알파)\n\nText $x^2$."),
                    nbformat.v4.new_code_cell("print(1)")]
        nbformat.write(nb, root / "notebooks" / f"{name}.ipynb")
    rows = table if table is not None else [f"| {i} | [{n}](notebooks/{n}.ipynb) | shows {n} |"
                                            for i, n in enumerate(names, 1)]
    (root / "README.md").write_text(
        "# tiny\n\nThe intro.\n\n## The chapters\n\n| # | notebook | what it shows |\n|---|---|---|\n"
        + "\n".join(rows) + "\n\n## The package\n\nMore.\n", encoding="utf-8")
    return root


def test_readme_table_lists_every_notebook_in_order():
    _, links = site.chapter_table((ROOT / "README.md").read_text(encoding="utf-8"))
    assert links == [f"notebooks/{p.name}" for p in NOTEBOOKS]


def test_home_page_takes_intro_and_table_from_the_readme(tmp_path):
    root = _tiny_book(tmp_path)
    page = site.home_page(site.Edition("en"), root, site.site_dir())
    assert "The intro." in page and "More." not in page
    assert "| 2 | [02_beta](notebooks/02_beta.ipynb) | shows 02_beta |" in page
    assert "notebooks/01_alpha\nnotebooks/02_beta\n```" in page  # the chapters' toctree
    assert "glossary" not in page and "{{" not in page


def test_table_and_notebooks_must_agree(tmp_path):
    root = _tiny_book(tmp_path, table=["| 1 | [a](notebooks/01_alpha.ipynb) | a |",
                                       "| 3 | [c](notebooks/03_gamma.ipynb) | c |"])
    with pytest.raises(BookError, match=r"not in the table: notebooks/02_beta.ipynb; "
                                        r"no such notebook: notebooks/03_gamma.ipynb"):
        site.stage(site.Edition("en"), tmp_path / "src", root=root)


def test_site_of_a_small_book_badge_and_glossary(tmp_path):
    root = _tiny_book(tmp_path / "repo")
    launch.add_launch(root / "notebooks" / "01_alpha.ipynb", "notebooks/01_alpha.ipynb")
    out, work = tmp_path / "html", tmp_path / "work"
    warnings = []
    build = functools.partial(site.build_site, out, root=root, workdir=work, jobs=1, log=warnings.append)
    build()
    assert warnings == []
    page = (out / "notebooks" / "01_alpha.html").read_text(encoding="utf-8")
    # The badge links to Colab, its image is the site's own copy.
    assert f'href="{launch.colab_url("notebooks/01_alpha.ipynb")}"' in page
    assert '<img src="../_static/colab-badge.svg" alt="Open In Colab"' in page
    assert launch.BADGE_IMAGE not in page and (out / "_static" / "colab-badge.svg").is_file()
    # No glossary file, no glossary page; it appears with the file.
    assert not (out / "notebooks" / "glossary.html").exists()
    assert "glossary" not in (out / "index.html").read_text(encoding="utf-8")
    (root / "notebooks" / "glossary.md").write_text(
        "# Glossary (용어집)\n\n| English | 한국어 |\n|---|---|\n| gradient | 기울기 |\n", encoding="utf-8")
    build()
    assert warnings == []
    page = (out / "notebooks" / "glossary.html").read_text(encoding="utf-8")
    assert "<title>Glossary (용어집) &#8212; cnnbook</title>" in page and "기울기" in page
    assert 'href="notebooks/glossary.html"' in (out / "index.html").read_text(encoding="utf-8")
    (root / "notebooks" / "glossary.md").unlink()
    assert "notebooks/glossary" not in site.stage(site.Edition("en"), work / "src" / "en", root=root)
    assert not (work / "src" / "en" / "notebooks" / "glossary.md").exists()


def test_staging_copies_notebooks_byte_for_byte_and_only_when_changed(tmp_path):
    root = _tiny_book(tmp_path / "repo")
    src = tmp_path / "src"
    pages = site.stage(site.Edition("en"), src, root=root)
    assert pages == ["index", "notebooks/01_alpha", "notebooks/02_beta"]
    staged = src / "notebooks" / "01_alpha.ipynb"
    assert staged.read_bytes() == (root / "notebooks" / "01_alpha.ipynb").read_bytes()
    os.utime(staged, (1, 1))
    site.stage(site.Edition("en"), src, root=root)
    assert staged.stat().st_mtime == 1  # unchanged: not rewritten, so Sphinx skips it
    (root / "notebooks" / "02_beta.ipynb").unlink()
    (root / "README.md").write_text((root / "README.md").read_text().replace(
        "| 2 | [02_beta](notebooks/02_beta.ipynb) | shows 02_beta |\n", ""))
    site.stage(site.Edition("en"), src, root=root)
    assert not (src / "notebooks" / "02_beta.ipynb").exists()


def test_a_second_edition_stages_beside_the_first(tmp_path):
    # The Korean edition's shape: its own notebooks folder and README, built under ko/.
    root = _tiny_book(tmp_path / "repo")
    (root / "notebooks" / "ko").mkdir()
    for name in ("01_alpha", "02_beta"):
        shutil.copy(root / "notebooks" / f"{name}.ipynb", root / "notebooks" / "ko")
    (root / "notebooks" / "ko" / "README.md").write_text(
        "# 작은 책\n\n소개.\n\n## 장\n\n| # | 노트북 |\n|---|---|\n"
        "| 1 | [01](01_alpha.ipynb) |\n| 2 | [02](02_beta.ipynb) |\n", encoding="utf-8")
    ko = site.Edition("ko", "notebooks/ko", "notebooks/ko/README.md", prefix="ko", chapters="## 장")
    pages = site.stage(ko, tmp_path / "src", root=root)
    assert pages == ["index", "notebooks/ko/01_alpha", "notebooks/ko/02_beta"]
    home = (tmp_path / "src" / "index.md").read_text(encoding="utf-8")
    assert "소개." in home and "| 2 | [02](notebooks/ko/02_beta.ipynb) |" in home
    assert site.stage(site.Edition("en"), tmp_path / "src_en", root=root)[1:] == ["notebooks/01_alpha",
                                                                                  "notebooks/02_beta"]


# --- the built site in a browser --------------------------------------------------------------------


def _need(condition, reason):
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run the browser tests (.ci/run installs them)")
        pytest.skip(f"{reason} (as root: {APT})")


@pytest.fixture(scope="session")
def built_site():
    """The site, built as a reader builds it: `cnnbook book html --output build/html`."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(["book", "html", "--output", str(SITE)])
    print(out.getvalue(), err.getvalue())
    assert status == 0, err.getvalue()
    assert out.getvalue().startswith("website built in ")
    return SimpleNamespace(path=SITE, warnings=err.getvalue().splitlines())


def test_the_site_builds_without_warnings(built_site):
    # (Sphinx reports a page's warnings when it reads it: a fresh build reads them all.)
    assert built_site.warnings == []
    assert (built_site.path / "index.html").is_file() and (built_site.path / ".nojekyll").is_file()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def server(built_site):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(built_site.path)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    _need(chromium and driver_path, "Chromium and its driver are not installed")
    fonts = subprocess.run(["fc-list", ":lang=ko", "family"], capture_output=True, text=True).stdout
    _need(fonts.strip(), "no Korean font is installed: Chromium would draw Hangul as boxes")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,1400", "--force-device-scale-factor=1", "--lang=en-US",
                "--allow-file-access-from-files"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    # The system's driver, named explicitly: Selenium must not look for one to download.
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


def _wait(driver, script, timeout=30, what="the page"):
    deadline = time.monotonic() + timeout
    while True:
        value = driver.execute_script(script)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {script}")
        time.sleep(0.1)


def _open(driver, url):
    """Load a page and wait until it and its images are loaded and MathJax is done."""
    driver.get(url)
    _wait(driver, "return document.readyState === 'complete'")
    _wait(driver, "return Array.from(document.images).every(i => i.complete)", what="the images")
    assert driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const startup = window.MathJax && window.MathJax.startup;
        if (!startup || !startup.promise) { done(true); return; }
        startup.promise.then(() => done(true), (err) => done(String(err)));
    """) is True, "MathJax failed"


def _problems(driver, base):
    """Console errors and requests that left the site since the last call."""
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    outside = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if not url.startswith((base, "data:", "blob:", "about:")):
                outside.append(url)
    return errors, outside


_pages: dict[str, str] = {}


def _fetch(url):
    if url not in _pages:
        with urllib.request.urlopen(url, timeout=10) as response:
            _pages[url] = response.read().decode("utf-8", "replace")
    return _pages[url]


def _broken_links(driver, base):
    """Internal links (with their #anchors) that lead nowhere."""
    hrefs = driver.execute_script("return Array.from(document.querySelectorAll('a[href]'), a => a.href)")
    broken = []
    for href in sorted(set(hrefs)):
        if not href.startswith(base):
            continue
        url, _, anchor = href.partition("#")
        try:
            text = _fetch(url) if url.endswith((".html", "/")) else urllib.request.urlopen(url, timeout=10).read()
        except urllib.error.HTTPError as exc:
            broken.append(f"{href} ({exc.code})")
            continue
        anchor = urllib.parse.unquote(anchor)
        if anchor and url.endswith((".html", "/")) and not re.search(f'id="{re.escape(anchor)}"', text):
            broken.append(f"{href} (no #{anchor})")
    return broken


def _hangul_drawn(driver):
    """Two different syllables in the body's font draw differently: not both as empty boxes."""
    return driver.execute_script("""
        const font = getComputedStyle(document.body).fontFamily;
        const draw = (text) => {
            const canvas = document.createElement('canvas');
            canvas.width = 64; canvas.height = 48;
            const ctx = canvas.getContext('2d');
            ctx.font = '40px ' + font;
            ctx.fillText(text, 4, 40);
            return canvas.toDataURL();
        };
        return draw('기') !== draw('울') && draw('기') !== draw('');
    """)


def _check_page(driver, base, title):
    assert driver.title == f"{title} — cnnbook"
    not_loaded = driver.execute_script(
        "return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
    assert not_loaded == [], "images that did not load"
    errors, outside = _problems(driver, base)
    assert errors == [], "console errors"
    assert outside == [], "requests outside the site: everything must be served from it"
    assert _broken_links(driver, base) == []


@pytest.fixture(scope="session")
def home(browser, server):
    _open(browser, server)
    links = browser.execute_script(
        "return Array.from(document.querySelectorAll('article a[href$=\".html\"]'), a => a.href)")
    return {Path(urllib.parse.urlparse(href).path).stem: href for href in links}


def test_home_page(browser, server, home):
    _open(browser, server)
    _check_page(browser, server, "A notebook course on deep learning and CNNs")
    assert [name for name in home if name in {p.stem for p in NOTEBOOKS}] == [p.stem for p in NOTEBOOKS]
    sidebar = browser.execute_script(
        "return Array.from(document.querySelectorAll('.bd-sidebar-primary a[href]'), a => a.textContent.trim())")
    assert [t for t in sidebar if t in {_title(p) for p in NOTEBOOKS}] == [_title(p) for p in NOTEBOOKS]
    assert _hangul_drawn(browser)
    assert "Noto Sans CJK KR" in browser.execute_script("return getComputedStyle(document.body).fontFamily")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(SCREENSHOTS / "home.png"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapter_page(browser, server, home, path):
    assert path.stem in home, "the home page links every chapter"
    _open(browser, home[path.stem])
    _check_page(browser, server, _title(path))

    nb = nbformat.read(path, as_version=4)
    figures = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
                  for o in c.get("outputs", []))
    shown = browser.execute_script("return document.querySelectorAll('.cell_output img').length")
    assert shown == figures, "every figure of the notebook is on the page"
    if any(re.search(r"\$[^$\s][^$]*\$", c.source) for c in nb.cells if c.cell_type == "markdown"):
        assert browser.execute_script("return document.querySelectorAll('mjx-container').length") > 0
        assert browser.execute_script("return document.querySelectorAll('mjx-merror, .MathJax_Error').length") == 0
    assert browser.execute_script("return document.querySelectorAll('button.copybtn').length") > 0

    i = NOTEBOOKS.index(path)
    prev_next = browser.execute_script(
        "return ['left-prev', 'right-next'].map(c => (document.querySelector('a.' + c) || {}).href || null)")
    assert prev_next[0] == (home[NOTEBOOKS[i - 1].stem] if i else server + "index.html")
    if i + 1 < len(NOTEBOOKS):
        assert prev_next[1] == home[NOTEBOOKS[i + 1].stem]
    colab = launch.colab_url(f"notebooks/{path.name}")
    assert browser.execute_script(f"return document.querySelectorAll('a[href=\"{colab}\"]').length") >= 1

    if path.stem == SCREENSHOT_CHAPTER:
        assert _hangul_drawn(browser)
        browser.execute_script("document.querySelector('.cell_output img').scrollIntoView({block: 'end'})")
        time.sleep(0.3)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        assert browser.save_screenshot(str(SCREENSHOTS / f"{path.stem}.png"))


def test_search_finds_a_chapter(browser, server):
    _open(browser, server + "search.html?q=dropout")
    hits = _wait(browser, "const a = Array.from(document.querySelectorAll('#search-results li a'), a => a.href);"
                          "return a.length ? a : null", what="search results")
    assert any(h.split("#")[0].endswith("notebooks/05_dropout.html") for h in hits)
    assert _problems(browser, server)[0] == []


def test_opens_from_a_file_url(browser, built_site):
    for page in ("index.html", f"notebooks/{SCREENSHOT_CHAPTER}.html"):
        _open(browser, (built_site.path / page).resolve().as_uri())
        assert browser.execute_script(
            "return Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
        errors, outside = _problems(browser, "file://")
        assert errors == [] and outside == []
    assert browser.execute_script("return document.querySelectorAll('mjx-container').length") > 0
