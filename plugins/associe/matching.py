"""Stage 4 — match: suggest, for every open need, the offers a person would act on (and back).

Testable without Pelican: ``match(needs, offers, build_date, settings)`` takes enriched
``Entry`` objects (``entry.place`` filled) and returns a ``MatchResult``.

A pair is suggested only when every *hard condition* holds (docs/matching.md):

1. compatible ``type_de_soutien`` (``MatchSettings.compatible_types``) and compatible ``objet``
   (equal, or a documented near-equivalent in ``MatchSettings.near_objets``);
2. both entries open (``statut`` ouvert or en_cours) and valid on the build date
   (``date_publication <= build_date <= valable_jusqu_au``);
3. each place inside the other's reach, BOTH ways (the offer's reach covers the need's place
   and the need's reach covers the offer's place);
4. not the same organisation on both sides, and not a real entry paired with a fictitious one;
5. a score of at least ``MatchSettings.min_score`` (below, nothing really brings them together).

The score is a weighted mean of documented parts, each in [0, 1]: text closeness (French-aware
TF-IDF cosine), shared thematics, distance, same catégorie, dates that fit, quantity that fits,
and exactness (same type and objet rather than only compatible ones).

No all-pairs comparison: offers are indexed by (type, objet), then by space — 0.5° grid cells
for radius and commune reaches, département / région / all for wider reaches — and each need
looks up whichever of two candidate sets is smaller: the offers *placed* inside its own reach,
or the offers whose *reach* covers its place. Both are supersets of the valid pairs, so the
exact checks that follow give the same result as a brute-force comparison
(``match_all_pairs``, kept as the reference for tests). The checks and the score are applied to
whole columns of candidate pairs at once (``pair_scores``, numpy); ``_Scorer.reference`` is their
readable definition, one pair at a time.

Deterministic: entries are processed in id order, ties are broken by ids, no randomness, and
no set or dict iteration order reaches the output.
"""
from __future__ import annotations

import datetime as dt
import functools
import heapq
import itertools
import math
import re
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, NamedTuple

import numpy as np

from . import forked, pair_scores
from .pair_scores import cosine
from .records import Entry
from .vocabulary import label
from .dates import MONTHS, french_date, to_date  # noqa: F401 - re-exported

try:  # the shared implementation and radius, so that distances agree with the territory pages
    from .territories import EARTH_RADIUS_KM, haversine_km
except ImportError:  # pragma: no cover - the module ships with the package
    EARTH_RADIUS_KM = 6371.0088

    def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
        p1, p2 = math.radians(lat1), math.radians(lat2)
        a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
        return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))

OPEN_STATUSES = ("ouvert", "en_cours")

# ------------------------------------------------------------------ compatibility tables
#: type_de_soutien of a need -> types of offer that can answer it (besides the identical type,
#: which is always compatible). Read: "a need for X can be answered by an offer of Y".
COMPATIBLE_TYPES: dict[str, tuple[str, ...]] = {
    "don_materiel": ("pret_materiel",),                # lending the equipment also answers the need
    "pret_materiel": ("don_materiel",),                # a gift answers a need to borrow
    "mise_a_disposition_locaux": ("soutien_logistique",),
    "mecenat_competences": ("benevolat_entreprise",),  # employees volunteering their skills
    "benevolat_entreprise": ("mecenat_competences",),
    "soutien_logistique": ("pret_materiel", "mise_a_disposition_locaux"),
    "soutien_financier": (),
    "achat_responsable": ("co_construction",),         # a purchase can grow into a joint offer
    "co_construction": ("achat_responsable",),
}

#: objets that are close enough to match each other (symmetric); otherwise objet must be equal.
NEAR_OBJETS: tuple[tuple[str, str], ...] = (
    ("fournitures", "materiaux"),        # petit équipement ↔ matériaux et outillage
    ("fournitures", "mobilier"),         # petit équipement ↔ mobilier (étagères, rangements)
    ("prestation", "projet_commun"),     # an order from the sheltered sector ↔ a joint offer
)


@dataclass
class MatchSettings:
    """Every knob of the matcher, with the defaults documented in docs/matching.md."""
    k: int = 5                                  # suggestions kept per need and per offer
    # weights of the score parts (any non-negative numbers; the score is their weighted mean)
    weight_distance: float = 0.15
    weight_text: float = 0.40
    weight_thematics: float = 0.20
    weight_categorie: float = 0.10
    weight_dates: float = 0.05
    weight_quantity: float = 0.05
    weight_exact: float = 0.05                  # same type_de_soutien and same objet (not only compatible)
    commune_reach_km: float = 10.0              # a "commune" reach also covers this distance
    distance_half_km: float = 20.0              # distance part = half / (half + d): 1 at 0 km, 0.5 at 20 km
    unknown_distance_score: float = 0.4         # distance part when a point is missing
    text_full_cosine: float = 0.5               # text part = min(1, cosine / this)
    min_score: float = 0.40                     # pairs below are too weak to act on: not suggested
    min_text_reason: float = 0.08               # cosine from which shared words are shown as a reason
    max_text_terms: int = 40                    # heaviest terms kept per text (bounds the cost of long texts)
    cell_degrees: float = 0.5                   # grid cell size for spatial blocking
    workers: int = 2                            # processes for the scoring step (Linux, os.fork); 1: one
    parallel_threshold: int = 2000              # below this many open entries (or pairs to explain), stay in one process
    exclude_same_organisation: bool = True
    mix_fictitious: bool = False                # False: a real entry is never paired with a fictitious one
    compatible_types: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(COMPATIBLE_TYPES))
    near_objets: tuple[tuple[str, str], ...] = NEAR_OBJETS
    # département code -> (lat, lon) of its chef-lieu, for places without a point; None: read
    # from associe.territories when needed (an empty dict disables the point fallback).
    departement_points: Mapping[str, tuple[float, float]] | None = None

    @property
    def weights(self) -> dict[str, float]:
        return {"distance": self.weight_distance, "text": self.weight_text, "thematics": self.weight_thematics,
                "categorie": self.weight_categorie, "dates": self.weight_dates, "quantity": self.weight_quantity,
                "exact": self.weight_exact}

    def offer_types_for(self, need_type: str) -> tuple[str, ...]:
        """Offer types compatible with a need type, the identical type first."""
        others = tuple(t for t in self.compatible_types.get(need_type, ()) if t != need_type)
        return (need_type,) + others

    def objets_for(self, need_objet: str) -> tuple[str, ...]:
        near = sorted({b for a, b in self.near_objets if a == need_objet} | {a for a, b in self.near_objets if b == need_objet})
        return (need_objet,) + tuple(o for o in near if o != need_objet)

    def types_compatible(self, need_type: str, offer_type: str) -> bool:
        return offer_type == need_type or offer_type in self.compatible_types.get(need_type, ())

    def objets_compatible(self, need_objet: str, offer_objet: str) -> bool:
        return (need_objet == offer_objet or (need_objet, offer_objet) in self.near_objets
                or (offer_objet, need_objet) in self.near_objets)


