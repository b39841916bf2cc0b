"""Tests of the territory reference (associe.territories) on the shipped data."""

from __future__ import annotations

import dataclasses
import shutil
import time

import pytest

from associe import territories
from associe.territories import (
    Commune,
    Departement,
    Geography,
    autocomplete_index,
    haversine_km,
    load_geography,
)


@pytest.fixture(scope="module")
def geo() -> Geography:
    return load_geography()


# -- loading -----------------------------------------------------------------


def test_tables_are_complete(geo):
    assert len(geo.communes) == 35014
    assert len(geo.departements) == 109
    assert len(geo.regions) == 26
    assert len(geo.epci) == 1255


def test_default_load_is_cached(geo):
    assert load_geography() is geo


def test_explicit_directory_is_read_again(tmp_path):
    for name in ("communes.csv", "departements.csv", "regions.csv", "epci.csv"):
        shutil.copy(territories.DATA_DIR / name, tmp_path / name)
    first = load_geography(tmp_path)
    assert first is not load_geography()
    assert first is not load_geography(tmp_path)
    assert first.communes == load_geography().communes


def test_load_is_fast():
    # The build loads the tables on every run: budget 0.3 s, measured ~0.2 s.
    # The bound here is loose so that a busy machine does not fail the suite;
    # it still catches an accidental slow path (pandas, per-row regex...).
    start = time.process_time()
    territories._load(territories.DATA_DIR)
    assert time.process_time() - start < 1.0


def test_missing_column_is_reported_in_french(tmp_path):
    for name in ("departements.csv", "regions.csv", "epci.csv"):
        shutil.copy(territories.DATA_DIR / name, tmp_path / name)
    (tmp_path / "communes.csv").write_text("code_insee,nom\n21231,Dijon\n", encoding="utf-8")
    with pytest.raises(ValueError, match="colonne"):
        load_geography(tmp_path)


def test_codes_stay_strings(geo):
    assert "01" in geo.departements
    assert "2A" in geo.departements and "2B" in geo.departements
    assert geo.commune("01001").departement == "01"
    assert all(isinstance(code, str) for code in geo.communes)
    assert geo.epci["200000172"].population == 28363


def test_communes_are_genuine_frozen_dataclasses(geo):
    dijon = geo.commune("21231")
    assert type(dijon) is Commune
    rebuilt = Commune(**{f.name: getattr(dijon, f.name) for f in dataclasses.fields(Commune)})
    assert rebuilt == dijon and hash(rebuilt) == hash(dijon)
    with pytest.raises(dataclasses.FrozenInstanceError):
        dijon.nom = "Autre"
    assert not hasattr(dijon, "__dict__")  # slots


# -- lookups -----------------------------------------------------------------


def test_dijon_is_in_cote_d_or_in_bourgogne_franche_comte(geo):
    dijon = geo.commune("21231")
    assert dijon.nom == "Dijon"
    assert dijon.codes_postaux == ("21000",)
    assert geo.departement_of("21231") == Departement("21", "Côte-d'Or", "27", "21231", "metro")
    assert geo.region_of("21231").code == "27"
    assert geo.region_of("21231").nom == "Bourgogne-Franche-Comté"


def test_corsica(geo):
    assert geo.departement_of("2A004").nom == "Corse-du-Sud"
    assert geo.departement_of("2B033").nom == "Haute-Corse"
    assert geo.region_of("2B033").code == "94"
    assert [d.code for d in geo.departements_in_region("94")] == ["2A", "2B"]
    ajaccio = geo.communes_in_departement("2A")
    assert ajaccio and all(c.departement == "2A" and c.code.startswith("2A") for c in ajaccio)
    assert {c.code for c in ajaccio}.isdisjoint(c.code for c in geo.communes_in_departement("2B"))


def test_departements_are_in_official_order(geo):
    codes = list(geo.departements)
    metro = [f"{n:02d}" for n in range(1, 20)] + ["2A", "2B"] + [f"{n:02d}" for n in range(21, 96)]
    assert codes[:96] == metro
    assert codes[96:101] == ["971", "972", "973", "974", "976"]
    assert codes[101:] == ["975", "977", "978", "984", "986", "987", "988", "989"]


def test_every_departement_is_in_exactly_one_region(geo):
    seen: dict[str, str] = {}
    for region in geo.regions:
        for departement in geo.departements_in_region(region):
            assert departement.code not in seen, f"{departement.code} in {seen.get(departement.code)} and {region}"
            seen[departement.code] = region
    assert set(seen) == set(geo.departements)
    assert len(geo.departements_in_region("27")) == 8


