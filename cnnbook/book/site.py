"""The book as a website: the committed notebooks rendered by Sphinx with MyST-NB.

``cnnbook book html [--output DIR]`` (and ``make site``) builds it into ``build/html``, in
each :class:`Edition` of the book: English at the site's root, Korean under ``ko/``. Each
edition has a home page with the chapter table, one page per notebook with its prose, code,
outputs and figures (rendered from the committed outputs, never re-executed), the
Korean-English glossary when ``notebooks/glossary.md`` exists, and the theme's sidebar,
previous/next links, search, copy buttons and launch buttons. A language switch in every
page's header leads to the same page in the other edition. Nothing is fetched from the
network, and the result opens from ``file://`` or any static host.

The site's layout (``build/html``)::

    index.html                   notebooks/05_dropout.html    notebooks/glossary.html
    ko/index.html                ko/05_dropout.html           ko/glossary.html

How it is built: each edition is *staged* into a Sphinx source folder
(``build/site/src/<lang>``): its home page, its notebooks (copied byte for byte, in the
edition's ``folder``) and the glossary beside them. Then Sphinx runs on each, the editions
side by side in separate processes, with the configuration in ``site/conf.py`` and
``language`` set to the edition's. Only changed files are rewritten, so a second build
redoes only what changed.

- A home page is the edition's template (``site/index.md``, ``site/ko/index.md``) with the
  introduction and the chapter table taken from its README (``README.md``, ``README.ko.md``:
  one source; a notebook missing from the table, or a table row naming no notebook, stops
  the build), and the table of contents generated from the notebooks.
- The glossary is one file, ``notebooks/glossary.md``, a bilingual table. The English
  edition shows it as it is; the Korean one puts its table, under a Korean header row, into
  ``site/ko/glossary.md`` (Korean title and introduction). Its links to the notebooks are
  relative, so in each edition they lead to that edition's chapters.
- Every English notebook must have its Korean twin (``notebooks/ko/NN_topic.ipynb``, kept in
  step by :mod:`cnnbook.book.edition`): a missing one stops the build, naming it.
- Launch buttons: the theme builds them from ``path_to_docs`` plus the page's name, so each
  edition passes where its staged root sits in the repository (``notebooks/ko`` for the
  Korean pages, whose notebooks are staged at its root).

The Sphinx extension that ``site/conf.py`` loads (the badge image, the language switch's
links, search in Korean) is :mod:`cnnbook.book.sphinx_ext`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import posixpath
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from cnnbook.book import launch
from cnnbook.book.edition import LANGUAGES
from cnnbook.book.runner import BookError, default_jobs, list_notebooks

__all__ = ["Edition", "EDITIONS", "GLOSSARY", "repo_root", "site_dir", "chapter_table", "home_page",
           "glossary_page", "check_twins", "stage", "build_site"]

#: The glossary, one bilingual table for every edition (from the repository's root).
GLOSSARY = "notebooks/glossary.md"
# What site/conf.py loads (the 'site' extra of pyproject.toml).
SITE_MODULES = ("sphinx", "myst_nb", "sphinx_book_theme", "sphinx_copybutton", "sphinx-mathjax-offline")
_TABLE_LINK = re.compile(r"\]\(([^)\s]+\.ipynb)\)")


@dataclass(frozen=True)
class Edition:
    """One language of the book: where its notebooks and README are, how its site is laid out.

    ``notebooks`` and ``readme`` are relative to the repository root, ``home`` and
    ``glossary`` to ``site/`` (the templates of the home page and of the glossary page;
    ``glossary`` None shows ``notebooks/glossary.md`` as it is). ``prefix`` is the edition's
    folder inside the built site ("" for the root), ``folder`` the notebooks' folder inside
    the edition's site: the last part of ``notebooks``, or "" for the edition's root.
    ``label`` (the language's own name) and ``switch`` (its tooltip) are what the language
    switch of the other editions shows; ``chapters`` is the README's heading above the
    chapter table, ``captions`` the sidebar's headings over the chapters and the glossary.
    """

    lang: str
    label: str = "English"
    notebooks: str = "notebooks"
    readme: str = "README.md"
    prefix: str = ""
    home: str = "index.md"
    chapters: str = "## The chapters"
    folder: str = "notebooks"
    glossary: str | None = None
    captions: tuple[str, str] = ("Chapters", "Reference")
    switch: str = "This page in English"

    def __post_init__(self):
        if self.folder and not ("/" + self.notebooks).endswith("/" + self.folder):
            raise ValueError(f"the {self.lang} edition's folder {self.folder!r} is not the end of "
                             f"its notebooks' path {self.notebooks!r}")

    @property
    def path_to_docs(self) -> str:
        """Where the edition's staged root is in the repository (for the launch buttons)."""
        return self.notebooks[:len(self.notebooks) - len(self.folder)].strip("/")

    def page(self, name: str) -> str:
        """Where a notebook or the glossary is in this edition's site: ``05_dropout`` (a page)
        or ``05_dropout.ipynb`` (a source) in the edition's ``folder``."""
        return f"{self.folder}/{name}" if self.folder else name


EDITIONS = (
    Edition("en"),
    Edition("ko", LANGUAGES["ko"], notebooks="notebooks/ko", readme="README.ko.md", prefix="ko",
            home="ko/index.md", chapters="## 목차", folder="", glossary="ko/glossary.md",
            captions=("장", "참고"), switch="이 페이지를 한국어로"),
)


def repo_root() -> Path:
    """The checkout ``cnnbook`` runs from, else the working folder."""
    repo = Path(__file__).resolve().parents[2]
    return repo if (repo / "site" / "conf.py").is_file() else Path.cwd()


def site_dir() -> Path:
    """The site's configuration, templates and static files (``site/`` in the checkout)."""
    return repo_root() / "site"


# --- the home page and the glossary ---------------------------------------------------------------


def _section(text: str, heading: str) -> str:
    """The body of a README section, from its heading to the next heading of its level."""
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == heading)
    except StopIteration:
        raise BookError(f"the README has no {heading!r} section") from None
    level = len(heading) - len(heading.lstrip("#"))
    body = []
    for line in lines[start + 1:]:
        match = re.match(r"(#+) ", line)
        if match and len(match.group(1)) <= level:
            break
        body.append(line)
    return "\n".join(body).strip()


