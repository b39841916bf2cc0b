"""Gap pages (issue 7): needs without offer, offers without taker, by type, category and size,
first publications per month from git (or date_publication), the export, the extra pages."""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from associe.extra_pages import ExtraPage, extra_pages, recent_entries
from associe.gaps import (GAPS_EXPORT_KEY, compute_gap_index, compute_publication_dates, gap_index, gaps_export,
                          month_window, parse_git_log, publication_dates, read_git_additions)
from associe.pipeline import run_pipeline

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "gaps"
BUILD_DATE = dt.date(2026, 11, 20)
THEME = ROOT / "theme" / "templates"


def _copy(tmp_path: Path) -> Path:
    """The fixture outside any git repository (tmp), so that the date source is known."""
    content = tmp_path / "content"
    shutil.copytree(FIXTURE, content)
    return content


@pytest.fixture(scope="module")
def content(tmp_path_factory) -> Path:
    return _copy(tmp_path_factory.mktemp("gaps"))


@pytest.fixture(scope="module")
def site(content):
    data = run_pipeline(content, BUILD_DATE, root=content.parent)
    # as the generator does: the content folder comes from the settings (git runs there, once)
    gap_index(data, {"ASSOCIE_CONTENT_PATH": str(content)})
    return data


def ids(entries) -> list[str]:
    return [e.id for e in entries]


