"""Browser tests in Debian's Chromium (Playwright for Python, no downloaded browser).

One session-scoped build of the fixture directory (tests/fixtures/exports/, build date fixed),
served by ``http.server`` on 127.0.0.1 at a free port from a thread. Every page a test opens
goes through ``open_page``, which records console messages, CSP violations and every request,
and refuses any request that would leave 127.0.0.1.

Set ASSOCIE_SKIP_BROWSER=1 to skip them (e.g. on a machine without Chromium);
CHROMIUM=/path/to/chromium to use another binary.
"""
from __future__ import annotations

import datetime as dt
import functools
import http.server
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

HERE = Path(__file__).resolve().parent
FIXTURE = HERE.parent / "fixtures" / "exports"
BUILD_DATE = dt.date(2026, 11, 20)
# Tiny pages so that the fixture's listings are paginated (3 needs: /besoins/ and /besoins/page/2/)
# and the filters are tested across pages, with donnees/filtres-*.json.
LISTING_PAGE_SIZE = 2
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

# Records CSP violations from the page itself (an init script runs before any page script and is
# not subject to the page's CSP).
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push({directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample});
});
"""


def pytest_collection_modifyitems(config, items):
    if os.environ.get("ASSOCIE_SKIP_BROWSER") == "1":
        skip = pytest.mark.skip(reason="ASSOCIE_SKIP_BROWSER=1")
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip)


# ------------------------------------------------------------------------------ the site
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm",
                      ".json": "application/json", ".xml": "application/xml", ".svg": "image/svg+xml"}

    def log_message(self, format, *args):  # noqa: A002 - keep pytest output clean
        pass


@dataclass
class Site:
    root: Path
    base: str          # http://127.0.0.1:<port>

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Site:
    if os.environ.get("ASSOCIE_SKIP_BROWSER") == "1":
        pytest.skip("ASSOCIE_SKIP_BROWSER=1")
    from associe.build import build_site

    output = tmp_path_factory.mktemp("browser-site") / "output"
    status = build_site(output=output, build_date=BUILD_DATE, content=FIXTURE, include_fictitious=True,
                        search_index=True, extra_settings={"ASSOCIE_LISTING_PAGE_SIZE": LISTING_PAGE_SIZE})
    assert status == 0, f"the fixture site did not build (status {status})"
    handler = functools.partial(_QuietHandler, directory=str(output))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield Site(root=output, base=f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# ------------------------------------------------------------------------------ the browser
@pytest.fixture(scope="module")
def browser():
    """Chromium for one test module, closed when the module ends: other modules (the meeting
    kit's print test, the forms test) start their own Playwright, and two sync Playwright
    sessions cannot be open at once in one process."""
    if os.environ.get("ASSOCIE_SKIP_BROWSER") == "1":
        pytest.skip("ASSOCIE_SKIP_BROWSER=1")
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: `apt-get install chromium` (or `make browser-deps`).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageLog:
    console: list[str] = field(default_factory=list)        # "type: text"
    requests: list[str] = field(default_factory=list)       # every URL requested
    refused: list[str] = field(default_factory=list)        # requests aborted because not local
    page_errors: list[str] = field(default_factory=list)
    responses: list = field(default_factory=list)           # playwright Response objects

    def csp_messages(self) -> list[str]:
        return [m for m in self.console if "Content Security Policy" in m or "Refused to" in m]


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or parts.hostname == "127.0.0.1"


@pytest.fixture
def open_page(browser, site):
    """``open_page(path, **context_options) -> (page, log)``; contexts closed after the test."""
    contexts = []

    def _open(path: str | None = None, **options):
        context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900},
                                      service_workers="block", **options)
        contexts.append(context)
        log = PageLog()

        def guard(route):
            if _is_local(route.request.url):
                route.continue_()
            else:
                log.refused.append(route.request.url)
                route.abort()

        context.route("**/*", guard)
        context.add_init_script(CSP_LISTENER)
        page = context.new_page()
        page.on("console", lambda msg: log.console.append(f"{msg.type}: {msg.text}"))
        page.on("pageerror", lambda error: log.page_errors.append(str(error)))
        page.on("request", lambda request: log.requests.append(request.url))
        page.on("response", lambda response: log.responses.append(response))
        if path is not None:
            page.goto(site.url(path), wait_until="load")
        return page, log

    yield _open
    for context in contexts:
        context.close()
