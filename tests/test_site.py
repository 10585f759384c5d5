"""The website (cnnbook.book.site): its sources, and the built site in headless Chromium.

The browser tests build the site once (into build/html, as `cnnbook book html` does), serve
it on 127.0.0.1 and walk both editions as a reader would: the English home page, then its
language switch to the Korean home page; every chapter through the English home page's
links, then its switch to the same chapter in Korean (which must be the Korean home page's
link); the glossary likewise. They need Debian's `chromium`, `chromium-driver` and
`fonts-noto-cjk` (.ci/run installs them); elsewhere they skip, saying so. In CI they never
skip. The Korean twins (notebooks/ko/NN_topic.ipynb) must exist: a missing one fails the
build, and test_every_chapter_has_its_korean_twin, naming it.
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
from cnnbook.book import BookError, edition, launch, list_notebooks, site, sphinx_ext

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "build" / "html"
SCREENSHOTS = ROOT / "build" / "screenshots"
NOTEBOOKS = list_notebooks()
EN, KO = site.EDITIONS
TWINS = {p.stem: edition.twin_path(p, "ko") for p in NOTEBOOKS}
SCREENSHOT_CHAPTER = "02_vanishing_gradient"  # figures, math and Hangul near the top
APT = "apt-get install chromium chromium-driver fonts-noto-cjk"


# --- the sources ----------------------------------------------------------------------------------


def _heading(text):
    """The first level-1 heading of Markdown text, as Sphinx shows it: without Markdown marks."""
    for line in text.splitlines():
        if line.startswith("# "):
            return re.sub(r"[`*]", "", line[2:]).strip()
    return None


def _title(path):
    """A notebook's title as Sphinx shows it: its first heading."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown" and _heading(cell.source):
            return _heading(cell.source)
    raise AssertionError(f"{path.name} has no title")


def _first_column(table):
    return [row.strip().strip("|").split("|")[0].strip() for row in table.splitlines()[2:]]


def _tiny_book(root, names=("01_alpha", "02_beta"), table=None, ko=True):
    """A checkout in miniature: notebooks with a figure-free cell each, a README, and (with
    ``ko``) their Korean twins and README.ko.md."""
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
    if ko:
        (root / "notebooks" / "ko").mkdir()
        for name in names:
            nb = nbformat.read(root / "notebooks" / f"{name}.ipynb", as_version=4)
            nb.cells[0].source = f"# {name.split('_')[1].title()} 한국어판\n\n설명 $x^2$."
            nbformat.write(nb, root / "notebooks" / "ko" / f"{name}.ipynb")
        (root / "README.ko.md").write_text(
            "[English](README.md)\n\n# 작은 책\n\n소개.\n\n## 목차\n\n| 장 | 노트북 |\n|---|---|\n"
            + "\n".join(f"| {i} | [{n}](notebooks/ko/{n}.ipynb) |" for i, n in enumerate(names, 1))
            + "\n\n## 더 보기\n\n더.\n", encoding="utf-8")
    return root


def _glossary(root):
    (root / "notebooks" / "glossary.md").write_text(
        "# Glossary (용어집)\n\nThe terms.\n\n| English | 한국어 | introduced in | other |\n|---|---|---|---|\n"
        "| gradient | 기울기 | [01](01_alpha.ipynb) | 그래디언트 |\n", encoding="utf-8")


def test_readme_table_lists_every_notebook_in_order():
    _, links = site.chapter_table((ROOT / "README.md").read_text(encoding="utf-8"))
    assert links == [f"notebooks/{p.name}" for p in NOTEBOOKS]


def test_readme_ko_has_the_same_chapter_table_in_korean():
    english, _ = site.chapter_table((ROOT / EN.readme).read_text(encoding="utf-8"), EN.chapters)
    readme = (ROOT / KO.readme).read_text(encoding="utf-8")
    korean, links = site.chapter_table(readme, KO.chapters)
    assert links == [f"notebooks/ko/{p.name}" for p in NOTEBOOKS]
    assert _first_column(korean) == _first_column(english)  # the source text's chapters
    assert readme.startswith("[English](README.md)")
    assert "[한국어](README.ko.md)" in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()[0]
    assert all("make " + target in readme for target in ("book", "test", "site"))


