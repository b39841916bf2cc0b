"""The fast YAML path (``loading._fast_load``, libyaml's events turned into data directly) gives
exactly what PyYAML's strict loader gives: the same data, or the same error message at the
same line and column (it hands everything unusual and every error over to PyYAML).

``reference`` below is ``load_text`` with the fast path switched off: the loader as it was."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings, strategies as st

from associe import loading
from associe.loading import load_text, relative

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def reference(text: str):
    """``load_text`` as it was before the fast path (PyYAML's composer and constructor)."""
    original = loading._fast_load

    def refuse(_text):
        raise loading._Unusual

    loading._fast_load = refuse
    try:
        return load_text(text, "f.yaml")
    finally:
        loading._fast_load = original


def same(text: str) -> None:
    fast = load_text(text, "f.yaml")
    slow = reference(text)
    # repr: True is not 1, and the order of the keys counts
    assert repr(fast) == repr(slow), text


def test_the_fast_path_is_taken_for_an_ordinary_entry():
    text = (HERE / "fixtures" / "validation" / "base" / "besoins" / "ordinateurs-portables-dijon.yaml").read_text(
        encoding="utf-8")
    assert loading._fast_load(text) == yaml.load(text, Loader=loading.StrictLoader)


@pytest.mark.parametrize("text", [
    "a: &x 1\nb: *x\n", "a: !!str 1\n", "a: !!str '1'\n", "a: ! x\n", "a: !custom x\n", "!!map {a: 1}\n",
    "a: 1\na: 2\n", "a:\n  b: 1\n  b: 2\nc: [1, {d: 1, d: 2}]\n", "1: x\n", "true: x\n", "~: x\n", ": x\n",
    "[a]: x\n", "{a: 1}: x\n", "? [a, b]\n: x\n", "a: 1\n---\nb: 2\n", "--- a\n...\n", "", "# rien\n", "---\n",
    "a: 'non fermé\n", "a: b: c\n", "\ta: 1\n", "a: [1, 2\n", "a: @x\n", "- a\n- b\n", "texte seul\n", "12\n",
    "a: no\nb: 01234\nc: 1:20\nd: 1.10\ne: 2024-02-30\nf: on\ng: 0x1F\nh: 1e3\non: yes\n",
    "a: 12\nb: -3\nc: true\nd: false\ne: ~\nf:\ng: +4\nh: -0\ni: TRUE\nj: False\nk: Null\nl: NULL\n",
    "nom: \"Cafe\u0301\"\nCafe\u0301: 1\n", "e\u0301: 1\n\u00e9: 2\n", "a: |\n  ligne\n  ligne\nb: >\n  pli\n  pli\n",
    "a:\n- b: 1\n  c: [x, {y: z}]\n- - 1\n  - 2\n", "a: {}\nb: []\nc: {d: []}\n", "%YAML 1.1\n---\na: 1\n",
    "a: &ancre 1\n", "a: *inconnu\n", "a: &x [1]\nb: &x [2]\n", "&r [*r]\n", "a: \"\\x\"\n", "a: \"x\" y\n",
    "a: 1\n]\n", "\ufeffa: 1\n", "a: \u0085\n", "a: \"\\0\"\n",
])
def test_same_result_or_error_as_pyyaml(text):
    same(text)


ATOMS = ["a", "b", "é", "e\u0301", " ", "  ", "\n", "\n  ", "\n- ", ": ", ":", "- ", "-", "'", '"', "&x ", "*x", "!!str ",
         "! ", "!t ", "[", "]", "{", "}", ", ", "#", "true", "1", "01", "-2", "~", "null", "---", "...", "|", ">",
         "\t", "? ", "%", "@", "\\", "0x1", "1.5", "x: y\n", "\nc: ", "\n  d: "]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(ATOMS), max_size=30))
def test_same_result_or_error_on_yaml_soup(parts):
    same("".join(parts))


