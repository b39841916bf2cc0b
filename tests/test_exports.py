"""Feeds, open data, schemas and sitemap (``associe.exports``) on a small fixture directory.

The fixture (tests/fixtures/exports/) has 4 organisations, 4 needs (one expired), 3 offers (one
expired) and 2 examples, in Dijon, Chenôve, Beaune (Côte-d'Or) and Brest (Finistère). The build
date is fixed; the HTML pages the sitemap walks are stand-ins written by the test."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from associe import exports
from associe.paths import SCHEMAS_DIR
from associe.pipeline import run_pipeline

FIXTURE = Path(__file__).parent / "fixtures" / "exports"
BUILD_DATE = dt.date(2026, 11, 20)
SETTINGS = {"SITEURL": "https://associe.example", "SITENAME": "Asso'cie"}
ATOM = "{http://www.w3.org/2005/Atom}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
EXPIRED = {"entrepot-frigorifique-dijon", "ecrans-cathodiques-chenove"}
CONTACT_EMAILS = {"contact@atelier-numerique-dijon.example", "contact@jardins-beaune.example",
                  "partenariats@menuiserie-rade.example"}


def fake_pages(site_data, out: Path) -> None:
    """Stand-ins for the pages the site generator writes (every entry, expired ones included)."""
    pages = ["index.html", "404.html", "besoins/index.html", "offres/index.html", "exemples/index.html",
             "organisations/index.html", "recherche/index.html", "a-propos/index.html",
             "territoires/index.html", "territoires/27-bourgogne-franche-comte/index.html",
             "territoires/27-bourgogne-franche-comte/21-cote-d-or/index.html",
             "territoires/01-guadeloupe/971-guadeloupe/index.html", "pagefind/playground/index.html"]
    pages += [f"{exports.FOLDER_OF_KIND[e.kind]}/{e.id}/index.html" for e in site_data.corpus.all()]
    for page in pages:
        path = out / page
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("<!doctype html><title>x</title>\n", encoding="utf-8")


def build(out: Path, settings=SETTINGS):
    site_data = run_pipeline(FIXTURE, BUILD_DATE)
    fake_pages(site_data, out)
    exports.write_exports(site_data, out, settings)
    return site_data


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("exports")
    return build(out), out


def feed_entries(path: Path) -> list[ET.Element]:
    root = ET.parse(path).getroot()
    assert root.tag == f"{ATOM}feed"
    return root.findall(f"{ATOM}entry")


def entry_ids(path: Path) -> list[str]:
    return [e.findtext(f"{ATOM}id").rsplit("/", 1)[1] for e in feed_entries(path)]


def all_files(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*") if p.is_file() and not p.name.endswith(".html"))


# ------------------------------------------------------------------------------ fixture sanity
def test_fixture_has_listed_and_expired_entries(site):
    site_data, _ = site
    assert {e.id for e in site_data.expired} == EXPIRED
    assert len(site_data.listed["besoin"]) == 3 and len(site_data.listed["offre"]) == 2


# ------------------------------------------------------------------------------ feeds
def test_kind_feeds_list_listed_entries_newest_first(site):
    _, out = site
    assert entry_ids(out / "flux/besoins.xml") == ["ordinateurs-portables-dijon", "outils-jardin-beaune",
                                                    "bacs-potagers-brest"]
    assert entry_ids(out / "flux/offres.xml") == ["chutes-bois-brest", "parc-informatique-chenove"]
    # examples have no publication date: the source's date, else 1 January of the first year
    assert entry_ids(out / "flux/exemples.xml") == ["compost-beaune", "banque-alimentaire-ibm"]


def test_feed_entry_carries_stable_id_absolute_link_and_dates_from_the_data(site):
    _, out = site
    root = ET.parse(out / "flux/offres.xml").getroot()
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr"
    assert root.findtext(f"{ATOM}id") == "tag:associe.example,2026:flux/offres.xml"
    assert root.findtext(f"{ATOM}updated") == "2026-11-02T00:00:00Z"     # newest derniere_confirmation
    self_link = [l.get("href") for l in root.findall(f"{ATOM}link") if l.get("rel") == "self"]
    assert self_link == ["https://associe.example/flux/offres.xml"]
    entry = next(e for e in root.findall(f"{ATOM}entry") if e.findtext(f"{ATOM}id").endswith("parc-informatique-chenove"))
    assert entry.findtext(f"{ATOM}id") == "tag:associe.example,2026:offres/parc-informatique-chenove"
    assert entry.find(f"{ATOM}link").get("href") == "https://associe.example/offres/parc-informatique-chenove/"
    assert entry.findtext(f"{ATOM}published") == "2026-09-15T00:00:00Z"
    assert entry.findtext(f"{ATOM}updated") == "2026-11-02T00:00:00Z"
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "Chenôve Informatique Services"
    assert {c.get("label") for c in entry.findall(f"{ATOM}category")} >= {"Offre", "Don de matériel"}
    summary = entry.find(f"{ATOM}summary")
    assert summary.get("type") == "text"
    assert "Chenôve (21)" in summary.text and "15 septembre 2027" in summary.text
    assert "**" not in "".join(e.findtext(f"{ATOM}summary") for e in feed_entries(out / "flux/besoins.xml"))


def test_a_feed_exists_for_every_departement_and_region_even_empty(site):
    site_data, out = site
    geo = site_data.geography
    departement_feeds = sorted(p.name for p in (out / "flux/departements").glob("*.xml"))
    assert departement_feeds == sorted(f"{geo.slug_departement(c)}.xml" for c in geo.departements)
    assert len(departement_feeds) == len(geo.departements) >= 101
    region_feeds = sorted(p.name for p in (out / "flux/regions").glob("*.xml"))
    assert region_feeds == sorted(f"{geo.slug_region(c)}.xml" for c in geo.regions)
    for path in list((out / "flux").rglob("*.xml")):
        ET.parse(path)                                                     # every feed is well-formed
    empty = ET.parse(out / "flux/departements/01-ain.xml").getroot()
    assert empty.findall(f"{ATOM}entry") == []
    assert empty.findtext(f"{ATOM}updated") == "2026-11-20T00:00:00Z"      # the build date, not the clock
    alternate = [l.get("href") for l in empty.findall(f"{ATOM}link") if l.get("rel") == "alternate"]
    assert alternate == ["https://associe.example/territoires/84-auvergne-rhone-alpes/01-ain/"]


def test_territory_feeds_hold_the_entries_placed_there(site):
    _, out = site
    assert entry_ids(out / "flux/departements/21-cote-d-or.xml") == [
        "ordinateurs-portables-dijon", "parc-informatique-chenove", "outils-jardin-beaune", "compost-beaune"]
    assert entry_ids(out / "flux/departements/29-finistere.xml") == ["chutes-bois-brest", "bacs-potagers-brest"]
    assert entry_ids(out / "flux/regions/53-bretagne.xml") == ["chutes-bois-brest", "bacs-potagers-brest"]
    assert len(entry_ids(out / "flux/regions/27-bourgogne-franche-comte.xml")) == 4


def test_feed_length_is_capped(tmp_path):
    site_data = run_pipeline(FIXTURE, BUILD_DATE)
    exports.write_feeds(site_data, tmp_path, {**SETTINGS, "ASSOCIE_FEED_LIMIT": 2})
    assert entry_ids(tmp_path / "flux/besoins.xml") == ["ordinateurs-portables-dijon", "outils-jardin-beaune"]


# ------------------------------------------------------------------------------ JSON
def test_json_export_has_licence_build_date_schemas_and_every_listed_entry(site):
    site_data, out = site
    data = json.loads((out / "donnees/annuaire.json").read_text(encoding="utf-8"))
    assert data["licence"]["nom"] == "Licence Ouverte 2.0"
    assert data["licence"]["url"].startswith("https://www.etalab.gouv.fr/")
    assert data["date_construction"] == "2026-11-20"
    assert data["schemas"]["besoin"] == "https://associe.example/schemas/besoin.schema.json"
    for kind, folder in (("organisation", "organisations"), ("besoin", "besoins"), ("offre", "offres"),
                         ("exemple", "exemples")):
        ids = [record["identifiant"] for record in data[folder]]
        assert ids == sorted(e.id for e in site_data.listed[kind])
        assert data["nombre"][folder] == len(ids)
        assert all(record["type"] == kind for record in data[folder])
    need = next(r for r in data["besoins"] if r["identifiant"] == "ordinateurs-portables-dijon")
    assert need["titre"] == "Ordinateurs portables pour nos ateliers"
    assert need["url"] == "https://associe.example/besoins/ordinateurs-portables-dijon/"
    assert need["quantite"] == {"valeur": 12, "unite": "ordinateurs portables"}
    assert need["lieu"]["commune_nom"] == "Dijon" and need["lieu"]["departement"] == "21"
    assert need["lieu"]["region_nom"] == "Bourgogne-Franche-Comté"
    assert need["organisation_nom"] == "Atelier numérique solidaire"
    assert need["fictif"] is True


def test_json_export_carries_the_gaps_of_every_territory(site):
    site_data, out = site
    data = json.loads((out / "donnees/annuaire.json").read_text(encoding="utf-8"))
    gaps = data["lacunes"]
    assert set(gaps["departements"]) == set(site_data.geography.departements)
    assert set(gaps["regions"]) == set(site_data.geography.regions)
    assert gaps["national"]["besoins_ouverts"] == sum(1 for e in site_data.listed["besoin"] if e.get("statut") in ("ouvert", "en_cours"))


def test_json_export_carries_match_suggestions_with_reasons(site):
    site_data, out = site
    data = json.loads((out / "donnees/annuaire.json").read_text(encoding="utf-8"))
    need = next(r for r in data["besoins"] if r["identifiant"] == "ordinateurs-portables-dijon")
    assert need["suggestions"], "the Dijon need should be matched with the Chenôve offer"
    first = need["suggestions"][0]
    assert first["offre"] == "parc-informatique-chenove"
    assert first["url"] == "https://associe.example/offres/parc-informatique-chenove/"
    assert first["distance_km"] is not None and first["distance_km"] < 10
    assert any("km" in reason for reason in first["raisons"])
    assert all(isinstance(reason, str) for reason in first["raisons"])
    expected = [s.offer_id for s in site_data.matches.for_need["ordinateurs-portables-dijon"]]
    assert [s["offre"] for s in need["suggestions"]] == expected
    offer = next(r for r in data["offres"] if r["identifiant"] == "parc-informatique-chenove")
    assert [s["besoin"] for s in offer["suggestions"]][:1] == ["ordinateurs-portables-dijon"]
    assert all("suggestions" not in r for r in data["exemples"] + data["organisations"])


# ------------------------------------------------------------------------------ CSV
def read_csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, for French Excel"
    text = raw.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))


def test_csv_exports_one_row_per_listed_entry(site):
    site_data, out = site
    for kind, name in (("organisation", "organisations"), ("besoin", "besoins"), ("offre", "offres"),
                       ("exemple", "exemples")):
        rows = read_csv(out / f"donnees/{name}.csv")
        assert [r["identifiant"] for r in rows] == sorted(e.id for e in site_data.listed[kind])
        assert all(r["url"].startswith("https://associe.example/") for r in rows)
    needs = {r["identifiant"]: r for r in read_csv(out / "donnees/besoins.csv")}
    dijon = needs["ordinateurs-portables-dijon"]
    assert dijon["thematiques"] == "numerique | insertion"
    assert dijon["type_de_soutien_libelle"] == "Don de matériel"
    assert dijon["commune_nom"] == "Dijon" and dijon["fictif"] == "oui"
    assert "\n" in dijon["description"]                                   # multi-line text survives quoting
    assert float(needs["bacs-potagers-brest"]["longitude"]) < 0          # Brest, west of Greenwich
    examples = {r["identifiant"]: r for r in read_csv(out / "donnees/exemples.csv")}
    assert examples["compost-beaune"]["partenaires"] == "Les Jardins partagés de Beaune | Menuiserie de la rade"
    organisations = {r["identifiant"]: r for r in read_csv(out / "donnees/organisations.csv")}
    assert organisations["informatique-chenove"]["contact_formulaire"].startswith("https://")
    assert organisations["atelier-numerique-dijon"]["contact_email"] == "contact@atelier-numerique-dijon.example"


def test_csv_cells_cannot_start_a_spreadsheet_formula():
    assert exports._cell("=HYPERLINK(\"https://evil.example\")").startswith("'=")
    assert exports._cell("+33 1 23").startswith("'+")
    assert exports._cell("@SUM(A1)") == "'@SUM(A1)"
    assert exports._cell("- une liste") == "'- une liste"
    assert exports._cell(-4.48454) == "-4.48454"                          # numbers are not text
    assert exports._cell(True) == "oui" and exports._cell(None) == ""


# ------------------------------------------------------------------------------ GeoJSON
def test_geojson_has_points_of_needs_offers_and_organisations(site):
    site_data, out = site
    data = json.loads((out / "donnees/annuaire.geojson").read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection" and data["licence"]["nom"] == "Licence Ouverte 2.0"
    ids = {f["id"] for f in data["features"]}
    expected = {f"{k}/{e.id}" for k in ("besoin", "offre", "organisation") for e in site_data.listed[k]}
    assert ids == expected
    brest = next(f for f in data["features"] if f["id"] == "offre/chutes-bois-brest")
    assert brest["geometry"]["type"] == "Point"
    lon, lat = brest["geometry"]["coordinates"]
    assert -5 < lon < -4 and 48 < lat < 49                                 # [longitude, latitude]
    assert brest["properties"]["url"] == "https://associe.example/offres/chutes-bois-brest/"
    assert brest["properties"]["type_de_soutien"] == "don_materiel"


# ------------------------------------------------------------------------------ schemas, readme
def test_schemas_are_published_unchanged(site):
    _, out = site
    for schema in SCHEMAS_DIR.glob("*.schema.json"):
        assert (out / "schemas" / schema.name).read_bytes() == schema.read_bytes()
    assert (out / "schemas/besoin.schema.json").exists()


def test_lisezmoi_describes_files_licence_and_schemas(site):
    _, out = site
    text = (out / "donnees/LISEZMOI.txt").read_text(encoding="utf-8")
    for needle in ("Licence Ouverte 2.0", "annuaire.json", "besoins.csv", "annuaire.geojson",
                   "https://associe.example/schemas/besoin.schema.json", "point-virgule", "BOM"):
        assert needle in text


# ------------------------------------------------------------------------------ sitemap
def sitemap(out: Path) -> list[tuple[str, str | None]]:
    root = ET.parse(out / "sitemap.xml").getroot()
    assert root.tag == f"{SM}urlset"
    return [(u.findtext(f"{SM}loc"), u.findtext(f"{SM}lastmod")) for u in root.findall(f"{SM}url")]


def test_sitemap_lists_every_page_but_expired_entries(site):
    site_data, out = site
    urls = dict(sitemap(out))
    locs = list(urls)
    assert locs == sorted(locs, key=lambda u: u.replace("https://associe.example", ""))
    base = "https://associe.example"
    for kind in ("organisation", "besoin", "offre", "exemple"):
        for entry in site_data.listed[kind]:
            assert f"{base}/{exports.FOLDER_OF_KIND[kind]}/{entry.id}/" in urls
    for expired in ("/besoins/entrepot-frigorifique-dijon/", "/offres/ecrans-cathodiques-chenove/"):
        assert base + expired not in urls
    assert base + "/" in urls and base + "/recherche/" in urls and base + "/territoires/index.html" not in urls
    assert base + "/404.html" not in urls
    assert not any("/pagefind/" in u for u in urls)


def test_sitemap_lastmod_comes_from_the_data(site):
    _, out = site
    urls = dict(sitemap(out))
    base = "https://associe.example"
    assert urls[f"{base}/offres/parc-informatique-chenove/"] == "2026-11-02"    # derniere_confirmation
    assert urls[f"{base}/besoins/ordinateurs-portables-dijon/"] == "2026-10-01"  # date_publication
    assert urls[f"{base}/exemples/compost-beaune/"] == "2025-03-12"            # source.date
    assert urls[f"{base}/exemples/banque-alimentaire-ibm/"] is None            # no date known: none invented
    assert urls[f"{base}/organisations/menuiserie-brest/"] == "2026-10-10"     # its newest entry
    assert urls[f"{base}/territoires/27-bourgogne-franche-comte/21-cote-d-or/"] == "2026-11-02"
    assert urls[f"{base}/a-propos/"] is None
    assert urls[f"{base}/"] == "2026-11-02"


def test_sitemap_becomes_an_index_beyond_the_url_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(exports, "SITEMAP_MAX_URLS", 5)
    site_data = run_pipeline(FIXTURE, BUILD_DATE)
    fake_pages(site_data, tmp_path)
    paths = exports.write_sitemap(site_data, tmp_path, SETTINGS)
    root = ET.parse(tmp_path / "sitemap.xml").getroot()
    assert root.tag == f"{SM}sitemapindex"
    parts = [s.findtext(f"{SM}loc") for s in root.findall(f"{SM}sitemap")]
    assert parts == [f"https://associe.example/sitemap-{i}.xml" for i in range(1, len(parts) + 1)]
    listed = [loc for i in range(1, len(parts) + 1) for loc, _ in sitemap_part(tmp_path / f"sitemap-{i}.xml")]
    assert len(listed) == len(paths) and len(parts) == -(-len(paths) // 5)


def sitemap_part(path: Path):
    root = ET.parse(path).getroot()
    return [(u.findtext(f"{SM}loc"), u.findtext(f"{SM}lastmod")) for u in root.findall(f"{SM}url")]


# ------------------------------------------------------------------------------ global rules
def test_expired_entries_appear_in_no_export(site):
    _, out = site
    for path in all_files(out):
        if path.parent.name == "schemas":
            continue
        text = path.read_text(encoding="utf-8-sig")
        for expired in EXPIRED:
            assert expired not in text, f"{expired} in {path.relative_to(out)}"
        assert "frigorifique" not in text and "cathodiques" not in text


def test_exports_carry_only_organisation_level_contacts(site):
    _, out = site
    email = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
    phone = re.compile(r"(?<!\d)(?:\+33|0)[1-9](?:[\s.-]?\d{2}){4}(?!\d)")
    for path in all_files(out):
        if path.parent.name == "schemas":
            continue
        text = path.read_text(encoding="utf-8-sig")
        assert set(email.findall(text)) <= CONTACT_EMAILS, path
        assert not phone.search(text), path
        assert "adresse_de_role_confirmee" not in text, path              # maintainer-only flag


def test_two_runs_are_byte_identical(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    build(first)
    build(second)
    files = [p.relative_to(first) for p in all_files(first)]
    assert files == [p.relative_to(second) for p in all_files(second)]
    assert len(files) > 130
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel


def test_relative_siteurl_still_writes_valid_feeds(tmp_path):
    build(tmp_path, settings={"SITEURL": ""})
    root = ET.parse(tmp_path / "flux/besoins.xml").getroot()
    assert root.findtext(f"{ATOM}id").startswith("tag:associe.invalid,2026:")
    assert entry_ids(tmp_path / "flux/besoins.xml")[0] == "ordinateurs-portables-dijon"


def test_no_clock_or_file_time_in_exports_and_indexing():
    for module in ("exports.py", "indexing.py"):
        source = (Path(exports.__file__).parent / module).read_text(encoding="utf-8")
        for forbidden in ("now(", "today(", "utcnow", "getmtime", "st_mtime", "time.time"):
            assert forbidden not in source, f"{forbidden} in {module}"


def test_plain_text_of_markdown():
    text = exports.plain_text("Nous cherchons des **ordinateurs**\nrécents : [voir](https://a.example).\n\n- un\n- deux")
    assert text == "Nous cherchons des ordinateurs récents : voir (https://a.example).\n\nun deux"