def render(page: ExtraPage, site_data, settings=None) -> str:
    """Render an extra page as the generator does: the theme's Jinja environment (autoescape, the
    default Undefined as in Pelican), its helpers, the usual context (M, P, …) plus the page's."""
    from jinja2 import Environment, FileSystemLoader

    from associe import rendering

    settings = {"SITEURL": "", "ASSOCIE_CONTRIBUTE_PATH": "contribuer", **(settings or {})}
    model = rendering.SiteModel(site_data, settings)
    env = Environment(loader=FileSystemLoader(str(THEME)), autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(rendering.JINJA_FILTERS)
    env.globals.update({"label": rendering.label, "plural": rendering.plural, "KIND_LABEL": rendering.KIND_LABEL,
                        "KIND_PLURAL": rendering.KIND_PLURAL, "mailto": rendering.mailto,
                        "place_text": rendering.place_text, "reach_text": rendering.reach_text,
                        "example_scale_text": rendering.example_scale_text})
    from pelican.settings import read_settings

    context = dict(read_settings(str(ROOT / "pelicanconf.py")))   # Pelican puts every setting in the context
    context.update(settings)
    context.update({"associe_build_date": site_data.build_date, "associe_build_date_fr": "", "output_file":
                    page.url + "index.html", "noindex": False, "description": "", "feed_url": "", "feed_title": "",
                    "kit_url": "", "section": "", "page_title": "", "M": model, "P": model.paths,
                    "build_date": site_data.build_date, "build_date_fr": rendering.french_date(site_data.build_date),
                    "contribute": "contribuer"})
    context.update(page.context)
    return env.get_template(page.template + ".html").render(**context)


# ------------------------------------------------------------------------------ the gaps
def test_needs_without_offer_and_offers_without_taker(site):
    index = gap_index(site)
    national = index.national
    # the expired need and the fulfilled (pourvu) one are not open
    assert ids(national.open_needs) == ["benevoles-epicerie-besancon", "chutes-bois-recyclerie-brest",
                                        "ordinateurs-atelier-dijon", "salle-reunion-jardins-beaune"]
    # oldest first: they have waited longest
    assert ids(national.needs_without_offer) == ["benevoles-epicerie-besancon", "salle-reunion-jardins-beaune"]
    assert ids(national.offers_without_taker) == ["pret-camion-transports-bourgogne", "comptabilite-benevole-dijon",
                                                  "farine-invendus-besancon"]
    assert national.summary() == {"besoins_ouverts": 4, "besoins_sans_offre": 2,
                                  "offres_ouvertes": 5, "offres_sans_preneur": 3}
    # consistent with the matcher: an entry is a gap exactly when it has no suggestion
    for need in national.open_needs:
        assert (need in national.needs_without_offer) == (not site.matches.for_need.get(need.id))


def test_each_region_and_departement_gets_its_own_gaps(site):
    index = gap_index(site)
    assert set(index.regions) == set(site.geography.regions)
    assert set(index.departements) == set(site.geography.departements)
    cote_d_or, doubs, finistere = index.departements["21"], index.departements["25"], index.departements["29"]
    assert ids(cote_d_or.needs_without_offer) == ["salle-reunion-jardins-beaune"]
    assert ids(cote_d_or.offers_without_taker) == ["pret-camion-transports-bourgogne", "comptabilite-benevole-dijon"]
    assert ids(doubs.needs_without_offer) == ["benevoles-epicerie-besancon"]
    assert ids(doubs.offers_without_taker) == ["farine-invendus-besancon"]
    assert finistere.summary() == {"besoins_ouverts": 1, "besoins_sans_offre": 0,
                                   "offres_ouvertes": 1, "offres_sans_preneur": 0}
    bfc = index.regions["27"]
    assert bfc.summary() == {"besoins_ouverts": 3, "besoins_sans_offre": 2, "offres_ouvertes": 4, "offres_sans_preneur": 3}
    assert [c.code for c in bfc.children] == [d.code for d in site.geography.departements_in_region("27")]
    assert cote_d_or.parent is bfc and bfc.parent is index.national
    assert index.departements["67"].empty and not index.departements["67"].open_needs


def test_urls_follow_the_territory_nesting(site):
    index = gap_index(site)
    assert index.national.url == "lacunes/"
    assert index.regions["27"].url == "lacunes/27-bourgogne-franche-comte/"
    assert index.departements["21"].url == "lacunes/27-bourgogne-franche-comte/21-cote-d-or/"
    assert index.departements["21"].territory_url == "territoires/27-bourgogne-franche-comte/21-cote-d-or/"
    from associe.rendering import Paths

    paths = Paths(site.geography)
    for code, report in index.departements.items():
        assert report.territory_url == paths.departement(code)
        assert report.url == "lacunes/" + paths.departement(code)[len("territoires/"):]


def test_counts_by_type_category_and_size(site):
    cote_d_or = gap_index(site).departements["21"]
    by_type = {r.valeur: (r.besoins_ouverts, r.besoins_sans_offre, r.offres_ouvertes, r.offres_sans_preneur)
               for r in cote_d_or.by_type}
    assert by_type == {"don_materiel": (1, 0, 1, 0), "pret_materiel": (0, 0, 1, 1),
                       "mise_a_disposition_locaux": (1, 1, 0, 0), "mecenat_competences": (0, 0, 1, 1)}
    assert [r.valeur for r in cote_d_or.by_type] == ["don_materiel", "pret_materiel", "mise_a_disposition_locaux",
                                                     "mecenat_competences"]  # the schema's order
    assert [(r.valeur, r.libelle) for r in cote_d_or.by_categorie] == [("mecenat", "Mécénat")]
    by_size = {r.valeur: (r.besoins_ouverts, r.besoins_sans_offre, r.offres_ouvertes, r.offres_sans_preneur)
               for r in cote_d_or.by_taille}
    assert by_size == {"tpe": (0, 0, 1, 0), "pme": (0, 0, 1, 1), "eti": (0, 0, 1, 1),
                       "benevole": (1, 1, 0, 0), "employeuse": (1, 0, 0, 0)}
    national = gap_index(site).national
    assert {r.valeur for r in national.by_categorie} == {"mecenat", "cooperation_economique"}


def test_small_company_offers_are_shown(site):
    index = gap_index(site)
    assert ids(index.departements["21"].small_company_offers) == ["ordinateurs-reconditionnes-chenove",
                                                                  "comptabilite-benevole-dijon"]  # TPE and PME, not ETI
    assert ids(index.national.small_company_offers) == ["farine-invendus-besancon", "ordinateurs-reconditionnes-chenove",
                                                        "chutes-bois-menuiserie-brest", "comptabilite-benevole-dijon"]


# ------------------------------------------------------------------------------ counts over time
def test_without_git_the_dates_are_date_publication_and_the_page_says_so(site):
    dates = publication_dates(site)
    assert dates.source == "date_publication" and dates.from_git == 0 and dates.from_field == 11
    assert "pas dans un dépôt git" in dates.note
    assert "« date_publication »" in dates.sentence() and "pas dans un dépôt git" in dates.sentence()
    # the expired need was published too: it counts in the history
    assert dates.dates[("besoin", "vetements-chauds-epicerie-besancon")] == dt.date(2025, 9, 1)


def test_monthly_counts_of_first_publications(site):
    index = gap_index(site)
    national = index.national
    assert national.months[0].mois == "2025-09" and national.months[-1].mois == "2026-11"
    assert len(national.months) == 15 and national.published_before == {"besoins": 0, "offres": 0}
    by_month = {m.mois: (m.besoins, m.offres) for m in national.months}
    assert by_month["2026-11"] == (1, 1)      # salle-reunion (10 Nov), farine (1 Nov)
    assert by_month["2026-10"] == (1, 1)
    assert by_month["2025-09"] == (1, 0)      # the expired need
    assert sum(b + o for b, o in by_month.values()) == 11
    assert national.months[-1].libelle == "novembre 2026"
    # a territory uses the same window
    assert [m.mois for m in index.departements["29"].months] == [m.mois for m in national.months]
    assert {m.mois: m.offres for m in index.departements["29"].months}["2026-07"] == 1


def test_month_window_is_capped():
    assert month_window(dt.date(2026, 11, 20), dt.date(2020, 1, 1), 24)[0] == (2024, 12)
    assert len(month_window(dt.date(2026, 11, 20), dt.date(2020, 1, 1), 24)) == 24
    assert month_window(dt.date(2026, 11, 20), dt.date(2026, 11, 1)) == [(2026, 11)]
    assert month_window(dt.date(2026, 11, 20), None) == []


def test_parse_git_log():
    text = """2026-04-05

besoins/b.yaml
offres/o.yaml
README.md

2026-02-10

besoins/a.yaml
besoins/b.yaml
content/offres/p.yaml
organisations/x.yaml
exemples/e.yaml
"""
    assert parse_git_log(text) == {("besoin", "b"): dt.date(2026, 2, 10), ("offre", "o"): dt.date(2026, 4, 5),
                                   ("besoin", "a"): dt.date(2026, 2, 10), ("offre", "p"): dt.date(2026, 2, 10)}


def _git(repo: Path, *args: str, date: str | None = None) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.org",
           "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.org", "GIT_CONFIG_NOSYSTEM": "1",
           "HOME": str(repo)}
    if date:
        env.update(GIT_AUTHOR_DATE=f"{date}T12:00:00+00:00", GIT_COMMITTER_DATE=f"{date}T12:00:00+00:00")
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


