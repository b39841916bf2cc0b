"""Stage 1 — load: read hand-edited YAML so that a file can never silently change meaning.

PyYAML's ``safe_load`` is safe from code execution, not from data corruption: it keeps the
last of two duplicate keys, reads ``no``/``on`` as booleans, ``01234`` as an octal number,
``1:20`` as 80, ``1.10`` as 1.1 and ``2024-01-15`` as a date (and crashes with a bare
``ValueError`` on ``2024-02-30``). ``StrictLoader`` is PyYAML's C loader with YAML 1.2-like
resolution instead: only ``true``/``false`` are booleans, only plain decimal integers are
numbers, everything else (dates included) stays a string for the JSON Schema to type-check.
Duplicate keys, aliases and explicit tags are errors, with their line.
"""
from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any, Iterable

import yaml
from yaml.events import (
    DocumentEndEvent as _DocumentEnd, DocumentStartEvent as _DocumentStart, MappingEndEvent as _MappingEnd,
    MappingStartEvent as _MappingStart, ScalarEvent as _Scalar, SequenceEndEvent as _SequenceEnd,
    SequenceStartEvent as _SequenceStart, StreamEndEvent as _StreamEnd, StreamStartEvent as _StreamStart)

from .paths import KIND_FOLDERS, ROOT
from .problems import Problem

MAX_FILE_BYTES = 64 * 1024
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StrictLoader(_Base):  # type: ignore[misc, valid-type]
    """Safe loader with strict scalar resolution, no duplicate keys, no aliases, no tags."""

    yaml_implicit_resolvers: dict = {}

    def construct_object(self, node, deep=False):
        if node in self.constructed_objects:
            raise yaml.constructor.ConstructorError(
                None, None, "alias", node.start_mark)
        expected = _expected_tag(self, node)
        if node.tag != expected:
            raise yaml.constructor.ConstructorError(
                None, None, f"tag:{node.tag}", node.start_mark)
        return super().construct_object(node, deep=deep)

    def construct_mapping(self, node, deep=False):
        seen: dict[str, Any] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                raise yaml.constructor.ConstructorError(
                    None, None, f"nonstring-key:{getattr(key_node, 'value', '')!r}", key_node.start_mark)
            key = key_node.value
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    f"duplicate:{key}:{seen[key].line + 1}", None, f"duplicate:{key}", key_node.start_mark)
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_str(self, node):
        return unicodedata.normalize("NFC", super().construct_scalar(node))


def _expected_tag(loader, node) -> str:
    if isinstance(node, yaml.ScalarNode):
        if not node.style:  # plain scalar (None in Python, "" in the C parser): what the resolver chose
            return loader.resolve(yaml.ScalarNode, node.value, (True, False))
        return "tag:yaml.org,2002:str"
    if isinstance(node, yaml.SequenceNode):
        return "tag:yaml.org,2002:seq"
    return "tag:yaml.org,2002:map"


StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789"))
StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
StrictLoader.add_constructor("tag:yaml.org,2002:str", StrictLoader.construct_yaml_str)


def _bool(loader, node):
    return node.value in ("true", "True", "TRUE")


StrictLoader.add_constructor("tag:yaml.org,2002:bool", _bool)

# PyYAML's own messages, translated for volunteers, with the fix.
_SYNTAX_HINTS = [
    ("mapping values are not allowed", "un « : » inattendu. Si la valeur contient « : », mettez-la entre guillemets."),
    ("could not find expected ':'", "il manque un « : » entre le nom du champ et sa valeur."),
    ("found character '\\t'", "une tabulation est utilisée : en YAML, indentez avec des espaces."),
    ("found character that cannot start any token", "un caractère ne peut pas commencer une valeur : mettez la valeur entre guillemets."),
    ("expected <block end>", "l'indentation est incohérente : alignez les champs d'un même niveau."),
    ("did not find expected key", "l'indentation est incohérente ou un tiret « - » est mal placé."),
    ("found unexpected end of stream", "un guillemet ou un crochet n'est pas refermé."),
    ("while scanning a quoted scalar", "un guillemet n'est pas refermé."),
    ("found undefined alias", "les alias YAML (*nom) ne sont pas acceptés : recopiez la valeur."),
    ("found unknown escape character", "une barre oblique inverse « \\ » est mal utilisée entre guillemets doubles : utilisez des guillemets simples."),
    ("expected a comment or a line break", "du texte suit une valeur entre guillemets : mettez toute la valeur entre guillemets."),
]


