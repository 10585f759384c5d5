"""The website's own Sphinx extension (``site/conf.py`` loads it): what the themes and
MyST-NB do not do for this book.

- the notebooks' "Open in Colab" badge shows the site's copy of the badge image, not the one
  on Colab's server, so the pages load nothing from elsewhere;
- the language switch's links: every page knows the same page in the other editions;
- search in Korean (:class:`KoreanSearch`): particles and endings attach to the end of a
  Korean word, so each word is indexed without its last syllables too;
- MyST-NB writes the notebooks' images into the build's work folder, not beside the site.

``cnnbook.book.site`` builds the site and sets the configuration values used here.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from cnnbook.book import launch
from cnnbook.book.edition import HANGUL

__all__ = ["KoreanSearch", "setup"]

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


def _language_links(app, pagename, templatename, context, doctree) -> None:
    """The same page in the other editions, for the language switch: a chapter or the
    glossary leads to the page of the same name, any other page (the home page, search,
    the index) to the page of the same name at the other edition's root."""
    others = json.loads(app.config.cnnbook_editions or "[]")
    folder = app.config.cnnbook_folder
    in_folder = pagename in app.env.found_docs and pagename != app.config.root_doc
    name = pagename.removeprefix(folder + "/") if in_folder and folder else pagename
    up = "../" * pagename.count("/")
    links = []
    for other in others:
        page = f"{other['folder']}/{name}" if in_folder and other["folder"] else name
        links.append({"lang": other["lang"], "label": other["label"], "title": other["title"],
                      "href": up + other["root"] + page + app.builder.link_suffix})
    context["cnnbook_languages"] = links


@functools.cache
def _korean_search_class():
    from sphinx.search.en import SearchEnglish

    class KoreanSearch(SearchEnglish):
        """Sphinx's English search, plus each Korean word without its last syllables.

        A Korean word carries its particles and endings at its end ("기울기가", "기울기를",
        "ReLU는"): each word that ends in Hangul is indexed also with one, two and three of
        its last syllables removed, so that "기울기" and "ReLU" find it. The query is split
        and stemmed as in English (Latin words keep English's stemming on both sides).
        """

        lang = "ko"
        language_name = "English"  # names the JavaScript stemmer: English's (EnglishStemmer)

        def split(self, input: str) -> list[str]:
            words = []
            for word in super().split(input):
                words.append(word)
                end = len(word)
                for _ in range(3):
                    if end < 2 or not HANGUL.match(word[end - 1]):
                        break
                    end -= 1
                    words.append(word[:end])
            return words

    return KoreanSearch


def __getattr__(name):
    # KoreanSearch needs Sphinx, which the package imports only when building the site.
    if name == "KoreanSearch":
        return _korean_search_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _outputs_folder(app) -> None:
    """Where MyST-NB writes the notebooks' outputs (images) before Sphinx copies them into
    the site: in the build's work folder (``build/site/outputs/<lang>``), not in
    ``jupyter_execute`` beside the output folder, which for an edition built into
    ``build/html/ko`` would be a stray folder of the site."""
    if app.config.cnnbook_outputs:
        folder = Path(app.config.cnnbook_outputs).resolve()
        app.env.mystnb_config = app.env.mystnb_config.copy(output_folder=str(folder))


def setup(app):
    # Set by build_site for each edition: see _language_links and _outputs_folder.
    app.add_config_value("cnnbook_folder", "notebooks", "html", str)
    app.add_config_value("cnnbook_editions", "[]", "html", str)
    app.add_config_value("cnnbook_outputs", "", "env", str)
    app.add_search_language(_korean_search_class())
    app.connect("builder-inited", _outputs_folder, priority=600)  # after MyST-NB's own
    app.connect("doctree-resolved", _local_badges)
    app.connect("html-page-context", _language_links)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