@pytest.mark.skipif(shutil.which("git") is None, reason="git absent")
def test_first_publications_come_from_the_git_history(tmp_path):
    repo = tmp_path / "depot"
    content = repo / "contenu"
    shutil.copytree(FIXTURE, content)
    _git(repo, "init", "-q")
    _git(repo, "add", "contenu/organisations", "contenu/exemples")
    _git(repo, "add", "contenu/besoins/ordinateurs-atelier-dijon.yaml", "contenu/offres/farine-invendus-besancon.yaml")
    _git(repo, "commit", "-q", "-m", "premières annonces", date="2026-02-10")
    _git(repo, "add", "contenu/besoins/salle-reunion-jardins-beaune.yaml")
    _git(repo, "commit", "-q", "-m", "une salle", date="2026-04-05")
    _git(repo, "add", "contenu/offres/chutes-bois-menuiserie-brest.yaml")
    _git(repo, "commit", "-q", "-m", "après la date de construction", date="2026-12-01")
    # the other needs and offers are not committed yet

    site = run_pipeline(content, BUILD_DATE, root=repo)
    calls = []

    def runner(*args, **kwargs):
        calls.append(args[0])
        return subprocess.run(*args, **kwargs)

    index = gap_index(site, content_dir=content, runner=runner)
    dates = index.dates
    assert dates.source == "mixte" and dates.from_git == 3 and dates.from_field == 8
    assert dates.dates[("besoin", "ordinateurs-atelier-dijon")] == dt.date(2026, 2, 10)   # not its 2026-10-01
    assert dates.dates[("offre", "farine-invendus-besancon")] == dt.date(2026, 2, 10)
    assert dates.dates[("besoin", "salle-reunion-jardins-beaune")] == dt.date(2026, 4, 5)
    # added in git after the build date: date_publication
    assert dates.dates[("offre", "chutes-bois-menuiserie-brest")] == dt.date(2026, 7, 1)
    assert "historique git" in dates.sentence() and "après la date de construction" in dates.sentence()
    by_month = {m.mois: (m.besoins, m.offres) for m in index.national.months}
    assert by_month["2026-02"] == (1, 1) and by_month["2026-04"] == (1, 0)
    # one git command for the pages and the export together
    gaps_export(site)
    gap_index(site)
    assert len(calls) == 1
    assert calls[0][:2] == ["git", "-C"] and "--diff-filter=A" in calls[0] and "--format=%cs" in calls[0]

    # everything committed before the build date: the source is git alone
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "le reste", date="2026-06-01")
    fresh = run_pipeline(content, BUILD_DATE, root=repo)
    assert publication_dates(fresh, content_dir=content).source == "mixte"  # the 2026-12-01 one stays out
    later = run_pipeline(content, dt.date(2026, 12, 5), root=repo)
    assert publication_dates(later, content_dir=content).source == "git"


