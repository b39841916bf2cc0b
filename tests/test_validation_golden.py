"""Every message of ``associe check``, exactly: text, file, line, column, field and order.

``tests/fixtures/validation/golden.json`` records the full output of ``check`` on every failing
case of ``tests/fixtures/validation/cases/`` and on a few layouts of files (a file outside the
entry folders, ``.yml`` next to ``.yaml``, references resolved through ``context_paths``), as it
was before the validation was made faster. Each scenario runs cold, then twice with the cache
(the run that fills it and the run that reads it): the three must give that same output.

Regenerate (only when a message changes on purpose):
``python tests/test_validation_golden.py > tests/fixtures/validation/golden.json``."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE.parent / "plugins") not in sys.path:
    sys.path.insert(0, str(HERE.parent / "plugins"))

from associe.validation import check  # noqa: E402
from test_validation import copy_case  # noqa: E402 - the same case layout as the case tests

FIXTURES = HERE / "fixtures" / "validation"
BASE = FIXTURES / "base"
GOLDEN = FIXTURES / "golden.json"
CASES = sorted(p.name for p in (FIXTURES / "cases").iterdir())


def _case(root: Path, case: str) -> tuple[list[Path], dict]:
    copy_case(root, case)
    return [root], {}


def _layout_stray_file(root: Path) -> tuple[list[Path], dict]:
    shutil.copytree(BASE, root)
    stray = root / "divers" / "note.yaml"
    stray.parent.mkdir()
    stray.write_text("titre: perdu\n", encoding="utf-8")
    (root / "besoins" / "ordinateurs-portables-dijon.yml").write_text("titre: x\n", encoding="utf-8")
    (root / "offres" / "Mauvais Nom.yaml").write_text(
        (BASE / "offres" / "parc-informatique-chenove.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (root / "organisations" / "vide.yaml").write_text("", encoding="utf-8")
    (root / "organisations" / "liste.yaml").write_text("- a\n- b\n", encoding="utf-8")
    (root / "organisations" / "latin1.yaml").write_bytes("nom: é\n".encode("latin-1"))
    (root / "organisations" / "bom.yaml").write_bytes(b"\xef\xbb\xbf" + (BASE / "organisations" / "informatique-chenove.yaml").read_bytes())
    return [root, stray], {}


def _layout_context(root: Path) -> tuple[list[Path], dict]:
    shutil.copytree(BASE, root / "content")
    need = root / "proposition" / "besoins" / "nouveau-besoin-dijon.yaml"
    need.parent.mkdir(parents=True)
    text = (BASE / "besoins" / "ordinateurs-portables-dijon.yaml").read_text(encoding="utf-8")
    need.write_text(text.replace("identifiant: ordinateurs-portables-dijon", "identifiant: nouveau-besoin-dijon")
                    .replace("organisation: atelier-numerique-dijon", "organisation: atelier-numerique-dijn"),
                    encoding="utf-8")
    return [need.parent.parent], {"context_paths": [root / "content"]}


def _layout_context_overlap(root: Path) -> tuple[list[Path], dict]:
    shutil.copytree(BASE, root / "content")
    return [root / "content" / "besoins" / "ordinateurs-portables-dijon.yaml"], {"context_paths": [root / "content"]}


SCENARIOS = {**{f"case:{case}": (lambda r, c=case: _case(r, c)) for case in CASES},
             "layout:stray-file": _layout_stray_file, "layout:context": _layout_context,
             "layout:context-overlap": _layout_context_overlap}


def _run(tmp: Path, name: str, cache: Path | None) -> list[str]:
    root = tmp / "root"
    paths, kwargs = SCENARIOS[name](root)
    result = check(paths, root=root, cache_dir=cache, **kwargs)
    shown = [str(p) for p in result.problems]
    shown.append(f"files={result.files} corpus=" + ",".join(sorted(f"{e.kind}/{e.id}" for e in result.corpus.all())))
    return shown


def outputs(tmp: Path, name: str) -> tuple[list[str], list[str], list[str]]:
    cold = _run(tmp / "cold", name, None)
    fill = _run(tmp / "warm", name, tmp / "cache")
    shutil.rmtree(tmp / "warm")
    warm = _run(tmp / "warm", name, tmp / "cache")
    return cold, fill, warm


@pytest.fixture(scope="module")
def golden() -> dict:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_every_scenario_is_recorded(golden):
    assert sorted(golden) == sorted(SCENARIOS)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_output_is_exactly_the_recorded_one(tmp_path, golden, name):
    cold, fill, warm = outputs(tmp_path, name)
    assert cold == golden[name]
    assert fill == golden[name]
    assert warm == golden[name]


if __name__ == "__main__":
    import tempfile

    record = {}
    for scenario in sorted(SCENARIOS):
        with tempfile.TemporaryDirectory() as tmp:
            cold, fill, warm = outputs(Path(tmp), scenario)
            assert cold == fill == warm, scenario
            record[scenario] = cold
    print(json.dumps(record, ensure_ascii=False, indent=1))


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_output_is_the_same_when_files_are_checked_in_two_processes(tmp_path, golden, name, monkeypatch):
    import os

    from associe import validation

    forks: list[int] = []
    fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: (forks.append(1), fork())[1])
    monkeypatch.setattr(validation, "PARALLEL_MIN_FILES", 2)
    cold, fill, warm = outputs(tmp_path, name)
    assert cold == golden[name]
    assert fill == golden[name]
    assert warm == golden[name]
    # the cold run and the run that fills the cache (the last reads it); one file: no second process
    assert len(forks) == (0 if name.startswith("layout:context") else 2)
