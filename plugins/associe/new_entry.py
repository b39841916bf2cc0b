"""``associe new besoin|offre|exemple|organisation``: the form's questions, in the terminal.

For contributors who use git: the same questions as the GitHub form (``associe.forms``),
each answer checked as soon as it is typed (conversion of the bot, then the schema of the
field), then the whole entry checked by the project's validator before anything is written
to ``content/``. The answers go through the very code of the intake bot
(``intake.build_submission`` and ``intake.validate``), so a file written here is the file
the bot would have written from the same answers.

Dropdowns are answered by number (``3``, or ``1, 4`` for several) or by label.
"""
from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource

from .forms import FORMS, ORGANISATION_FORM, Field, Form, _schemas, options, schema_for_path
from .intake import _plain, build_submission, convert_field, existing_ids, normalise, validate
from .paths import CONTENT_DIR

Ask = Callable[[str], str]
Say = Callable[[str], None]


# ------------------------------------------------------------------ checking one answer
@lru_cache(maxsize=None)
def _registry() -> Registry:
    return Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in _schemas().values())


def _pointer(kind: str, path: str) -> str:
    """URI of the schema node of ``path``, following ``$ref`` where a step needs it."""
    schemas = _schemas()
    doc_name = kind
    pointer = ""
    node = schemas[kind]
    for step in path.split("."):
        is_item = step.endswith("[]")
        name = step[:-2] if is_item else step
        while "properties" not in node and "$ref" in node:
            file_part, _, ref_pointer = node["$ref"].partition("#")
            if file_part:
                doc_name = file_part.replace(".schema.json", "")
            pointer = ref_pointer
            node = schemas[doc_name]
            for part in [p for p in ref_pointer.split("/") if p]:
                node = node[part]
        pointer += f"/properties/{name}"
        node = node["properties"][name]
        if is_item:
            pointer += "/items"
            node = node["items"]
    return f"{schemas[doc_name]['$id']}#{pointer}"


def check_value(kind: str, path: str, value: Any) -> list[str]:
    """French messages of the schema for one value (empty when valid)."""
    from .validation import schema_message

    kind, path = schema_for_path(kind, path)
    validator = Draft7Validator({"$ref": _pointer(kind, path)}, registry=_registry(), format_checker=FormatChecker())
    return [schema_message(error) for error in validator.iter_errors(value)]


def check_answer(f: Field, kind: str, text: str, geography: Any) -> tuple[list[str], dict[str, Any]]:
    """Errors of one answer (conversion, then schema), and the converted values."""
    converted, errors = convert_field(f, text, geography)
    if errors:
        return errors, converted
    if f.convert in ("vocabulary", "partners", "territory_code", "commitments", "site_choices"):
        return [], converted
    values = converted or ({f.paths[0]: text} if f.paths and "[]" in f.paths[0] else {})
    for path, value in values.items():
        if "[]" in path and path.split(".")[0] == "apports[]":
            path = "apports[].texte"
        errors.extend(check_value(kind, path, value))
    return errors, converted


# ------------------------------------------------------------------ asking
def _prompt(f: Field) -> str:
    head = f"\n{f.label}" + (" (obligatoire)" if f.required else " (facultatif, Entrée pour passer)")
    description = re.sub(r"^(Obligatoire|Facultatif)\.\s*", "", f.description)
    if description:
        head += f"\n  {description}"
    if f.type == "dropdown":
        head += "\n" + "\n".join(f"  {i}. {label}" for i, label in enumerate(options(f), 1))
        head += "\n  Numéro" + ("s séparés par des virgules" if f.multiple else "") + " ou intitulé"
    elif f.placeholder:
        head += f"\n  Exemple : {f.placeholder}"
    return head + "\n> "


def _from_numbers(f: Field, text: str) -> str:
    """« 1, 3 » -> the labels of options 1 and 3, as GitHub writes a dropdown answer."""
    labels = options(f)
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if parts and all(p.isdigit() and 1 <= int(p) <= len(labels) for p in parts):
        return ", ".join(labels[int(p) - 1] for p in parts)
    return text


def ask_field(f: Field, kind: str, ask: Ask, say: Say, geography: Any, required: bool | None = None) -> str | None:
    """Ask until the answer is valid (or empty for an optional field). Returns the answer as
    GitHub would have written it (labels for dropdowns), or None."""
    required = f.required if required is None else required
    while True:
        raw = ask(_prompt(f))
        text = normalise(raw, single_line=f.type in ("input", "dropdown"))
        if not text:
            if required:
                say("  ✗ Cette réponse est obligatoire.")
                continue
            return None
        if f.type == "dropdown":
            text = _from_numbers(f, text)
        errors, _ = check_answer(f, kind, text, geography)
        if not errors:
            return text
        for error in errors:
            say(f"  ✗ {error}")


def _yes(ask: Ask, question: str) -> bool:
    return normalise(ask(f"{question} [o/n] "), True).lower() in ("o", "oui", "y", "yes")