def test_a_shallow_clone_is_not_trusted(tmp_path, site):
    repo = tmp_path / "clone"
    (repo / ".git").mkdir(parents=True)
    (repo / ".git" / "shallow").write_text("0" * 40 + "\n")
    (repo / "content").mkdir()
    called = []
    additions, note = read_git_additions(repo / "content", runner=lambda *a, **k: called.append(a))
    assert additions is None and "clone superficiel" in note and not called
    dates = compute_publication_dates(site, additions, note)
    assert dates.source == "date_publication" and "clone superficiel" in dates.sentence()


def test_git_missing_falls_back(tmp_path):
    def runner(*args, **kwargs):
        raise FileNotFoundError("git")
    additions, note = read_git_additions(tmp_path, runner=runner)
    assert additions is None and note == "git n'est pas installé"
    assert read_git_additions(tmp_path / "absent")[0] is None


# ------------------------------------------------------------------------------ the export
def test_export(site):
    data = gaps_export(site)
    assert GAPS_EXPORT_KEY == "lacunes"
    json.dumps(data, ensure_ascii=False)  # serialisable as is
    assert data["date_construction"] == "2026-11-20"
    assert data["source_des_dates"]["source"] == "date_publication"
    assert set(data["regions"]) == set(site.geography.regions)
    assert set(data["departements"]) == set(site.geography.departements)
    cote_d_or = data["departements"]["21"]
    assert cote_d_or["page"] == "/lacunes/27-bourgogne-franche-comte/21-cote-d-or/"
    assert cote_d_or["besoins_sans_offre_ids"] == ["salle-reunion-jardins-beaune"]
    assert cote_d_or["offres_tpe_pme_ids"] == ["ordinateurs-reconditionnes-chenove", "comptabilite-benevole-dijon"]
    assert cote_d_or["par_taille"][0] == {"valeur": "tpe", "libelle": "TPE (moins de 10 salariés)",
                                          "besoins_ouverts": 0, "besoins_sans_offre": 0, "offres_ouvertes": 1,
                                          "offres_sans_preneur": 0}
    assert data["national"]["offres_sans_preneur"] == 3
    assert data["national"]["publications_par_mois"][-1] == {"mois": "2026-11", "libelle": "novembre 2026",
                                                             "besoins": 1, "offres": 1}
    assert data == gaps_export(site)  # deterministic


