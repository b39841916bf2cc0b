"""The whole pipeline without Pelican: load → validate → enrich → match, on a build date.

``run_pipeline`` returns a ``SiteData`` that the renderer (Pelican generator), the exports and
the tests all read. It raises ``PipelineError`` with every problem when any entry is invalid:
nothing is ever dropped silently."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .enrich import enrich
from .forked import without_cyclic_gc
from .problems import PipelineError, Problem
from .records import Corpus, Entry
from .validation import check, parse_date

OPEN_STATUSES = ("ouvert", "en_cours")


def is_expired(entry: Entry, build_date: dt.date) -> bool:
    """A need or offer whose `valable_jusqu_au` is past on the build date, or marked `expire`."""
    if entry.kind not in ("besoin", "offre"):
        return False
    until = parse_date(entry.get("valable_jusqu_au"))
    return entry.get("statut") == "expire" or (until is not None and until < build_date)


def is_open(entry: Entry, build_date: dt.date) -> bool:
    """Listed, matched and looking for a partner: not expired, published, status ouvert or en_cours."""
    published = parse_date(entry.get("date_publication"))
    return (not is_expired(entry, build_date) and entry.get("statut") in OPEN_STATUSES
            and (published is None or published <= build_date))


@dataclass
class SiteData:
    corpus: Corpus                        # every valid entry (expired ones included, for their page)
    build_date: dt.date
    geography: Any
    listed: dict[str, list[Entry]]        # kind -> entries shown in listings, feeds, exports, search
    expired: list[Entry]                  # needs/offers past their date: page says so, nothing else
    matches: Any                          # associe.matching.MatchResult
    examples_for: dict[tuple[str, str], list[Entry]] = field(default_factory=dict)  # (kind, id) -> inspiring examples
    warnings: list[Problem] = field(default_factory=list)
    include_fictitious: bool = True


def run_pipeline(content_dir: Path, build_date: dt.date, include_fictitious: bool = True,
                 match_settings: Any = None, root: Path | None = None, cache_dir: Path | None = None) -> SiteData:
    from .matching import ExampleIndex, MatchSettings, match
    from .territories import load_geography

    geo = load_geography()
    kwargs = {"root": root} if root else {}
    result = check([content_dir], geography=geo, cache_dir=cache_dir, **kwargs)
    if result.errors:
        raise PipelineError(result.errors)
    # From here on, many small objects without reference cycles (places, lists, suggestions) next
    # to the whole corpus: the cyclic garbage collector would scan the corpus again at every full
    # collection (at 50,000 entries, most of ``enrich`` and half of choosing the inspiring examples)
    with without_cyclic_gc():
        corpus = enrich(result.corpus, geo)
        keep = (lambda e: True) if include_fictitious else (lambda e: not e.fictitious)
        listed: dict[str, list[Entry]] = {}
        expired: list[Entry] = []
        for kind in ("organisation", "besoin", "offre", "exemple"):
            listed[kind] = []
            for entry in corpus.of_kind(kind).values():
                if not keep(entry):
                    continue
                if is_expired(entry, build_date):
                    expired.append(entry)
                elif parse_date(entry.get("date_publication")) and parse_date(entry.get("date_publication")) > build_date:
                    continue  # scheduled for later: not published yet
                else:
                    listed[kind].append(entry)
        needs = [e for e in listed["besoin"] if is_open(e, build_date)]
        offers = [e for e in listed["offre"] if is_open(e, build_date)]
        settings = match_settings or MatchSettings()
        matches = match(needs, offers, build_date, settings)
        examples = listed["exemple"]
        example_index = ExampleIndex(examples)
        examples_for = {(e.kind, e.id): example_index.for_entry(e, k=3) for e in listed["besoin"] + listed["offre"]}
    return SiteData(corpus=corpus, build_date=build_date, geography=geo, listed=listed, expired=expired,
                    matches=matches, examples_for=examples_for,
                    warnings=[p for p in result.problems if not p.is_error], include_fictitious=include_fictitious)
