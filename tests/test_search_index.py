"""The Pagefind index of a real build of the fixture directory (tests/fixtures/exports/).

Pagefind fragments (``pagefind/<lot>/fragment/*.pf_fragment``) are gzip files holding a
``pagefind_dcd`` signature then the JSON of one page (url, content, filters, meta): reading them
shows exactly what a visitor's browser can download and search. The main bundle ``pagefind/``
holds Pagefind's scripts and one placeholder page; the entries are in lots (one bundle per kind,
listed in ``pagefind/associe-lots.json``) merged by the search page."""
from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from associe import indexing

FIXTURE = Path(__file__).parent / "fixtures" / "exports"
BUILD_DATE = dt.date(2026, 11, 20)
LISTED = {
    "/besoins/ordinateurs-portables-dijon/", "/besoins/outils-jardin-beaune/", "/besoins/bacs-potagers-brest/",
    "/offres/parc-informatique-chenove/", "/offres/chutes-bois-brest/",
    "/exemples/banque-alimentaire-ibm/", "/exemples/compost-beaune/",
}
ORGANISATIONS = {"/organisations/atelier-numerique-dijon/", "/organisations/informatique-chenove/",
                 "/organisations/jardins-partages-beaune/", "/organisations/menuiserie-brest/"}
EXPIRED = {"/besoins/entrepot-frigorifique-dijon/", "/offres/ecrans-cathodiques-chenove/"}
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def fragments(output: Path, folder: str = "*") -> dict[str, dict]:
    """url -> the page record Pagefind serves to browsers, from the lots (``folder`` = one lot's
    name; "" = the main bundle, i.e. the placeholder page)."""
    pages = {}
    pattern = f"{folder}/fragment/*.pf_fragment" if folder else "fragment/*.pf_fragment"
    for path in sorted((output / "pagefind").glob(pattern)):
        raw = gzip.decompress(path.read_bytes())
        assert raw.startswith(b"pagefind_dcd")
        record = json.loads(raw[len(b"pagefind_dcd"):])
        pages[record["url"]] = record
    return pages


def manifest(output: Path) -> dict:
    return json.loads((output / "pagefind" / "associe-lots.json").read_text(encoding="utf-8"))


def bundle_files(output: Path) -> dict[str, bytes]:
    root = output / "pagefind"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    from associe.build import build_site

    output = tmp_path_factory.mktemp("search") / "output"
    status = build_site(output=output, build_date=BUILD_DATE, content=FIXTURE, include_fictitious=True,
                        search_index=True)
    assert status == 0
    return output


def test_the_bundle_exists_with_one_french_index_per_lot(built):
    bundle = built / "pagefind"
    for name in ("pagefind.js", "pagefind-ui.js", "pagefind-ui.css", "pagefind-entry.json", "wasm.fr.pagefind",
                 "associe-lots.json"):
        assert (bundle / name).is_file(), name
    assert list(fragments(built, "")) == ["/recherche/"]          # the main bundle: placeholder only
    lots = manifest(built)["lots"]
    assert [lot["nom"] for lot in lots] == ["besoins", "offres", "exemples-organisations"]
    # the search page sorts by date only the lots with dates (Pagefind ignores an unknown sort)
    assert all(lot["tris"] == ["date"] for lot in lots)
    for lot in lots:
        folder = bundle / lot["nom"]
        entry = json.loads((folder / "pagefind-entry.json").read_text(encoding="utf-8"))
        assert list(entry["languages"]) == ["fr"]
        assert entry["languages"]["fr"]["page_count"] == len(fragments(built, lot["nom"])) == lot["pages"]
        # a merged bundle needs its index only: scripts and WebAssembly come from the main bundle
        assert not list(folder.glob("*.js")) and not list(folder.glob("wasm.*"))
        kinds = lot["nom"].split("-")
        assert all(url.split("/")[1] in kinds for url in fragments(built, lot["nom"]))


