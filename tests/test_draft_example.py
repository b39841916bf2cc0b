"""``associe draft-example``: a fulfilled need becomes the draft of an inspiring example, valid for
``associe check``, with « À compléter » where only the partners know."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from associe.draft_example import TODO_MARKER, main_draft, todo_fields
from associe.loading import StrictLoader
from associe.paths import CONTENT_DIR, ROOT
from associe.validation import check

FIXTURE = Path(__file__).parent / "fixtures" / "gaps"
NEED = "comptes-annuels-atelier-dijon"          # statut: pourvu
OFFER = "comptabilite-benevole-dijon"


@pytest.fixture
def content(tmp_path) -> Path:
    folder = tmp_path / "content"
    shutil.copytree(FIXTURE, folder)
    return folder


def load(path: Path) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=StrictLoader)  # noqa: S506 - a SafeLoader


def valid(path: Path, content: Path) -> list:
    return check([path], root=content.parent, context_paths=[content]).errors


def test_draft_from_a_fulfilled_need_and_its_offer(content, capsys):
    assert main_draft([NEED, "--offre", OFFER, "--content", str(content)]) == 0
    target = content / "exemples" / f"{NEED}.yaml"
    data = load(target)
    assert valid(target, content) == []
    assert data["identifiant"] == NEED and data["besoin"] == NEED and data["offre"] == OFFER
    assert data["partenaires"] == [
        {"nom": "Atelier numérique dijonnais", "nature": "association", "organisation": "atelier-numerique-dijon"},
        {"nom": "Cabinet comptable du Parc", "nature": "entreprise", "organisation": "cabinet-comptable-dijon"}]
    assert data["titre"] == ("Atelier numérique dijonnais et Cabinet comptable du Parc : "
                             "Aide d'un comptable pour clôturer nos comptes")
    assert (data["categorie"], data["type_de_soutien"]) == ("mecenat", "mecenat_competences")
    assert data["thematiques"] == ["numerique", "developpement_local"]       # the need's, then the offer's
    assert data["territoire"] == {"echelle": "commune", "code": "21231"}
    assert data["annee_debut"] == 2026
    assert data["fictif"] is True                                            # drafted from demo entries
    assert data["source"]["editeur"] == "Atelier numérique dijonnais et Cabinet comptable du Parc"
    # what only the partners know is marked, not invented
    assert todo_fields(data) == ["resume", "apports[0].texte", "apports[1].texte", "resultats", "et_ensuite"]
    assert all(data[key].startswith(f"{TODO_MARKER} : ") for key in ("resume", "resultats", "et_ensuite"))
    assert "duree_mois" not in data and "en_cours" not in data
    text = target.read_text(encoding="utf-8")
    assert "# À vérifier : l'année où le partenariat a commencé." in text
    assert "duree_mois: N" in text                                           # the duration, asked in a comment
    out = capsys.readouterr().out
    assert "Vérifié : aucune erreur de format." in out and "resume, apports[0].texte" in out


def test_draft_without_the_offer_lists_compatible_offers(content, capsys):
    assert main_draft([NEED, "--content", str(content)]) == 0
    target = content / "exemples" / f"{NEED}.yaml"
    data = load(target)
    assert valid(target, content) == []
    assert data["partenaires"][1] == {"nom": f"{TODO_MARKER} : nom de l'organisation qui a répondu", "nature": "autre"}
    assert "offre" not in data and "partenaires[1].nom" in todo_fields(data)
    assert data["type_de_soutien"] == "mecenat_competences"                   # the need's
    assert f"#   associe draft-example {NEED} --offre {OFFER}" in target.read_text(encoding="utf-8")
    assert f"Offres compatibles (relancez avec --offre) : {OFFER}." in capsys.readouterr().out


def test_refusals_write_nothing(content, capsys):
    exemples = content / "exemples"
    before = sorted(p.name for p in exemples.iterdir())
    assert main_draft(["ordinateurs-atelier-dijon", "--content", str(content)]) == 2       # still open
    assert "passez-le d'abord à « statut: pourvu »" in capsys.readouterr().err
    assert main_draft(["inconnu", "--content", str(content)]) == 2
    assert "besoin « inconnu » introuvable" in capsys.readouterr().err
    assert main_draft([NEED, "--offre", "inconnue", "--content", str(content)]) == 2
    assert "offre « inconnue » introuvable" in capsys.readouterr().err
    assert sorted(p.name for p in exemples.iterdir()) == before
    assert main_draft([NEED, "--offre", OFFER, "--content", str(content)]) == 0
    assert main_draft([NEED, "--offre", OFFER, "--content", str(content)]) == 2              # exists
    assert "--force" in capsys.readouterr().err
    assert main_draft([NEED, "--offre", OFFER, "--content", str(content), "--force"]) == 0


def test_output_to_stdout_and_elsewhere(content, tmp_path, capsys):
    assert main_draft([NEED, "--offre", OFFER, "--content", str(content), "--output", "-"]) == 0
    text = capsys.readouterr().out
    assert yaml.load(text, Loader=StrictLoader)["offre"] == OFFER  # noqa: S506
    assert not (content / "exemples" / f"{NEED}.yaml").exists()
    target = tmp_path / "relecture" / "exemples" / "recit.yaml"
    assert main_draft([NEED, "--offre", OFFER, "--content", str(content), "--output", str(target)]) == 1
    # the file name is the identifier: a different name is reported by the check, not hidden
    assert "identifiant" in capsys.readouterr().out


def test_todo_fields():
    assert todo_fields({"a": "ok", "b": [{"c": f"{TODO_MARKER} : x"}], "d": f"  {TODO_MARKER} : y"}) == ["b[0].c", "d"]


def test_works_on_the_shipped_content(tmp_path):
    """Every fulfilled need of content/ gives a draft that passes the check."""
    result = check([CONTENT_DIR])
    fulfilled = [e for e in result.corpus.besoins.values() if e.get("statut") == "pourvu"]
    if not fulfilled:
        pytest.skip("no « pourvu » need in content/")
    for need in fulfilled:
        target = tmp_path / "exemples" / f"{need.id}.yaml"
        assert main_draft([need.id, "--output", str(target)]) == 0, need.id
        assert check([target], root=ROOT, context_paths=[CONTENT_DIR]).errors == []