def collect(form: Form, ask: Ask, say: Say, geography: Any, content_dir: Path) -> tuple[str, dict[str, Any]]:
    """(title, answers) for ``form``; answers as in a parsed issue body."""
    say(f"\n== {form.name} ==\nRépondez aux questions ; Ctrl+C pour abandonner (rien n'est écrit avant la fin).")
    title = ""
    if form.kind != "organisation":
        while len(title) < 5:
            title = normalise(ask("\nTitre de l'annonce (5 à 120 caractères)\n> "), True)
            errors = check_value(form.kind, "titre", title)
            for error in errors:
                say(f"  ✗ {error}")
            if errors:
                title = ""
    answers: dict[str, Any] = {}
    skip_organisation = False
    for f in form.asked:
        if f.convert in ("site_choices",):
            continue
        if f.convert == "commitments":
            ticked = []
            for option in f.options:
                if _yes(ask, f"\n{_plain(option)}"):
                    ticked.append(option)
            answers[f.id] = "\n".join(f"- [X] {o}" for o in ticked)
            continue
        if f.id == "organisation":
            value = ask_field(f, form.kind, ask, say, geography)
            if value and value not in existing_ids(content_dir, "organisation"):
                say(f"  ✗ aucune organisation « {value} » dans {content_dir / 'organisations'} : décrivez-la ci-dessous.")
                value = None
            answers[f.id] = value
            skip_organisation = bool(value)
            continue
        if skip_organisation and f.id.startswith("org_"):
            continue
        required = f.required or (form.kind == "organisation" and f.id in ("org_nom", "org_nature", "org_commune",
                                                                             "org_presentation", "org_thematiques"))
        if form.kind in ("besoin", "offre") and f.id in ("org_nom", "org_nature", "org_commune", "org_presentation"):
            required = True
        answers[f.id] = ask_field(f, form.kind if form.kind != "organisation" else "besoin", ask, say, geography,
                                  required)
    return title, answers


def _organisation_as_need(answers: dict[str, Any]) -> tuple[Form, dict[str, Any]]:
    """An organisation alone goes through the need form's organisation part."""
    form = FORMS["besoin"]
    return form, {**answers, "engagements": "\n".join(f"- [X] {o}" for o in form.field("engagements").options)}


def run(kind: str, ask: Ask = input, say: Say = print, geography: Any = None, content_dir: Path = CONTENT_DIR,
        today: dt.date | None = None) -> list[Path]:
    """Ask, validate, write. Returns the files written (empty if the contributor gave up)."""
    if geography is None:
        from .territories import load_geography

        geography = load_geography()
    today = today or dt.date.today()
    form = ORGANISATION_FORM if kind == "organisation" else FORMS[kind]
    title, answers = collect(form, ask, say, geography, content_dir)
    while True:
        if kind == "organisation":
            need_form, values = _organisation_as_need(answers)
            sub = build_submission(values, need_form, "Fiche d'organisation", 0, today, geography, content_dir, today)
            sub.problems = [p for p in sub.problems if p.field_id.startswith("org_")]
            if not sub.problems:
                validate(sub, geography, content_dir)
                sub.problems = [p for p in sub.problems if p.field_id.startswith("org_")]
            files = {sub.organisation_path: sub.files()[sub.organisation_path]} if sub.organisation_path else {}
        else:
            sub = build_submission(answers, form, title, 0, today, geography, content_dir, today)
            if not sub.problems:
                validate(sub, geography, content_dir)
            files = sub.files()
        if not sub.problems:
            break
        say("\nQuelques réponses sont à reprendre :")
        for problem in sub.problems:
            say(f"  ✗ {problem.label or 'Ensemble'} : {problem.message}")
        if not _yes(ask, "Reprendre ces réponses maintenant ?"):
            say("Rien n'a été écrit.")
            return []
        for problem in sub.problems:
            if problem.field_id == "title":
                title = normalise(ask("\nTitre de l'annonce\n> "), True)
            elif problem.field_id:
                target = form if problem.field_id in {f.id for f in form.fields} else FORMS["besoin"]
                f = target.field(problem.field_id)
                if f.convert == "commitments":
                    say("Les engagements sont nécessaires pour publier : rien n'a été écrit.")
                    return []
                answers[f.id] = ask_field(f, "besoin" if kind == "organisation" else kind, ask, say, geography, True)
    written = []
    for relpath, text in files.items():
        path = content_dir / relpath.removeprefix("content/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
        say(f"Écrit : {path}")
    for note in sub.notes:
        say(f"À noter : {note}")
    say("Relisez le fichier, puis proposez-le (git add, commit, push et pull request). "
        "« associe check » le vérifie à nouveau.")
    return written


def main_new(args) -> int:
    content_dir = Path(args.content) if getattr(args, "content", None) else CONTENT_DIR
    try:
        written = run(args.kind, content_dir=content_dir, today=getattr(args, "date", None))
    except (KeyboardInterrupt, EOFError):
        print("\nAbandon : rien n'a été écrit.")
        return 1
    return 0 if written else 1


__all__ = ["run", "check_answer", "check_value", "main_new"]