def test_every_chapter_has_its_korean_twin():
    try:
        site.check_twins(site.EDITIONS, ROOT)
    except BookError as exc:
        pytest.fail(str(exc))


def test_home_page_takes_intro_and_table_from_the_readme(tmp_path):
    root = _tiny_book(tmp_path)
    page = site.home_page(EN, root, site.site_dir())
    assert "The intro." in page and "More." not in page
    assert "| 2 | [02_beta](notebooks/02_beta.ipynb) | shows 02_beta |" in page
    assert ":caption: Chapters\n\nnotebooks/01_alpha\nnotebooks/02_beta\n```" in page  # the toctree
    assert "glossary" not in page and "{{" not in page


def test_table_and_notebooks_must_agree(tmp_path):
    root = _tiny_book(tmp_path, table=["| 1 | [a](notebooks/01_alpha.ipynb) | a |",
                                       "| 3 | [c](notebooks/03_gamma.ipynb) | c |"])
    with pytest.raises(BookError, match=r"not in the table: notebooks/02_beta.ipynb; "
                                        r"no such notebook: notebooks/03_gamma.ipynb"):
        site.stage(EN, tmp_path / "src", root=root)


def test_the_korean_edition_stages_its_notebooks_at_its_root(tmp_path):
    root = _tiny_book(tmp_path / "repo")
    _glossary(root)
    pages = site.stage(KO, tmp_path / "src", root=root)
    assert pages == ["index", "01_alpha", "02_beta", "glossary"]
    staged = tmp_path / "src" / "01_alpha.ipynb"
    assert staged.read_bytes() == (root / "notebooks" / "ko" / "01_alpha.ipynb").read_bytes()
    home = (tmp_path / "src" / "index.md").read_text(encoding="utf-8")
    assert home.startswith(f"# {_heading((site.site_dir() / KO.home).read_text(encoding='utf-8'))}\n")
    assert "소개." in home and "(README.md)" not in home and "더." not in home
    assert "| 2 | [02_beta](02_beta.ipynb) |" in home
    assert ":caption: 장\n\n01_alpha\n02_beta\n```" in home and ":caption: 참고\n\nglossary\n```" in home
    assert "영어 그대로" in home and "영어와 한국어로 함께" in home  # figures' labels, claims
    assert KO.path_to_docs == "notebooks/ko" and EN.path_to_docs == ""


def test_the_korean_glossary_is_the_same_table_under_a_korean_header(tmp_path):
    root = _tiny_book(tmp_path)
    _glossary(root)
    assert site.glossary_page(EN, root, site.site_dir()) == (root / site.GLOSSARY).read_text(encoding="utf-8")
    page = site.glossary_page(KO, root, site.site_dir())
    assert _heading(page) == "용어집 (Glossary)" and "The terms." not in page
    # The rows as they are: their links are relative, so they lead to the Korean chapters.
    assert "|---|---|---|---|\n| gradient | 기울기 | [01](01_alpha.ipynb) | 그래디언트 |" in page
    assert "| English |" not in page and "{{" not in page
    (root / site.GLOSSARY).write_text("# G\n\n| English | 한국어 |\n|---|---|\n| a | 가 |\n", encoding="utf-8")
    with pytest.raises(BookError, match="4 columns, notebooks/glossary.md's has 2"):
        site.glossary_page(KO, root, site.site_dir())


def test_a_missing_twin_stops_the_build_naming_it(tmp_path):
    root = _tiny_book(tmp_path)
    site.check_twins(site.EDITIONS, root)
    (root / "notebooks" / "ko" / "02_beta.ipynb").unlink()
    with pytest.raises(BookError, match=r"notebooks/ko/02_beta.ipynb is missing \(the ko twin of "
                                        r"notebooks/02_beta.ipynb; `cnnbook book edition sync --lang ko`"):
        site.build_site(tmp_path / "html", root=root, workdir=tmp_path / "work")


def test_korean_search_finds_words_without_their_particles():
    words = sphinx_ext.KoreanSearch({}).split("드롭아웃은 ReLU를 기울기가 층을 (CNN)")
    assert {"드롭아웃은", "드롭아웃", "ReLU", "기울기가", "기울기", "층", "CNN"} <= set(words)
    assert sphinx_ext.KoreanSearch({}).split("weight decay") == ["weight", "decay"]


