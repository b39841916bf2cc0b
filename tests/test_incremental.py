"""Incremental builds (``associe.page_cache``): with ``ASSOCIE_CACHE_PATH`` set, a rebuild into
the same output keeps the pages whose inputs did not change, rewrites the others and removes
the stale ones; the result must be byte-identical to a cold build of the same content."""
from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from pathlib import Path

from pelican import Pelican
from pelican.settings import read_settings

from associe.build import build_site, run_pelican

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "site"
SETTINGS = ROOT / "pelicanconf.py"
BUILD_DATE = "2026-11-24"

NEW_NEED = """identifiant: ecrans-dijon
titre: Écrans pour notre salle informatique
organisation: atelier-numerique-dijon
type_de_soutien: don_materiel
categorie: mecenat
objet: informatique
thematiques:
  - numerique
description: |
  Nous cherchons des **écrans** en bon état pour équiper les postes de notre salle.
territoire:
  commune: "21231"
  portee: rayon
  rayon_km: 20
date_publication: "2026-11-20"
valable_jusqu_au: "2027-04-30"
statut: ouvert
fictif: true
"""


def build(output: Path, content: Path, cache: Path | None, **extra) -> dict:
    settings = read_settings(str(SETTINGS), override={
        "OUTPUT_PATH": str(output), "ASSOCIE_CONTENT_PATH": str(content), "ASSOCIE_BUILD_DATE": BUILD_DATE,
        "ASSOCIE_CACHE_PATH": str(cache) if cache else None, **extra})
    status, report = run_pelican(settings)
    assert status == 0
    return report


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def assert_same_tree(built: Path, expected: Path) -> None:
    got, want = tree(built), tree(expected)
    assert sorted(got) == sorted(want), (sorted(set(got) - set(want)), sorted(set(want) - set(got)))
    different = [name for name in want if got[name] != want[name]]
    assert not different, different[:20]