class Suggestion(NamedTuple):
    """One suggested pair (a named tuple: built tens of thousands of times per build, 4× faster
    than a frozen dataclass)."""
    need_id: str
    offer_id: str
    score: float
    distance_km: float | None
    reasons: tuple[str, ...]


@dataclass
class MatchResult:
    for_need: dict[str, list[Suggestion]]     # need id -> best k offers (every open need has a key)
    for_offer: dict[str, list[Suggestion]]    # offer id -> best k needs (every open offer has a key)
    pairs: list[Suggestion]                   # the union of both, by score desc then need id, offer id
    candidates: int = 0                       # pairs examined after blocking (for benchmarks)
    valid: int = 0                            # pairs that passed every hard condition


# ------------------------------------------------------------------ French text
STOP_WORDS = frozenset("""
a ai aie aient aies ait afin ainsi alors apres au aucun aucune aupres auquel aussi autre autres aux auxquels avaient avais
avait avant avec avez aviez avions avoir avons ayant c ca car ce ceci cela celle celles celui cependant certain certaine
certaines certains ces cet cette ceux chacun chacune chaque chez ci comme comment d dans de des deja depuis donc dont du
elle elles en encore entre est et etaient etais etait etant ete etes etre eu eux fait faire fais font furent fut grace
hors ici il ils j je jusqu jusque l la le les leur leurs lors lui m ma mais me meme memes mes moi moins mon n ne ni nos
notre nous on ont ou par parce parmi pas peu peut peuvent plus plusieurs pour pourquoi pourra pourrait pouvez pouvons
puis qu quand que quel quelle quelles quels qui quoi s sa sans se selon ses si sinon soi soit sommes son sont sous
souvent suis sur t ta te tel telle telles tels tes toi ton tous tout toute toutes tres tu un une unes uns vers via voici
voila vos votre vous y etc ceux cela chaque afin aussi deux trois quatre cinq dix egalement notamment ainsi besoin
besoins offre offres cherche cherchons recherche recherchons propose proposons proposer souhaite souhaitons avons
permettre permet merci contact contacter nouveau nouvelle nouveaux nouvelles
""".split())

_WORD = re.compile(r"[a-z0-9]+")
_URL = re.compile(r"https?://\S+|www\.\S+")
_FOLD = str.maketrans({"œ": "oe", "æ": "ae", "’": "'", "ß": "ss"})

# longest first; a suffix is stripped only if at least 3 letters remain
_SUFFIXES = tuple(sorted((
    "issements issement atrices ateurs ations ements ement ation atrice ateur ences ances ence ance iques ique "
    "ismes isme istes iste ites ite ieres iere iers ier iennes ienne iens ien euses euse eurs eur aires aire "
    "ales ale aux elles elle els el ives ive ifs if ees ee er ez es e").split(), key=len, reverse=True))


def fold(text: str) -> str:
    """Lowercase without accents: « Économie » -> « economie »."""
    text = text.casefold()
    if text.isascii():
        return text
    if "œ" in text or "æ" in text or "’" in text:
        text = text.translate(_FOLD)
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def stem(word: str) -> str:
    """A light French stemmer on a folded word: plural s/x, then the longest common suffix."""
    w = word
    if len(w) > 3 and w[-1] in "sx" and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    for suffix in _SUFFIXES:
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)]
            break
    if w.endswith("ic") and len(w) >= 6:  # informaticien -> informatic -> informat (= informatique)
        w = w[:-2]
    return w


_TOKEN = re.compile(r"[^\W_]+")
_term_cache: dict[str, str | None] = {}


def term_of(word: str) -> str | None:
    """The index term of one lowercase word (accents kept), or None for a stop word, a number or a letter."""
    term = _term_cache.get(word, "")
    if term != "":
        return term
    folded = fold(word)
    parts = _WORD.findall(folded)
    if len(parts) != 1 or len(parts[0]) < 2 or parts[0] in STOP_WORDS or parts[0].isdigit():
        term = None
    else:
        term = stem(parts[0])
    if len(_term_cache) < 500_000:
        _term_cache[word] = term
    return term


def words(text: str) -> list[tuple[str, str]]:
    """(term, word as written, lowercased) of every meaningful word of ``text`` (links ignored)."""
    if "http" in text or "www." in text:
        text = _URL.sub(" ", text)
    cache = _term_cache
    out = []
    for word in _TOKEN.findall(text.lower()):
        term = cache.get(word, "")
        if term == "":
            term = term_of(word)
        if term is not None:
            out.append((term, word))
    return out


def _terms(text: str, surfaces: dict[str, str] | None = None) -> list[str]:
    """Index terms of ``text``; ``surfaces`` (if given) receives the first word written for each term."""
    if "http" in text or "www." in text:
        text = _URL.sub(" ", text)
    cache = _term_cache
    out = []
    for word in _TOKEN.findall(text.lower()):
        term = cache.get(word, "")
        if term == "":
            term = term_of(word)
        if term is not None:
            out.append(term)
            if surfaces is not None and term not in surfaces:
                surfaces[term] = word
    return out


def terms(entry: Entry, surfaces: dict[str, str] | None = None) -> list[str]:
    """Index terms of the entry's text, the title counted twice (``surfaces`` as in ``_terms``)."""
    title = _terms(str(entry.get("titre") or ""), surfaces)
    return title + title + _terms(str(entry.get("description") or ""), surfaces)


# The same terms, read faster (20,000 texts per build): the text is cut into runs of bytes by the
# ASCII characters that are not letters or digits (one C call), each run looked up in a cache of
# its terms. A run holding non-ASCII bytes (accents, ’, «, no-break space…) is read by ``_terms``
# itself, so every text gives exactly the terms of ``terms`` (checked by the tests). The one
# lowercase mapping that depends on the neighbouring characters (Greek capital sigma, ς at the end
# of a word) sends the whole text to the readable reader.
_ASCII_WORD_BYTES = bytes(b if b >= 128 else ord(chr(b).lower()) if chr(b).isalnum() else 32 for b in range(256))
_run_cache: dict[bytes, tuple[str, ...]] = {}