def test_only_listed_entry_pages_are_indexed(built):
    urls = set(fragments(built))
    assert LISTED <= urls
    assert urls <= LISTED | ORGANISATIONS, f"unexpected pages in the index: {sorted(urls - LISTED - ORGANISATIONS)}"
    assert not urls & EXPIRED, "an expired entry is still searchable"
    for listing in ("/", "/besoins/", "/offres/", "/exemples/", "/organisations/", "/recherche/", "/territoires/"):
        assert listing not in urls


def test_an_entry_is_indexed_with_its_words_but_not_its_contact(built):
    pages = fragments(built)
    need = pages["/besoins/ordinateurs-portables-dijon/"]
    assert need["meta"]["title"] == "Ordinateurs portables pour nos ateliers"
    for word in ("ordinateurs", "imprimante", "électroménager", "accompagnons"):
        assert word in need["content"], word
    everything = json.dumps(pages, ensure_ascii=False)
    assert "contact@atelier-numerique-dijon.example" not in everything
    assert not EMAIL.findall(everything), "an e-mail address reached the search index"
    assert "frigorifique" not in everything and "cathodiques" not in everything   # expired entries


def test_filters_are_few_and_listing_chrome_is_not_indexed(built):
    pages = fragments(built)
    names = set()
    for record in pages.values():
        names.update(record.get("filters", {}))
    assert len(names) <= 6, f"too many Pagefind filters (each costs bytes per search): {sorted(names)}"
    need = pages["/besoins/ordinateurs-portables-dijon/"]
    # the page's navigation, footer and suggestions block are not part of the entry's text
    assert "Mentions légales" not in need["content"]