def test_unknown_size_is_counted_apart(site):
    org = site.corpus.organisations["transports-bourgogne"]
    saved = org.data.pop("taille")
    try:
        report = compute_gap_index(site, publication_dates(site)).departements["21"]
        assert ("non_renseignee", "Taille non renseignée") in [(r.valeur, r.libelle) for r in report.by_taille]
    finally:
        org.data["taille"] = saved


# ------------------------------------------------------------------------------ the pages
def test_extra_pages_contract(site):
    pages = extra_pages(site, {})
    urls = [p.url for p in pages]
    geo = site.geography
    assert len(urls) == len(set(urls)) == 1 + len(geo.regions) + 2 * len(geo.departements) + 1
    assert urls == sorted(urls) and all(u.endswith("/") and not u.startswith("/") for u in urls)
    assert {"lacunes/", "lacunes/27-bourgogne-franche-comte/", "lacunes/27-bourgogne-franche-comte/21-cote-d-or/",
            "kit/21-cote-d-or/", "nouveautes/"} <= set(urls)
    for page in pages:
        assert (THEME / f"{page.template}.html").is_file()
        assert page.context["page_title"] and page.context["section"] and page.context["description"]
    templates = {p.url.split("/")[0]: p.template for p in pages}
    assert templates == {"lacunes": "lacunes", "kit": "kit", "nouveautes": "nouveautes"}


def test_gap_page_renders(site):
    page = next(p for p in extra_pages(site, {}) if p.url == "lacunes/27-bourgogne-franche-comte/21-cote-d-or/")
    html = render(page, site)
    assert "Une salle pour notre assemblée générale" in html            # need without offer
    assert "Prêt d&#39;un camion le week-end" in html                    # offer without taker
    assert "Ce que proposent les TPE et PME (2)" in html
    assert 'href="/kit/21-cote-d-or/"' in html and 'href="/territoires/27-bourgogne-franche-comte/21-cote-d-or/"' in html
    assert "« date_publication »" in html                                # the date source is said
    assert 'data-taille="benevole"' in html                              # the size filter's attribute
    assert "<th scope=\"row\">Mise à disposition de locaux</th>" in html
    national = render(next(p for p in extra_pages(site, {}) if p.url == "lacunes/"), site)
    assert 'href="/lacunes/27-bourgogne-franche-comte/"' in national and "Par région" in national
    empty = render(next(p for p in extra_pages(site, {}) if p.url == "lacunes/44-grand-est/67-bas-rhin/"), site)
    assert "Aucune annonce ouverte pour l'instant dans le département" in empty and "Aucune publication pour l'instant" in empty


def test_news_page_lists_the_last_30_days(site):
    since, groups = recent_entries(site)
    assert since == dt.date(2026, 10, 22)
    assert {kind: ids(entries) for kind, entries in groups} == {
        "besoin": ["salle-reunion-jardins-beaune"],
        "offre": ["farine-invendus-besancon"],
        "exemple": ["ordinateurs-reconditionnes-dijon"],   # its source is dated 2026-11-05
    }
    page = next(p for p in extra_pages(site, {}) if p.url == "nouveautes/")
    html = render(page, site)
    assert 'href="/flux/besoins.xml"' in html and 'href="/flux/offres.xml"' in html
    assert "flux RSS par e-mail" in html
    assert "Ordinateurs portables pour nos ateliers" not in html          # published on 1 October
    assert "Sacs de farine en fin de lot" in html