def chapter_table(readme_text: str, heading: str = "## The chapters") -> tuple[str, list[str]]:
    """The README's chapter table (Markdown) and the notebooks it links, in its order."""
    table = [line for line in _section(readme_text, heading).splitlines()
             if line.lstrip().startswith("|")]
    if not table:
        raise BookError(f"the README's {heading!r} section has no table")
    links = [m.group(1) for line in table for m in _TABLE_LINK.finditer(line)]
    return "\n".join(table), links


def _intro(readme_text: str) -> str:
    """The README's opening paragraphs: after its title, before its first section (a line
    above the title, such as a link to the README in another language, is left out)."""
    lines = readme_text.splitlines()
    start = next((i + 1 for i, line in enumerate(lines) if line.startswith("# ")), 0)
    end = next((i for i, line in enumerate(lines[start:], start) if line.startswith("## ")), len(lines))
    return "\n".join(lines[start:end]).strip()


def _toctree(caption: str, docs: list[str]) -> str:
    return "\n".join(["```{toctree}", ":hidden:", f":caption: {caption}", "", *docs, "```"])


def _fill(template: str, fields: dict[str, str]) -> str:
    for name, value in fields.items():
        template = template.replace("{{ " + name + " }}", value)
    return template


def home_page(edition: Edition, root: Path, site: Path) -> str:
    """The edition's home page (MyST Markdown) from its template and its README."""
    root = Path(root)
    readme = (root / edition.readme).read_text(encoding="utf-8")
    table, links = chapter_table(readme, edition.chapters)
    names = [p.name for p in list_notebooks(folder=root / edition.notebooks)]
    notebooks = [f"{edition.notebooks}/{name}" for name in names]
    # The table's links are relative to the README; compare them as paths in the repository.
    readme_dir = Path(edition.readme).parent
    listed = [Path(os.path.normpath(readme_dir / link)).as_posix() for link in links]
    missing = [nb for nb in notebooks if nb not in listed]
    unknown = [link for link in listed if link not in notebooks]
    if missing or unknown:
        raise BookError(
            f"{edition.readme}'s chapter table and {edition.notebooks}/ disagree: "
            + "; ".join(filter(None, [missing and f"not in the table: {', '.join(missing)}",
                                      unknown and f"no such notebook: {', '.join(unknown)}"]))
        )
    toc = _toctree(edition.captions[0], [edition.page(name.removesuffix(".ipynb")) for name in names])
    if (root / GLOSSARY).is_file():
        toc += "\n\n" + _toctree(edition.captions[1], [edition.page("glossary")])

    # The home page sits at the edition's root: its links are the notebooks' staged paths.
    def staged(match):
        name = Path(os.path.normpath(readme_dir / match.group(1))).name
        return f"]({edition.page(name)})"

    fields = {"intro": _intro(readme), "chapters": _TABLE_LINK.sub(staged, table),
              "toctree": toc, "repository": launch.REPOSITORY}
    return _fill((Path(site) / edition.home).read_text(encoding="utf-8"), fields)


