"""The documentation site in a real browser.

Builds the site in quick mode (docs/build.py --quick: tutorials in smoke mode, reusing the
notebooks that tests/test_tutorials.py executed in this session), serves it on localhost,
opens every page in headless Chromium (Debian's ``chromium`` + ``chromium-driver``, driven
by selenium) and fails on:

* any console error (a script error, a resource that failed to load);
* any request that leaves the site (the site must work offline: no CDN, no web fonts);
* a broken internal link (target page or ``#anchor`` missing);
* an image that did not load;
* an unrendered equation: math that Markdown marked but MathJax did not typeset, a MathJax
  error, raw ``$$`` / ``\\(`` / ``\\[`` left in the text, or a tutorial whose source has
  ``$`` math and whose page has no typeset equation.

It saves screenshots of the index, one tutorial and one API page to
``build/docs/screenshots/``. Without Chromium (or selenium) the browser tests skip and say
why; the site is still built and its navigation checked (test_navigation_follows_the_course).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "docs" / "screenshots"


def _browser() -> tuple[str, str] | str:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        return (
            "headless Chromium is not installed (Debian: apt-get install -y chromium "
            "chromium-driver): the browser check of the documentation site did not run"
        )
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is missing: install the docs extra (pip install -e '.[docs]')"
    return chromium, driver


BROWSER = _browser()
if isinstance(BROWSER, str):
    print(f"\nSKIP the browser tests of tests/docs/test_site.py: {BROWSER}", file=sys.stderr)


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key in ("id", "name") and value:
                self.ids.add(value)


@functools.cache
def _ids(path: Path) -> frozenset[str]:
    parser = _Ids()
    parser.feed(path.read_text(errors="replace"))
    return frozenset(parser.ids)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if given := os.environ.get("SCIML_DOCS_SITE"):  # check a site built already
        return Path(given).resolve()
    out = tmp_path_factory.mktemp("site")
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "build.py"), "--quick", "--site", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    print(proc.stdout[-4000:])
    assert proc.returncode == 0, f"docs build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    print(f"quick build: {time.perf_counter() - t0:.0f} s")
    return out


@pytest.fixture(scope="module")
def server(site):
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    if isinstance(BROWSER, str):
        if os.environ.get("CI"):  # .ci/run installs Chromium: in CI a missing browser fails
            pytest.fail(f"CI run without a browser: {BROWSER}")
        pytest.skip(BROWSER)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = BROWSER
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1000", "--hide-scrollbars", "--force-device-scale-factor=1",
                "--no-first-run", "--disable-extensions", "--disable-background-networking"):  # fmt: skip
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    env = dict(os.environ, SE_AVOID_STATS="true", SE_OFFLINE="true")  # never a download
    service = Service(executable_path=driver_path, env=env)
    driver = webdriver.Chrome(service=service, options=opts)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


# waits for MathJax (when the page loads it) to finish, then reports what the page shows
_INSPECT = r"""
const done = arguments[arguments.length - 1];
const finish = () => {
  const origin = location.origin;
  const main = document.querySelector('article') || document.body;
  const skip = el => el.closest('pre, code, script, style, mjx-container, .highlight');
  const texts = [];
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const n = walker.currentNode;
    if (!skip(n.parentElement)) texts.push(n.textContent);
  }
  done({
    images: [...document.images].filter(i => !i.complete || i.naturalWidth === 0)
      .map(i => (i.getAttribute('src') || '').slice(0, 80)),
    arithmatex: document.querySelectorAll('.arithmatex').length,
    untypeset: [...document.querySelectorAll('.arithmatex')]
      .filter(el => !el.querySelector('mjx-container'))
      .map(el => el.textContent.slice(0, 80)),
    typeset: document.querySelectorAll('mjx-container').length,
    figures: document.querySelectorAll('.jp-OutputArea-output img').length,
    merrors: [...document.querySelectorAll('mjx-merror')].map(e => e.textContent.slice(0, 80)),
    // typeset but drawn with no glyphs (CHTML draws each character from a CSS ::before rule)
    blank: [...document.querySelectorAll('mjx-container')].filter(c => {
      const glyphs = [...c.querySelectorAll('mjx-c')];
      return glyphs.length === 0 || glyphs.every(g => {
        const content = getComputedStyle(g, '::before').content;
        return !content || content === 'none' || content === 'normal';
      });
    }).length,
    text: texts.join(' '),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href)
      .filter(h => h.startsWith(origin)),
    external: performance.getEntriesByType('resource').map(r => r.name)
      .filter(n => !n.startsWith(origin) && !n.startsWith('data:') && !n.startsWith('blob:')),
    title: document.title,
  });
};
if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
  MathJax.startup.promise.then(() => setTimeout(finish, 100), () => finish());
} else {
  setTimeout(finish, 100);
}
"""

# raw TeX delimiters left in the visible text: $$...$$, \( \), \[ \], or $x$ with TeX inside
_RAW_MATH = re.compile(r"\$\$|\\\(|\\\)|\\\[|\\\]|\$[^$\s][^$]*\\[A-Za-z]+[^$]*\$")


def _pages(site: Path) -> list[str]:
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    return ["/" + p for p in pages if p != "404.html"]


def _target(site: Path, url: str) -> tuple[Path | None, str]:
    parts = urlsplit(url)
    rel = unquote(parts.path).lstrip("/")
    path = site / rel
    if path.is_dir() or not rel:
        path = path / "index.html"
    return (path if path.is_file() else None), unquote(parts.fragment)


def _shot(browser, name: str, *, scroll_to: str | None = None) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    if scroll_to:
        browser.execute_script(
            "const el = document.querySelector(arguments[0]);"
            "if (el) el.scrollIntoView({block: 'center'});",
            scroll_to,
        )
        time.sleep(0.3)
    path = SHOTS / f"{name}.png"
    browser.save_screenshot(str(path))
    return path


def _check_page(browser, server: str, site: Path, page: str) -> tuple[list[str], dict]:
    """Open ``page`` and list what is wrong with it; its internal links are in ``info``."""
    problems = []
    browser.get_log("browser")  # drop what an earlier page left
    browser.get(server + page)
    info = browser.execute_async_script(_INSPECT)
    for entry in browser.get_log("browser"):
        if entry["level"] == "SEVERE":
            problems.append(f"{page}: console error: {entry['message'][:300]}")
    for src in info["images"]:
        problems.append(f"{page}: image did not load: {src}")
    for tex in info["untypeset"]:
        problems.append(f"{page}: equation not typeset: {tex}")
    if info["blank"]:
        problems.append(f"{page}: {info['blank']} equation(s) typeset without glyphs (blank)")
    for err in info["merrors"]:
        problems.append(f"{page}: MathJax error: {err}")
    if m := _RAW_MATH.search(info["text"]):
        around = info["text"][max(0, m.start() - 40) : m.end() + 40]
        problems.append(f"{page}: raw TeX in the text: ...{around}...")
    for url in info["external"]:
        problems.append(f"{page}: request outside the site: {url}")
    return problems, info


def _check_links(site: Path, links: dict[str, set[str]]) -> list[str]:
    problems = []
    for url, where in sorted(links.items()):
        path, fragment = _target(site, url)
        if path is None:
            problems.append(f"broken link {url} (on {sorted(where)[0]})")
        elif fragment and fragment not in _ids(path):
            problems.append(f"broken anchor {url} (on {sorted(where)[0]})")
    return problems


def test_every_page_renders_offline(site, server, browser):
    sys.path.insert(0, str(ROOT / "docs"))
    import course

    pages = _pages(site)
    assert "/index.html" in pages and len(pages) >= 5, pages
    built = {i.stem for i in course.COURSE if (site / "tutorials" / f"{i.stem}.html").exists()}
    assert built, "no tutorial page was built"
    problems: list[str] = []
    links: dict[str, set[str]] = {}
    t0 = time.perf_counter()
    for page in pages:
        found, info = _check_page(browser, server, site, page)
        problems += found
        stem = Path(page).stem
        if page.startswith("/tutorials/") and stem in built:
            if info["figures"] == 0:
                problems.append(f"{page}: no figure (the tutorial's PNGs were not attached)")
            if "$" in (ROOT / "tutorials" / f"{stem}.py").read_text() and info["typeset"] == 0:
                problems.append(f"{page}: the tutorial has $ math but no equation is typeset")
        for url in info["links"]:
            links.setdefault(url, set()).add(page)
    print(f"{len(pages)} pages in {time.perf_counter() - t0:.0f} s")
    problems += _check_links(site, links)

    # screenshots a person looks at: the index, a tutorial (an equation and a figure), an API page
    browser.get(server + "/index.html")
    browser.execute_async_script(_INSPECT)
    shots = [_shot(browser, "index")]
    tut = next((s for s in ("grid_mesh_fem", "neural_operator_darcy") if s in built), min(built))
    browser.get(f"{server}/tutorials/{tut}.html")
    browser.execute_async_script(_INSPECT)
    shots.append(_shot(browser, "tutorial"))
    shots.append(_shot(browser, "tutorial_figure", scroll_to=".jp-OutputArea-output img"))
    browser.get(f"{server}/api/foundation.html")
    browser.execute_async_script(_INSPECT)
    shots.append(_shot(browser, "api"))
    print("screenshots:", ", ".join(str(p) for p in shots))

    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems[:60])


def test_navigation_follows_the_course(site):
    sys.path.insert(0, str(ROOT / "docs"))
    import course

    html = (site / "index.html").read_text()
    nav_order = re.findall(r'href="(?:\./)?tutorials/([a-z0-9_]+)\.html"', html)
    expected = [i.stem for i in course.COURSE if (site / "tutorials" / f"{i.stem}.html").exists()]
    seen = list(dict.fromkeys(nav_order))
    assert seen == expected, (seen, expected)
    # rows whose tutorial is not there yet are listed as coming, not linked
    for item in course.missing():
        assert f"{item.title} (coming)" in html
    meta = json.loads((site / "search" / "search_index.json").read_text())
    assert any(d["location"].startswith("tutorials/") for d in meta["docs"]), (
        "tutorials not searchable"
    )


def test_the_checks_see_each_fault(site, server, browser, tmp_path):
    """A copy of the index with one fault of each kind: every check must report it."""
    faults = (
        '<p><a href="no-such-page.html">dead</a> <a href="index.html#no-such-anchor">anchor</a></p>'
        '<p><img src="no-such-figure.png" alt="missing"></p>'
        "<p>raw: $$ \\int_0^1 u \\, dx $$</p>"
        '<p><span class="arithmatex">\\(\\frac{1}{\\)</span></p>'
        '<p><span class="arithmatex">\\(a^b^c\\)</span></p>'
        '<script>throw new Error("planted script error")</script>'
        '<img src="http://127.0.0.2:9/outside.png" alt="outside">'
    )
    html = (site / "index.html").read_text().replace("</article>", faults + "</article>", 1)
    page = site / "faulty.html"
    page.write_text(html)
    try:
        problems, info = _check_page(browser, server, site, "/faulty.html")
        links = {url: {"/faulty.html"} for url in info["links"]}
        problems += _check_links(site, links)
    finally:
        page.unlink()
    text = "\n".join(problems)
    for expected in (
        "broken link",
        "broken anchor",
        "image did not load: no-such-figure.png",
        "raw TeX in the text",
        "equation not typeset",
        "MathJax error: Double exponent",
        "console error",
        "request outside the site",
    ):
        assert expected in text, f"{expected!r} not reported; got:\n{text}"