def test_index_is_deterministic(built, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(built, copy)
    shutil.rmtree(copy / "pagefind")
    indexing.build_search_index(copy)                      # from scratch
    assert bundle_files(copy) == bundle_files(built)
    indexing.build_search_index(copy)                      # over its own output: nothing to redo
    assert bundle_files(copy) == bundle_files(built)


def test_a_pagefind_failure_raises_with_its_output(built, tmp_path, monkeypatch):
    copy = tmp_path / "copy"
    shutil.copytree(built, copy)
    shutil.rmtree(copy / "pagefind")
    monkeypatch.setattr(indexing, "pagefind_command",
                        lambda site, bundle: ORIGINAL_COMMAND(site, bundle) + ["--no-such-option"])
    with pytest.raises(indexing.SearchIndexError) as error:
        indexing.build_search_index(copy)
    assert "no-such-option" in str(error.value)
    assert not (copy / "pagefind" / "associe-lots.json").exists()   # the next build starts afresh


ORIGINAL_COMMAND = indexing.pagefind_command


def test_a_site_without_entries_still_gets_a_search_bundle(tmp_path):
    (tmp_path / "index.html").write_text('<!doctype html><html lang="fr"><body><main>Accueil</main></body></html>',
                                         encoding="utf-8")
    indexing.build_search_index(tmp_path)
    assert (tmp_path / "pagefind" / "pagefind-ui.js").is_file()
    assert fragments(tmp_path) == {}
    pages = fragments(tmp_path, "")
    assert list(pages) == ["/recherche/"]
    assert pages["/recherche/"]["content"].strip() == "associeaucunefiche"
    assert manifest(tmp_path)["lots"] == []


def test_missing_site_folder_raises(tmp_path):
    with pytest.raises(indexing.SearchIndexError):
        indexing.build_search_index(tmp_path / "absent")


def test_filter_indexes_are_rewritten_in_a_stable_order(built):
    """Pagefind writes filter values in hash-map order; the build sorts them (reproducible output)."""
    for lot in manifest(built)["lots"]:
        bundle = built / "pagefind" / lot["nom"]
        entry = json.loads((bundle / "pagefind-entry.json").read_text(encoding="utf-8"))
        meta = indexing._read_pagefind_file(bundle / f"pagefind.{entry['languages']['fr']['hash']}.pf_meta")
        assert meta is not None, "the meta index format changed: canonicalize_bundle needs a look"
        names = [name for name, _ in meta[3]]
        assert names == sorted(names) and len(names) >= 3
        for name, filter_hash in meta[3]:
            index = indexing._read_pagefind_file(bundle / "filter" / f"{filter_hash}.pf_filter")
            values = [value for value, _ in index[1]]
            assert index[0] == name and values == sorted(values)
        assert indexing.canonicalize_bundle(bundle) is True     # idempotent, format understood


def test_sort_keys_are_also_metadata(built):
    """The search page merges the lots' « newest first » lists by this date."""
    need = fragments(built)["/besoins/ordinateurs-portables-dijon/"]
    html = (built / "besoins" / "ordinateurs-portables-dijon" / "index.html").read_text(encoding="utf-8")
    assert need["meta"]["date"] == re.search(r'data-date="([0-9-]+)" data-pagefind-sort', html).group(1)


# ------------------------------------------------------------------ built while the other pages are written
def test_build_site_indexes_in_a_forked_process_once_the_entry_pages_are_written(tmp_path, monkeypatch):
    """``associe build`` starts the index as soon as the entry pages exist (the listings and
    territory pages are written meanwhile) in a process of its own, and waits for it."""
    from associe.build import build_site

    seen = tmp_path / "seen.json"
    original = indexing.build_search_index

    def spy(output):
        seen.write_text(json.dumps({"pid": os.getpid(), "entries": (output / "besoins").is_dir(),
                                    "home": (output / "index.html").is_file()}), encoding="utf-8")
        return original(output)

    monkeypatch.setattr(indexing, "build_search_index", spy)
    output = tmp_path / "output"
    assert build_site(output=output, build_date=BUILD_DATE, content=FIXTURE, include_fictitious=True,
                      search_index=True) == 0
    started = json.loads(seen.read_text(encoding="utf-8"))
    assert started["pid"] != os.getpid() and started["entries"]
    assert not started["home"]             # the home page was not written yet: it is rendered after
    assert set(fragments(output)) == LISTED | ORGANISATIONS


def test_a_failure_of_the_background_index_fails_the_build(tmp_path, monkeypatch, capfd):
    from associe.build import build_site

    monkeypatch.setattr(indexing, "pagefind_command",
                        lambda site, bundle: ORIGINAL_COMMAND(site, bundle) + ["--no-such-option"])
    assert build_site(output=tmp_path / "output", build_date=BUILD_DATE, content=FIXTURE, include_fictitious=True,
                      search_index=True) == 1
    err = capfd.readouterr().err
    assert "erreur : index de recherche" in err and "no-such-option" in err
    assert "l'index de recherche n'a pas pu être construit" in err


def test_a_rebuild_does_not_index_the_page_of_a_removed_entry(tmp_path):
    """The page of an entry removed since the last build is deleted before the index starts
    (the index runs while the rest of the site is written)."""
    from associe.build import build_site

    content = tmp_path / "content"
    shutil.copytree(FIXTURE, content)
    output, cache = tmp_path / "output", tmp_path / "cache"
    settings = {"ASSOCIE_CACHE_PATH": str(cache)}
    assert build_site(output=output, build_date=BUILD_DATE, content=content, include_fictitious=True,
                      search_index=True, extra_settings=settings) == 0
    assert "/besoins/outils-jardin-beaune/" in fragments(output)
    (content / "besoins" / "outils-jardin-beaune.yaml").unlink()
    assert build_site(output=output, build_date=BUILD_DATE, content=content, include_fictitious=True,
                      search_index=True, extra_settings=settings) == 0
    assert set(fragments(output)) == (LISTED | ORGANISATIONS) - {"/besoins/outils-jardin-beaune/"}
    assert not (output / "besoins" / "outils-jardin-beaune").exists()


def test_the_pages_rendered_before_the_index_are_the_pages_it_reads():
    """The render writes the folders the index reads first, then starts the index: both lists
    must name the same folders, or the index would read pages not written yet."""
    from associe import rendering

    assert rendering.SEARCHED_FOLDERS == set(indexing.ENTRY_FOLDERS)
