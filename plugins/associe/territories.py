"""French territories: communes, départements, régions and EPCI (COG 2026).

Pure standard library; loads the reference tables shipped in
``associe/data/territoires`` (see PROVENANCE.md there) into frozen dataclasses.

Conventions
-----------
* Every code stays a string: ``'01'``, ``'2A'``, ``'21231'``, ``'975'``.
* ``Geography.departements`` is ordered officially: 01..19, 2A, 2B, 21..95,
  then the overseas départements 971..976, then the overseas collectivités
  (975, 977, 978, 984, 986..989), which the source tables list as
  départements *and* régions of their own (zone ``'com'``).
* ``Geography.communes`` holds the communes *and* the 45 municipal
  arrondissements of Paris, Lyon and Marseille (``type == 'arrondissement'``,
  ``parente`` = the parent commune's code). Both levels are kept on purpose:
  people write "Paris" as often as "Paris 11e". The parent's population already
  includes its arrondissements, so sum populations over ``type == 'commune'``
  only.
* ``population`` is 0 when the source has none (uninhabited TAAF districts,
  Clipperton).

Coordinates
-----------
``Commune.lat``/``lon`` are WGS 84 degrees, or ``None`` when the source has no
usable point (the overseas collectivités, ``nan`` values). The source has a few
broken points, so the loader checks every point against the other communes of
its EPCI and of its département:

* a longitude whose sign was lost (western France, Guadeloupe) is restored when
  the mirrored point falls back among its neighbours;
* a point that lies clearly outside its territory (e.g. latitude copied into
  the longitude, a homonym's position) is dropped: ``lat``/``lon`` become
  ``None`` and :meth:`Geography.point` falls back to the département's
  chef-lieu.

What was changed is listed in ``Geography._coordinate_issues`` (code -> reason)
so the build can report it. Points that are wrong but still inside their
département cannot be detected and are kept as they are.
"""

from __future__ import annotations

import csv
import difflib
import functools
import gc
import io
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

__all__ = [
    "Commune",
    "Departement",
    "Region",
    "Epci",
    "Geography",
    "load_geography",
    "haversine_km",
    "autocomplete_index",
]

DATA_DIR = Path(__file__).resolve().parent / "data" / "territoires"

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius
_KM_PER_DEGREE = 111.195  # EARTH_RADIUS_KM * pi / 180, rounded

_ZONE_RANK = {"metro": 0, "drom": 1, "com": 2}


@dataclass(frozen=True, slots=True)
class Commune:
    code: str
    nom: str
    departement: str
    region: str
    epci: str | None
    codes_postaux: tuple[str, ...]
    population: int
    lat: float | None
    lon: float | None
    type: str
    parente: str | None


class _CommuneBuilder:
    """Builds Commune instances about 3x faster than Commune(...).

    A frozen dataclass sets each field through object.__setattr__, which costs
    ~100 ms for the 35,000 communes of every build. This twin has the same
    slots, sets them directly, then becomes a Commune (``__class__``
    assignment is allowed between classes of identical layout). The result is
    an ordinary Commune: same type, equality, hash and immutability.
    _commune_factory() checks this once and falls back to Commune itself if
    the interpreter refuses the assignment.
    """

    __slots__ = Commune.__slots__

    def __init__(self, code, nom, departement, region, epci, codes_postaux, population, lat, lon, type, parente):
        self.code = code
        self.nom = nom
        self.departement = departement
        self.region = region
        self.epci = epci
        self.codes_postaux = codes_postaux
        self.population = population
        self.lat = lat
        self.lon = lon
        self.type = type
        self.parente = parente
        self.__class__ = Commune


def _commune_factory():
    sample = ("21231", "Dijon", "21", "27", "242100410", ("21000",), 1, 47.3, 5.0, "commune", None)
    try:
        built = _CommuneBuilder(*sample)
    except TypeError:
        return Commune
    if type(built) is Commune and built == Commune(*sample) and hash(built) == hash(Commune(*sample)):
        return _CommuneBuilder
    return Commune


@dataclass(frozen=True, slots=True)
class Departement:
    code: str
    nom: str
    region: str
    chef_lieu: str
    zone: str


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    nom: str
    chef_lieu: str
    zone: str


