"""The printable meeting kit per département (issue 7): entries, pairs, examples, guests, and the
Labo des partenariats' rules quoted word for word."""
from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from associe.extra_pages import extra_pages
from associe.meeting_kit import (MEETING_RULES, QUOTE_SEVEN_MINUTES, QUOTE_TWO_RULES, RULES_SOURCE, kit_url,
                                 meeting_kit, meeting_kits, schedule)
from associe.pipeline import run_pipeline

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "gaps"
BUILD_DATE = dt.date(2026, 11, 20)
THEME = ROOT / "theme"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    content = tmp_path_factory.mktemp("kit") / "content"
    shutil.copytree(FIXTURE, content)
    return run_pipeline(content, BUILD_DATE, root=content.parent)


def ids(entries) -> list[str]:
    return [e.id for e in entries]


def render(page, site_data) -> str:
    """Render an extra page as the generator does (theme environment, helpers, usual context)."""
    from jinja2 import Environment, FileSystemLoader
    from pelican.settings import read_settings

    from associe import rendering

    settings = {"SITEURL": "", "ASSOCIE_CONTRIBUTE_PATH": "contribuer"}
    model = rendering.SiteModel(site_data, settings)
    env = Environment(loader=FileSystemLoader(str(THEME / "templates")), autoescape=True, trim_blocks=True,
                      lstrip_blocks=True)
    env.filters.update(rendering.JINJA_FILTERS)
    env.globals.update({"label": rendering.label, "plural": rendering.plural, "KIND_LABEL": rendering.KIND_LABEL,
                        "KIND_PLURAL": rendering.KIND_PLURAL, "mailto": rendering.mailto,
                        "place_text": rendering.place_text, "reach_text": rendering.reach_text,
                        "example_scale_text": rendering.example_scale_text})
    context = dict(read_settings(str(ROOT / "pelicanconf.py")))
    context.update(settings)
    context.update({"associe_build_date": site_data.build_date, "associe_build_date_fr": "", "output_file":
                    page.url + "index.html", "noindex": False, "description": "", "feed_url": "", "feed_title": "",
                    "section": "", "page_title": "", "M": model, "P": model.paths, "build_date": site_data.build_date,
                    "build_date_fr": rendering.french_date(site_data.build_date), "contribute": "contribuer"})
    context.update(page.context)
    return env.get_template(page.template + ".html").render(**context)


def test_kit_of_a_departement(site):
    kit = meeting_kit(site, "21")
    assert (kit.nom, kit.region_nom, kit.url) == ("Côte-d'Or", "Bourgogne-Franche-Comté", "kit/21-cote-d-or/")
    assert kit.territory_url == "territoires/27-bourgogne-franche-comte/21-cote-d-or/"
    assert kit.gaps_url == "lacunes/27-bourgogne-franche-comte/21-cote-d-or/"
    # open entries placed in the département, by catégorie then type then title (pourvu and expired left out)
    assert ids(kit.needs) == ["ordinateurs-atelier-dijon", "salle-reunion-jardins-beaune"]
    assert ids(kit.offers) == ["ordinateurs-reconditionnes-chenove", "comptabilite-benevole-dijon",
                               "pret-camion-transports-bourgogne"]
    assert [(p["need"].id, p["offer"].id, p["local"]) for p in kit.pairs] == [
        ("ordinateurs-atelier-dijon", "ordinateurs-reconditionnes-chenove", True)]
    assert kit.pairs[0]["reasons"][0] == "à 4 km (Dijon → Chenôve)"
    assert kit.pairs_total == 1
    # no score kept: the kit does not show it, and keying the page on it would rebuild every kit
    # whenever a new entry moves all the scores a little
    assert all(set(pair) == {"need", "offer", "reasons", "local"} for pair in kit.pairs)
    # guests, by side
    assert [p.organisation.id for p in kit.associations] == ["atelier-numerique-dijon", "jardins-partages-beaune"]
    assert [p.organisation.id for p in kit.companies] == ["cabinet-comptable-dijon", "informatique-chenove",
                                                          "transports-bourgogne"]
    assert [p.taille for p in kit.companies] == ["pme", "tpe", "eti"]


