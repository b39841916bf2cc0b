"""The intake bot: a GitHub issue written with one of the forms becomes a YAML entry.

Flow (``run_intake``, called by ``associe intake --event "$GITHUB_EVENT_PATH"``):

1. **Parse** the issue body (``parse_body``): GitHub renders a form as ``### <label>`` sections
   in the form's order. The parser walks the form's fields *backwards*, taking for each field
   the last matching heading before the next field's heading: a ``### Label`` typed inside a
   textarea can never replace another field's answer (a heading of a later field typed in an
   earlier answer is followed by the real one; a heading of an earlier field typed in a later
   answer lies past that field's bound). Only a line repeating a question's *own* label inside
   its answer is truly ambiguous (the same text reads two ways): the forward walk is computed
   too, and the pull request asks the maintainers to look when the two disagree. CRLF,
   ``_No response_`` and missing sections are handled; a missing section stops the bot with a
   comment listing them. Dropdown answers may also come from the ``choix_du_site`` textarea
   filled by the site's form (GitHub cannot pre-fill a dropdown).
2. **Convert** each answer (``build_submission``): dropdown labels back to vocabulary values,
   a commune given as name, postcode or INSEE code to its INSEE code, French dates to ISO,
   numbers, official identifiers; every text is normalised (NFC, C0/C1 controls removed
   except ``\\n`` and ``\\t``). The title gives the file name (ASCII slug, ≤ 80 characters, a
   suffix on collision). A new organisation described in the same form gets its own file.
3. **Write** the YAML with ``dump_yaml`` (it round-trips through the strict loader: property
   test in tests/test_intake.py) and **validate** it with ``associe.validation.check``.
4. **Answer**: either one comment in French listing every error with how to fix it, under
   the form's own labels (the comment is updated on each edit), or one pull request per issue
   on the branch ``submission/issue-<N>`` (updated on edits, never duplicated; not touched
   once a maintainer approved it) whose body summarises the entry, the suggestions it would
   create, and says « Closes #N ».

Issue text is only ever read from the event file and handled as data: it reaches no shell,
no file path (the slug is computed), no branch name (the issue number is), no commit message.
"""
from __future__ import annotations

import datetime as dt
import difflib
import json
import os
import re
import sys
import tempfile
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import yaml

from .forms import (EMPTY_ANSWERS, FORMS, KIND_TITLES, SUBMISSION_LABEL, TITLE_FIELD, Field, Form,
                    option_values, options)
from .loading import StrictLoader
from .paths import CONTENT_DIR, FOLDER_OF_KIND
from .problems import Problem
from .vocabulary import load_vocabularies

MARKER = "<!-- associe-intake -->"
BRANCH_PREFIX = "submission/issue-"
MAX_OPEN_PER_AUTHOR = 3            # open submissions (with a pull request) per author, maintainers excepted
TRUSTED_ASSOCIATIONS = {"OWNER", "MEMBER", "COLLABORATOR"}
LABEL_TO_FIX = "à-corriger"
LABEL_PR_OPEN = "proposition-ouverte"
LABEL_WAITING = "en-attente"
LABEL_NEW_ORG = "nouvelle-organisation"
MAX_BODY_CHARS = 65_536
WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


# ============================================================================ normalisation
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u2060\ufeff]")
_LINE_SEPARATORS = str.maketrans({"\u2028": "\n", "\u2029": "\n"})


def normalise(text: str | None, single_line: bool = False) -> str:
    """NFC; CRLF/CR/U+2028/U+2029 to LF; C0/C1 controls (but ``\\n`` and ``\\t``), zero-width
    space, word joiner and BOM removed; trailing spaces of lines removed; single-line answers
    get every run of white space collapsed to one space."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_LINE_SEPARATORS)
    text = _CONTROL.sub("", text)
    if single_line:
        return " ".join(text.split())
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n").strip() if text.strip() else ""


# ============================================================================ YAML writing
class EntryDumper(yaml.SafeDumper):
    """YAML for entries: keys in schema order, lists indented under their key, multi-line text
    as literal blocks when PyYAML allows it, double quotes for anything a reader could take
    for a line break (U+0085, U+2028, U+2029)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False):
        return super().increase_indent(flow, False)


_UNSAFE_RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]")


def _represent_str(dumper: yaml.SafeDumper, value: str):
    if _UNSAFE_RAW.search(value):
        style = '"'
    elif "\n" in value:
        style = "|"
    else:
        style = None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


EntryDumper.add_representer(str, _represent_str)


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=EntryDumper, allow_unicode=True, sort_keys=False, width=100_000,
                     default_flow_style=False)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - StrictLoader is a safe loader


def ordered(data: dict, kind: str) -> dict:
    """``data`` with its keys (and nested keys) in the order of the schema."""
    from .forms import _resolve, _schemas

    schemas = _schemas()

    def order(value: Any, schema: dict) -> Any:
        schema = _resolve(schema, schemas)
        if isinstance(value, dict):
            props = list(schema.get("properties", {}))
            keys = sorted(value, key=lambda k: (props.index(k) if k in props else len(props), k))
            return {k: order(value[k], schema.get("properties", {}).get(k, {})) for k in keys}
        if isinstance(value, list):
            return [order(v, schema.get("items", {})) for v in value]
        return value

    return order(data, schemas[kind])


# ============================================================================ parsing the body
_HEADING = re.compile(r"^###[ \t]+(.*?)[ \t]*#*[ \t]*$")


@dataclass
class ParsedBody:
    values: dict[str, str | None]          # field id -> raw answer (None when empty)
    missing: list[Field]
    ambiguous: list[Field] = field(default_factory=list)   # a `### label` line typed inside an answer


