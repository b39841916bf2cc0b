"""The matcher: every hard condition, ordering and ties, k, reasons in French, inspiring examples,
blocking equal to brute force, and the figures on the labelled set (tests/evaluation)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from associe.matching import (
    COMPATIBLE_TYPES, ExampleIndex, MatchSettings, Suggestion, french_date, fold, inspiring_examples, match, match_all_pairs,
    stem, words,
)
from associe.records import Entry, Place

ROOT = Path(__file__).resolve().parent.parent
EVALUATION = Path(__file__).parent / "evaluation"
BUILD = dt.date(2026, 12, 1)
ANY = MatchSettings(min_score=0.0)      # hard conditions only: every valid pair is suggested

# Real communes (COG 2026): code -> Place
PLACES = {
    "21231": Place("21231", "Dijon", "21", "Côte-d'Or", "27", "Bourgogne-Franche-Comté", 47.32103, 5.04127),
    "21166": Place("21166", "Chenôve", "21", "Côte-d'Or", "27", "Bourgogne-Franche-Comté", 47.29335, 5.0077),
    "21054": Place("21054", "Beaune", "21", "Côte-d'Or", "27", "Bourgogne-Franche-Comté", 47.02123, 4.83743),
    "71076": Place("71076", "Chalon-sur-Saône", "71", "Saône-et-Loire", "27", "Bourgogne-Franche-Comté", 46.78058, 4.85363),
    "25056": Place("25056", "Besançon", "25", "Doubs", "27", "Bourgogne-Franche-Comté", 47.23673, 6.02231),
    "69123": Place("69123", "Lyon", "69", "Rhône", "84", "Auvergne-Rhône-Alpes", 45.76769, 4.83537),
    "75056": Place("75056", "Paris", "75", "Paris", "11", "Île-de-France", 48.85091, 2.35373),
    "13055": Place("13055", "Marseille", "13", "Bouches-du-Rhône", "93", "Provence-Alpes-Côte d'Azur", 43.2976, 5.36943),
}
DIJON_POINT = (47.32103, 5.04127)


def posting(kind: str, ident: str, commune: str = "21231", portee: str = "rayon", rayon: int | None = 30,
            place: Place | None = None, **fields) -> Entry:
    data = {
        "identifiant": ident, "titre": "Ordinateurs portables pour l'atelier numérique",
        "organisation": f"org-{ident}", "type_de_soutien": "don_materiel", "categorie": "mecenat",
        "objet": "informatique", "thematiques": ["numerique", "insertion"],
        "description": "Des ordinateurs portables pour accompagner les demandeurs d'emploi dans leurs démarches.",
        "territoire": {"commune": commune, "portee": portee},
        "date_publication": "2026-10-01", "valable_jusqu_au": "2027-03-31", "statut": "ouvert",
    }
    if portee == "rayon":
        data["territoire"]["rayon_km"] = rayon
    data.update(fields)
    return Entry(kind, ident, f"content/{kind}s/{ident}.yaml", data, place=place or PLACES[commune])


def need(ident: str = "besoin", **kw) -> Entry:
    return posting("besoin", ident, **kw)


def offer(ident: str = "offre", **kw) -> Entry:
    return posting("offre", ident, **kw)


def pairs_of(result) -> set[tuple[str, str]]:
    return {(s.need_id, s.offer_id) for s in result.pairs}


def matched(n: Entry, o: Entry, settings: MatchSettings = ANY) -> bool:
    """Is the pair suggested? Asked to the blocked matcher and to the brute-force reference, so that
    removing a condition from either the index or the exact checks fails the tests."""
    blocked = pairs_of(match([n], [o], BUILD, settings)) == {(n.id, o.id)}
    brute = pairs_of(match_all_pairs([n], [o], BUILD, settings)) == {(n.id, o.id)}
    assert blocked == brute
    return blocked


# ------------------------------------------------------------------ hard conditions
def test_baseline_pair_matches():
    assert matched(need(), offer(commune="21166"))


@pytest.mark.parametrize("need_type, offer_type, expected", [
    ("don_materiel", "don_materiel", True),
    ("don_materiel", "pret_materiel", True),
    ("don_materiel", "soutien_financier", False),
    ("don_materiel", "mecenat_competences", False),
    ("soutien_financier", "don_materiel", False),
    ("achat_responsable", "co_construction", True),
    ("mecenat_competences", "soutien_financier", False),
])
def test_type_de_soutien_must_be_compatible(need_type, offer_type, expected):
    # same objet on both sides: only the type differs
    assert matched(need(type_de_soutien=need_type), offer(type_de_soutien=offer_type)) is expected


def test_compatibility_table_is_documented_and_valid():
    from associe.vocabulary import load_vocabularies

    types = set(load_vocabularies()["type_de_soutien"])
    assert set(COMPATIBLE_TYPES) == types
    assert all(set(v) <= types for v in COMPATIBLE_TYPES.values())
    settings = MatchSettings()
    assert settings.offer_types_for("soutien_logistique") == (
        "soutien_logistique", "pret_materiel", "mise_a_disposition_locaux")
    assert settings.offer_types_for("achat_responsable") == ("achat_responsable", "co_construction")
    assert settings.types_compatible("don_materiel", "pret_materiel")
    assert not settings.types_compatible("pret_materiel", "soutien_financier")
    doc = (ROOT / "docs" / "matching.md").read_text(encoding="utf-8")
    for need_type, offer_types in COMPATIBLE_TYPES.items():
        assert f"`{need_type}`" in doc


@pytest.mark.parametrize("need_objet, offer_objet, expected", [
    ("informatique", "informatique", True),
    ("informatique", "mobilier", False),
    ("fournitures", "materiaux", True),
    ("materiaux", "fournitures", True),
    ("alimentaire", "hygiene", False),
])
def test_objet_must_be_equal_or_near(need_objet, offer_objet, expected):
    assert matched(need(objet=need_objet), offer(objet=offer_objet)) is expected


@pytest.mark.parametrize("side, fields", [
    ("offre", {"valable_jusqu_au": "2026-11-30"}),          # expired the day before the build
    ("besoin", {"valable_jusqu_au": "2026-11-30"}),
    ("offre", {"statut": "pourvu"}),
    ("offre", {"statut": "expire"}),
    ("besoin", {"statut": "pourvu"}),
    ("offre", {"date_publication": "2026-12-02"}),          # not published yet
    ("offre", {"valable_jusqu_au": "31/03/2027"}),          # not a date the loader keeps
    ("besoin", {"date_publication": None}),
    ("besoin", {"valable_jusqu_au": ["2027-03-31"]}),       # not even hashable
])
def test_closed_or_expired_entries_are_not_matched(side, fields):
    n = need(**fields) if side == "besoin" else need()
    o = offer(**fields) if side == "offre" else offer()
    assert not matched(n, o)


def test_open_statuses_and_bounds_of_validity_are_matched():
    assert matched(need(statut="en_cours"), offer(valable_jusqu_au="2026-12-01", date_publication="2026-12-01"))


def test_dates_as_date_objects_or_iso_strings_give_the_same_pair():
    as_text = match([need()], [offer(disponible_a_partir_du="2026-12-15")], BUILD, ANY).pairs
    as_dates = match([need(date_publication=dt.date(2026, 10, 1), valable_jusqu_au=dt.date(2027, 3, 31))],
                     [offer(disponible_a_partir_du=dt.date(2026, 12, 15), valable_jusqu_au=dt.date(2027, 3, 31))],
                     BUILD, ANY).pairs
    assert as_text == as_dates and len(as_text) == 1
    assert "disponible à partir du 15 décembre 2026, jusqu'au 31 mars 2027" in as_text[0].reasons


def test_distance_beyond_radius():
    n = need(commune="21231", rayon=50)                    # Dijon
    assert not matched(n, offer(commune="21054", rayon=30))   # Beaune, 37 km: outside the offer's 30 km
    assert matched(n, offer(commune="21054", rayon=40))
    assert not matched(need(commune="21231", rayon=30), offer(commune="21054", rayon=100))  # outside the need's


def test_reach_must_hold_both_ways():
    national_need = need(commune="21231", portee="national", rayon=None)
    lyon_offer = offer(commune="69123", rayon=30)           # Lyon, 30 km: does not reach Dijon
    assert not matched(national_need, lyon_offer)
    national_offer = offer(commune="69123", portee="national", rayon=None)
    assert not matched(need(commune="21231", rayon=30), national_offer)   # the need does not reach Lyon
    assert matched(national_need, national_offer)


def test_departement_reach_is_membership():
    dijon_dept_offer = offer(commune="21231", portee="departement", rayon=None)
    assert matched(need(commune="21054", rayon=50), dijon_dept_offer)      # Beaune is in Côte-d'Or
    assert not matched(need(commune="71076", rayon=100), dijon_dept_offer)  # Chalon (71) is 60 km away, not in 21
    assert matched(need(commune="71076", portee="departement", rayon=None),
                   offer(commune="71076", portee="departement", rayon=None))


def test_region_reach_is_membership():
    region_offer = offer(commune="21231", portee="region", rayon=None)
    assert matched(need(commune="25056", portee="region", rayon=None), region_offer)   # Besançon, same région
    assert not matched(need(commune="69123", portee="national", rayon=None), region_offer)  # Lyon, other région


def test_national_reach_covers_anywhere():
    suggestion = match([need(commune="13055", portee="national", rayon=None)],
                       [offer(commune="75056", portee="national", rayon=None)], BUILD, ANY).pairs[0]
    assert suggestion.distance_km == pytest.approx(660, abs=2)
    assert suggestion.reasons[0] == "à 660 km (Marseille → Paris)"


def test_commune_reach():
    n = need(commune="21231", portee="commune", rayon=None)
    assert matched(n, offer(commune="21231", portee="commune", rayon=None))
    assert matched(n, offer(commune="21166", rayon=10))                    # Chenôve, 4 km
    assert not matched(n, offer(commune="21054", rayon=100))               # Beaune, 37 km
    assert not matched(n, offer(commune="21166", rayon=10), dataclasses.replace(ANY, commune_reach_km=2))


def test_missing_point_falls_back_to_the_departement_chef_lieu():
    pointless = dataclasses.replace(PLACES["21054"], lat=None, lon=None)   # "Beaune" without a point
    n = need(commune="21054", rayon=10, place=pointless)
    with_points = dataclasses.replace(ANY, departement_points={"21": DIJON_POINT})
    assert matched(n, offer(commune="21166", rayon=10), with_points)        # chef-lieu Dijon: 4 km from Chenôve
    assert not matched(n, offer(commune="21054", rayon=10), with_points)    # the real Beaune is 37 km from Dijon
    # no point at all: the radius stands for the département
    without = dataclasses.replace(ANY, departement_points={})
    assert matched(n, offer(commune="21054", rayon=10), without)
    assert not matched(n, offer(commune="71076", rayon=100), without)
    result = match([n], [offer(commune="21054", rayon=10)], BUILD, without)
    assert result.pairs[0].distance_km is None
    assert result.pairs[0].reasons[0] == "même commune (Beaune)"


def test_default_fallback_reads_the_territories(monkeypatch):
    pytest.importorskip("associe.territories")
    pointless = dataclasses.replace(PLACES["21054"], lat=None, lon=None)
    n = need(commune="21054", rayon=10, place=pointless)
    assert matched(n, offer(commune="21166", rayon=10))                      # Côte-d'Or chef-lieu is Dijon


def test_same_organisation_and_fictitious_mix_are_excluded():
    assert not matched(need(organisation="x"), offer(organisation="x"))
    assert not matched(need(fictif=True), offer())
    assert matched(need(fictif=True), offer(fictif=True))
    assert matched(need(fictif=True), offer(), dataclasses.replace(ANY, mix_fictitious=True))


def test_min_score_drops_weak_pairs():
    n = need()
    weak = offer(titre="Cartons de déménagement", description="Des cartons vides et du papier bulle.",
                 thematiques=["culture"], categorie="innovation_societale")
    assert matched(n, weak, ANY)
    assert not matched(n, weak, MatchSettings())


def test_entries_without_place_are_skipped():
    n = need()
    n.place = None
    result = match([n], [offer()], BUILD, ANY)
    assert result.for_need == {} and result.pairs == []


# ------------------------------------------------------------------ ordering, ties, k
def test_ties_are_broken_by_ids_and_input_order_does_not_matter():
    needs = [need("b-besoin"), need("a-besoin")]
    offers = [offer("c-offre"), offer("a-offre"), offer("b-offre")]
    result = match(needs, offers, BUILD, ANY)
    assert [s.offer_id for s in result.for_need["a-besoin"]] == ["a-offre", "b-offre", "c-offre"]
    assert [s.need_id for s in result.for_offer["b-offre"]] == ["a-besoin", "b-besoin"]
    assert [(s.need_id, s.offer_id) for s in result.pairs][:3] == [
        ("a-besoin", "a-offre"), ("a-besoin", "b-offre"), ("a-besoin", "c-offre")]
    again = match(list(reversed(needs)), list(reversed(offers)), BUILD, ANY)
    assert again == result


def test_better_pairs_come_first():
    n = need(commune="21231", rayon=50)
    near = offer("z-proche", commune="21166")
    far = offer("a-loin", commune="21054", rayon=50)
    assert [s.offer_id for s in match([n], [far, near], BUILD, ANY).for_need[n.id]] == ["z-proche", "a-loin"]


def test_k_limits_both_sides_from_the_same_pairs():
    needs = [need(f"besoin-{i}") for i in range(4)]
    offers = [offer(f"offre-{i}") for i in range(7)]
    result = match(needs, offers, BUILD, dataclasses.replace(ANY, k=3))
    assert all(len(v) == 3 for v in result.for_need.values())
    assert all(len(v) == 3 for v in result.for_offer.values())
    listed = {(s.need_id, s.offer_id) for v in result.for_need.values() for s in v}
    listed |= {(s.need_id, s.offer_id) for v in result.for_offer.values() for s in v}
    assert pairs_of(result) == listed
    assert result.pairs == sorted(result.pairs, key=lambda s: (-s.score, s.need_id, s.offer_id))
    same = {(s.need_id, s.offer_id): s for s in result.pairs}
    for suggestions in result.for_offer.values():
        assert all(same[(s.need_id, s.offer_id)] is s for s in suggestions)


def test_every_open_entry_has_a_key():
    result = match([need("seul")], [offer("autre", objet="mobilier")], BUILD, ANY)
    assert result.for_need == {"seul": []} and result.for_offer == {"autre": []}


# ------------------------------------------------------------------ reasons, in French
def test_reasons_in_french():
    n = need(commune="21231", quantite={"valeur": 12, "unite": "ordinateurs portables"})
    o = offer(commune="21166", quantite={"valeur": 20, "unite": "ordinateurs portables"},
              titre="Vingt ordinateurs portables reconditionnés",
              description="Ordinateurs portables reconditionnés pour des ateliers numériques d'insertion.")
    (s,) = match([n], [o], BUILD, ANY).pairs
    assert isinstance(s, Suggestion) and 0 < s.score <= 1
    assert s.distance_km == pytest.approx(4.0, abs=0.1)
    assert s.reasons[:5] == (
        "à 4 km (Dijon → Chenôve)",
        "même type de soutien : Don de matériel",
        "thématiques communes : Inclusion numérique, Insertion et emploi",
        "même catégorie : Mécénat",
        "disponible jusqu'au 31 mars 2027",
    )
    assert s.reasons[5] == ("quantité suffisante : 20\u202fordinateurs portables pour un besoin de "
                            "12\u202fordinateurs portables".replace("\u202f", " "))
    assert s.reasons[6].startswith("mots en commun : ") and "ordinateurs" in s.reasons[6]


def test_reasons_for_same_commune_compatible_types_and_later_availability():
    n = need(commune="21231", thematiques=["insertion"], quantite={"valeur": 30, "unite": "tablettes"})
    o = offer(commune="21231", type_de_soutien="pret_materiel", objet="informatique", thematiques=["numerique"],
              disponible_a_partir_du="2027-01-01", quantite={"valeur": 1, "unite": "tonne"})
    (s,) = match([n], [o], BUILD, ANY).pairs
    assert s.reasons[0] == "même commune (Dijon)"
    assert s.reasons[1] == "types de soutien compatibles : Don de matériel et Prêt de matériel"
    assert "disponible à partir du 1er janvier 2027, jusqu'au 31 mars 2027" in s.reasons
    assert not any(r.startswith("thématique") or r.startswith("quantité") for r in s.reasons)


def test_partial_quantity_and_near_objets_reasons():
    n = need(objet="materiaux", quantite={"valeur": 2, "unite": "tonnes"})
    o = offer(objet="fournitures", quantite={"valeur": 500, "unite": "kg"})
    (s,) = match([n], [o], BUILD, ANY).pairs
    assert "objets proches : Matériaux et outillage et Fournitures et petit équipement" in s.reasons
    assert "quantité partielle : 500 kg pour un besoin de 2 tonnes" in s.reasons


def test_french_dates():
    assert french_date(dt.date(2027, 3, 31)) == "31 mars 2027"
    assert french_date(dt.date(2026, 5, 1)) == "1er mai 2026"
    assert french_date(dt.date(2026, 8, 15)) == "15 août 2026"


def test_french_text_normalisation():
    assert fold("Économie Œuvre") == "economie oeuvre"
    assert stem("ordinateurs") == stem("ordinateur")
    assert stem("informatique") == stem("informaticiens")
    assert stem("numeriques") == stem("numerique")
    assert [t for t, _ in words("Les vélos de l'association")] == [stem("velos"), stem("association")]
    assert words("et pour les 12 https://exemple.fr/x") == []


def test_text_closeness_ranks_the_right_offer_first():
    n = need(titre="Un logiciel de traçabilité des denrées",
             description="Adapter notre logiciel de traçabilité et former les bénévoles.",
             type_de_soutien="mecenat_competences", objet="competences")
    compta = offer("a-compta", titre="Experts-comptables bénévoles", description="Tenue de la comptabilité et budget.",
                   type_de_soutien="mecenat_competences", objet="competences")
    info = offer("b-info", titre="Informaticiens en mécénat", description="Adapter un logiciel, former les utilisateurs.",
                 type_de_soutien="mecenat_competences", objet="competences")
    assert [s.offer_id for s in match([n], [compta, info], BUILD, ANY).for_need[n.id]] == ["b-info", "a-compta"]


# ------------------------------------------------------------------ inspiring examples
def example(ident: str, categorie="mecenat", type_de_soutien="don_materiel", thematiques=("numerique",),
            region: str | None = "27", **extra) -> Entry:
    data = {"identifiant": ident, "titre": f"Exemple {ident}", "categorie": categorie,
            "type_de_soutien": type_de_soutien, "thematiques": list(thematiques), **extra}
    place = Place(None, None, None, None, region, None, None, None)
    return Entry("exemple", ident, f"content/exemples/{ident}.yaml", data, place=place)


def test_inspiring_examples():
    n = need(thematiques=["numerique", "insertion"])
    examples = [
        example("z-autre", categorie="innovation_societale", type_de_soutien="co_construction"),   # neither
        example("b-une-thematique", thematiques=["numerique"]),
        example("c-deux-thematiques-ailleurs", thematiques=["numerique", "insertion"], region="84"),
        example("d-deux-thematiques-ici", thematiques=["insertion", "numerique"]),
        example("a-meme-type", categorie="innovation_societale", thematiques=["culture"]),
        example("e-lie", thematiques=["culture"], categorie="cooperation_economique", besoin="besoin"),
    ]
    chosen = inspiring_examples(n, examples, k=3)
    assert [e.id for e in chosen] == ["e-lie", "d-deux-thematiques-ici", "c-deux-thematiques-ailleurs"]
    assert [e.id for e in inspiring_examples(n, examples, k=10)][-2:] == ["b-une-thematique", "a-meme-type"]
    assert inspiring_examples(n, list(reversed(examples)), k=10) == inspiring_examples(n, examples, k=10)
    assert inspiring_examples(n, [], k=3) == []


# ------------------------------------------------------------------ blocking = brute force
def _synthetic(seed: int, count: int):
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from synthetic import generate
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return generate(needs=count, offers=count, organisations=count // 3, examples=0, seed=seed,
                    today=dt.date(2026, 11, 24))


@pytest.mark.parametrize("seed, settings", [
    (3, MatchSettings()),
    (5, MatchSettings(min_score=0.0, k=8)),
    (8, MatchSettings(min_score=0.0, cell_degrees=0.25, commune_reach_km=25.0)),
])
def test_blocked_matching_equals_brute_force(seed, settings):
    directory = _synthetic(seed, 400)
    needs, offers = directory.needs(), directory.offers()
    rng = random.Random(seed)
    for entry in rng.sample(needs, 20) + rng.sample(offers, 20):   # some places without a point
        entry.place = dataclasses.replace(entry.place, lat=None, lon=None)
    settings = dataclasses.replace(settings, departement_points={} if seed == 5 else None)
    day = dt.date(2026, 11, 24)
    blocked, brute = match(needs, offers, day, settings), match_all_pairs(needs, offers, day, settings)
    assert blocked.valid == brute.valid and blocked.valid > 100
    assert blocked.candidates < brute.candidates / 5
    assert blocked.for_need == brute.for_need
    assert blocked.for_offer == brute.for_offer
    assert blocked.pairs == brute.pairs


# ------------------------------------------------------------------ evaluation on the labelled set
def test_labelled_set_is_consistent():
    from associe.evaluation import load_labelled_set, reference_date

    needs, offers, judgements = load_labelled_set(EVALUATION)
    assert len(needs) >= 30 and len(offers) >= 60
    assert reference_date(EVALUATION) == dt.date(2026, 12, 1)
    # every judged-relevant pair passes the hard conditions (or the judgement could never be met)
    everything = match(needs, offers, reference_date(EVALUATION), MatchSettings(min_score=0.0, k=100))
    reachable = pairs_of(everything)
    assert [(n, o) for n, rel in judgements.items() for o in rel if (n, o) not in reachable] == []
    # the tricky negatives really are excluded by the hard conditions
    for n, o in [("banque-alimentaire-logiciel-tracabilite", "developpeurs-mecenat-toulouse"),    # 700 km
                 ("banque-alimentaire-logiciel-tracabilite", "ibm-don-ordinateurs-strasbourg"),   # wrong type
                 ("maison-quartier-montreuil-tablettes-seniors", "operateur-tablettes-expire"),    # expired
                 ("docteur-souris-equipement-enfants-hospitalises", "ordinateurs-portables-pourvu-paris"),
                 ("epicerie-solidaire-saint-denis-invendus", "restaurant-entreprise-paris-repas"),  # one way only
                 ("association-toulouse-atelier-theatre-jeunes", "fondation-nationale-sante")]:
        assert (n, o) not in reachable


def test_evaluation_figures():
    from associe.evaluation import evaluate

    figures = evaluate(EVALUATION)
    assert figures["needs"] >= 30
    assert figures["precision_at_3"] >= 0.75
    assert figures["recall_at_5"] >= 0.9
    assert figures["suggestions_without_relevant"] == 0


def test_main_evaluate_prints_the_figures(capsys):
    from associe.evaluation import main_evaluate

    assert main_evaluate([str(EVALUATION)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.fullmatch(r"precision@3=\d\.\d\d recall@5=\d\.\d\d besoins=\d+", last)


def test_main_evaluate_reports_a_broken_set(tmp_path, capsys):
    from associe.evaluation import main_evaluate

    (tmp_path / "besoins").mkdir()
    (tmp_path / "offres").mkdir()
    (tmp_path / "jugements.yaml").write_text("date_de_reference: '2026-12-01'\njugements:\n  inconnu: []\n",
                                             encoding="utf-8")
    assert main_evaluate([str(tmp_path)]) == 1
    assert "inconnu" in capsys.readouterr().err


# ------------------------------------------------------------------ benchmarks and synthetic data
def test_synthetic_directory_is_deterministic_and_valid(tmp_path):
    pytest.importorskip("associe.validation")
    from associe.validation import check

    first, second = _synthetic(11, 30), _synthetic(11, 30)
    assert [e.data for e in first.all()] == [e.data for e in second.all()]
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "synthetic.py"), "--entries", "60", "--out",
                           str(tmp_path), "--seed", "2"], capture_output=True, text=True, check=True)
    assert "fichiers écrits" in done.stdout
    result = check([tmp_path], root=tmp_path)
    assert [str(p) for p in result.errors] == []
    assert len(result.corpus.besoins) == 30 and len(result.corpus.offres) == 30


def test_matching_benchmark_last_line():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "matching.py"), "--needs", "300", "--offers", "300"],
                          capture_output=True, text=True, check=True)
    assert re.fullmatch(r"matching_s=\d+\.\d\d peak_mb=\d+", done.stdout.strip().splitlines()[-1])


def _items_for_the_rules(seed: int, many_thematics: bool | str = False):
    from associe import matching as m

    directory = _synthetic(seed, 300)
    needs, offers = directory.needs(), directory.offers()
    for entry in needs[:10] + offers[:10]:
        entry.place = dataclasses.replace(entry.place, lat=None, lon=None)
    for entry in needs[10:14] + offers[10:14]:      # no organisation: never "the same one"
        entry.data.pop("organisation", None)
    for entry in needs[::7] + offers[::5]:   # real entries among the (fictitious) synthetic ones
        entry.data["fictif"] = False
    if many_thematics:      # more thematics than bits in a mask: counted by the Python path
        extended = offers if many_thematics == "offers" else needs + offers
        for position, entry in enumerate(extended):
            entry.data["thematiques"] = list(entry.data.get("thematiques") or ()) + [f"t{position % 97}"]
    day = dt.date(2026, 11, 24)
    settings = MatchSettings(min_score=0.0, departement_points={})
    need_items, offer_items = m._prepare(needs, day), m._prepare(offers, day)
    m._fill_points(need_items + offer_items, settings)
    vectors = m.tfidf_vectors([m.terms(i.entry) for i in need_items + offer_items], settings.max_text_terms)
    for item, vec in zip(need_items + offer_items, vectors):
        item.vec = vec
    return need_items, offer_items, m._Scorer(settings)


@pytest.mark.parametrize("seed, many_thematics", [(13, False), (14, True), (15, "offers")])
def test_pair_rules_on_columns_equal_the_readable_definition(seed, many_thematics):
    """``pair_scores.PairRules.judge`` applies the conditions and the score parts to whole columns
    of pairs; ``_Scorer.reference`` applies them one pair at a time, as documented. Judged all at
    once (every need with every offer, compatible or not), they agree on every pair."""
    import numpy as np

    from associe import pair_scores

    need_items, offer_items, scorer = _items_for_the_rules(seed, many_thematics)
    codes = pair_scores.FieldCodes()
    rules = pair_scores.PairRules(scorer, codes, pair_scores.Columns(need_items, codes),
                                  pair_scores.Columns(offer_items, codes), 6371.0088)
    # masks are used only when both sides have them (here the needs' codes fit, the offers' not)
    assert (rules.needs.theme_mask is None) == (many_thematics is True)
    assert (rules.offers.theme_mask is None) == bool(many_thematics)
    need_rows = np.repeat(np.arange(len(need_items)), len(offer_items))
    offer_rows = np.tile(np.arange(len(offer_items)), len(need_items))
    ni, oi, scores, distances = rules.judge(need_rows, offer_rows)
    judged = {(n, o): (score, d) for n, o, score, d in zip(ni.tolist(), oi.tolist(), scores, distances)}
    agreed = 0
    for n in need_items:
        for o in offer_items:
            slow = scorer.reference(n, o)
            fast = judged.get((n.rank, o.rank))
            assert (fast is None) == (slow is None), (n.id, o.id)
            if fast is not None:
                assert fast[0] == pytest.approx(slow[0], abs=2e-6)
                assert (fast[1] is None) == (slow[1] is None)
                assert fast[1] is None or fast[1] == pytest.approx(slow[1], rel=1e-9)
                assert scorer.evaluate(n, o) == fast     # one pair alone: the same answer
                agreed += 1
    assert agreed > 40
    assert any(d is None for d in distances) and any(d is not None for d in distances)


def test_codes_pair_values_as_equality_does():
    from associe.pair_scores import Codes

    places = Codes()                 # a missing place equals nothing
    assert places(None) == -1 and places("21") == places("21") != places("25") >= 0
    categories = Codes(none_code=None)   # two entries without catégorie share it
    assert categories(None) == categories(None) >= 0
    assert categories(["liste"]) == categories(["liste"]) != categories(["autre"])   # unhashable
    assert list(places.column(["25", None, "21"])) == [places("25"), -1, places("21")]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the second process uses os.fork (Linux only)")
def test_two_processes_give_the_same_result():
    directory = _synthetic(21, 300)
    needs, offers = directory.needs(), directory.offers()
    day = dt.date(2026, 11, 24)
    one = match(needs, offers, day, MatchSettings(min_score=0.0, workers=1))
    two = match(needs, offers, day, MatchSettings(min_score=0.0, workers=2, parallel_threshold=2))
    assert one == two and len(one.pairs) > 50


def test_example_index_gives_the_ranking_of_every_candidate_example():
    """The per-profile cache of ExampleIndex (regression: sorting every candidate for every entry
    took 52 s at 50,000 entries) returns exactly the full ranking's first k."""
    rng = random.Random(7)
    categories = ["mecenat", "innovation_societale", "cooperation_economique"]
    types = ["don_materiel", "co_construction", "mecenat_competences"]
    themes = ["numerique", "insertion", "culture", "sport"]
    examples = [example(f"ex-{i:02d}", categorie=rng.choice(categories), type_de_soutien=rng.choice(types),
                        thematiques=rng.sample(themes, rng.randint(0, 3)), region=rng.choice(["27", "84"]),
                        **({"besoin": f"b{rng.randint(0, 9)}"} if rng.random() < 0.3 else {}))
                for i in range(40)]
    index = ExampleIndex(examples)

    def reference(entry, k):
        cat, kind = entry.get("categorie"), entry.get("type_de_soutien")
        mine = set(entry.get("thematiques") or ())
        region = entry.place.region

        def key(ex):
            return (ex.get("besoin") != entry.id, -len(mine & set(ex.get("thematiques") or ())),
                    ex.place.region != region, -((ex.get("categorie") == cat) + (ex.get("type_de_soutien") == kind)),
                    ex.id)
        pool = [ex for ex in examples if ex.get("categorie") == cat or ex.get("type_de_soutien") == kind]
        return sorted(pool, key=key)[:k]

    for i in range(200):
        n = need(f"b{i % 12}", categorie=rng.choice(categories), type_de_soutien=rng.choice(types),
                 thematiques=rng.sample(themes, rng.randint(1, 3)))
        for k in (1, 3):
            assert [e.id for e in index.for_entry(n, k)] == [e.id for e in reference(n, k)]
    # few or no shared thematics: the ranking goes on with the examples sharing none, same région first
    # (regions include one without examples and examples without a région)
    examples += [example(f"ex-{i:02d}", categorie=rng.choice(categories), type_de_soutien=rng.choice(types),
                         thematiques=rng.sample(themes, rng.randint(0, 1)), region=rng.choice(["27", "84", "11", None]))
                 for i in range(40, 70)]
    index = ExampleIndex(examples)
    for i in range(300):
        commune = rng.choice(["21231", "69123", "75056", "13055"])
        n = need(f"b{i % 12}", commune=commune, categorie=rng.choice(categories), type_de_soutien=rng.choice(types),
                 thematiques=rng.sample(themes + ["sante", "environnement"], rng.randint(0, 2)))
        for k in (1, 3, 8, 40):
            assert [e.id for e in index.for_entry(n, k)] == [e.id for e in reference(n, k)]