def test_communes_match_their_departement_and_region(geo):
    for commune in geo.communes.values():
        departement = geo.departements[commune.departement]
        assert commune.region == departement.region, commune.code
        assert commune.code.startswith(commune.departement[:2]), commune.code
        assert commune.epci is None or commune.epci in geo.epci, commune.code


def test_arrondissements_and_parents_are_both_kept(geo):
    assert geo.commune("75056").type == "commune"
    assert geo.commune("75111").type == "arrondissement"
    assert geo.commune("75111").parente == "75056"
    paris_arrondissements = [c for c in geo.communes.values() if c.parente == "75056"]
    assert len(paris_arrondissements) == 20
    assert sum(c.population for c in paris_arrondissements) == geo.commune("75056").population


def test_unknown_code(geo):
    assert geo.commune("21000") is None
    with pytest.raises(KeyError, match="21231"):  # the message suggests Dijon
        geo.departement_of("21000")
    assert geo.communes_in_departement("00") == []


# -- points and distances --------------------------------------------------------


def test_haversine_known_distances(geo):
    # Town halls of Dijon and Chenôve are 4.0 km apart.
    assert 3.5 < haversine_km(*geo.point("21231"), *geo.point("21166")) < 6
    assert 650 < haversine_km(*geo.point("75056"), *geo.point("13055")) < 670
    assert haversine_km(47.0, 5.0, 47.0, 5.0) == 0


def test_overseas_collectivity_has_no_point(geo):
    # 975: neither Saint-Pierre-et-Miquelon's communes nor its chef-lieu have coordinates.
    assert geo.commune("97501").lat is None
    assert geo.commune("97502").lat is None
    assert geo.point("97501") is None
    assert geo.point("98735") is None  # Papeete


def test_commune_without_point_falls_back_to_chef_lieu(geo):
    # Lanester's point is NaN in the source: fall back on Vannes (56260).
    assert geo.commune("56098").lat is None
    assert geo.point("56098") == geo.point("56260") == (geo.commune("56260").lat, geo.commune("56260").lon)


def test_broken_points_are_repaired_or_dropped(geo):
    dineault = geo.commune("29044")  # source: +4.16556, Finistère is west of Greenwich
    assert dineault.lon == pytest.approx(-4.16556)
    assert geo.commune("97129").lon == pytest.approx(-61.69547)  # Sainte-Rose, Guadeloupe
    assert geo.commune("17020").lon == pytest.approx(-0.31403)  # Arthenac, inside a wide EPCI
    cuy = geo.commune("60192")  # source: latitude copied into the longitude
    assert cuy.lat is None and cuy.lon is None
    assert geo.point("60192") == geo.point("60057")  # Beauvais
    assert set(geo._coordinate_issues) >= {"29044", "97129", "60192", "56098"}
    assert len(geo._coordinate_issues) < 150


