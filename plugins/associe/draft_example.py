"""``associe draft-example BESOIN_ID [--offre OFFRE_ID] [--output PATH]``: from a fulfilled need to
an inspiring example (issue 7, item 4).

When a need's ``statut`` becomes ``pourvu``, this command drafts ``content/exemples/<id>.yaml``
from the need, the offer that answered it (``--offre``) and both organisations, so that the
examples base grows from the directory itself. What the directory knows is filled in: title,
partners (linked to their organisation files), catégorie, type de soutien (the offer's, i.e.
what was actually given), thematics, territory (the need's commune), start year, the ``besoin``
and ``offre`` links, and ``fictif`` when any of them is a demo entry.

What only the partners know is marked, never invented:

* required free texts (``resume``, each ``apports[].texte``) and the optional ``resultats`` and
  ``et_ensuite`` get a placeholder sentence starting with « À compléter : » (``TODO_MARKER``):
  long enough for the schema, so that the draft passes ``associe check`` and the maintainer
  sees every gap in the pull request's diff;
* ``source.editeur`` names the partners, ``source.titre`` says it is their own account;
* facts that cannot be guessed (the exact start year, the duration — ``duree_mois`` or
  ``en_cours``) carry a ``# À vérifier`` / ``# À compléter`` YAML comment.

A draft still containing « À compléter » must not be merged as is: ``todo_fields(data)`` lists
the fields that still hold a placeholder (a validation rule can warn on them).

Without ``--offre`` the second partner is a placeholder too (nature ``autre``), and the command
prints the offers that the matcher finds compatible with the need, to re-run with ``--offre``.

Exit status: 0 draft written and valid; 1 draft written but ``associe check`` reports errors;
2 nothing written (unknown need or offer, need not « pourvu », file exists without ``--force``).
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any, Iterable

import yaml

from .paths import CONTENT_DIR, ROOT
from .vocabulary import label

from .validation import TODO_MARKER  # noqa: E402 - one marker for the drafts and their review rule
MAX_TITLE = 140
MAX_THEMATICS = 5


def _clip(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip(" ,;:-") + "…"


def _year(entry_data: dict) -> int:
    """The year the need was fulfilled, as far as the directory knows: its last confirmation,
    else its publication (« À vérifier » in the draft)."""
    for key in ("derniere_confirmation", "date_publication"):
        value = entry_data.get(key)
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value).year
            except ValueError:
                continue
    return dt.date.today().year


def todo_fields(data: Any, path: str = "") -> list[str]:
    """Dotted paths of the fields whose text still starts with « À compléter »."""
    found: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            found += todo_fields(value, f"{path}.{key}" if path else str(key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += todo_fields(value, f"{path}[{i}]")
    elif isinstance(data, str) and data.lstrip().startswith(TODO_MARKER):
        found.append(path)
    return found


def draft_data(need: Any, offer: Any | None, need_org: Any | None, offer_org: Any | None) -> dict[str, Any]:
    """The example as a mapping, in the schema's order (``need``/``offer``/``*_org`` are Entry)."""
    n = need.data
    need_name = need_org.title if need_org is not None else n.get("organisation", "")
    partners = [{"nom": _clip(need_name, MAX_TITLE), "nature": need_org.get("nature") if need_org else "association"}]
    if need_org is not None:
        partners[0]["organisation"] = need_org.id
    if offer is not None and offer_org is not None and (need_org is None or offer_org.id != need_org.id):
        partners.append({"nom": _clip(offer_org.title, MAX_TITLE), "nature": offer_org.get("nature") or "autre",
                         "organisation": offer_org.id})
        other_name = offer_org.title
    else:
        partners.append({"nom": f"{TODO_MARKER} : nom de l'organisation qui a répondu", "nature": "autre"})
        other_name = ""

    themes: list[str] = []
    for theme in list(n.get("thematiques") or []) + list((offer.data.get("thematiques") if offer else None) or []):
        if theme not in themes:
            themes.append(theme)
    kind = (offer.data.get("type_de_soutien") if offer else None) or n.get("type_de_soutien")
    title = f"{need_name} et {other_name} : {n.get('titre', '')}" if other_name else n.get("titre", "")
    commune = (n.get("territoire") or {}).get("commune")

    facts = f"{need_name} cherchait : « {n.get('titre', '')} » ({label('type_de_soutien', n.get('type_de_soutien'))})."
    if offer is not None:
        facts += f" {other_name or 'Une organisation'} a répondu avec son offre « {offer.data.get('titre', '')} »."
    resume = (f"{TODO_MARKER} : racontez en quelques phrases comment le partenariat s'est noué et déroulé "
              f"(qui a fait quoi, quand, avec quels moyens). Rappel de l'annuaire : {facts}")
    apports = [{"partenaire": p["nom"] if not p["nom"].startswith(TODO_MARKER) else "Organisation qui a répondu",
                "texte": f"{TODO_MARKER} : ce que ce partenaire a retiré du partenariat."} for p in partners]
    data: dict[str, Any] = {
        "identifiant": need.id,
        "titre": _clip(title, MAX_TITLE) if len(title) >= 5 else f"Partenariat : {title}",
        "partenaires": partners,
        "categorie": n.get("categorie"),
        "type_de_soutien": kind,
        "thematiques": themes[:MAX_THEMATICS],
        "territoire": {"echelle": "commune", "code": commune} if commune else {"echelle": "national"},
        "annee_debut": _year(n),
        "resume": _clip(resume, 1500),
        "apports": apports,
        "resultats": f"{TODO_MARKER} : les résultats concrets (personnes aidées, matériel remis, heures données…).",
        "et_ensuite": f"{TODO_MARKER} : ce qui a suivi ou ce qui est prévu (renouvellement, passage du mécénat "
                      "aux pratiques responsables ou à une coopération…).",
        "besoin": need.id,
    }
    if offer is not None:
        data["offre"] = offer.id
    data["source"] = {
        "titre": "Récit des partenaires publié sur l'annuaire Asso'cie",
        "editeur": _clip(" et ".join(p["nom"] for p in partners if not p["nom"].startswith(TODO_MARKER)) or need_name,
                         MAX_TITLE),
    }
    if need.fictitious or (offer is not None and offer.fictitious) or any(
            o is not None and o.fictitious for o in (need_org, offer_org)):
        data["fictif"] = True
    return data


