"""The ``associe`` command: check, build, serve, evaluate-matches (and the contributor helpers)."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from .paths import CONTENT_DIR, ROOT


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas une date AAAA-MM-JJ") from None


def print_problems(problems, fmt: str, stream=None) -> None:
    stream = stream or sys.stdout
    if fmt == "json":
        json.dump([p.as_dict() for p in problems], stream, ensure_ascii=False, indent=2)
        stream.write("\n")
        return
    for problem in problems:
        if fmt == "github":
            # GitHub workflow command: an annotation on the file and line of the pull request.
            level = "error" if problem.is_error else "warning"
            message = f"{problem.field} : {problem.message}" if problem.field else problem.message
            message = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
            stream.write(f"::{level} file={problem.file},line={problem.line or 1},col={problem.column or 1}::{message}\n")
        else:
            stream.write(f"{problem}\n")


def cmd_check(args) -> int:
    from .validation import check

    paths = [Path(p) for p in args.paths] or [CONTENT_DIR]
    context = [CONTENT_DIR] if CONTENT_DIR.exists() else []
    result = check(paths, context_paths=context)
    print_problems(result.problems, args.format)
    errors = len(result.errors)
    if args.format != "json":
        summary = (f"{result.files} fichier(s) vérifié(s) : " +
                   ("aucune erreur." if not errors else f"{errors} erreur(s) à corriger."))
        print(summary, file=sys.stderr if args.format == "github" else sys.stdout)
    return 1 if errors else 0


def cmd_build(args) -> int:
    from .build import build_site

    return build_site(output=Path(args.output), build_date=args.date, content=Path(args.content),
                      include_fictitious=not args.sans_fictifs, search_index=not args.no_search)


def cmd_serve(args) -> int:
    from .build import build_site, serve

    status = build_site(output=Path(args.output), build_date=args.date, content=Path(args.content),
                        include_fictitious=True, search_index=True)
    if status:
        return status
    return serve(Path(args.output), args.port, args.bind)


def cmd_evaluate(args) -> int:
    from .evaluation import main_evaluate

    return main_evaluate(args.folders)


def cmd_forms(args) -> int:
    from .forms import main_forms

    return main_forms(args)


def cmd_intake(args) -> int:
    from .intake import main_intake

    return main_intake(args)


def cmd_new(args) -> int:
    from .new_entry import main_new

    return main_new(args)


def cmd_duplicates(args) -> int:
    from .duplicates_check import main_duplicates

    return main_duplicates(args)


def cmd_draft_example(args) -> int:
    from .draft_example import main_draft

    return main_draft(args.rest)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["draft-example"]:  # its own parser: every option goes to it, --help included
        from .draft_example import main_draft

        return main_draft(argv[1:])
    parser = argparse.ArgumentParser(prog="associe", description="Asso'cie : vérifier, construire et servir l'annuaire.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check", help="vérifier les fichiers d'entrées (toutes les erreurs d'un coup)")
    p.add_argument("paths", nargs="*", help="fichiers ou dossiers (par défaut : content/)")
    p.add_argument("--format", choices=["text", "github", "json"], default="text")
    p.set_defaults(func=cmd_check)

    for name, helptext in (("build", "construire le site (vérification, pages, flux, exports, index de recherche)"),
                           ("serve", "construire puis servir le site en local")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--output", default=str(ROOT / "output"))
        p.add_argument("--content", default=str(CONTENT_DIR))
        p.add_argument("--date", type=_date, default=None, help="date de construction AAAA-MM-JJ (par défaut : aujourd'hui)")
        if name == "build":
            p.add_argument("--sans-fictifs", action="store_true", help="laisser de côté les entrées de démonstration")
            p.add_argument("--no-search", action="store_true", help="ne pas construire l'index Pagefind")
            p.set_defaults(func=cmd_build)
        else:
            p.add_argument("--port", type=int, default=8000)
            p.add_argument("--bind", default="127.0.0.1")
            p.set_defaults(func=cmd_serve)

    p = sub.add_parser("draft-example", add_help=False,
                       help="rédiger un exemple de partenariat à partir d'un besoin pourvu")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_draft_example)

    p = sub.add_parser("evaluate-matches", help="mesurer la qualité des suggestions sur un jeu étiqueté")
    p.add_argument("folders", nargs="*", help="dossiers de jeux étiquetés (par défaut : tests/evaluation)")
    p.set_defaults(func=cmd_evaluate)

    # Contributor tools (forms, intake bot, terminal helper, duplicate warnings): plugins/associe/{forms,intake,new_entry,duplicates_check}.py
    p = sub.add_parser("forms", help="régénérer les formulaires GitHub (.github/ISSUE_TEMPLATE) à partir des schémas")
    p.add_argument("--check", action="store_true", help="échouer si les fichiers ne sont pas à jour, sans les écrire")
    p.add_argument("--repo", default=None, help="dépôt « propriétaire/nom » des liens (par défaut : celui du projet)")
    p.add_argument("--output", default=None, help="dossier de sortie (par défaut : .github/ISSUE_TEMPLATE)")
    p.set_defaults(func=cmd_forms)

    p = sub.add_parser("intake", help="transformer un ticket-formulaire en fichier YAML et en proposition (robot)")
    p.add_argument("--event", required=True, help="fichier de l'événement GitHub ($GITHUB_EVENT_PATH)")
    p.add_argument("--dry-run", action="store_true", help="sans appeler GitHub : afficher la décision et les fichiers")
    p.add_argument("--output", default=None, help="avec --dry-run : dossier où écrire les fichiers produits")
    p.add_argument("--content", default=None, help="dossier des entrées existantes (par défaut : content/)")
    p.add_argument("--date", type=_date, default=None, help="date du jour AAAA-MM-JJ (par défaut : aujourd'hui)")
    p.set_defaults(func=cmd_intake)

    p = sub.add_parser("new", help="créer une entrée en répondant aux questions du formulaire dans le terminal")
    p.add_argument("kind", choices=["besoin", "offre", "exemple", "organisation"])
    p.add_argument("--content", default=None, help="dossier des entrées (par défaut : content/)")
    p.add_argument("--date", type=_date, default=None, help="date de publication AAAA-MM-JJ (par défaut : aujourd'hui)")
    p.set_defaults(func=cmd_new)

    p = sub.add_parser("duplicates", help="signaler les doublons probables des entrées ajoutées ou modifiées")
    p.add_argument("paths", nargs="*", help="fichiers à comparer au reste de l'annuaire (par défaut : ceux changés depuis --base)")
    p.add_argument("--base", default=None, help="référence git de comparaison (ex. origin/main)")
    p.add_argument("--format", choices=["text", "github", "json"], default="text")
    p.add_argument("--content", default=None, help="dossier des entrées (par défaut : content/)")
    p.set_defaults(func=cmd_duplicates)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
