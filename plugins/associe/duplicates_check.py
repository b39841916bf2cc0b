"""Warnings for likely duplicates in a pull request (``associe duplicates``).

A warning, never an error: two associations may really need the same thing. For every
entry file added or changed by the pull request, compared with every other entry of the
same kind in ``content/``:

* needs and offers: **same organisation and a similar title** (``TITLE_SIMILARITY``);
* any kind: **near-identical text** (description, résumé or présentation, ``TEXT_SIMILARITY``);
* organisations: a similar name, or the same SIREN/SIRET/RNA, or the same website domain;
* examples: a similar title, or the same source address.

Texts are compared after folding (accents, case, punctuation, common words such as
« association » or « les »). A cheap word-set overlap picks the candidates first, so that a
directory of 10,000 entries is compared in well under a second per changed file.
"""
from __future__ import annotations

import difflib
import re
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlsplit

from .loading import load_file
from .paths import CONTENT_DIR, KIND_FOLDERS, ROOT
from .problems import Problem

TITLE_SIMILARITY = 0.75
NAME_SIMILARITY = 0.9
TEXT_SIMILARITY = 0.9
MIN_TEXT_LENGTH = 40
STOP_WORDS = frozenset("""
a au aux avec d de des du en et l la le les pour par sur un une nos notre vos votre
association asso assoc collectif amicale club comite federation fondation sas sarl sa eurl scic scop
""".split())
TEXT_FIELDS = ("description", "resume", "presentation")


def fold(text: Any) -> str:
    text = unicodedata.normalize("NFKD", str(text or "").replace("œ", "oe").replace("æ", "ae"))
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    return " ".join(w for w in re.sub(r"[^a-z0-9]+", " ", text).split() if w not in STOP_WORDS)


def similarity(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < 0.5 or matcher.quick_ratio() < 0.5:
        return matcher.quick_ratio() * 0.5
    return matcher.ratio()


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(1, min(len(a), len(b)))


def _domain(url: Any) -> str:
    host = (urlsplit(str(url or "")).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


class Record:
    __slots__ = ("kind", "id", "path", "data", "title", "text", "words")

    def __init__(self, kind: str, ident: str, path: str, data: dict):
        self.kind, self.id, self.path, self.data = kind, ident, path, data
        self.title = fold(data.get("titre") or data.get("nom"))
        self.text = fold(next((data[f] for f in TEXT_FIELDS if data.get(f)), ""))
        self.words = set(self.text.split())


def load_records(paths: Iterable[Path], root: Path) -> list[Record]:
    records = []
    for path in paths:
        loaded = load_file(path, root)
        if loaded.kind and isinstance(loaded.data, dict):
            records.append(Record(loaded.kind, loaded.id, loaded.relpath, loaded.data))
    return records


def _entry_files(content_dir: Path) -> list[Path]:
    return sorted(p for folder in KIND_FOLDERS if (content_dir / folder).is_dir()
                  for p in (content_dir / folder).glob("*.yaml"))


def compare(new: Record, other: Record) -> list[str]:
    """The reasons why ``new`` looks like a duplicate of ``other`` (empty: it does not)."""
    if new.kind != other.kind or new.id == other.id:
        return []
    reasons = []
    d_new, d_other = new.data, other.data
    if new.kind in ("besoin", "offre"):
        if d_new.get("organisation") and d_new.get("organisation") == d_other.get("organisation"):
            score = similarity(new.title, other.title)
            if score >= TITLE_SIMILARITY:
                reasons.append(f"même organisation et titre proche ({score:.0%})")
    elif new.kind == "organisation":
        score = similarity(new.title, other.title)
        if score >= NAME_SIMILARITY:
            reasons.append(f"nom proche ({score:.0%})")
        for key in ("siren", "siret", "rna"):
            if d_new.get(key) and d_new.get(key) == d_other.get(key):
                reasons.append(f"même numéro {key.upper()}")
        if _domain(d_new.get("site_web")) and _domain(d_new.get("site_web")) == _domain(d_other.get("site_web")):
            reasons.append("même site web")
    elif new.kind == "exemple":
        score = similarity(new.title, other.title)
        if score >= TITLE_SIMILARITY:
            reasons.append(f"titre proche ({score:.0%})")
        url_new = (d_new.get("source") or {}).get("url") if isinstance(d_new.get("source"), dict) else None
        url_other = (d_other.get("source") or {}).get("url") if isinstance(d_other.get("source"), dict) else None
        if url_new and url_new == url_other:
            reasons.append("même source")
    if len(new.text) >= MIN_TEXT_LENGTH and len(other.text) >= MIN_TEXT_LENGTH and _overlap(new.words, other.words) >= 0.6:
        score = similarity(new.text, other.text)
        if score >= TEXT_SIMILARITY:
            reasons.append(f"texte presque identique ({score:.0%})")
    return reasons


def find_duplicates(changed: Iterable[Path], content_dir: Path = CONTENT_DIR, root: Path = ROOT) -> list[Problem]:
    """Warnings (``severity="avertissement"``) for the ``changed`` files against ``content_dir``."""
    changed = [Path(p) for p in changed]
    changed_resolved = {p.resolve() for p in changed}
    new_records = load_records(changed, root)
    others = load_records([p for p in _entry_files(content_dir) if p.resolve() not in changed_resolved], root)
    others += new_records   # two new files of one pull request can duplicate each other
    problems = []
    for new in new_records:
        for other in others:
            if other is new or other.path == new.path:
                continue
            reasons = compare(new, other)
            if reasons:
                name = other.data.get("titre") or other.data.get("nom") or other.id
                problems.append(Problem(
                    new.path, 1, 1, "titre" if "titre" in new.data else "nom",
                    f"doublon possible de {other.path} (« {name} ») : {', '.join(reasons)}. Si c'est la même entrée, "
                    "modifiez plutôt le fichier existant ; sinon, rendez le titre plus précis.",
                    severity="avertissement"))
    return sorted(problems)


def changed_entry_files(base: str, root: Path = ROOT) -> list[Path]:
    """Entry files added or modified since ``base`` (``git diff base...HEAD``)."""
    if not re.fullmatch(r"[A-Za-z0-9._/-]{1,200}", base) or base.startswith("-"):
        raise ValueError(f"référence git refusée : {base!r}")
    output = subprocess.run(["git", "diff", "--name-only", "--diff-filter=AMR", f"{base}...HEAD", "--", "content/"],
                            cwd=root, check=True, capture_output=True, text=True).stdout
    return [root / line for line in output.splitlines()
            if line.endswith(".yaml") and Path(line).parent.name in KIND_FOLDERS and (root / line).is_file()]


def main_duplicates(args) -> int:
    from .cli import print_problems

    content_dir = Path(args.content) if getattr(args, "content", None) else CONTENT_DIR
    root = content_dir.resolve().parent
    if args.paths:
        changed = [Path(p) for p in args.paths]
    elif args.base:
        changed = changed_entry_files(args.base, root)
    else:
        print("indiquez des fichiers ou --base REF", file=sys.stderr)
        return 2
    problems = find_duplicates(changed, content_dir, root)
    print_problems(problems, args.format)
    if args.format != "json":
        print(f"{len(changed)} fichier(s) comparé(s) : {len(problems)} doublon(s) possible(s).",
              file=sys.stderr if args.format == "github" else sys.stdout)
    return 0
