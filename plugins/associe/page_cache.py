"""Incremental rendering: skip the pages whose inputs did not change since the last build.

Each page gets a key, a hash of everything it is rendered from:

- the *build key*, shared by every page: this module's version, the source of the plugin's code,
  the theme's templates and the schemas (vocabulary labels), the size and date of the plugin's
  data files (geography), the versions of Pelican, Jinja, Markdown and nh3, the settings and the
  build date;
- the page's own context (``AssocieGenerator.pages()`` yields a dict per page), walked
  recursively: an ``Entry`` stands for its *fingerprint* (its data, place, status, organisation and
  the entries it links to, see ``SiteModel.fingerprint``), a ``Territory`` for its name, path and
  entries, a dataclass for its fields;
- the few values templates read from the whole site rather than from the page (``SHARED``).

A value the walk does not know makes the page uncacheable: it is rendered every time (never a
wrong skip). The keys, with each written file's size and modification time, are kept in a
manifest in ``ASSOCIE_CACHE_PATH`` (one per output folder). A page is skipped when its key is the
manifest's and its file is still the one the last build wrote (same size and date); the pages
the last build wrote and this one does not (a deleted entry, a shorter listing) are removed.

Within the pages that must be rendered again, the cards of listings and the sides of suggested
pairs whose entry did not change are read from the last build (``FragmentStore``), under the
same build key and the same entry fingerprint.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import pickle
import sys
from pathlib import Path
from typing import Any, Callable

from markupsafe import Markup

from .paths import ROOT

VERSION = 1
PLUGIN = Path(__file__).resolve().parent


_PLAIN = frozenset({str, int, float, bool, type(None)})


class Uncacheable(Exception):
    """A page context holds a value the key cannot describe: render that page every time."""


def _digest(*parts: Any) -> bytes:
    return hashlib.blake2b(repr(parts).encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _files(folder: Path, pattern: str) -> list[Path]:
    return sorted(p for p in folder.rglob(pattern) if p.is_file()) if folder.is_dir() else []


def build_key(settings: dict, build_date: dt.date, theme: str | os.PathLike) -> bytes:
    """What every page depends on besides its own context."""
    import jinja2
    import markdown
    import nh3
    import pelican

    hasher = hashlib.blake2b(digest_size=16)
    hasher.update(repr((VERSION, build_date.isoformat(), sys.version_info[:2], pelican.__version__,
                        jinja2.__version__, markdown.__version__, getattr(nh3, "__version__", ""))).encode())
    sources = [*_files(PLUGIN, "*.py"), *_files(Path(theme) / "templates", "*"), *_files(ROOT / "schemas", "*")]
    for path in sources:
        hasher.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    for path in _files(PLUGIN / "data", "*"):
        stat = path.stat()
        hasher.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    hasher.update(_settings_repr(settings).encode("utf-8", "surrogatepass"))
    return hasher.digest()


#: settings about how a build runs, not what it writes: left out of the pages' keys
RUN_SETTINGS = frozenset({"ASSOCIE_BUILD_REPORT", "ASSOCIE_BACKGROUND_EXPORTS", "ASSOCIE_BACKGROUND_INDEX"})


def _settings_repr(settings: dict) -> str:
    """The settings that can be described (plain values), but ``RUN_SETTINGS``."""
    def plain(value: Any) -> Any:
        if value is None or isinstance(value, (str, int, float, bool)):
            return value
        if isinstance(value, (list, tuple, set, frozenset)):
            items = [plain(v) for v in value]
            return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
        if isinstance(value, dict):
            return sorted(((str(k), plain(v)) for k, v in value.items()), key=repr)
        if isinstance(value, (dt.date, Path)):
            return str(value)
        return f"<{type(value).__module__}.{type(value).__qualname__}>"

    return repr(sorted((k, plain(v)) for k, v in settings.items() if k not in RUN_SETTINGS))


class KeyMaker:
    """The keys of the pages' contexts; ``fingerprint(entry)`` is given by the site model.

    Other dataclasses (gap reports, meeting kits…) may be shared between pages and link to each
    other (a report's parent and children): each is described once, its links to other
    dataclasses by their number in the order first met, and a page depends on every object it
    reaches through these links (a gap report: its whole tree; a meeting kit: itself). Pages are
    keyed together (``keys``) so that these descriptions are complete before the keys are made."""

    def __init__(self, base: bytes, fingerprint: Callable[[Any], bytes], entry_type: type,
                 territory_type: type, skip: tuple[type, ...] = ()):
        self.base = base
        self.fingerprint = fingerprint
        self.entry_type = entry_type
        self.territory_type = territory_type
        self.skip = skip
        self._numbers: dict[int, int] = {}
        self._objects: list[Any] = []          # keeps the numbered objects alive (ids stay unique)
        self._described: list[Any] = []
        self._links: list[set[int]] = []       # the objects each object links to directly
        self._met: set[int] = set()            # the objects met directly by what is being described
        self._territories: dict[int, tuple] = {}
        self._lists: dict[int, tuple] = {}
        self._keep: list[Any] = []             # keeps the described lists alive (ids stay unique)

    def keys(self, pages: list[dict], shared: Callable[[dict], Any]) -> list[bytes | None]:
        described = []
        for page in pages:
            self._met = set()
            try:
                described.append((self._walk(page), self._met))
            except (Uncacheable, RecursionError):
                described.append(None)
        digests = [_digest(item) for item in self._described]
        result: list[bytes | None] = []
        for page, item in zip(pages, described):
            if item is None:
                result.append(None)
                continue
            value, met = item
            reached, todo = set(met), list(met)
            while todo:
                for number in self._links[todo.pop()]:
                    if number not in reached:
                        reached.add(number)
                        todo.append(number)
            objects = [(number, digests[number]) for number in sorted(reached)]
            text = repr((value, shared(page), objects)).encode("utf-8", "surrogatepass")
            result.append(hashlib.blake2b(self.base + text, digest_size=16).digest())
        return result

    def _link(self, value: Any) -> Any:
        """A field declared ``compare=False`` links to other objects (a gap report's parent and
        children): an object with a ``link_view()`` stands for what a page shows of it."""
        if isinstance(value, (list, tuple)):
            return [self._link(v) for v in value]
        view = getattr(value, "link_view", None)
        if view is not None and dataclasses.is_dataclass(value):
            return ("link", self._walk(view()))
        return self._walk(value)

    def _walk(self, value: Any) -> Any:
        kind = type(value)
        if kind is str or kind is int or kind is float or kind is bool or value is None:
            return value
        if kind is self.entry_type:
            return self.fingerprint(value)
        if kind is dict:
            return [(k, v if type(v) in _PLAIN else self._walk(v)) for k, v in value.items()]
        if kind is list or kind is tuple:
            if len(value) < 16:
                return [v if type(v) in _PLAIN else self._walk(v) for v in value]
            # a long list is often the same object on many pages (a listing's filters and page
            # links, a territory's pairs): described once
            found = self._lists.get(id(value))
            if found is None:
                outer, self._met = self._met, set()
                found = (("list", _digest([v if type(v) in _PLAIN else self._walk(v) for v in value])),
                         frozenset(self._met))
                self._lists[id(value)] = found
                self._keep.append(value)
                self._met = outer
            self._met.update(found[1])
            return found[0]
        if kind is Markup:
            return ("markup", str(value))
        if kind is self.territory_type:   # shared by many pages (a commune's page holds its région): once each
            found = self._territories.get(id(value))
            if found is None:
                fingerprint = self.fingerprint
                found = self._territories[id(value)] = ("territory", _digest(
                    value.code, value.nom, value.path, [fingerprint(e) for e in value.needs],
                    [fingerprint(e) for e in value.offers], [fingerprint(e) for e in value.others],
                    [fingerprint(e) for e in value.examples], [fingerprint(e) for e in value.organisations]))
            return found
        if kind is dt.date or kind is dt.datetime:
            return ("date", value.isoformat())
        if isinstance(value, self.skip):
            return ("skip", kind.__name__)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            view = getattr(value, "key_view", None)
            if view is not None:      # the object says what pages show of it
                return ("view", kind.__qualname__, self._walk(view()))
            number = self._numbers.get(id(value))
            if number is None:
                number = self._numbers[id(value)] = len(self._objects)
                self._objects.append(value)
                self._described.append(None)
                self._links.append(set())
                outer, self._met = self._met, self._links[number]
                try:
                    self._described[number] = (kind.__qualname__, [
                        (f.name, self._walk(getattr(value, f.name)) if f.compare else self._link(getattr(value, f.name)))
                        for f in dataclasses.fields(value)])
                finally:
                    self._met = outer
            self._met.add(number)
            return ("object", number)
        if isinstance(value, (set, frozenset)):
            return ("set", sorted((self._walk(v) for v in value), key=repr))
        if isinstance(value, dict):
            return [(k, self._walk(v)) for k, v in value.items()]
        if isinstance(value, (list, tuple)):
            return [self._walk(v) for v in value]
        raise Uncacheable(kind.__qualname__)


def keys_in_two(make: Callable[[], KeyMaker], pages: list[dict], shared: Callable[[dict], Any],
                first: Callable[[dict], bool], parallel: bool = True) -> list[bytes | None]:
    """``keys`` of ``pages`` made by two ``KeyMaker``s (``make()``): one for the pages where
    ``first(page)``, one for the others, the first group keyed in a forked child
    (``forked.in_two``) while this process keys the second.

    Each group is keyed on its own, whether the child runs or not (no fork, or it failed), so the
    keys do not depend on how they were computed; ``first`` must depend on what a page is (its
    template), never on its position, so that adding a page leaves the others in their group."""
    from . import forked

    groups: tuple[list[int], list[int]] = ([], [])
    for index, page in enumerate(pages):
        groups[0 if first(page) else 1].append(index)
    ours, theirs = forked.in_two(lambda: make().keys([pages[i] for i in groups[1]], shared),
                                 lambda: make().keys([pages[i] for i in groups[0]], shared),
                                 parallel=parallel and len(groups[0]) >= 200 and len(groups[1]) >= 200)
    result: list[bytes | None] = [None] * len(pages)
    for indexes, keys in ((groups[0], theirs), (groups[1], ours)):
        for index, key in zip(indexes, keys):
            result[index] = key
    return result


def output_name(output: Path) -> str:
    """The name given, in the cache folder, to what belongs to one (resolved) output folder:
    ``pages-<name>.pickle`` (``Manifest``), ``fragments-<name>.marshal`` (``FragmentStore``)."""
    return hashlib.blake2b(str(output).encode(), digest_size=8).hexdigest()


class Manifest:
    """The files a build wrote, with their keys: ``{relative path: (key, size, mtime_ns)}`` for
    the generated pages, and the lists of the other files the build wrote (``groups``)."""

    def __init__(self, cache_dir: Path, output: Path):
        self.output = Path(output).resolve()
        name = output_name(self.output)
        self.path = Path(cache_dir) / f"pages-{name}.pickle"
        self.pages: dict[str, tuple[bytes, int, int]] = {}
        self.groups: dict[str, list[str]] = {}

    @classmethod
    def exists_for(cls, cache_dir: Path, output: Path) -> bool:
        return cls(cache_dir, output).path.is_file()

    def load(self) -> "Manifest":
        try:
            with open(self.path, "rb") as handle:
                data = pickle.load(handle)
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError):
            return self
        if isinstance(data, dict) and data.get("version") == VERSION and data.get("output") == str(self.output):
            self.pages = data.get("pages") or {}
            self.groups = data.get("groups") or {}
        return self

    def unchanged(self, relative: str, key: bytes | None) -> bool:
        """The file of ``relative`` is the one the last build wrote for the same key."""
        if key is None:
            return False
        known = self.pages.get(relative)
        if known is None or known[0] != key:
            return False
        try:
            stat = os.stat(f"{self.output}/{relative}")    # thousands of pages: no pathlib
        except OSError:
            return False
        return stat.st_size == known[1] and stat.st_mtime_ns == known[2]

    def save(self, pages: dict[str, tuple[bytes, int, int]], groups: dict[str, list[str]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
        with open(temporary, "wb") as handle:
            pickle.dump({"version": VERSION, "output": str(self.output), "pages": pages, "groups": groups},
                        handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, self.path)
        self.path.with_suffix(".path").write_text(str(self.output), encoding="utf-8")
        self._prune()

    def _prune(self) -> None:
        """Drop the manifests of output folders that no longer exist (temporary builds)."""
        for sidecar in self.path.parent.glob("pages-*.path"):
            try:
                if sidecar != self.path.with_suffix(".path") and not Path(sidecar.read_text(encoding="utf-8")).is_dir():
                    sidecar.with_suffix(".pickle").unlink(missing_ok=True)
                    # the rendered fragments of that folder (``FragmentStore``, same name)
                    sidecar.with_name(sidecar.name.replace("pages-", "fragments-", 1)).with_suffix(".marshal") \
                        .unlink(missing_ok=True)
                    sidecar.unlink(missing_ok=True)
            except OSError:
                continue

    def forget(self) -> None:
        """Drop the manifest (before a build that may leave the output half written)."""
        try:
            self.path.unlink()
        except OSError:
            pass


def stamp(output: Path, relative: str, key: bytes | None) -> tuple[bytes, int, int] | None:
    if key is None:
        return None
    stat = os.stat(f"{output}/{relative}")
    return (key, stat.st_size, stat.st_mtime_ns)


def remove_stale(output: Path, previous: set[str] | dict, current: set[str] | dict) -> list[str]:
    """Delete the files of ``previous`` (relative to ``output``) that are not in ``current``,
    then their folders left empty; never anything outside ``output``."""
    root = Path(output).resolve()
    removed = []
    folders = set()
    for relative in sorted(set(previous) - set(current)):
        path = (root / relative)
        try:
            resolved = path.resolve()
        except OSError:
            continue
        if root not in resolved.parents or not path.is_file() or path.is_symlink():
            continue
        path.unlink()
        removed.append(relative)
        folders.update(p for p in path.parents if root in p.parents)
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        try:
            folder.rmdir()   # only when empty
        except OSError:
            pass
    return removed


class FragmentStore:
    """Rendered fragments kept from one build to the next: a listing's card of an entry, a side
    of a suggested pair. Each is stored under its name (macro, kind, id, variant) with the
    fingerprint of its entry (``SiteModel.fingerprint``: everything a page may show of it) and
    is reused only for the same fingerprint, in a build of the same build key (code, templates,
    settings, date): the rule by which a whole page is skipped, applied to a piece of a page.

    Adding one entry makes dozens of listing pages render again (the newest first: every page
    after the first shifts), but their cards have not changed: they are read here instead of
    rendered (hundreds of macro calls per page). The pages are rendered by forked processes,
    each writing what it rendered to a part file (``write_part``) that the parent merges into
    the store (``save``)."""

    def __init__(self, cache_dir: Path, output: Path, base: bytes):
        # one store per output folder, named as its manifest (two sites built at once keep their own)
        name = output_name(Path(output).resolve())
        self.path = Path(cache_dir) / f"fragments-{name}.marshal"
        self.parts = Path(cache_dir) / f"fragments-{name}.parts"
        self.base = base
        self.known: dict[tuple, tuple[bytes, str]] = {}
        self.fresh: dict[tuple, tuple[bytes, str]] = {}

    def load(self) -> "FragmentStore":
        import marshal

        try:
            with open(self.path, "rb") as handle:
                data = marshal.load(handle)
        except (OSError, EOFError, ValueError, TypeError):
            return self
        if isinstance(data, dict) and data.get("version") == VERSION and data.get("base") == self.base:
            items = data.get("items")
            self.known = items if isinstance(items, dict) else {}
        return self

    def get(self, name: tuple, fingerprint: bytes) -> str | None:
        """The fragment stored under ``name`` for this ``fingerprint``, or None."""
        found = self.fresh.get(name) or self.known.get(name)
        if found is not None and found[0] == fingerprint:
            return found[1]
        return None

    def put(self, name: tuple, fingerprint: bytes, html: str) -> None:
        self.fresh[name] = (fingerprint, html)

    def write_part(self) -> None:
        """In a rendering process: what it rendered, for the parent to merge."""
        from .forked import write_part

        if not self.fresh:
            return
        self.parts.mkdir(parents=True, exist_ok=True)
        write_part(self.parts, ".part", {"base": self.base, "items": self.fresh})

    def save(self, alive: Callable[[tuple], bool]) -> None:
        """Merge the parts of the rendering processes, keep the fragments whose name ``alive``
        accepts (an entry still published), write the store for the next build."""
        import marshal

        from .forked import read_parts

        items = dict(self.known)
        for fresh in read_parts(self.parts, ".part"):
            if fresh.get("base") == self.base and isinstance(fresh.get("items"), dict):
                items.update(fresh["items"])
        self.clear_parts()
        items.update(self.fresh)
        items = {name: value for name, value in items.items() if alive(name)}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
        with open(temporary, "wb") as handle:
            marshal.dump({"version": VERSION, "base": self.base, "items": items}, handle)
        os.replace(temporary, self.path)

    def clear_parts(self) -> None:
        """Parts left by an interrupted build (never merged: they may be of another build key)."""
        for part in self.parts.glob("*") if self.parts.is_dir() else ():
            part.unlink(missing_ok=True)
