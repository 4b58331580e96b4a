"""The documentation site (docs/): it builds with warnings as errors, every example in it
runs, every name of every ``__all__`` is documented, no internal link is broken, and a
real browser (Debian's Chromium) shows its pages with their headings and images.

The build executes the tutorials at the size tests/test_tutorials.py runs them
(``NEURODYN_TUTORIAL_FAST=1``), so it is one of the slow tests.
"""

import functools
import http.server
import importlib
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

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
APT = "apt-get install chromium chromium-driver"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.version_info < (3, 11), reason="the docs extra (Sphinx 9) needs 3.11"),
]


def _sphinx(builder: str, out: Path, env: dict) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-j", "2", "-b", builder,
         "-d", str(out / "doctrees"), str(DOCS), str(out / builder)],
        cwd=out, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, (
        f"sphinx-build -b {builder} failed ({proc.returncode})\n"
        f"--- stdout (tail) ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-8000:]}"
    )
    return time.perf_counter() - start


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site built once (html, then doctest from the same doctrees): its folder."""
    out = tmp_path_factory.mktemp("docs")
    env = {
        **os.environ,
        "NEURODYN_TUTORIAL_FAST": "1",
        # One intra-op thread per kernel, as tests/test_tutorials.py runs the tutorials.
        "OMP_NUM_THREADS": "1",
        # The tutorials' tempfile.mkdtemp() folders land here, not in the system's /tmp.
        "TMPDIR": str(out),
    }
    env.pop("NEURODYN_DOCS_REPRODUCTIONS", None)  # the committed reports
    _sphinx("html", out, env)
    _sphinx("doctest", out, env)
    return out


def test_every_exported_name_is_documented(site):
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        api_reference = importlib.import_module("api_reference")
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    pages = api_reference.plan(api_reference.public_modules())
    html = site / "html" / "api"
    documented = 0
    for module, page in pages.items():
        text = (html / f"{module}.html").read_text(encoding="utf-8")
        for names in page.own.values():
            for name in names:
                assert (html / "generated" / f"{module}.{name}.html").is_file(), f"{module}.{name}"
                assert f'href="generated/{module}.{name}.html' in text, f"{module}.{name}"
                documented += 1
        for alias, target in page.aliases:
            assert f"#{target}" in text, f"{module}.{alias} does not link to {target}"
    # Every name of every public package's __all__ is somewhere above.
    for module in pages:
        exported = getattr(importlib.import_module(module), "__all__", ())
        listed = {n for names in pages[module].own.values() for n in names}
        listed |= {alias for alias, _ in pages[module].aliases}
        modules = {n for n in exported if f"{module}.{n}" in pages or n.startswith("__")}
        assert set(exported) - modules <= listed, module
    assert documented >= 300


def test_the_guide_examples_pass(site):
    report = (site / "doctest" / "output.txt").read_text(encoding="utf-8")
    tests = int(re.search(r"^\s*(\d+) tests?$", report, flags=re.M).group(1))
    assert re.search(r"^\s*0 failures in tests$", report, flags=re.M), report[-3000:]
    # The guide's examples (the docstrings' run in tests/test_docstrings.py).
    assert tests >= 50, report[-3000:]


class _Page(HTMLParser):
    """The ids a page defines and the links (href, src) it holds."""

    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])
        for key in ("href", "src"):
            if attrs.get(key) and not (tag == "link" and attrs.get("rel") == "preconnect"):
                self.links.append(attrs[key])


@functools.cache
def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def broken_links(html: Path) -> list[str]:
    """Every relative link of every page whose file, or anchor in it, does not exist."""
    broken = []
    for path in sorted(html.rglob("*.html")):
        for link in _parse(path).links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:")):
                continue
            target_path, fragment = parts.path, parts.fragment  # without ?v=... queries
            target = (path.parent / unquote(target_path)).resolve() if target_path else path
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{path.relative_to(html)}: {link} (no file)")
            elif (
                fragment
                and target.suffix == ".html"
                and unquote(fragment) not in _parse(target).ids
            ):
                broken.append(f"{path.relative_to(html)}: {link} (no anchor)")
    return broken


def test_no_internal_link_is_broken(site):
    html = site / "html"
    assert len(list(html.rglob("*.html"))) > 300
    assert broken_links(html) == []


def test_the_link_check_finds_a_broken_link(tmp_path):
    (tmp_path / "a.html").write_text('<a href="b.html#here">b</a><a href="c.html">c</a>')
    (tmp_path / "b.html").write_text('<h1 id="there">b</h1><img src="missing.png">')
    assert broken_links(tmp_path) == [
        "a.html: b.html#here (no anchor)",
        "a.html: c.html (no file)",
        "b.html: missing.png (no file)",
    ]


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None or CHROMEDRIVER is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser test, but Chromium is missing ({APT})")
        pytest.skip(f"Chromium and its driver are not installed (sudo {APT})")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,1000"):  # fmt: skip
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def served(site):
    """The built site served over HTTP on the loopback interface."""
    handler = functools.partial(_QuietHandler, directory=str(site / "html"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # the test reads the browser's log instead
        pass


_IMAGES = """
return Array.from(document.images).map(
    img => [img.currentSrc || img.src, img.complete && img.naturalWidth > 0]);
"""


@pytest.mark.parametrize(
    ("page", "heading", "min_images"),
    [
        ("index.html", "neurodyn", 2),  # the logo and the reproduction's figure
        (
            "api/generated/neurodyn.analysis.find_fixed_points.html",
            "neurodyn.analysis.find_fixed_points",
            1,
        ),  # the logo
        # the logo and the two figures of the tutorial
        ("tutorials/03_fixed_points.html", "Fixed points: opening the black box", 3),
    ],
    ids=["landing", "api", "tutorial"],
)
def test_pages_in_a_browser(browser, served, site, page, heading, min_images, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(f"{served}/{page}")
    assert browser.execute_script("return document.readyState") == "complete"
    assert heading in browser.find_element(By.TAG_NAME, "h1").text
    images = browser.execute_script(_IMAGES)
    assert len(images) >= min_images, images
    assert all(loaded for _, loaded in images), [src for src, ok in images if not ok]
    # Nothing the page asked for failed to load (MathJax is the site's own), no script raised.
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    # Every link on the page leads to a page of the site that exists.
    links = browser.execute_script(
        "return Array.from(document.links).map(a => a.href)"
        ".filter(h => h.startsWith(location.origin))"
    )
    assert links, page
    for link in links:
        path = unquote(urlsplit(link).path).lstrip("/") or "index.html"
        target = site / "html" / path
        assert (target / "index.html" if target.is_dir() else target).is_file(), link
    browser.save_screenshot(str(tmp_path / "page.png"))
    assert (tmp_path / "page.png").stat().st_size > 10_000