def _syntax_message(error: yaml.YAMLError) -> str:
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None) or ""
    text = f"{context} {problem}"
    for needle, hint in _SYNTAX_HINTS:
        if needle in text:
            return f"syntaxe YAML invalide : {hint}"
    return f"syntaxe YAML invalide ({problem.strip()}) : vérifiez l'indentation et les guillemets autour de cette ligne."


def _constructor_message(error: yaml.constructor.ConstructorError) -> tuple[str, str]:
    problem = error.problem or ""
    if problem.startswith("duplicate:"):
        key = problem.split(":", 1)[1]
        first = (error.context or "").rsplit(":", 1)[-1]
        return key, (f"le champ « {key} » apparaît deux fois (déjà à la ligne {first}) : "
                     "gardez une seule fois ce champ, avec la bonne valeur.")
    if problem == "alias":
        return "", "les alias YAML (&ancre / *alias) ne sont pas acceptés : recopiez la valeur à chaque endroit."
    if problem.startswith("tag:"):
        tag = problem[4:].replace("tag:yaml.org,2002:", "!!")
        return "", (f"les étiquettes YAML explicites ({tag}) ne sont pas acceptées : "
                    "écrivez la valeur simplement, entre guillemets si besoin.")
    if problem.startswith("nonstring-key:"):
        return "", "un nom de champ doit être du texte (ex. « statut: ouvert »)."
    return "", f"contenu YAML non accepté ({problem})."


@dataclass
class LoadedFile:
    path: Path
    relpath: str
    kind: str
    id: str
    text: str
    data: dict | None = None
    problems: list[Problem] = field(default_factory=list)


@lru_cache(maxsize=8)
def _resolved(root: Path) -> Path:
    return root.resolve()


def relative(path: Path, root: Path = ROOT, real_parents: dict[str, str] | None = None) -> str:
    """POSIX path of ``path`` relative to ``root`` (as printed in every error message).

    ``real_parents`` (folder -> its resolved form) lets a caller that names many files of the
    same folders resolve each folder once instead of every file (``validation.check``)."""
    if os.sep == "/" and isinstance(path, PurePosixPath):
        rel = _relative_posix(path, root, real_parents)
        if rel is not None:
            return rel
    absolute = path if path.is_absolute() else Path.cwd() / path
    try:
        return absolute.relative_to(_resolved(root)).as_posix()
    except ValueError:
        try:
            return path.resolve().relative_to(_resolved(root)).as_posix()
        except ValueError:
            return path.as_posix()


def _under(text: str, base: str) -> str | None:
    """``text`` relative to ``base`` (both normalised absolute POSIX paths), as ``relative_to`` says."""
    if base == "/":
        return text[1:] or "."
    if text.startswith(base):
        if len(text) == len(base):
            return "."
        if text[len(base)] == "/":
            return text[len(base) + 1:]
    return None


def _relative_posix(path: Path, root: Path, real_parents: dict[str, str] | None) -> str | None:
    """``relative`` with string operations (same result); None to let the general code decide."""
    base = str(_resolved(root))
    text = str(path)                     # a Path's text is already normalised (no "//", no "/./")
    if not text.startswith("/"):
        cwd = os.getcwd()
        text = cwd if text == "." else (cwd + "/" + text if cwd != "/" else "/" + text)
    rel = _under(text, base)
    if rel is not None:
        return rel
    # outside root: the resolved path decides; a folder is resolved once per caller
    head, _, name = text.rpartition("/")
    if real_parents is None or not head or name in ("", ".", "..") or path.is_symlink():
        return None
    real = real_parents.get(head)
    if real is None:
        real = real_parents[head] = str(Path(head).resolve())
    rel = _under(real + "/" + name if real != "/" else "/" + name, base)
    return rel if rel is not None else path.as_posix()


# ---------------------------------------------------------------- the fast path
_STR, _INT, _BOOL, _NULL = (f"tag:yaml.org,2002:{name}" for name in ("str", "int", "bool", "null"))
_CParser = getattr(getattr(yaml, "cyaml", None), "CParser", None) if getattr(yaml, "__with_libyaml__", False) else None
_NFC = unicodedata.normalize
_TRUE = frozenset(("true", "True", "TRUE"))


class _Unusual(Exception):
    """Raised by the fast path on anything it leaves to PyYAML (and on every error)."""