def _columns(row: str) -> int:
    return len(row.strip().strip("|").split("|"))


def glossary_page(edition: Edition, root: Path, site: Path) -> str:
    """The edition's glossary page: ``notebooks/glossary.md`` as it is, or its table (the
    rows under the template's own header row) in the edition's template."""
    source = (Path(root) / GLOSSARY).read_text(encoding="utf-8")
    if edition.glossary is None:
        return source
    lines = source.splitlines()
    starts = [i for i, line in enumerate(lines)
              if line.startswith("|") and (i == 0 or not lines[i - 1].startswith("|"))]
    if len(starts) != 1:
        raise BookError(f"{GLOSSARY} should hold one table, not {len(starts)}")
    table = lines[starts[0]:]
    table = table[:next((i for i, line in enumerate(table) if not line.startswith("|")), len(table))]
    template = (Path(site) / edition.glossary).read_text(encoding="utf-8")
    tlines = template.splitlines()
    at = next((i for i, line in enumerate(tlines) if line.strip() == "{{ rows }}"), None)
    if at is None or at < 2 or not tlines[at - 2].startswith("|"):
        raise BookError(f"site/{edition.glossary} needs a table header row, then {{{{ rows }}}}")
    if _columns(tlines[at - 2]) != _columns(table[0]):
        raise BookError(f"site/{edition.glossary}'s table has {_columns(tlines[at - 2])} columns, "
                        f"{GLOSSARY}'s has {_columns(table[0])}: make its header row match")
    return _fill(template, {"rows": "\n".join(table[2:])})


# --- staging and building --------------------------------------------------------------------


def check_twins(editions, root) -> None:
    """Every edition has a notebook for each of the first edition's, of the same name."""
    root = Path(root)
    first, *others = editions
    names = [p.name for p in list_notebooks(folder=root / first.notebooks)]
    problems = []
    for edition in others:
        theirs = [p.name for p in list_notebooks(folder=root / edition.notebooks)]
        problems += [f"{edition.notebooks}/{name} is missing (the {edition.lang} twin of "
                     f"{first.notebooks}/{name}; `cnnbook book edition sync --lang {edition.lang}` "
                     "creates it)" for name in names if name not in theirs]
        problems += [f"{edition.notebooks}/{name} has no English notebook ({first.notebooks}/{name})"
                     for name in theirs if name not in names]
    if problems:
        raise BookError("the editions of the book do not match: " + "; ".join(problems))