def test_site_of_a_small_book_in_two_editions(tmp_path):
    root = _tiny_book(tmp_path / "repo")
    launch.add_launch(root / "notebooks" / "01_alpha.ipynb", "notebooks/01_alpha.ipynb")
    out, work = tmp_path / "html", tmp_path / "work"
    warnings = []
    build = functools.partial(site.build_site, out, root=root, workdir=work, log=warnings.append)
    build()
    assert warnings == []
    page = (out / "notebooks" / "01_alpha.html").read_text(encoding="utf-8")
    # The badge links to Colab, its image is the site's own copy.
    assert f'href="{launch.colab_url("notebooks/01_alpha.ipynb")}"' in page
    assert '<img src="../_static/colab-badge.svg" alt="Open In Colab"' in page
    assert launch.BADGE_IMAGE not in page and (out / "_static" / "colab-badge.svg").is_file()
    # The Korean edition under ko/, in Korean, launching its own notebooks.
    ko = (out / "ko" / "01_alpha.html").read_text(encoding="utf-8")
    assert '<html lang="ko"' in ko and "<title>Alpha 한국어판 &#8212; cnnbook</title>" in ko
    assert launch.colab_url("notebooks/ko/01_alpha.ipynb") in ko
    # The language switch: the same page in the other edition.
    switch = re.compile(r'<a href="([^"]+)" class="btn btn-sm cnnbook-language" hreflang="(\w+)"')
    for page, href, lang in [("index.html", "ko/index.html", "ko"),
                             ("notebooks/01_alpha.html", "../ko/01_alpha.html", "ko"),
                             ("search.html", "ko/search.html", "ko"),
                             ("ko/index.html", "../index.html", "en"),
                             ("ko/02_beta.html", "../notebooks/02_beta.html", "en")]:
        assert switch.findall((out / page).read_text(encoding="utf-8")) == [(href, lang)], page
    # Nothing but the site in the output folder (MyST-NB's outputs stay in the work folder).
    assert not list(out.rglob("jupyter_execute"))
    # No glossary file, no glossary page; it appears with the file, in both editions.
    assert not (out / "notebooks" / "glossary.html").exists() and not (out / "ko" / "glossary.html").exists()
    assert "glossary" not in (out / "index.html").read_text(encoding="utf-8")
    _glossary(root)
    build()
    assert warnings == []
    page = (out / "notebooks" / "glossary.html").read_text(encoding="utf-8")
    assert "<title>Glossary (용어집) &#8212; cnnbook</title>" in page and "기울기" in page
    assert 'href="01_alpha.html"' in page and switch.findall(page) == [("../ko/glossary.html", "ko")]
    assert 'href="notebooks/glossary.html"' in (out / "index.html").read_text(encoding="utf-8")
    page = (out / "ko" / "glossary.html").read_text(encoding="utf-8")
    assert "<title>용어집 (Glossary) &#8212; cnnbook</title>" in page and 'href="01_alpha.html"' in page
    assert switch.findall(page) == [("../notebooks/glossary.html", "en")]
    (root / "notebooks" / "glossary.md").unlink()
    assert "notebooks/glossary" not in site.stage(EN, work / "src" / "en", root=root)
    assert not (work / "src" / "en" / "notebooks" / "glossary.md").exists()


def test_staging_copies_notebooks_byte_for_byte_and_only_when_changed(tmp_path):
    root = _tiny_book(tmp_path / "repo")
    src = tmp_path / "src"
    pages = site.stage(EN, src, root=root)
    assert pages == ["index", "notebooks/01_alpha", "notebooks/02_beta"]
    staged = src / "notebooks" / "01_alpha.ipynb"
    assert staged.read_bytes() == (root / "notebooks" / "01_alpha.ipynb").read_bytes()
    os.utime(staged, (1, 1))
    site.stage(EN, src, root=root)
    assert staged.stat().st_mtime == 1  # unchanged: not rewritten, so Sphinx skips it
    (root / "notebooks" / "02_beta.ipynb").unlink()
    (root / "README.md").write_text((root / "README.md").read_text().replace(
        "| 2 | [02_beta](notebooks/02_beta.ipynb) | shows 02_beta |\n", ""))
    site.stage(EN, src, root=root)
    assert not (src / "notebooks" / "02_beta.ipynb").exists()


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
    assert (built_site.path / "ko" / "index.html").is_file()
    assert not list(built_site.path.rglob("jupyter_execute"))  # only the site in build/html


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