def _fast_load(text: str) -> Any:
    """What ``yaml.load(text, Loader=StrictLoader)`` returns, built straight from libyaml's events
    (2 to 3 times faster than PyYAML's composer and constructor, for the common case).

    It handles only what valid entry files use: one document of mappings, sequences and scalars
    without anchors, aliases or explicit tags, string keys seen once per mapping. Anything else
    (and any syntax error) raises ``_Unusual`` and ``load_text`` gives the text to PyYAML, whose
    result or error is then the answer: the fast path never changes a value nor a message."""
    if _CParser is None or None in _PLAIN_TABLE:
        raise _Unusual
    parser = _CParser(text)
    table_get = _PLAIN_TABLE.get
    try:
        get = parser.get_event
        if get().__class__ is not _StreamStart or get().__class__ is not _DocumentStart:
            raise _Unusual
        stack: list = []
        container: Any = None      # the mapping or sequence being filled, None at the top
        is_map = False
        key: Any = _NOKEY          # in a mapping: the key waiting for its value
        raw_keys: set | None = None
        root: Any = _NOKEY
        while True:
            event = get()
            cls = event.__class__
            if cls is _Scalar:
                if event.anchor is not None or event.tag is not None:
                    raise _Unusual
                value = event.value
                if event.style:                  # quoted or block scalar: always a string
                    if event.implicit[0]:
                        raise _Unusual
                    item: Any = _NFC("NFC", value)
                    text_key = True
                else:
                    if not event.implicit[0]:
                        raise _Unusual
                    tag = _STR                   # StrictLoader.resolve for a plain scalar
                    resolvers = table_get(value[0] if value else "")
                    if resolvers:
                        for candidate, regexp in resolvers:
                            if regexp.match(value):
                                tag = candidate
                                break
                    text_key = tag == _STR
                    if text_key:
                        item = _NFC("NFC", value)
                    elif tag == _INT:
                        item = int(value)
                    elif tag == _BOOL:
                        item = value in _TRUE
                    elif tag == _NULL:
                        item = None
                    else:
                        raise _Unusual
                if is_map and key is _NOKEY:
                    if not text_key or value in raw_keys:
                        raise _Unusual           # a non-string or duplicate key: PyYAML says which
                    raw_keys.add(value)
                    key = item
                    continue
            elif cls is _MappingStart or cls is _SequenceStart:
                if event.anchor is not None or event.tag is not None or (is_map and key is _NOKEY):
                    raise _Unusual
                item = {} if cls is _MappingStart else []
                if container is None:
                    if root is not _NOKEY:
                        raise _Unusual
                    root = item
                elif is_map:
                    container[key] = item
                else:
                    container.append(item)
                stack.append((container, is_map, key, raw_keys))
                container, is_map, key, raw_keys = item, cls is _MappingStart, _NOKEY, set()
                continue
            elif cls is _MappingEnd or cls is _SequenceEnd:
                if key is not _NOKEY:
                    raise _Unusual
                container, is_map, key, raw_keys = stack.pop()
                if is_map:
                    key = _NOKEY
                if container is None:
                    break
                continue
            else:
                raise _Unusual
            if container is None:                # a document that is a single scalar
                root = item
                break
            if is_map:
                container[key] = item
                key = _NOKEY
            else:
                container.append(item)
        if get().__class__ is not _DocumentEnd or get().__class__ is not _StreamEnd:
            raise _Unusual
        return root
    finally:
        parser.dispose()


_NOKEY = object()
_PLAIN_TABLE = StrictLoader.yaml_implicit_resolvers


def load_text(text: str, relpath: str) -> tuple[Any, list[Problem]]:
    """Parse one YAML document strictly. Returns (data, problems)."""
    try:
        return _fast_load(text), []
    except Exception:  # noqa: BLE001 - anything unusual or wrong: PyYAML decides, below
        pass
    try:
        return yaml.load(text, Loader=StrictLoader), []  # noqa: S506 - StrictLoader is a SafeLoader
    except yaml.constructor.ConstructorError as error:
        mark = error.problem_mark
        fld, message = _constructor_message(error)
        return None, [Problem(relpath, mark.line + 1 if mark else 0, mark.column + 1 if mark else 0, fld, message)]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        return None, [Problem(relpath, mark.line + 1 if mark else 0, mark.column + 1 if mark else 0, "",
                              _syntax_message(error))]


def kind_of(path: Path) -> str | None:
    return KIND_FOLDERS.get(path.parent.name)