# ------------------------------------------------------------------------------ YAML text
class _Dumper(yaml.SafeDumper):
    """Lists indented under their key, long texts as literal blocks (one line, easy to edit)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False):
        return super().increase_indent(flow, False)


LONG_TEXT = 140  # titles (at most 140) stay on their line


def _str(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value or len(value) > LONG_TEXT else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)

COMMENTS = {
    "identifiant": "# Brouillon tiré d'un besoin pourvu par « associe draft-example ». Complétez chaque « À compléter »,\n"
                   "# vérifiez chaque « À vérifier », puis proposez le fichier : il ne doit plus contenir « À compléter ».",
    "titre": "# À vérifier : un titre qui dit ce que les partenaires ont fait ensemble.",
    "annee_debut": "# À vérifier : l'année où le partenariat a commencé.\n"
                   "# À compléter : ajoutez « duree_mois: N » s'il est terminé, ou « en_cours: true » s'il continue.",
    "resume": "# À compléter : le récit, en quelques phrases (pas de nom de personne, ni de téléphone ou d'e-mail).",
    "apports": "# À compléter : ce que chaque partenaire y a gagné.",
    "source": "# À vérifier : si le récit a été publié ailleurs, donnez ce titre, cet éditeur et « url ».",
}


def to_yaml(data: dict[str, Any], candidates: Iterable[str] = ()) -> str:
    """The draft as YAML text, with the French review comments before their fields."""
    lines: list[str] = []
    candidates = list(candidates)
    for key, value in data.items():
        if key in COMMENTS:
            lines.append(COMMENTS[key])
        if key == "partenaires" and candidates:
            lines.append("# À compléter : l'organisation qui a répondu. Offres compatibles trouvées par l'annuaire :")
            lines += [f"#   associe draft-example {data['besoin']} --offre {ident}" for ident in candidates]
        text = yaml.dump({key: value}, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100,
                         default_flow_style=False)
        lines.append(text.rstrip("\n"))
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ the command
def _compatible_offers(need: Any, corpus: Any, limit: int = 3) -> list[str]:
    """Offers the matcher would have paired with ``need`` while it was open (a hint only):
    the need and the offers are re-opened and matched on the need's publication date, last
    confirmation and last day of validity; best score first."""
    try:
        import copy

        from .enrich import enrich
        from .matching import match
        from .territories import load_geography
        from .validation import parse_date

        enrich(corpus, load_geography())

        def reopened(entry: Any) -> Any:
            twin = copy.copy(entry)
            twin.data = {**entry.data, "statut": "ouvert"}
            return twin

        published, until = parse_date(need.get("date_publication")), parse_date(need.get("valable_jusqu_au"))
        days = sorted({d for d in (published, parse_date(need.get("derniere_confirmation")), until)
                       if d is not None and published is not None and until is not None and published <= d <= until})
        offers = [reopened(o) for o in corpus.offres.values() if o.get("statut") != "expire"]
        best: dict[str, float] = {}
        for day in days:
            for suggestion in match([reopened(need)], offers, day).for_need.get(need.id, []):
                best[suggestion.offer_id] = max(best.get(suggestion.offer_id, 0.0), suggestion.score)
        return [ident for ident, _ in sorted(best.items(), key=lambda item: (-item[1], item[0]))][:limit]
    except Exception:  # a hint: never fail the command for it
        return []


def main_draft(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="associe draft-example",
        description="Rédiger le brouillon d'un exemple de partenariat à partir d'un besoin pourvu.")
    parser.add_argument("besoin", metavar="BESOIN_ID", help="identifiant du besoin pourvu (nom du fichier sans .yaml)")
    parser.add_argument("--offre", metavar="OFFRE_ID", help="identifiant de l'offre qui y a répondu")
    parser.add_argument("--output", metavar="PATH",
                        help="fichier à écrire (par défaut : content/exemples/<BESOIN_ID>.yaml ; « - » : sortie standard)")
    parser.add_argument("--content", default=str(CONTENT_DIR), help="dossier des entrées (par défaut : content/)")
    parser.add_argument("--force", action="store_true", help="remplacer le fichier s'il existe déjà")
    args = parser.parse_args(argv)

    from .validation import check

    content = Path(args.content)
    result = check([content], root=ROOT)
    corpus = result.corpus
    need = corpus.besoins.get(args.besoin)
    if need is None:
        bad = any(p.file.endswith(f"besoins/{args.besoin}.yaml") for p in result.errors)
        reason = "il contient des erreurs (lancez « associe check »)" if bad else f"aucun fichier besoins/{args.besoin}.yaml"
        print(f"erreur : besoin « {args.besoin} » introuvable : {reason}.", file=sys.stderr)
        return 2
    if need.get("statut") != "pourvu":
        print(f"erreur : le besoin « {args.besoin} » a le statut « {need.get('statut')} » : passez-le d'abord à "
              "« statut: pourvu » (le partenariat a eu lieu), puis relancez la commande.", file=sys.stderr)
        return 2
    offer = None
    if args.offre:
        offer = corpus.offres.get(args.offre)
        if offer is None:
            print(f"erreur : offre « {args.offre} » introuvable dans {content}/offres/.", file=sys.stderr)
            return 2
    need_org = corpus.organisations.get(need.get("organisation"))
    offer_org = corpus.organisations.get(offer.get("organisation")) if offer is not None else None
    candidates = [] if offer is not None else _compatible_offers(need, corpus)
    text = to_yaml(draft_data(need, offer, need_org, offer_org), candidates)

    if args.output == "-":
        sys.stdout.write(text)
        return 0
    target = Path(args.output) if args.output else content / "exemples" / f"{need.id}.yaml"
    if target.exists() and not args.force:
        print(f"erreur : {target} existe déjà (--force pour le remplacer).", file=sys.stderr)
        return 2
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")

    verdict = check([target], root=ROOT, context_paths=[content])
    todo = todo_fields(yaml.safe_load(text))
    print(f"Brouillon écrit : {target}")
    for problem in verdict.problems:
        print(f"  {problem}")
    if verdict.errors:
        print(f"{len(verdict.errors)} erreur(s) à corriger avant de proposer le fichier.")
        return 1
    print("Vérifié : aucune erreur de format.")
    if todo:
        print("À compléter avec les partenaires avant de le proposer : " + ", ".join(todo) + ".")
    if candidates:
        print("Offres compatibles (relancez avec --offre) : " + ", ".join(candidates) + ".")
    return 0


if __name__ == "__main__":
    sys.exit(main_draft())
