"""Stage 2 — validate: JSON Schema, then the cross-file rules, every problem at once.

Each problem is one line a volunteer can act on: file, line, column, field and the fix, in
French. The rules below are a readable vocabulary (after endoflife.date's validator): one
function per rule, named for what it checks, registered in ``CROSS_FILE_RULES``.
"""
from __future__ import annotations

import datetime as dt
import difflib
import gc
import hashlib
import json
import pickle
import re
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

import fastjsonschema
from jsonschema import Draft7Validator, FormatChecker

from .forked import in_two
from .loading import LoadedFile, discover, kind_of, load_file, locate, locate_key, relative
from .paths import FOLDER_OF_KIND, KIND_FOLDERS, ROOT, SCHEMAS_DIR
from .problems import Problem
from .records import Corpus, Entry
from .vocabulary import load_vocabularies
from .dates import french_date, one_year_after  # noqa: F401 - re-exported

KINDS = ("organisation", "besoin", "offre", "exemple")
VOCABULARY_OF_FIELD = {
    "nature": "nature", "taille": "taille", "type_de_soutien": "type_de_soutien", "categorie": "categorie",
    "objet": "objet", "thematiques": "thematique", "portee": "portee", "statut": "statut", "echelle": "echelle",
}


# ------------------------------------------------------------------------------ schemas
@lru_cache(maxsize=None)
def load_schemas(schemas_dir: Path = SCHEMAS_DIR) -> dict[str, dict]:
    return {name: json.loads((schemas_dir / f"{name}.schema.json").read_text(encoding="utf-8"))
            for name in ("definitions", *KINDS)}


def _inline_refs(node: Any, definitions: dict) -> Any:
    """The schema with every ``$ref`` to the shared definitions replaced by its target.

    Resolving ``$ref`` through ``referencing`` at each use was half of the validation time
    (10,000 files: 13 s); our definitions are not recursive, so they can be inlined once."""
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline_refs(definitions[node["$ref"].rsplit("/", 1)[-1]], definitions)
        return {key: _inline_refs(value, definitions) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline_refs(value, definitions) for value in node]
    return node


@lru_cache(maxsize=None)
def inlined_schemas(schemas_dir: Path = SCHEMAS_DIR) -> dict[str, dict]:
    schemas = load_schemas(schemas_dir)
    definitions = schemas["definitions"]["definitions"]
    for kind in KINDS:
        Draft7Validator.check_schema(schemas[kind])
    return {kind: _inline_refs(schemas[kind], definitions) for kind in KINDS}


@lru_cache(maxsize=None)
def validators(schemas_dir: Path = SCHEMAS_DIR) -> dict[str, Draft7Validator]:
    """Full validators (every error, with its path), used on files that fail the fast gate."""
    return {kind: Draft7Validator(schema, format_checker=FormatChecker())
            for kind, schema in inlined_schemas(schemas_dir).items()}