@dataclass(frozen=True, slots=True)
class Epci:
    siren: str
    nom: str
    type: str
    population: int


# --------------------------------------------------------------------------
# Text helpers


_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}


def _ascii_lower(text: str) -> str:
    """Lowercase ASCII transliteration: 'Côte-d'Or' -> "cote-d'or"."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return decomposed.encode("ascii", "ignore").decode("ascii").lower()


def _slugify(text: str) -> str:
    return _NON_ALNUM.sub("-", _ascii_lower(text)).strip("-")


def _fold(text: str) -> str:
    """Search key: accents, case and punctuation removed, 'st' -> 'saint'."""
    words = _NON_ALNUM.sub(" ", _ascii_lower(text)).split()
    return " ".join(_ABBREVIATIONS.get(w, w) for w in words)


# --------------------------------------------------------------------------
# Geometry


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres between two WGS 84 points."""
    p1 = math.radians(lat1)
    p2 = math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _departement_sort_key(code: str, zone: str) -> tuple[int, str]:
    # Metropolitan codes have two characters and sort as strings once Corsica
    # reads '20A'/'20B' (between '19' and '21'); the zone puts the overseas
    # départements (971..976) next and the collectivités (975, 977...) last.
    return (_ZONE_RANK.get(zone, len(_ZONE_RANK)), {"2A": "20A", "2B": "20B"}.get(code, code))


# --------------------------------------------------------------------------
# Geography