def _runs(text: str) -> list[bytes] | None:
    """The byte runs of ``text`` (links removed); None for a text the readable reader must read."""
    if "Σ" in text:
        return None
    if "http" in text or "www." in text:
        text = _URL.sub(" ", text)
    return text.encode("utf-8", "surrogatepass").translate(_ASCII_WORD_BYTES).split()


def _read_runs(runs: list[bytes], cache: dict[bytes, tuple], read: Callable[[str], list]) -> list[int]:
    """``tuple(read(run))`` for each run, from ``cache`` (filled, up to 500,000 runs)."""
    found = list(map(cache.get, runs))
    if None in found:
        for position, run in enumerate(runs):
            if found[position] is None:
                got = tuple(read(run.decode("utf-8", "surrogatepass")))
                if len(cache) < 500_000:
                    cache[run] = got
                found[position] = got
    return found


def _fast_terms(text: str) -> list[tuple[str, ...]]:
    runs = _runs(text)
    if runs is None:
        return [tuple(_terms(text))]
    return _read_runs(runs, _run_cache, _terms)


_run_words: dict[bytes, tuple[tuple[str, str], ...]] = {}


def written_forms(entry: Entry) -> dict[str, str]:
    """The ``surfaces`` of ``terms(entry, surfaces)`` (first word written for each term), read by
    byte runs like ``term_counts``."""
    pairs: list[tuple[str, str]] = []
    for text in (str(entry.get("titre") or ""), str(entry.get("description") or "")):
        runs = _runs(text)
        if runs is None:
            pairs.extend(words(text))
            continue
        pairs.extend(itertools.chain.from_iterable(_read_runs(runs, _run_words, words)))
    return dict(reversed(pairs))   # the first word of each term wins


def term_counts(entry: Entry) -> Counter[str]:
    """``Counter(terms(entry))``, computed faster."""
    title = _fast_terms(str(entry.get("titre") or ""))
    return Counter(itertools.chain.from_iterable(
        itertools.chain(title, title, _fast_terms(str(entry.get("description") or "")))))


def tfidf_vectors(documents: list[list[str]], max_terms: int = 0) -> list[dict[str, float]]:
    """L2-normalised TF-IDF vectors (tf = 1 + ln n, idf = ln(1 + N / df)) over ``documents``.

    ``max_terms`` > 0 keeps only the heaviest terms of each document (ties by term), which bounds
    the cost of a cosine for long descriptions."""
    return tfidf_of_counts([Counter(doc) for doc in documents], max_terms)


def tfidf_of_counts(counted: list[Counter[str]], max_terms: int = 0) -> list[dict[str, float]]:
    """``tfidf_vectors`` of documents given as term counts."""
    df: Counter[str] = Counter()
    for counts in counted:
        df.update(counts.keys())
    n = len(counted)
    log = math.log
    idf = {term: log(1.0 + n / d) for term, d in df.items()}
    tf = _TermFrequency()
    vectors = []
    for counts in counted:
        vec = {term: tf[c] * idf[term] for term, c in counts.items()}
        if max_terms and len(vec) > max_terms:
            vec = dict(sorted(vec.items(), key=lambda tv: (-tv[1], tv[0]))[:max_terms])
        norm = math.sqrt(sum([v * v for v in vec.values()])) or 1.0
        vectors.append({term: v / norm for term, v in vec.items()})
    return vectors


class _TermFrequency(dict):
    """count -> 1 + ln(count), each computed once (a few distinct counts over 20,000 texts)."""

    def __missing__(self, count: int) -> float:
        value = self[count] = 1.0 + math.log(count)
        return value


# ------------------------------------------------------------------ quantities
_UNIT_ALIASES = {  # first stem of the unit -> (canonical unit, factor)
    "kg": ("kg", 1.0), "kilo": ("kg", 1.0), "kilogramm": ("kg", 1.0), "tonn": ("kg", 1000.0), "t": ("kg", 1000.0),
    "l": ("l", 1.0), "litr": ("l", 1.0), "m2": ("m2", 1.0), "h": ("h", 1.0), "heur": ("h", 1.0),
}


@functools.lru_cache(maxsize=4096)     # a few units, repeated over thousands of entries
def unit_key(unit: str) -> tuple[str, float]:
    """Comparable unit: the stem of its first word (« ordinateurs portables » ~ « ordinateur »), tonnes in kg."""
    folded = fold(unit).replace("²", "2")
    tokens = [w for w in _WORD.findall(folded) if w not in STOP_WORDS] or _WORD.findall(folded) or [folded]
    first = stem(tokens[0])
    return _UNIT_ALIASES.get(first, (first, 1.0))


# ------------------------------------------------------------------ prepared entries
class _Item:
    __slots__ = ("rank", "entry", "id", "type", "objet", "cat", "themes", "theme_set", "start", "until", "qty", "reach", "radius",
                 "commune", "dept", "region", "lat", "lon", "rlat", "rlon", "coslat", "vec", "org", "fictif", "limit",
                 "surfaces")


def _day_number(value: Any, cache: dict[Any, int | None]) -> int | None:
    """``to_date(value).toordinal()`` (None for no date), each distinct value parsed once."""
    try:
        number = cache.get(value, -1)
    except TypeError:   # not hashable: not a date either
        return None
    if number == -1:
        day = to_date(value)
        number = cache[value] = None if day is None else day.toordinal()
    return number