def test_point_checks_on_small_tables(tmp_path):
    # One département: an EPCI of 60 communes around Quimper, a remote EPCI of
    # 3 communes (Belle-Île-like, 100 km away: kept, its communes agree), and
    # 3 communes without EPCI (islands): one fine, one with a lost minus sign,
    # one broken.
    # (The checks rely on medians and a 90th percentile: they assume that far
    # fewer than 10 % of a département's points are broken, as in the source.)
    (tmp_path / "regions.csv").write_text("code,nom,chef_lieu,zone\n53,Bretagne,29001,metro\n", encoding="utf-8")
    (tmp_path / "departements.csv").write_text(
        "code,nom,region,chef_lieu,zone\n29,Finistère,53,29001,metro\n", encoding="utf-8"
    )
    (tmp_path / "epci.csv").write_text(
        'siren,nom,type,population\n1,"CA Test, Quimper",CA,60\n2,CC Île,CC,3\n', encoding="utf-8"
    )
    lines = ["code_insee,nom,type,commune_parente,departement,region,epci,codes_postaux,population,latitude,longitude"]
    for i in range(60):
        lines.append(f"290{i + 1:02d},C{i},commune,,29,53,1,29000,1,{48.0 + i % 10 / 50:.3f},{-4.1 + i // 10 / 50:.3f}")
    for i in range(3):
        lines.append(f"2920{i},B{i},commune,,29,53,2,29360,1,{47.32 + i / 50:.3f},{-3.17 - i / 50:.3f}")
    lines.append("29101,Ile bonne,commune,,29,53,,29990,1,48.05,-4.05")
    lines.append("29102,Ile signe,commune,,29,53,,29990,1,48.1,4.08")
    lines.append("29103,Ile cassee,commune,,29,53,,29990,1,49.5,49.5")
    (tmp_path / "communes.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    small = load_geography(tmp_path)
    assert small.epci["1"].nom == "CA Test, Quimper"  # quoted field: csv module path
    assert small.commune("29101").lon == -4.05
    assert small.commune("29102").lon == -4.08
    assert small.commune("29103").lat is None
    assert small.point("29103") == small.point("29001") == (48.0, -4.1)
    assert small.commune("29202").lon == -3.21
    assert set(small._coordinate_issues) == {"29102", "29103"}


def test_every_point_is_near_its_departement(geo):
    limits = {"metro": 160, "drom": 300}
    for commune in geo.communes.values():
        if commune.lat is None:
            continue
        departement = geo.departements[commune.departement]
        distance = haversine_km(commune.lat, commune.lon, *geo.point(departement.chef_lieu))
        assert distance < limits[departement.zone], (commune.code, commune.nom, round(distance))


def test_every_departement_chef_lieu_has_a_point(geo):
    for departement in geo.departements.values():
        if departement.zone != "com":
            assert geo.commune(departement.chef_lieu).lat is not None, departement.code


# -- suggestions -----------------------------------------------------------------


def codes(communes: list[Commune]) -> list[str]:
    return [c.code for c in communes]


def test_suggest_postcode(geo):
    assert "21231" in codes(geo.suggest("21000"))
    assert codes(geo.suggest("75011")) == ["75111", "75056"]
    # '13001' is both Aix-en-Provence's INSEE code and Marseille 1er's postcode.
    assert codes(geo.suggest("13001"))[:2] == ["13001", "13201"]


def test_suggest_names_ignore_case_and_accents(geo):
    assert codes(geo.suggest("dijon"))[0] == "21231"
    assert codes(geo.suggest("SAINT ETIENNE"))[0] == "42218"
    assert codes(geo.suggest("St-Étienne"))[0] == "42218"
    assert codes(geo.suggest("Saint-Denis (97400)")) == ["97411"]
    assert codes(geo.suggest("saint denis"))[:2] == ["97411", "93066"]  # homonyms, largest first
    assert codes(geo.suggest("Saint-Denis 93")) == ["93066"]
    assert codes(geo.suggest("Marseile"))[0] == "13055"


def test_suggest_other_code_mistakes(geo):
    assert codes(geo.suggest("1053")) == ["01053"]  # leading zero lost by a spreadsheet
    assert codes(geo.suggest("20004")) == ["2A004"]  # pre-1976 Corsican code
    assert codes(geo.suggest("2a004")) == ["2A004"]
    assert len(geo.suggest("21999")) == 3  # one typo away, same département
    assert all(c.departement == "21" for c in geo.suggest("21999"))


def test_suggest_returns_at_most_three(geo):
    assert len(geo.suggest("Saint")) == 3
    assert geo.suggest("") == []
    assert geo.suggest("zzzzqqqq") == []


# -- slugs -------------------------------------------------------------------------


def test_slugs(geo):
    assert geo.slug_departement("21") == "21-cote-d-or"
    assert geo.slug_departement("2A") == "2a-corse-du-sud"
    assert geo.slug_region("27") == "27-bourgogne-franche-comte"
    assert geo.slug_region("93") == "93-provence-alpes-cote-d-azur"


def test_slugs_are_ascii_and_unique(geo):
    slugs = [geo.slug_departement(code) for code in geo.departements]
    slugs += [geo.slug_region(code) for code in geo.regions]
    for slug in slugs:
        assert slug.isascii() and slug == slug.lower(), slug
        assert all(ch.isalnum() or ch == "-" for ch in slug), slug
        assert "--" not in slug and not slug.startswith("-") and not slug.endswith("-"), slug
    assert len(set(geo.slug_departement(c) for c in geo.departements)) == len(geo.departements)


# -- autocomplete ------------------------------------------------------------------


def test_autocomplete_index(geo):
    rows = autocomplete_index(geo)
    assert len(rows) == len(geo.communes)
    assert rows[0][:3] == ["75056", "Paris", "75"]
    assert all(len(row) == 6 for row in rows)
    populations = [geo.commune(row[0]).population for row in rows]
    assert populations == sorted(populations, reverse=True)
    by_code = {row[0]: row for row in rows}
    assert "75111" in by_code and "75056" in by_code  # city and arrondissements
    dijon = by_code["21231"]
    assert dijon == ["21231", "Dijon", "21", "21000", round(geo.commune("21231").lat, 3), round(geo.commune("21231").lon, 3)]
    assert by_code["56098"][4:] == [round(v, 3) for v in geo.point("56260")]  # fallback point
    assert by_code["97501"][4:] == [None, None]
    assert "75001 75002" in by_code["75056"][3]
