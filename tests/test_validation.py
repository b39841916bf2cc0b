"""Every validation rule has a failing fixture (tests/fixtures/validation/cases/<case>/) that
asserts the message, the file, the line and the field; the base fixture and the shipped
content are valid."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from associe.cli import main as cli_main
from associe.validation import CROSS_FILE_RULES, check, luhn_ok, validators

FIXTURES = Path(__file__).parent / "fixtures" / "validation"
BASE = FIXTURES / "base"
CASES = sorted(p.name for p in (FIXTURES / "cases").iterdir())
ROOT = Path(__file__).resolve().parent.parent


def build_case(tmp_path: Path, case: str) -> Path:
    return copy_case(tmp_path / "content", case)


def copy_case(root: Path, case: str) -> Path:
    """The valid base content with the case's files laid over it, in ``root``."""
    shutil.copytree(BASE, root)
    case_dir = FIXTURES / "cases" / case
    for path in case_dir.rglob("*"):
        if path.is_file() and path.name != "expected.txt":
            target = root / path.relative_to(case_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    return root


def test_base_fixture_is_valid():
    result = check([BASE], root=BASE)
    assert [str(p) for p in result.problems] == []
    assert result.files == 5
    assert sorted(result.corpus.besoins) == ["ordinateurs-portables-dijon"]


@pytest.mark.parametrize("case", CASES)
def test_each_rule_has_a_failing_fixture(tmp_path, case):
    root = build_case(tmp_path, case)
    result = check([root], root=root)
    produced = [str(p) for p in result.problems]
    expected = [line for line in (FIXTURES / "cases" / case / "expected.txt").read_text(encoding="utf-8").splitlines() if line]
    for line in expected:
        assert any(p.startswith(line) for p in produced), f"expected {line!r} among:\n" + "\n".join(produced)
    assert not result.ok
    # an invalid file never reaches the corpus: nothing half-valid is built
    bad_files = {p.file for p in result.errors}
    built = {e.path for e in result.corpus.all()}
    assert not (bad_files & built)


def test_every_error_is_reported_at_once(tmp_path):
    root = build_case(tmp_path, "plusieurs-erreurs-a-la-fois")
    result = check([root], root=root)
    assert len({p.file for p in result.errors}) == 2
    assert len(result.errors) >= 3  # commune, statut, categorie


def test_rules_are_documented():
    for rule in CROSS_FILE_RULES:
        assert rule.__doc__ and len(rule.__doc__) > 20, rule.__name__


def test_schemas_are_valid_draft7():
    assert set(validators()) == {"organisation", "besoin", "offre", "exemple"}


@pytest.mark.parametrize("number,ok", [("732829320", True), ("732829321", False), ("44306184100047", True),
                                       ("44306184100048", False), ("356000000", True)])
def test_luhn(number, ok):
    assert luhn_ok(number) is ok


def test_check_command_exit_status_and_output(tmp_path, capsys):
    assert cli_main(["check", str(BASE)]) == 0
    root = build_case(tmp_path, "commune-inconnue")
    assert cli_main(["check", str(root)]) == 1
    out = capsys.readouterr().out
    assert "territoire.commune : « 21999 » n'est pas un code commune connu" in out
    assert "1 erreur(s) à corriger" in out


def test_check_github_annotations(tmp_path, capsys):
    root = build_case(tmp_path, "commune-inconnue")
    cli_main(["check", "--format", "github", str(root)])
    out = capsys.readouterr().out
    assert out.startswith("::error file=") and ",line=14,col=12::territoire.commune" in out


def test_unsafe_tag_does_not_execute(tmp_path):
    root = build_case(tmp_path, "etiquette-yaml")
    check([root], root=root)
    assert not Path("PWNED_MARKER_FILE").exists() and not (tmp_path / "PWNED_MARKER_FILE").exists()


def test_symlink_is_rejected(tmp_path):
    root = build_case(tmp_path, "commune-inconnue")
    (root / "besoins" / "lien.yaml").symlink_to("/etc/passwd")
    result = check([root], root=root)
    assert any("liens symboliques" in str(p) for p in result.problems)


def test_shipped_content_is_valid():
    """`associe check content/` exits 0 on what the repository ships."""
    completed = subprocess.run([sys.executable, "-m", "associe.cli", "check", str(ROOT / "content")],
                               capture_output=True, text=True, cwd=ROOT,
                               env={"PYTHONPATH": str(ROOT / "plugins"), "PATH": "/usr/bin:/bin"})
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "aucune erreur" in completed.stdout


def test_fast_gate_agrees_with_the_full_validator(tmp_path):
    """fastjsonschema lets a file through only when jsonschema finds nothing either."""
    import fastjsonschema
    from associe.loading import discover, load_file
    from associe.validation import fast_validators

    for case in CASES:
        root = build_case(tmp_path / case, case)
        for path in discover([root]):
            loaded = load_file(path, root)
            if loaded.data is None or not loaded.kind:
                continue
            full = list(validators()[loaded.kind].iter_errors(loaded.data))
            try:
                fast_validators()[loaded.kind](loaded.data)
                fast_ok = True
            except fastjsonschema.JsonSchemaException:
                fast_ok = False
            assert fast_ok == (not full), (case, path.name, [e.message for e in full])


def test_check_cache_reuses_unchanged_files_and_rechecks_changed_ones(tmp_path):
    root = tmp_path / "content"
    shutil.copytree(BASE, root)
    cache = tmp_path / "cache"
    first = check([root], root=root, cache_dir=cache)
    assert first.ok and (cache / "check-cache.pickle").exists()
    second = check([root], root=root, cache_dir=cache)
    assert second.ok and sorted(e.path for e in second.corpus.all()) == sorted(e.path for e in first.corpus.all())
    # an edit after a cached run is validated again
    need = root / "besoins" / "ordinateurs-portables-dijon.yaml"
    need.write_text(need.read_text(encoding="utf-8").replace("statut: ouvert", "statut: ouvrt"), encoding="utf-8")
    third = check([root], root=root, cache_dir=cache)
    assert any("« ouvrt » n'est pas une valeur possible" in str(p) for p in third.errors)
    # and a cached error is still reported on the next run
    fourth = check([root], root=root, cache_dir=cache)
    assert [str(p) for p in fourth.errors] == [str(p) for p in third.errors]


def test_a_drafted_example_left_incomplete_is_a_warning_not_an_error(tmp_path, capsys):
    root = tmp_path / "content"
    shutil.copytree(BASE, root)
    example = root / "exemples" / "banque-alimentaire-ibm.yaml"
    example.write_text(example.read_text(encoding="utf-8").replace(
        "resume: Des salariés", "resume: \"À compléter : racontez le partenariat.\"\nresultats: Des salariés"), encoding="utf-8")
    result = check([root], root=root)
    assert result.ok
    [warning] = result.problems
    assert str(warning).startswith("exemples/banque-alimentaire-ibm.yaml:14:9: avertissement : resume : texte encore à compléter")
    assert cli_main(["check", str(root)]) == 0
