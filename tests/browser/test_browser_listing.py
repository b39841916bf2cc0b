"""Listings in real Chromium: instant filters reflected in the URL, « près de chez moi »
ordering by distance, and the map's links to the département pages."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.browser

NEEDS = {"ordinateurs-portables-dijon", "outils-jardin-beaune", "bacs-potagers-brest"}


def visible_ids(page) -> list[str]:
    """Ids of the visible cards of the filterable lists, in their on-screen order."""
    return page.eval_on_selector_all(
        "[data-filtrable] > li",
        "items => items.filter(li => !li.hidden && li.offsetParent !== null)"
        ".map(li => li.querySelector('a').getAttribute('href').replace(/\\/$/, '').split('/').pop())")


# The browser site is built with 2 cards per listing page (conftest.LISTING_PAGE_SIZE): /besoins/
# shows the two newest needs, /besoins/page/2/ the third (bacs-potagers-brest).
PAGE_1 = ["ordinateurs-portables-dijon", "outils-jardin-beaune"]


def test_listing_pages_together_are_complete_before_any_filter(open_page):
    page, _ = open_page("/besoins/")
    page.wait_for_selector("#filtres:not([hidden])")
    assert visible_ids(page) == PAGE_1
    assert page.get_attribute("link[rel=next]", "href").endswith("/besoins/page/2/")
    page.click(".pagination a[rel=next]")
    page.wait_for_url("**/besoins/page/2/")
    page.wait_for_selector("#filtres:not([hidden])")
    assert visible_ids(page) == ["bacs-potagers-brest"]
    assert page.get_attribute("link[rel=prev]", "href").endswith("/besoins/")
    assert page.get_attribute(".pagination [aria-current=page]", "href").endswith("/besoins/page/2/")


def test_a_filter_finds_an_entry_of_another_page(open_page):
    """Filtering page 1 fetches donnees/filtres-besoins.json (only then) and shows the match of page 2."""
    page, log = open_page("/besoins/")
    page.wait_for_selector("#filtres:not([hidden])")
    page.wait_for_load_state("networkidle")
    assert not any("filtres-besoins.json" in r.url for r in log.responses)
    page.select_option("#f-departement", "29")
    page.wait_for_function("() => location.search.includes('departement=29')")
    assert visible_ids(page) == ["bacs-potagers-brest"]
    assert any("filtres-besoins.json" in r.url for r in log.responses)
    assert page.eval_on_selector(".pagination", "n => n.hidden")      # the page links would mislead
    page.click("[data-filtrable] > li a")
    page.wait_for_url("**/besoins/bacs-potagers-brest/")
    assert not log.page_errors, log.page_errors


def test_a_filter_narrows_the_listing_and_lives_in_the_url(open_page, site):
    page, log = open_page("/besoins/")
    page.wait_for_selector("#filtres:not([hidden])")
    page.select_option("#f-region", "53")                       # Bretagne
    page.wait_for_function("() => location.search.includes('region=53')")
    assert visible_ids(page) == ["bacs-potagers-brest"]
    assert parse_qs(urlsplit(page.url).query) == {"region": ["53"]}
    assert "1 sur 3" in page.inner_text("#filtres-resultat")
    page.reload(wait_until="load")
    page.wait_for_selector("#filtres:not([hidden])")
    assert page.input_value("#f-region") == "53"
    assert visible_ids(page) == ["bacs-potagers-brest"]
    # a second filter combines with the first; clearing brings everything back
    page.select_option("#f-region", "27")
    page.wait_for_function("() => location.search.includes('region=27')")
    assert set(visible_ids(page)) == {"ordinateurs-portables-dijon", "outils-jardin-beaune"}
    page.click("button[type=reset]")
    page.wait_for_function("() => location.search === ''")
    assert visible_ids(page) == PAGE_1                          # back to the page as built
    assert not page.eval_on_selector(".pagination", "n => n.hidden")
    # a shared link opens the filtered view directly
    page.goto(site.url("/besoins/?departement=29"), wait_until="load")
    page.wait_for_selector("#filtres:not([hidden])")
    assert visible_ids(page) == ["bacs-potagers-brest"]
    assert not log.page_errors, log.page_errors


def choose_commune(page, typed: str, label: str) -> None:
    page.fill("#f-commune", typed)
    page.wait_for_function(
        "label => Array.from(document.querySelectorAll('#f-communes option')).some(o => o.value === label)",
        arg=label, timeout=10_000)
    page.fill("#f-commune", label)                              # picking the proposal from the list
    page.wait_for_function("() => new URLSearchParams(location.search).has('commune')")


def test_pres_de_chez_moi_orders_by_distance(open_page):
    page, log = open_page("/besoins/")
    page.wait_for_selector("#filtres:not([hidden])")
    # default order: newest first (Dijon, Beaune on page 1, Brest on page 2)
    assert visible_ids(page) == PAGE_1
    choose_commune(page, "Beaune", "Beaune (21)")
    assert visible_ids(page) == ["outils-jardin-beaune", "ordinateurs-portables-dijon", "bacs-potagers-brest"]
    distances = page.eval_on_selector_all(
        "[data-filtrable] > li:not([hidden])", "items => items.map(li => parseFloat(li.dataset.distance))")
    assert distances == sorted(distances) and distances[0] < 1 and 30 < distances[1] < 45
    assert "triées par distance de Beaune" in page.inner_text("#filtres-resultat")
    assert parse_qs(urlsplit(page.url).query)["commune"] == ["21054-beaune"]
    # a radius keeps only what is near
    page.select_option("#f-rayon", "50")
    page.wait_for_function("() => location.search.includes('rayon=50')")
    assert visible_ids(page) == ["outils-jardin-beaune", "ordinateurs-portables-dijon"]
    # from the other end of France, the order turns round
    page.select_option("#f-rayon", "")
    choose_commune(page, "Brest", "Brest (29)")
    page.wait_for_function("() => location.search.includes('commune=29019')")
    assert visible_ids(page)[0] == "bacs-potagers-brest"
    # reload keeps commune and order
    page.reload(wait_until="load")
    page.wait_for_function("() => document.querySelector('#f-commune').value === 'Brest (29)'")
    # the entries of every page come from donnees/filtres-besoins.json, fetched after the reload
    page.wait_for_function("() => /triées par distance/.test(document.querySelector('#filtres-resultat').textContent)")
    assert visible_ids(page)[0] == "bacs-potagers-brest"
    assert not log.page_errors, log.page_errors


def test_map_links_go_to_the_departement_page(open_page, site):
    page, _ = open_page("/")
    link = page.locator(".carte-svg a[aria-label^=\"Côte-d'Or\"]")
    assert link.count() == 1
    href = link.get_attribute("href")
    assert href.rstrip("/").endswith("territoires/27-bourgogne-franche-comte/21-cote-d-or")
    assert "annonces ouvertes" in link.get_attribute("aria-label")
    link.click()
    page.wait_for_load_state("load")
    assert page.url == site.url("/territoires/27-bourgogne-franche-comte/21-cote-d-or/")
    assert "Côte-d'Or" in page.inner_text("h1")
    # every département of the map and of the overseas tiles links to an existing page
    page.goto(site.url("/"), wait_until="load")
    paths = page.eval_on_selector_all(
        ".carte-svg a, .outre-mer a",
        "links => links.map(a => new URL(a.getAttribute('href'), document.baseURI).pathname)")
    assert len(paths) >= 101
    for path in paths:
        assert (site.root / path.lstrip("/") / "index.html").is_file(), path


def test_a_filter_on_a_paginated_vocabulary_page_covers_all_its_pages(open_page):
    """/soutiens/don-materiel/ page 1 shows two needs; Bretagne's need and offer are on page 2.
    The filter draws on the three JSON files, restricted to « don de matériel »."""
    page, log = open_page("/soutiens/don-materiel/")
    page.wait_for_selector("#filtres:not([hidden])")
    page.select_option("#f-region", "53")
    page.wait_for_function("() => location.search.includes('region=53')")
    page.wait_for_function("() => /sur/.test(document.querySelector('#filtres-resultat').textContent)")
    assert set(visible_ids(page)) == {"bacs-potagers-brest", "chutes-bois-brest"}
    assert "2 sur 5" in page.inner_text("#filtres-resultat")      # 3 needs + 2 offers of this type
    assert not log.page_errors, log.page_errors
