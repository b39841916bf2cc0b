"""What ``check`` keeps between runs (``CheckCache``) and how it loads many files quickly:
the rules that read one file only are cached with the file, the cache is not rewritten when
nothing changed, folders are resolved once, and the garbage collector runs less while loading.
The exact messages of a cached run are checked by tests/test_validation_golden.py."""
from __future__ import annotations

import gc
import shutil
from pathlib import Path

import pytest

from associe import loading, validation
from associe.validation import CROSS_FILE_RULES, FILE_RULES, check

BASE = Path(__file__).parent / "fixtures" / "validation" / "base"


@pytest.fixture
def content(tmp_path):
    root = tmp_path / "content"
    shutil.copytree(BASE, root)
    return root


def test_file_rules_are_rules_that_read_one_file():
    assert FILE_RULES and all(rule in CROSS_FILE_RULES for rule in FILE_RULES)
    names = {rule.__name__ for rule in FILE_RULES}
    # these read other files or the geography: they must run on every check
    assert not names & {"identifier_unique", "referenced_organisation_exists", "commune_exists",
                        "reach_consistent_with_place"}


def test_file_rules_run_only_on_new_or_changed_files(content, tmp_path, monkeypatch):
    seen: list[str] = []
    first_rule = FILE_RULES[0]

    def counting(ctx):
        seen.extend(f.relpath for f in ctx.files.values())
        return first_rule(ctx)

    monkeypatch.setattr(validation, "FILE_RULES", [counting, *FILE_RULES[1:]])
    cache = tmp_path / "cache"
    check([content], root=content, cache_dir=cache)
    assert len(seen) == 5
    seen.clear()
    check([content], root=content, cache_dir=cache)
    assert seen == []                                     # every file came from the cache
    need = content / "besoins" / "ordinateurs-portables-dijon.yaml"
    need.write_text(need.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    check([content], root=content, cache_dir=cache)
    assert seen == ["besoins/ordinateurs-portables-dijon.yaml"]


def test_a_cached_file_rule_problem_is_reported_again(content, tmp_path):
    org = content / "organisations" / "atelier-numerique-dijon.yaml"
    org.write_text(org.read_text(encoding="utf-8").replace("presentation: ", "presentation: Appelez le 03 80 12 34 56. "),
                   encoding="utf-8")
    cache = tmp_path / "cache"
    first = [str(p) for p in check([content], root=content, cache_dir=cache).problems]
    assert any("numéro de téléphone" in p for p in first)
    assert [str(p) for p in check([content], root=content, cache_dir=cache).problems] == first


def test_the_cache_is_not_rewritten_when_nothing_changed(content, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    check([content], root=content, cache_dir=cache)
    writes: list[int] = []
    dump = validation.pickle.dump
    monkeypatch.setattr(validation.pickle, "dump", lambda *a, **k: (writes.append(1), dump(*a, **k)))
    check([content], root=content, cache_dir=cache)
    assert writes == []
    (content / "offres" / "parc-informatique-chenove.yaml").unlink()       # a file gone: rewritten
    check([content], root=content, cache_dir=cache)
    assert writes == [1]
    second = validation.CheckCache(cache)
    assert "offres/parc-informatique-chenove.yaml" not in second.entries and len(second.entries) == 4


def test_a_cache_of_another_version_is_ignored(content, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    validation.pickle.dump({"key": "autre", "entries": {"besoins/x.yaml": ("0", {}, [])}},
                           (cache / "check-cache.pickle").open("wb"))
    assert check([content], root=content, cache_dir=cache).ok
    assert validation.CheckCache(cache).entries.keys() == {
        f"{p.parent.name}/{p.name}" for p in content.rglob("*.yaml")}


def test_each_folder_is_resolved_once_for_files_outside_the_root(content, tmp_path):
    parents: dict[str, str] = {}
    elsewhere = tmp_path / "ailleurs"
    paths = sorted((content / "organisations").glob("*.yaml"))
    for path in paths:
        assert loading.relative(path, elsewhere, parents) == path.as_posix()
    assert parents == {str(content / "organisations"): str((content / "organisations").resolve())}


def test_the_collector_runs_less_while_loading_and_is_set_back(content, monkeypatch):
    before = gc.get_threshold()
    during: list[tuple] = []
    load_file = validation.load_file
    monkeypatch.setattr(validation, "load_file", lambda *a, **k: (during.append(gc.get_threshold()), load_file(*a, **k))[1])
    assert check([content], root=content).ok
    assert during and all(threshold[0] >= 20_000 for threshold in during)
    assert gc.get_threshold() == before
