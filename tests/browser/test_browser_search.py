"""Search (our recherche.js on Pagefind's JS API, /recherche/) in real Chromium: French stemming and accent folding,
the header's search box, and the bytes a one-word search costs."""
from __future__ import annotations

import gzip
import re

import pytest

pytestmark = pytest.mark.browser

RESULT_LINK = "#resultats .resultat-titre a"
SEARCH_INPUT = "#q-recherche"
KNOWN_TITLE = "Ordinateurs portables pour nos ateliers"


def search(page, words: str):
    page.wait_for_selector(SEARCH_INPUT)
    page.fill(SEARCH_INPUT, words)
    page.wait_for_selector(RESULT_LINK, timeout=10_000)
    page.wait_for_load_state("networkidle")
    return [link.inner_text().strip() for link in page.query_selector_all(RESULT_LINK)]


def test_search_folds_accents_and_plurals(open_page):
    # the need says « un petit électroménager » (accents, singular): search without accents, plural
    page, log = open_page("/recherche/")
    titles = search(page, "electromenagers")
    assert KNOWN_TITLE in titles
    # « imprimante » in the text, « imprimantes » typed
    titles = search(page, "imprimantes")
    assert titles == [KNOWN_TITLE]
    assert not log.page_errors, log.page_errors


def pagefind_count(page, words: str) -> int:
    """Number of results of Pagefind's own JS API (the module the UI uses) for ``words``, over the
    main bundle and the lots it lists (merged as recherche.js does)."""
    return page.evaluate("""async (words) => {
      const base = new URL('../pagefind/', location.href).href;
      const pagefind = await import(base + 'pagefind.js');
      await pagefind.options({bundlePath: base});
      const lots = (await (await fetch(base + 'associe-lots.json')).json()).lots.map((lot) => lot.nom);
      await Promise.all(lots.map((nom) => pagefind.mergeIndex(base + nom + '/', {mergeFilter: {lot: nom}})));
      const search = await pagefind.search(words);
      return search.results.length;
    }""", words)


def test_search_does_not_find_expired_entries(open_page):
    page, log = open_page("/recherche/")
    assert pagefind_count(page, "ordinateurs") >= 2                       # the API works on this page
    # words only found in the two expired entries (contacts: see tests/test_search_index.py, which
    # reads the index files themselves; a search for an address matches its words one by one)
    for words in ("frigorifique", "cathodiques", "frigorifiques"):
        assert pagefind_count(page, words) == 0, words
    assert not log.page_errors, log.page_errors


def test_header_search_box_leads_to_results(open_page):
    page, _ = open_page("/")
    page.fill("#q-entete", "jardinage")
    page.press("#q-entete", "Enter")
    page.wait_for_url("**/recherche/?q=jardinage")
    page.wait_for_selector(RESULT_LINK, timeout=10_000)
    titles = [link.inner_text().strip() for link in page.query_selector_all(RESULT_LINK)]
    assert "Outils de jardinage pour un jardin partagé" in titles


def test_result_links_lead_to_the_entry_page(open_page, site):
    page, _ = open_page("/recherche/")
    search(page, "imprimante")
    page.click(RESULT_LINK)
    page.wait_for_load_state("load")
    assert page.url == site.url("/besoins/ordinateurs-portables-dijon/")
    assert page.inner_text("h1") == KNOWN_TITLE


def transferred_bytes(response) -> tuple[int, int]:
    """(bytes as served by this test server, bytes a gzip-serving host like GitHub Pages sends)."""
    try:
        body = response.body()
    except Exception:  # noqa: BLE001 - redirects and aborted requests carry no body
        return 0, 0
    content_type = (response.headers.get("content-type") or "").split(";")[0]
    textual = content_type.startswith("text/") or content_type in (
        "application/javascript", "application/json", "image/svg+xml", "application/xml")
    return len(body), len(gzip.compress(body, 6)) if textual else len(body)


def test_a_one_word_search_transfers_under_250_kb(open_page):
    """Bytes a host that compresses text (GitHub Pages gzips HTML, CSS, JS, JSON) sends for the
    search page and one word searched; Pagefind's index files are gzip already, counted as is."""
    page, log = open_page("/recherche/")
    search(page, "ordinateurs")
    sizes = [transferred_bytes(r) for r in log.responses]
    raw = sum(s[0] for s in sizes)
    compressed = sum(s[1] for s in sizes)
    detail = "\n".join(f"{r.url} {s[0]} B raw, {s[1]} B sent" for r, s in zip(log.responses, sizes))
    # the search page with its CSS and JS, Pagefind's UI, WebAssembly, index and the fragments shown
    assert any(re.search(r"/pagefind/[a-z0-9-]+/fragment/", r.url) for r in log.responses)
    assert compressed < 250 * 1024, f"{compressed} B transferred ({raw} B before compression):\n{detail}"


