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


def test_listing_is_complete_before_any_filter(open_page):
    page, _ = open_page("/besoins/")
    page.wait_for_selector("#filtres:not([hidden])")
    assert set(visible_ids(page)) == NEEDS


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
    assert set(visible_ids(page)) == NEEDS
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
    # default order: newest first (Dijon, Beaune, Brest)
    assert visible_ids(page) == ["ordinateurs-portables-dijon", "outils-jardin-beaune", "bacs-potagers-brest"]
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
