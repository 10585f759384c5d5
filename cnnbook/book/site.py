"""The book as a website: the committed notebooks rendered by Sphinx with MyST-NB.

``cnnbook book html [--output DIR]`` (and ``make site``) builds it into ``build/html``:
a home page with the chapter table, one page per notebook with its prose, code, outputs
and figures (rendered from the committed outputs, never re-executed), the Korean-English
glossary when ``notebooks/glossary.md`` exists, and the theme's sidebar, previous/next
links, search, copy buttons and launch buttons. Nothing is fetched from the network, and
the result opens from ``file://`` or any static host.

How it is built: each :class:`Edition` of the book is *staged* into a Sphinx source folder
(``build/site/src/<lang>``) whose paths mirror the repository's (``notebooks/NN_topic.ipynb``,
so the theme's Colab and download buttons point at the right files), then Sphinx runs on
it with the configuration in ``site/conf.py``. Only changed files are rewritten, so a
second build redoes only what changed.

- The home page is ``site/index.md`` with the introduction and the chapter table taken from
  the README (one source: a notebook missing from the table, or a table row naming no
  notebook, stops the build), and the table of contents generated from the notebooks.
- The glossary page exists when ``<notebooks>/glossary.md`` does; nothing else to set.
- Editions: the English one builds into the site's root. A second one (the Korean edition,
  ``notebooks/ko``) is one more :class:`Edition` with its own folder, README, home-page
  template and ``prefix`` (``ko``), built with ``language = "ko"`` into ``build/html/ko``:
  ``notebooks/NN_topic.html`` there is ``ko/notebooks/ko/NN_topic.html``, which is what a
  language switch links.

This module is also a small Sphinx extension (``site/conf.py`` loads it): on the website
the notebooks' "Open in Colab" badge shows a copy of the badge image kept in the site, not
the one on Colab's server, so the pages load nothing from elsewhere.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from cnnbook.book import launch
from cnnbook.book.runner import BookError, list_notebooks

__all__ = ["Edition", "EDITIONS", "repo_root", "site_dir", "chapter_table", "home_page",
           "stage", "build_site", "setup"]

GLOSSARY = "glossary.md"
# What site/conf.py loads (the 'site' extra of pyproject.toml).
SITE_MODULES = ("sphinx", "myst_nb", "sphinx_book_theme", "sphinx_copybutton", "sphinx-mathjax-offline")
_TABLE_LINK = re.compile(r"\]\(([^)\s]+\.ipynb)\)")


@dataclass(frozen=True)
class Edition:
    """One language of the book: where its notebooks and README are, where it is built.

    ``notebooks`` and ``readme`` are relative to the repository root, ``home`` to ``site/``
    (the home page's template); ``prefix`` is the edition's folder inside the built site
    ("" for the root); ``chapters`` is the README's heading above the chapter table.
    """

    lang: str
    notebooks: str = "notebooks"
    readme: str = "README.md"
    prefix: str = ""
    home: str = "index.md"
    chapters: str = "## The chapters"


EDITIONS = (Edition("en"),)


def repo_root() -> Path:
    """The checkout ``cnnbook`` runs from, else the working folder."""
    repo = Path(__file__).resolve().parents[2]
    return repo if (repo / "site" / "conf.py").is_file() else Path.cwd()


def site_dir() -> Path:
    """The site's configuration, templates and static files (``site/`` in the checkout)."""
    return repo_root() / "site"


# --- the home page ------------------------------------------------------------------------


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
    """The README's opening paragraphs: after its title, before its first section."""
    lines = readme_text.splitlines()
    start = next((i + 1 for i, line in enumerate(lines) if line.startswith("# ")), 0)
    end = next((i for i, line in enumerate(lines[start:], start) if line.startswith("## ")), len(lines))
    return "\n".join(lines[start:end]).strip()


def _toctree(caption: str, docs: list[str]) -> str:
    return "\n".join(["```{toctree}", ":hidden:", f":caption: {caption}", "", *docs, "```"])


def home_page(edition: Edition, root: Path, site: Path) -> str:
    """The edition's home page (MyST Markdown) from its template and its README."""
    root = Path(root)
    readme = (root / edition.readme).read_text(encoding="utf-8")
    table, links = chapter_table(readme, edition.chapters)
    folder = root / edition.notebooks
    notebooks = [f"{edition.notebooks}/{p.name}" for p in list_notebooks(folder=folder)]
    # The table's links are relative to the README; the staged home page sits at the root.
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
    toc = _toctree("Chapters", [nb.removesuffix(".ipynb") for nb in notebooks])
    if (folder / GLOSSARY).is_file():
        toc += "\n\n" + _toctree("Reference", [f"{edition.notebooks}/{GLOSSARY[:-3]}"])
    # The home page sits at the site's root: its links are the notebooks' staged paths.
    table = _TABLE_LINK.sub(lambda m: f"]({Path(os.path.normpath(readme_dir / m.group(1))).as_posix()})", table)
    fields = {"intro": _intro(readme), "chapters": table, "toctree": toc,
              "repository": launch.REPOSITORY}
    text = (Path(site) / edition.home).read_text(encoding="utf-8")
    for name, value in fields.items():
        text = text.replace("{{ " + name + " }}", value)
    return text


# --- staging and building --------------------------------------------------------------------


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

    The notebooks and the glossary are copied byte for byte (the download button gives
    the committed notebook), under the same paths as in the repository.
    """
    root = Path(root) if root is not None else repo_root()
    site = Path(site) if site is not None else site_dir()
    folder = root / edition.notebooks
    notebooks = list_notebooks(folder=folder)
    if not notebooks:
        raise BookError(f"no notebooks in {folder}")
    files = {"index.md": home_page(edition, root, site).encode("utf-8")}
    for path in notebooks:
        files[f"{edition.notebooks}/{path.name}"] = path.read_bytes()
    if (folder / GLOSSARY).is_file():
        files[f"{edition.notebooks}/{GLOSSARY}"] = (folder / GLOSSARY).read_bytes()
    _sync(Path(dest), files)
    return [rel.rsplit(".", 1)[0] for rel in files]


def build_site(output="build/html", *, root=None, site=None, workdir=None, editions=EDITIONS,
               jobs: int | None = None, log=print) -> Path:
    """Build the website into ``output``; return the home page's path.

    Sphinx's warnings are passed on through ``log``; an error raises :class:`BookError`.
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
    jobs = jobs or max(1, min(4, os.cpu_count() or 1))
    for edition in editions:
        src = workdir / "src" / edition.lang
        stage(edition, src, root=root, site=site)
        cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-j", str(jobs),
               "-c", str(site), "-d", str(workdir / "doctrees" / edition.lang),
               "-D", f"language={edition.lang}", str(src), str(output / edition.prefix)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        for line in proc.stderr.splitlines():
            log(line)
        if proc.returncode != 0:
            raise BookError(f"the website's {edition.lang} edition did not build (Sphinx exit "
                            f"status {proc.returncode}); see the messages above")
    return output / "index.html"


# --- the Sphinx extension ------------------------------------------------------------------------

BADGE_FILE = "colab-badge.svg"


def _local_badges(app, doctree, docname) -> None:
    """Show the notebooks' Colab badge with the site's own copy of the image."""
    from docutils import nodes

    depth = docname.count("/")
    src = "../" * depth + "_static/" + BADGE_FILE
    for image in list(doctree.findall(nodes.image)):
        if image.get("uri") == launch.BADGE_IMAGE:
            alt = image.get("alt", launch.BADGE_ALT)
            image.replace_self(nodes.raw("", f'<img src="{src}" alt="{alt}" class="colab-badge">',
                                         format="html"))


def setup(app):
    app.connect("doctree-resolved", _local_badges)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
