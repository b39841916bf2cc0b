"""Build tests: the whole site built by Pelican from the fixture content in tests/fixtures/site/.

Pattern of the official Pelican plugins: ``read_settings(override=…)`` then
``Pelican(settings).run()`` into a temporary folder, then assertions on the files, parsed with
html.parser. The build date is fixed (2026-11-24), so the fixture need
``tables-fete-quartier-dijon`` (valable jusqu'au 2026-06-30) is expired.
"""
from __future__ import annotations

import gzip
import logging
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from pelican import Pelican
from pelican.settings import read_settings

from associe.build import build_site
from associe.problems import PipelineError
from associe.territories import load_geography

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "site"
SETTINGS = ROOT / "pelicanconf.py"
BUILD_DATE = "2026-11-24"
EXPIRED = "tables-fete-quartier-dijon"
LISTED = {
    "besoins": ["besoin-piege", "local-reunion-strasbourg", "ordinateurs-portables-dijon"],
    "offres": ["parc-informatique-chenove", "salle-reunion-strasbourg"],
    "exemples": ["banque-alimentaire-ibm", "cafe-sati-jardins-cocagne"],
    "organisations": ["atelier-numerique-dijon", "bureaux-strasbourg", "informatique-chenove",
                      "organisation-piegee", "recyclerie-strasbourg"],
}
EDITORIAL = ["a-propos", "charte", "mentions-legales", "donnees-personnelles"]


