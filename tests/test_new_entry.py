"""``associe new``: the form's questions in the terminal, each answer checked at once, and a
file written only when the whole entry passes the project's validator."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from associe import new_entry
from associe.intake import load_yaml
from associe.territories import load_geography
from associe.validation import check

BASE = Path(__file__).resolve().parent / "fixtures" / "validation" / "base"
TODAY = dt.date(2026, 11, 10)


@pytest.fixture(scope="module")
def geo():
    return load_geography()


@pytest.fixture
def content(tmp_path):
    target = tmp_path / "content"
    shutil.copytree(BASE, target)
    return target


class Script:
    """Answers keyed by the start of the question; a list gives successive answers."""

    def __init__(self, answers: dict[str, list[str]]):
        self.answers = {k: list(v) for k, v in answers.items()}
        self.prompts: list[str] = []

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        for key, values in self.answers.items():
            if prompt.lstrip("\n").startswith(key) or ("[o/n]" in prompt and key in prompt):
                return values.pop(0) if len(values) > 1 else values[0]
        raise AssertionError(f"question inattendue : {prompt!r}")


NEED = {
    "Titre de l'annonce": ["PC", "Ordinateurs pour le club"], "Type de soutien": ["1"],
    "Catégorie de partenariat": ["Mécénat"], "Ce qui est concerné": ["1"], "Thématiques (": ["2, 1"],
    "Description": ["Des ordinateurs pour le club informatique des jeunes."], "Commune (": ["Dijonn", "Dijon"],
    "Portée": ["2"], "Rayon": ["30"], "Quantité": ["4 ordinateurs"], "Disponible": [""],
    "Valable jusqu'au": ["31/02/2027", "31/05/2027"], "Identifiant de votre organisation": [""],
    "Nom de l'organisation": ["Club Info Jeunes"], "Nature de l'organisation": ["1"],
    "Taille de l'organisation": [""], "Numéro SIREN": ["123", ""], "Commune du siège": ["Dijon"],
    "Site web": ["http://club.example", "https://club.example"],
    "Présentation de l'organisation": ["Un club informatique pour les jeunes du quartier."],
    "Thématiques de l'organisation": [""], "E-mail de contact": ["contact@club.example"], "Page de contact": [""],
    "Je suis habilité": ["o"], "J'accepte": ["oui"], "Je n'ai indiqué": ["o"],
}


def test_a_need_with_a_new_organisation(content, geo):
    said: list[str] = []
    written = new_entry.run("besoin", ask=Script(NEED), say=said.append, geography=geo, content_dir=content, today=TODAY)
    assert [p.relative_to(content).as_posix() for p in written] == ["besoins/ordinateurs-pour-le-club.yaml",
                                                                      "organisations/club-info-jeunes.yaml"]
    need = load_yaml(written[0].read_text(encoding="utf-8"))
    assert need["territoire"] == {"commune": "21231", "portee": "rayon", "rayon_km": 30}
    assert need["thematiques"] == ["numerique", "insertion"] and need["type_de_soutien"] == "don_materiel"
    assert need["quantite"] == {"valeur": 4, "unite": "ordinateurs"}
    assert need["date_publication"] == "2026-11-10" and need["organisation"] == "club-info-jeunes"
    # each bad answer was refused at once, in French, and asked again
    text = "\n".join(said)
    assert "texte trop court" in text and "Dijonn" in text and "31/02/2027" in text
    assert "« 123 » n'est ni un SIREN" in text and "https://" in text
    result = check([content], root=content.parent, geography=geo)
    assert result.errors == []


def test_an_existing_organisation_skips_its_questions(content, geo):
    answers = {**NEED, "Identifiant de votre organisation": ["atelier-numerique-dijon"]}
    script = Script(answers)
    written = new_entry.run("offre", ask=script, say=lambda s: None, geography=geo, content_dir=content, today=TODAY)
    assert len(written) == 1
    assert load_yaml(written[0].read_text(encoding="utf-8"))["organisation"] == "atelier-numerique-dijon"
    assert not any(p.lstrip("\n").startswith("Nom de l'organisation") for p in script.prompts)


def test_without_the_commitments_nothing_is_written(content, geo):
    answers = {**NEED, "Je suis habilité": ["n"], "Reprendre": ["o"]}
    said: list[str] = []
    written = new_entry.run("besoin", ask=Script(answers), say=said.append, geography=geo, content_dir=content,
                            today=TODAY)
    assert written == [] and "rien n'a été écrit" in "\n".join(said)
    assert not (content / "besoins" / "ordinateurs-pour-le-club.yaml").exists()


def test_an_organisation_alone(content, geo):
    answers = {"Nom de l'organisation": ["Ressourcerie du Val"], "Nature de l'organisation": ["Association"],
               "Taille de l'organisation": ["Association employeuse"], "Numéro SIREN": [""],
               "Commune du siège": ["Chenôve"], "Site web": [""],
               "Présentation de l'organisation": ["Une ressourcerie qui collecte et revend des objets réemployés."],
               "Thématiques de l'organisation": ["4"], "E-mail de contact": ["bonjour@ressourcerie-du-val.example"],
               "Page de contact": [""]}
    written = new_entry.run("organisation", ask=Script(answers), say=lambda s: None, geography=geo,
                            content_dir=content, today=TODAY)
    assert [p.name for p in written] == ["ressourcerie-du-val.yaml"]
    data = load_yaml(written[0].read_text(encoding="utf-8"))
    assert data["commune"] == "21166" and data["thematiques"] == ["economie_circulaire"]
    assert check([content], root=content.parent, geography=geo).errors == []


def test_an_example(content, geo):
    answers = {"Titre de l'annonce": ["Un atelier vélo avec une entreprise de transport"],
               "Partenaire 1 : nom": ["Vélo Solidaire"], "Partenaire 1 : nature": ["1"],
               "Partenaire 1 : identifiant": [""], "Partenaire 2 : nom": ["Transports Martin"],
               "Partenaire 2 : nature": ["2"], "Partenaire 2 : identifiant": [""], "Autres partenaires": [""],
               "Catégorie de partenariat": ["3"], "Type de soutien": ["6"], "Thématiques (": ["15"],
               "Échelle du territoire": ["2"], "Territoire": ["Côte-d'Or"], "Année de début": ["2022"],
               "Durée (mois)": [""], "Le partenariat continue": ["1"],
               "Résumé": ["Les mécaniciens de l'entreprise forment les bénévoles de l'atelier."],
               "Ce que le partenaire 1 y a gagné": ["Des bénévoles mieux formés et des pièces détachées."],
               "Ce que le partenaire 2 y a gagné": [""], "Résultats": [""], "Et ensuite": [""],
               "Besoin lié": [""], "Offre liée": [""], "Source : titre": ["Rapport d'activité 2023"],
               "Source : éditeur": ["Vélo Solidaire"], "Source : adresse web": [""], "Source : date": [""],
               "Je suis habilité": ["o"], "J'accepte": ["o"], "Je n'ai indiqué": ["o"]}
    written = new_entry.run("exemple", ask=Script(answers), say=lambda s: None, geography=geo, content_dir=content,
                            today=TODAY)
    data = load_yaml(written[0].read_text(encoding="utf-8"))
    assert data["territoire"] == {"echelle": "departement", "code": "21"} and data["en_cours"] is True
    assert data["partenaires"][1] == {"nom": "Transports Martin", "nature": "entreprise"}
    assert check([content], root=content.parent, geography=geo).errors == []


def test_single_answers_are_checked_against_the_schema():
    from associe.forms import FORMS

    form = FORMS["besoin"]
    errors, _ = new_entry.check_answer(form.field("org_email"), "besoin", "x@", None)
    assert errors and "e-mail" in errors[0]
    errors, _ = new_entry.check_answer(form.field("rayon_km"), "besoin", "500", None)
    assert errors and "300" in errors[0]
    assert new_entry.check_value("besoin", "titre", "Un titre correct") == []
    assert new_entry.check_value("exemple", "partenaires[].nom", "A") != []
