"""The hard conditions and the score of many (need, offer) pairs at once, on numpy arrays.

``matching`` finds, by blocking, the candidate offers of each need; this module decides which
candidate pairs are valid and scores them, the same rules as ``matching._Scorer.reference`` (the
readable definition, one pair at a time; a test checks that both agree on every pair), applied
to whole columns instead of one pair at a time: at 10,000 × 10,000 about 350,000 candidate pairs
are judged in a few hundredths of a second instead of a second of Python.

Each field the rules read is a column (one numpy array per field, one row per item); strings
(types, objets, organisations, places, catégories, units) are replaced by integer codes shared by
needs and offers, -1 standing for "none" where a missing value never equals another one; the
thematics of an entry are the bits of one integer. The text cosine, on the pairs that passed the
hard conditions only, reads the offer's terms in a flat array and the need's weights in a dense
table filled for a few hundred needs at a time (``TextColumns``), and sums the products in the
offer's order as ``cosine`` does, so that the sums are the same floating-point numbers. The shared
thematics beyond 63 distinct ones stay in Python. The score is rounded with Python's ``round``,
as in the reference.
"""
from __future__ import annotations

import math
from operator import attrgetter
from typing import Any, NamedTuple, Sequence

import numpy as np

REACHES = {"national": 0, "region": 1, "departement": 2, "rayon": 3, "commune": 4}
_OTHER_REACH = 5      # unknown reach: covers nothing


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    """Cosine of two L2-normalised vectors (``a`` the need's, ``b`` the offer's): the products of
    their shared terms, summed in the order of ``b`` (the order ``TextColumns`` sums them in)."""
    total = 0.0
    for term, value in b.items():
        if term in a:
            total += a[term] * value
    return total