def load_file(path: Path, root: Path = ROOT, raw: bytes | None = None, relpath: str | None = None) -> LoadedFile:
    """Load one entry file (``raw``: its bytes when the caller already read them; ``relpath``:
    ``relative(path, root)`` when the caller already computed it)."""
    relpath = relative(path, root) if relpath is None else relpath
    kind = kind_of(path) or ""
    loaded = LoadedFile(path=path, relpath=relpath, kind=kind, id=path.stem, text="")
    if path.is_symlink():
        loaded.problems.append(Problem(relpath, 1, 0, "", "les liens symboliques ne sont pas acceptés : remplacez-le par un vrai fichier."))
        return loaded
    if path.suffix != ".yaml":
        loaded.problems.append(Problem(relpath, 1, 0, "", "l'extension doit être « .yaml » : renommez le fichier."))
        return loaded
    if not SLUG_RE.match(path.stem):
        loaded.problems.append(Problem(
            relpath, 1, 0, "", "nom de fichier invalide : lettres minuscules sans accent, chiffres et tirets "
            f"seulement (ex. « {_suggest_slug(path.stem)}.yaml »)."))
    raw = path.read_bytes() if raw is None else raw
    if len(raw) > MAX_FILE_BYTES:
        loaded.problems.append(Problem(relpath, 1, 0, "", f"fichier trop gros ({len(raw)} octets, {MAX_FILE_BYTES} au plus) : raccourcissez les textes."))
        return loaded
    try:
        loaded.text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        loaded.problems.append(Problem(relpath, line, 0, "", "le fichier n'est pas en UTF-8 : enregistrez-le en UTF-8."))
        return loaded
    if loaded.text.startswith("\ufeff"):
        loaded.text = loaded.text[1:]
    data, problems = load_text(loaded.text, relpath)
    loaded.problems.extend(problems)
    if not problems:
        if data is None:
            loaded.problems.append(Problem(relpath, 1, 0, "", "le fichier est vide : il doit décrire une entrée (champ: valeur)."))
        elif not isinstance(data, dict):
            loaded.problems.append(Problem(relpath, 1, 0, "", "le fichier doit contenir des champs « nom: valeur », pas une liste ni un texte seul."))
        else:
            loaded.data = data
    return loaded


def _suggest_slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return slug[:80].strip("-") or "mon-entree"


def discover(paths: Iterable[Path]) -> list[Path]:
    """Entry files under the given files or folders, in a stable order.

    A folder is searched for the four kind folders (organisations/, besoins/, offres/, exemples/);
    any other file inside them (``.yml``, ``.json``) is reported rather than ignored."""
    found: set[Path] = set()
    for path in paths:
        path = Path(path)
        if path.is_dir():
            for folder in KIND_FOLDERS:
                for candidate in ([path] if path.name == folder else [path / folder]):
                    if candidate.is_dir():
                        with os.scandir(candidate) as entries:     # file types without a stat each
                            found.update(Path(e.path) for e in entries if not e.name.startswith(".")
                                         and e.name.lower() not in {"readme.md", "lisez-moi.md"} and e.is_file())
        elif path.exists() or path.is_symlink():
            found.add(path)
    return sorted(found, key=lambda p: p.as_posix())


# ---------------------------------------------------------------- locating a field in the text
def locate(text: str, path: Iterable[Any]) -> tuple[int, int]:
    """(line, column), 1-based, of the node at ``path`` in the YAML ``text``; the deepest
    existing ancestor when the path does not exist (e.g. a missing required field)."""
    try:
        node = yaml.compose(text, Loader=StrictLoader)
    except yaml.YAMLError:
        return (0, 0)
    if node is None:
        return (1, 1)
    mark = node.start_mark
    for step in path:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == step:
                    mark = value_node.start_mark
                    node = value_node
                    break
            else:
                return (mark.line + 1, mark.column + 1)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
            mark = node.start_mark
        else:
            break
    return (mark.line + 1, mark.column + 1)


def locate_key(text: str, path: Iterable[Any], key: str) -> tuple[int, int]:
    """(line, column) of the key ``key`` of the mapping at ``path`` (for unknown fields)."""
    try:
        node = yaml.compose(text, Loader=StrictLoader)
    except yaml.YAMLError:
        return (0, 0)
    for step in path:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == step), node)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            if key_node.value == key:
                return (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
    return locate(text, path)