def _prepare(entries: list[Entry], build_date: dt.date) -> list[_Item]:
    """The entries with a place that are open on ``build_date`` (status ouvert or en_cours, and
    ``date_publication <= build_date <= valable_jusqu_au``), sorted by id, as flat ``_Item``s."""
    items = []
    today = build_date.toordinal()
    days: dict[Any, int | None] = {}
    for entry in sorted(entries, key=lambda e: e.id):
        if entry.place is None:
            continue
        data = entry.data
        if data.get("statut") not in OPEN_STATUSES:
            continue
        published, until = _day_number(data.get("date_publication"), days), _day_number(data.get("valable_jusqu_au"), days)
        if published is None or until is None or not published <= today <= until:
            continue
        item = _Item()
        item.entry, item.id = entry, entry.id
        item.type, item.objet, item.cat = data.get("type_de_soutien"), data.get("objet"), data.get("categorie")
        item.themes = tuple(data.get("thematiques") or ())
        item.theme_set = frozenset(item.themes)
        item.start = _day_number(data.get("disponible_a_partir_du"), days) or published
        item.until = until
        quantity = data.get("quantite")
        item.qty = None
        if isinstance(quantity, dict) and isinstance(quantity.get("valeur"), int) and quantity.get("unite"):
            unit, factor = unit_key(str(quantity["unite"]))
            item.qty = (quantity["valeur"] * factor, unit)
        territory = data.get("territoire") or {}
        item.reach = territory.get("portee")
        item.radius = float(territory.get("rayon_km") or 0)
        item.limit = item.radius if item.reach == "rayon" else math.inf   # farthest reachable point, in km
        place = entry.place
        item.commune, item.dept, item.region = place.commune, place.departement, place.region
        item.lat, item.lon = place.lat, place.lon
        item.org = data.get("organisation")
        item.fictif = bool(data.get("fictif"))
        item.vec = item.surfaces = None
        items.append(item)
    for rank, item in enumerate(items):
        item.rank = rank
    return items


def _fill_points(items: Iterable[_Item], settings: MatchSettings) -> None:
    """Fallback for a missing point: the chef-lieu of the département; radians for haversine."""
    items = list(items)
    points = settings.departement_points
    if points is None and any(i.lat is None or i.lon is None for i in items):
        points = _departement_points()
    for item in items:
        if (item.lat is None or item.lon is None) and points and item.dept in points:
            item.lat, item.lon = points[item.dept]
        if item.lat is None or item.lon is None:
            item.lat = item.lon = item.rlat = item.rlon = item.coslat = None
        else:
            item.rlat, item.rlon = math.radians(item.lat), math.radians(item.lon)
            item.coslat = math.cos(item.rlat)


def _departement_points() -> dict[str, tuple[float, float]]:
    try:
        from .territories import load_geography
    except ImportError:  # pragma: no cover - the module ships with the package
        return {}
    geo = load_geography()
    out = {}
    for code in sorted(geo.departements):
        chef_lieu = getattr(geo.departements[code], "chef_lieu", None)
        point = geo.point(chef_lieu) if chef_lieu else None
        if point:
            out[code] = (point[0], point[1])
    return out


# ------------------------------------------------------------------ the pair: hard conditions and score
class _Scorer:
    def __init__(self, settings: MatchSettings):
        self.s = settings
        total = sum(max(0.0, w) for w in settings.weights.values()) or 1.0
        self.w_distance = max(0.0, settings.weight_distance) / total
        self.w_text = max(0.0, settings.weight_text) / total
        self.w_thematics = max(0.0, settings.weight_thematics) / total
        self.w_categorie = max(0.0, settings.weight_categorie) / total
        self.w_dates = max(0.0, settings.weight_dates) / total
        self.w_quantity = max(0.0, settings.weight_quantity) / total
        self.w_exact = max(0.0, settings.weight_exact) / total
        self.types = {t: frozenset(settings.offer_types_for(t)) for t in settings.compatible_types}
        self.objets: dict[str, frozenset[str]] = {}

    def compatible(self, need: _Item, offer: _Item) -> bool:
        types = self.types.get(need.type)
        if types is None:
            types = self.types[need.type] = frozenset(self.s.offer_types_for(need.type))
        objets = self.objets.get(need.objet)
        if objets is None:
            objets = self.objets[need.objet] = frozenset(self.s.objets_for(need.objet))
        return offer.type in types and offer.objet in objets

    @staticmethod
    def distance(a: _Item, b: _Item) -> float | None:
        """Great-circle distance between the two points (after the chef-lieu fallback), or None."""
        if a.lat is None or b.lat is None:
            return None
        return haversine_km(a.lat, a.lon, b.lat, b.lon)

    def covers(self, holder: _Item, other: _Item, d: float | None) -> bool:
        """Is ``other``'s place inside ``holder``'s reach?"""
        reach = holder.reach
        if reach == "national":
            return True
        if reach == "region":
            return holder.region is not None and holder.region == other.region
        if reach == "departement":
            return holder.dept is not None and holder.dept == other.dept
        if reach == "rayon":
            if d is None:  # no point on one side: the département stands for the radius
                return holder.dept is not None and holder.dept == other.dept
            return d <= holder.radius
        if reach == "commune":
            if holder.commune is not None and holder.commune == other.commune:
                return True
            return d is not None and d <= self.s.commune_reach_km
        return False

    def evaluate(self, need: _Item, offer: _Item) -> tuple[float, float | None] | None:
        """(score, distance) when every hard condition holds, else None, computed as ``match``
        does (``pair_scores.PairRules``, on columns of one row each)."""
        codes = pair_scores.FieldCodes()
        rules = pair_scores.PairRules(self, codes, pair_scores.Columns([need], codes),
                                      pair_scores.Columns([offer], codes), EARTH_RADIUS_KM)
        _, _, scores, distances = rules.judge(np.zeros(1, dtype=np.intp), np.zeros(1, dtype=np.intp))
        return (scores[0], distances[0]) if scores else None

    def reference(self, need: _Item, offer: _Item) -> tuple[float, float | None] | None:
        """The readable definition of ``evaluate``, one condition and one part at a time; the
        tests check that ``pair_scores`` (the same rules on whole columns) always gives the same
        answer."""
        s = self.s
        if not self.compatible(need, offer):
            return None
        if s.exclude_same_organisation and need.org is not None and need.org == offer.org:
            return None
        if not s.mix_fictitious and need.fictif != offer.fictif:
            return None
        d = self.distance(need, offer)
        if not (self.covers(offer, need, d) and self.covers(need, offer, d)):
            return None
        score = (self.w_distance * self.distance_part(need, offer, d)
                 + self.w_text * self.text_part(need, offer)
                 + self.w_thematics * self.thematics_part(need, offer)
                 + self.w_categorie * (1.0 if need.cat == offer.cat else 0.0)
                 + self.w_dates * self.dates_part(need, offer)
                 + self.w_quantity * self.quantity_part(need, offer)
                 + self.w_exact * self.exact_part(need, offer))
        return (round(score, 6), d) if score >= s.min_score else None

    # the parts, each in [0, 1]
    def distance_part(self, need: _Item, offer: _Item, d: float | None) -> float:
        if need.commune is not None and need.commune == offer.commune:
            return 1.0
        if d is None:
            return self.s.unknown_distance_score
        half = self.s.distance_half_km
        return half / (half + d)

    def text_part(self, need: _Item, offer: _Item) -> float:
        return min(1.0, cosine(need.vec, offer.vec) / self.s.text_full_cosine) if self.s.text_full_cosine > 0 else 0.0

    @staticmethod
    def thematics_part(need: _Item, offer: _Item) -> float:
        if not need.themes or not offer.themes:
            return 0.0
        shared = sum(1 for t in need.themes if t in offer.themes)
        return 2.0 * shared / (len(need.themes) + len(offer.themes))

    @staticmethod
    def dates_part(need: _Item, offer: _Item) -> float:
        """1: the offer is available when the need starts; 0.6: it becomes available before the need
        ends; 0: only after (or it ends before the need starts)."""
        if offer.start > need.until or offer.until < need.start:
            return 0.0
        return 1.0 if offer.start <= need.start else 0.6

    @staticmethod
    def exact_part(need: _Item, offer: _Item) -> float:
        """1: same type and same objet; 0.5: one of them only compatible; 0: both only compatible."""
        return ((offer.type == need.type) + (offer.objet == need.objet)) * 0.5

    @staticmethod
    def quantity_part(need: _Item, offer: _Item) -> float:
        """1: same unit and enough; 0.4–0.9: same unit, part of it; 0.5: not comparable."""
        if need.qty is None or offer.qty is None or need.qty[1] != offer.qty[1]:
            return 0.5
        if offer.qty[0] >= need.qty[0]:
            return 1.0
        return 0.4 + 0.5 * offer.qty[0] / need.qty[0]


