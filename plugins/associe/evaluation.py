"""Measure the match suggestions against a labelled set (``associe evaluate-matches``).

A labelled set is a folder (format in docs/matching.md)::

    besoins/*.yaml      needs, same format as content/besoins/
    offres/*.yaml       offers, same format as content/offres/
    jugements.yaml      date_de_reference: 'AAAA-MM-JJ'
                        jugements: {need id: [offer ids a careful person would contact]}

Organisations are not needed: ``organisation`` is only an identifier there (the matcher uses it
to never pair an organisation with itself). Each file must pass the JSON Schema of its kind.

Figures, averaged over needs:

* ``precision_at_3``: share of relevant offers among the (up to) 3 first suggestions, over the
  needs that receive at least one suggestion (a need judged ``[]`` that still gets suggestions
  counts 0);
* ``recall_at_5``: share of the relevant offers found in the 5 first suggestions, divided by
  min(5, number of relevant offers), over the needs that have at least one relevant offer;
* ``precision_at_1``: the first suggestion is relevant (same needs as precision_at_3).
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .loading import load_file
from .matching import MatchSettings, match, to_date
from .paths import ROOT
from .records import Entry

DEFAULT_FOLDER = ROOT / "tests" / "evaluation"


class LabelledSetError(ValueError):
    """A labelled set that cannot be evaluated; the message says which file and what to fix."""


def _load_entries(folder: Path, kind: str, geo: Any) -> list[Entry]:
    from .enrich import place_of_commune
    from .validation import field_name, schema_message, validators

    sub = folder / ("besoins" if kind == "besoin" else "offres")
    if not sub.is_dir():
        raise LabelledSetError(f"{sub} : dossier manquant (un jeu étiqueté contient besoins/ et offres/).")
    entries = []
    problems = []
    for path in sorted(sub.glob("*.yaml")):
        loaded = load_file(path, folder)
        problems.extend(str(p) for p in loaded.problems)
        if loaded.data is None:
            continue
        for error in validators()[kind].iter_errors(loaded.data):
            problems.append(f"{path}: {field_name(error.absolute_path)} : {schema_message(error)}")
        if loaded.data.get("identifiant") != path.stem:
            problems.append(f"{path}: identifiant : doit être « {path.stem} », le nom du fichier.")
        code = (loaded.data.get("territoire") or {}).get("commune")
        place = place_of_commune(geo, code) if isinstance(code, str) else None
        if place is None:
            problems.append(f"{path}: territoire.commune : « {code} » n'est pas un code commune connu.")
        entries.append(Entry(kind=kind, id=path.stem, path=str(path), data=loaded.data, place=place))
    if problems:
        raise LabelledSetError("\n".join(problems))
    return entries


def _load_judgements(folder: Path) -> tuple[dict[str, list[str]], dt.date | None]:
    path = folder / "jugements.yaml"
    if not path.is_file():
        raise LabelledSetError(f"{path} : fichier manquant (les jugements de pertinence).")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    raw = data.get("jugements")
    if not isinstance(raw, dict):
        raise LabelledSetError(f"{path} : « jugements » doit associer chaque besoin à la liste de ses offres pertinentes.")
    judgements = {}
    for need_id, offers in sorted(raw.items()):
        if offers is None:
            offers = []
        if not isinstance(offers, list) or not all(isinstance(o, str) for o in offers):
            raise LabelledSetError(f"{path} : jugements.{need_id} doit être une liste d'identifiants d'offres.")
        judgements[str(need_id)] = list(offers)
    return judgements, to_date(data.get("date_de_reference"))


def load_labelled_set(folder: Path | str) -> tuple[list[Entry], list[Entry], dict[str, list[str]]]:
    """(needs, offers, judgements) of a labelled set, places filled from associe.territories."""
    from .territories import load_geography

    folder = Path(folder)
    geo = load_geography()
    needs = _load_entries(folder, "besoin", geo)
    offers = _load_entries(folder, "offre", geo)
    judgements, _ = _load_judgements(folder)
    need_ids, offer_ids = {e.id for e in needs}, {e.id for e in offers}
    problems = [f"jugements.yaml : le besoin « {n} » n'existe pas dans besoins/." for n in judgements if n not in need_ids]
    problems += [f"jugements.yaml : {n} : l'offre « {o} » n'existe pas dans offres/."
                 for n, offers_ in judgements.items() for o in offers_ if o not in offer_ids]
    problems += [f"jugements.yaml : le besoin « {n} » n'a pas de jugement (mettez « [] » si aucune offre ne convient)."
                 for n in sorted(need_ids) if n not in judgements]
    if problems:
        raise LabelledSetError("\n".join(problems))
    return needs, offers, judgements


def reference_date(folder: Path | str) -> dt.date:
    """The build date the judgements were made for (``date_de_reference``)."""
    _, day = _load_judgements(Path(folder))
    if day is None:
        raise LabelledSetError(f"{Path(folder) / 'jugements.yaml'} : indiquez « date_de_reference: 'AAAA-MM-JJ' ».")
    return day


@dataclass(frozen=True)
class NeedOutcome:
    need_id: str
    relevant: tuple[str, ...]
    suggested: tuple[str, ...]          # offer ids, best first (up to settings.k)

    @property
    def precision_at_3(self) -> float | None:
        top = self.suggested[:3]
        return sum(o in self.relevant for o in top) / len(top) if top else None

    @property
    def precision_at_1(self) -> float | None:
        return float(self.suggested[0] in self.relevant) if self.suggested else None

    @property
    def recall_at_5(self) -> float | None:
        if not self.relevant:
            return None
        return sum(o in self.relevant for o in self.suggested[:5]) / min(5, len(self.relevant))


def outcomes(folder: Path | str, build_date: dt.date | None = None,
             settings: MatchSettings | None = None) -> list[NeedOutcome]:
    """What the matcher suggests for every labelled need, next to its judgement."""
    needs, offers, judgements = load_labelled_set(folder)
    build_date = build_date or reference_date(folder)
    settings = settings or MatchSettings()
    if settings.k < 5:
        settings = dataclasses.replace(settings, k=5)
    result = match(needs, offers, build_date, settings)
    return [NeedOutcome(need.id, tuple(judgements[need.id]),
                        tuple(s.offer_id for s in result.for_need.get(need.id, [])))
            for need in sorted(needs, key=lambda e: e.id)]


def summarise(results: list[NeedOutcome]) -> dict[str, float | int]:
    def mean(values: list[float | None]) -> float:
        kept = [v for v in values if v is not None]
        return round(sum(kept) / len(kept), 4) if kept else 0.0

    return {
        "precision_at_3": mean([r.precision_at_3 for r in results]),
        "recall_at_5": mean([r.recall_at_5 for r in results]),
        "precision_at_1": mean([r.precision_at_1 for r in results]),
        "needs": len(results),
        "needs_judged_relevant": sum(1 for r in results if r.relevant),
        "needs_with_suggestions": sum(1 for r in results if r.suggested),
        "suggestions_without_relevant": sum(len(r.suggested) for r in results if not r.relevant),
    }


def evaluate(folder: Path | str, build_date: dt.date | None = None,
             settings: MatchSettings | None = None) -> dict[str, float | int]:
    """``{"precision_at_3", "recall_at_5", "needs", …}`` of the matcher on the labelled set in ``folder``.

    ``build_date`` defaults to the set's ``date_de_reference``."""
    return summarise(outcomes(folder, build_date, settings))