def mtimes(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*.html")}


def test_incremental_rebuild_equals_a_cold_build(tmp_path):
    content, cache, output = tmp_path / "content", tmp_path / "cache", tmp_path / "site"
    shutil.copytree(FIXTURE, content)
    first = build(output, content, cache)
    assert first["rendered"] == first["pages"]
    before = mtimes(output)

    # a need that becomes a suggestion of an existing offer, a renamed organisation (shown on its
    # entries' pages), a deleted need
    (content / "besoins" / "ecrans-dijon.yaml").write_text(NEW_NEED, encoding="utf-8")
    org = content / "organisations" / "informatique-chenove.yaml"
    org.write_text(org.read_text(encoding="utf-8").replace("\nnom: ", "\nnom: Nouveau nom · ", 1), encoding="utf-8")
    (content / "besoins" / "local-reunion-strasbourg.yaml").unlink()
    (output / "CNAME").write_text("annuaire.example.org\n", encoding="utf-8")   # not ours: kept

    second = build(output, content, cache)
    assert 0 < second["rendered"] < second["pages"]
    cold = tmp_path / "cold"
    build(cold, content, None)
    (cold / "CNAME").write_text("annuaire.example.org\n", encoding="utf-8")
    assert_same_tree(output, cold)

    after = mtimes(output)
    assert "besoins/local-reunion-strasbourg/index.html" not in after
    assert (output / "besoins" / "ecrans-dijon" / "index.html").is_file()
    offer = (output / "offres" / "parc-informatique-chenove" / "index.html").read_text(encoding="utf-8")
    assert "ecrans-dijon" in offer and "Nouveau nom · " in offer
    # an example that shows none of the changes was not rewritten
    assert after["exemples/cafe-sati-jardins-cocagne/index.html"] == \
        before["exemples/cafe-sati-jardins-cocagne/index.html"]


def test_a_rebuild_without_change_renders_nothing_and_repairs_edited_files(tmp_path):
    content, cache, output = tmp_path / "content", tmp_path / "cache", tmp_path / "site"
    shutil.copytree(FIXTURE, content)
    build(output, content, cache)
    autocomplete = output / "geo" / "communes-d.json"
    written = autocomplete.stat().st_mtime_ns
    again = build(output, content, cache)
    assert again["rendered"] == 0 and again["pages"] > 100
    assert autocomplete.stat().st_mtime_ns == written     # the commune files depend on the geography only
    autocomplete.unlink()
    page = output / "besoins" / "ordinateurs-portables-dijon" / "index.html"
    original = page.read_bytes()
    page.write_bytes(original.replace(b"Ordinateurs", b"Tablettes"))
    (output / "offres" / "salle-reunion-strasbourg" / "index.html").unlink()
    repaired = build(output, content, cache)
    assert repaired["rendered"] == 2
    assert page.read_bytes() == original
    assert autocomplete.is_file()
    cold = tmp_path / "cold"
    build(cold, content, None)
    assert_same_tree(output, cold)


def test_settings_and_build_date_are_part_of_the_keys(tmp_path):
    content, cache, output = tmp_path / "content", tmp_path / "cache", tmp_path / "site"
    shutil.copytree(FIXTURE, content)
    build(output, content, cache)
    changed = build(output, content, cache, ASSOCIE_CONTACT_EMAIL="equipe@example.org")
    assert changed["rendered"] == changed["pages"]
    later = build(output, content, cache, ASSOCIE_CONTACT_EMAIL="equipe@example.org", ASSOCIE_BUILD_DATE="2026-11-25")
    assert later["rendered"] == later["pages"]
    cold = tmp_path / "cold"
    build(cold, content, None, ASSOCIE_CONTACT_EMAIL="equipe@example.org", ASSOCIE_BUILD_DATE="2026-11-25")
    assert_same_tree(output, cold)


def test_without_a_manifest_the_output_is_emptied_as_before(tmp_path):
    content, cache, output = tmp_path / "content", tmp_path / "cache", tmp_path / "site"
    shutil.copytree(FIXTURE, content)
    output.mkdir()
    (output / "old.html").write_text("left over", encoding="utf-8")
    build(output, content, cache)            # first build with this cache: cold, Pelican empties the output
    assert not (output / "old.html").exists()
    (output / "mine.txt").write_text("kept", encoding="utf-8")
    build(output, content, cache)            # incremental: files that are not ours stay
    assert (output / "mine.txt").exists()
    build(output, content, None)             # no cache: cold again
    assert not (output / "mine.txt").exists()


def test_pelican_keeps_the_output_only_with_a_manifest(tmp_path):
    content, cache, output = tmp_path / "content", tmp_path / "cache", tmp_path / "site"
    shutil.copytree(FIXTURE, content)
    settings = read_settings(str(SETTINGS), override={
        "OUTPUT_PATH": str(output), "ASSOCIE_CONTENT_PATH": str(content), "ASSOCIE_BUILD_DATE": BUILD_DATE,
        "ASSOCIE_CACHE_PATH": str(cache)})
    assert Pelican(dict(settings)).delete_outputdir is True
    build(output, content, cache)
    assert Pelican(dict(settings)).delete_outputdir is False
    assert os.listdir(cache)


def test_build_site_counts_the_pages_it_wrote_and_drops_an_old_search_index(tmp_path, capsys):
    content, cache, output = tmp_path / "content", tmp_path / "cache", tmp_path / "site"
    shutil.copytree(FIXTURE, content)
    options = {"build_date": dt.date(2026, 11, 24), "content": content, "search_index": False,
               "extra_settings": {"ASSOCIE_CACHE_PATH": str(cache)}}
    assert build_site(output, **options) == 0
    (output / "pagefind" / "fragment").mkdir(parents=True)
    (output / "pagefind" / "pagefind.js").write_text("// an earlier build's index", encoding="utf-8")
    capsys.readouterr()
    assert build_site(output, **options) == 0
    printed = capsys.readouterr().out
    assert not (output / "pagefind").exists()
    count = int(re.search(r"\) : (\d+) pages,", printed).group(1))
    assert count == sum(1 for _ in output.rglob("*.html"))


def test_a_new_need_leaves_the_gap_pages_of_other_regions_alone(tmp_path):
    """Gap pages are keyed on what they show of their parent and children (``link_view``) and on
    the sentence about dates (``key_view``), not on every entry of the linked reports: a need added
    in Côte-d'Or rewrites the pages of its département, its région, the national page and the
    régions listed there, but not the départements of another région (regression: all 136 gap
    pages of a 10,000-entry site were rendered again after any change)."""
    content, cache, output = tmp_path / "content", tmp_path / "cache", tmp_path / "site"
    shutil.copytree(FIXTURE, content)
    build(output, content, cache)
    before = mtimes(output)
    (content / "besoins" / "ecrans-dijon.yaml").write_text(NEW_NEED, encoding="utf-8")
    build(output, content, cache)
    after = mtimes(output)
    changed = {path for path, stamp in after.items() if before.get(path) != stamp}
    assert {"lacunes/index.html", "lacunes/27-bourgogne-franche-comte/index.html",
            "lacunes/27-bourgogne-franche-comte/21-cote-d-or/index.html", "kit/21-cote-d-or/index.html"} <= changed
    elsewhere = [path for path in before if path.startswith("lacunes/44-grand-est/") and path.count("/") == 3]
    assert elsewhere and not changed.intersection(elsewhere)


# ------------------------------------------------------------------ page keys in two groups
def test_page_keys_in_two_groups_do_not_depend_on_the_fork_nor_on_the_other_group():
    """``keys_in_two`` keys the entry-like pages and the others with a KeyMaker each, the first
    group in a forked child: the same keys without the fork, and adding a page to one group leaves
    every key of the other group as it was (a page's group is its template, not its position)."""
    import dataclasses

    from associe.page_cache import KeyMaker, keys_in_two

    @dataclasses.dataclass
    class Report:                      # numbered in the order met, like a gap report
        name: str
        count: int

    shared_report = Report("partagé", 3)

    def pages(extra: int = 0) -> list[dict]:
        out = [{"template": "entry", "path": f"besoins/b{i}/", "title": f"Besoin {i}", "report": Report(f"r{i}", i)}
               for i in range(300 + extra)]
        out += [{"template": "listing", "path": f"liste/{i}/", "cards": list(range(i % 40)), "report": shared_report}
                for i in range(250)]
        return sorted(out, key=lambda page: page["path"])

    def make() -> KeyMaker:
        return KeyMaker(b"base", lambda entry: b"", type(None), type(None))

    def keys(page_list: list[dict], parallel: bool) -> dict[str, bytes]:
        found = keys_in_two(make, page_list, lambda page: (), first=lambda page: page["template"] == "entry",
                            parallel=parallel)
        assert all(isinstance(key, bytes) for key in found)
        return {page["path"]: key for page, key in zip(page_list, found)}

    forked, alone = keys(pages(), True), keys(pages(), False)
    assert forked == alone and len(set(forked.values())) == len(forked)
    entries = [page for page in pages() if page["template"] == "entry"]
    assert [forked[page["path"]] for page in entries] == make().keys(entries, lambda page: ())
    more = keys(pages(extra=1), True)
    assert {path: key for path, key in more.items() if path.startswith("liste/")} == \
        {path: key for path, key in forked.items() if path.startswith("liste/")}


def test_a_rebuild_reads_the_cards_of_unchanged_entries_from_the_last_build(tmp_path):
    """The cards of a listing come from the fragments the last build rendered when their entry did
    not change (``FragmentStore``): one of them replaced by a marker in the store shows up on the
    listing rendered again after a new need is added."""
    import marshal

    content, cache, output = tmp_path / "content", tmp_path / "cache", tmp_path / "site"
    shutil.copytree(FIXTURE, content)
    build(output, content, cache)
    [store] = cache.glob("fragments-*.marshal")
    data = marshal.loads(store.read_bytes())
    names = [name for name in data["items"] if name[0] == "card" and name[1] == "besoin"]
    assert names and any(name[0] == "pair_side" for name in data["items"])
    name = sorted(names)[0]
    fingerprint, html = data["items"][name]
    assert f"/{name[2]}/" in html
    data["items"][name] = (fingerprint, html.replace('class="carte-titre"', 'class="carte-titre relue"'))
    store.write_bytes(marshal.dumps(data))

    (content / "besoins" / "ecrans-dijon.yaml").write_text(NEW_NEED, encoding="utf-8")
    build(output, content, cache)
    listing = (output / "besoins" / "index.html").read_text(encoding="utf-8")
    assert "ecrans-dijon" in listing and 'class="carte-titre relue"' in listing
    # the new entry's card is in the store for the next build
    assert any(n[:3] == ("card", "besoin", "ecrans-dijon") for n in marshal.loads(store.read_bytes())["items"])


def test_fragment_store_merges_the_rendering_processes_and_forgets_what_is_gone(tmp_path):
    from associe.page_cache import FragmentStore

    store = FragmentStore(tmp_path, tmp_path / "site", b"key")
    store.put(("card", "besoin", "a", 3), b"fa", "<li>a</li>")
    store.put(("card", "besoin", "parti", 3), b"fp", "<li>parti</li>")
    pid = os.fork()
    if pid == 0:                                # a rendering process
        try:
            store.fresh = {("pair_side", "offre", "b"): (b"fb", "<div>b</div>")}
            store.write_part()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    stray = FragmentStore(tmp_path, tmp_path / "site", b"another build key")   # never merged
    stray.put(("card", "besoin", "c", 3), b"fc", "<li>c</li>")
    stray.parts.mkdir(exist_ok=True)
    (stray.parts / "1.part").write_bytes(__import__("marshal").dumps({"base": b"another build key",
                                                                      "items": stray.fresh}))
    store.save(lambda name: name[2] != "parti")
    assert not list(store.parts.glob("*"))

    again = FragmentStore(tmp_path, tmp_path / "site", b"key").load()
    assert again.get(("card", "besoin", "a", 3), b"fa") == "<li>a</li>"
    assert again.get(("pair_side", "offre", "b"), b"fb") == "<div>b</div>"
    assert again.get(("card", "besoin", "a", 3), b"changed") is None        # the entry changed
    assert again.get(("card", "besoin", "parti", 3), b"fp") is None         # no longer published
    assert again.get(("card", "besoin", "c", 3), b"fc") is None             # another build key's part
    assert FragmentStore(tmp_path, tmp_path / "site", b"other key").load().known == {}
    assert FragmentStore(tmp_path, tmp_path / "other site", b"key").load().known == {}