# ------------------------------------------------------------------ spatial blocking
def _cell(item: _Item, size: float) -> tuple[int, int]:
    return (math.floor(item.lat / size), math.floor(item.lon / size))


def _cells_within(item: _Item, km: float, size: float) -> list[tuple[int, int]]:
    """Grid cells that intersect the disc of ``km`` around the item's point (a superset)."""
    delta = km / EARTH_RADIUS_KM                      # angular radius
    dlat = math.degrees(delta) + 1e-9
    cos_lat = math.cos(math.radians(item.lat))
    if math.sin(delta) >= cos_lat:
        dlon = 180.0
    else:
        dlon = math.degrees(math.asin(math.sin(delta) / cos_lat)) + 1e-9
    i0, i1 = math.floor((item.lat - dlat) / size), math.floor((item.lat + dlat) / size)
    j0, j1 = math.floor((item.lon - dlon) / size), math.floor((item.lon + dlon) / size)
    return [(i, j) for i in range(i0, i1 + 1) for j in range(j0, j1 + 1)]


class _OfferIndex:
    """Offers of one (type, objet), indexed by where they are and by where they reach."""
    __slots__ = ("all", "at_cell", "at_dept", "at_region", "nopoint_dept",
                 "reach_cell", "reach_dept", "reach_region", "reach_national")

    def __init__(self):
        self.all: list[int] = []
        self.at_cell: dict[tuple[int, int], list[int]] = {}
        self.at_dept: dict[str, list[int]] = {}
        self.at_region: dict[str, list[int]] = {}
        self.nopoint_dept: dict[str, list[int]] = {}
        self.reach_cell: dict[tuple[int, int], list[int]] = {}
        self.reach_dept: dict[str, list[int]] = {}
        self.reach_region: dict[str, list[int]] = {}
        self.reach_national: list[int] = []

    def add(self, offer: _Item, settings: MatchSettings) -> None:
        size = settings.cell_degrees
        self.all.append(offer.rank)
        self.at_dept.setdefault(offer.dept, []).append(offer.rank)
        self.at_region.setdefault(offer.region, []).append(offer.rank)
        if offer.rlat is None:
            self.nopoint_dept.setdefault(offer.dept, []).append(offer.rank)
        else:
            self.at_cell.setdefault(_cell(offer, size), []).append(offer.rank)
        reach = offer.reach
        if reach == "national":
            self.reach_national.append(offer.rank)
        elif reach == "region":
            self.reach_region.setdefault(offer.region, []).append(offer.rank)
        elif reach == "departement" or (reach in ("rayon", "commune") and offer.rlat is None):
            self.reach_dept.setdefault(offer.dept, []).append(offer.rank)
        elif reach in ("rayon", "commune"):
            km = offer.radius if reach == "rayon" else settings.commune_reach_km
            for cell in _cells_within(offer, km, size):
                self.reach_cell.setdefault(cell, []).append(offer.rank)

    def placed_in_reach(self, need: _Item, cells: list[tuple[int, int]] | None) -> list[list[int]]:
        """Offers whose place may be inside the need's reach."""
        reach = need.reach
        if reach == "national":
            return [self.all]
        if reach == "region":
            return [self.at_region.get(need.region, [])]
        if reach == "departement" or need.rlat is None:
            return [self.at_dept.get(need.dept, [])]
        get = self.at_cell.get
        groups = [g for g in (get(c) for c in cells) if g]
        extra = self.nopoint_dept.get(need.dept)
        if extra:
            groups.append(extra)
        return groups

    def reaching(self, need: _Item, cell: tuple[int, int]) -> list[list[int]]:
        """Offers whose reach may cover the need's place (the need has a point)."""
        groups = [self.reach_cell.get(cell), self.reach_dept.get(need.dept),
                  self.reach_region.get(need.region), self.reach_national]
        return [g for g in groups if g]


def _candidates(need: _Item, compatible: list[_OfferIndex], settings: MatchSettings) -> list[list[int]]:
    """Groups of offers to examine for ``need``: for each index of a compatible (type, objet)
    (``compatible``), the smaller of the offers placed inside the need's reach and the offers
    whose reach covers the need."""
    size = settings.cell_degrees
    cells = None
    if need.rlat is not None and need.reach in ("rayon", "commune"):
        km = need.radius if need.reach == "rayon" else settings.commune_reach_km
        cells = _cells_within(need, km, size)
    own_cell = _cell(need, size) if need.rlat is not None else None
    out: list[list[int]] = []
    for index in compatible:
        by_place = index.placed_in_reach(need, cells)
        if own_cell is not None:
            by_reach = index.reaching(need, own_cell)
            if sum(map(len, by_reach)) < sum(map(len, by_place)):
                by_place = by_reach
        out.extend(by_place)
    return out


# ------------------------------------------------------------------ two processes
#: memory written by the child process of the last ``match`` (MB of private pages, Linux): the
#: same list as ``forked.LAST_CHILD_PRIVATE_MB``
LAST_CHILD_PRIVATE_MB = forked.LAST_CHILD_PRIVATE_MB


