"""Accessibility in Chromium: keyboard navigation from the top of the page, and axe-core
(npm ``axe-core``, installed in tests/browser/node_modules by ``npm ci --prefix tests/browser``)
with no serious or critical violation on the home, a listing, an entry and a territory page."""
from __future__ import annotations

from pathlib import Path

import pytest

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"

pytestmark = pytest.mark.browser

AXE_PAGES = ["/", "/besoins/", "/besoins/ordinateurs-portables-dijon/", "/offres/parc-informatique-chenove/",
             "/exemples/compost-beaune/", "/organisations/atelier-numerique-dijon/",
             "/territoires/27-bourgogne-franche-comte/", "/territoires/27-bourgogne-franche-comte/21-cote-d-or/",
             "/soutiens/don-materiel/"]
# The search page's form is drawn by Pagefind's own UI: checked against the WCAG rules only (its
# input is named by a title attribute, which axe's best-practice rule label-title-only flags).
WCAG_ONLY_PAGES = ["/recherche/?q=ordinateurs"]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

FOCUSED = """() => {
  const el = document.activeElement;
  return el ? {tag: el.tagName.toLowerCase(), id: el.id || '', text: (el.innerText || el.value || '').trim(),
               href: el.getAttribute('href') || '', cls: el.className && el.className.baseVal === undefined
               ? el.className : ''} : null;
}"""


def test_tab_from_the_top_reaches_skip_link_search_and_calls_to_action(open_page):
    page, _ = open_page("/")
    page.keyboard.press("Tab")
    first = page.evaluate(FOCUSED)
    assert first["tag"] == "a" and first["href"].endswith("#contenu"), first
    assert page.is_visible("a.evitement"), "the skip link must become visible when focused"
    seen = [first]
    for _ in range(40):
        page.keyboard.press("Tab")
        seen.append(page.evaluate(FOCUSED))
    texts = [f["text"] for f in seen]
    assert any(f["id"] == "q-entete" for f in seen), "the search field is not reachable by keyboard"
    assert "Publier un besoin" in texts and "Proposer une offre" in texts, texts
    # the calls to action come before the map's hundred links
    assert texts.index("Publier un besoin") < 30


def test_skip_link_moves_focus_to_the_main_content(open_page):
    page, _ = open_page("/besoins/")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_function("() => location.hash === '#contenu'")
    assert page.evaluate("() => document.activeElement.id") == "contenu"
    page.keyboard.press("Tab")
    inside = page.evaluate("() => document.getElementById('contenu').contains(document.activeElement)")
    assert inside, "after the skip link, Tab should continue inside <main>"


def test_focus_is_visible(open_page):
    page, _ = open_page("/")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    style = page.evaluate("""() => {
      const s = getComputedStyle(document.activeElement);
      return {outline: s.outlineStyle, width: parseFloat(s.outlineWidth), shadow: s.boxShadow};
    }""")
    assert (style["outline"] != "none" and style["width"] > 0) or style["shadow"] != "none", style


@pytest.mark.parametrize("path", AXE_PAGES + WCAG_ONLY_PAGES)
def test_axe_reports_no_serious_or_critical_violation(open_page, path):
    assert AXE.is_file(), "npm ci --prefix tests/browser (axe-core) first"
    # axe-core is injected as a script: only this context bypasses the CSP, never the others.
    page, _ = open_page(path, bypass_csp=True)
    page.wait_for_load_state("networkidle")
    if path.startswith("/recherche/"):
        page.wait_for_selector("#resultats .resultat-titre a", timeout=10_000)
    page.add_script_tag(path=str(AXE))
    options = {"resultTypes": ["violations"]}
    if path in WCAG_ONLY_PAGES:
        options["runOnly"] = {"type": "tag", "values": WCAG_TAGS}
    result = page.evaluate("""async (options) => {
      const r = await axe.run(document, options);
      return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' — ' + n.failureSummary)}));
    }""", options)
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    assert bad == [], "\n".join(f"{v['impact']} {v['id']}: {v['help']}\n  " + "\n  ".join(v["nodes"]) for v in bad)
