"""Stage 7 — search index: Pagefind over the entry pages, in French, in a few bundles ("lots").

``build_search_index(output_dir)`` runs the Pagefind CLI shipped by the ``pagefind[bin]``
package (the program ``python -m pagefind`` runs) and writes the search bundle to ``<output_dir>/pagefind/``. It
raises ``SearchIndexError`` with Pagefind's own output when anything goes wrong: a site without
search must never be deployed silently.

What gets indexed is decided by the pages themselves (see ``theme/``):

* only entry pages carry ``data-pagefind-body`` (listings, territories and the home page are
  browsed, not searched), and an expired entry's page does not;
* contact blocks carry ``data-pagefind-ignore="all"`` (no e-mail in the index);
* filters (``data-pagefind-filter``) are few: kind, type de soutien, catégorie, région,
  département, taille; ``data-pagefind-sort="date[…]"`` gives newest first.

How the work is kept small (issue #6):

* **Only what is searched is fed to Pagefind.** Each entry page (``besoins``, ``offres``,
  ``exemples``, ``organisations``) is read once; the element carrying ``data-pagefind-body`` is
  cut out of it and Pagefind reads that element alone, from a staging folder (a third of the
  page, none of the header, menu, footer or suggestions). A page with Pagefind attributes
  outside that element is staged whole, so nothing Pagefind would have seen is lost. Each sort
  key (``data-pagefind-sort``) is also copied to the page's metadata (``data-pagefind-meta``),
  so the search page can order results of several bundles by date.
* **Several bundles, merged in the browser.** The pages are split into lots: needs, offers, and examples
  with organisations (``LOT_GROUPS``), a group of more than ``LOT_PAGES`` pages being split
  again by a stable hash of the page's URL. Each lot is a Pagefind bundle of its own in ``pagefind/<lot>/`` (index, fragments and
  filters only), at most two at once and a lot of more than ``LARGE_LOT`` pages alone (``_Slots``),
  so Pagefind's memory stays that of one large lot. The
  main bundle ``pagefind/`` (Pagefind's JavaScript and WebAssembly, and one placeholder page
  made of a single word nobody types) never depends on the content; ``recherche.js`` reads the
  list of lots in ``pagefind/associe-lots.json`` and merges them (Pagefind's ``mergeIndex``).
* **A lot is rebuilt only when what it indexes changed.** Its fingerprint (Pagefind's version,
  this module's staging format, the URL and staged HTML of each of its pages) is kept in
  ``associe-lots.json``; an unchanged lot's folder is kept as is from the previous build (the
  output folder survives between builds). Adding one need re-runs Pagefind for one lot only.

The output is a function of the pages alone: two builds of the same site, from scratch or over
a previous output, give the same bytes (``canonicalize_bundle`` removes Pagefind's hash-map
order). No ``pagefind.yml`` is read: every option is on the command line, and Pagefind runs
inside the staging folder.

Pagefind refuses to build an index of zero pages, and the search page needs the main bundle
anyway: when no entry page carries ``data-pagefind-body`` (an empty directory, or
``--sans-fictifs`` on demo content), the bundle holds only the placeholder page and no lot, so
the search page loads and every search honestly finds nothing.
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import gzip
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

BUNDLE_DIR = "pagefind"
MANIFEST = "associe-lots.json"
LANGUAGE = "fr"
ENTRY_FOLDERS = ("besoins", "offres", "exemples", "organisations")
# Needs and offers are a lot each; examples and organisations (fewer, added less often) share one:
# every lot costs a search one more index chunk (10 to 20 KB) and its own small files.
LOT_GROUPS = (("besoins",), ("offres",), ("exemples", "organisations"))
LOT_PAGES = 10_000        # a group with more pages is split into ceil(pages / LOT_PAGES) lots
STAGING_FORMAT = 1        # bump when the staged HTML changes: every lot is then rebuilt
TIMEOUT_S = 1800
LARGE_LOT = LOT_PAGES // 2  # a lot of more pages is indexed alone (memory, see _Slots)
PARALLEL_LOTS = 2          # Pagefind runs at once (the build machine has 2 cores)
MAIN_FILES = ("pagefind.js", "pagefind-ui.js", "pagefind-entry.json", f"wasm.{LANGUAGE}.pagefind")
LOT_KEEP = ("pagefind-entry.json", "fragment", "index", "filter")      # plus pagefind.*.pf_meta
BUNDLE_DATA_DIRS = ("fragment", "index", "filter")


class _Slots:
    """How many lots Pagefind indexes at once (``limit``, at most ``PARALLEL_LOTS``): each Pagefind
    run holds a few hundred MB (≈ 80 KB per page). ``associe build`` indexes while the other pages
    are still being written, one lot at a time, then raises the limit (``set_limit``) once they
    are. A lot of more than ``LARGE_LOT`` pages takes two slots (``slot(2)``): it runs alone (at
    50,000 entries, two such lots at once took the build over 3 GB)."""

    def __init__(self, limit: int = PARALLEL_LOTS):
        self.limit = limit
        self._busy = 0
        self._changed = threading.Condition()

    def set_limit(self, limit: int) -> None:
        with self._changed:
            self.limit = limit
            self._changed.notify_all()

    @contextlib.contextmanager
    def slot(self, weight: int = 1):
        """Wait until nothing runs, or until ``weight`` more slots fit under the limit."""
        with self._changed:
            while self._busy and self._busy + weight > self.limit:
                self._changed.wait()
            self._busy += weight
        try:
            yield
        finally:
            with self._changed:
                self._busy -= weight
                self._changed.notify_all()


SLOTS = _Slots()


class SearchIndexError(RuntimeError):
    """Pagefind failed; the message carries its command line and output."""


@functools.lru_cache(maxsize=1)
def pagefind_program() -> tuple[str, ...]:
    """The Pagefind program ``python -m pagefind`` runs (``pagefind[bin]``), called directly: one
    interpreter start less per run; ``python -m pagefind`` if it cannot be found here."""
    try:
        from pagefind.service import get_executable
        binary = get_executable()
    except ImportError:  # pragma: no cover - only the command line is installed
        binary = None
    return (str(binary),) if binary else (sys.executable, "-m", "pagefind")


def pagefind_command(site: Path, bundle: Path) -> list[str]:
    """Pagefind over the staging folder ``site``, writing the bundle to ``bundle``."""
    return [
        *pagefind_program(),
        "--site", str(site),
        "--output-path", str(bundle),
        "--force-language", LANGUAGE,
    ]


@dataclass
class Lot:
    """One Pagefind bundle: ``pagefind/<name>/``, made of ``pages`` (URL path, staged HTML)."""
    name: str
    pages: list[tuple[str, str]] = field(default_factory=list)
    fingerprint: str = ""

    def sorts(self) -> list[str]:
        """Sort keys of its pages: the search page sorts by date only the lots that have dates
        (Pagefind ignores a sort its bundle does not know, and would return undated pages)."""
        return sorted({match.group(1) for _, html in self.pages for match in _SORT_KEY.finditer(html)})


def build_search_index(output_dir: Path) -> None:
    """Index ``output_dir`` with Pagefind into ``output_dir/pagefind``; raise on any failure."""
    output_dir = Path(output_dir).resolve()
    if not output_dir.is_dir():
        raise SearchIndexError(f"index de recherche : le dossier du site « {output_dir} » n'existe pas.")
    bundle = output_dir / BUNDLE_DIR
    version = pagefind_version()
    main_fingerprint = _fingerprint(version, "principal", [("/recherche/", PLACEHOLDER_PAGE)])

    previous = read_manifest(bundle)
    if previous is None or previous.get("pagefind") != version:
        if bundle.exists():      # another layout or version: nothing of it is reused
            shutil.rmtree(bundle)
        previous = {}
    bundle.mkdir(parents=True, exist_ok=True)
    old_lots = {lot.get("nom"): lot for lot in previous.get("lots", []) if isinstance(lot, dict)}
    kept = {name: lot.get("empreinte") for name, lot in old_lots.items()}
    main_todo = previous.get("principal") != main_fingerprint or not all((bundle / n).is_file() for n in MAIN_FILES)
    lots: list[Lot] = []
    rebuilt: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="associe-pagefind-", dir=_staging_root()) as staging, \
            concurrent.futures.ThreadPoolExecutor(max_workers=PARALLEL_LOTS) as pool:
        # Pagefind runs as another program and keeps one core busy only part of the time: two runs
        # at once use both cores, and each lot starts as soon as its pages are read (the next
        # group's pages are read meanwhile). The lots are independent folders; ``SLOTS`` keeps a
        # large lot alone, so the peak is that of one large lot or of two small ones.
        jobs: list[concurrent.futures.Future] = []

        def submit(function, *args) -> None:
            if not jobs:
                # written again last: a build stopped half-way leaves no manifest, and the next
                # build starts afresh instead of trusting folders that may not match it
                (bundle / MANIFEST).unlink(missing_ok=True)
            jobs.append(pool.submit(function, *args))

        if main_todo:        # the main bundle is one page: no slot
            submit(_build_main, bundle, Path(staging))
        for group in LOT_GROUPS:
            for lot in plan_lots({folder: _staged_folder(output_dir, folder) for folder in group}, version):
                lots.append(lot)
                if kept.get(lot.name) != lot.fingerprint or not (bundle / lot.name / "pagefind-entry.json").is_file():
                    rebuilt.add(lot.name)
                    submit(_build_lot_in_slot, lot, bundle, Path(staging))
        # what no lot of this build owns (its lot's folder, or the temporary folder of a lot being
        # indexed): lots of an earlier build, or left by a build stopped half-way
        owned = {lot.name for lot in lots} | {f".{name}.tmp" for name in rebuilt} | set(BUNDLE_DATA_DIRS)
        stale = [p for p in bundle.iterdir() if p.is_dir() and p.name not in owned]
        if stale:
            (bundle / MANIFEST).unlink(missing_ok=True)
        for path in stale:
            shutil.rmtree(path)
        for job in jobs:
            job.result()
    manifest = {"format": STAGING_FORMAT, "pagefind": version, "principal": main_fingerprint,
                "lots": [{"nom": lot.name, "pages": len(lot.pages),
                          "tris": lot.sorts() if lot.name in rebuilt else old_lots[lot.name].get("tris", lot.sorts()),
                          "empreinte": lot.fingerprint} for lot in lots]}
    (bundle / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, separators=(",", ":")) + "\n",
                                   encoding="utf-8")
    log.info("Pagefind : %d page(s) indexée(s) en %d lot(s) dans %s (%d lot(s) reconstruit(s)%s)",
             sum(len(lot.pages) for lot in lots), len(lots), bundle, len(rebuilt),
             ", paquet principal reconstruit" if main_todo else "")


PLACEHOLDER_PAGE = ('<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Aucune fiche</title></head>'
                    '<body><main data-pagefind-body>associeaucunefiche</main></body></html>\n')


def read_manifest(bundle: Path) -> dict | None:
    """The previous build's ``associe-lots.json``, or None if absent, unreadable or of another format."""
    try:
        manifest = json.loads((bundle / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != STAGING_FORMAT \
            or not isinstance(manifest.get("lots"), list):
        return None
    return manifest


def pagefind_version() -> str:
    """``pagefind --version`` (e.g. ``1.5.2``): part of every fingerprint."""
    output = _run([*pagefind_program(), "--version"], Path.cwd())
    return output.split("\n", 1)[-1].strip().rsplit(" ", 1)[-1] if output else "?"


# ------------------------------------------------------------------------------ staging
_TAG_NAME = re.compile(r"<([A-Za-z][A-Za-z0-9-]*)")
_CAPTURED = ("filter", "meta", "sort", "default-meta", "body")     # data-pagefind-… read anywhere in a page
_CLOSING: dict[str, re.Pattern] = {}
_SORT_KEY = re.compile(r'\sdata-pagefind-sort="([^"\[:]+)')
_PAGE_START = f'<!doctype html><html lang="{LANGUAGE}"><head><meta charset="utf-8"></head><body>'
_PAGE_END = "</body></html>\n"


def stage_page(html: str) -> str | None:
    """The HTML Pagefind needs from an entry page: its ``data-pagefind-body`` element alone in an
    empty page (the whole page when Pagefind attributes lie outside that element), each sort key
    also given as metadata. None when the page is not searchable (no ``data-pagefind-body``).
    Plain string searches, not regular expressions over the page: this runs on every entry page
    of every build."""
    found = html.find("data-pagefind-body")
    while found >= 0:
        start = html.rfind("<", 0, found)
        close = html.find(">", start)
        if start >= 0 and found < close and html[found - 1].isspace() and html[found + 18] in " \t\r\n=/>":
            break
        found = html.find("data-pagefind-body", found + 1)
    else:
        return None
    tag = _TAG_NAME.match(html, start)
    end = _element_end(html, tag.group(1), close + 1) if tag else None
    if end is None or _captured(html, 0, start) or _captured(html, end, len(html)):
        staged = html          # unusual page: Pagefind reads all of it, as before
    else:
        staged = _PAGE_START + html[start:end] + _PAGE_END
    return _sort_as_meta(staged)


def _captured(html: str, start: int, end: int) -> bool:
    """True if a Pagefind attribute that counts outside the body (filter, meta, sort…) is in html[start:end]."""
    at = html.find("data-pagefind-", start, end)
    while at >= 0:
        name = html[at + 14:at + 30]
        if any(name.startswith(word) and not name[len(word):len(word) + 1].isalnum() for word in _CAPTURED):
            return True
        at = html.find("data-pagefind-", at + 14, end)
    return False


def _element_end(html: str, tag: str, start: int) -> int | None:
    """End of the element whose opening tag ends at ``start`` (nested elements of the same name counted)."""
    pattern = _CLOSING.get(tag.lower())
    if pattern is None:
        pattern = _CLOSING[tag.lower()] = re.compile(rf"<(/?){re.escape(tag)}(?=[\s/>])[^>]*>", re.IGNORECASE)
    depth = 1
    for match in pattern.finditer(html, start):
        if match.group(1):
            depth -= 1
            if depth == 0:
                return match.end()
        elif not match.group(0).endswith("/>"):
            depth += 1
    return None


def _sort_as_meta(html: str) -> str:
    """Give each ``data-pagefind-sort="key[attr]"`` a matching ``data-pagefind-meta`` (merged bundles
    are ordered by date in the browser, from each result's metadata)."""
    marker = ' data-pagefind-sort="'
    at = html.find(marker)
    if at < 0:
        return html
    parts, done = [], 0
    while at >= 0:
        value_end = html.find('"', at + len(marker))
        start, close = html.rfind("<", 0, at), html.find(">", at)
        if value_end < 0 or close < value_end:
            break
        if "data-pagefind-meta" not in html[start:close]:
            parts.append(html[done:value_end + 1])
            parts.append(f' data-pagefind-meta="{html[at + len(marker):value_end]}"')
            done = value_end + 1
        at = html.find(marker, value_end)
    parts.append(html[done:])
    return "".join(parts)


def _staged_folder(output_dir: Path, folder: str) -> list[tuple[str, str]]:
    """[(URL path, staged HTML)] of the searchable entry pages of one kind folder, in folder order."""
    root = output_dir / folder
    pages: list[tuple[str, str]] = []
    if not root.is_dir():
        return pages
    base = str(root)
    for name in sorted(entry.name for entry in os.scandir(root) if entry.is_dir()):
        try:
            with open(f"{base}/{name}/index.html", "rb") as handle:
                html = handle.read().decode("utf-8")
        except FileNotFoundError:
            continue
        staged = stage_page(html)
        if staged is not None:
            pages.append((f"/{folder}/{name}/", staged))
    return pages


def plan_lots(pages: dict[str, list[tuple[str, str]]], version: str) -> list[Lot]:
    """Lots in a fixed order: one per group of ``LOT_GROUPS``, or ``<group>-1``… ``<group>-n``
    (n = ceil(pages / LOT_PAGES)) by a hash of the page's URL, so that a page stays in its lot
    while the count of lots is unchanged."""
    lots = []
    for group in LOT_GROUPS:
        name = "-".join(group)
        group_pages = [page for folder in group for page in pages.get(folder, [])]
        if not group_pages:
            continue
        parts = -(-len(group_pages) // LOT_PAGES)
        if parts == 1:
            group_lots = [Lot(name, group_pages)]
        else:
            group_lots = [Lot(f"{name}-{i + 1}") for i in range(parts)]
            for url, html in group_pages:
                group_lots[int(hashlib.sha256(url.encode("utf-8")).hexdigest()[:12], 16) % parts].pages.append((url, html))
        for lot in group_lots:
            if lot.pages:
                lot.fingerprint = _fingerprint(version, lot.name, lot.pages)
                lots.append(lot)
    return lots


def _fingerprint(version: str, name: str, pages: list[tuple[str, str]]) -> str:
    digest = hashlib.sha256(f"{version}\0{STAGING_FORMAT}\0{LANGUAGE}\0{name}\0".encode("utf-8"))
    for url, html in pages:
        digest.update(url.encode("utf-8") + b"\0" + html.encode("utf-8") + b"\0")
    return digest.hexdigest()


# ------------------------------------------------------------------------------ running Pagefind
def _staging_root() -> str | None:
    """A memory file system for the staging folder when there is one (thousands of small files
    written, read once and deleted: on a disk, creating and deleting them costs more than
    Pagefind's own work); else the usual temporary folder."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else None


def _stage(folder: Path, pages: list[tuple[str, str]]) -> None:
    """Each page as ``<folder>/<url>/index.html`` (system calls: thousands of pages, and
    ``pathlib`` cost more than the writing itself)."""
    base = str(folder)
    made: set[str] = set()
    for url, html in pages:
        page = f"{base}/{url.strip('/')}"
        parent = os.path.dirname(page)
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
        os.mkdir(page)
        handle = os.open(f"{page}/index.html", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(handle, html.encode("utf-8"))
        finally:
            os.close(handle)


def _unstage(folder: Path, pages: list[tuple[str, str]]) -> None:
    """Remove what ``_stage`` wrote: each page's file and folder, then what remains (the kind
    folders); much cheaper than walking the tree (``shutil.rmtree``) page by page."""
    base = str(folder)
    for url, _html in pages:
        page = f"{base}/{url.strip('/')}"
        try:
            os.unlink(f"{page}/index.html")
            os.rmdir(page)
        except OSError:
            pass            # left to rmtree below
    shutil.rmtree(folder)


def _pagefind(site: Path, target: Path, expected: int) -> str:
    """Run Pagefind over ``site`` into ``target``; check the page count and the bundle's files."""
    if target.exists():
        shutil.rmtree(target)
    output = _run(pagefind_command(site, target), site)
    pages = re.search(r"Indexed (\d+) pages?", output)
    if pages is None or int(pages.group(1)) != expected:
        raise SearchIndexError(f"index de recherche : Pagefind a indexé {pages.group(1) if pages else '?'} page(s) "
                               f"sur {expected} dans {target.name}.\n{output}")
    if not (target / "pagefind-entry.json").is_file():
        raise SearchIndexError(f"index de recherche : fichier absent du paquet Pagefind {target.name} : "
                               f"pagefind-entry.json.\n{output}")
    if not canonicalize_bundle(target):
        log.warning("Pagefind : format d'index inattendu, filtres laissés tels quels (la construction ne sera "
                    "pas reproductible à l'octet près pour pagefind/filter/).")
    return output


def _build_main(bundle: Path, staging: Path) -> None:
    """The main bundle: Pagefind's scripts and WebAssembly, and the placeholder page's index."""
    site = staging / "principal"
    _stage(site, [("/recherche/", PLACEHOLDER_PAGE)])
    target = staging / "principal-paquet"
    output = _pagefind(site, target, 1)
    missing = [name for name in MAIN_FILES if not (target / name).is_file()]
    if missing:
        raise SearchIndexError(f"index de recherche : fichiers absents du paquet Pagefind : {', '.join(missing)}.\n"
                               f"{output}")
    for path in bundle.iterdir():   # the previous main bundle; lots and the manifest stay
        if path.is_file() and path.name != MANIFEST:
            path.unlink()
        elif path.is_dir() and path.name in BUNDLE_DATA_DIRS:
            shutil.rmtree(path)
    for path in sorted(target.iterdir()):
        shutil.move(str(path), str(bundle / path.name))


def _build_lot_in_slot(lot: Lot, bundle: Path, staging: Path) -> None:
    with SLOTS.slot(2 if len(lot.pages) > LARGE_LOT else 1):
        _build_lot(lot, bundle, staging)


def _build_lot(lot: Lot, bundle: Path, staging: Path) -> None:
    """Pagefind over the lot's staged pages. A new lot is written beside the bundle then renamed;
    a lot already in the output is rebuilt in the staging folder (in memory when there is one)
    and only the files that differ are copied over (``_sync``): Pagefind names fragments and
    index chunks after their content, so adding one page changes a few files out of thousands,
    and on a disk creating and deleting thousands of files costs more than indexing them."""
    site = staging / lot.name
    _stage(site, lot.pages)
    final = bundle / lot.name
    target = staging / f"{lot.name}-paquet" if final.is_dir() else bundle / f".{lot.name}.tmp"
    _pagefind(site, target, len(lot.pages))
    _unstage(site, lot.pages)
    for path in target.iterdir():   # merged bundles need their index only (scripts come from the main one)
        if path.name in LOT_KEEP or (path.name.startswith("pagefind.") and path.name.endswith(".pf_meta")):
            continue
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    if final.is_dir():
        _sync(target, final)
        shutil.rmtree(target)
    else:
        target.rename(final)


def _sync(source: Path, target: Path) -> None:
    """Make ``target`` hold exactly the files of ``source``, byte for byte, writing only the files
    that are new or differ and deleting the others."""
    wanted: set[str] = set()
    for folder, _dirs, names in os.walk(source):
        relative = Path(folder).relative_to(source)
        (target / relative).mkdir(parents=True, exist_ok=True)
        for name in names:
            wanted.add((relative / name).as_posix())
            new, old = Path(folder) / name, target / relative / name
            content = new.read_bytes()
            try:
                if old.stat().st_size == len(content) and old.read_bytes() == content:
                    continue
            except FileNotFoundError:
                pass
            old.write_bytes(content)
    for folder, dirs, names in os.walk(target, topdown=False):
        relative = Path(folder).relative_to(target)
        for name in names:
            if (relative / name).as_posix() not in wanted:
                (Path(folder) / name).unlink()
        for name in dirs:
            if not (source / relative / name).is_dir():
                (Path(folder) / name).rmdir()


def _run(command: list[str], cwd: Path) -> str:
    """Run Pagefind; return its output, or raise ``SearchIndexError`` with it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAGEFIND_")}
    try:
        completed = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                                   encoding="utf-8", errors="replace", timeout=TIMEOUT_S, check=False)
    except FileNotFoundError as exc:  # pragma: no cover - broken interpreter
        raise SearchIndexError(f"index de recherche : impossible de lancer Pagefind ({exc}).") from exc
    except subprocess.TimeoutExpired as exc:
        raise SearchIndexError(f"index de recherche : Pagefind n'a pas fini en {TIMEOUT_S} s.\n"
                               f"{_output(exc.stdout, exc.stderr)}") from exc
    output = _output(completed.stdout, completed.stderr)
    if completed.returncode != 0:
        raise SearchIndexError(
            f"index de recherche : Pagefind a échoué (code {completed.returncode}).\n"
            f"Commande : {' '.join(command)}\n{output}")
    if re.search(r"^\s*error\b", output, re.IGNORECASE | re.MULTILINE):
        raise SearchIndexError(f"index de recherche : Pagefind a signalé une erreur.\n{output}")
    return output


# ------------------------------------------------------------------------------ reproducible bundle
# Pagefind 1.5 writes its filter indexes from hash maps: the order of a filter's values, hence the
# bytes and names of ``filter/*.pf_filter``, of ``pagefind.<hash>.pf_meta`` and the hash in
# ``pagefind-entry.json``, change from run to run (Pagefind issue #638: fragments are stable
# since 1.3, "other files will still change"). ``canonicalize_bundle`` sorts them, rewrites the
# files and renames them after a hash of their new content, so that two builds of the same site
# are byte-identical. It only touches structures it fully understands: every file is first
# decoded and re-encoded, and left alone unless that round trip gives back the exact bytes.

_SIGNATURE = b"pagefind_dcd"


class _Raw(bytes):
    """A CBOR simple value or float, kept as its encoded bytes."""


def _cbor_decode(data: bytes, i: int = 0):
    head = data[i]
    major, info = head >> 5, head & 31
    i += 1
    if major == 7:
        size = {20: 0, 21: 0, 22: 0, 23: 0, 25: 2, 26: 4, 27: 8}.get(info)
        if size is None:
            raise ValueError(f"CBOR simple value {info}")
        return _Raw(data[i - 1:i + size]), i + size
    if info < 24:
        value = info
    elif info in (24, 25, 26, 27):
        size = 1 << (info - 24)
        value, i = int.from_bytes(data[i:i + size], "big"), i + size
    else:
        raise ValueError("indefinite CBOR length")
    if major == 0:
        return value, i
    if major == 1:
        return -1 - value, i
    if major == 2:
        return bytes(data[i:i + value]), i + value
    if major == 3:
        return data[i:i + value].decode("utf-8"), i + value
    if major == 4:
        items = []
        for _ in range(value):
            item, i = _cbor_decode(data, i)
            items.append(item)
        return items, i
    if major == 5:
        mapping = {}
        for _ in range(value):
            key, i = _cbor_decode(data, i)
            mapping[key], i = _cbor_decode(data, i)
        return mapping, i
    raise ValueError(f"CBOR major type {major}")


def _cbor_head(major: int, value: int) -> bytes:
    if value < 24:
        return bytes([major << 5 | value])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if value < 1 << (8 * size):
            return bytes([major << 5 | info]) + value.to_bytes(size, "big")
    raise ValueError("CBOR integer too large")


def _cbor_encode(value) -> bytes:
    if isinstance(value, _Raw):
        return bytes(value)
    if isinstance(value, bool) or value is None:
        raise TypeError("booleans are kept as raw CBOR")
    if isinstance(value, int):
        return _cbor_head(0, value) if value >= 0 else _cbor_head(1, -1 - value)
    if isinstance(value, bytes):
        return _cbor_head(2, len(value)) + value
    if isinstance(value, str):
        encoded = value.encode("utf-8")
        return _cbor_head(3, len(encoded)) + encoded
    if isinstance(value, list):
        return _cbor_head(4, len(value)) + b"".join(_cbor_encode(v) for v in value)
    if isinstance(value, dict):
        return _cbor_head(5, len(value)) + b"".join(_cbor_encode(k) + _cbor_encode(v) for k, v in value.items())
    raise TypeError(type(value).__name__)


def _read_pagefind_file(path: Path):
    """(decoded CBOR value) of a gzip ``pagefind_dcd`` file, or None if not byte-for-byte understood."""
    raw = gzip.decompress(path.read_bytes())
    if not raw.startswith(_SIGNATURE):
        return None
    body = raw[len(_SIGNATURE):]
    value, end = _cbor_decode(body)
    if end != len(body) or _cbor_encode(value) != body:
        return None
    return value


def _write_pagefind_file(folder: Path, prefix: str, suffix: str, value, hash_length: int, taken: set[str]) -> str:
    body = _cbor_encode(value)
    digest = hashlib.sha256(body).hexdigest()
    length = hash_length
    while f"{prefix}{digest[:length]}" in taken and length < len(digest):
        length += 1
    name = f"{prefix}{digest[:length]}"
    taken.add(name)
    (folder / suffix.format(name)).write_bytes(gzip.compress(_SIGNATURE + body, compresslevel=9, mtime=0))
    return name


def canonicalize_bundle(bundle: Path) -> bool:
    """Make Pagefind's filter and meta files independent of hash-map order; False if the
    bundle's format is not the one understood here (then nothing is changed)."""
    try:
        entry_path = bundle / "pagefind-entry.json"
        entry_text = entry_path.read_text(encoding="utf-8")
        entry = json.loads(entry_text)
        if json.dumps(entry, ensure_ascii=False, separators=(",", ":")) != entry_text:
            return False
        plans = []
        for language, info in entry["languages"].items():
            meta_hash = info["hash"]
            meta_path = bundle / f"pagefind.{meta_hash}.pf_meta"
            meta = _read_pagefind_file(meta_path)
            if not (isinstance(meta, list) and len(meta) >= 5 and isinstance(meta[3], list)
                    and isinstance(meta[4], list)):
                return False
            filters = []
            for item in meta[3]:
                if not (isinstance(item, list) and len(item) == 2 and all(isinstance(x, str) for x in item)):
                    return False
                name, filter_hash = item
                path = bundle / "filter" / f"{filter_hash}.pf_filter"
                index = _read_pagefind_file(path)
                if not (isinstance(index, list) and len(index) == 2 and index[0] == name
                        and isinstance(index[1], list)
                        and all(isinstance(v, list) and len(v) == 2 and isinstance(v[0], str)
                                and isinstance(v[1], list) for v in index[1])):
                    return False
                filters.append((name, filter_hash, path, index))
            if not all(isinstance(s, list) and s and isinstance(s[0], str) for s in meta[4]):
                return False
            plans.append((language, meta_hash, meta_path, meta, filters))
    except (OSError, ValueError, KeyError, TypeError, EOFError, gzip.BadGzipFile):
        return False

    for language, meta_hash, meta_path, meta, filters in plans:
        prefix = meta_hash.rsplit("_", 1)[0] + "_" if "_" in meta_hash else ""
        taken: set[str] = set()
        new_filters = []
        for name, filter_hash, path, index in sorted(filters, key=lambda f: f[0]):
            index[1].sort(key=lambda value: value[0])
            path.unlink()
            new_hash = _write_pagefind_file(bundle / "filter", prefix, "{}.pf_filter", index,
                                            len(filter_hash) - len(prefix), taken)
            new_filters.append([name, new_hash])
        meta[3] = new_filters
        meta[4].sort(key=lambda s: s[0])
        meta_path.unlink()
        entry["languages"][language]["hash"] = _write_pagefind_file(
            bundle, prefix, "pagefind.{}.pf_meta", meta, len(meta_hash) - len(prefix), set())
    (bundle / "pagefind-entry.json").write_text(json.dumps(entry, ensure_ascii=False, separators=(",", ":")),
                                                 encoding="utf-8")
    return True


def _output(stdout: str | bytes | None, stderr: str | bytes | None) -> str:
    parts = []
    for name, text in (("sortie", stdout), ("erreurs", stderr)):
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        if text and text.strip():
            parts.append(f"--- {name} de Pagefind ---\n{text.strip()}")
    return "\n".join(parts)