def _line(summary: dict[str, float | int]) -> str:
    return (f"precision@3={summary['precision_at_3']:.2f} recall@5={summary['recall_at_5']:.2f} "
            f"besoins={summary['needs']}")


def main_evaluate(argv: list[str]) -> int:
    """``associe evaluate-matches [DOSSIER...] [--date AAAA-MM-JJ] [--details]``; last line: the figures."""
    parser = argparse.ArgumentParser(prog="associe evaluate-matches",
                                     description="Mesurer la qualité des suggestions sur des jeux étiquetés.")
    parser.add_argument("folders", nargs="*", help=f"jeux étiquetés (par défaut : {DEFAULT_FOLDER})")
    parser.add_argument("--date", type=dt.date.fromisoformat, default=None,
                        help="date de construction (par défaut : date_de_reference de chaque jeu)")
    parser.add_argument("--details", action="store_true", help="afficher les suggestions de chaque besoin")
    args = parser.parse_args(argv)
    folders = [Path(f) for f in args.folders] or [DEFAULT_FOLDER]
    everything: list[NeedOutcome] = []
    try:
        for folder in folders:
            results = outcomes(folder, args.date)
            everything.extend(results)
            if args.details:
                for r in results:
                    marks = " ".join(("+" if o in r.relevant else "-") + o for o in r.suggested[:5]) or "(aucune)"
                    missed = [o for o in r.relevant if o not in r.suggested[:5]]
                    print(f"{r.need_id}: {marks}" + (f"  manquées : {', '.join(missed)}" if missed else ""))
            if len(folders) > 1:
                print(f"{folder}: {_line(summarise(results))}")
    except LabelledSetError as error:
        print(f"jeu étiqueté invalide :\n{error}", file=sys.stderr)
        return 1
    print(_line(summarise(everything)))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main_evaluate(sys.argv[1:]))
