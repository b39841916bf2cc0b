"""Unit tests of the renderer's helpers and site model (no Pelican run)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader

from associe import rendering
from associe.pipeline import run_pipeline
from associe.rendering import (Paths, SiteModel, autocomplete_files, fold, french_date, mailto, place_text,
                               plural, reach_text, safe_url, slugify, url_host)
from associe.records import Entry, Place
from associe.territories import load_geography

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "site"
BUILD_DATE = dt.date(2026, 11, 24)


@pytest.fixture(scope="module")
def geo():
    return load_geography()


@pytest.fixture(scope="module")
def model():
    site = run_pipeline(FIXTURE, BUILD_DATE)
    return SiteModel(site, {"THEME": str(ROOT / "theme"), "ASSOCIE_EXAMPLES_PER_ENTRY": 3})


def test_french_dates():
    assert french_date("2026-10-01") == "1er octobre 2026"
    assert french_date(dt.date(2027, 3, 31)) == "31 mars 2027"
    assert french_date("2027-08-15") == "15 août 2027"
    assert french_date("pas une date") == "" and french_date(None) == ""


def test_plural_is_french():
    assert plural(0, "annonce ouverte", "annonces ouvertes") == "0 annonce ouverte"
    assert plural(1, "offre") == "1 offre"
    assert plural(12, "annonce ouverte", "annonces ouvertes") == "12 annonces ouvertes"


def test_slugs_and_fold():
    assert slugify("Côte-d'Or") == "cote-d-or"
    assert slugify("21231 Dijon") == "21231-dijon"
    assert slugify("Œuilly") == "oeuilly"
    assert fold("L'Haÿ-les-Roses") == "l hay les roses"
    assert fold("Saint-Étienne") == "saint etienne"


def test_paths(geo):
    paths = Paths(geo)
    entry = Entry("besoin", "x", "x.yaml", {})
    assert paths.entry(entry) == "besoins/x/"
    assert paths.region("27") == "territoires/27-bourgogne-franche-comte/"
    assert paths.departement("21") == "territoires/27-bourgogne-franche-comte/21-cote-d-or/"
    assert paths.departement("2A") == "territoires/94-corse/2a-corse-du-sud/"
    assert paths.commune("21231") == "communes/21231-dijon/"
    assert paths.commune_key("2A004") == "2a004-ajaccio"
    assert paths.vocabulary("type_de_soutien", "don_materiel") == "soutiens/don-materiel/"
    assert paths.vocabulary("thematique", "economie_circulaire") == "thematiques/economie-circulaire/"
    assert paths.suggestions() == "mises-en-relation/"
    assert paths.suggestions(departement="21") == "mises-en-relation/27-bourgogne-franche-comte/21-cote-d-or/"
    assert paths.feed_kind("besoin") == "flux/besoins.xml" and paths.feed_kind("organisation") is None
    assert paths.feed_region("27") == "flux/regions/27-bourgogne-franche-comte.xml"
    assert paths.feed_departement("21") == "flux/departements/21-cote-d-or.xml"
    assert Paths.file("besoins/x/") == "besoins/x/index.html" and Paths.file("") == "index.html"
    assert Paths.file("404.html") == "404.html"


def test_urls_are_checked_again_at_render_time():
    assert safe_url("https://exemple.fr/contact") == "https://exemple.fr/contact"
    for bad in ("javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,x", "//evil.example", "/local",
                "https://", None, 42):
        assert safe_url(bad) == "", bad
    assert url_host("https://www.exemple.fr/a?b") == "www.exemple.fr"
    assert url_host("javascript:alert(1)") == ""


def test_mailto_accepts_one_role_address_only():
    assert mailto("contact@asso.fr") == "mailto:contact@asso.fr"
    assert mailto("contact@asso.fr", "Votre besoin « x »") == \
        "mailto:contact@asso.fr?subject=Votre%20besoin%20%C2%AB%20x%20%C2%BB"
    for bad in ("contact@asso.fr?bcc=x@y.fr", "a@b.fr\nBcc: c@d.fr", "javascript:alert(1)", "", None,
                "a@b.fr,c@d.fr"):
        assert mailto(bad) == "", bad


def test_reach_in_words(geo):
    dijon = Place("21231", "Dijon", "21", "Côte-d'Or", "27", "Bourgogne-Franche-Comté", 47.3, 5.0)

    def entry(territoire):
        return Entry("besoin", "x", "x.yaml", {"territoire": territoire}, place=dijon)

    assert reach_text(entry({"portee": "rayon", "rayon_km": 20})) == "dans un rayon de 20 km autour de Dijon"
    assert reach_text(entry({"portee": "commune"})) == "à Dijon et tout près"
    assert reach_text(entry({"portee": "departement"})) == "dans tout le département : Côte-d'Or (21)"
    assert reach_text(entry({"portee": "region"})) == "dans toute la région Bourgogne-Franche-Comté"
    assert reach_text(entry({"portee": "national"})) == "partout en France"
    assert place_text(dijon) == "Dijon (Côte-d'Or)"
    assert place_text(Place(None, None, None, None, None, None, None, None)) == "France entière"


def test_model_lists_open_entries_and_leaves_expired_out(model):
    assert [e.id for e in model.open["besoin"]] == ["besoin-piege", "local-reunion-strasbourg",
                                                    "ordinateurs-portables-dijon"]
    assert [e.id for e in model.expired] == ["tables-fete-quartier-dijon"]
    cote_dor = model.departements["21"]
    assert [e.id for e in cote_dor.needs] == ["besoin-piege", "ordinateurs-portables-dijon"]
    assert "tables-fete-quartier-dijon" not in {e.id for e in cote_dor.needs + cote_dor.others}
    assert model.departements["15"].empty and model.departements["15"].open_count == 0
    assert model.regions["44"].open_count == 2


def test_model_suggestions_and_examples(model):
    need = model.get("besoin", "ordinateurs-portables-dijon")
    suggestions = model.suggestions_for(need)
    assert [s["entry"].id for s in suggestions] == ["parc-informatique-chenove"]
    assert any("Dijon → Chenôve" in reason for reason in suggestions[0]["reasons"])
    assert [e.id for e in model.examples_for(need)] == ["banque-alimentaire-ibm", "cafe-sati-jardins-cocagne"]
    expired = model.get("besoin", "tables-fete-quartier-dijon")
    assert model.suggestions_for(expired) == []
    assert model.pairs_count() == 2
    assert [p["need"].id for p in model.pairs(region="44")] == ["local-reunion-strasbourg"]
    assert model.pairs(departement="15") == []


def test_data_attributes_are_escaped(model):
    need = model.get("besoin", "besoin-piege")
    attributes = str(model.data_attributes(need))
    assert 'data-type="don_materiel"' in attributes and 'data-departement="21"' in attributes
    assert "<" not in attributes
    org = model.get("organisation", "recyclerie-strasbourg")
    assert 'data-taille="benevole"' in str(model.data_attributes(org))


def test_map_data_covers_every_departement(model, geo):
    data = model.map_data()
    codes = [d["code"] for d in data["metro"]] + [d["code"] for d in data["overseas"]]
    assert sorted(codes) == sorted(geo.departements)
    assert len(data["metro"]) == 96
    cote_dor = next(d for d in data["metro"] if d["code"] == "21")
    assert cote_dor["count"] == 3 and cote_dor["bucket"] == "c2"
    assert cote_dor["name"] == "Côte-d'Or : 3 annonces ouvertes"
    assert cote_dor["d"].startswith("m ") and ".12" not in cote_dor["d"]   # rounded to 0.1
    assert {d["code"] for d in data["overseas"]} >= {"971", "972", "973", "974", "976"}


def test_autocomplete_is_split_and_complete(geo):
    files = autocomplete_files(geo)
    names = [name for name in files if name.startswith("communes-")]
    assert sum(len(files[name]) for name in names) == len(geo.communes)
    assert max(len(files[name]) for name in names) < len(geo.communes) / 5
    assert any(row[0] == "21231" for row in files["cp-21"])
    assert all(fold(row[1])[:1] == name[-1] for name in names if name != "communes-_" for row in files[name])


def test_templates_autoescape_entry_text(model):
    """The macros print untrusted titles as text (autoescape on, as pelicanconf sets it)."""
    env = Environment(loader=FileSystemLoader(str(ROOT / "theme" / "templates")), autoescape=True)
    rendering.add_jinja_helpers(type("G", (), {"env": env})())
    template = env.from_string('{% import "_macros.html" as ui with context %}{{ ui.card(e, M, P) }}')
    html = template.render(e=model.get("besoin", "besoin-piege"), M=model, P=model.paths, SITEURL="..")
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_a_card_list_is_each_card_on_its_line_with_the_way_to_the_root(model):
    env = Environment(loader=FileSystemLoader(str(ROOT / "theme" / "templates")), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    rendering.add_jinja_helpers(type("G", (), {"env": env})())
    entries = [model.get("besoin", "besoin-piege"), model.get("besoin", "ordinateurs-portables-dijon")]
    joined = env.from_string('{% import "_macros.html" as ui with context %}{{ M.cards(ui.card, es, "../..") }}')
    one_by_one = env.from_string('{% import "_macros.html" as ui with context %}'
                                 '{% for e in es %}{{ M.card(ui.card, e, "../..") }}\n{% endfor %}')
    html = joined.render(es=entries, M=model, P=model.paths, SITEURL="unused")
    assert html == one_by_one.render(es=entries, M=model, P=model.paths, SITEURL="unused")
    assert html.count('<li class="carte') == 2 and html.endswith("</li>\n\n")
    assert 'href="../../besoins/ordinateurs-portables-dijon/"' in html and rendering.ROOT_MARK not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img" not in html


def test_a_memoised_macro_is_rendered_once_per_distinct_arguments(model):
    env = Environment(autoescape=True)
    calls = []
    env.globals["count"] = lambda: calls.append(1) or ""
    macros = env.from_string('{% macro options(choices) %}{{ count() }}'
                             '{% for v, t in choices %}<option value="{{ v }}">{{ t }}</option>{% endfor %}'
                             '{% endmacro %}').module
    first = model.memo(macros.options, [("a", "<A>"), ("b", "B")])
    again = model.memo(macros.options, [("a", "<A>"), ("b", "B")])     # another list, same values
    other = model.memo(macros.options, [("a", "<A>")])
    assert first == again == '<option value="a">&lt;A&gt;</option><option value="b">B</option>'
    assert other == '<option value="a">&lt;A&gt;</option>'
    assert len(calls) == 2