values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=12)
    | st.sampled_from(["", "true", "no", "01", "1:2", "~", "Null", "e\u0301", "a: b", "- x", "#"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20)


@settings(max_examples=400, deadline=None)
@given(values, st.booleans(), st.sampled_from([None, '"', "'"]))
def test_same_result_on_documents_written_by_pyyaml(value, flow, style):
    for unicode in (True, False):
        try:
            text = yaml.safe_dump(value, default_flow_style=flow, allow_unicode=unicode, default_style=style)
        except yaml.YAMLError:
            return
        same(text)


def test_same_result_on_every_file_of_the_repository():
    paths = sorted((ROOT / "content").rglob("*.yaml")) + sorted((HERE / "fixtures").rglob("*.yaml"))
    assert len(paths) > 100
    for path in paths:
        same(path.read_bytes().decode("utf-8", errors="replace").lstrip("\ufeff"))


# ---------------------------------------------------------------- relative paths
def _relative_as_it_was(path: Path, root: Path) -> str:
    absolute = path if path.is_absolute() else Path.cwd() / path
    try:
        return absolute.relative_to(root.resolve()).as_posix()
    except ValueError:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return path.as_posix()


def test_relative_gives_the_same_paths_as_pathlib(tmp_path, monkeypatch):
    (tmp_path / "root" / "besoins").mkdir(parents=True)
    (tmp_path / "ailleurs" / "b").mkdir(parents=True)
    (tmp_path / "root" / "besoins" / "x.yaml").write_text("a: 1\n")
    (tmp_path / "lien").symlink_to(tmp_path / "root")
    (tmp_path / "root" / "besoins" / "vers-ailleurs.yaml").symlink_to(tmp_path / "ailleurs" / "b")
    (tmp_path / "ailleurs" / "b" / "vers-root.yaml").symlink_to(tmp_path / "root" / "besoins" / "x.yaml")
    roots = [tmp_path / "root", tmp_path / "lien", Path("/"), tmp_path, tmp_path / "root" / "besoins" / "x.yaml"]
    paths = [tmp_path / "root" / "besoins" / "x.yaml", Path("root/besoins/x.yaml"), Path("lien/besoins/x.yaml"),
             Path("."), Path("root"), tmp_path / "lien" / "besoins" / "x.yaml",
             tmp_path / "root" / "besoins" / "vers-ailleurs.yaml", tmp_path / "ailleurs" / "b" / "vers-root.yaml",
             Path("ailleurs/b/vers-root.yaml"), Path("root/../root/besoins/x.yaml"), Path("absent/x.yaml"),
             tmp_path / "ailleurs" / "b", Path("/"), Path("lien/../root/besoins/x.yaml")]
    for cwd in (tmp_path, Path("/")):
        monkeypatch.chdir(cwd)
        for root in roots:
            for path in paths:
                expected = _relative_as_it_was(path, root)
                assert relative(path, root) == expected, (cwd, root, path)
                assert relative(path, root, {}) == expected, (cwd, root, path)
    assert os.sep == "/"


def _discover_as_it_was(paths):
    from associe.paths import KIND_FOLDERS

    found = set()
    for path in paths:
        path = Path(path)
        if path.is_dir():
            for folder in KIND_FOLDERS:
                for candidate in ([path] if path.name == folder else [path / folder]):
                    if candidate.is_dir():
                        found.update(p for p in candidate.iterdir() if p.is_file() and not p.name.startswith(".")
                                     and p.name.lower() not in {"readme.md", "lisez-moi.md"})
        elif path.exists() or path.is_symlink():
            found.add(path)
    return sorted(found, key=lambda p: p.as_posix())


def test_discover_finds_what_it_found_before(tmp_path):
    from associe.loading import discover

    root = tmp_path / "content"
    for name in ["besoins/a.yaml", "besoins/b.yml", "besoins/.cache.yaml", "besoins/README.md", "besoins/Lisez-moi.md",
                 "offres/c.yaml", "organisations/d.yaml", "autre/e.yaml"]:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("a: 1\n", encoding="utf-8")
    (root / "besoins" / "dossier.yaml").mkdir()
    (root / "besoins" / "lien.yaml").symlink_to(root / "offres" / "c.yaml")
    (root / "besoins" / "casse.yaml").symlink_to(root / "absent.yaml")
    (root / "besoins" / "lien-dossier").symlink_to(root / "offres")
    for paths in ([root], [root / "besoins"], [root, root / "besoins" / "a.yaml"], [root / "besoins" / "casse.yaml"],
                  [Path("content")], [root / "absent"]):
        assert discover(paths) == _discover_as_it_was(paths)
