"""A printable meeting kit per département (issue 7, item 3).

The Alsace « Laboratoire régional des partenariats » (Alsace Active) builds partnerships through
short meetings — « speed-dating » between ten associations and ten companies — with two rules:
the association does not ask for money, the company does not prospect. ``meeting_kit`` gathers,
for one département, what a local organiser needs to print for such an evening: the open needs
and offers placed there, the suggested pairs that involve them, two or three inspiring
examples, who to invite, and the rules, quoted word for word from the published account
(``RULES_SOURCE``).

Pure functions over ``SiteData`` (no Pelican, no clock), deterministic order everywhere.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .gaps import gaps_url, organisation_size, territory_url
from .pipeline import is_open
from .records import Entry

# ------------------------------------------------------------------------------ the rules
#: Where the rules come from (the account the seed reproduces; no personal contact kept).
RULES_SOURCE = {
    "titre": "Le laboratoire régional des partenariats, une passerelle entre associations et entreprises",
    "editeur": "Agence Apriles",
    "porteur": "Association Alsace Active (Laboratoire régional des partenariats)",
}

#: Sentences quoted verbatim from that account (spelling and typography kept as published).
QUOTE_FORMAT = ("Le principe est simple : Alsace Active réunit dix associations et dix entreprises volontaires "
                "dans un cadre convivial.")
QUOTE_SEVEN_MINUTES = ("Chaque entreprise dispose alors de sept minutes pour faire connaissance avec un acteur "
                       "associatif, incluant une minute pour la présentation de chacune des parties.")
QUOTE_TWO_RULES = ("Deux règles à respecter : l’association s’engage à ne pas demander d’argent et l’entreprise à "
                   "ne pas engager de démarche commerciale.")
QUOTE_PURPOSE = ("Le but étant d’encourager chacun à sortir de son registre naturel et de se forcer à faire le lien "
                 "avec ses enjeux pour explorer conjointement au moins une ou deux pistes de collaboration.")
QUOTE_ROTATION = ("Quand le temps est écoulé, les participants changent de table et rencontrent un nouvel acteur. "
                  "A la fin de la séance, chaque représentant du monde économique a ainsi rencontré dix "
                  "représentants associatifs, et vice-versa.")
QUOTE_CLOSING = ("Le « speed-dating » se clôture par un apéritif convivial qui permet de prolonger les échanges "
                 "plus librement.")
QUOTE_FOLLOW_UP = ("Pour autant et bien que leur intérêt soit reconnu de manière unanime, ces rencontres peinent "
                   "cependant à déboucher sur des projets opérationnels.")


@dataclass(frozen=True)
class Rule:
    titre: str          # the rule in a few words (ours)
    texte: str          # what it means at the table (ours)
    citation: str       # the published sentence it rests on (verbatim)


MEETING_RULES: tuple[Rule, ...] = (
    Rule("Dix associations, dix entreprises",
         "Une table par association ; les entreprises passent de table en table.",
         QUOTE_FORMAT),
    Rule("Sept minutes par table",
         "Sept minutes pour faire connaissance, dont une minute de présentation pour chacun.",
         QUOTE_SEVEN_MINUTES),
    Rule("L'association ne demande pas d'argent",
         "On parle de projets, de compétences, de matériel, de temps : pas de demande de don.",
         QUOTE_TWO_RULES),
    Rule("L'entreprise ne prospecte pas",
         "On ne vend rien et on ne cherche pas de clients pendant la rencontre.",
         QUOTE_TWO_RULES),
    Rule("Chercher une ou deux pistes ensemble",
         "Chacun sort de son registre habituel et relie l'autre à ses propres enjeux.",
         QUOTE_PURPOSE),
    Rule("On change de table au signal",
         "À la fin, chaque entreprise a rencontré chaque association.",
         QUOTE_ROTATION),
    Rule("Un moment convivial pour finir",
         "Un apéritif pour prolonger librement les échanges.",
         QUOTE_CLOSING),
)

MINUTES_PER_TABLE = 7
TABLES = 10
DEFAULT_PAIRS = 20
DEFAULT_EXAMPLES = 3

COMPANY_NATURES = ("entreprise",)
ASSOCIATION_NATURES = ("association", "structure_ess")


def schedule(tables: int = TABLES, minutes: int = MINUTES_PER_TABLE) -> dict[str, Any]:
    """The rotations of the evening: ``tables`` rounds of ``minutes`` minutes."""
    total = tables * minutes
    hours, rest = divmod(total, 60)
    duree = f"{hours} h {rest:02d}" if hours else f"{rest} min"
    return {"tables": tables, "minutes_par_table": minutes, "minutes_total": total, "duree": duree,
            "rotations": [{"numero": i + 1, "debut": i * minutes, "fin": (i + 1) * minutes} for i in range(tables)]}


# ------------------------------------------------------------------------------ the kit
@dataclass
class Participant:
    organisation: Entry
    needs: list[Entry] = field(default_factory=list)
    offers: list[Entry] = field(default_factory=list)

    @property
    def taille(self) -> str:
        return self.organisation.get("taille") or ""


@dataclass
class MeetingKit:
    code: str
    nom: str
    region_code: str | None
    region_nom: str | None
    url: str                              # kit/<slug-departement>/
    territory_url: str
    gaps_url: str
    build_date: dt.date
    needs: list[Entry] = field(default_factory=list)         # open needs placed in the département
    offers: list[Entry] = field(default_factory=list)        # open offers placed in the département
    pairs: list[dict[str, Any]] = field(default_factory=list)  # {need, offer, reasons, local}, best score first
    pairs_total: int = 0
    examples: list[Entry] = field(default_factory=list)
    associations: list[Participant] = field(default_factory=list)   # who to invite, association side
    companies: list[Participant] = field(default_factory=list)      # company side
    others: list[Participant] = field(default_factory=list)         # foundations, collectivités…
    rules: tuple[Rule, ...] = MEETING_RULES
    rules_source: dict[str, str] = field(default_factory=lambda: dict(RULES_SOURCE))
    follow_up_quote: str = QUOTE_FOLLOW_UP
    schedule: dict[str, Any] = field(default_factory=schedule)

    @property
    def empty(self) -> bool:
        return not (self.needs or self.offers)

    @property
    def fictitious_count(self) -> int:
        return sum(1 for e in self.needs + self.offers if e.fictitious)


def kit_url(geo: Any, departement: str) -> str:
    return f"kit/{geo.slug_departement(departement)}/"


def _in(entry: Entry, departement: str) -> bool:
    return entry.place is not None and entry.place.departement == departement


def _by_category_then_title(entry: Entry) -> tuple:
    return (entry.get("categorie") or "", entry.get("type_de_soutien") or "", entry.title.casefold(), entry.id)


def _geo_rank(example: Entry, departement: str, region: str | None) -> int:
    place = example.place
    if place is not None and place.departement == departement:
        return 0
    if place is not None and region and place.region == region and place.departement is None:
        return 1  # a région-wide example of this région
    if place is not None and region and place.region == region:
        return 2
    if place is None or place.region is None:
        return 3  # a national example
    return 4


def choose_examples(site_data: Any, local: list[Entry], departement: str, region: str | None,
                    limit: int = DEFAULT_EXAMPLES) -> list[Entry]:
    """Two or three examples: those the directory already suggests for the local needs and
    offers (``SiteData.examples_for``), the nearest first (département, région, elsewhere),
    then the most often suggested; when the département has no entry, the nearest examples."""
    listed = {e.id: e for e in site_data.listed.get("exemple", [])}
    frequency: Counter = Counter()
    for entry in local:
        for example in site_data.examples_for.get((entry.kind, entry.id), []):
            if example.id in listed:
                frequency[example.id] += 1
    candidates = [listed[i] for i in frequency] or [e for e in listed.values()
                                                    if _geo_rank(e, departement, region) < 4]
    if len(candidates) < 2:  # complete with the nearest, then any, so that the kit has two or three
        chosen = {e.id for e in candidates}
        extra = sorted((e for e in listed.values() if e.id not in chosen),
                       key=lambda e: (_geo_rank(e, departement, region), e.id))
        candidates += extra[: max(0, 2 - len(candidates))]
    ranked = sorted(candidates, key=lambda e: (_geo_rank(e, departement, region), -frequency[e.id], e.id))
    return ranked[: max(0, limit)]


def _participants(entries: list[Entry]) -> tuple[list[Participant], list[Participant], list[Participant]]:
    by_org: dict[str, Participant] = {}
    for entry in entries:
        org = entry.organisation
        if org is None:
            continue
        participant = by_org.setdefault(org.id, Participant(org))
        (participant.needs if entry.kind == "besoin" else participant.offers).append(entry)
    associations, companies, others = [], [], []
    for participant in sorted(by_org.values(), key=lambda p: (p.organisation.title.casefold(), p.organisation.id)):
        nature = participant.organisation.get("nature")
        if nature in COMPANY_NATURES:
            companies.append(participant)
        elif nature in ASSOCIATION_NATURES:
            associations.append(participant)
        else:
            others.append(participant)
    return associations, companies, others


class _KitIndex:
    """Open needs, offers and suggested pairs bucketed by département once (not per kit)."""

    def __init__(self, site_data: Any):
        build_date = site_data.build_date
        self.needs: dict[str, list[Entry]] = {}
        self.offers: dict[str, list[Entry]] = {}
        self.pairs: dict[str, list[dict[str, Any]]] = {}
        open_needs = {e.id: e for e in site_data.listed.get("besoin", []) if is_open(e, build_date)}
        open_offers = {e.id: e for e in site_data.listed.get("offre", []) if is_open(e, build_date)}
        for entries, target in ((open_needs, self.needs), (open_offers, self.offers)):
            for entry in entries.values():
                if entry.place is not None and entry.place.departement:
                    target.setdefault(entry.place.departement, []).append(entry)
        for target in (self.needs, self.offers):
            for entries in target.values():
                entries.sort(key=_by_category_then_title)
        ranked: dict[str, list[tuple[tuple, dict[str, Any]]]] = {}
        for pair in getattr(site_data.matches, "pairs", None) or []:
            need, offer = open_needs.get(pair.need_id), open_offers.get(pair.offer_id)
            if need is None or offer is None:
                continue
            places = {p.departement for p in (need.place, offer.place) if p is not None and p.departement}
            for code in sorted(places):
                ranked.setdefault(code, []).append(((-pair.score, need.id, offer.id), {
                    "need": need, "offer": offer, "reasons": list(pair.reasons), "local": len(places) == 1}))
        # best score first; the score itself is not kept: the kit does not show it, and a page
        # keyed on it would be rebuilt whenever any new entry moves every score a little
        for code, pairs in ranked.items():
            self.pairs[code] = [pair for _, pair in sorted(pairs, key=lambda item: item[0])]


def _kit(site_data: Any, index: _KitIndex, departement: str, max_pairs: int, max_examples: int) -> MeetingKit:
    geo = site_data.geography
    dep = geo.departements[departement]
    region = geo.regions.get(dep.region)
    needs = index.needs.get(departement, [])
    offers = index.offers.get(departement, [])
    pairs = index.pairs.get(departement, [])
    associations, companies, others = _participants(needs + offers)
    return MeetingKit(
        code=departement, nom=dep.nom, region_code=dep.region, region_nom=region.nom if region else None,
        url=kit_url(geo, departement), territory_url=territory_url(geo, departement=departement),
        gaps_url=gaps_url(geo, departement=departement), build_date=site_data.build_date,
        needs=list(needs), offers=list(offers), pairs=pairs[: max(0, max_pairs)], pairs_total=len(pairs),
        examples=choose_examples(site_data, needs + offers, departement, dep.region, max_examples),
        associations=associations, companies=companies, others=others,
    )


def meeting_kit(site_data: Any, departement: str, max_pairs: int = DEFAULT_PAIRS,
                max_examples: int = DEFAULT_EXAMPLES) -> MeetingKit:
    """The kit of one département (an empty département gets a kit with the rules only).

    Needs and offers: open, placed in the département. Pairs: suggested pairs whose need or
    offer is placed there (``local`` when both are), best score first."""
    return _kit(site_data, _KitIndex(site_data), departement, max_pairs, max_examples)


def meeting_kits(site_data: Any, settings: dict | None = None) -> dict[str, MeetingKit]:
    """Every département's kit, in the geography's order."""
    settings = settings or {}
    max_pairs = int(settings.get("ASSOCIE_KIT_PAIRS", DEFAULT_PAIRS))
    max_examples = int(settings.get("ASSOCIE_KIT_EXAMPLES", DEFAULT_EXAMPLES))
    index = _KitIndex(site_data)
    return {code: _kit(site_data, index, code, max_pairs, max_examples) for code in site_data.geography.departements}


def size_of(entry: Entry) -> str:
    """The size of the organisation behind a need or offer ('' when unknown), for the cards."""
    value = organisation_size(entry)
    return "" if value == "non_renseignee" else value