class Geography:
    """In-memory territory tables with lookups. Treat it as read-only: the
    default instance is shared by the whole process (see load_geography)."""

    communes: dict[str, Commune]  # by INSEE code, communes and arrondissements
    departements: dict[str, Departement]  # official order, see the module docstring
    regions: dict[str, Region]  # by code, overseas collectivités last
    epci: dict[str, Epci]  # by SIREN

    def __init__(
        self,
        communes: dict[str, Commune],
        departements: dict[str, Departement],
        regions: dict[str, Region],
        epci: dict[str, Epci],
    ) -> None:
        self.communes = communes
        self.departements = dict(
            sorted(departements.items(), key=lambda kv: _departement_sort_key(kv[0], kv[1].zone))
        )
        # Régions keep INSEE's order: by code, overseas collectivités last.
        self.regions = dict(sorted(regions.items(), key=lambda kv: (kv[1].zone == "com", kv[0])))
        self.epci = epci
        self._coordinate_issues: dict[str, str] = {}
        self._by_departement: dict[str, list[Commune]] | None = None
        self._by_postcode: dict[str, list[Commune]] | None = None
        self._by_name: dict[str, list[Commune]] | None = None

    def __repr__(self) -> str:
        return (
            f"<Geography {len(self.communes)} communes, {len(self.departements)} départements, "
            f"{len(self.regions)} régions, {len(self.epci)} EPCI>"
        )

    # -- lookups -----------------------------------------------------------

    def commune(self, code: str) -> Commune | None:
        return self.communes.get(code)

    def _require(self, commune_code: str) -> Commune:
        commune = self.communes.get(commune_code)
        if commune is None:
            raise KeyError(self._unknown_message(commune_code))
        return commune

    def _unknown_message(self, code: str) -> str:
        message = f"Code commune INSEE inconnu : « {code} »."
        suggestions = self.suggest(code)
        if suggestions:
            listed = ", ".join(f"{c.code} ({c.nom})" for c in suggestions)
            message += f" Vouliez-vous dire : {listed} ?"
        return message

    def departement_of(self, commune_code: str) -> Departement:
        """Département of a commune; KeyError (French message) if the code is unknown."""
        return self.departements[self._require(commune_code).departement]

    def region_of(self, commune_code: str) -> Region:
        """Région of a commune; KeyError (French message) if the code is unknown."""
        return self.regions[self._require(commune_code).region]

    def communes_in_departement(self, code: str) -> list[Commune]:
        """Communes and arrondissements of a département, by INSEE code
        (empty list for an unknown département)."""
        if self._by_departement is None:
            index: dict[str, list[Commune]] = {}
            for commune in self.communes.values():
                index.setdefault(commune.departement, []).append(commune)
            for communes in index.values():
                communes.sort(key=lambda c: c.code)
            self._by_departement = index
        return list(self._by_departement.get(code, ()))

    def departements_in_region(self, code: str) -> list[Departement]:
        """Départements of a région, in official order."""
        return [d for d in self.departements.values() if d.region == code]

    def point(self, commune_code: str) -> tuple[float, float] | None:
        """(lat, lon) of a commune, else of its département's chef-lieu, else None.

        KeyError (French message) if the code is unknown.
        """
        commune = self._require(commune_code)
        if commune.lat is not None and commune.lon is not None:
            return (commune.lat, commune.lon)
        departement = self.departements.get(commune.departement)
        if departement is None:
            return None
        chef_lieu = self.communes.get(departement.chef_lieu)
        if chef_lieu is None or chef_lieu.lat is None or chef_lieu.lon is None:
            return None
        return (chef_lieu.lat, chef_lieu.lon)

    # -- slugs ---------------------------------------------------------------

    def slug_departement(self, code: str) -> str:
        """'21' -> '21-cote-d-or', '2A' -> '2a-corse-du-sud'."""
        return _slugify(f"{code} {self.departements[code].nom}")

    def slug_region(self, code: str) -> str:
        """'27' -> '27-bourgogne-franche-comte'."""
        return _slugify(f"{code} {self.regions[code].nom}")

    # -- suggestions -----------------------------------------------------------

    def _postcode_index(self) -> dict[str, list[Commune]]:
        if self._by_postcode is None:
            index: dict[str, list[Commune]] = {}
            for commune in self.communes.values():
                for postcode in commune.codes_postaux:
                    index.setdefault(postcode, []).append(commune)
            self._by_postcode = index
        return self._by_postcode

    def _name_index(self) -> dict[str, list[Commune]]:
        if self._by_name is None:
            index: dict[str, list[Commune]] = {}
            for commune in self.communes.values():
                index.setdefault(_fold(commune.nom), []).append(commune)
            self._by_name = index
        return self._by_name

    def suggest(self, code_or_text: str) -> list[Commune]:
        """Up to 3 communes the author probably meant, for error messages.

        A code ('21000', '2a004', '1053') gives the commune with that INSEE
        code, then the communes with that postcode, arrondissements before
        their city ('21000' -> Dijon 21231, '75011' -> Paris 11e, Paris). If
        none: a pre-1976 Corsican code ('20004' -> Ajaccio 2A004), then the
        codes one typo away (one character changed or two swapped), same
        département first. A 4-digit code gets its leading zero back.

        Text is matched on names, ignoring accents, case, punctuation and
        'St'/'Ste': exact name, else names starting with the text, else close
        spellings ('Marseile'); a postcode or département number in the text
        ('Saint-Denis 93', 'Dijon (21000)') narrows homonyms. Larger communes
        come first. Returns [] when nothing is plausible.
        """
        text = (code_or_text or "").strip()
        if not text:
            return []
        compact = re.sub(r"\s+", "", text).upper()
        if re.fullmatch(r"\d{4,5}|2[AB]\d{3}", compact):
            return self._suggest_code(compact)[:3]
        return self._suggest_name(text)[:3]

    @staticmethod
    def _rank(communes: list[Commune], arrondissements_first: bool = False) -> list[Commune]:
        if arrondissements_first:
            return sorted(communes, key=lambda c: (c.type != "arrondissement", -c.population, c.code))
        return sorted(communes, key=lambda c: (-c.population, c.code))

    def _suggest_code(self, code: str) -> list[Commune]:
        if len(code) == 4:
            code = "0" + code
        # The code itself, then the communes having it as postcode: 3,000
        # postcodes are also the INSEE code of another commune ('13001' is
        # Aix-en-Provence and the postcode of Marseille 1er).
        found = [self.communes[code]] if code in self.communes else []
        found += [c for c in self._rank(self._postcode_index().get(code, []), True) if c.code != code]
        if found:
            return found
        if code.startswith("20") and code.isdigit():
            # Pre-1976 Corsican code: 20004 -> 2A004.
            corsica = [self.communes[c] for c in ("2A" + code[2:], "2B" + code[2:]) if c in self.communes]
            if corsica:
                return self._rank(corsica)
        # One substituted or swapped character.
        variants = set()
        for i in range(5):
            variants.update(code[:i] + ch + code[i + 1 :] for ch in "0123456789AB")
            if i < 4:
                variants.add(code[:i] + code[i + 1] + code[i] + code[i + 2 :])
        variants.discard(code)
        near = [self.communes[v] for v in variants if v in self.communes]
        same_departement = [c for c in near if code.startswith(c.departement)]
        return self._rank(same_departement or near)

    def _suggest_name(self, text: str) -> list[Commune]:
        postcodes = set(re.findall(r"\b\d{5}\b", text))
        rest = re.sub(r"\b\d{5}\b", " ", text)
        departements = {
            d.upper() for d in re.findall(r"\b(\d{2,3}|2[abAB])\b", rest) if d.upper() in self.departements
        }
        rest = re.sub(r"\b(\d{2,3}|2[abAB])\b", " ", rest)
        query = _fold(rest)
        if not query:
            # Only numbers: treat the first one as a code.
            return self._suggest_code(next(iter(sorted(postcodes)))) if postcodes else []

        def narrow(communes: list[Commune]) -> list[Commune]:
            if postcodes:
                hits = [c for c in communes if postcodes.intersection(c.codes_postaux)]
                if hits:
                    return hits
            if departements:
                hits = [c for c in communes if c.departement in departements]
                if hits:
                    return hits
            return communes

        by_name = self._name_index()
        exact = by_name.get(query)
        if exact:
            return self._rank(narrow(exact))
        # Whole first words ('saint denis' -> 'saint denis de l hotel'), or any
        # prefix of four characters or more ('chal' -> 'chalon sur saone').
        prefixed = [
            c
            for name, cs in by_name.items()
            if name.startswith(query + " ") or (len(query) >= 4 and name.startswith(query))
            for c in cs
        ]
        if prefixed:
            return self._rank(narrow(prefixed))
        close = difflib.get_close_matches(query, list(by_name), n=5, cutoff=0.75)
        result: list[Commune] = []
        for name in close:
            result.extend(self._rank(narrow(by_name[name])))
        return result


