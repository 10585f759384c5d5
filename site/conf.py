"""Sphinx configuration of the book's website.

Built by ``cnnbook book html`` (``cnnbook/book/site.py``), which stages the committed
notebooks, the glossary and the home page into a source folder and runs Sphinx with this
folder as its configuration: the notebooks are rendered with their committed outputs,
never re-executed. Nothing here fetches anything from the network.
"""

from importlib.util import find_spec
from pathlib import Path

from cnnbook.book import launch

project = "cnnbook"
author = "the cnnbook authors"
copyright = "the cnnbook authors, MIT licence"
language = "en"  # cnnbook.book.site sets each edition's language (and its search's)

extensions = [
    "myst_nb",                 # notebooks (and Markdown pages) as Sphinx sources
    "sphinx_copybutton",       # a copy button on every code cell
    "sphinx.ext.githubpages",  # .nojekyll, so GitHub Pages serves _static/
    "cnnbook.book.sphinx_ext", # the badge image, the language switch, search in Korean
]

# The committed outputs are the book's outputs: render them, never execute.
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3

exclude_patterns = ["**.ipynb_checkpoints"]
suppress_warnings = ["mystnb.unknown_mime_type"]  # checked claims (cnnbook.book.claims)

html_theme = "sphinx_book_theme"
templates_path = ["_templates"]
html_title = "cnnbook"
# MathJax is served from the site (_static/mathjax), never from a CDN: the files come with
# the sphinx-mathjax-offline package.
html_static_path = ["_static", str(Path(find_spec("sphinx-mathjax-offline").origin).parent / "static")]
mathjax_path = "mathjax/tex-chtml.js"
html_css_files = ["cnnbook.css"]
html_favicon = "_static/favicon.svg"
html_last_updated_fmt = None
# Light by default: the notebooks' figures are drawn on white. (Unset, the theme's script
# logs an error about an empty mode on every page.)
html_context = {"default_mode": "light"}
html_theme_options = {
    "repository_url": launch.REPOSITORY,
    "repository_branch": launch.BRANCH,
    # Where the staged sources' root is in the repository: the English edition's mirrors the
    # repository's paths; cnnbook.book.site sets the Korean one's (notebooks/ko).
    "path_to_docs": "",
    "use_repository_button": True,
    "use_download_button": True,
    "launch_buttons": {"colab_url": launch.COLAB},
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "show_toc_level": 2,
    "navbar_persistent": [],  # the sidebar has the search field; no second one in a header
    # The language switch (site/_templates/language-switch.html) first in every page's header.
    "article_header_end": ["language-switch.html", "article-header-buttons.html"],
}