def test_two_or_three_examples_nearest_first(site):
    kit = meeting_kit(site, "21")
    assert 2 <= len(kit.examples) <= 3
    assert kit.examples[0].id == "ordinateurs-reconditionnes-dijon"     # placed in the département
    assert ids(meeting_kit(site, "29").examples)[0] == "menuiserie-recyclerie-bretagne"  # its région
    # the national example comes before one from another région
    assert ids(meeting_kit(site, "21").examples)[1:] == ["banque-alimentaire-ibm", "menuiserie-recyclerie-bretagne"]
    assert len(meeting_kit(site, "21", max_examples=2).examples) == 2


def test_empty_departement_still_gets_rules_and_examples(site):
    kit = meeting_kit(site, "67")
    assert kit.empty and not kit.pairs and not kit.associations
    assert len(kit.examples) == 2
    assert kit.rules == MEETING_RULES


def test_every_departement_has_a_kit(site):
    kits = meeting_kits(site)
    assert list(kits) == list(site.geography.departements)
    assert len({k.url for k in kits.values()}) == len(kits)
    assert all(k.url == kit_url(site.geography, code) for code, k in kits.items())
    assert ids(kits["21"].needs) == ids(meeting_kit(site, "21").needs)
    assert len(meeting_kits(site, {"ASSOCIE_KIT_PAIRS": 0})["29"].pairs) == 0


def test_rules_quote_the_labo_faithfully():
    """The seed's sentences, verbatim (typographic apostrophes and « A la fin » kept as published)."""
    titles = [r.titre for r in MEETING_RULES]
    assert "Sept minutes par table" in titles
    assert "L'association ne demande pas d'argent" in titles and "L'entreprise ne prospecte pas" in titles
    assert QUOTE_SEVEN_MINUTES == ("Chaque entreprise dispose alors de sept minutes pour faire connaissance avec un "
                                   "acteur associatif, incluant une minute pour la présentation de chacune des parties.")
    assert QUOTE_TWO_RULES == ("Deux règles à respecter : l’association s’engage à ne pas demander d’argent et "
                               "l’entreprise à ne pas engager de démarche commerciale.")
    assert any("A la fin de la séance" in r.citation for r in MEETING_RULES)
    assert RULES_SOURCE["editeur"] == "Agence Apriles"
    for rule in MEETING_RULES:
        assert not re.search(r"@|\b0\d(?:[ .]?\d{2}){4}\b", rule.citation)  # no personal contact copied


def test_schedule():
    plan = schedule()
    assert (plan["tables"], plan["minutes_par_table"], plan["minutes_total"], plan["duree"]) == (10, 7, 70, "1 h 10")
    assert plan["rotations"][0] == {"numero": 1, "debut": 0, "fin": 7}
    assert schedule(5, 7)["duree"] == "35 min"


def test_kit_page_renders(site):
    page = next(p for p in extra_pages(site, {}) if p.url == "kit/21-cote-d-or/")
    html = render(page, site)
    assert '<link rel="stylesheet" href="/static/css/kit.css">' in html
    assert "Sept minutes par table" in html and "s’engage à ne pas demander d’argent" in html
    assert html.count("Deux règles à respecter") == 1          # a shared quote is printed once
    for title in ("Ordinateurs portables pour nos ateliers", "Une salle pour notre assemblée générale",
                  "Prêt d&#39;un camion le week-end", "Des ordinateurs reconditionnés pour un atelier numérique"):
        assert title in html
    assert "à 4 km (Dijon → Chenôve)" in html
    assert html.count('<th scope="row">') >= 10                # the notes sheet, one row per table
    assert "None" not in html
    assert 'class="kit-carte kit-carte-besoin"' in html and 'class="kit-section kit-saut"' in html
    empty = render(next(p for p in extra_pages(site, {}) if p.url == "kit/67-bas-rhin/"), site)
    assert "Aucun besoin ouvert dans le département" in empty and "Sept minutes par table" in empty


def test_print_css():
    css = (THEME / "static" / "css" / "kit.css").read_text(encoding="utf-8")
    page_rule = css[css.index("@page"):css.index("@media print")]
    assert re.search(r"size:\s*A4", page_rule)
    assert "counter(page)" in page_rule and "counter(pages)" in page_rule and "@bottom-center" in page_rule
    printed = css[css.index("@media print"):]
    assert re.search(r"\.kit-carte[^{]*\{[^}]*break-inside:\s*avoid", printed)
    assert "page-break-inside: avoid" in printed
    assert re.search(r"\.entete[^{]*\{\s*display:\s*none", printed)   # site chrome not printed
    assert "background" not in re.sub(r"background:\s*(#fff|none)\b[^;]*;", "", printed)  # black on white
