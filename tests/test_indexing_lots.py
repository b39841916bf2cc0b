"""What Pagefind is fed (the staged entry pages) and how the index is split into lots and rebuilt
only where the indexed content changed (plugins/associe/indexing.py)."""
from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import shutil
from pathlib import Path

import pytest

from associe import indexing

FIXTURE = Path(__file__).parent / "fixtures" / "exports"
NEED = "besoins/ordinateurs-portables-dijon/index.html"


# ------------------------------------------------------------------------------ staging
def page(body: str, head: str = "", after: str = "") -> str:
    return (f'<!doctype html><html lang="fr"><head><title>T</title>{head}</head><body><nav>Menu</nav>'
            f'{body}<footer>Mentions légales</footer>{after}</body></html>')


ARTICLE = ('<article class="fiche" data-pagefind-body><h1 data-pagefind-meta="title">Titre</h1>'
           '<section><article>imbriqué</article></section>'
           '<time data-date="2026-11-02" data-pagefind-sort="date[data-date]">2 novembre</time></article>')


def test_only_the_searchable_element_is_staged():
    staged = indexing.stage_page(page(ARTICLE))
    assert staged.startswith('<!doctype html><html lang="fr">')
    assert "Menu" not in staged and "Mentions légales" not in staged
    assert "imbriqué" in staged and staged.count("</article>") == 2     # nested element of the same name kept
    assert 'data-pagefind-sort="date[data-date]" data-pagefind-meta="date[data-date]"' in staged


def test_a_page_with_pagefind_attributes_outside_its_body_is_staged_whole():
    html = page(ARTICLE, head='<meta data-pagefind-filter="Auteur[content]" content="X">')
    staged = indexing.stage_page(html)
    assert "Menu" in staged and 'data-pagefind-filter="Auteur[content]"' in staged
    # data-pagefind-ignore outside the body changes nothing Pagefind reads
    assert "Menu" not in indexing.stage_page(page(ARTICLE, after='<div data-pagefind-ignore>x</div>'))


def test_pages_without_a_searchable_element_are_not_staged():
    assert indexing.stage_page(page("<main>Liste des besoins</main>")) is None
    # the words in a text are not an attribute
    assert indexing.stage_page(page("<p>l'attribut data-pagefind-body sert à…</p>")) is None
    assert indexing.stage_page(page('<main\ndata-pagefind-body>x</main>')) is not None


def test_an_existing_meta_is_not_duplicated():
    html = page('<main data-pagefind-body><span data-pagefind-sort="date" data-pagefind-meta="date">2026</span></main>')
    assert indexing.stage_page(html).count("data-pagefind-meta") == 1


# ------------------------------------------------------------------------------ lots
def staged(n: int, folder: str = "besoins") -> dict[str, list[tuple[str, str]]]:
    return {folder: [(f"/{folder}/p{i}/", f"<p>{i}</p>") for i in range(n)]}


def test_a_large_kind_is_split_by_a_stable_hash(monkeypatch):
    monkeypatch.setattr(indexing, "LOT_PAGES", 10)
    lots = indexing.plan_lots(staged(25), "1.5.2")
    assert [lot.name for lot in lots] == ["besoins-1", "besoins-2", "besoins-3"]
    grouped = indexing.plan_lots({"exemples": [("/exemples/a/", "a")], "organisations": [("/organisations/b/", "b")]},
                                 "1.5.2")
    assert [(lot.name, len(lot.pages)) for lot in grouped] == [("exemples-organisations", 2)]
    assert sorted(url for lot in lots for url, _ in lot.pages) == sorted(url for url, _ in staged(25)["besoins"])
    # adding a page changes one lot only
    more = staged(26)
    again = indexing.plan_lots(more, "1.5.2")
    changed = [a.name for a, b in zip(lots, again) if a.fingerprint != b.fingerprint]
    assert len(changed) == 1
    assert [lot.name for lot in indexing.plan_lots(staged(10), "1.5.2")] == ["besoins"]