# ------------------------------------------------------------------ fast term reading
TRICKY_TEXTS = [
    "Écoles et ÉCOLES d'Île-de-France : l’atelier « numérique » accueille 12 jeunes",
    "Ordinateurs_portables, OEUVRE / œuvre — cœur\u00a0d'activité\u202fet\tfin\r\nligne",
    "Voir https://exemple.fr/page?x=1 et www.exemple.org, puis «Straße» ΣΟΦΙΑΣ. Ça marche !",
    "Μεταφορά ΟΔΟΣ; ΑΣ ΣΑΣ — emoji 🎉 et nombres 2027 1er 3e",
    "", "   ", "a b c d", "DÉMÉNAGEMENT déménagements Déménageurs",
    "mixed\udcffsurrogate",
    "0éΣ.x ΟΔΟΣ: ΣΑΣ_Α 0éΣ",          # final sigma: lowercase depends on the next cased letter
]


@pytest.mark.parametrize("text", TRICKY_TEXTS)
def test_fast_term_counts_are_the_terms_of_the_readable_reader(text):
    entry = Entry("besoin", "b", "b.yaml", {"titre": text[: len(text) // 2], "description": text})
    from collections import Counter

    from associe.matching import term_counts, terms, written_forms
    surfaces: dict[str, str] = {}
    assert term_counts(entry) == Counter(terms(entry, surfaces))
    assert written_forms(entry) == surfaces


def test_fast_term_counts_match_on_random_unicode_texts():
    from collections import Counter

    from hypothesis import given, settings, strategies as st

    from associe.matching import term_counts, terms, written_forms

    @settings(max_examples=500, deadline=None, derandomize=True)   # the same examples on every run
    @given(st.text(alphabet=st.characters(codec="utf-8"), max_size=80),
           st.text(alphabet="aAéÉèœŒ’'«» _-.,:;!?0129\u00a0\t\nxyzΣσς", max_size=80))
    def check(title, description):
        entry = Entry("offre", "o", "o.yaml", {"titre": title, "description": description})
        surfaces: dict[str, str] = {}
        assert term_counts(entry) == Counter(terms(entry, surfaces))
        assert written_forms(entry) == surfaces

    check()


@pytest.mark.parametrize("cells", [1, 7, 4_000_000])     # blocks of 1 need, of a few, of all
def test_text_columns_give_exactly_the_cosine_of_the_dictionaries(monkeypatch, cells):
    """The cosines read from flat arrays are the very floats ``cosine`` sums (same order), for
    pairs in any order, needs or offers without words, words only one side has."""
    import numpy as np

    from associe.pair_scores import TextColumns, cosine

    rng = random.Random(cells)
    words = [f"mot{i}" for i in range(40)]

    def vector():
        chosen = rng.sample(words, rng.randint(0, 12))
        weights = [rng.random() for _ in chosen]
        norm = sum(w * w for w in weights) ** 0.5 or 1.0
        return {word: w / norm for word, w in zip(chosen, weights)}

    needs = [vector() for _ in range(60)]
    offers = [vector() for _ in range(50)]
    monkeypatch.setattr(TextColumns, "TABLE_CELLS", cells)
    columns = TextColumns(needs, offers)
    ni = np.array([rng.randrange(60) for _ in range(3000)], dtype=np.intp)
    oi = np.array([rng.randrange(50) for _ in range(3000)], dtype=np.intp)
    for rows in ((ni, oi), (np.sort(ni), oi), (ni[:0], oi[:0]), (ni[:1], oi[:1])):
        got = columns.cosines(*rows).tolist()
        assert got == [cosine(needs[n], offers[o]) for n, o in zip(*(r.tolist() for r in rows))]
    assert sum(1 for value in columns.cosines(ni, oi).tolist() if 0 < value < 1) > 1000
    assert sum(1 for n, o in zip(ni.tolist(), oi.tolist()) if len(needs[n].keys() & offers[o].keys()) >= 3) > 100