def _clean_label(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def parse_body(body: str | None, form: Form) -> ParsedBody:
    """Sections of an issue body, walking the form's fields backwards (see the module's doc).

    A body is ambiguous when an answer contains a line ``### <label of a question>``: the
    same text could then be read two ways. The backward walk never lets such a line replace
    another question's answer; the forward walk is computed too, and the fields where the two
    disagree are reported in ``ambiguous`` (the pull request asks the maintainers to look)."""
    lines = (body or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    headings: dict[str, list[int]] = {}
    for index, line in enumerate(lines):
        match = _HEADING.match(line)
        if match:
            headings.setdefault(_clean_label(match.group(1)), []).append(index)
    values: dict[str, str | None] = {}
    missing: list[Field] = []
    backward: dict[str, int] = {}
    bound = len(lines)
    for f in reversed(form.asked):
        candidates = [i for i in headings.get(_clean_label(f.label), []) if i < bound]
        if not candidates:
            missing.append(f)
            continue
        start = candidates[-1]
        backward[f.id] = start
        raw = "\n".join(lines[start + 1: bound]).strip("\n")
        values[f.id] = None if raw.strip() in EMPTY_ANSWERS else raw
        bound = start
    missing.reverse()
    ambiguous = []
    after = -1
    for f in form.asked:
        following = [i for i in headings.get(_clean_label(f.label), []) if i > after]
        if not following:
            continue
        after = following[0]
        if f.id in backward and backward[f.id] != after:
            ambiguous.append(f)
    return ParsedBody(values=values, missing=missing, ambiguous=ambiguous)


def detect_form(labels: Iterable[str], body: str | None) -> Form | None:
    """The form of an issue: by its kind label, else by the headings found in the body."""
    names = {str(label).lower() for label in labels}
    for kind, form in FORMS.items():
        if kind in names:
            return form
    best, best_found = None, 0
    for form in FORMS.values():
        found = len(form.asked) - len(parse_body(body, form).missing)
        if found > best_found:
            best, best_found = form, found
    return best if best is not None and best_found >= len(best.asked) // 2 else None


# ============================================================================ conversions
@dataclass
class FormProblem:
    field_id: str       # "" for the whole submission
    label: str
    message: str

    def key(self) -> tuple[str, str]:
        return (self.field_id, self.message)


def fold(text: str) -> str:
    """Comparison key: no accents, lower case, punctuation as spaces, « st » -> « saint »."""
    text = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae"))
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    words = re.sub(r"[^a-z0-9]+", " ", text).split()
    return " ".join({"st": "saint", "ste": "sainte"}.get(w, w) for w in words)


def slugify(text: str, max_length: int = 80) -> str:
    """ASCII slug of at most ``max_length`` characters, cut at a hyphen when possible."""
    ascii_text = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("æ", "ae"))
    ascii_text = ascii_text.encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    if len(slug) > max_length:
        cut = slug[:max_length]
        slug = cut.rsplit("-", 1)[0] if "-" in cut[max_length // 2:] else cut
    return slug.strip("-")


def unique_slug(base: str, taken: set[str], fallback: str, extra: str | None = None) -> str:
    """``base`` if free (case-insensitively), else ``base-<extra>``, then ``base-2``, ``base-3``…"""
    base = base or fallback
    if base in WINDOWS_RESERVED:
        base = f"{base}-{fallback}"
    taken = {t.casefold() for t in taken}
    if base not in taken:
        return base
    if extra:
        candidate = slugify(f"{base}-{extra}")
        if candidate not in taken:
            return candidate
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = slugify(base, 80 - len(suffix)) + suffix
        if candidate not in taken:
            return candidate
        n += 1


_DATE_FR = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def parse_date(text: str) -> tuple[str | None, str | None]:
    """(ISO date, None) or (None, French error)."""
    text = text.strip()
    match = _DATE_FR.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
    else:
        match = _DATE_ISO.match(text)
        if not match:
            return None, f"« {text} » n'est pas une date : écrivez-la JJ/MM/AAAA (ex. 31/03/2027)."
        year, month, day = (int(g) for g in match.groups())
    try:
        return dt.date(year, month, day).isoformat(), None
    except ValueError:
        return None, f"« {text} » n'est pas une date qui existe : vérifiez le jour et le mois."


def parse_int(text: str) -> tuple[int | None, str | None]:
    compact = re.sub(r"[\s\u00a0\u202f]", "", text)
    match = re.fullmatch(r"(\d{1,9})(?:km|kilometres?|kilomètres?|mois|ans?)?\.?", compact, flags=re.IGNORECASE)
    if not match:
        return None, f"« {text} » n'est pas un nombre entier : écrivez seulement des chiffres (ex. 20)."
    return int(match.group(1)), None


def parse_quantity(text: str) -> tuple[dict | None, str | None]:
    match = re.fullmatch(r"\s*(\d[\d\s\u00a0\u202f]*)\s*(.*?)\s*", text)
    if not match or not match.group(2):
        return None, (f"« {text} » : écrivez un nombre suivi de l'unité (ex. « 12 ordinateurs portables »)."
                      if not match else "indiquez aussi l'unité après le nombre (ex. « 12 ordinateurs portables »).")
    value = int(re.sub(r"\D", "", match.group(1)))
    return {"valeur": value, "unite": match.group(2)}, None


def parse_identifier(text: str) -> str:
    """An entry identifier, also from the address of its page (…/organisations/<id>/)."""
    text = text.strip()
    if "/" in text:
        parts = [p for p in re.split(r"[/?#]", text) if p and not p.startswith("http") and "." not in p]
        text = parts[-1] if parts else text
    return text.strip().lower()


def parse_official_numbers(text: str) -> tuple[dict, list[str]]:
    numbers: dict[str, str] = {}
    errors: list[str] = []
    for part in re.split(r"[,;]|\s{2,}|\bet\b", text):
        raw = part.strip()
        if not raw:
            continue
        compact = re.sub(r"[\s.\u00a0\u202f-]", "", raw).upper()
        if re.fullmatch(r"W[0-9A-Z][0-9]{8}", compact):
            kind = "rna"
        elif re.fullmatch(r"[0-9]{9}", compact):
            kind = "siren"
        elif re.fullmatch(r"[0-9]{14}", compact):
            kind = "siret"
        else:
            errors.append(f"« {raw} » n'est ni un SIREN (9 chiffres), ni un SIRET (14 chiffres), ni un numéro RNA "
                          "(W suivi de 9 caractères) : recopiez-le depuis l'avis de situation INSEE ou le récépissé de la préfecture.")
            continue
        if kind in numbers and numbers[kind] != compact:
            errors.append(f"deux numéros {kind.upper()} différents : n'en gardez qu'un.")
            continue
        numbers[kind] = compact
    return numbers, errors


def match_vocabulary(f: Field, text: str) -> tuple[list[str], list[str]]:
    """Values of the labels in ``text`` (GitHub joins a multiple choice with « , »)."""
    choices = option_values(f)
    by_fold = {fold(label): value for label, value in choices.items()}
    by_fold.update({fold(value): value for value in choices.values()})
    values: list[str] = []
    unknown: list[str] = []
    rest = text.strip()
    if not f.multiple:
        value = choices.get(rest) or by_fold.get(fold(rest))
        return ([value], []) if value else ([], [rest])
    # greedy: the longest label that starts the rest (labels may contain commas)
    labels = sorted(list(choices) + list(choices.values()), key=len, reverse=True)
    while rest:
        for label in labels:
            if rest == label or rest.startswith(label + ","):
                values.append(choices.get(label, label))
                rest = rest[len(label):].lstrip(",").strip()
                break
        else:
            head, _, rest = rest.partition(",")
            head, rest = head.strip(), rest.strip()
            if head and by_fold.get(fold(head)):
                values.append(by_fold[fold(head)])
            elif head:
                unknown.append(head)
    return list(dict.fromkeys(values)), unknown


# ---------------------------------------------------------------------------- geography
@lru_cache(maxsize=4)
def _indexes(geo_id: int, geo: Any) -> tuple[dict, dict]:
    by_postcode: dict[str, list] = {}
    by_name: dict[str, list] = {}
    for commune in geo.communes.values():
        for postcode in getattr(commune, "codes_postaux", ()) or ():
            by_postcode.setdefault(postcode, []).append(commune)
        by_name.setdefault(fold(commune.nom), []).append(commune)
    return by_postcode, by_name


def _rank(communes: list) -> list:
    return sorted(communes, key=lambda c: (-getattr(c, "population", 0), c.code))


def _describe(communes: list, limit: int = 5) -> str:
    return ", ".join(f"{c.nom} ({c.departement}) : {c.code}" for c in _rank(communes)[:limit])


def resolve_commune(text: str, geo: Any) -> tuple[str | None, str | None]:
    """INSEE code of a commune given by name (« Dijon », « Saint-Denis (93) »), postcode
    (« 21000 ») or INSEE code (« 21231 »), or a French error with suggestions."""
    text = normalise(text, single_line=True)
    by_postcode, by_name = _indexes(id(geo), geo)
    compact = re.sub(r"\s", "", text).upper()
    if re.fullmatch(r"\d{4,5}|2[AB]\d{3}", compact):
        code = "0" + compact if len(compact) == 4 else compact
        commune = geo.commune(code)
        postal = by_postcode.get(code, [])
        arrondissements = [c for c in postal if getattr(c, "type", "commune") == "arrondissement"]
        postal = arrondissements or postal
        others = [c for c in postal if c.code != code]
        if commune is not None and not others:
            return code, None
        if commune is not None:
            postal_names = " ou ".join(f"« {c.nom} »" for c in _rank(others)[:3])
            return None, (f"« {text} » est à la fois le code postal de {_describe(others, 3)} et le code INSEE de "
                          f"{commune.nom} ({commune.departement}) : écrivez le nom de la commune, {postal_names} "
                          f"ou « {commune.nom} ».")
        if len(postal) == 1:
            return postal[0].code, None
        if postal:
            return None, (f"plusieurs communes ont le code postal {code} ({_describe(postal)}) : "
                          "écrivez le nom de la commune avec son code postal (ex. « Nom (code postal) »).")
        return None, _unknown_commune(text, geo)
    postcodes = set(re.findall(r"\b\d{5}\b", text))
    rest = re.sub(r"\b\d{5}\b", " ", text)
    departements = {d.upper() for d in re.findall(r"\b(\d{2,3}|2[abAB])\b", rest)}
    name = fold(re.sub(r"\b(\d{2,3}|2[abAB])\b", " ", rest))
    if not name:
        return None, _unknown_commune(text, geo)
    candidates = list(by_name.get(name, []))
    for postcode in postcodes:           # « Dijon (21231) »: an INSEE code given with the name
        commune = geo.commune(postcode)
        if commune is not None and fold(commune.nom) == name and commune not in candidates:
            candidates.append(commune)
    if postcodes:
        narrowed = [c for c in candidates if postcodes & set(getattr(c, "codes_postaux", ())) or c.code in postcodes]
        candidates = narrowed or candidates
    if departements:
        narrowed = [c for c in candidates if c.departement in departements]
        candidates = narrowed or candidates
    if len(candidates) == 1:
        return candidates[0].code, None
    if candidates:
        return None, (f"plusieurs communes s'appellent « {text} » ({_describe(candidates)}) : ajoutez le code postal "
                      f"ou le département entre parenthèses (ex. « {_rank(candidates)[0].nom} ({_rank(candidates)[0].departement}) »).")
    return None, _unknown_commune(text, geo)


def _unknown_commune(text: str, geo: Any) -> str:
    suggestions = geo.suggest(text) if hasattr(geo, "suggest") else []
    if suggestions:
        listed = ", ".join(f"« {c.nom} ({c.departement}) »" for c in suggestions[:3])
        return f"« {text} » n'est pas une commune connue. Vouliez-vous dire {listed} ?"
    return (f"« {text} » n'est pas une commune connue : écrivez son nom (ex. « Dijon »), son code postal "
            "(ex. 21000) ou son code INSEE (ex. 21231).")


def resolve_territory(scale: str | None, text: str, geo: Any) -> tuple[str | None, str | None]:
    """The INSEE code of the commune, département or région of an example."""
    text = normalise(text, single_line=True)
    if scale == "commune":
        return resolve_commune(text, geo)
    if scale == "departement":
        code = text.upper().removeprefix("DÉPARTEMENT").strip()
        if code in geo.departements:
            return code, None
        hits = [d.code for d in geo.departements.values() if fold(d.nom) == fold(text)]
        if len(hits) == 1:
            return hits[0], None
        close = difflib.get_close_matches(fold(text), [fold(d.nom) for d in geo.departements.values()], n=1, cutoff=0.7)
        hint = ""
        if close:
            dep = next(d for d in geo.departements.values() if fold(d.nom) == close[0])
            hint = f" Vouliez-vous dire « {dep.nom} » ({dep.code}) ?"
        return None, f"« {text} » n'est pas un département connu : écrivez son nom ou son numéro (ex. 21 pour la Côte-d'Or).{hint}"
    if scale == "region":
        if text in geo.regions:
            return text, None
        hits = [r.code for r in geo.regions.values() if fold(r.nom) == fold(text)]
        if len(hits) == 1:
            return hits[0], None
        close = difflib.get_close_matches(fold(text), [fold(r.nom) for r in geo.regions.values()], n=1, cutoff=0.6)
        hint = ""
        if close:
            reg = next(r for r in geo.regions.values() if fold(r.nom) == close[0])
            hint = f" Vouliez-vous dire « {reg.nom} » ?"
        return None, f"« {text} » n'est pas une région connue : écrivez son nom (ex. « Bourgogne-Franche-Comté »).{hint}"
    return None, None


# ============================================================================ the submission
@dataclass
class Submission:
    form: Form
    issue_number: int
    entry: dict = field(default_factory=dict)
    entry_id: str = ""
    organisation: dict | None = None         # new organisation, if any
    organisation_id: str | None = None       # new or existing
    organisation_is_new: bool = False
    problems: list[FormProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.form.kind

    @property
    def entry_path(self) -> str:
        return f"content/{FOLDER_OF_KIND[self.kind]}/{self.entry_id}.yaml"

    @property
    def organisation_path(self) -> str | None:
        if self.organisation is None or not self.organisation_id:
            return None
        return f"content/organisations/{self.organisation_id}.yaml"

    def files(self) -> dict[str, str]:
        out = {self.entry_path: dump_yaml(ordered(self.entry, self.kind))}
        if self.organisation_path:
            out[self.organisation_path] = dump_yaml(ordered(self.organisation, "organisation"))
        return out

    def problem(self, f: Field | None, message: str) -> None:
        fp = FormProblem(f.id if f else "", f.label if f else "", message)
        if fp.key() not in {p.key() for p in self.problems}:
            self.problems.append(fp)


def _set(data: dict, path: str, value: Any) -> None:
    steps = path.split(".")
    for step in steps[:-1]:
        data = data.setdefault(step, {})
    data[steps[-1]] = value


def existing_ids(content_dir: Path, kind: str) -> set[str]:
    folder = content_dir / FOLDER_OF_KIND[kind]
    return {p.stem for p in folder.glob("*.yaml")} if folder.is_dir() else set()


def _title_from_issue(title: str, form: Form) -> str:
    title = normalise(title, single_line=True)
    return re.sub(r"^\s*\[\s*(besoin|offre|exemple)\s*\]\s*[:\-–]?\s*", "", title, flags=re.IGNORECASE).strip()


def _site_choices(text: str | None, form: Form) -> dict[str, str]:
    """``id: value`` lines written by the site's form for its dropdown answers."""
    choices: dict[str, str] = {}
    for line in normalise(text or "").split("\n"):
        key, sep, value = line.partition(":")
        key = key.strip()
        if sep and key in {f.id for f in form.fields if f.type == "dropdown"} and value.strip():
            choices[key] = value.strip()
    return choices


def build_submission(values: dict[str, str | None], form: Form, issue_title: str, issue_number: int,
                     created: dt.date, geography: Any, content_dir: Path = CONTENT_DIR,
                     today: dt.date | None = None) -> Submission:
    """Answers -> entry (and new organisation) dicts, with the problems found on the way."""
    today = today or created
    sub = Submission(form=form, issue_number=issue_number)
    site = _site_choices(values.get("choix_du_site"), form)
    answers: dict[str, str] = {}
    for f in form.asked:
        raw = values.get(f.id)
        if f.type == "dropdown" and not (raw and raw.strip() not in EMPTY_ANSWERS) and f.id in site:
            raw = site[f.id]
        if raw is None or normalise(raw).strip() in EMPTY_ANSWERS:
            continue
        answers[f.id] = normalise(raw, single_line=f.type in ("input", "dropdown"))

    entry: dict[str, Any] = {}
    org: dict[str, Any] = {}

    # ---- title and identifier
    title = _title_from_issue(issue_title, form)
    if not title:
        sub.problem(TITLE_FIELD, "il est vide : donnez au ticket quelques mots qui décrivent l'annonce.")
    entry["titre"] = title
    kind_ids = existing_ids(content_dir, form.kind)
    sub.entry_id = unique_slug(slugify(title), kind_ids, fallback=f"{form.kind}-{issue_number}")
    entry["identifiant"] = sub.entry_id

    # ---- every field
    for f in form.asked:
        text = answers.get(f.id)
        if f.convert == "commitments":
            checked = {normalise(m.group(1), True) for m in re.finditer(r"^\s*[-*]\s*\[[xX]\]\s*(.+?)\s*$",
                                                                       values.get(f.id) or "", flags=re.MULTILINE)}
            for option in f.options:
                if normalise(option, True) not in checked:
                    sub.problem(f, f"cochez la case « {_plain(option)} » : sans elle, la proposition ne peut pas être publiée.")
            continue
        if f.convert in ("site_choices", "markdown"):
            continue
        if text is None:
            if f.required:
                sub.problem(f, "cette réponse est obligatoire.")
            continue
        if any("[]" in p for p in f.paths) or f.convert in ("territory_code", "partners"):
            continue   # partners, contributions and the territory code need other answers: below
        converted, errors = convert_field(f, text, geography)
        for error in errors:
            sub.problem(f, error)
        for path, value in converted.items():
            _set(org, path[4:], value) if path.startswith("org:") else _set(entry, path, value)

    if form.kind in ("besoin", "offre"):
        _organisation(sub, form, answers, entry, org, content_dir, geography)
        entry["date_publication"] = created.isoformat()
        entry["statut"] = "ouvert"
        until = entry.get("valable_jusqu_au")
        if until and until < today.isoformat():
            sub.problem(form.field("valable_jusqu_au"), f"la date {_french(until)} est déjà passée : choisissez une date à venir.")
    else:
        _example_parts(sub, form, answers, entry, geography, content_dir)
    sub.entry = entry
    return sub


def convert_field(f: Field, text: str, geography: Any) -> tuple[dict[str, Any], list[str]]:
    """One normalised answer -> ``{path: value}`` (``org:`` paths go to the new organisation)
    and the French errors. Fields that need other answers (partners, territory) give ``{}``."""
    path = f.paths[0] if f.paths else ""
    if f.convert == "vocabulary":
        found, unknown = match_vocabulary(f, text)
        errors = [f"« {bad} » n'est pas un choix possible. Choisissez dans la liste : {', '.join(options(f))}."
                  for bad in unknown]
        if not found:
            return {}, errors
        return {path: found if f.multiple else found[0]}, errors
    if f.convert == "yes_no":
        found, unknown = match_vocabulary(f, text)
        return ({}, ["répondez « Oui » ou « Non »."]) if unknown or not found else ({path: found[0] == "oui"}, [])
    if f.convert in ("text", "line"):
        return {path: text}, []
    if f.convert == "int":
        number, error = parse_int(text)
        return ({}, [error]) if error else ({path: number}, [])
    if f.convert == "date":
        iso, error = parse_date(text)
        return ({}, [error]) if error else ({path: iso}, [])
    if f.convert == "quantity":
        quantity, error = parse_quantity(text)
        if error:
            return {}, [error]
        return {"quantite.valeur": quantity["valeur"], "quantite.unite": quantity["unite"]}, []
    if f.convert == "commune":
        code, error = resolve_commune(text, geography)
        return ({}, [error]) if error else ({path: code}, [])
    if f.convert == "identifier":
        return {path: parse_identifier(text)}, []
    if f.convert == "official_numbers":
        numbers, errors = parse_official_numbers(text)
        return {f"org:{kind}": value for kind, value in numbers.items()}, errors
    return {}, []


def _plain(markdown_text: str) -> str:
    return re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", markdown_text)


def _french(iso: str) -> str:
    from .validation import french_date, parse_date as iso_date

    day = iso_date(iso)
    return french_date(day) if day else iso


def _check_reference(sub: Submission, f: Field, identifier: str, content_dir: Path, kind: str) -> None:
    known = existing_ids(content_dir, kind)
    if identifier in known:
        return
    close = difflib.get_close_matches(identifier, sorted(known), n=1, cutoff=0.6)
    hint = f" Vouliez-vous dire « {close[0]} » ?" if close else ""
    what = {"organisation": "aucune organisation", "besoin": "aucun besoin", "offre": "aucune offre"}[kind]
    sub.problem(f, f"{what} n'a l'identifiant « {identifier} » sur Asso'cie.{hint} Recopiez la fin de l'adresse de "
                   "sa page, ou laissez ce champ vide" + (" et décrivez l'organisation dans les champs suivants."
                                                          if kind == "organisation" else "."))


def _organisation(sub: Submission, form: Form, answers: dict, entry: dict, org: dict, content_dir: Path,
                  geography: Any) -> None:
    org_fields = [f for f in form.asked if any(p.startswith("org:") for p in f.paths)]
    described = [f for f in org_fields if f.id in answers]
    if entry.get("organisation"):
        _check_reference(sub, form.field("organisation"), entry["organisation"], content_dir, "organisation")
        if described:
            sub.notes.append("Les champs décrivant une nouvelle organisation ont été ignorés : l'identifiant "
                             f"« {entry['organisation']} » d'une organisation existante a été donné.")
        sub.organisation_id = entry["organisation"]
        return
    if not described:
        sub.problem(form.field("organisation"), "indiquez l'identifiant de votre organisation si elle a déjà une fiche, "
                    "sinon décrivez-la dans les champs qui suivent (nom, nature, commune, présentation, contact).")
        return
    if "org_nom" not in answers:
        sub.problem(form.field("org_nom"), "cette réponse est obligatoire pour créer la fiche de l'organisation.")
        return
    if "thematiques" not in org and entry.get("thematiques"):
        org["thematiques"] = list(entry["thematiques"])
    commune = geography.commune(org["commune"]) if org.get("commune") else None
    extra = slugify(commune.nom) if commune is not None else None
    sub.organisation_id = unique_slug(slugify(org["nom"]), existing_ids(content_dir, "organisation"),
                                      fallback=f"organisation-{sub.issue_number}", extra=extra)
    org["identifiant"] = sub.organisation_id
    sub.organisation = org
    sub.organisation_is_new = True
    entry["organisation"] = sub.organisation_id
    same_name = [i for i in existing_ids(content_dir, "organisation") if i.startswith(slugify(org["nom"]))]
    if same_name:
        sub.notes.append(f"Une organisation au nom proche a déjà une fiche (« {same_name[0]} ») : si c'est la vôtre, "
                         "donnez plutôt son identifiant.")


def _example_parts(sub: Submission, form: Form, answers: dict, entry: dict, geography: Any, content_dir: Path) -> None:
    partners: list[dict] = []
    for n in (1, 2):
        name = answers.get(f"partenaire_{n}_nom")
        if not name:
            continue
        partner: dict[str, Any] = {"nom": name}
        nature_field = form.field(f"partenaire_{n}_nature")
        if nature_field.id in answers:
            found, unknown = match_vocabulary(nature_field, answers[nature_field.id])
            if found:
                partner["nature"] = found[0]
            for bad in unknown:
                sub.problem(nature_field, f"« {bad} » n'est pas un choix possible. Choisissez dans la liste : "
                                          f"{', '.join(options(nature_field))}.")
        ident = answers.get(f"partenaire_{n}_organisation")
        if ident:
            partner["organisation"] = parse_identifier(ident)
            _check_reference(sub, form.field(f"partenaire_{n}_organisation"), partner["organisation"], content_dir,
                             "organisation")
        partners.append(partner)
    others = form.field("autres_partenaires")
    nature = form.field("partenaire_1_nature")
    for line in (answers.get(others.id) or "").split("\n"):
        line = line.strip().lstrip("-*•").strip()
        if not line:
            continue
        name, sep, kind_text = line.rpartition(";")
        if not sep:
            sub.problem(others, f"« {line} » : écrivez le nom, un point-virgule, puis la nature (ex. « Mairie de Quetigny ; Collectivité territoriale »).")
            continue
        found, _ = match_vocabulary(nature, kind_text.strip())
        if not found:
            sub.problem(others, f"« {kind_text.strip()} » n'est pas une nature possible : {', '.join(options(nature))}.")
            continue
        partners.append({"nom": name.strip(), "nature": found[0]})
    if partners:
        entry["partenaires"] = partners
    contributions = []
    for n in (1, 2):
        text = answers.get(f"apport_partenaire_{n}")
        if not text:
            continue
        name = answers.get(f"partenaire_{n}_nom")
        if not name:
            sub.problem(form.field(f"partenaire_{n}_nom"), f"indiquez le nom du partenaire {n} : son apport est décrit plus bas.")
            continue
        contributions.append({"partenaire": name, "texte": text})
    if contributions:
        entry["apports"] = contributions
    scale = entry.get("territoire", {}).get("echelle")
    code_text = answers.get("territoire")
    territory_field = form.field("territoire")
    if scale == "national":
        if code_text:
            sub.notes.append("Le territoire indiqué a été ignoré : l'échelle est « National ».")
    elif scale and not code_text:
        sub.problem(territory_field, "indiquez la commune, le département ou la région (seulement vide pour « National »).")
    elif scale and code_text:
        code, error = resolve_territory(scale, code_text, geography)
        sub.problem(territory_field, error) if error else _set(entry, "territoire.code", code)
    for kind in ("besoin", "offre"):
        if entry.get(kind):
            _check_reference(sub, form.field(kind), entry[kind], content_dir, kind)


# ============================================================================ validation
def validate(sub: Submission, geography: Any, content_dir: Path = CONTENT_DIR) -> list[Problem]:
    """Write the files into a scratch folder and run the project's validator on them, with the
    directory's content as context (references, identifiers). Adds the problems to ``sub``."""
    from .validation import check

    with tempfile.TemporaryDirectory(prefix="associe-intake-") as tmp:
        root = Path(tmp)
        paths = []
        for relpath, text in sub.files().items():
            path = root / relpath
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            paths.append(path)
        context = [content_dir] if content_dir.is_dir() else []
        result = check(paths, root=root, geography=geography, context_paths=context)
    already = {p.field_id for p in sub.problems}
    for problem in result.problems:
        f = field_for_problem(sub, problem)
        if f is not None and f.id in already:
            continue   # the bot's own, clearer, message is already there
        message = form_message(sub, problem)
        if problem.is_error:
            sub.problem(f, message)
        else:
            sub.notes.append((f"« {f.label} » : " if f else "") + message)
    return result.problems


def field_for_problem(sub: Submission, problem: Problem) -> Field | None:
    form = sub.form
    is_org = sub.organisation_path is not None and problem.file == sub.organisation_path
    path = problem.field or ""
    if not path:
        return None
    match = re.match(r"^(partenaires|apports)\[(\d+)\](?:\.(\w+))?", path)
    if match:
        listing, index, leaf = match.group(1), int(match.group(2)), match.group(3)
        if listing == "apports":
            return _field(form, f"apport_partenaire_{index}") or form.field("apport_partenaire_1")
        if index <= 2:
            return _field(form, f"partenaire_{index}_{leaf or 'nom'}") or _field(form, f"partenaire_{index}_nom")
        return form.field("autres_partenaires")
    if path in ("partenaires", "apports"):
        return _field(form, "partenaire_2_nom" if path == "partenaires" else "apport_partenaire_1")
    path = re.sub(r"\[\d+\]", "", path)
    if path in ("titre", "identifiant") and not is_org:
        return TITLE_FIELD
    if path == "identifiant" and is_org:
        return _field(form, "org_nom")
    candidates = [f"org:{path}"] if is_org else [path]
    while candidates[0]:
        f = form.field_for_path(candidates[0])
        if f is not None:
            return f
        head = candidates[0].rsplit(".", 1)
        if len(head) == 1:
            break
        candidates[0] = head[0]
    if is_org and path == "contact":
        return _field(form, "org_email")
    if path == "territoire":
        return _field(form, "commune") or _field(form, "echelle")
    return None


def _field(form: Form, field_id: str) -> Field | None:
    try:
        return form.field(field_id)
    except KeyError:
        return None


def form_message(sub: Submission, problem: Problem) -> str:
    """The validator's message with YAML field names replaced by the form's labels."""
    message = problem.message
    if message.startswith("le champ obligatoire"):
        if sub.organisation_path and problem.file == sub.organisation_path:
            return "cette réponse est obligatoire pour créer la fiche de l'organisation."
        return "cette réponse est obligatoire."
    is_org = sub.organisation_path is not None and problem.file == sub.organisation_path
    if "adresse_de_role_confirmee" in message:
        message = message.split(" Un mainteneur peut confirmer")[0] + (
            " Si c'est bien une adresse de l'organisation, répondez-le à ce message : un mainteneur la confirmera.")
    names: dict[str, Field] = {}
    for f in sub.form.asked:
        for p in f.paths:
            if p.startswith("org:") != is_org:
                continue
            names.setdefault(p.removeprefix("org:").split(".")[-1].removesuffix("[]"), f)
    names.setdefault("titre", TITLE_FIELD)

    def label_of(name: str, value: str | None = None) -> str | None:
        f = names.get(name)
        if f is None:
            return None
        if value and f.vocabulary:
            shown = load_vocabularies()[f.vocabulary].get(value, value)
            return f"« {f.label} : {shown} »"
        return f"« {f.label} »"

    def quoted(match: re.Match) -> str:
        return label_of(match.group(1), match.group(2)) or match.group(0)

    message = re.sub(r"«\s*([a-z_]+)(?::\s*([a-z_0-9]+))?\s*»", quoted, message)
    message = re.sub(r"\b([a-z]+_[a-z_]+)(?::\s*(\d+))?\b",
                     lambda m: ((label_of(m.group(1)) or m.group(0))[:-2] + f" : {m.group(2)} »"
                                if m.group(2) and label_of(m.group(1)) else label_of(m.group(1)) or m.group(0)), message)
    return message


# ============================================================================ rendering
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


def md(text: Any) -> str:
    """Contributor text made inert in GitHub Markdown: special characters escaped, no
    @mention (a zero-width joiner after @), no autolink, one line."""
    text = _MD_SPECIAL.sub(r"\\\1", str(text))
    text = text.replace("@", "@\u200d")
    return " ".join(text.split())


def render_missing(form: Form, missing: list[Field], author: str) -> str:
    listed = "\n".join(f"- « {md(f.label)} »" for f in missing)
    return (f"{MARKER}\nBonjour @{md(author)}, merci pour votre proposition !\n\n"
            f"Le robot n'a pas trouvé toutes les parties du formulaire « {form.name} » dans ce ticket. "
            f"Il manque {len(missing)} partie(s) :\n\n{listed}\n\n"
            "Chaque partie commence par une ligne `### ` suivie de son intitulé exact. Modifiez ce ticket "
            "(menu « … » du premier message, puis « Edit ») pour remettre ces parties, ou ouvrez un nouveau ticket avec "
            "le formulaire : la vérification recommence à chaque modification.")


def render_errors(sub: Submission, author: str, pull_number: int | None = None) -> str:
    count = len(sub.problems)
    lines = [MARKER, f"Bonjour @{md(author)}, merci pour votre proposition !", "",
             f"Avant de pouvoir la publier, il faut corriger **{count} point{'s' if count > 1 else ''}** :", ""]
    for p in sub.problems:
        where = f"**{md(p.label)}**" if p.label else "**Ensemble de la proposition**"
        lines.append(f"- {where} : {md(p.message)}")
    lines += ["", "Pour corriger : modifiez ce ticket (menu « … » en haut à droite du premier message, puis « Edit »), "
              "changez les réponses concernées et enregistrez. La vérification recommence toute seule, en quelques minutes."]
    if sub.notes:
        lines += ["", "À noter :"] + [f"- {md(n)}" for n in sub.notes]
    if pull_number:
        lines += ["", f"La proposition #{pull_number} reste dans sa version précédente tant que ces points ne sont pas corrigés."]
    lines += ["", "Une question ? Répondez simplement à ce message."]
    return "\n".join(lines)


def _label(vocabulary: str, value: Any) -> str:
    return load_vocabularies()[vocabulary].get(value, str(value))


def render_summary(sub: Submission, geography: Any) -> list[str]:
    e = sub.entry
    title = KIND_TITLES[sub.kind]
    lines = [f"### {title} : {md(e.get('titre', ''))}", "", f"- Fichier : `{sub.entry_path}`"]
    if sub.kind in ("besoin", "offre"):
        org = sub.organisation
        if org is not None:
            lines.append(f"- Organisation : {md(org.get('nom', ''))} — **nouvelle fiche** `{sub.organisation_path}`")
        else:
            lines.append(f"- Organisation : fiche existante `{e.get('organisation', '')}` (vérifiez que l'auteur la représente)")
        lines.append(f"- {_label('type_de_soutien', e.get('type_de_soutien'))} · {_label('categorie', e.get('categorie'))}"
                     f" · {_label('objet', e.get('objet'))}")
        territory = e.get("territoire", {})
        commune = geography.commune(territory.get("commune", "")) if territory.get("commune") else None
        reach = _label("portee", territory.get("portee"))
        if territory.get("rayon_km"):
            reach += f" ({territory['rayon_km']} km)"
        lines.append(f"- Lieu : {md(commune.nom) if commune else territory.get('commune')} "
                     f"({territory.get('commune')}) — {reach}")
        if e.get("quantite"):
            lines.append(f"- Quantité : {e['quantite']['valeur']} {md(e['quantite']['unite'])}")
        lines.append(f"- Publiée le {_french(e.get('date_publication', ''))}, valable jusqu'au {_french(e.get('valable_jusqu_au', ''))}")
    else:
        partners = ", ".join(f"{md(p.get('nom'))} ({_label('nature', p.get('nature'))})" for p in e.get("partenaires", []))
        lines.append(f"- Partenaires : {partners}")
        lines.append(f"- {_label('type_de_soutien', e.get('type_de_soutien'))} · {_label('categorie', e.get('categorie'))}"
                     f" · depuis {e.get('annee_debut')}")
        source = e.get("source", {})
        lines.append(f"- Source : {md(source.get('titre', ''))} ({md(source.get('editeur', ''))})"
                     + (f" — `{str(source['url']).replace('`', '')}`" if source.get("url") else ""))
    lines.append("- Thématiques : " + ", ".join(_label("thematique", t) for t in e.get("thematiques", [])))
    text = e.get("description") or e.get("resume") or ""
    if text:
        lines += ["", "<details><summary>Texte complet (tel qu'il sera publié, après nettoyage)</summary>", "",
                  "```text", text.replace("```", "'''"), "```", "", "</details>"]
    return lines


def suggestions(sub: Submission, geography: Any, content_dir: Path, today: dt.date, k: int = 3) -> list[str]:
    """The match suggestions the entry would create, as Markdown lines (empty for examples)."""
    if sub.kind not in ("besoin", "offre"):
        return []
    from .enrich import enrich
    from .matching import match
    from .pipeline import is_open
    from .validation import check

    with tempfile.TemporaryDirectory(prefix="associe-match-") as tmp:
        root = Path(tmp)
        for relpath, text in sub.files().items():
            (root / relpath).parent.mkdir(parents=True, exist_ok=True)
            (root / relpath).write_text(text, encoding="utf-8")
        paths = [root / "content"] + ([content_dir] if content_dir.is_dir() else [])
        corpus = enrich(check(paths, root=root, geography=geography).corpus, geography)
    needs = [e for e in corpus.besoins.values() if is_open(e, today) and not e.fictitious]
    offers = [e for e in corpus.offres.values() if is_open(e, today) and not e.fictitious]
    result = match(needs, offers, today)
    found = (result.for_need if sub.kind == "besoin" else result.for_offer).get(sub.entry_id, [])
    lines = []
    for s in found[:k]:
        other = corpus.offres.get(s.offer_id) if sub.kind == "besoin" else corpus.besoins.get(s.need_id)
        if other is None:
            continue
        org = other.organisation.title if other.organisation else other.get("organisation")
        distance = f", {s.distance_km:.0f} km" if s.distance_km is not None else ""
        reasons = " ; ".join(md(r) for r in s.reasons[:3])
        lines.append(f"1. {md(other.title)} — {md(org)}{distance} (score {s.score:.2f}) : {reasons}")
    return lines


def render_pull_body(sub: Submission, author: str, geography: Any, suggestion_lines: list[str] | None,
                     token_kind: str = "app") -> str:
    lines = [MARKER, f"Proposition issue du ticket #{sub.issue_number} (par @{md(author)}), écrite et vérifiée "
             "automatiquement : aucune erreur de validation.", ""]
    lines += render_summary(sub, geography)
    if sub.kind in ("besoin", "offre"):
        lines += ["", "### Mises en relation que cette annonce créerait", ""]
        if suggestion_lines is None:
            lines.append("_Calculées à la construction du site (le calcul n'a pas pu être fait ici)._")
        else:
            lines += suggestion_lines or ["_Aucune pour l'instant parmi les annonces ouvertes._"]
    if sub.notes:
        lines += ["", "### À noter", ""] + [f"- {md(n)}" for n in sub.notes]
    lines += ["", "### Relecture", "",
              "Suivez la liste de vérification de `CONTRIBUTING.md` (section « Relire une proposition ») : l'auteur "
              "représente bien la structure, aucune donnée personnelle, le contact est une adresse de rôle, le texte "
              "est celui d'une annonce et pas d'une publicité. Le ticket se ferme de lui-même à la fusion."]
    if token_kind != "app":
        lines += ["", "> [!NOTE]\n> Proposition ouverte avec le jeton par défaut des Actions : les vérifications ne "
                  "démarrent pas d'elles-mêmes. Un mainteneur les lance en fermant puis rouvrant cette proposition "
                  "(voir CONTRIBUTING.md, « Jeton de l'application GitHub »)."]
    lines += ["", "Étiquettes : " + ", ".join(f"`{label}`" for label in pull_labels(sub, geography)),
              "", f"Closes #{sub.issue_number}"]
    return "\n".join(lines)


def pull_labels(sub: Submission, geography: Any) -> list[str]:
    labels = [SUBMISSION_LABEL, sub.kind]
    if sub.organisation_is_new:
        labels.append(LABEL_NEW_ORG)
    code = (sub.entry.get("territoire") or {}).get("commune") if sub.kind != "exemple" else None
    commune = geography.commune(code) if code else None
    if commune is not None and commune.region in geography.regions and hasattr(geography, "slug_region"):
        labels.append("région:" + geography.slug_region(commune.region))
    return labels


def pull_title(sub: Submission) -> str:
    return f"[{KIND_TITLES[sub.kind]}] {sub.entry.get('titre', '')}"[:250]


def render_success(pull_number: int, author: str, created: bool) -> str:
    verb = "est prête" if created else "a été mise à jour"
    return (f"{MARKER}\nMerci @{md(author)} ! Tout est valide : votre proposition {verb} pour relecture dans #{pull_number}.\n\n"
            "Des bénévoles la relisent, en général sous une semaine ; dès qu'ils l'acceptent, elle paraît sur le site "
            "(au plus tard le lendemain) et ce ticket se ferme. Vous pouvez encore modifier ce ticket : la proposition "
            "suivra, tant qu'elle n'a pas été approuvée.")


# ============================================================================ orchestration
@dataclass
class Outcome:
    action: str                     # skipped | missing | errors | pull | approved | rate-limited | closed-pull
    comment: str = ""
    submission: Submission | None = None
    pull_number: int | None = None
    files: dict[str, str] = field(default_factory=dict)


def _created_date(issue: dict) -> dt.date:
    stamp = issue.get("created_at") or ""
    try:
        moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return dt.date.today()
    try:
        from zoneinfo import ZoneInfo

        return moment.astimezone(ZoneInfo("Europe/Paris")).date()
    except Exception:  # noqa: BLE001 - no tz database: UTC is close enough
        return moment.date()


def process_issue(issue: dict, geography: Any, content_dir: Path = CONTENT_DIR, today: dt.date | None = None) -> Outcome:
    """Everything that does not need the API: parse, convert, validate, render."""
    if issue.get("pull_request") or issue.get("state", "open") != "open":
        return Outcome("skipped")
    labels = [label.get("name", "") if isinstance(label, dict) else str(label) for label in issue.get("labels", [])]
    body = (issue.get("body") or "")[:MAX_BODY_CHARS]
    author = (issue.get("user") or {}).get("login", "")
    form = detect_form(labels, body)
    if form is None:
        return Outcome("skipped")
    parsed = parse_body(body, form)
    if parsed.missing:
        return Outcome("missing", comment=render_missing(form, parsed.missing, author))
    created = _created_date(issue)
    sub = build_submission(parsed.values, form, issue.get("title") or "", int(issue["number"]), created, geography,
                           content_dir, today or dt.date.today())
    if parsed.ambiguous:
        sub.notes.append("Une réponse contient une ligne « ### » suivie de l'intitulé d'une question ("
                         + ", ".join(f"« {f.label} »" for f in parsed.ambiguous)
                         + ") : vérifiez que chaque réponse est bien à sa place.")
    validate(sub, geography, content_dir)
    if sub.problems:
        return Outcome("errors", comment=render_errors(sub, author), submission=sub)
    return Outcome("pull", submission=sub, files=sub.files())


def run_intake(event: dict, api: Any, geography: Any, content_dir: Path = CONTENT_DIR, today: dt.date | None = None,
               token_kind: str = "app", base_branch: str | None = None) -> Outcome:
    """Handle one ``issues`` event end to end through ``api`` (a ``github_api.GitHub`` or a fake)."""
    issue = event.get("issue") or {}
    if not issue or event.get("action") not in ("opened", "edited", "reopened"):
        return Outcome("skipped")
    outcome = process_issue(issue, geography, content_dir, today)
    number = int(issue.get("number", 0))
    author = (issue.get("user") or {}).get("login", "")
    base = base_branch or (event.get("repository") or {}).get("default_branch") or "main"
    branch = f"{BRANCH_PREFIX}{number}"
    if outcome.action == "skipped":
        return outcome
    pulls = api.pulls_for_branch(branch)
    open_pull = next((p for p in pulls if p.get("state") == "open"), None)
    if outcome.action in ("missing", "errors"):
        if outcome.action == "errors" and open_pull:
            outcome.comment = render_errors(outcome.submission, author, open_pull["number"])
        api.upsert_comment(number, MARKER, outcome.comment)
        api.add_labels(number, [LABEL_TO_FIX])
        return outcome
    sub = outcome.submission
    api.remove_label(number, LABEL_TO_FIX)
    if open_pull is None and any(p.get("state") == "closed" for p in pulls):
        closed = max((p for p in pulls if p.get("state") == "closed"), key=lambda p: p["number"])
        outcome.action, outcome.pull_number = "closed-pull", closed["number"]
        outcome.comment = (f"{MARKER}\n@{md(author)}, la proposition #{closed['number']} issue de ce ticket a été fermée "
                           "par un mainteneur : le robot n'en ouvre pas de nouvelle. Répondez dans sa conversation, "
                           "un mainteneur pourra la rouvrir.")
        api.upsert_comment(number, MARKER, outcome.comment)
        return outcome
    if open_pull is not None and api.is_approved(open_pull["number"]):
        outcome.action, outcome.pull_number = "approved", open_pull["number"]
        outcome.comment = (f"{MARKER}\n@{md(author)}, ce ticket a été modifié après l'approbation de la proposition "
                           f"#{open_pull['number']} : par sécurité, le robot ne la change plus. Un mainteneur reprendra "
                           "la modification à la main, ou écartera l'approbation puis relancera la vérification.")
        api.upsert_comment(number, MARKER, outcome.comment)
        api.create_comment(open_pull["number"], f"{MARKER}\nLe ticket #{number} a été modifié après l'approbation : "
                           "cette proposition n'a pas été mise à jour. Comparez avec le ticket avant de fusionner.")
        return outcome
    association = (issue.get("author_association") or "").upper()
    if open_pull is None and association not in TRUSTED_ASSOCIATIONS:
        pending = [i for i in api.open_issues(creator=author, labels=LABEL_PR_OPEN) if int(i["number"]) != number]
        if len(pending) >= MAX_OPEN_PER_AUTHOR:
            outcome.action = "rate-limited"
            outcome.comment = (f"{MARKER}\nMerci @{md(author)} ! Votre proposition est valide, mais vous avez déjà "
                               f"{len(pending)} propositions en attente de relecture. Pour laisser le temps aux bénévoles, "
                               "le robot attend que l'une d'elles soit traitée ; un mainteneur peut aussi la lancer.")
            api.upsert_comment(number, MARKER, outcome.comment)
            api.add_labels(number, [LABEL_WAITING])
            return outcome
    try:
        suggestion_lines = suggestions(sub, geography, content_dir, today or dt.date.today())
    except Exception as error:  # noqa: BLE001 - suggestions are a courtesy, never a blocker
        print(f"suggestions non calculées : {error}", file=sys.stderr)
        suggestion_lines = None
    from .github_api import GitHubError, commit_files

    body = render_pull_body(sub, author, geography, suggestion_lines, token_kind)
    try:
        commit_files(api, branch, base, outcome.files, f"Soumission du ticket #{number}")
        if open_pull is not None:
            api.update_pull(open_pull["number"], pull_title(sub), body)
            pull, created = open_pull, False
        else:
            pull, created = api.create_pull(pull_title(sub), branch, base, body), True
    except GitHubError as error:
        outcome.action = "failed"
        outcome.comment = (f"{MARKER}\nMerci @{md(author)} ! Votre proposition est valide, mais le robot n'a pas pu "
                           "ouvrir la proposition de publication (réglage du dépôt ou incident GitHub). Les mainteneurs "
                           "sont prévenus et la publieront à la main : vous n'avez rien à faire.")
        api.upsert_comment(number, MARKER, outcome.comment)
        api.add_labels(number, ["intervention-mainteneur"])
        raise SystemExit(f"création de la proposition impossible : {error}") from None
    outcome.pull_number = pull["number"]
    api.add_labels(pull["number"], pull_labels(sub, geography))
    api.add_labels(number, [LABEL_PR_OPEN])
    api.remove_label(number, LABEL_WAITING)
    outcome.comment = render_success(pull["number"], author, created)
    api.upsert_comment(number, MARKER, outcome.comment)
    return outcome


def main_intake(args) -> int:
    """``associe intake --event FILE``: the intake workflow's only step."""
    event = json.loads(Path(args.event).read_text(encoding="utf-8"))
    from .territories import load_geography

    geography = load_geography()
    content_dir = Path(args.content) if getattr(args, "content", None) else CONTENT_DIR
    if args.dry_run:
        outcome = process_issue(event.get("issue") or {}, geography, content_dir, getattr(args, "date", None))
        print(f"décision : {outcome.action}")
        if outcome.comment:
            print(outcome.comment)
        if outcome.action == "pull":
            out = Path(args.output) if args.output else None
            for relpath, text in outcome.files.items():
                if out:
                    (out / relpath).parent.mkdir(parents=True, exist_ok=True)
                    (out / relpath).write_text(text, encoding="utf-8")
                print(f"--- {relpath}\n{text}")
            try:
                lines = suggestions(outcome.submission, geography, content_dir, getattr(args, "date", None) or dt.date.today())
            except Exception:  # noqa: BLE001 - a courtesy, as in run_intake
                lines = None
            print(render_pull_body(outcome.submission, (event.get("issue") or {}).get("user", {}).get("login", ""),
                                   geography, lines))
        return 0
    from .github_api import from_environment

    repo = os.environ.get("GITHUB_REPOSITORY") or (event.get("repository") or {}).get("full_name", "")
    api = from_environment(repo)
    outcome = run_intake(event, api, geography, content_dir, getattr(args, "date", None),
                         token_kind=os.environ.get("ASSOCIE_TOKEN_KIND", "github"))
    print(f"ticket #{(event.get('issue') or {}).get('number')} : {outcome.action}"
          + (f" (proposition #{outcome.pull_number})" if outcome.pull_number else ""))
    return 0


__all__ = ["parse_body", "build_submission", "validate", "process_issue", "run_intake", "dump_yaml", "load_yaml",
           "normalise", "slugify", "convert_field", "unique_slug", "resolve_commune", "render_body", "Submission", "FormProblem"]


def render_body(form: Form, answers: dict[str, Any]) -> str:
    """The issue body GitHub writes for ``answers`` (field id -> text, list of labels for a
    multiple dropdown, list of ticked options for checkboxes): ``### label``, a blank line,
    the answer or ``_No response_``. The inverse of ``parse_body`` (tests, fixtures)."""
    sections = []
    for f in form.asked:
        value = answers.get(f.id)
        if f.type == "checkboxes":
            ticked = set(value or ())
            text = "\n".join(f"- [{'X' if option in ticked else ' '}] {option}" for option in f.options)
        elif isinstance(value, (list, tuple)):
            text = ", ".join(value) if value else "_No response_"
        else:
            text = value if value not in (None, "") else "_No response_"
        sections.append(f"### {f.label}\n\n{text}")
    return "\n\n".join(sections)
