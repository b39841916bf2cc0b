"""Content-Security-Policy, third-party requests and cookies, checked at run time in Chromium."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

PAGES = ["/", "/besoins/", "/besoins/ordinateurs-portables-dijon/", "/territoires/27-bourgogne-franche-comte/",
         "/recherche/"]


def assert_clean(page, log, path):
    violations = page.evaluate("() => window.__cspViolations")
    assert violations == [], f"{path}: CSP violations {violations}"
    assert log.csp_messages() == [], f"{path}: {log.csp_messages()}"
    assert log.refused == [], f"{path}: requests to other hosts {log.refused}"
    assert not log.page_errors, f"{path}: {log.page_errors}"
    errors = [m for m in log.console if m.startswith("error:")]
    assert errors == [], f"{path}: console errors {errors}"


@pytest.mark.parametrize("path", PAGES)
def test_no_csp_violation_no_third_party_request_no_cookie(open_page, path):
    page, log = open_page(path)
    if path == "/recherche/":       # make Pagefind load its WebAssembly and run a query
        page.fill("#q-recherche", "ordinateurs")
        page.wait_for_selector("#resultats .resultat-titre a", timeout=10_000)
    if path == "/besoins/":         # and the listing fetch its commune list
        page.wait_for_selector("#filtres:not([hidden])")
        page.fill("#f-commune", "Dijon")
        page.wait_for_function("() => document.querySelectorAll('#f-communes option').length > 0")
    page.wait_for_load_state("networkidle")
    assert_clean(page, log, path)
    assert all(url.startswith(("http://127.0.0.1:", "data:")) for url in log.requests), log.requests
    assert page.evaluate("() => document.cookie") == ""
    meta = page.eval_on_selector_all("meta[http-equiv='Content-Security-Policy']", "m => m.map(x => x.content)")
    assert len(meta) == 1 and "default-src 'none'" in meta[0] and "unsafe-inline" not in meta[0]


def test_an_injected_inline_script_is_blocked(open_page, site):
    page, log = open_page()

    def inject(route):
        response = route.fetch()
        html = response.text().replace("</body>", "<script>window.__inlineRan = true;</script></body>")
        route.fulfill(response=response, body=html)

    page.route(site.url("/"), inject)
    page.goto(site.url("/"), wait_until="load")
    assert page.evaluate("() => window.__inlineRan") is None, "an inline script ran: the CSP is not enforced"
    violations = page.evaluate("() => window.__cspViolations")
    assert any(v["directive"].startswith("script-src") for v in violations), violations
    assert log.csp_messages(), "Chromium should report the blocked inline script"


def test_an_injected_third_party_image_is_blocked(open_page, site):
    page, log = open_page()

    def inject(route):
        response = route.fetch()
        html = response.text().replace("</body>", '<img src="https://tracker.example/pixel.gif" alt=""></body>')
        route.fulfill(response=response, body=html)

    page.route(site.url("/"), inject)
    page.goto(site.url("/"), wait_until="load")
    violations = page.evaluate("() => window.__cspViolations")
    assert any(v["directive"].startswith("img-src") for v in violations), violations
    assert log.refused == []        # blocked by the CSP before any request left the browser