class TextColumns:
    """The TF-IDF vectors of the needs and of the offers as flat arrays, for the cosine of many
    pairs at once (``cosines``).

    Each offer's terms (integer codes) and weights follow one another in ``offer_terms`` and
    ``offer_weights`` (from ``offer_start[row]``, ``offer_length[row]`` of them), in the order of
    its dictionary. For a block of consecutive needs, their weights are written into a dense
    table (need × term, zero elsewhere), every pair reads its offer's terms in that table, and
    ``numpy.bincount`` adds the products pair by pair in the offer's order: the products of
    terms the need lacks are 0.0, and adding 0.0 leaves a sum unchanged, so each sum is exactly
    ``cosine(need, offer)``. About three times faster than the dictionaries at 18,000 × 18,000
    open entries (610,000 pairs: 0.23 s instead of 0.7 s)."""

    #: cells of the dense table (float64: 32 MB at most)
    TABLE_CELLS = 4_000_000

    def __init__(self, need_vectors: Sequence[dict[str, float]], offer_vectors: Sequence[dict[str, float]]):
        vocabulary: dict[str, int] = {}
        code = vocabulary.setdefault

        def flat(vectors: Sequence[dict[str, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
            length = np.fromiter(map(len, vectors), dtype=np.int64, count=len(vectors))
            total = int(length.sum())
            terms = np.fromiter((code(term, len(vocabulary)) for vector in vectors for term in vector),
                                dtype=np.int64, count=total)
            weights = np.fromiter((value for vector in vectors for value in vector.values()),
                                  dtype=np.float64, count=total)
            start = np.zeros(len(vectors) + 1, dtype=np.int64)
            np.cumsum(length, out=start[1:])
            return length, start, terms, weights

        self.need_length, self.need_start, self.need_terms, self.need_weights = flat(need_vectors)
        self.offer_length, self.offer_start, self.offer_terms, self.offer_weights = flat(offer_vectors)
        self.need_row = np.repeat(np.arange(len(need_vectors), dtype=np.int64), self.need_length)
        self.terms = max(1, len(vocabulary))
        self.block = max(1, min(256, self.TABLE_CELLS // self.terms))

    def cosines(self, ni: np.ndarray, oi: np.ndarray) -> np.ndarray:
        """``cosine(need_vectors[ni[i]], offer_vectors[oi[i]])`` for every ``i``."""
        out = np.zeros(len(ni), dtype=np.float64)
        if not len(ni):
            return out
        order = None
        if np.any(ni[1:] < ni[:-1]):            # blocks of consecutive needs: pairs sorted by need
            order = np.argsort(ni, kind="stable")
            ni, oi = ni[order], oi[order]
        block, table = self.block, np.zeros((self.block, self.terms), dtype=np.float64)
        first_need = int(ni[0]) // block * block
        bounds = np.searchsorted(ni, np.arange(first_need, int(ni[-1]) + block + 1, block))
        sums = np.empty(len(ni), dtype=np.float64)
        last = len(self.need_length)
        for number in range(len(bounds) - 1):
            begin, end = int(bounds[number]), int(bounds[number + 1])
            if begin == end:
                continue
            base = first_need + number * block
            cells = slice(int(self.need_start[base]), int(self.need_start[min(base + block, last)]))
            rows, columns = self.need_row[cells] - base, self.need_terms[cells]
            table[rows, columns] = self.need_weights[cells]
            offers = oi[begin:end]
            counts = self.offer_length[offers]
            pair = np.repeat(np.arange(len(offers)), counts)
            # position of each of the offer's terms in the flat arrays, pair after pair
            position = (np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
                        + np.repeat(self.offer_start[offers], counts))
            products = self.offer_weights[position] * table[(ni[begin:end] - base)[pair], self.offer_terms[position]]
            sums[begin:end] = np.bincount(pair, weights=products, minlength=len(offers))
            table[rows, columns] = 0.0
        if order is None:
            return sums
        out[order] = sums
        return out


class Codes(dict):
    """Integer codes of the values of one field, shared by needs and offers: equal values get
    the same code, as ``==`` would pair them; ``None`` gets ``none_code`` (-1: equal to nothing)
    or, when ``none_code`` is None, a code of its own like any other value."""

    def __init__(self, none_code: int | None = -1):
        super().__init__()
        if none_code is not None:
            self[None] = none_code
        self._next = 0

    def __missing__(self, value: Any) -> int:
        code = self[value] = self._next
        self._next += 1
        return code

    def __call__(self, value: Any) -> int:
        try:
            return self[value]
        except TypeError:       # unhashable (never in validated entries): compared by its repr
            return self[("unhashable", repr(value))]

    def column(self, values: list) -> np.ndarray:
        """The codes of ``values``, as an int32 array."""
        try:
            codes = list(map(self.__getitem__, values))
        except TypeError:
            codes = list(map(self, values))
        return np.array(codes, dtype=np.int32)

    def values_by_code(self) -> dict[Any, int]:
        """Every coded value (``None`` included when it has its own code) and its code."""
        return {value: code for value, code in self.items() if code >= 0}


class FieldCodes:
    """One ``Codes`` per coded field."""

    def __init__(self):
        self.org, self.dept, self.commune, self.region, self.unit = Codes(), Codes(), Codes(), Codes(), Codes()
        # no "none" code: two entries without type, objet or catégorie share it, as in the reference
        self.type, self.objet, self.cat = Codes(none_code=None), Codes(none_code=None), Codes(none_code=None)
        self.theme = Codes(none_code=None)

    def theme_mask(self, themes) -> int | None:
        """One bit per thematic of ``themes`` (None once more than 63 thematics have codes)."""
        mask = 0
        for theme in themes:
            bit = self.theme(theme)
            if bit > 62:
                return None
            mask |= 1 << bit
        return mask


class Columns:
    """The fields of ``items`` (``matching._Item``, ranked 0..n-1) that the rules read."""

    def __init__(self, items: Sequence, codes: FieldCodes):
        def column(values, dtype):
            return np.fromiter(values, dtype=dtype, count=len(items))

        def coded(codes: Codes, name: str) -> np.ndarray:
            return codes.column(list(map(attrgetter(name), items)))

        nan = math.nan
        self.type, self.objet, self.org = coded(codes.type, "type"), coded(codes.objet, "objet"), coded(codes.org, "org")
        self.fictif = column((i.fictif for i in items), np.bool_)
        self.has_point = column((i.rlat is not None for i in items), np.bool_)
        self.rlat = column((nan if i.rlat is None else i.rlat for i in items), np.float64)
        self.rlon = column((nan if i.rlon is None else i.rlon for i in items), np.float64)
        self.coslat = column((nan if i.coslat is None else i.coslat for i in items), np.float64)
        self.limit = column((i.limit for i in items), np.float64)
        self.reach = column((REACHES.get(i.reach, _OTHER_REACH) if isinstance(i.reach, str) else _OTHER_REACH
                             for i in items), np.int8)
        self.radius = column((i.radius for i in items), np.float64)
        self.dept = coded(codes.dept, "dept")
        self.commune = coded(codes.commune, "commune")
        self.region = coded(codes.region, "region")
        self.cat = coded(codes.cat, "cat")
        self.start = column((i.start for i in items), np.int64)
        self.until = column((i.until for i in items), np.int64)
        self.qty = column((nan if i.qty is None else float(i.qty[0]) for i in items), np.float64)
        self.unit = column((-1 if i.qty is None else codes.unit(i.qty[1]) for i in items), np.int32)
        self.ntheme = column((len(i.themes) for i in items), np.int64)
        # thematics as bits of one integer (None when more than 63 distinct thematics were seen)
        masks = [codes.theme_mask(i.theme_set) for i in items]
        self.theme_mask = None if None in masks else np.array(masks, dtype=np.uint64)
        # read by the Python part (text and thematics); the text vectors may come later
        self.vec = [i.vec for i in items]
        self.themes = [i.themes for i in items]
        self.theme_set = [i.theme_set for i in items]


class Placed(NamedTuple):
    """Pairs that passed the hard conditions: rows, distance (NaN without a point), whether both
    have a point, whether they are in the same commune."""
    need_rows: np.ndarray
    offer_rows: np.ndarray
    distance: np.ndarray
    has_point: np.ndarray
    same_commune: np.ndarray

    @staticmethod
    def join(parts: list[Placed]) -> Placed:
        if not parts:
            empty = np.zeros(0, dtype=np.intp)
            return Placed(empty, empty, np.zeros(0), np.zeros(0, dtype=np.bool_), np.zeros(0, dtype=np.bool_))
        return Placed(*(np.concatenate(column) for column in zip(*parts)))


class PairRules:
    """Everything the rules need besides the two columns: weights and settings (from a
    ``matching._Scorer``), and which (type, objet) of an offer answers which of a need."""

    def __init__(self, scorer, codes: FieldCodes, needs: Columns, offers: Columns, earth_radius_km: float):
        s = scorer.s
        self.scorer, self.codes, self.needs, self.offers = scorer, codes, needs, offers
        self.earth = earth_radius_km
        self.exclude_same_org = s.exclude_same_organisation
        self.check_fictif = not s.mix_fictitious
        self.commune_km = s.commune_reach_km
        self.half, self.unknown = s.distance_half_km, s.unknown_distance_score
        self.text_full = s.text_full_cosine
        self.min_score = s.min_score
        self._compatible: np.ndarray | None = None
        self._text: TextColumns | None = None       # from the vectors, once they are read

    def compatible_table(self) -> np.ndarray:
        """``table[need type, need objet, offer type, offer objet]``: may the offer answer the need?"""
        if self._compatible is None:
            types, objets = self.codes.type.values_by_code(), self.codes.objet.values_by_code()
            table = np.zeros((len(types), len(objets), len(types), len(objets)), dtype=np.bool_)
            scorer = self.scorer
            for need_type, a in types.items():
                offer_types = [types[t] for t in scorer.s.offer_types_for(need_type) if t in types]
                for need_objet, b in objets.items():
                    offer_objets = [objets[o] for o in scorer.s.objets_for(need_objet) if o in objets]
                    for c in offer_types:
                        table[a, b, c, offer_objets] = True
            self._compatible = table
        return self._compatible

    def judge(self, need_rows: np.ndarray, offer_rows: np.ndarray, known_compatible: bool = False
              ) -> tuple[np.ndarray, np.ndarray, list[float], list[float | None]]:
        """The valid pairs among (``need_rows[i]``, ``offer_rows[i]``): their need rows, offer
        rows, rounded scores and distances (km, None without a point on one side), in the order
        given. ``known_compatible``: the candidates were drawn from compatible offers only."""
        return self.score(self.conditions(need_rows, offer_rows, known_compatible))

    def conditions(self, need_rows: np.ndarray, offer_rows: np.ndarray, known_compatible: bool = False) -> Placed:
        """The pairs among (``need_rows[i]``, ``offer_rows[i]``) that pass every hard condition,
        with what the score reads of their places (no text needed: see ``score``)."""
        N, O = self.needs, self.offers
        ni, oi = need_rows, offer_rows

        def keep(mask):
            nonlocal ni, oi
            ni, oi = ni[mask], oi[mask]

        with np.errstate(all="ignore"):
            if not known_compatible:
                keep(self.compatible_table()[N.type[ni], N.objet[ni], O.type[oi], O.objet[oi]])
            if self.exclude_same_org:
                org = N.org[ni]
                keep(~((org >= 0) & (org == O.org[oi])))
            if self.check_fictif:
                keep(N.fictif[ni] == O.fictif[oi])
            # distance, after the cheap bound: it is at least R × |Δlatitude|
            has = N.has_point[ni] & O.has_point[oi]
            n_rlat, o_rlat = N.rlat[ni], O.rlat[oi]
            dlat = o_rlat - n_rlat
            keep(~(has & (np.abs(dlat) * self.earth > np.minimum(N.limit[ni], O.limit[oi]))))
            has = N.has_point[ni] & O.has_point[oi]
            n_rlat, o_rlat, n_rlon, o_rlon = N.rlat[ni], O.rlat[oi], N.rlon[ni], O.rlon[oi]
            dlat = o_rlat - n_rlat
            h = np.sin(dlat * 0.5) ** 2 + N.coslat[ni] * O.coslat[oi] * np.sin((o_rlon - n_rlon) * 0.5) ** 2
            d = (2.0 * self.earth) * np.arcsin(np.minimum(np.sqrt(h), 1.0))
            d[~has] = np.nan
            # each side's reach covers the other's place
            n_dept, o_dept = N.dept[ni], O.dept[oi]
            n_commune, o_commune = N.commune[ni], O.commune[oi]
            n_region, o_region = N.region[ni], O.region[oi]
            same_dept = (n_dept >= 0) & (n_dept == o_dept)
            same_commune = (n_commune >= 0) & (n_commune == o_commune)
            same_region = (n_region >= 0) & (n_region == o_region)
            near_commune = has & (d <= self.commune_km)
            ok = (self._covers(O.reach[oi], O.radius[oi], d, has, same_dept, same_commune, same_region, near_commune)
                  & self._covers(N.reach[ni], N.radius[ni], d, has, same_dept, same_commune, same_region, near_commune))
            keep(ok)
            return Placed(ni, oi, d[ok], has[ok], same_commune[ok])

    def score(self, placed: Placed) -> tuple[np.ndarray, np.ndarray, list[float], list[float | None]]:
        """Rows, rounded scores and distances of the pairs of ``placed`` that reach ``min_score``
        (the text vectors must be set: ``set_vectors``)."""
        N, O = self.needs, self.offers
        ni, oi, d, has, same_commune = placed
        with np.errstate(all="ignore"):
            # the score: weighted mean of the parts
            sc = self.scorer
            score = sc.w_distance * np.where(same_commune, 1.0, np.where(has, self.half / (self.half + d), self.unknown))
            if N.theme_mask is not None and O.theme_mask is not None:
                shared = np.bitwise_count(N.theme_mask[ni] & O.theme_mask[oi]).astype(np.float64)
            else:
                shared = self._shared_themes(ni, oi)
            if sc.w_text:
                score = score + sc.w_text * self._text_part(ni, oi)
            n_nt, o_nt = N.ntheme[ni], O.ntheme[oi]
            score = score + np.where((n_nt > 0) & (o_nt > 0), sc.w_thematics * 2.0 * shared / (n_nt + o_nt), 0.0)
            score = score + np.where(N.cat[ni] == O.cat[oi], sc.w_categorie, 0.0)
            n_start, o_start = N.start[ni], O.start[oi]
            overlap = ~((o_start > N.until[ni]) | (O.until[oi] < n_start))
            score = score + np.where(overlap, np.where(o_start <= n_start, sc.w_dates, sc.w_dates * 0.6), 0.0)
            n_unit, n_qty, o_qty = N.unit[ni], N.qty[ni], O.qty[oi]
            comparable = (n_unit >= 0) & (n_unit == O.unit[oi])
            score = score + np.where(~comparable, sc.w_quantity * 0.5,
                                     np.where(o_qty >= n_qty, sc.w_quantity, sc.w_quantity * (0.4 + 0.5 * o_qty / n_qty)))
            exact = (O.type[oi] == N.type[ni]).astype(np.int64) + (O.objet[oi] == N.objet[ni])
            score = score + sc.w_exact * exact * 0.5
            good = score >= self.min_score
        ni, oi = ni[good], oi[good]
        scores = [round(value, 6) for value in score[good].tolist()]
        distances = [None if value != value else value for value in d[good].tolist()]
        return ni, oi, scores, distances

    def set_vectors(self, need_vectors: list[dict[str, float]], offer_vectors: list[dict[str, float]]) -> None:
        """The TF-IDF vectors of the needs and offers (by row), read by ``score``."""
        self.needs.vec, self.offers.vec = need_vectors, offer_vectors
        self._text = None

    def _covers(self, reach, radius, d, has, same_dept, same_commune, same_region, near_commune) -> np.ndarray:
        """Does the holder's reach (``reach``, ``radius``: one per pair) cover the other's place?"""
        return ((reach == 0)
                | ((reach == 1) & same_region)
                | ((reach == 2) & same_dept)
                | ((reach == 3) & np.where(has, d <= radius, same_dept))
                | ((reach == 4) & (same_commune | near_commune)))

    def _text_part(self, ni: np.ndarray, oi: np.ndarray) -> np.ndarray:
        """Text part of each pair: min(1, cosine / text_full_cosine)."""
        full = self.text_full
        if full <= 0:
            return np.zeros(len(ni))
        if self._text is None:
            self._text = TextColumns(self.needs.vec, self.offers.vec)
        return np.minimum(self._text.cosines(ni, oi) / full, 1.0)

    def _shared_themes(self, ni: np.ndarray, oi: np.ndarray) -> np.ndarray:
        """Number of thematics each pair shares (when they are too many for bit masks)."""
        n_themes, o_theme_set = self.needs.themes, self.offers.theme_set
        return np.array([len(o_theme_set[o].intersection(n_themes[n])) if n_themes[n] else 0
                         for n, o in zip(ni.tolist(), oi.tolist())], dtype=np.float64)