def test_an_entry_page_with_its_css_and_js_is_under_30_kb_compressed(open_page):
    page, log = open_page("/besoins/ordinateurs-portables-dijon/")
    page.wait_for_load_state("networkidle")
    counted = [r for r in log.responses if r.request.resource_type in ("document", "stylesheet", "script")]
    assert any(r.request.resource_type == "document" for r in counted)
    total = sum(transferred_bytes(r)[1] for r in counted)
    detail = "\n".join(f"{r.url} {transferred_bytes(r)[1]} B" for r in counted)
    assert total < 30 * 1024, f"{total} B compressed:\n{detail}"


def test_filters_load_only_when_the_panel_opens_and_narrow_the_results(open_page):
    page, log = open_page("/recherche/?q=ordinateurs")
    page.wait_for_selector(RESULT_LINK, timeout=10_000)
    page.wait_for_load_state("networkidle")
    # a plain search loads no filter file: they are fetched only when the visitor opens the panel
    assert not any("/pagefind/filter/" in r.url for r in log.responses)
    assert page.input_value(SEARCH_INPUT) == "ordinateurs"          # the query came from the URL
    everything = len(page.query_selector_all(RESULT_LINK))
    page.click("#recherche-filtres summary")
    page.wait_for_selector("#filtre-type option[value='Offre']", state="attached", timeout=10_000)
    page.select_option("#filtre-type", "Offre")
    page.wait_for_function("() => location.search.includes('type=Offre')")
    page.wait_for_selector("#resultats .resultat.carte-offre", timeout=10_000)
    page.wait_for_load_state("networkidle")
    kinds = page.eval_on_selector_all("#resultats .resultat", "els => els.map(e => e.className)")
    assert kinds and all("carte-offre" in k for k in kinds), kinds
    assert len(kinds) < everything
    # the filtered view can be shared: opening its URL shows the same results, the panel open
    page2, _ = open_page("/recherche/?q=ordinateurs&type=Offre&tri=date")
    page2.wait_for_selector(RESULT_LINK, timeout=10_000)
    page2.wait_for_load_state("networkidle")
    assert page2.eval_on_selector("#recherche-filtres", "d => d.open")
    assert page2.input_value("#tri-recherche") == "date"
    assert len(page2.query_selector_all(RESULT_LINK)) == len(kinds)
    assert not log.page_errors, log.page_errors


def test_excerpts_keep_only_text_and_marks(open_page):
    page, _ = open_page("/recherche/?q=ordinateurs")
    page.wait_for_selector("#resultats .resultat-extrait mark", timeout=10_000)
    tags = page.eval_on_selector_all("#resultats .resultat-extrait *", "els => els.map(e => e.tagName)")
    assert set(tags) == {"MARK"}, tags


def result_paths(page) -> list[str]:
    return page.eval_on_selector_all(RESULT_LINK, "links => links.map((a) => new URL(a.href).pathname)")


def test_newest_first_merges_the_lots_by_date(open_page, site):
    """Each kind is a Pagefind bundle of its own, sorted on its own: the page merges them by date."""
    page, log = open_page("/recherche/?q=ordinateurs&tri=date")
    page.wait_for_selector(RESULT_LINK, timeout=10_000)
    page.wait_for_load_state("networkidle")
    paths = result_paths(page)
    kinds = {path.split("/")[1] for path in paths}
    assert {"besoins", "offres"} <= kinds, paths                  # several lots in one list
    dates = []
    for path in paths:
        html = (site.root / path.strip("/") / "index.html").read_text(encoding="utf-8")
        tag = re.search(r'<[^>]*data-pagefind-sort="date\[data-date\]"[^>]*>', html)
        assert tag, path
        dates.append(re.search(r'data-date="([0-9-]+)"', tag.group(0)).group(1))
    assert dates == sorted(dates, reverse=True), list(zip(dates, paths))
    assert any("/pagefind/besoins/" in r.url for r in log.responses)
    assert not log.page_errors, log.page_errors


def test_a_lot_without_the_word_adds_no_prefix_matches(open_page):
    """« arrosoirs » is in one need only. Pagefind answers a bundle without a word starting with
    it by the longest word of that bundle it starts with (« arros… », « ar… »): the offers' and
    organisations' lots would add 6 unrelated results; the page leaves such lots out, as one
    index for the whole site would."""
    page, log = open_page("/recherche/?q=arrosoirs")
    page.wait_for_selector("#resultats .resultat-extrait", timeout=10_000)
    page.wait_for_load_state("networkidle")
    assert page.inner_text("#recherche-etat") == "1 résultat."
    assert result_paths(page) == ["/besoins/outils-jardin-beaune/"]
    marks = page.eval_on_selector_all("#resultats mark", "marks => marks.map((m) => m.textContent.toLowerCase())")
    assert marks and all(m.startswith("arrosoir") for m in marks), marks
    assert not log.page_errors, log.page_errors