def _at_once(here: Callable[[], Any], there: Callable[[], Any], settings: MatchSettings, size: int) -> tuple:
    """``(here(), there())``, ``there()`` computed at the same time by a forked child process
    (``forked.in_two``) when ``settings.workers`` >= 2 and ``size`` (the amount of work) reaches
    ``settings.parallel_threshold`` (the build machine has 2 cores); both in this process
    otherwise. ``there()`` must need nothing that ``here()`` computes."""
    parallel = settings.workers >= 2 and size >= max(2, settings.parallel_threshold)
    return forked.in_two(here, there, parallel=parallel)


# ------------------------------------------------------------------ match
#: seconds spent in each step of the last ``match`` call (for bench/matching.py)
LAST_TIMINGS: dict[str, float] = {}


class _Clock:
    def __init__(self):
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = self.laps.get(name, 0.0) + now - self._last
        self._last = now


def match(needs: list[Entry], offers: list[Entry], build_date: dt.date,
          settings: MatchSettings | None = None) -> MatchResult:
    """Best ``k`` offers for every open need and best ``k`` needs for every open offer."""
    return _match(needs, offers, build_date, settings or MatchSettings(), blocked=True)


def match_all_pairs(needs: list[Entry], offers: list[Entry], build_date: dt.date,
                    settings: MatchSettings | None = None) -> MatchResult:
    """Reference implementation comparing every need with every offer (tests only: O(N×M))."""
    return _match(needs, offers, build_date, settings or MatchSettings(), blocked=False)


def _match(needs: list[Entry], offers: list[Entry], build_date: dt.date, settings: MatchSettings,
           blocked: bool) -> MatchResult:
    # Hundreds of thousands of short-lived tuples and no reference cycles: the cyclic garbage
    # collector would only rescan the whole corpus again and again (a third of the time at 10k×10k).
    with forked.without_cyclic_gc():
        return _match_unguarded(needs, offers, build_date, settings, blocked)


def _match_unguarded(needs: list[Entry], offers: list[Entry], build_date: dt.date, settings: MatchSettings,
                     blocked: bool) -> MatchResult:
    clock = _Clock()
    LAST_CHILD_PRIVATE_MB[0] = 0.0
    k = max(0, settings.k)
    need_items = _prepare(needs, build_date)
    offer_items = _prepare(offers, build_date)
    _fill_points(need_items + offer_items, settings)
    clock.lap("prepare")
    scorer = _Scorer(settings)
    codes = pair_scores.FieldCodes()
    rules = pair_scores.PairRules(scorer, codes, pair_scores.Columns(need_items, codes),
                                  pair_scores.Columns(offer_items, codes), EARTH_RADIUS_KM)
    everything = need_items + offer_items

    # The texts (a third of the work) are read here while a second process finds the candidate
    # pairs and checks their hard conditions, which need no text (and sends back only arrays),
    # then reads the needs' words as written (for the reasons); the scores need both.
    def texts() -> tuple[list[dict[str, float]], float]:
        start = time.perf_counter()
        vectors = tfidf_of_counts([term_counts(item.entry) for item in everything], settings.max_text_terms)
        return vectors, time.perf_counter() - start

    def candidates() -> tuple[int, pair_scores.Placed, list[dict[str, str]], float]:
        start = time.perf_counter()
        examined, placed = _placed_pairs(need_items, offer_items, rules, settings, blocked)
        surfaces = [written_forms(need.entry) for need in need_items]
        return examined, placed, surfaces, time.perf_counter() - start

    (vectors, texts_s), (examined, placed, surfaces, candidates_s) = _at_once(texts, candidates, settings,
                                                                              len(everything))
    for item, vec in zip(everything, vectors):
        item.vec = vec
    for need, written in zip(need_items, surfaces):
        need.surfaces = written
    rules.set_vectors([item.vec for item in need_items], [item.vec for item in offer_items])
    clock.lap("candidates_and_text")
    pair_need, pair_offer, scores, distances = rules.score(placed)
    pair_score = np.array(scores, dtype=np.float64)
    valid = len(scores)
    clock.lap("scores")

    # the best k of every need (score, then offer rank) and of every offer (score, then need rank)
    by_need = _first_k(pair_need, np.lexsort((pair_offer, -pair_score, pair_need)), k)
    by_offer = _first_k(pair_offer, np.lexsort((pair_need, -pair_score, pair_offer)), k)
    kept = np.union1d(by_need, by_offer).tolist()
    clock.lap("top_k")
    reasons = _Reasons(scorer, build_date)
    need_rows, offer_rows = pair_need.tolist(), pair_offer.tolist()
    suggestions = {}
    for pair in kept:
        need, offer, d = need_items[need_rows[pair]], offer_items[offer_rows[pair]], distances[pair]
        suggestions[pair] = Suggestion(need.id, offer.id, scores[pair], None if d is None else round(d, 1),
                                       reasons.of(need, offer, d))
    clock.lap("reasons")
    for_need = {need.id: [] for need in need_items}
    for pair in by_need.tolist():
        for_need[suggestions[pair].need_id].append(suggestions[pair])
    for_offer = {offer.id: [] for offer in offer_items}
    for pair in by_offer.tolist():
        for_offer[suggestions[pair].offer_id].append(suggestions[pair])
    pairs = sorted(suggestions.values(), key=lambda s: (-s.score, s.need_id, s.offer_id))
    clock.lap("lists")
    LAST_TIMINGS.clear()
    LAST_TIMINGS.update(clock.laps)
    LAST_TIMINGS.update({"(texts)": texts_s, "(candidates)": candidates_s})   # inside candidates_and_text
    return MatchResult(for_need=for_need, for_offer=for_offer, pairs=pairs, candidates=examined, valid=valid)