def test_fingerprints_depend_on_pagefind_version_and_content():
    base = indexing.plan_lots(staged(3), "1.5.2")[0].fingerprint
    assert indexing.plan_lots(staged(3), "1.5.2")[0].fingerprint == base
    assert indexing.plan_lots(staged(3), "1.6.0")[0].fingerprint != base
    edited = staged(3)
    edited["besoins"][1] = ("/besoins/p1/", "<p>autre</p>")
    assert indexing.plan_lots(edited, "1.5.2")[0].fingerprint != base


# ------------------------------------------------------------------------------ rebuilds
@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    from associe.build import build_site

    output = tmp_path_factory.mktemp("lots") / "output"
    assert build_site(output=output, build_date=dt.date(2026, 11, 20), content=FIXTURE, include_fictitious=True,
                      search_index=True) == 0
    return output


def files(output: Path) -> dict[str, bytes]:
    root = output / "pagefind"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def rebuilt(monkeypatch):
    """The lots (and main bundle) Pagefind is run for during the test."""
    names = []
    build_lot, build_main = indexing._build_lot, indexing._build_main
    monkeypatch.setattr(indexing, "_build_lot", lambda lot, *a: (names.append(lot.name), build_lot(lot, *a)))
    monkeypatch.setattr(indexing, "_build_main", lambda *a: (names.append("principal"), build_main(*a)))
    return names


def test_only_the_lot_whose_pages_changed_is_rebuilt(built, tmp_path, rebuilt):
    site = tmp_path / "site"
    shutil.copytree(built, site)
    indexing.build_search_index(site)
    assert rebuilt == []                                   # nothing changed: Pagefind does not run
    need = site / NEED
    need.write_text(need.read_text(encoding="utf-8").replace("Ordinateurs portables pour nos ateliers",
                                                             "Ordinateurs portables et zorglubs"), encoding="utf-8")
    indexing.build_search_index(site)
    assert rebuilt == ["besoins"]
    for name, content in files(built).items():     # the other lots' files are kept as they were
        if not name.startswith(("besoins/", "associe-lots.json")):
            assert files(site)[name] == content, name
    # the result is the bundle a build from scratch gives
    fresh = tmp_path / "fresh"
    shutil.copytree(site, fresh)
    shutil.rmtree(fresh / "pagefind")
    indexing.build_search_index(fresh)
    assert files(fresh) == files(site)
    assert urls_with(site / "pagefind" / "besoins", "zorglubs") == ["/besoins/ordinateurs-portables-dijon/"]


def urls_with(bundle: Path, word: str) -> list[str]:
    found = []
    for path in sorted((bundle / "fragment").glob("*.pf_fragment")):
        record = json.loads(gzip.decompress(path.read_bytes())[len(b"pagefind_dcd"):])
        if word in record["content"]:
            found.append(record["url"])
    return found


def test_a_removed_kind_and_a_foreign_bundle_are_cleaned(built, tmp_path, rebuilt):
    site = tmp_path / "site"
    shutil.copytree(built, site)
    for folder in (site / "offres").iterdir():
        if folder.is_dir():
            shutil.rmtree(folder)
    indexing.build_search_index(site)
    assert rebuilt == []
    assert not (site / "pagefind" / "offres").exists()
    lots = json.loads((site / "pagefind" / "associe-lots.json").read_text(encoding="utf-8"))["lots"]
    assert [lot["nom"] for lot in lots] == ["besoins", "exemples-organisations"]
    # an output folder from before the lots (or from another Pagefind version): rebuilt from scratch
    (site / "pagefind" / "associe-lots.json").unlink()
    (site / "pagefind" / "fragment" / "reste.pf_fragment").write_bytes(b"x")
    indexing.build_search_index(site)
    assert sorted(rebuilt) == ["besoins", "exemples-organisations", "principal"]   # run two at a time
    assert not (site / "pagefind" / "fragment" / "reste.pf_fragment").exists()


def test_a_temporary_folder_left_by_a_stopped_build_is_removed(built, tmp_path, rebuilt):
    site = tmp_path / "site"
    shutil.copytree(built, site)
    (site / "pagefind" / ".offres.tmp" / "fragment").mkdir(parents=True)      # a lot being indexed when stopped
    (site / "pagefind" / ".ancien-lot.tmp").mkdir()
    indexing.build_search_index(site)
    assert rebuilt == []
    assert not (site / "pagefind" / ".offres.tmp").exists() and not (site / "pagefind" / ".ancien-lot.tmp").exists()
    assert files(site) == files(built)