def _is_real_date(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
        return True
    except ValueError:
        return False


@lru_cache(maxsize=None)
def fast_validators(schemas_dir: Path = SCHEMAS_DIR) -> dict[str, Callable[[Any], Any]]:
    """fastjsonschema-compiled validators: a 20× faster yes/no gate for the common, valid case."""
    return {kind: fastjsonschema.compile(schema, formats={"date": _is_real_date})
            for kind, schema in inlined_schemas(schemas_dir).items()}


def field_name(path: Iterable[Any]) -> str:
    """JSON path as a volunteer reads it: ``territoire.commune``, ``partenaires[2].nom``."""
    out = ""
    for step in path:
        out += f"[{step + 1}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


def _closest(value: Any, choices: Iterable[str]) -> str | None:
    if not isinstance(value, str):
        return None
    folded = _fold(value).replace(" ", "_").replace("-", "_")
    matches = difflib.get_close_matches(folded, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().strip()


_TYPE_FR = {"string": "du texte", "integer": "un nombre entier", "boolean": "true ou false",
            "array": "une liste (lignes commençant par « - »)", "object": "un groupe de champs indentés",
            "number": "un nombre", "null": "vide"}
_INVISIBLE = re.compile("[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def _pattern_message(error, value: Any) -> str:
    schema = error.schema
    pattern = schema.get("pattern", "")
    shown = f"« {value} »"
    if "[0-9]{4}-[0-9]{2}-[0-9]{2}" in pattern:
        return f"{shown} n'est pas une date au format AAAA-MM-JJ (ex. « 2027-03-31 »)."
    if pattern.startswith("^https://"):
        return f"{shown} n'est pas une adresse web sûre : elle doit commencer par « https:// »."
    if "2[AB][0-9]{3}" in pattern:
        return (f"{shown} n'est pas un code commune INSEE (5 caractères, ex. « 21231 » pour Dijon ; "
                "ce n'est pas le code postal).")
    if "[a-z0-9-]{0,78}" in pattern:
        return (f"{shown} n'est pas un identifiant valide : lettres minuscules sans accent, chiffres et tirets "
                "(ex. « ordinateurs-atelier-dijon »).")
    if "@" in pattern:
        return f"{shown} n'est pas une adresse e-mail valide (ex. « contact@mon-asso.fr »)."
    if pattern == "^[0-9]{9}$":
        return f"{shown} n'est pas un SIREN : 9 chiffres, sans espace."
    if pattern == "^[0-9]{14}$":
        return f"{shown} n'est pas un SIRET : 14 chiffres, sans espace."
    if pattern.startswith("^W"):
        return f"{shown} n'est pas un numéro RNA : la lettre W suivie de 9 caractères (ex. « W212001234 »)."
    if pattern.startswith("^[^"):
        bad = _INVISIBLE.search(str(value))
        code = f"U+{ord(bad.group()):04X}" if bad else "?"
        where = "retour à la ligne ou " if "\\u0000-\\u001f" in pattern else ""
        return (f"le texte contient un {where}caractère invisible ou de contrôle ({code}) : "
                "retapez ce texte sans le copier-coller d'ailleurs.")
    return f"{shown} n'a pas la forme attendue."


def schema_message(error) -> str:
    """French, actionable message for one jsonschema error."""
    v, value, schema = error.validator, error.instance, error.schema
    if v == "required":
        missing = error.message.split("'")[1]
        return f"le champ obligatoire « {missing} » manque : ajoutez-le."
    if v == "additionalProperties":
        extras = sorted(set(value) - set(schema.get("properties", {})))
        known = list(schema.get("properties", {}))
        parts = []
        for extra in extras:
            close = _closest(extra, known)
            parts.append(f"« {extra} »" + (f" (vouliez-vous dire « {close} » ?)" if close else ""))
        return (f"champ inconnu {', '.join(parts)} : supprimez-le ou corrigez son nom. "
                f"Champs possibles : {', '.join(known)}.")
    if v == "enum":
        choices = schema["enum"]
        close = _closest(value, choices)
        hint = f" Vouliez-vous dire « {close} » ?" if close else ""
        return f"« {value} » n'est pas une valeur possible.{hint} Valeurs possibles : {', '.join(choices)}."
    if v == "const":
        return f"la valeur doit être « {schema['const']} »."
    if v == "type":
        expected = schema["type"]
        expected = expected if isinstance(expected, str) else expected[0]
        got = "vide" if value is None else f"« {value} »"
        extra = ""
        if expected == "string" and isinstance(value, bool):
            extra = " (mettez la valeur entre guillemets)"
        elif expected == "string" and isinstance(value, int):
            extra = f" : mettez-la entre guillemets (ex. « \"{value}\" »)"
        return f"{got} devrait être {_TYPE_FR.get(expected, expected)}{extra}."
    if v == "pattern":
        return _pattern_message(error, value)
    if v == "format" and schema.get("format") == "date":
        return f"« {value} » n'est pas une date qui existe : vérifiez le jour et le mois."
    if v == "minLength":
        return f"texte trop court : au moins {schema['minLength']} caractères (actuellement {len(value)})."
    if v == "maxLength":
        return f"texte trop long : {schema['maxLength']} caractères au plus (actuellement {len(value)}) : raccourcissez-le."
    if v == "minItems":
        return f"la liste doit contenir au moins {schema['minItems']} élément(s)."
    if v == "maxItems":
        return f"la liste contient trop d'éléments : {schema['maxItems']} au plus."
    if v == "uniqueItems":
        return "la liste contient deux fois la même valeur : retirez le doublon."
    if v == "minimum":
        return f"« {value} » est trop petit : au moins {schema['minimum']}."
    if v == "maximum":
        return f"« {value} » est trop grand : {schema['maximum']} au plus."
    if v == "minProperties":
        return "ce groupe de champs est vide : remplissez au moins un champ."
    if v == "anyOf" and "contact" in [str(p) for p in error.absolute_path]:
        return "indiquez une adresse e-mail de rôle (« email ») ou l'adresse d'une page de contact (« formulaire »)."
    if v == "anyOf":
        return "aucune des formes acceptées ne correspond : voir le modèle dans le README."
    return error.message


def _schema_problems(loaded: LoadedFile) -> list[Problem]:
    try:
        fast_validators()[loaded.kind](loaded.data)
        return []
    except fastjsonschema.JsonSchemaException:
        pass  # now collect every error, with its path, through jsonschema
    problems = []
    errors = list(validators()[loaded.kind].iter_errors(loaded.data))
    pattern_failed = {tuple(e.absolute_path) for e in errors if e.validator == "pattern"}
    for error in errors:
        path = list(error.absolute_path)
        if error.validator == "format" and tuple(path) in pattern_failed:
            continue  # "not AAAA-MM-JJ" already says it; "does not exist" would be noise
        if error.validator == "additionalProperties":
            extras = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            line, col = locate_key(loaded.text, path, extras[0]) if extras else locate(loaded.text, path)
            fld = field_name(path + extras[:1])
        elif error.validator == "required":
            line, col = locate(loaded.text, path)
            fld = field_name(path + [error.message.split("'")[1]])
        else:
            line, col = locate(loaded.text, path)
            fld = field_name(path)
        problems.append(Problem(loaded.relpath, line, col, fld, schema_message(error)))
    return problems


# ------------------------------------------------------------------------------ cross-file rules
@dataclass
class RuleContext:
    files: dict[tuple[str, str], LoadedFile]          # (kind, id) -> file, schema-valid or not
    geography: Any                                     # associe.territories.Geography
    problems: list[Problem] = field(default_factory=list)

    def report(self, loaded: LoadedFile, path: list, message: str, severity: str = "erreur") -> None:
        line, col = locate(loaded.text, path)
        self.problems.append(Problem(loaded.relpath, line, col, field_name(path), message, severity))

    def of_kind(self, kind: str) -> list[LoadedFile]:
        """The files of ``kind`` that have data, by identifier (sorted once, on the first call)."""
        if self._by_kind is None:
            self._by_kind = {}
            for (k, _), f in sorted(self.files.items()):
                if f.data is not None:
                    self._by_kind.setdefault(k, []).append(f)
        return list(self._by_kind.get(kind, ()))

    _by_kind: dict[str, list[LoadedFile]] | None = field(default=None, init=False, repr=False, compare=False)


CROSS_FILE_RULES: list[Callable[[RuleContext], None]] = []
# Rules that read one file only (not the other files nor the geography): ``check`` runs them
# file by file and keeps their problems in the cache with the file's other problems.
FILE_RULES: list[Callable[[RuleContext], None]] = []


def rule(function: Callable[[RuleContext], None]) -> Callable[[RuleContext], None]:
    CROSS_FILE_RULES.append(function)
    return function


def file_rule(function: Callable[[RuleContext], None]) -> Callable[[RuleContext], None]:
    """A rule that reads one file only: it runs on each file alone (and is cached with it)."""
    FILE_RULES.append(function)
    return rule(function)


@file_rule
def identifier_equals_file_name(ctx: RuleContext) -> None:
    """`identifiant` is the file name without `.yaml`, so that links never break silently."""
    for loaded in (f for f in ctx.files.values() if f.data is not None):
        ident = loaded.data.get("identifiant")
        if isinstance(ident, str) and ident != loaded.id:
            ctx.report(loaded, ["identifiant"], f"« {ident} » doit être identique au nom du fichier (« {loaded.id} ») : "
                       "corrigez l'un ou l'autre.")


@rule
def identifier_unique(ctx: RuleContext) -> None:
    """Two files of the same kind cannot differ only by case (they would share one page)."""
    seen: dict[tuple[str, str], LoadedFile] = {}
    for (kind, ident), loaded in sorted(ctx.files.items()):
        key = (kind, ident.casefold())
        if key in seen:
            ctx.problems.append(Problem(loaded.relpath, 1, 1, "identifiant",
                                        f"identifiant déjà utilisé par {seen[key].relpath} : choisissez un autre nom de fichier."))
        else:
            seen[key] = loaded


def _org_exists(ctx: RuleContext, loaded: LoadedFile, path: list, ident: Any) -> None:
    if isinstance(ident, str) and ("organisation", ident) not in ctx.files:
        known = sorted(i for k, i in ctx.files if k == "organisation")
        close = difflib.get_close_matches(ident, known, n=1, cutoff=0.6)
        hint = f" Vouliez-vous dire « {close[0]} » ?" if close else ""
        ctx.report(loaded, path, f"l'organisation « {ident} » n'existe pas dans content/organisations/.{hint} "
                   f"Créez le fichier content/organisations/{ident}.yaml ou corrigez l'identifiant.")


@rule
def referenced_organisation_exists(ctx: RuleContext) -> None:
    """Needs and offers name an existing organisation; examples may link their partners to one."""
    for kind in ("besoin", "offre"):
        for loaded in ctx.of_kind(kind):
            _org_exists(ctx, loaded, ["organisation"], loaded.data.get("organisation"))
    for loaded in ctx.of_kind("exemple"):
        for i, partner in enumerate(loaded.data.get("partenaires") or []):
            if isinstance(partner, dict) and "organisation" in partner:
                _org_exists(ctx, loaded, ["partenaires", i, "organisation"], partner["organisation"])
        for kind in ("besoin", "offre"):
            ident = loaded.data.get(kind)
            if isinstance(ident, str) and (kind, ident) not in ctx.files:
                ctx.report(loaded, [kind], f"le {kind} « {ident} » n'existe pas dans content/{FOLDER_OF_KIND[kind]}/.")


def _unknown_commune_message(geo, code: str) -> str:
    """Suggest what the contributor probably meant: the communes of a postcode typed instead of
    the INSEE code, else the chef-lieu of the département the code starts with."""
    suggestions = [c for c in geo.suggest(code) if code in c.codes_postaux] if hasattr(geo, "suggest") else []
    if not suggestions:
        for prefix in (code[:3], code[:2]):
            departement = geo.departements.get(prefix)
            if departement and geo.commune(departement.chef_lieu):
                suggestions = [geo.commune(departement.chef_lieu)]
                break
    if not suggestions and hasattr(geo, "suggest"):
        suggestions = geo.suggest(code)
    if suggestions:
        ex = ", ".join(f"{c.code} pour {c.nom}" for c in suggestions[:3])
        return f"« {code} » n'est pas un code commune connu (exemple : {ex})."
    return f"« {code} » n'est pas un code commune connu (exemple : 21231 pour Dijon) : utilisez le code INSEE, pas le code postal."


@rule
def commune_exists(ctx: RuleContext) -> None:
    """Every commune, département or région code exists in the official geography (COG 2026)."""
    geo = ctx.geography
    for kind, path in (("organisation", ["commune"]), ("besoin", ["territoire", "commune"]), ("offre", ["territoire", "commune"])):
        for loaded in ctx.of_kind(kind):
            code = _get(loaded.data, path)
            if isinstance(code, str) and geo.commune(code) is None:
                ctx.report(loaded, path, _unknown_commune_message(geo, code))
    for loaded in ctx.of_kind("exemple"):
        territory = loaded.data.get("territoire")
        if not isinstance(territory, dict):
            continue
        scale, code = territory.get("echelle"), territory.get("code")
        if scale == "national":
            if code is not None:
                ctx.report(loaded, ["territoire", "code"], "pas de code pour l'échelle « national » : supprimez « code ».")
            continue
        if code is None:
            ctx.report(loaded, ["territoire"], f"indiquez le code INSEE ({scale}) dans « code ».")
        elif scale == "commune" and geo.commune(code) is None:
            ctx.report(loaded, ["territoire", "code"], _unknown_commune_message(geo, code))
        elif scale == "departement" and code not in geo.departements:
            ctx.report(loaded, ["territoire", "code"], f"« {code} » n'est pas un code de département (ex. 21 pour la Côte-d'Or).")
        elif scale == "region" and code not in geo.regions:
            ctx.report(loaded, ["territoire", "code"], f"« {code} » n'est pas un code de région (ex. 27 pour la Bourgogne-Franche-Comté).")


def parse_date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


@file_rule
def dates_coherent(ctx: RuleContext) -> None:
    """Validity ends after publication and at most one year later; confirmations fall in between."""
    for kind in ("besoin", "offre"):
        for loaded in ctx.of_kind(kind):
            published = parse_date(loaded.data.get("date_publication"))
            until = parse_date(loaded.data.get("valable_jusqu_au"))
            if published and until:
                if until < published:
                    ctx.report(loaded, ["valable_jusqu_au"], f"la date de fin ({until}) est avant la date de publication ({published}).")
                elif until > one_year_after(published):
                    ctx.report(loaded, ["valable_jusqu_au"],
                               f"une annonce vaut un an au plus : mettez une date au plus tard le {one_year_after(published)} "
                               "(vous pourrez la prolonger ensuite en la confirmant).")
            confirmed = parse_date(loaded.data.get("derniere_confirmation"))
            if confirmed and published and confirmed < published:
                ctx.report(loaded, ["derniere_confirmation"], "la dernière confirmation ne peut pas précéder la publication.")
            available = parse_date(loaded.data.get("disponible_a_partir_du"))
            if available and until and available > until:
                ctx.report(loaded, ["disponible_a_partir_du"], "la date de disponibilité est après la date de fin de validité.")
    for loaded in ctx.of_kind("exemple"):
        if loaded.data.get("en_cours") is True and "duree_mois" in loaded.data:
            ctx.report(loaded, ["duree_mois"], "un partenariat « en_cours » n'a pas encore de durée : retirez « duree_mois » ou « en_cours ».")


@rule
def reach_consistent_with_place(ctx: RuleContext) -> None:
    """A radius needs `rayon_km`; `rayon_km` goes only with a radius; a radius needs a commune with a point."""
    for kind in ("besoin", "offre"):
        for loaded in ctx.of_kind(kind):
            territory = loaded.data.get("territoire")
            if not isinstance(territory, dict):
                continue
            reach, radius = territory.get("portee"), territory.get("rayon_km")
            if reach == "rayon" and radius is None:
                ctx.report(loaded, ["territoire", "portee"], "avec « portee: rayon », indiquez « rayon_km » (ex. rayon_km: 20).")
            if reach != "rayon" and radius is not None:
                ctx.report(loaded, ["territoire", "rayon_km"], f"« rayon_km » ne sert qu'avec « portee: rayon » (ici « {reach} ») : "
                           "retirez-le ou mettez « portee: rayon ».")
            commune = ctx.geography.commune(territory.get("commune") or "")
            if reach == "rayon" and commune is not None and commune.lat is None:
                ctx.report(loaded, ["territoire", "portee"], f"{commune.nom} n'a pas de coordonnées de référence : "
                           "choisissez « portee: departement » plutôt qu'un rayon.")


_SHORTENERS = {"bit.ly", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "buff.ly", "cutt.ly", "rebrand.ly",
               "shorturl.at", "tiny.cc", "s.id", "lnkd.in", "urlz.fr"}


def _string_leaves(data: Any, names: frozenset | None = None,
                   keep: Callable[[str], bool] | None = None) -> list[tuple[list, str]]:
    """(path, text) of every string in ``data`` (a mapping or a list), depth first, whose last
    step is in ``names`` (when given) and for which ``keep(text)`` is true (when given). Paths
    are built only for the strings kept."""
    found: list[tuple[list, str]] = []
    path: list = []

    def walk(node: Any) -> None:
        for key, value in (node.items() if isinstance(node, dict) else enumerate(node)):
            if isinstance(value, str):
                if (names is None or key in names) and (keep is None or keep(value)):
                    found.append((path + [key], value))
            elif isinstance(value, (dict, list)):
                path.append(key)
                walk(value)
                path.pop()

    walk(data)
    return found


_URL_FIELDS = frozenset(("site_web", "formulaire", "url"))


def _urls(data: Any, path: list) -> Iterable[tuple[list, str]]:
    if isinstance(data, str):
        return [(path, data)] if path and path[-1] in _URL_FIELDS else []
    return [(path + p, text) for p, text in _string_leaves(data, _URL_FIELDS)]


@file_rule
def links_are_safe(ctx: RuleContext) -> None:
    """Links are https, name a real host, and are not hidden behind a URL shortener."""
    for loaded in (f for f in ctx.files.values() if f.data is not None):
        for path, url in _urls(loaded.data, []):
            if not url.startswith("https://"):
                continue  # the schema already says so
            host = (urlsplit(url).hostname or "").lower()
            if host in _SHORTENERS:
                ctx.report(loaded, path, f"les liens raccourcis ({host}) ne sont pas acceptés : donnez l'adresse complète du site.")
            elif not host or "." not in host or re.fullmatch(r"[0-9.]+|\[.*\]|localhost", host):
                ctx.report(loaded, path, f"« {url} » ne désigne pas un site public : donnez l'adresse complète (https://exemple.fr/…).")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char)
        if i % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


@file_rule
def official_identifiers_valid(ctx: RuleContext) -> None:
    """SIREN and SIRET pass the Luhn check (La Poste's SIRETs use their own rule); SIRET starts with the SIREN."""
    for loaded in ctx.of_kind("organisation"):
        siren, siret = loaded.data.get("siren"), loaded.data.get("siret")
        if isinstance(siren, str) and re.fullmatch(r"[0-9]{9}", siren) and not luhn_ok(siren):
            ctx.report(loaded, ["siren"], f"« {siren} » n'est pas un SIREN valide (clé de contrôle fausse) : recopiez-le depuis l'avis de situation INSEE.")
        if isinstance(siret, str) and re.fullmatch(r"[0-9]{14}", siret):
            la_poste = siret.startswith("356000000") and sum(int(c) for c in siret) % 5 == 0
            if not (luhn_ok(siret) or la_poste):
                ctx.report(loaded, ["siret"], f"« {siret} » n'est pas un SIRET valide (clé de contrôle fausse).")
            if isinstance(siren, str) and not siret.startswith(siren):
                ctx.report(loaded, ["siret"], "le SIRET doit commencer par le SIREN de la même organisation.")


_COMPANY_SIZES = {"tpe", "pme", "eti", "grande_entreprise"}
_ASSOCIATION_SIZES = {"benevole", "employeuse"}


@file_rule
def size_matches_nature(ctx: RuleContext) -> None:
    """Companies give TPE/PME/ETI/grande entreprise; associations give bénévole/employeuse."""
    for loaded in ctx.of_kind("organisation"):
        nature, size = loaded.data.get("nature"), loaded.data.get("taille")
        if size is None:
            continue
        if nature == "entreprise" and size not in _COMPANY_SIZES:
            ctx.report(loaded, ["taille"], f"pour une entreprise, la taille est l'une de : {', '.join(sorted(_COMPANY_SIZES))}.")
        elif nature == "association" and size not in _ASSOCIATION_SIZES:
            ctx.report(loaded, ["taille"], "pour une association, la taille est « benevole » (sans salarié) ou « employeuse ».")


ROLE_WORDS = ("contact", "bonjour", "hello", "info", "accueil", "partenariat", "mecenat", "rse", "benevol", "asso",
              "secretariat", "direction", "communication", "solidarit", "dons", "admin", "siege", "president",
              "bureau", "equipe", "service", "projet", "commercial", "vente", "ressource", "atelier", "rh", "emploi",
              "mairie", "cabinet", "fondation", "coordination", "developpement", "entraide", "collectif", "office",
              "animation", "jardin", "epicerie", "banque", "recyclerie", "ressourcerie", "club", "ecole")


@file_rule
def contact_is_organisation_level(ctx: RuleContext) -> None:
    """Contact channels belong to the organisation (contact@…, a contact page), never to a person."""
    for loaded in ctx.of_kind("organisation"):
        contact = loaded.data.get("contact")
        if not isinstance(contact, dict) or contact.get("adresse_de_role_confirmee") is True:
            continue
        email = contact.get("email")
        if isinstance(email, str) and "@" in email:
            local = _fold(email.split("@")[0])
            if not any(word in local for word in ROLE_WORDS):
                ctx.report(loaded, ["contact", "email"],
                           f"« {email} » ressemble à l'adresse d'une personne : donnez une adresse de l'organisation "
                           "(contact@…, partenariats@…) ou l'adresse de sa page de contact (« formulaire »). "
                           "Un mainteneur peut confirmer une adresse de rôle avec « adresse_de_role_confirmee: true ».")


TODO_MARKER = "À compléter"


def _todo_paths(data: Any, path: list) -> Iterable[list]:
    if isinstance(data, str):
        return [path] if data.lstrip().startswith(TODO_MARKER) else []
    return [path + p for p, _ in _string_leaves(data, keep=lambda text: text.lstrip().startswith(TODO_MARKER))]


@file_rule
def drafted_example_is_completed(ctx: RuleContext) -> None:
    """A drafted example (``associe draft-example``) still saying « À compléter » is flagged for review."""
    for loaded in ctx.of_kind("exemple"):
        for path in _todo_paths(loaded.data, []):
            ctx.report(loaded, path, "texte encore à compléter par les partenaires : ne fusionnez pas avant "
                       "qu'il soit rédigé.", severity="avertissement")


_PHONE = re.compile(r"(?<![\d])(?:\+33[\s.-]?|0033[\s.-]?|0)[1-9](?:[\s.-]?\d{2}){4}(?!\d)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
FREE_TEXT_FIELDS = ("description", "presentation", "resume", "resultats", "et_ensuite", "texte", "titre", "nom")


_FREE_TEXT_FIELDS = frozenset(FREE_TEXT_FIELDS)


def _texts(data: Any, path: list) -> Iterable[tuple[list, str]]:
    if isinstance(data, str):
        return [(path, data)] if path and path[-1] in _FREE_TEXT_FIELDS else []
    return [(path + p, text) for p, text in _string_leaves(data, _FREE_TEXT_FIELDS)]


@file_rule
def no_personal_data_in_texts(ctx: RuleContext) -> None:
    """Free texts carry no phone number and no e-mail address: contact goes through the organisation's channel."""
    for loaded in (f for f in ctx.files.values() if f.data is not None):
        for path, text in _texts(loaded.data, []):
            if _PHONE.search(text):
                ctx.report(loaded, path, "pas de numéro de téléphone dans le texte : le contact passe par le canal de "
                           "l'organisation (champ « contact » de sa fiche). Retirez le numéro.")
            if _EMAIL.search(text):
                ctx.report(loaded, path, "pas d'adresse e-mail dans le texte : elle va dans le champ « contact » "
                           "de la fiche de l'organisation. Retirez-la du texte.")


def _get(data: Any, path: list) -> Any:
    for step in path:
        if isinstance(data, dict):
            data = data.get(step)
        else:
            return None
    return data


# ------------------------------------------------------------------------------ the check
@dataclass
class CheckResult:
    corpus: Corpus
    problems: list[Problem]
    files: int

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors


class CheckCache:
    """Loaded and checked files from the previous run, keyed by path and content hash.

    What is cached is what depends on one file only: YAML parsing, JSON Schema validation and
    the rules of ``FILE_RULES``. The rules that read several files or the geography always run
    again. The cache is dropped whenever the schemas or the loader/validator code change."""

    VERSION = 2

    def __init__(self, directory: Path | None):
        self.path = directory / "check-cache.pickle" if directory else None
        self.key = self._code_key()
        # relpath -> (sha1 of the bytes, data, problems of the file, problems of FILE_RULES)
        self.entries: dict[str, tuple[str, Any, list[Problem], list[Problem]]] = {}
        self.hits = 0
        if self.path and self.path.exists():
            try:
                with self.path.open("rb") as stream:
                    stored = pickle.load(stream)  # noqa: S301 - our own file, written below
                if stored.get("key") == self.key:
                    self.entries = stored["entries"]
            except Exception:  # a corrupt or foreign cache is only a slower build
                self.entries = {}
        self.fresh: dict[str, tuple[str, Any, list[Problem], list[Problem]]] = {}
        self.changed = False

    @staticmethod
    def _code_key() -> str:
        digest = hashlib.sha256(str(CheckCache.VERSION).encode())
        here = Path(__file__)
        for path in sorted(SCHEMAS_DIR.glob("*.json")) + [here, here.with_name("loading.py"), here.with_name("dates.py"),
                                                          here.with_name("problems.py")]:
            digest.update(path.read_bytes())
        return digest.hexdigest()

    def get(self, relpath: str, digest: str):
        hit = self.entries.get(relpath)
        if hit and hit[0] == digest:
            self.hits += 1
            self.fresh[relpath] = hit
            return hit
        return None

    def put(self, relpath: str, digest: str, data: Any, problems: list[Problem],
            rule_problems: list[Problem]) -> None:
        # No copy: nothing changes the data before ``save`` (at the end of ``check``).
        self.fresh[relpath] = (digest, data, problems, rule_problems)
        self.changed = True

    def save(self) -> None:
        """Write the files seen in this run; nothing when they are exactly those already stored."""
        if not self.path:
            return
        if not self.changed and self.fresh.keys() == self.entries.keys() and self.path.exists():
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("wb") as stream:
            pickle.dump({"key": self.key, "entries": self.fresh}, stream, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(self.path)


def _file_rule_problems(loaded: LoadedFile, geography: Any) -> list[Problem]:
    """The problems ``FILE_RULES`` find in one file (of a kind, with data)."""
    ctx = RuleContext(files={(loaded.kind, loaded.id): loaded}, geography=geography)
    ctx._by_kind = {loaded.kind: [loaded]}          # what ``of_kind`` would find, without sorting
    for function in FILE_RULES:
        function(ctx)
    return ctx.problems


def _load_and_check(path: Path, relpath: str, root: Path, geography: Any,
                    raw: bytes | None) -> tuple[LoadedFile, list[Problem], list[Problem]]:
    """(file, problems of its loading and schema, problems of ``FILE_RULES``)."""
    loaded = load_file(path, root, raw=raw, relpath=relpath)
    problems = list(loaded.problems)
    rule_problems: list[Problem] = []
    if loaded.data is not None and loaded.kind:
        problems.extend(_schema_problems(loaded))
        rule_problems = _file_rule_problems(loaded, geography)
    return loaded, problems, rule_problems


# Below this many files to parse, one process; above, two (when the machine has two cores).
PARALLEL_MIN_FILES = 2000


def _in_two_processes(items: list, work: Callable[[Any], Any], pack: Callable[[Any, Any], Any] = lambda item, r: r,
                      unpack: Callable[[Any, Any], Any] = lambda item, r: r) -> list:
    """``[work(item) for item in items]``, the second half computed by a forked process.

    The child sends ``pack(item, result)`` and the parent rebuilds ``unpack(item, packed)``: what
    the parent knows already need not be pickled (pickling a dataclass costs much more than a
    tuple).

    Parsing and checking thousands of files is the bulk of ``check`` on a cold build; the other
    core is idle then. The child sends its results back pickled, through a pipe; the parent
    computes the first half meanwhile. Should the child fail in any way (an exception, a crash,
    a result that cannot be pickled), the parent computes that half itself: the results and any
    exception are those of the plain loop, in the same order."""
    half = len(items) // 2
    first, packed = in_two(lambda: [work(item) for item in items[:half]],
                           lambda: [pack(item, work(item)) for item in items[half:]],
                           parallel=len(items) >= PARALLEL_MIN_FILES)
    return first + [unpack(item, result) for item, result in zip(items[half:], packed)]


@contextmanager
def _fewer_collections():
    """Loading thousands of files makes hundreds of thousands of small dicts and lists that all
    live on; the cyclic garbage collector would walk them again and again (and every object
    already there: the geography, Pelican). Collect less often while loading; the threshold is
    put back afterwards."""
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], 20_000), max(threshold[1], 50), max(threshold[2], 100))
    try:
        yield
    finally:
        gc.set_threshold(*threshold)


def check(paths: Iterable[Path], root: Path = ROOT, geography: Any = None,
          context_paths: Iterable[Path] = (), cache_dir: Path | None = None) -> CheckResult:
    """Load and validate the entry files under ``paths``; every problem at once.

    ``context_paths`` are loaded too (without reporting their own problems) so that checking one
    file can resolve references to organisations elsewhere in the directory. ``cache_dir`` keeps
    parsed and checked files between runs (see ``CheckCache``)."""
    from .territories import load_geography

    geography = geography or load_geography()
    with _fewer_collections():
        return _check(paths, root, geography, context_paths, cache_dir)


def _check(paths: Iterable[Path], root: Path, geography: Any, context_paths: Iterable[Path],
           cache_dir: Path | None) -> CheckResult:
    cache = CheckCache(cache_dir) if cache_dir else None
    wanted = discover(paths)
    files: dict[tuple[str, str], LoadedFile] = {}
    own: dict[tuple[str, str], list[Problem]] = {}    # problems of FILE_RULES, for the files kept
    problems: list[Problem] = []
    real_parents: dict[str, str] = {}
    relpaths = [relative(path, root, real_parents) for path in wanted]
    results: list[Any] = [None] * len(wanted)
    todo: list[int] = []                           # files to load and check (not in the cache)
    raws: dict[int, bytes] = {}
    digests: dict[int, str] = {}
    for i, path in enumerate(wanted):
        if cache is None or path.is_symlink():
            todo.append(i)
            continue
        raw = path.read_bytes()
        digest = hashlib.sha1(raw).hexdigest()
        hit = cache.get(relpaths[i], digest)
        if hit is None:
            todo.append(i)
            raws[i], digests[i] = raw, digest
            continue
        _, data, hit_problems, hit_rule_problems = hit
        loaded = LoadedFile(path=path, relpath=relpaths[i], kind=kind_of(path) or "", id=path.stem,
                            text=raw.decode("utf-8", errors="replace").lstrip("\ufeff"), data=data)
        results[i] = (loaded, list(hit_problems), list(hit_rule_problems))
    def pack(_i: int, result: tuple) -> tuple:
        loaded, file_problems, rule_problems = result
        return loaded.text, loaded.data, loaded.problems, file_problems, rule_problems

    def unpack(i: int, packed: tuple) -> tuple:
        text, data, loaded_problems, file_problems, rule_problems = packed
        path = wanted[i]
        loaded = LoadedFile(path=path, relpath=relpaths[i], kind=kind_of(path) or "", id=path.stem, text=text,
                            data=data, problems=loaded_problems)
        return loaded, file_problems, rule_problems

    done = _in_two_processes(todo, lambda i: _load_and_check(wanted[i], relpaths[i], root, geography, raws.pop(i, None)),
                             pack, unpack)
    for i, result in zip(todo, done):
        results[i] = result
        if i in digests:
            loaded, file_problems, rule_problems = result
            cache.put(relpaths[i], digests[i], loaded.data, file_problems, rule_problems)
    for loaded, file_problems, rule_problems in results:
        if not loaded.kind:
            problems.append(Problem(loaded.relpath, 1, 0, "", "ce fichier n'est pas dans un dossier d'entrées "
                                    f"({', '.join(f'content/{f}/' for f in KIND_FOLDERS)}) : déplacez-le."))
            continue
        problems.extend(file_problems)
        files[(loaded.kind, loaded.id)] = loaded
        own[(loaded.kind, loaded.id)] = rule_problems
    reported = {f.relpath for f in files.values()}
    context_paths = list(context_paths)
    if context_paths:
        seen = {p.resolve() for p in wanted}
        for path in discover(context_paths):
            if path.resolve() in seen or (kind_of(path), path.stem) in files:
                continue
            loaded = load_file(path, root)
            if loaded.kind:
                files[(loaded.kind, loaded.id)] = loaded
    for rule_problems in own.values():
        problems.extend(rule_problems)
    ctx = RuleContext(files=files, geography=geography)
    for function in CROSS_FILE_RULES:
        if function not in FILE_RULES:
            function(ctx)
    problems.extend(p for p in ctx.problems if p.file in reported)
    problems = sorted(set(problems))
    bad = {p.file for p in problems if p.is_error}
    corpus = Corpus()
    for (kind, ident), loaded in sorted(files.items()):
        if loaded.data is not None and loaded.relpath in reported and loaded.relpath not in bad:
            corpus.of_kind(kind)[ident] = Entry(kind=kind, id=ident, path=loaded.relpath, data=loaded.data)
    if cache:
        cache.save()
    return CheckResult(corpus=corpus, problems=problems, files=len(reported))
