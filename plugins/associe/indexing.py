"""Stage 7 — search index: Pagefind over the entry pages, in French, run once per build.

``build_search_index(output_dir)`` runs the Pagefind CLI shipped by the ``pagefind[bin]``
package (``python -m pagefind``) on the finished site and writes the bundle to
``<output_dir>/pagefind/``. It raises ``SearchIndexError`` with Pagefind's own output when
anything goes wrong: a site without search must never be deployed silently.

What gets indexed is decided by the pages themselves (see ``theme/``):

* only entry pages carry ``data-pagefind-body`` (listings, territories and the home page are
  browsed, not searched), and an expired entry's page does not;
* contact blocks carry ``data-pagefind-ignore="all"`` (no e-mail in the index);
* filters (``data-pagefind-filter``) are few: kind, type de soutien, catégorie, région,
  département; ``data-pagefind-sort="date[…]"`` gives newest first.

The command line adds two guards: ``--glob`` limits the files Pagefind even opens to the four
entry folders (tens of thousands of territory and listing pages are never parsed), and
``--force-language fr`` makes one French index (stemming, accent folding) whatever a page's
``lang`` says. No ``pagefind.yml`` is needed: every option is on the command line, and the
command runs inside the output folder so that no stray configuration file is picked up.

Pagefind refuses to build an index of zero pages, yet the search page needs the bundle: when no
entry page carries ``data-pagefind-body`` (an empty directory, or ``--sans-fictifs`` on demo
content), one placeholder page made of a single word nobody types is indexed instead, so the
search page loads and every search honestly finds nothing.
"""
from __future__ import annotations

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
from pathlib import Path

log = logging.getLogger(__name__)

BUNDLE_DIR = "pagefind"
LANGUAGE = "fr"
ENTRY_FOLDERS = ("besoins", "offres", "exemples", "organisations")
ENTRY_GLOB = "{" + ",".join(ENTRY_FOLDERS) + "}/*/index.html"
TIMEOUT_S = 1800


class SearchIndexError(RuntimeError):
    """Pagefind failed; the message carries its command line and output."""


def pagefind_command(output_dir: Path) -> list[str]:
    return [
        sys.executable, "-m", "pagefind",
        "--site", str(output_dir),
        "--output-subdir", BUNDLE_DIR,
        "--glob", ENTRY_GLOB,
        "--force-language", LANGUAGE,
    ]


def build_search_index(output_dir: Path) -> None:
    """Index ``output_dir`` with Pagefind into ``output_dir/pagefind``; raise on any failure."""
    output_dir = Path(output_dir).resolve()
    if not output_dir.is_dir():
        raise SearchIndexError(f"index de recherche : le dossier du site « {output_dir} » n'existe pas.")
    bundle = output_dir / BUNDLE_DIR
    if bundle.exists():  # a previous build's fragments must not linger in this one
        shutil.rmtree(bundle)
    if has_searchable_page(output_dir):
        output = _run(pagefind_command(output_dir), output_dir)
        if "Did not find a data-pagefind-body" in output:
            raise SearchIndexError("index de recherche : aucune page n'a l'attribut data-pagefind-body ; Pagefind "
                                   f"indexerait des pages entières (contacts compris).\n{output}")
    else:
        # No entry to search (an empty directory, or only demo entries left out): Pagefind refuses
        # to build an empty index, yet the search page needs its bundle. Index one placeholder
        # page, made of a single word nobody types, so that every search honestly finds nothing.
        with tempfile.TemporaryDirectory(prefix="associe-pagefind-") as staging:
            page = Path(staging) / "recherche" / "index.html"
            page.parent.mkdir(parents=True)
            page.write_text(PLACEHOLDER_PAGE, encoding="utf-8")
            command = [sys.executable, "-m", "pagefind", "--site", staging, "--output-path", str(bundle),
                       "--force-language", LANGUAGE]
            output = _run(command, Path(staging))
    missing = [name for name in ("pagefind.js", "pagefind-ui.js", "pagefind-entry.json")
               if not (bundle / name).is_file()]
    if missing:
        raise SearchIndexError(f"index de recherche : fichiers absents du paquet Pagefind : {', '.join(missing)}.\n"
                               f"{output}")
    if not canonicalize_bundle(bundle):
        log.warning("Pagefind : format d'index inattendu, filtres laissés tels quels (la construction ne sera "
                    "pas reproductible à l'octet près pour pagefind/filter/).")
    pages = re.search(r"Indexed (\d+) pages?", output)
    log.info("Pagefind : %s page(s) indexée(s) dans %s", pages.group(1) if pages else "?", bundle)


PLACEHOLDER_PAGE = ('<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Aucune fiche</title></head>'
                    '<body><main data-pagefind-body>associeaucunefiche</main></body></html>\n')


def has_searchable_page(output_dir: Path) -> bool:
    """True when an entry page carries ``data-pagefind-body`` (usually the first file read)."""
    for folder in ENTRY_FOLDERS:
        root = output_dir / folder
        if not root.is_dir():
            continue
        for page in sorted(root.glob("*/index.html")):
            with open(page, "rb") as handle:
                if b"data-pagefind-body" in handle.read():
                    return True
    return False


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