def test_a_missing_lot_folder_is_rebuilt(built, tmp_path, rebuilt):
    site = tmp_path / "site"
    shutil.copytree(built, site)
    shutil.rmtree(site / "pagefind" / "offres")
    indexing.build_search_index(site)
    assert rebuilt == ["offres"]
    assert files(site) == files(built)


def test_a_rebuilt_lot_is_copied_over_the_old_one_file_by_file(tmp_path):
    """``_sync``: the old lot ends up with exactly the new lot's files; a file already there with
    the same bytes is left untouched (most fragments when one page is added), the others are
    written, and files and folders the new lot does not have are removed."""
    new, old = tmp_path / "new", tmp_path / "old"
    for root, content in ((new, {"fragment/a.pf_fragment": b"A", "fragment/b.pf_fragment": b"B2",
                                 "index/i.pf_index": b"I", "pagefind-entry.json": b"{2}"}),
                          (old, {"fragment/a.pf_fragment": b"A", "fragment/b.pf_fragment": b"B1",
                                 "fragment/gone.pf_fragment": b"G", "filter/f.pf_filter": b"F",
                                 "pagefind-entry.json": b"{1}"})):
        for name, data in content.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
    kept = old / "fragment" / "a.pf_fragment"
    os.utime(kept, ns=(1_000_000_000, 1_000_000_000))
    indexing._sync(new, old)
    assert {p.relative_to(old).as_posix(): p.read_bytes() for p in old.rglob("*") if p.is_file()} == \
        {"fragment/a.pf_fragment": b"A", "fragment/b.pf_fragment": b"B2", "index/i.pf_index": b"I",
         "pagefind-entry.json": b"{2}"}
    assert kept.stat().st_mtime_ns == 1_000_000_000        # not rewritten
    assert not (old / "filter").exists()


def most_at_once(slots, weights: list[int]) -> int:
    """Run a lot of each weight at once under ``slots`` (each holding its slot 50 ms); the most
    that were inside together."""
    import threading
    import time

    inside, most = [0], [0]
    lock = threading.Lock()

    def run(weight: int) -> None:
        with slots.slot(weight):
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.05)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=run, args=(weight,)) for weight in weights]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    assert not any(thread.is_alive() for thread in threads)
    return most[0]


def test_lots_are_indexed_one_at_a_time_until_the_limit_is_raised():
    """``associe build`` indexes while the other pages are still being rendered: one Pagefind at a
    time (memory), then ``PARALLEL_LOTS`` once the pages are written."""
    import threading

    slots = indexing._Slots(limit=1)
    assert most_at_once(slots, [1, 1, 1, 1]) == 1
    slots.set_limit(2)
    started = threading.Barrier(2, timeout=5)

    def together() -> None:
        with slots.slot():
            started.wait()        # both inside at once, or the barrier times out

    threads = [threading.Thread(target=together) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not started.broken


def test_a_large_lot_is_indexed_alone():
    """Two lots of more than LARGE_LOT pages never run at once (memory at 50,000 entries); a large
    lot still starts when nothing else runs, even under a limit of one."""
    slots = indexing._Slots(limit=2)
    assert most_at_once(slots, [2, 1, 2, 2]) == 1
    slots.set_limit(1)
    assert most_at_once(slots, [2]) == 1


def test_staged_pages_are_written_where_pagefind_reads_them_then_removed(tmp_path):
    from associe.indexing import _stage, _unstage

    pages = [("/besoins/a/", "<p>é</p>"), ("/besoins/b/", "<p>b</p>"), ("/organisations/c/", "<p>c</p>")]
    site = tmp_path / "lot"
    _stage(site, pages)
    assert sorted(p.relative_to(site).as_posix() for p in site.rglob("index.html")) == [
        "besoins/a/index.html", "besoins/b/index.html", "organisations/c/index.html"]
    assert (site / "besoins" / "a" / "index.html").read_bytes() == "<p>é</p>".encode("utf-8")
    (site / "besoins" / "b" / "extra.txt").write_text("x")      # anything else in the folder goes too
    _unstage(site, pages)
    assert not site.exists()
