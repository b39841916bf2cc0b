"""The contribution forms, defined once and generated from the schemas.

One list of fields per kind of entry (``FORMS``) drives everything a contributor fills in:

* the GitHub issue forms ``.github/ISSUE_TEMPLATE/{besoin,offre,exemple}.yml`` and
  ``config.yml`` (``associe forms`` writes them; ``tests/test_forms.py`` fails when the
  committed files differ from what this module generates — no drift);
* the intake bot (``associe.intake``), which walks these fields in order to read an issue
  body back into YAML;
* the forms of the site (``associe.site_forms``) and the terminal helper (``associe new``).

What comes from the schemas (``schemas/*.schema.json``): which fields are required, the
dropdown options (the French labels of ``x-libelles``), length limits and patterns (read
by the site forms and ``associe new``). What is written here: the French wording (label,
help, placeholder), the order, and how an answer is converted (``Field.convert``).

Every property of the schemas is either filled by a field (``Field.paths``) or listed in
``DERIVED`` with the reason it is not asked; ``tests/test_forms.py`` checks that the mapping
is total, so a new schema property cannot be forgotten.

Conventions:
* ``Field.paths`` are dotted paths in the entry (``territoire.commune``); a path that starts
  with ``org:`` goes to the new organisation's file (``org:contact.email``); ``[]`` marks a
  list item (``partenaires[].nom``).
* The issue title is the entry's ``titre`` (GitHub always asks for a title): ``TITLE_FIELD``.
* GitHub cannot pre-fill a dropdown from a URL (the form falls back to a blank issue), so
  the site puts its dropdown answers in the textarea ``choix_du_site`` (``id: value`` lines)
  and dropdowns are not marked required on GitHub: the bot enforces them and says so.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import yaml

from .paths import ROOT, SCHEMAS_DIR
from .vocabulary import load_vocabularies

TEMPLATE_DIR = ROOT / ".github" / "ISSUE_TEMPLATE"
#: The repository the generated links point to. Forks regenerate with ``associe forms --repo``.
DEFAULT_REPO = "associe-annuaire/associe"
SUBMISSION_LABEL = "soumission"
GENERATED_HEADER = ("# Fichier généré par « associe forms » à partir de schemas/ et de plugins/associe/forms.py :\n"
                    "# ne pas le modifier à la main (un test échoue si ce fichier et le générateur divergent).\n")

KIND_TITLES = {"besoin": "Besoin", "offre": "Offre", "exemple": "Exemple"}
EMPTY_ANSWERS = {"", "_No response_", "None"}   # what GitHub writes for an unanswered field
YES_NO = {"oui": "Oui, il continue aujourd'hui", "non": "Non, il est terminé"}


@dataclass(frozen=True)
class Field:
    """One question of a form.

    ``type`` is an issue-form element type (input, textarea, dropdown, checkboxes, markdown).
    ``convert`` says how the answer becomes YAML: line, text, int, date, commune,
    territory_code, identifier, official_numbers, quantity, vocabulary, yes_no, partners,
    site_choices, commitments, markdown.
    """
    id: str
    type: str
    label: str
    description: str = ""
    placeholder: str = ""
    paths: tuple[str, ...] = ()
    convert: str = "line"
    vocabulary: str | None = None
    multiple: bool = False
    required: bool = False          # the bot requires an answer
    github_required: bool | None = None   # `validations.required` on GitHub (default: required)
    options: tuple[str, ...] = ()   # checkboxes: every one must be ticked
    value: str = ""                 # markdown text

    @property
    def asks(self) -> bool:
        """True for fields that produce a section (`### label`) in the issue body."""
        return self.type != "markdown"

    @property
    def is_github_required(self) -> bool:
        return self.required if self.github_required is None else self.github_required


@dataclass(frozen=True)
class Form:
    kind: str
    name: str
    description: str
    intro: str
    fields: tuple[Field, ...]

    @property
    def template(self) -> str:
        return f"{self.kind}.yml"

    @property
    def title_prefix(self) -> str:
        return f"[{KIND_TITLES[self.kind]}] "

    def field(self, field_id: str) -> Field:
        for f in self.fields:
            if f.id == field_id:
                return f
        raise KeyError(field_id)

    @property
    def asked(self) -> list[Field]:
        return [f for f in self.fields if f.asks]

    def field_for_path(self, path: str) -> Field | None:
        """The field that fills ``path`` (``territoire.commune``, ``org:nom``…)."""
        for f in self.fields:
            if path in f.paths:
                return f
        return None


# ----------------------------------------------------------------------------------- wording
WARNING = (
    "> [!WARNING]\n"
    "> **Ce ticket sera public dès son envoi**, visible par tout le monde sur internet, "
    "et GitHub garde l'historique de ses modifications.\n"
    "> N'y mettez **aucune donnée personnelle** : ni nom de personne, ni numéro de téléphone, "
    "ni adresse e-mail personnelle, ni adresse postale de particulier. Pour le contact, "
    "donnez une adresse de l'organisation (contact@…, partenariats@…) ou l'adresse de sa page de contact.\n"
)


def _intro(kind_phrase: str, title_example: str) -> str:
    return (
        WARNING + "\n"
        f"Merci de {kind_phrase} ! **Le titre du ticket** (tout en haut) devient le titre de l'annonce : "
        f"remplacez le début par quelques mots clairs, par exemple « {title_example} ».\n\n"
        "Dès l'envoi, un robot vérifie vos réponses et répond ici en quelques minutes : soit la liste de ce qu'il "
        "faut corriger (modifiez alors ce ticket, la vérification recommence), soit le lien vers la proposition "
        "de publication que des bénévoles relisent, en général sous une semaine.\n\n"
        "Les champs marqués « Obligatoire » doivent être remplis. Pas de compte GitHub ? Le site propose le même "
        "formulaire, avec un envoi par e-mail."
    )


ORGANISATION_INTRO = (
    "## Votre organisation\n\n"
    "Si votre organisation a déjà une fiche sur Asso'cie, donnez seulement son **identifiant** "
    "(la fin de l'adresse de sa fiche, par exemple `atelier-numerique-dijon`) et laissez les champs suivants vides. "
    "Sinon, décrivez-la ci-dessous : sa fiche sera créée en même temps que l'annonce."
)
COMMITMENTS_HELP = "Les trois cases sont obligatoires."
CHARTER_LINK = "../blob/HEAD/content/pages/charte.md"
HABILITATION = "Je suis habilité(e) à représenter cette structure."
CHARTER = f"J'accepte la [charte d'Asso'cie]({CHARTER_LINK}) et la publication de ces informations sous licence libre."
NO_PERSONAL_DATA = "Je n'ai indiqué aucune donnée personnelle (nom, téléphone ou e-mail d'une personne)."
EXAMPLE_HABILITATION = ("Je suis habilité(e) à représenter l'une de ces structures, ou l'exemple vient d'une source "
                        "publique que je cite ci-dessus.")

SITE_CHOICES = Field(
    id="choix_du_site", type="textarea", convert="site_choices", github_required=False,
    label="Choix faits sur le site",
    description=("Rempli automatiquement quand vous venez du formulaire du site Asso'cie : laissez-le tel quel. "
                 "Si vous choisissez aussi une valeur dans une liste ci-dessus, c'est elle qui compte."),
)


def _markdown(field_id: str, value: str) -> Field:
    return Field(id=field_id, type="markdown", label="", value=value, convert="markdown")


def _vocab(field_id: str, label: str, vocabulary: str, paths: Iterable[str], description: str,
           multiple: bool = False, required: bool = True) -> Field:
    note = "Obligatoire. " if required else "Facultatif. "
    return Field(id=field_id, type="dropdown", label=label, description=note + description, paths=tuple(paths),
                 convert="vocabulary", vocabulary=vocabulary, multiple=multiple, required=required,
                 github_required=False)


def organisation_fields() -> tuple[Field, ...]:
    """Questions about a new organisation (also ``associe new organisation``)."""
    return (
        Field(id="org_nom", type="input", label="Nom de l'organisation", paths=("org:nom",),
              description="Son nom usuel, tel qu'il apparaîtra sur sa fiche.",
              placeholder="Atelier numérique solidaire"),
        _vocab("org_nature", "Nature de l'organisation", "nature", ("org:nature",),
               "Association, entreprise, fondation…", required=False),
        _vocab("org_taille", "Taille de l'organisation", "taille", ("org:taille",),
               "Obligatoire pour une entreprise (TPE, PME…) ; pour une association : avec ou sans salarié.",
               required=False),
        Field(id="org_numeros", type="input", label="Numéro SIREN, SIRET ou RNA", convert="official_numbers",
              paths=("org:siren", "org:siret", "org:rna"),
              description=("Facultatif. SIREN (9 chiffres) ou SIRET (14 chiffres) d'une entreprise ou association "
                           "employeuse ; RNA d'une association (W suivi de 9 caractères). Plusieurs : séparez par une virgule."),
              placeholder="W212001234"),
        Field(id="org_commune", type="input", label="Commune du siège de l'organisation", convert="commune",
              paths=("org:commune",),
              description="Nom de la commune, code postal ou code INSEE.", placeholder="Dijon (21000)"),
        Field(id="org_site_web", type="input", label="Site web de l'organisation", paths=("org:site_web",),
              description="Facultatif. Adresse complète commençant par https://", placeholder="https://www.exemple.fr"),
        Field(id="org_presentation", type="textarea", label="Présentation de l'organisation", convert="text",
              paths=("org:presentation",),
              description="Ce que fait l'organisation, en quelques phrases (800 caractères au plus)."),
        _vocab("org_thematiques", "Thématiques de l'organisation", "thematique", ("org:thematiques",),
               "Une à cinq. Si vous laissez vide, ce seront celles de l'annonce.", multiple=True, required=False),
        Field(id="org_email", type="input", label="E-mail de contact de l'organisation", paths=("org:contact.email",),
              description=("Une adresse de l'organisation (contact@…, partenariats@…), jamais celle d'une personne. "
                           "Donnez cette adresse ou la page de contact ci-dessous (ou les deux)."),
              placeholder="contact@mon-asso.fr"),
        Field(id="org_formulaire", type="input", label="Page de contact de l'organisation",
              paths=("org:contact.formulaire",),
              description="Adresse d'une page de contact ou d'un formulaire, commençant par https://",
              placeholder="https://www.exemple.fr/contact"),
    )


def _need_or_offer(kind: str) -> Form:
    need = kind == "besoin"
    what = "ce que vous cherchez" if need else "ce que vous proposez"
    fields = (
        _markdown("avertissement", _intro("publier votre besoin" if need else "proposer votre offre",
                                          "Ordinateurs portables pour notre atelier numérique" if need
                                          else "Vingt ordinateurs portables à donner")),
        _vocab("type_de_soutien", "Type de soutien", "type_de_soutien", ("type_de_soutien",),
               f"La forme du soutien : {what}."),
        _vocab("categorie", "Catégorie de partenariat", "categorie", ("categorie",),
               "Mécénat (don, prêt, compétences), pratiques responsables, coopération économique ou innovation sociétale."),
        _vocab("objet", "Ce qui est concerné", "objet", ("objet",), "Matériel, locaux, compétences, financement…"),
        _vocab("thematiques", "Thématiques", "thematique", ("thematiques",), "Une à cinq.", multiple=True),
        Field(id="description", type="textarea", label="Description", convert="text", paths=("description",),
              required=True,
              description=(f"Décrivez {what} : quoi, combien, dans quel état, pour quoi faire, quand. "
                           "10 à 5 000 caractères ; vous pouvez utiliser le format Markdown. "
                           "Pas de téléphone ni d'e-mail ici : le contact passe par la fiche de l'organisation.")),
        Field(id="commune", type="input", label="Commune", convert="commune", paths=("territoire.commune",),
              required=True, description="Où se trouve " + ("le besoin" if need else "l'offre")
              + " : nom de la commune, code postal ou code INSEE.", placeholder="Dijon (21000)"),
        _vocab("portee", "Portée", "portee", ("territoire.portee",),
               "Jusqu'où " + ("vous pouvez aller chercher" if need else "vous pouvez livrer ou intervenir") + "."),
        Field(id="rayon_km", type="input", label="Rayon (km)", convert="int", paths=("territoire.rayon_km",),
              description="Seulement avec la portée « Dans un rayon autour de la commune » : un nombre de kilomètres (1 à 300).",
              placeholder="20"),
        Field(id="quantite", type="input", label="Quantité", convert="quantity",
              paths=("quantite.valeur", "quantite.unite"),
              description="Facultatif : un nombre suivi de l'unité.", placeholder="12 ordinateurs portables"),
        Field(id="disponible_a_partir_du", type="input", label="Disponible à partir du", convert="date",
              paths=("disponible_a_partir_du",),
              description="Facultatif. Date au format JJ/MM/AAAA ou AAAA-MM-JJ.", placeholder="01/10/2026"),
        Field(id="valable_jusqu_au", type="input", label="Valable jusqu'au", convert="date",
              paths=("valable_jusqu_au",), required=True,
              description=("Date après laquelle l'annonce disparaît du site : au plus un an après aujourd'hui "
                           "(vous pourrez la prolonger). Format JJ/MM/AAAA ou AAAA-MM-JJ."),
              placeholder="31/03/2027"),
        _markdown("organisation_intro", ORGANISATION_INTRO),
        Field(id="organisation", type="input", label="Identifiant de votre organisation sur Asso'cie",
              convert="identifier", paths=("organisation",),
              description="Seulement si elle a déjà une fiche. Sinon, laissez vide et remplissez les champs suivants.",
              placeholder="atelier-numerique-dijon"),
        *organisation_fields(),
        SITE_CHOICES,
        Field(id="engagements", type="checkboxes", label="Engagements", convert="commitments", required=True,
              description=COMMITMENTS_HELP, options=(HABILITATION, CHARTER, NO_PERSONAL_DATA)),
    )
    return Form(
        kind=kind,
        name="Publier un besoin" if need else "Proposer une offre",
        description=("Votre association (ou entreprise) cherche du matériel, des compétences, un local, un financement…"
                     if need else
                     "Votre entreprise (ou association) propose du matériel, des compétences, un local, un financement…"),
        intro=fields[0].value,
        fields=fields,
    )


def _example() -> Form:
    def partner(n: int) -> tuple[Field, ...]:
        return (
            Field(id=f"partenaire_{n}_nom", type="input", label=f"Partenaire {n} : nom",
                  paths=("partenaires[].nom",), required=True,
                  placeholder="Banque alimentaire de Côte-d'Or" if n == 1 else "IBM France"),
            _vocab(f"partenaire_{n}_nature", f"Partenaire {n} : nature", "nature", ("partenaires[].nature",),
                   "Association, entreprise, fondation…"),
            Field(id=f"partenaire_{n}_organisation", type="input", label=f"Partenaire {n} : identifiant sur Asso'cie",
                  convert="identifier", paths=("partenaires[].organisation",),
                  description="Facultatif : seulement si ce partenaire a déjà une fiche sur Asso'cie."),
        )

    fields = (
        _markdown("avertissement", _intro("partager cet exemple de partenariat",
                                          "Des informaticiens bénévoles pour la Banque alimentaire")),
        *partner(1),
        *partner(2),
        Field(id="autres_partenaires", type="textarea", label="Autres partenaires", convert="partners",
              paths=("partenaires[].nom", "partenaires[].nature"),
              description=("Facultatif. Un partenaire par ligne : son nom, un point-virgule, sa nature "
                           "(ex. « Mairie de Quetigny ; Collectivité territoriale »).")),
        _vocab("categorie", "Catégorie de partenariat", "categorie", ("categorie",),
               "Mécénat, pratiques responsables, coopération économique ou innovation sociétale."),
        _vocab("type_de_soutien", "Type de soutien", "type_de_soutien", ("type_de_soutien",),
               "La forme principale du partenariat."),
        _vocab("thematiques", "Thématiques", "thematique", ("thematiques",), "Une à cinq.", multiple=True),
        _vocab("echelle", "Échelle du territoire", "echelle", ("territoire.echelle",),
               "Commune, département, région ou national."),
        Field(id="territoire", type="input", label="Territoire", convert="territory_code", paths=("territoire.code",),
              description=("Selon l'échelle : la commune (nom, code postal ou code INSEE), le département "
                           "(nom ou numéro), la région (nom). Laissez vide pour « National »."),
              placeholder="Côte-d'Or"),
        Field(id="annee_debut", type="input", label="Année de début", convert="int", paths=("annee_debut",),
              required=True, placeholder="2019"),
        Field(id="duree_mois", type="input", label="Durée (mois)", convert="int", paths=("duree_mois",),
              description="Facultatif : durée du partenariat en mois, s'il est terminé.", placeholder="18"),
        Field(id="en_cours", type="dropdown", label="Le partenariat continue-t-il ?", convert="yes_no",
              paths=("en_cours",), options=tuple(YES_NO.values()), github_required=False,
              description="Facultatif."),
        Field(id="resume", type="textarea", label="Résumé", convert="text", paths=("resume",), required=True,
              description="Le partenariat en quelques phrases : qui, quoi, comment (10 à 1 500 caractères)."),
        Field(id="apport_partenaire_1", type="textarea", label="Ce que le partenaire 1 y a gagné", convert="text",
              paths=("apports[].partenaire", "apports[].texte"), required=True,
              description="Ce que le partenariat a apporté au partenaire 1 (10 à 1 000 caractères)."),
        Field(id="apport_partenaire_2", type="textarea", label="Ce que le partenaire 2 y a gagné", convert="text",
              paths=("apports[].partenaire", "apports[].texte"),
              description="Facultatif, mais précieux : ce que le partenariat a apporté au partenaire 2."),
        Field(id="resultats", type="textarea", label="Résultats", convert="text", paths=("resultats",),
              description="Facultatif : chiffres, effets observés."),
        Field(id="et_ensuite", type="textarea", label="Et ensuite ?", convert="text", paths=("et_ensuite",),
              description="Facultatif : ce qui a suivi (par exemple, du mécénat à des pratiques responsables)."),
        Field(id="besoin", type="input", label="Besoin lié sur Asso'cie", convert="identifier", paths=("besoin",),
              description="Facultatif : identifiant du besoin publié sur Asso'cie dont cet exemple est issu."),
        Field(id="offre", type="input", label="Offre liée sur Asso'cie", convert="identifier", paths=("offre",),
              description="Facultatif : identifiant de l'offre publiée sur Asso'cie dont cet exemple est issu."),
        Field(id="source_titre", type="input", label="Source : titre", paths=("source.titre",), required=True,
              description="Le document public qui décrit ce partenariat (rapport, article, guide…).",
              placeholder="Exemples inspirants d'alliances"),
        Field(id="source_editeur", type="input", label="Source : éditeur", paths=("source.editeur",), required=True,
              description="Qui l'a publié.", placeholder="Le RAMEAU"),
        Field(id="source_url", type="input", label="Source : adresse web", paths=("source.url",),
              description="Facultatif. Adresse complète commençant par https://"),
        Field(id="source_date", type="input", label="Source : date", convert="date", paths=("source.date",),
              description="Facultatif. Date de publication, JJ/MM/AAAA ou AAAA-MM-JJ."),
        SITE_CHOICES,
        Field(id="engagements", type="checkboxes", label="Engagements", convert="commitments", required=True,
              description=COMMITMENTS_HELP, options=(EXAMPLE_HABILITATION, CHARTER, NO_PERSONAL_DATA)),
    )
    return Form(kind="exemple", name="Partager un exemple",
                description="Un partenariat réel entre une association et une entreprise (ou une autre structure) qui peut inspirer.",
                intro=fields[0].value, fields=fields)


FORMS: dict[str, Form] = {"besoin": _need_or_offer("besoin"), "offre": _need_or_offer("offre"), "exemple": _example()}
#: ``associe new organisation`` asks these questions (the organisation part of the forms).
ORGANISATION_FORM = Form(kind="organisation", name="Créer la fiche d'une organisation",
                         description="Une organisation qui publie des besoins ou des offres.", intro="",
                         fields=organisation_fields())

#: The issue title becomes the entry's title.
TITLE_FIELD = Field(id="title", type="input", label="Titre du ticket", paths=("titre",), required=True)

#: Schema properties no form question fills, and why (checked by tests/test_forms.py).
DERIVED: dict[str, dict[str, str]] = {
    "besoin": {
        "identifiant": "formé à partir du titre (le nom du fichier)",
        "titre": "le titre du ticket",
        "date_publication": "la date d'ouverture du ticket",
        "statut": "« ouvert » à la publication ; l'auteur ou les mainteneurs le changent ensuite",
        "derniere_confirmation": "posée quand l'auteur confirme plus tard que l'annonce tient toujours",
        "fictif": "réservé aux entrées de démonstration",
    },
    "exemple": {
        "identifiant": "formé à partir du titre (le nom du fichier)",
        "titre": "le titre du ticket",
        "fictif": "réservé aux entrées de démonstration",
    },
    "organisation": {
        "identifiant": "formé à partir du nom (le nom du fichier)",
        "fictif": "réservé aux entrées de démonstration",
        "contact.adresse_de_role_confirmee": "réservé aux mainteneurs, après vérification",
    },
}
DERIVED["offre"] = dict(DERIVED["besoin"])

#: Required properties answered by one question *or* another (the bot requires one of them):
#: a need or offer names an existing organisation, or describes a new one.
ONE_OF: dict[str, dict[str, tuple[str, ...]]] = {
    "besoin": {"organisation": ("organisation", "org_nom")},
    "offre": {"organisation": ("organisation", "org_nom")},
    "exemple": {},
}


# ----------------------------------------------------------------------------------- schemas
@lru_cache(maxsize=None)
def _schemas(schemas_dir: Path = SCHEMAS_DIR) -> dict[str, dict]:
    return {name: json.loads((schemas_dir / f"{name}.schema.json").read_text(encoding="utf-8"))
            for name in ("definitions", "organisation", "besoin", "offre", "exemple")}


def _resolve(node: dict, schemas: dict[str, dict]) -> dict:
    """Merge ``$ref`` and ``allOf`` into one flat schema dict (enough for forms: types,
    lengths, patterns, enums, properties, required). The outermost keyword wins, as the
    tighter limit is always the local one in our schemas (e.g. ``titre`` maxLength 120)."""
    merged: dict[str, Any] = {}
    ref = node.get("$ref")
    if ref:
        file_part, _, pointer = ref.partition("#")
        doc = schemas[file_part.replace(".schema.json", "")] if file_part else schemas["definitions"]
        target = doc
        for step in [s for s in pointer.split("/") if s]:
            target = target[step]
        merged.update(_resolve(target, schemas))
    for part in node.get("allOf", []):
        resolved = _resolve(part, schemas)
        for key, value in resolved.items():
            merged.setdefault(key, value)
    for key, value in node.items():
        if key not in ("$ref", "allOf"):
            merged[key] = value
    return merged


def property_schema(kind: str, path: str) -> dict:
    """The flattened schema of ``path`` (``territoire.commune``, ``partenaires[].nom``) in ``kind``."""
    schemas = _schemas()
    node = _resolve(schemas[kind], schemas)
    for step in path.split("."):
        is_item = step.endswith("[]")
        name = step[:-2] if is_item else step
        node = _resolve(node["properties"][name], schemas)
        if is_item:
            node = _resolve(node["items"], schemas)
    return node


def is_required(kind: str, path: str) -> bool:
    """True when every ancestor and the property itself are required (``quantite.valeur`` is not)."""
    schemas = _schemas()
    node = _resolve(schemas[kind], schemas)
    for step in path.split("."):
        is_item = step.endswith("[]")
        name = step[:-2] if is_item else step
        if name not in node.get("required", []):
            return False
        node = _resolve(node["properties"][name], schemas)
        if is_item:
            node = _resolve(node["items"], schemas)
    return True


def schema_paths(kind: str) -> list[str]:
    """Every leaf property path of ``kind`` (objects are walked, list items marked ``[]``)."""
    schemas = _schemas()
    out: list[str] = []

    def walk(node: dict, prefix: str) -> None:
        for name, sub in node.get("properties", {}).items():
            sub = _resolve(sub, schemas)
            path = f"{prefix}{name}"
            if sub.get("type") == "object":
                walk(sub, path + ".")
            elif sub.get("type") == "array" and _resolve(sub.get("items", {}), schemas).get("type") == "object":
                walk(_resolve(sub["items"], schemas), path + "[].")
            else:
                out.append(path)

    walk(_resolve(schemas[kind], schemas), "")
    return out


def schema_for_path(kind: str, path: str) -> tuple[str, str]:
    """(schema kind, path inside it) for a field path: ``org:nom`` -> ("organisation", "nom")."""
    if path.startswith("org:"):
        return "organisation", path[4:]
    return kind, path


def options(f: Field) -> list[str]:
    """The labels shown in a dropdown (vocabulary labels in schema order)."""
    if f.vocabulary:
        return list(load_vocabularies()[f.vocabulary].values())
    return list(f.options)


def option_values(f: Field) -> dict[str, str]:
    """label -> YAML value for a dropdown."""
    if f.vocabulary:
        return {label: value for value, label in load_vocabularies()[f.vocabulary].items()}
    if f.convert == "yes_no":
        return {label: value for value, label in YES_NO.items()}
    return {label: label for label in f.options}


# ----------------------------------------------------------------------------------- issue forms
def _element(f: Field) -> dict:
    if f.type == "markdown":
        return {"type": "markdown", "attributes": {"value": f.value}}
    attributes: dict[str, Any] = {"label": f.label}
    if f.description:
        attributes["description"] = f.description
    if f.type == "dropdown":
        attributes["multiple"] = f.multiple
        attributes["options"] = options(f)
    elif f.type == "checkboxes":
        attributes["options"] = [{"label": option, "required": True} for option in f.options]
    elif f.placeholder:
        attributes["placeholder"] = f.placeholder
    element: dict[str, Any] = {"type": f.type, "id": f.id, "attributes": attributes}
    if f.type != "checkboxes":
        element["validations"] = {"required": f.is_github_required}
    return element


def issue_template(form: Form) -> dict:
    return {
        "name": form.name,
        "description": form.description,
        "title": form.title_prefix,
        "labels": [SUBMISSION_LABEL, form.kind],
        "body": [_element(f) for f in form.fields],
    }


def issue_config(repo: str = DEFAULT_REPO) -> dict:
    return {
        "blank_issues_enabled": False,
        "contact_links": [
            {"name": "Poser une question ou signaler un problème",
             "url": f"https://github.com/{repo}/blob/HEAD/CONTRIBUTING.md#poser-une-question",
             "about": "Pour une question, une demande de retrait ou de correction : voir comment nous écrire."},
        ],
    }


class _FormDumper(yaml.SafeDumper):
    """Readable, stable YAML for the templates: block lists, literal blocks for multi-line text."""

    def increase_indent(self, flow: bool = False, indentless: bool = False):  # noqa: D401 - PyYAML hook
        return super().increase_indent(flow, False)


def _str_representer(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_FormDumper.add_representer(str, _str_representer)


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_FormDumper, allow_unicode=True, sort_keys=False, width=1000,
                     default_flow_style=False)


def generate(repo: str = DEFAULT_REPO) -> dict[str, str]:
    """File name (in .github/ISSUE_TEMPLATE/) -> text."""
    files = {form.template: GENERATED_HEADER + dump_yaml(issue_template(form)) for form in FORMS.values()}
    files["config.yml"] = GENERATED_HEADER + dump_yaml(issue_config(repo))
    return files


def write(target: Path = TEMPLATE_DIR, repo: str = DEFAULT_REPO) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in generate(repo).items():
        path = target / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def main_forms(args) -> int:
    """``associe forms``: regenerate the issue forms (``--check``: fail if they are stale)."""
    target = Path(args.output) if getattr(args, "output", None) else TEMPLATE_DIR
    repo = getattr(args, "repo", None) or DEFAULT_REPO
    if getattr(args, "check", False):
        stale = [name for name, text in generate(repo).items()
                 if not (target / name).exists() or (target / name).read_text(encoding="utf-8") != text]
        for name in stale:
            print(f"{target / name} : périmé, lancez « associe forms » pour le régénérer.")
        return 1 if stale else 0
    written = write(target, repo)
    for path in written:
        print(f"écrit : {path}")
    if not written:
        print("formulaires déjà à jour.")
    return 0