def _sync(dest: Path, files: dict[str, bytes]) -> None:
    """Make ``dest`` hold exactly ``files``, rewriting only what changed (Sphinx then
    rebuilds only those pages)."""
    dest.mkdir(parents=True, exist_ok=True)
    for rel, data in files.items():
        path = dest / rel
        if path.is_file() and path.read_bytes() == data:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    for path in sorted(dest.rglob("*"), reverse=True):
        rel = path.relative_to(dest).as_posix()
        if path.is_file() and rel not in files:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def stage(edition: Edition, dest, *, root=None, site=None) -> list[str]:
    """Write the edition's Sphinx sources into ``dest``; return the page names.

    The notebooks are copied byte for byte (the download button gives the committed
    notebook) into the edition's ``folder``, the glossary page beside them.
    """
    root = Path(root) if root is not None else repo_root()
    site = Path(site) if site is not None else site_dir()
    folder = root / edition.notebooks
    notebooks = list_notebooks(folder=folder)
    if not notebooks:
        raise BookError(f"no notebooks in {folder}")
    files = {"index.md": home_page(edition, root, site).encode("utf-8")}
    for path in notebooks:
        files[edition.page(path.name)] = path.read_bytes()
    if (root / GLOSSARY).is_file():
        files[edition.page("glossary.md")] = glossary_page(edition, root, site).encode("utf-8")
    _sync(Path(dest), files)
    return [rel.rsplit(".", 1)[0] for rel in files]


def _switch(edition: Edition, editions) -> str:
    """The other editions, as the language switch of ``edition``'s pages needs them (JSON)."""
    def root(other):  # from this edition's root to the other's: "ko/", "../"
        path = posixpath.relpath(other.prefix or ".", edition.prefix or ".")
        return "" if path == "." else path + "/"

    return json.dumps([{"lang": other.lang, "label": other.label, "title": other.switch,
                        "folder": other.folder, "root": root(other)}
                       for other in editions if other != edition], ensure_ascii=False)


def build_site(output="build/html", *, root=None, site=None, workdir=None, editions=EDITIONS,
               jobs: int | None = None, log=print) -> Path:
    """Build the website into ``output``; return the (first edition's) home page's path.

    The editions are staged first (a missing twin or a README out of step stops the build
    before Sphinx runs), then built side by side, one Sphinx process each. Sphinx's
    warnings are passed on through ``log``; an error raises :class:`BookError`.
    """
    root = Path(root) if root is not None else repo_root()
    site = Path(site) if site is not None else site_dir()
    if not (site / "conf.py").is_file():
        raise BookError(f"no site configuration in {site} (run from a checkout of cnnbook)")
    missing = [m for m in SITE_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise BookError(f"the website needs {', '.join(missing)}: pip install -e \".[site]\"")
    workdir = Path(workdir) if workdir is not None else root / "build" / "site"
    output = Path(output)
    check_twins(editions, root)
    # The book runner's share of the machine, split among the editions' Sphinx processes.
    jobs = jobs or max(1, default_jobs() // len(editions))
    commands = {}
    for edition in editions:
        src = workdir / "src" / edition.lang
        stage(edition, src, root=root, site=site)
        cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-j", str(jobs),
               "-c", str(site), "-d", str(workdir / "doctrees" / edition.lang),
               "-D", f"language={edition.lang}", "-D", f"cnnbook_folder={edition.folder}",
               "-D", f"cnnbook_editions={_switch(edition, editions)}",
               "-D", f"cnnbook_outputs={workdir / 'outputs' / edition.lang}"]
        if edition.path_to_docs:
            cmd += ["-D", f"html_theme_options.path_to_docs={edition.path_to_docs}"]
        commands[edition] = cmd + [str(src), str(output / edition.prefix)]
    running = {edition: subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         text=True, encoding="utf-8")
               for edition, cmd in commands.items()}
    failed = []
    for edition, proc in running.items():
        _, stderr = proc.communicate()
        for line in stderr.splitlines():
            log(line)
        if proc.returncode != 0:
            failed.append(f"the {edition.lang} edition (Sphinx exit status {proc.returncode})")
    if failed:
        raise BookError(f"the website did not build: {'; '.join(failed)}; see Sphinx's messages above")
    return output / editions[0].prefix / "index.html"