def _check_page(driver, base, title, lang="en"):
    assert driver.title == f"{title} — cnnbook"
    assert driver.execute_script("return document.documentElement.lang") == lang
    not_loaded = driver.execute_script(
        "return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
    assert not_loaded == [], "images that did not load"
    errors, outside = _problems(driver, base)
    assert errors == [], "console errors"
    assert outside == [], "requests outside the site: everything must be served from it"
    assert _broken_links(driver, base) == []
    if lang == "ko":
        assert _hangul_drawn(driver), "Hangul drawn as boxes: no Korean font"


LABELS = {"en": "English", "ko": "한국어"}


def _switch(driver):
    """The language switch in the page's header: [(address, label, language)]."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('.bd-header-article a.cnnbook-language'),"
        " a => [a.href, a.textContent.trim(), a.hreflang])")


def _switch_leads_to(driver, url, lang):
    assert _switch(driver) == [[url, LABELS[lang], lang]], \
        "the language switch leads to the same page in the other language"


def _links(driver):
    """The pages a page links from its text and its sidebar, by name (05_dropout, glossary)."""
    hrefs = driver.execute_script(
        "return Array.from(document.querySelectorAll('article a[href$=\".html\"], "
        ".bd-sidebar-primary a[href$=\".html\"]'), a => a.href)")
    return {Path(urllib.parse.urlparse(href).path).stem: href for href in hrefs}


@pytest.fixture(scope="session")
def homes(browser, server):
    """Both home pages' links to the chapters and the glossary: the English home page's,
    then (through its language switch) the Korean one's."""
    _open(browser, server)
    links = {"en": _links(browser)}
    _open(browser, _switch(browser)[0][0])
    links["ko"] = _links(browser)
    return links


def _screenshot(driver, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def test_home_pages(browser, server, homes):
    _open(browser, server)
    _check_page(browser, server, _heading((site.site_dir() / EN.home).read_text(encoding="utf-8")))
    assert [name for name in homes["en"] if name in TWINS] == list(TWINS)
    sidebar = browser.execute_script(
        "return Array.from(document.querySelectorAll('.bd-sidebar-primary a[href]'), a => a.textContent.trim())")
    assert [t for t in sidebar if t in {_title(p) for p in NOTEBOOKS}] == [_title(p) for p in NOTEBOOKS]
    assert _hangul_drawn(browser)
    assert "Noto Sans CJK KR" in browser.execute_script("return getComputedStyle(document.body).fontFamily")
    _screenshot(browser, "home")

    _switch_leads_to(browser, server + "ko/index.html", "ko")
    _open(browser, server + "ko/index.html")
    _check_page(browser, server, _heading((site.site_dir() / KO.home).read_text(encoding="utf-8")), "ko")
    assert [name for name in homes["ko"] if name in TWINS] == list(TWINS)
    assert all(homes["ko"][name] == f"{server}ko/{name}.html" for name in TWINS)
    sidebar = browser.execute_script(
        "return Array.from(document.querySelectorAll('.bd-sidebar-primary a[href]'), a => a.textContent.trim())")
    titles = [_title(p) for p in TWINS.values()]
    assert [t for t in sidebar if t in set(titles)] == titles
    _switch_leads_to(browser, server + "index.html", "en")
    _screenshot(browser, "ko_home")


def _check_chapter(driver, server, links, path, lang, home_url):
    _check_page(driver, server, _title(path), lang)
    nb = nbformat.read(path, as_version=4)
    figures = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
                  for o in c.get("outputs", []))
    shown = driver.execute_script("return document.querySelectorAll('.cell_output img').length")
    assert shown == figures, "every figure of the notebook is on the page"
    if any(re.search(r"\$[^$\s][^$]*\$", c.source) for c in nb.cells if c.cell_type == "markdown"):
        assert driver.execute_script("return document.querySelectorAll('mjx-container').length") > 0
        assert driver.execute_script("return document.querySelectorAll('mjx-merror, .MathJax_Error').length") == 0
    assert driver.execute_script("return document.querySelectorAll('button.copybtn').length") > 0

    names = list(TWINS)
    i = names.index(path.stem)
    prev_next = driver.execute_script(
        "return ['left-prev', 'right-next'].map(c => (document.querySelector('a.' + c) || {}).href || null)")
    assert prev_next[0] == (links[names[i - 1]] if i else home_url)
    if i + 1 < len(names):
        assert prev_next[1] == links[names[i + 1]]
    # The theme's launch button opens this edition's notebook in Colab.
    colab = launch.colab_url(path.relative_to(ROOT).as_posix())
    assert driver.execute_script(f"return document.querySelectorAll('a[href=\"{colab}\"]').length") >= 1

    if path.stem == SCREENSHOT_CHAPTER:
        driver.execute_script("document.querySelector('.cell_output img').scrollIntoView({block: 'end'})")
        time.sleep(0.3)
        _screenshot(driver, path.stem if lang == "en" else f"{lang}_{path.stem}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapter_page_in_both_languages(browser, server, homes, path):
    assert path.stem in homes["en"], "the English home page links every chapter"
    assert path.stem in homes["ko"], "the Korean home page links every chapter"
    english = homes["en"][path.stem]
    _open(browser, english)
    _check_chapter(browser, server, homes["en"], path, "en", server + "index.html")
    # Its switch leads to the Korean home page's link for the same chapter; and back.
    _switch_leads_to(browser, homes["ko"][path.stem], "ko")
    _open(browser, homes["ko"][path.stem])
    _check_chapter(browser, server, homes["ko"], TWINS[path.stem], "ko", server + "ko/index.html")
    _switch_leads_to(browser, english, "en")


def test_glossary_in_both_languages(browser, server, homes):
    assert (ROOT / site.GLOSSARY).is_file(), "the book has a glossary"
    assert "glossary" in homes["en"] and "glossary" in homes["ko"], "the home pages link the glossary"
    introduced_in = "return Array.from(document.querySelectorAll('article table a[href]'), a => a.href)"
    _open(browser, homes["en"]["glossary"])
    _check_page(browser, server, _heading((ROOT / site.GLOSSARY).read_text(encoding="utf-8")))
    english = browser.execute_script(introduced_in)
    assert english and set(english) <= {homes["en"][name] for name in TWINS}

    _switch_leads_to(browser, homes["ko"]["glossary"], "ko")
    _open(browser, homes["ko"]["glossary"])
    _check_page(browser, server, _heading((site.site_dir() / KO.glossary).read_text(encoding="utf-8")), "ko")
    # The same table, its links leading to the Korean chapters.
    korean = browser.execute_script(introduced_in)
    assert korean == [href.replace(f"{server}notebooks/", f"{server}ko/") for href in english]
    assert browser.execute_script("return document.querySelectorAll('article table tbody tr').length") == \
        (ROOT / site.GLOSSARY).read_text(encoding="utf-8").count("\n|") - 2
    _switch_leads_to(browser, homes["en"]["glossary"], "en")


@pytest.mark.parametrize("lang, query, chapter", [("en", "dropout", "notebooks/05_dropout.html"),
                                                  ("ko", "드롭아웃", "ko/05_dropout.html")])
def test_search_finds_a_chapter(browser, server, lang, query, chapter):
    prefix = "" if lang == "en" else f"{lang}/"
    _open(browser, f"{server}{prefix}search.html?q={urllib.parse.quote(query)}")
    hits = _wait(browser, "const a = Array.from(document.querySelectorAll('#search-results li a'), a => a.href);"
                          "return a.length ? a : null", what="search results")
    assert any(h.split("#")[0] == server + chapter for h in hits)
    assert _problems(browser, server)[0] == []


def test_opens_from_a_file_url(browser, built_site):
    for page in ("index.html", f"notebooks/{SCREENSHOT_CHAPTER}.html", "ko/index.html",
                 f"ko/{SCREENSHOT_CHAPTER}.html"):
        _open(browser, (built_site.path / page).resolve().as_uri())
        assert browser.execute_script(
            "return Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
        errors, outside = _problems(browser, "file://")
        assert errors == [] and outside == []
        assert browser.execute_script("return document.querySelectorAll('mjx-container').length") > 0 \
            or page.endswith("index.html")