class ErrorRecords(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def pelican_build(output: Path, content: Path = FIXTURE, **override) -> list[logging.LogRecord]:
    """Build with Pelican's API; return the ERROR records logged (a build must log none)."""
    settings = read_settings(str(SETTINGS), override={
        "OUTPUT_PATH": str(output), "ASSOCIE_CONTENT_PATH": str(content), "ASSOCIE_BUILD_DATE": BUILD_DATE,
        **override})
    handler = ErrorRecords()
    logging.getLogger().addHandler(handler)
    try:
        Pelican(settings).run()
    finally:
        logging.getLogger().removeHandler(handler)
    return handler.records


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("site")
    errors = pelican_build(output)
    assert not errors, [r.getMessage() for r in errors]
    return output


@pytest.fixture(scope="session")
def settings_dict() -> dict:
    return read_settings(str(SETTINGS))


class Page(HTMLParser):
    """Elements (tag, attrs) in document order, the text, and the <head> children."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.text_parts: list[str] = []
        self.stack: list[str] = []
        self.texts_by_tag: dict[str, list[str]] = {}
        self.skip_text = 0

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self.skip_text += 1
        self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip_text = max(0, self.skip_text - 1)
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        if not self.skip_text:
            self.text_parts.append(data)
            if self.stack:
                self.texts_by_tag.setdefault(self.stack[-1], []).append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.text_parts).split())

    def all(self, tag: str) -> list[dict]:
        return [attrs for t, attrs in self.elements if t == tag]


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def html_files(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def page(site: Path, path: str) -> Page:
    return parse(site / path / "index.html")


# ------------------------------------------------------------------------------ pages exist
def test_a_page_for_every_listed_entry_and_every_listing(site):
    for folder, ids in LISTED.items():
        assert (site / folder / "index.html").exists(), folder
        for ident in ids:
            assert (site / folder / ident / "index.html").exists(), (folder, ident)
    for path in ["index.html", "recherche/index.html", "donnees/index.html", "territoires/index.html",
                 "mises-en-relation/index.html", *[f"{name}/index.html" for name in EDITORIAL]]:
        assert (site / path).exists(), path


def test_a_listing_for_every_vocabulary_value(site):
    from associe.vocabulary import load_vocabularies

    vocab = load_vocabularies()
    for name, folder in (("type_de_soutien", "soutiens"), ("categorie", "categories"), ("thematique", "thematiques")):
        for value in vocab[name]:
            assert (site / folder / value.replace("_", "-") / "index.html").exists(), (folder, value)
    don = page(site, "soutiens/don-materiel")
    hrefs = {a.get("href", "") for a in don.all("a")}
    assert any(h.endswith("besoins/ordinateurs-portables-dijon/") for h in hrefs)
    assert any(h.endswith("offres/parc-informatique-chenove/") for h in hrefs)
    assert not any(h.endswith("offres/salle-reunion-strasbourg/") for h in hrefs)


def test_every_region_and_every_departement_has_a_page(site):
    geo = load_geography()
    for code in geo.regions:
        path = site / "territoires" / geo.slug_region(code) / "index.html"
        assert path.exists(), code
        assert (site / "mises-en-relation" / geo.slug_region(code) / "index.html").exists(), code
    for code, dep in geo.departements.items():
        path = site / "territoires" / geo.slug_region(dep.region) / geo.slug_departement(code) / "index.html"
        assert path.exists(), code
        assert (site / "mises-en-relation" / geo.slug_region(dep.region) / geo.slug_departement(code)
                / "index.html").exists(), code
    assert len(geo.departements) >= 101 and len(geo.regions) >= 18


def test_empty_territory_says_so_and_invites_the_first_entry(site):
    cantal = page(site, "territoires/84-auvergne-rhone-alpes/15-cantal")
    assert "Aucune annonce ouverte pour l'instant dans ce département" in cantal.text
    hrefs = [a.get("href", "") for a in cantal.all("a")]
    assert any(h.endswith("contribuer/besoin/") for h in hrefs)
    assert any(h.endswith("contribuer/offre/") for h in hrefs)
    assert any(h.endswith("territoires/84-auvergne-rhone-alpes/") for h in hrefs), "link up to the région"


def test_departement_page_counts_and_links_up_and_down(site):
    cote_dor = page(site, "territoires/27-bourgogne-franche-comte/21-cote-d-or")
    hrefs = [a.get("href", "") for a in cote_dor.all("a")]
    assert "2 besoins ouverts" in cote_dor.text and "1 offre ouverte" in cote_dor.text
    assert any(h.endswith("communes/21231-dijon/") for h in hrefs)
    assert any(h.endswith("communes/21166-chenove/") for h in hrefs)
    assert any(h.endswith("territoires/27-bourgogne-franche-comte/") for h in hrefs)
    assert any(h.endswith("flux/departements/21-cote-d-or.xml") for h in
               [link.get("href", "") for link in cote_dor.all("link") if link.get("type") == "application/atom+xml"])
    region = page(site, "territoires/27-bourgogne-franche-comte")
    assert any(a.get("href", "").endswith("21-cote-d-or/") for a in region.all("a"))
    dijon = page(site, "communes/21231-dijon")
    assert "Ordinateurs portables pour nos ateliers" in dijon.text
    assert any(a.get("href", "").endswith("21-cote-d-or/") for a in dijon.all("a"))


def test_entry_page_shows_place_reach_dates_contact_and_suggestions(site):
    need = page(site, "besoins/ordinateurs-portables-dijon")
    text = need.text
    assert "Ordinateurs portables pour nos ateliers" in text
    assert "Dans un rayon de 20 km autour de Dijon" in text
    assert "1er octobre 2026" in text and "31 mars 2027" in text
    assert "Entrée fictive (démonstration)" in text
    assert "Mises en relation suggérées" in text and "Vingt ordinateurs portables reconditionnables" in text
    assert "à 4 km (Dijon → Chenôve)" in text
    assert "Ils l'ont fait" in text and "Des informaticiens bénévoles pour la Banque alimentaire" in text
    mailtos = [a["href"] for a in need.all("a") if a.get("href", "").startswith("mailto:")]
    assert mailtos and mailtos[0].startswith("mailto:contact@atelier-numerique-dijon.example?subject=")
    offer = page(site, "offres/parc-informatique-chenove")
    forms = [a for a in offer.all("a") if a.get("href") == "https://www.chenove-informatique.example/contact"]
    assert forms and forms[0]["rel"] == "nofollow ugc noopener noreferrer"


def test_contact_block_is_kept_out_of_the_search_index(site):
    html = (site / "besoins" / "ordinateurs-portables-dijon" / "index.html").read_text(encoding="utf-8")
    block = re.search(r'<section class="contact" data-pagefind-ignore="all".*?</section>', html, re.S)
    assert block and "contact@atelier-numerique-dijon.example" in block.group(0)
    assert html.count("contact@atelier-numerique-dijon.example") == html.count("contact@atelier-numerique-dijon"
                                                                               ".example", block.start(),
                                                                               block.end())


def test_pagefind_attributes_only_on_entry_pages(site):
    for path in html_files(site):
        rel = path.relative_to(site).as_posix()
        parsed = parse(path)
        body = [attrs for _, attrs in parsed.elements if "data-pagefind-body" in attrs]
        is_entry = re.fullmatch(r"(besoins|offres|exemples|organisations)/[^/]+/index\.html", rel)
        if is_entry and EXPIRED not in rel:
            assert len(body) == 1, rel
        else:
            assert not body, rel
    need = page(site, "besoins/ordinateurs-portables-dijon")
    filters = {attrs["data-pagefind-filter"] for _, attrs in need.elements if "data-pagefind-filter" in attrs}
    assert {"Type", "Type de soutien", "Catégorie", "Région", "Département", "Taille"} <= filters
    sorts = [attrs for _, attrs in need.elements if attrs.get("data-pagefind-sort") == "date[data-date]"]
    assert sorts and sorts[0]["data-date"] == "2026-10-01"
    assert any("data-pagefind-meta" in attrs for _, attrs in need.elements)


# ------------------------------------------------------------------------------ freshness
def test_expired_entry_is_gone_from_listings_and_its_page_says_so(site):
    for path in html_files(site):
        rel = path.relative_to(site).as_posix()
        if rel == f"besoins/{EXPIRED}/index.html":
            continue
        assert EXPIRED not in path.read_text(encoding="utf-8"), rel
    expired = page(site, f"besoins/{EXPIRED}")
    assert "Cette annonce a expiré le 30 juin 2026" in expired.text
    assert {"name": "robots", "content": "noindex"} in expired.all("meta")
    assert "Mises en relation suggérées" not in expired.text
    assert "Tables et chaises" not in page(site, "besoins").text


def test_listing_items_carry_the_filter_data(site):
    listing = page(site, "besoins")
    items = [attrs for tag, attrs in listing.elements if tag == "li" and "data-kind" in attrs]
    assert [i["data-kind"] for i in items] == ["besoin"] * 3
    dijon = next(i for i in items if i.get("data-thematiques") == "numerique insertion")
    assert dijon["data-type"] == "don_materiel" and dijon["data-categorie"] == "mecenat"
    assert dijon["data-region"] == "27" and dijon["data-departement"] == "21"
    assert dijon["data-statut"] == "ouvert" and dijon["data-taille"] == "employeuse"
    assert abs(float(dijon["data-lat"]) - 47.32) < 0.05 and abs(float(dijon["data-lon"]) - 5.04) < 0.05
    # without JavaScript: the filter form is hidden, the static pages are linked
    form = next(attrs for tag, attrs in listing.elements if tag == "form" and attrs.get("id") == "filtres")
    assert "hidden" in form
    hrefs = [a.get("href", "") for a in listing.all("a")]
    assert any(h.endswith("soutiens/don-materiel/") for h in hrefs)
    assert any(h.endswith("thematiques/economie-circulaire/") for h in hrefs)
    assert any(h.endswith("categories/mecenat/") for h in hrefs)
    assert [s["src"] for s in listing.all("script")] == ["../static/js/filtres.js"]


def test_suggestion_pages_list_pairs_by_territory(site):
    national = page(site, "mises-en-relation")
    assert "Ordinateurs portables pour nos ateliers" in national.text
    assert "Une salle pour nos réunions du mardi soir" in national.text
    grand_est = page(site, "mises-en-relation/44-grand-est")
    assert "Une salle pour nos réunions du mardi soir" in grand_est.text
    assert "Ordinateurs portables" not in grand_est.text
    assert "Aucune mise en relation suggérée" in page(site, "mises-en-relation/84-auvergne-rhone-alpes").text


def test_autocomplete_files_cover_the_official_geography(site):
    import json

    dijon = json.loads((site / "geo" / "communes-d.json").read_text(encoding="utf-8"))
    assert any(row[0] == "21231" and row[1] == "Dijon" for row in dijon)
    postcodes = json.loads((site / "geo" / "cp-21.json").read_text(encoding="utf-8"))
    assert any(row[0] == "21231" for row in postcodes)
    total = sum(len(json.loads(p.read_text(encoding="utf-8"))) for p in (site / "geo").glob("communes-*.json"))
    assert total == len(load_geography().communes)


# ------------------------------------------------------------------------------ home and map
def test_home_has_counters_map_latest_and_calls_to_action(site):
    home = parse(site / "index.html")
    text = home.text
    assert "Publier un besoin" in text and "Proposer une offre" in text
    assert "3 besoins ouverts" in text and "2 offres ouvertes" in text
    svg_links = [attrs for tag, attrs in home.elements if tag == "a" and "aria-label" in attrs]
    labels = {a["aria-label"] for a in svg_links}
    assert "Côte-d'Or : 3 annonces ouvertes" in labels
    assert "Cantal : 0 annonce ouverte" in labels
    assert "La Réunion : 0 annonce ouverte" in labels          # overseas tile
    paths = [attrs for tag, attrs in home.elements if tag == "path"]
    assert len(paths) == 96 and all(p.get("class", "").startswith("c") for p in paths)
    assert all("style" not in attrs for _, attrs in home.elements), "no inline style (CSP style-src 'self')"
    assert "Carte : Victor Cazanave, svg-maps, CC BY 4.0" in text
    assert "Données géographiques : INSEE (COG 2026), La Poste, DILA — Licence Ouverte 2.0" in text
    assert any(tag == "table" for tag, _ in home.elements), "text alternative of the map"


# ------------------------------------------------------------------------------ links and resources
def _links(parsed: Page):
    for tag, attrs in parsed.elements:
        for name in ("href", "src", "action"):
            if name in attrs and tag in ("a", "link", "script", "img", "form", "source", "iframe"):
                yield tag, name, attrs[name]


def test_every_internal_link_resolves(site):
    """Every internal href/src/action points to an existing file. Folders owned by later build
    steps are checked only when the step ran: pagefind/ (search index) and contribuer/ (forms)."""
    broken = _broken_links(site)
    assert not broken, "\n".join(broken[:30])


def _broken_links(site: Path) -> list[str]:
    optional = [prefix for prefix in ("pagefind/", "contribuer/") if not (site / prefix).exists()]
    broken = []
    for path in html_files(site):
        for tag, name, value in _links(parse(path)):
            parts = urlsplit(value)
            if parts.scheme or value.startswith("//") or not parts.path:
                continue
            target = (path.parent / unquote(parts.path)).resolve()
            rel = target.relative_to(site.resolve()).as_posix() if target.is_relative_to(site.resolve()) else None
            assert rel is not None, (path, value)
            if any(rel.startswith(prefix.rstrip("/")) for prefix in optional):
                continue
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{path.relative_to(site)} → {value}")
    return broken


# ------------------------------------------------------------------------------ paginated listings
PAGE_SIZE = 2   # tiny pages, so that the fixture's listings are cut


@pytest.fixture(scope="session")
def paged_site(tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("paged-site")
    errors = pelican_build(output, ASSOCIE_LISTING_PAGE_SIZE=PAGE_SIZE)
    assert not errors, [r.getMessage() for r in errors]
    return output


def _card_hrefs(parsed: Page) -> list[str]:
    """Entry links of the cards (``<li class="carte …">`` then its first link)."""
    hrefs, in_card = [], False
    for tag, attrs in parsed.elements:
        if tag == "li":
            in_card = "carte" in (attrs.get("class") or "").split()
        elif tag == "a" and in_card:
            hrefs.append(attrs["href"].rstrip("/").split("/")[-1])
            in_card = False
    return hrefs


def test_listings_are_paginated_with_prev_next_and_every_card_once(paged_site):
    for folder, ids in LISTED.items():
        first = page(paged_site, folder)
        count = -(-len(ids) // PAGE_SIZE)
        seen = []
        for number in range(1, count + 1):
            path = folder if number == 1 else f"{folder}/page/{number}"
            parsed = page(paged_site, path)
            cards = _card_hrefs(parsed)
            assert 0 < len(cards) <= PAGE_SIZE, (path, cards)
            seen += cards
            rels = {attrs.get("rel"): attrs.get("href") for tag, attrs in parsed.elements if tag == "link"}
            assert ("prev" in rels) == (number > 1) and ("next" in rels) == (number < count), (path, rels)
            navs = [attrs for tag, attrs in parsed.elements if tag == "nav" and attrs.get("class") == "pagination"]
            if count > 1:
                assert f"page {number} sur {count}" in parsed.text, path
                assert navs and navs[0].get("aria-label"), path
            else:
                assert not navs, path
        assert sorted(seen) == sorted(ids), folder
        assert not (paged_site / folder / "page" / str(count + 1)).exists()
        # the filter form names the JSON of every entry, for filters across all pages
        forms = [attrs for tag, attrs in first.elements if tag == "form" and attrs.get("id") == "filtres"]
        if count > 1:
            assert forms and forms[0].get("data-index", "").endswith(f"donnees/filtres-{folder}.json"), folder
        else:
            assert not forms or "data-index" not in forms[0], folder


def test_internal_links_resolve_on_paginated_pages(paged_site):
    broken = _broken_links(paged_site)
    assert not broken, "\n".join(broken[:30])


def test_filter_index_lists_every_entry_in_listing_order(paged_site, site):
    import json

    for folder, ids in LISTED.items():
        data = json.loads((paged_site / "donnees" / f"filtres-{folder}.json").read_text(encoding="utf-8"))
        columns = data["colonnes"]
        assert {"id", "titre", "url", "type", "categorie", "thematiques", "region", "departement", "statut",
                "taille", "lat", "lon", "date"} <= set(columns)
        rows = [dict(zip(columns, row)) for row in data["lignes"]]
        assert sorted(r["id"] for r in rows) == sorted(ids), folder
        assert all(r["url"] == f"{folder}/{r['id']}/" for r in rows)
        # same order as the pages, same entries as the unpaginated build
        order, number = _card_hrefs(page(paged_site, folder)), 2
        while (paged_site / folder / "page" / str(number)).exists():
            order += _card_hrefs(page(paged_site, f"{folder}/page/{number}"))
            number += 1
        assert [r["id"] for r in rows] == order, folder
    # an unpaginated listing does not ask for the JSON (its cards are all on the page)
    forms = [attrs for tag, attrs in page(site, "besoins").elements if tag == "form" and attrs.get("id") == "filtres"]
    assert forms and "data-index" not in forms[0]


def test_vocabulary_listing_paginated_keeps_group_totals(paged_site):
    parsed = page(paged_site, "soutiens/don-materiel")
    forms = [attrs for tag, attrs in parsed.elements if tag == "form" and attrs.get("id") == "filtres"]
    if not (paged_site / "soutiens" / "don-materiel" / "page" / "2").exists():
        pytest.skip("not enough don de matériel entries in the fixture to paginate")
    assert forms[0].get("data-champ") == "type_de_soutien" and forms[0].get("data-valeur") == "don_materiel"
    assert len(forms[0]["data-index"].split()) == 3


def test_content_security_policy_meta_right_after_charset_on_every_page(site, settings_dict):
    csp = settings_dict["ASSOCIE_CSP"]
    assert "'wasm-unsafe-eval'" in csp and "'unsafe-inline'" not in csp and "default-src 'none'" in csp
    for path in html_files(site):
        head = [(tag, attrs) for tag, attrs in parse(path).elements if tag in ("meta", "title", "link", "script")]
        assert head[0] == ("meta", {"charset": "utf-8"}), path
        assert head[1] == ("meta", {"http-equiv": "Content-Security-Policy", "content": csp}), path


def test_no_inline_script_or_style_and_no_external_resource(site):
    for path in html_files(site):
        html = path.read_text(encoding="utf-8")
        parsed = parse(path)
        for tag, name, value in _links(parsed):
            if tag in ("link", "script", "img", "source", "iframe"):
                assert not urlsplit(value).scheme and not value.startswith("//"), (path, value)
        for attrs in parsed.all("script"):
            assert attrs.get("src"), f"inline script in {path}"
        assert "<style" not in html, path
        assert all("style" not in attrs for _, attrs in parsed.elements), path
        assert all(not name.startswith("on") for _, attrs in parsed.elements for name in attrs), path
    css = (site / "static" / "css" / "site.css").read_text(encoding="utf-8")
    assert "@import" not in css and not re.search(r"url\(\s*['\"]?(https?:)?//", css)
    for name in ("filtres.js", "recherche.js"):   # the site's scripts fetch nothing from elsewhere
        assert not re.search(r"https?://", (site / "static" / "js" / name).read_text(encoding="utf-8")), name


# ------------------------------------------------------------------------------ untrusted content
def test_no_raw_html_from_content(site):
    """The fixture organisation and need carry <script>, <img onerror>, <iframe>, <svg onload>,
    javascript:/data: links in their name, title and Markdown: none becomes markup."""
    allowed_scripts = {"filtres.js", "recherche.js", "contribuer.js"}
    for path in html_files(site):
        parsed = parse(path)
        for tag, attrs in parsed.elements:
            assert tag not in ("img", "iframe", "object", "embed", "style", "base"), (path, tag)
            if tag == "svg":
                assert attrs.get("class") == "carte-svg", path
            if tag == "script":
                assert attrs["src"].rsplit("/", 1)[-1] in allowed_scripts, (path, attrs)
            for name, value in attrs.items():
                assert not name.startswith("on"), (path, tag, name)
                if name in ("href", "src", "action") and value:
                    scheme = urlsplit(value.strip()).scheme.lower()
                    assert scheme in ("", "https", "http", "mailto"), (path, value)
    need = page(site, "besoins/besoin-piege")
    assert need.texts_by_tag["h1"] == ["<img src=x onerror=alert(1)>"]
    assert "alert('description')" not in need.text        # <script> content dropped
    assert "Cliquez ici" in need.text                     # the link text stays, without its href
    org = page(site, "organisations/organisation-piegee")
    assert "<script>alert('nom')</script> Asso" in org.text
    listing = page(site, "besoins")
    assert "<img src=x onerror=alert(1)>" in listing.text


def test_external_links_carry_nofollow_ugc(site):
    for path in html_files(site):
        for attrs in parse(path).all("a"):
            href = attrs.get("href", "")
            if urlsplit(href).scheme in ("http", "https"):
                assert set("nofollow ugc noopener noreferrer".split()) <= set(attrs.get("rel", "").split()) \
                    or href.startswith("https://github.com/"), (path, href)


# ------------------------------------------------------------------------------ size budget
def test_entry_page_with_its_css_and_js_is_under_30_kb_gzipped(site):
    for folder, ident in (("besoins", "ordinateurs-portables-dijon"), ("offres", "parc-informatique-chenove")):
        path = site / folder / ident / "index.html"
        parsed = parse(path)
        files = [path]
        files += [(path.parent / link["href"]).resolve() for link in parsed.all("link")
                  if link.get("rel") == "stylesheet"]
        files += [(path.parent / script["src"]).resolve() for script in parsed.all("script")]
        total = sum(len(gzip.compress(f.read_bytes(), 9)) for f in files)
        assert total < 30 * 1024, (path, total)


# ------------------------------------------------------------------------------ accessibility basics
def test_pages_have_one_h1_landmarks_lang_and_skip_link(site):
    for path in html_files(site):
        parsed = parse(path)
        tags = [tag for tag, _ in parsed.elements]
        assert tags.count("h1") == 1, path
        assert tags.count("main") == 1 and "header" in tags and "footer" in tags and "nav" in tags, path
        assert parsed.elements[0] == ("html", {"lang": "fr"}), path
        first_link = parsed.all("a")[0]
        assert first_link.get("href") == "#contenu", path
    listing = page(site, "besoins")
    ids = {attrs.get("id") for _, attrs in listing.elements}
    for attrs in listing.all("label"):
        assert attrs.get("for") in ids, attrs


# ------------------------------------------------------------------------------ determinism
def test_two_builds_of_the_same_content_on_the_same_date_are_byte_identical(site, tmp_path):
    again = tmp_path / "again"
    assert not pelican_build(again)
    first = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    second = sorted(p.relative_to(again).as_posix() for p in again.rglob("*") if p.is_file())
    assert first == second
    different = [rel for rel in first if (site / rel).read_bytes() != (again / rel).read_bytes()]
    assert not different, different[:10]


def test_rendering_in_one_or_two_processes_writes_the_same_site(site, tmp_path):
    single = tmp_path / "single"
    assert not pelican_build(single, ASSOCIE_RENDER_WORKERS=1)
    files = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    assert len(files) > 200  # enough pages for the default build to have forked
    assert files == sorted(p.relative_to(single).as_posix() for p in single.rglob("*") if p.is_file())
    assert all((site / rel).read_bytes() == (single / rel).read_bytes() for rel in files)


def test_no_clock_in_templates_or_renderer():
    sources = [*(ROOT / "theme" / "templates").glob("*.html"), ROOT / "plugins" / "associe" / "rendering.py"]
    for source in sources:
        text = source.read_text(encoding="utf-8")
        assert not re.search(r"\bnow\(|utcnow\(|time\.time\(", text), source
        assert "today()" not in text or source.name == "rendering.py"


# ------------------------------------------------------------------------------ failures
def _broken_copy(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    shutil.copytree(FIXTURE, content)
    (content / "besoins" / "casse.yaml").write_text(
        "identifiant: casse\n"
        "titre: Une annonce cassée\n"
        "organisation: atelier-numerique-dijon\n"
        "type_de_soutien: don_materiel\n"
        "categorie: mecenat\n"
        "objet: informatique\n"
        "thematiques: [numerique]\n"
        "description: Une description assez longue pour le schéma.\n"
        "territoire:\n"
        "  commune: \"99999\"\n"
        "  portee: commune\n"
        "date_publication: \"2026-10-01\"\n"
        "valable_jusqu_au: \"2027-02-30\"\n"
        "statut: ouvert\n", encoding="utf-8")
    return content


def test_broken_content_makes_build_site_fail_with_file_and_line(tmp_path, capsys):
    content = _broken_copy(tmp_path)
    status = build_site(tmp_path / "out", build_date=__import__("datetime").date(2026, 11, 24), content=content,
                        search_index=False)
    captured = capsys.readouterr()
    printed = captured.out + captured.err
    assert status == 1
    assert re.search(r"casse\.yaml:10:\d+: territoire\.commune : ", printed), printed
    assert re.search(r"casse\.yaml:13:\d+: valable_jusqu_au", printed), printed
    assert "Site construit" not in printed


def test_broken_content_makes_the_pelican_run_raise(tmp_path):
    content = _broken_copy(tmp_path)
    with pytest.raises(PipelineError) as raised:
        pelican_build(tmp_path / "out", content=content)
    assert len(raised.value.problems) >= 2


def test_build_site_succeeds_and_reports(tmp_path, capsys):
    import datetime as dt

    status = build_site(tmp_path / "out", build_date=dt.date(2026, 11, 24), content=FIXTURE, search_index=False)
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert "3 besoins, 2 offres, 2 exemples, 5 organisations publiés, 1 annonce(s) expirée(s)" in printed


def test_a_template_error_fails_build_site(tmp_path, capsys):
    """An error that is not an entry problem (here a broken theme) still ends in status 1."""
    import datetime as dt

    theme = tmp_path / "theme"
    shutil.copytree(ROOT / "theme", theme)
    (theme / "templates" / "home.html").write_text("{% extends 'base.html' %}{% block content %}{{ nope.x }}"
                                                     "{% endblock %}", encoding="utf-8")
    status = build_site(tmp_path / "out", build_date=dt.date(2026, 11, 24), content=FIXTURE, search_index=False,
                        extra_settings={"THEME": str(theme)})
    assert status == 1
    assert "home.html" in capsys.readouterr().err


def test_settings_are_safe():
    settings = read_settings(str(SETTINGS))
    assert settings["JINJA_ENVIRONMENT"]["autoescape"] is True
    assert settings["PLUGINS"] == ["associe"]
    assert settings["ARTICLE_PATHS"] == []
    assert settings["DEFAULT_LANG"] == "fr"
    assert not settings["DIRECT_TEMPLATES"]
    assert settings["FEED_ALL_ATOM"] is None and settings["CATEGORY_FEED_ATOM"] is None


def test_without_fictitious_entries_only_real_examples_remain(tmp_path):
    output = tmp_path / "reel"
    assert not pelican_build(output, ASSOCIE_INCLUDE_FICTITIOUS=False)
    assert not (output / "besoins" / "ordinateurs-portables-dijon").exists()
    assert (output / "exemples" / "cafe-sati-jardins-cocagne" / "index.html").exists()
    assert "Aucune annonce ouverte" in page(output, "territoires/27-bourgogne-franche-comte/21-cote-d-or").text


def test_exports_hook_writes_feeds_when_the_module_exists(site):
    pytest.importorskip("associe.exports")
    assert (site / "flux" / "besoins.xml").exists()
    assert (site / "flux" / "departements" / "21-cote-d-or.xml").exists()


def test_build_site_writes_the_exports_in_another_process_and_waits_for_them(tmp_path, monkeypatch, capsys):
    import os

    from associe import exports

    original, seen = exports.write_exports, tmp_path / "exports-pid"

    def recording(*args, **kwargs):
        original(*args, **kwargs)
        seen.write_text(str(os.getpid()))       # written last: the build must have waited for it

    monkeypatch.setattr(exports, "write_exports", recording)
    status = build_site(tmp_path / "out", build_date=__import__("datetime").date(2026, 11, 24), content=FIXTURE,
                        search_index=False)
    assert status == 0, capsys.readouterr()
    assert int(seen.read_text()) != os.getpid()
    assert (tmp_path / "out" / "sitemap.xml").is_file() and (tmp_path / "out" / "donnees" / "annuaire.json").is_file()
    assert "Site construit" in capsys.readouterr().out


def test_exports_failing_in_their_process_fail_the_build(tmp_path, monkeypatch, capfd):
    from associe import exports

    def broken(*_args, **_kwargs):
        raise OSError("disque plein")

    monkeypatch.setattr(exports, "write_exports", broken)
    status = build_site(tmp_path / "out", build_date=__import__("datetime").date(2026, 11, 24), content=FIXTURE,
                        search_index=False)
    printed = capfd.readouterr()
    assert status == 1
    assert "disque plein" in printed.err and "flux et des exports a échoué" in printed.err
    assert "Site construit" not in printed.out


def test_entry_pages_processes_hand_their_cards_and_texts_to_the_next_pages(tmp_path, monkeypatch):
    """With hundreds of entry pages, they are rendered by forked processes that hand back the cards
    they rendered and their Markdown conversions; the listings and meeting kits rendered afterwards
    use them, and the site is the one a single process writes."""
    import subprocess
    import sys

    from associe import markdown_safe
    from associe.rendering import AssocieGenerator

    content = tmp_path / "content"
    subprocess.run([sys.executable, str(ROOT / "bench" / "synthetic.py"), "--out", str(content), "--seed", "5",
                    "--date", BUILD_DATE, "--needs", "240", "--offers", "240", "--organisations", "90",
                    "--examples", "20"], check=True, stdout=subprocess.DEVNULL)
    taken: list[int] = []
    missing: list[tuple] = []
    original = AssocieGenerator._take_cards

    def take(self, folder):
        before = len(self.model._cards)
        original(self, folder)
        taken.append(len(self.model._cards) - before)
        # every listed entry's card is there before the listings are rendered
        missing.extend(key for key in self.model.listed_ids if (*key, 3) not in self.model._cards)

    monkeypatch.setattr(AssocieGenerator, "_take_cards", take)
    loaded: list[int] = []
    load = markdown_safe.load_converted
    monkeypatch.setattr(markdown_safe, "load_converted", lambda folder: loaded.append(load(folder)) or loaded[-1])
    two, one = tmp_path / "two", tmp_path / "one"
    assert not pelican_build(two, content, ASSOCIE_RENDER_WORKERS=2)
    assert len(taken) == 1 and taken[0] > 50 and not missing   # the forked process's cards, then all of them
    assert len(loaded) == 1 and loaded[0] > 200                # its descriptions, converted there
    assert not pelican_build(one, content, ASSOCIE_RENDER_WORKERS=1)
    files = sorted(p.relative_to(two).as_posix() for p in two.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(one).as_posix() for p in one.rglob("*") if p.is_file())
    different = [rel for rel in files if (two / rel).read_bytes() != (one / rel).read_bytes()]
    assert not different, different[:10]


def test_a_build_leaves_no_object_frozen_for_the_garbage_collector(tmp_path):
    """The corpus is frozen (``gc.freeze``) while the pages are rendered, then given back to the
    collector: a process that builds many sites (the tests, a server) must not keep them forever."""
    import gc

    assert gc.get_freeze_count() == 0
    assert not pelican_build(tmp_path / "site")
    assert gc.get_freeze_count() == 0