def _placed_pairs(need_items: list[_Item], offer_items: list[_Item], rules: pair_scores.PairRules,
                  settings: MatchSettings, blocked: bool) -> tuple[int, pair_scores.Placed]:
    """Candidates examined, and the candidate pairs that pass the hard conditions: offers drawn
    by blocking (``blocked``) or every offer (the brute-force reference), checked by batches of
    about ``_BATCH_PAIRS`` pairs (bounded memory) on columns."""
    if blocked:
        indexes: dict[tuple[str, str], _OfferIndex] = {}
        for offer in offer_items:
            index = indexes.get((offer.type, offer.objet))
            if index is None:
                index = indexes[(offer.type, offer.objet)] = _OfferIndex()
            index.add(offer, settings)
        compatible: dict[tuple[str, str], list[_OfferIndex]] = {}

        def candidates_of(need: _Item) -> list[list[int]]:
            pools = compatible.get((need.type, need.objet))
            if pools is None:
                pools = compatible[(need.type, need.objet)] = [
                    indexes[(offer_type, objet)] for offer_type in settings.offer_types_for(need.type)
                    for objet in settings.objets_for(need.objet) if (offer_type, objet) in indexes]
            return _candidates(need, pools, settings)
    else:
        every_offer = list(range(len(offer_items)))

        def candidates_of(need: _Item) -> list[list[int]]:
            return [every_offer]

    examined = 0
    placed: list[pair_scores.Placed] = []
    batch_needs: list[int] = []
    batch_offers: list[int] = []
    counts: list[int] = []

    def check_batch() -> None:
        if batch_offers:
            rows = np.repeat(np.array(batch_needs, dtype=np.intp), counts)
            placed.append(rules.conditions(rows, np.array(batch_offers, dtype=np.intp), known_compatible=blocked))
        del batch_needs[:], batch_offers[:], counts[:]

    extend = batch_offers.extend
    for need in need_items:
        before = len(batch_offers)
        for group in candidates_of(need):
            extend(group)
        if len(batch_offers) > before:
            batch_needs.append(need.rank)
            counts.append(len(batch_offers) - before)
            if len(batch_offers) >= _BATCH_PAIRS:
                examined += len(batch_offers)
                check_batch()
    examined += len(batch_offers)
    check_batch()
    return examined, pair_scores.Placed.join(placed)


#: candidate pairs judged at once (bounds the memory of the columns gathered for them)
_BATCH_PAIRS = 100_000