# --------------------------------------------------------------------------
# Loading


def _read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV file. Plain ``str.split`` when the file has no
    quoted field (much faster on communes.csv), the csv module otherwise."""
    text = path.read_text(encoding="utf-8-sig")
    if '"' in text:
        rows = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    else:
        rows = [line.split(",") for line in text.splitlines() if line]
    if not rows:
        raise ValueError(f"{path} : fichier vide.")
    return rows[0], rows[1:]


def _columns(header: list[str], path: Path, *names: str) -> list[int]:
    missing = [name for name in names if name not in header]
    if missing:
        raise ValueError(
            f"{path.name} : colonne(s) manquante(s) : {', '.join(missing)}. Colonnes trouvées : {', '.join(header)}."
        )
    return [header.index(name) for name in names]


def _median(values: list[float]) -> float:
    values = sorted(values)
    n = len(values)
    mid = n // 2
    return values[mid] if n % 2 else (values[mid - 1] + values[mid]) / 2


def _fit(
    groups: dict[str, list[int]], lats: Sequence[float], lons: Sequence[float]
) -> dict[str, tuple[float, float, float, list[float], list[float]]]:
    """For each group of 3 points or more: its median point (lat0, lon0), km
    per degree of longitude there, the squared distances (km²) of its members
    to that point, in member order, and the same sorted."""
    references = {}
    k2 = _KM_PER_DEGREE * _KM_PER_DEGREE
    for key, members in groups.items():
        if len(members) < 3:
            continue
        ys = [lats[i] for i in members]
        xs = [lons[i] for i in members]
        lat0 = _median(ys)
        lon0 = _median(xs)
        kx = _KM_PER_DEGREE * math.cos(math.radians(lat0))
        kx2 = kx * kx
        squared = [(x - lon0) ** 2 * kx2 + (y - lat0) ** 2 * k2 for y, x in zip(ys, xs)]
        references[key] = (lat0, lon0, kx, squared, sorted(squared))
    return references


def _check_points(
    lats: Sequence[float], lons: Sequence[float], epcis: Sequence[str], departements: Sequence[str]
) -> dict[int, tuple[float | None, float | None, str]]:
    """Find implausible points; return index -> (lat, lon, reason) to apply.

    Each point is compared with the median point of its EPCI and of its
    département. It is *out* of its EPCI when farther than max(25 km, 4 x the
    EPCI's median distance). An out point whose mirrored longitude is back in
    is a lost minus sign and is repaired; so is a point more than 50 km from
    the middle of a wide EPCI whose mirror is three times closer. Otherwise it is dropped when it is
    also beyond 2 x the département's 90th-percentile distance, or beyond
    1.5 x the EPCI limit and the département's 90th percentile. These bounds
    keep the genuinely remote communes (Haute-Maurienne, Corsican coast, Île
    d'Yeu...) and catch the broken ones. Communes without an EPCI are judged
    on the département alone: mirrored if that brings them within the 90th
    percentile, dropped if beyond twice of it.
    """
    by_epci: dict[str, list[int]] = {}
    by_departement: dict[str, list[int]] = {}
    for i, (epci, departement) in enumerate(zip(epcis, departements)):
        if epci:
            by_epci.setdefault(epci, []).append(i)
        by_departement.setdefault(departement, []).append(i)
    epci_refs = _fit(by_epci, lats, lons)
    departement_refs = _fit(by_departement, lats, lons)

    departement_d2: dict[int, float] = {}
    departement_p90_2: dict[str, float] = {}
    for key, (_, _, _, squared, ordered) in departement_refs.items():
        departement_p90_2[key] = ordered[int(0.9 * (len(ordered) - 1))]
        departement_d2.update(zip(by_departement[key], squared))

    def mirrored2(i: int, reference: tuple) -> float:
        lat0, lon0, kx = reference[:3]
        return ((-lons[i] - lon0) * kx) ** 2 + ((lats[i] - lat0) * _KM_PER_DEGREE) ** 2

    fixes: dict[int, tuple[float | None, float | None, str]] = {}
    judged: set[int] = set()
    for key, reference in epci_refs.items():
        squared, ordered = reference[3], reference[4]
        limit2 = max(25.0**2, 16 * ordered[len(ordered) // 2])
        suspect2 = min(limit2, 50.0**2)
        members = by_epci[key]
        judged.update(members)
        if ordered[-1] <= suspect2:
            continue
        for i, de2 in zip(members, squared):
            if de2 <= suspect2:
                continue
            lat, lon = lats[i], lons[i]
            m2 = mirrored2(i, reference)
            if de2 <= limit2:
                # Inside a wide EPCI but over 50 km from its middle: only a
                # mirror three times closer reveals a lost sign.
                if 9 * m2 <= de2:
                    fixes[i] = (lat, -lon, f"longitude sign restored ({lon} -> {-lon})")
                continue
            p90_2 = departement_p90_2.get(departements[i])
            if p90_2 is None:
                continue
            dd2 = departement_d2[i]
            if m2 <= limit2:
                fixes[i] = (lat, -lon, f"longitude sign restored ({lon} -> {-lon})")
            elif dd2 > 4 * p90_2 or (de2 > 2.25 * limit2 and dd2 > p90_2):
                fixes[i] = (None, None, f"point dropped ({lat}, {lon}): {math.sqrt(de2):.0f} km from its EPCI")
    for key, reference in departement_refs.items():
        p90_2 = departement_p90_2[key]
        if reference[4][-1] <= 4 * p90_2:
            continue
        for i, dd2 in zip(by_departement[key], reference[3]):
            if dd2 <= 4 * p90_2 or i in judged:
                continue
            lat, lon = lats[i], lons[i]
            if mirrored2(i, reference) <= p90_2:
                fixes[i] = (lat, -lon, f"longitude sign restored ({lon} -> {-lon})")
            else:
                fixes[i] = (None, None, f"point dropped ({lat}, {lon}): {math.sqrt(dd2):.0f} km from its département")
    return fixes


def _load(data_dir: Path) -> Geography:
    gc_was_enabled = gc.isenabled()
    gc.disable()  # ~35,000 objects, no cycles: the collector only slows the load down
    try:
        return _load_tables(data_dir)
    finally:
        if gc_was_enabled:
            gc.enable()


def _load_tables(data_dir: Path) -> Geography:
    path = data_dir / "regions.csv"
    header, rows = _read_rows(path)
    i_code, i_nom, i_chef, i_zone = _columns(header, path, "code", "nom", "chef_lieu", "zone")
    regions = {r[i_code]: Region(r[i_code], r[i_nom], r[i_chef], r[i_zone]) for r in rows}

    path = data_dir / "departements.csv"
    header, rows = _read_rows(path)
    i_code, i_nom, i_reg, i_chef, i_zone = _columns(header, path, "code", "nom", "region", "chef_lieu", "zone")
    departements = {
        r[i_code]: Departement(r[i_code], r[i_nom], r[i_reg], r[i_chef], r[i_zone]) for r in rows
    }

    path = data_dir / "epci.csv"
    header, rows = _read_rows(path)
    i_siren, i_nom, i_type, i_pop = _columns(header, path, "siren", "nom", "type", "population")
    epci = {
        r[i_siren]: Epci(r[i_siren], r[i_nom], r[i_type], int(r[i_pop]) if r[i_pop] else 0) for r in rows
    }

    path = data_dir / "communes.csv"
    header, rows = _read_rows(path)
    (i_code, i_nom, i_type, i_parent, i_dep, i_reg, i_epci, i_cp, i_pop, i_lat, i_lon) = _columns(
        header, path, "code_insee", "nom", "type", "commune_parente", "departement", "region",
        "epci", "codes_postaux", "population", "latitude", "longitude",
    )  # fmt: skip
    new_commune = _commune_factory()
    communes: dict[str, Commune] = {}
    issues: dict[str, str] = {}
    pointed: list[tuple[str, float, float, str, str]] = []  # (code, lat, lon, epci, département)
    for r in rows:
        code = r[i_code]
        lat = lon = None
        if r[i_lat]:
            try:
                lat = float(r[i_lat])
                lon = float(r[i_lon])
            except ValueError:
                lat = lon = math.nan
            # NaN fails every comparison, so it is rejected here too.
            if -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0:
                pointed.append((code, lat, lon, r[i_epci], r[i_dep]))
            else:
                issues[code] = f"unusable point ({r[i_lat]}, {r[i_lon]})"
                lat = lon = None
        communes[code] = new_commune(
            code,
            r[i_nom],
            r[i_dep],
            r[i_reg],
            r[i_epci] or None,
            tuple(r[i_cp].split()),
            int(r[i_pop]) if r[i_pop] else 0,
            lat,
            lon,
            r[i_type],
            r[i_parent] or None,
        )
    if pointed:
        codes, lats, lons, epcis, deps = zip(*pointed)
        for i, (lat, lon, reason) in _check_points(lats, lons, epcis, deps).items():
            code = codes[i]
            communes[code] = replace(communes[code], lat=lat, lon=lon)
            issues[code] = reason

    geography = Geography(communes, departements, regions, epci)
    geography._coordinate_issues = issues
    return geography


@functools.lru_cache(maxsize=1)
def _load_default() -> Geography:
    return _load(DATA_DIR)


def load_geography(data_dir: Path | None = None) -> Geography:
    """Load the tables. The default directory is read once per process and
    the same Geography is returned afterwards; an explicit directory is read
    on every call."""
    if data_dir is None:
        return _load_default()
    return _load(Path(data_dir))


# --------------------------------------------------------------------------
# Browser autocomplete


def autocomplete_index(geo: Geography) -> list[list]:
    """Rows ``[code, nom, departement, 'cp1 cp2', lat, lon]`` for the browser.

    Sorted by population (largest first), then code. lat/lon are rounded to
    3 decimals (~100 m) and come from :meth:`Geography.point`, hence the
    chef-lieu for communes without a point, or ``None``. Both Paris/Lyon/
    Marseille and their arrondissements are listed: the city row carries all
    of the city's postcodes, each arrondissement its own, so typing either
    '75011' or 'Paris' finds a row; the names tell them apart.
    """
    rows = []
    for commune in sorted(geo.communes.values(), key=lambda c: (-c.population, c.code)):
        point = geo.point(commune.code)
        lat, lon = (round(point[0], 3), round(point[1], 3)) if point else (None, None)
        rows.append([commune.code, commune.nom, commune.departement, " ".join(commune.codes_postaux), lat, lon])
    return rows
