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


def main(argv: list[str] | None = None) -> int:
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

    p = sub.add_parser("evaluate-matches", help="mesurer la qualité des suggestions sur un jeu étiqueté")
    p.add_argument("folders", nargs="*", help="dossiers de jeux étiquetés (par défaut : tests/evaluation)")
    p.set_defaults(func=cmd_evaluate)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
