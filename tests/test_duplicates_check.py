"""Warnings for likely duplicates in a pull request (``associe duplicates``)."""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from associe.cli import main
from associe.duplicates_check import changed_entry_files, find_duplicates, fold, similarity
from associe.intake import dump_yaml, load_yaml

BASE = Path(__file__).resolve().parent / "fixtures" / "validation" / "base"


@pytest.fixture
def content(tmp_path):
    target = tmp_path / "content"
    shutil.copytree(BASE, target)
    return target


def write(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_yaml(data), encoding="utf-8")
    return path


def need(content: Path, name: str, **changes) -> Path:
    data = load_yaml((BASE / "besoins" / "ordinateurs-portables-dijon.yaml").read_text(encoding="utf-8"))
    data.update(identifiant=name, **changes)
    return write(content / "besoins" / f"{name}.yaml", data)


def test_same_organisation_and_similar_title(content):
    new = need(content, "ordinateurs-portables-ateliers", titre="Des ordinateurs portables pour nos ateliers",
               description="Un tout autre texte, qui ne ressemble pas du tout au premier besoin publié.")
    problems = find_duplicates([new], content, content.parent)
    assert len(problems) == 1
    p = problems[0]
    assert p.severity == "avertissement" and p.file == "content/besoins/ordinateurs-portables-ateliers.yaml"
    assert "content/besoins/ordinateurs-portables-dijon.yaml" in p.message and "même organisation" in p.message


def test_near_identical_text_from_another_organisation(content):
    original = load_yaml((BASE / "besoins" / "ordinateurs-portables-dijon.yaml").read_text(encoding="utf-8"))
    new = need(content, "recherche-materiel", titre="Recherche de matériel", organisation="informatique-chenove",
               description=original["description"].replace("récents", "recents") + " Merci.")
    problems = find_duplicates([new], content, content.parent)
    assert len(problems) == 1 and "texte presque identique" in problems[0].message


def test_different_entries_are_not_flagged(content):
    new = need(content, "local-de-stockage", titre="Un local de stockage pour la collecte",
               description="Nous cherchons un garage ou un local sec de 20 m² pour stocker les dons de vêtements.")
    assert find_duplicates([new], content, content.parent) == []


def test_organisations_with_the_same_number_or_site(content):
    org = load_yaml((BASE / "organisations" / "informatique-chenove.yaml").read_text(encoding="utf-8"))
    new = write(content / "organisations" / "cis-chenove.yaml",
                {**org, "identifiant": "cis-chenove", "nom": "CIS", "site_web": "https://chenove-informatique.example/"})
    message = find_duplicates([new], content, content.parent)[0].message
    assert "même numéro SIREN" in message and "même site web" in message


def test_examples_with_the_same_source(content):
    ex = load_yaml((BASE / "exemples" / "banque-alimentaire-ibm.yaml").read_text(encoding="utf-8"))
    ex["source"]["url"] = "https://www.lerameau.fr/x"
    write(content / "exemples" / "banque-alimentaire-ibm.yaml", ex)
    new = write(content / "exemples" / "autre.yaml", {**ex, "identifiant": "autre", "titre": "Tout autre chose ici"})
    assert "même source" in find_duplicates([new], content, content.parent)[0].message


def test_folding_ignores_accents_case_and_common_words():
    assert fold("L'Association des Amis du Vélo") == "amis velo"
    assert similarity(fold("Café solidaire"), fold("cafe Solidaire")) == 1.0


def test_command_prints_annotations_and_never_fails(content, capsys):
    new = need(content, "ordinateurs-portables-ateliers", titre="Ordinateurs portables pour nos ateliers !")
    assert main(["duplicates", str(new), "--content", str(content), "--format", "github"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("::warning file=content/besoins/ordinateurs-portables-ateliers.yaml,line=1")


def test_changed_files_from_git(content):
    root = content.parent
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    subprocess.run(git + ["-C", str(root), "add", "."], check=True)
    subprocess.run(git + ["-C", str(root), "commit", "-qm", "base"], check=True)
    subprocess.run(["git", "-C", str(root), "branch", "base"], check=True)
    new = need(content, "nouveau-besoin", titre="Nouveau besoin de chaises")
    (content / "README.md").write_text("x", encoding="utf-8")
    subprocess.run(git + ["-C", str(root), "add", "."], check=True)
    subprocess.run(git + ["-C", str(root), "commit", "-qm", "ajout"], check=True)
    assert changed_entry_files("base", root) == [new]
    with pytest.raises(ValueError):
        changed_entry_files("--output=/tmp/x", root)


def test_fast_enough_on_a_large_directory(content):
    original = load_yaml((BASE / "besoins" / "ordinateurs-portables-dijon.yaml").read_text(encoding="utf-8"))
    words = "chaises tables vélos ordinateurs locaux camion repas jouets livres outils peinture tissus".split()
    for i in range(2000):
        w = words[i % len(words)], words[(i * 7) % len(words)], words[(i * 3) % len(words)]
        write(content / "besoins" / f"b{i}.yaml", {**original, "identifiant": f"b{i}", "organisation": f"org-{i % 50}",
                                                    "titre": f"Besoin {i} de {w[0]} et {w[1]}",
                                                    "description": f"Texte {i} : {w[0]} {w[1]} {w[2]} pour l'association {i}."})
    new = need(content, "nouveau", titre="Besoin de chaises et tables", organisation="org-3")
    start = time.perf_counter()
    find_duplicates([new], content, content.parent)
    assert time.perf_counter() - start < 10