def _first_k(group: np.ndarray, order: np.ndarray, k: int) -> np.ndarray:
    """The first ``k`` positions of ``order`` within each run of equal ``group[order]`` values."""
    if not len(order) or k <= 0:
        return order[:0]
    sorted_groups = group[order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    first = np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    return order[np.arange(len(order)) - first < k]


# ------------------------------------------------------------------ reasons, in French
class _Reasons:
    """French explanation of a pair, from the need's point of view; cached per entry where possible."""

    def __init__(self, scorer: _Scorer, build_date: dt.date):
        self.scorer = scorer
        self.build_date = build_date.toordinal()
        self._cache: dict[tuple, str] = {}
        self._dates: dict[int, str] = {}

    def _cached(self, key: tuple) -> str:
        text = self._cache.get(key)
        if text is None:
            kind = key[0]
            if kind == "type":
                _, need_type, offer_type = key
                if need_type == offer_type:
                    text = f"même type de soutien : {label('type_de_soutien', need_type)}"
                else:
                    text = (f"types de soutien compatibles : {label('type_de_soutien', need_type)} "
                            f"et {label('type_de_soutien', offer_type)}")
            elif kind == "objet":
                text = f"objets proches : {label('objet', key[1])} et {label('objet', key[2])}"
            elif kind == "themes":
                shared = key[1]
                plural = "s" if len(shared) > 1 else ""
                text = f"thématique{plural} commune{plural} : {', '.join(label('thematique', t) for t in shared)}"
            else:
                text = f"même catégorie : {label('categorie', key[1])}"
            self._cache[key] = text
        return text

    def of(self, need: _Item, offer: _Item, d: float | None) -> tuple[str, ...]:
        out = [self.place(need, offer, d), self._cached(("type", need.type, offer.type))]
        if need.objet != offer.objet:
            out.append(self._cached(("objet", need.objet, offer.objet)))
        theme_set = offer.theme_set
        shared = tuple([t for t in need.themes if t in theme_set])
        if shared:
            out.append(self._cached(("themes", shared)))
        if need.cat == offer.cat:
            out.append(self._cached(("cat", need.cat)))
        if not (offer.start > need.until or offer.until < need.start):
            text = self._dates.get(offer.rank)
            if text is None:
                until = french_date(dt.date.fromordinal(offer.until))
                if offer.start > self.build_date:
                    text = f"disponible à partir du {french_date(dt.date.fromordinal(offer.start))}, jusqu'au {until}"
                else:
                    text = f"disponible jusqu'au {until}"
                self._dates[offer.rank] = text
            out.append(text)
        if need.qty is not None and offer.qty is not None and need.qty[1] == offer.qty[1]:
            out.append(self.quantity(need, offer))
        text = self.text(need, offer)
        if text:
            out.append(text)
        return tuple(out)

    @staticmethod
    def place(need: _Item, offer: _Item, d: float | None) -> str:
        n, o = need.entry.place, offer.entry.place
        if need.commune is not None and need.commune == offer.commune:
            return f"même commune ({n.commune_nom or need.commune})"
        if d is not None:
            if d >= 9.95:
                km = f"{d:.0f} km"
            elif d >= 1:
                km = f"{d:.1f}".replace(".0", "").replace(".", ",") + " km"
            else:
                km = "moins d'1 km"
            return f"à {km} ({n.commune_nom or need.commune} → {o.commune_nom or offer.commune})"
        if need.dept is not None and need.dept == offer.dept:
            return f"même département ({n.departement_nom or need.dept})"
        if need.region is not None and need.region == offer.region:
            return f"même région ({n.region_nom or need.region})"
        return "intervient partout en France"

    @staticmethod
    def quantity(need: _Item, offer: _Item) -> str | None:
        if need.qty is None or offer.qty is None or need.qty[1] != offer.qty[1]:
            return None
        nq, oq = need.entry.data["quantite"], offer.entry.data["quantite"]
        offered = f"{_number(oq['valeur'])} {oq['unite']}"
        if offer.qty[0] >= need.qty[0]:
            return f"quantité suffisante : {offered} pour un besoin de {_number(nq['valeur'])} {nq['unite']}"
        return f"quantité partielle : {offered} pour un besoin de {_number(nq['valeur'])} {nq['unite']}"

    def text(self, need: _Item, offer: _Item) -> str | None:
        vec, o_vec = need.vec, offer.vec
        common = vec.keys() & o_vec.keys()     # in C, over the smaller of the two
        if not common:
            return None
        # heaviest first, ties by term: products negated, so that tuples sort as they are
        shared = sorted([(-(vec[term] * o_vec[term]), term) for term in common])
        if -sum([p for p, _ in shared]) < self.scorer.s.min_text_reason:
            return None
        surfaces = need.surfaces     # the words as written (read with the candidates, see _match_unguarded)
        if surfaces is None:
            surfaces = need.surfaces = written_forms(need.entry)
        return "mots en commun : " + ", ".join([surfaces.get(t, t) for _, t in shared[:3]])


def _number(value: int) -> str:
    """French thousands separator (narrow no-break space): 12 000."""
    return f"{value:,}".replace(",", "\u202f")


# ------------------------------------------------------------------ inspiring examples
class ExampleIndex:
    """The examples' fields that ``inspiring_examples`` compares, read once for a whole build.

    Entries that share catégorie, type de soutien, thematics and région get the same examples
    (unless an example names one of them): the ranking is computed once per such profile and
    kept, so a build of 50,000 entries ranks a few thousand profiles instead of sorting every
    candidate example for every entry."""

    def __init__(self, exemples: list[Entry]):
        self.by_categorie: dict[Any, list[int]] = {}
        self.by_type: dict[Any, list[int]] = {}
        self.naming: dict[tuple[int, Any], list[int]] = {}   # (slot, entry id) -> examples naming it
        self._ranked: dict[tuple, list[int]] = {}
        self._pools: dict[tuple, _ExamplePool] = {}            # (catégorie, type) -> candidate rows
        for example in sorted(exemples, key=lambda e: e.id):
            row = (example, frozenset(example.get("thematiques") or ()),
                   example.place.region if example.place is not None else None,
                   example.get("categorie"), example.get("type_de_soutien"),
                   example.get("besoin"), example.get("offre"))
            self.by_categorie.setdefault(row[3], []).append(row)
            self.by_type.setdefault(row[4], []).append(row)
            for slot in (5, 6):
                if row[slot]:
                    self.naming.setdefault((slot, row[slot]), []).append(row)

    def for_entry(self, entry: Entry, k: int = 3) -> list[Entry]:
        if k <= 0:
            return []
        categorie, kind = entry.get("categorie"), entry.get("type_de_soutien")
        themes = frozenset(entry.get("thematiques") or ())
        region = entry.place.region if entry.place is not None else None

        def key(row: tuple):
            same_region = region is not None and row[2] == region
            both = (row[3] == categorie) + (row[4] == kind)
            return (-len(themes & row[1]), not same_region, -both, row[0].id)

        profile = (categorie, kind, themes, region, k)
        ranked = self._ranked.get(profile)
        if ranked is None:
            ranked = self._ranked[profile] = self._best(categorie, kind, themes, region, k + 1)
        link_slot = {"besoin": 5, "offre": 6}.get(entry.kind)
        named = [row for row in self.naming.get((link_slot, entry.id), ()) if row[3] == categorie or row[4] == kind]
        named.sort(key=key)
        # the best k of the others are among the best k + 1 of all (k + 1: the entry itself may be one)
        skip = {id(row[0]) for row in named}
        skip.add(id(entry))
        others = [row for row in ranked if id(row[0]) not in skip]
        return [row[0] for row in (named + others)[:k]]


    def _pool(self, categorie: Any, kind: Any) -> _ExamplePool:
        pool = self._pools.get((categorie, kind))
        if pool is None:
            candidates = {id(row[0]): row for row in self.by_categorie.get(categorie, ())}
            candidates.update((id(row[0]), row) for row in self.by_type.get(kind, ()))
            pool = self._pools[(categorie, kind)] = _ExamplePool(list(candidates.values()), categorie, kind)
        return pool

    def _best(self, categorie: Any, kind: Any, themes: frozenset, region: Any, count: int) -> list[int]:
        """The first ``count`` rows of the examples of this catégorie or type by ``for_entry``'s
        ``key`` (shared thematics, same région, shared fields, id), without looking at the others:
        level by level from the most thematics shared, the examples sharing at least ``c`` of the
        entry's thematics are those listed under one of its ``c``-thematic subsets, in the pool's
        order; those sharing more were all taken at a higher level (otherwise the ranking would
        be complete), so at most ``count`` rows are skipped per list. The work depends on
        ``count`` and on the entry's thematics (at most 5), not on the number of examples."""
        pool = self._pool(categorie, kind)
        best: list[int] = []
        taken: set[int] = set()

        def take(streams: list) -> bool:
            for position in heapq.merge(*streams) if len(streams) > 1 else (streams[0] if streams else ()):
                if position not in taken:
                    taken.add(position)
                    best.append(position)
                    if len(best) == count:
                        return True
            return False

        mine = sorted(themes)
        for shared in range(len(mine), 0, -1):
            subsets = list(itertools.combinations(mine, shared))
            if region is not None and take([pool.by_subset_region[(subset, region)] for subset in subsets
                                            if (subset, region) in pool.by_subset_region]):
                break
            if take([pool.by_subset[subset] for subset in subsets if subset in pool.by_subset]):
                break
        else:          # then the examples sharing no thematic: same région first
            if not (region is not None and take([pool.by_region.get(region, ())])):
                take([range(len(pool.ordered))])
        return [pool.ordered[position] for position in best]


class _ExamplePool:
    """The examples of one (catégorie, type de soutien): ordered by shared fields then id, with
    the positions in that order of those of each région, and of those holding each subset of
    thematics (a sorted tuple), also by région (``by_subset_region``, key ``(subset, région)``)."""
    __slots__ = ("ordered", "by_subset", "by_subset_region", "by_region")

    def __init__(self, rows: list[int], categorie: Any, kind: Any):
        self.ordered = sorted(rows, key=lambda row: (-((row[3] == categorie) + (row[4] == kind)), row[0].id))
        self.by_subset: dict[tuple, list[int]] = {}
        self.by_subset_region: dict[tuple, list[int]] = {}
        self.by_region: dict[Any, list[int]] = {}
        for position, row in enumerate(self.ordered):
            themes = sorted(row[1])
            for size in range(1, len(themes) + 1):
                for subset in itertools.combinations(themes, size):
                    self.by_subset.setdefault(subset, []).append(position)
                    self.by_subset_region.setdefault((subset, row[2]), []).append(position)
            self.by_region.setdefault(row[2], []).append(position)


def inspiring_examples(entry: Entry, exemples: list[Entry], k: int = 3) -> list[Entry]:
    """Up to ``k`` examples of the same catégorie or type_de_soutien as ``entry``: an example that
    names this entry first, then the most shared thematics, then the same région, then the most
    shared fields (catégorie and type), then id. (For many entries, build one ``ExampleIndex``.)"""
    return ExampleIndex(exemples).for_entry(entry, k)
