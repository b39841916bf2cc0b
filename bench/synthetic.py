"""Synthetic directories for benchmarks: organisations, needs, offers and examples, deterministic by seed.

Every entry is fictitious (``fictif: true``), placed on a real commune drawn with a probability
proportional to its population, written in French from templates, and valid against the schemas
and the cross-file rules (``--check`` runs ``associe.validation.check`` on the written folder).

In memory::

    from synthetic import generate
    directory = generate(needs=1000, offers=1000, seed=1)     # a Directory (a Corpus with places)
    directory.besoins["..."].place                             # enriched Entry objects

On disk (same layout as content/)::

    python bench/synthetic.py --entries 2000 --out /tmp/annuaire --seed 1 [--check]

``--entries N`` is the number of needs plus offers (half each); organisations default to N/5
(at least 2) and examples to N/20 (at least 1); ``--needs``, ``--offers``, ``--organisations``
and ``--examples`` set each count explicitly. ``--date`` is the reference build date (entries are
published before it; about 6 % are expired and 4 % already filled on that date).
"""
from __future__ import annotations

import argparse
import bisect
import datetime as dt
import itertools
import random
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "plugins") not in sys.path:
    sys.path.insert(0, str(ROOT / "plugins"))

from associe.records import Corpus, Entry, Place  # noqa: E402

DEFAULT_DATE = dt.date(2026, 11, 24)


# ------------------------------------------------------------------ templates
@dataclass(frozen=True)
class Family:
    """One kind of exchange: what the need asks for and what the offer gives."""
    name: str
    need_types: tuple[str, ...]
    offer_types: tuple[str, ...]
    categories: tuple[str, ...]
    objet: str
    themes: tuple[str, ...]
    items: tuple[tuple[str, str | None, int, int], ...]   # (item, unit or None, min quantity, max quantity)
    need_titles: tuple[str, ...]
    offer_titles: tuple[str, ...]
    need_texts: tuple[str, ...]
    offer_texts: tuple[str, ...]


FAMILIES: tuple[Family, ...] = (
    Family(
        "informatique", ("don_materiel", "pret_materiel"), ("don_materiel", "pret_materiel"), ("mecenat",), "informatique",
        ("numerique", "insertion", "education", "jeunesse", "seniors", "precarite"),
        (("ordinateurs portables", "ordinateurs portables", 3, 40), ("ordinateurs de bureau", "ordinateurs", 3, 30),
         ("tablettes", "tablettes", 5, 40), ("écrans", "écrans", 4, 30), ("imprimantes", "imprimantes", 1, 6),
         ("smartphones reconditionnés", "smartphones", 5, 50), ("vidéoprojecteurs", "vidéoprojecteurs", 1, 4)),
        ("{Item} pour notre atelier numérique", "Recherche {item} pour {purpose}", "{Item} pour équiper {place_word}",
         "Besoin de {item} à {commune}"),
        ("Don de {item} issus du renouvellement de notre parc", "{Item} reconditionnés à donner",
         "Prêt de {item} pour des associations", "{Item} disponibles à {commune}"),
        ("Notre association accompagne {public} à {commune}. Nous cherchons des {item} en état de marche pour {purpose}.",
         "Les {item} serviront à {purpose}. Un bénévole peut venir les chercher à {commune} ou dans les environs.",
         "Depuis l'an dernier, la demande d'accompagnement numérique a doublé. Des {item}, même d'occasion, "
         "nous permettraient d'ouvrir un deuxième créneau d'atelier pour {public}."),
        ("Nous renouvelons le parc informatique de notre site de {commune}. Les {item} sont effacés, testés et "
         "reconditionnés avant le don.", "Notre entreprise donne des {item} à des associations qui luttent contre la "
         "fracture numérique. Enlèvement sur place ou livraison dans un rayon raisonnable.",
         "Des {item} en bon état, avec chargeurs et système réinstallé, pour des projets d'inclusion numérique."),
    ),
    Family(
        "mobilier", ("don_materiel",), ("don_materiel",), ("mecenat",), "mobilier",
        ("precarite", "logement", "education", "culture", "economie_circulaire"),
        (("tables et chaises", "chaises", 10, 80), ("bureaux", "bureaux", 2, 20), ("armoires de rangement", "armoires", 1, 10),
         ("canapés et fauteuils", "fauteuils", 2, 12), ("lits et matelas", "lits", 2, 20)),
        ("{Item} pour notre nouveau local", "Recherche {item} pour {purpose}", "Meubler {place_word} : {item}"),
        ("Don de {item} après le réaménagement de nos bureaux", "{Item} à céder gratuitement à {commune}",
         "Mobilier de bureau : {item} à donner"),
        ("Nous emménageons dans un local plus grand à {commune} et manquons de {item} pour {purpose}.",
         "Notre association accueille {public} et doit équiper une salle d'activités : des {item} sont bienvenus.",),
        ("Suite au réaménagement de nos bureaux à {commune}, nous donnons des {item} en bon état à des associations.",
         "Des {item} issus de notre showroom sont à donner : enlèvement à prévoir par l'association."),
    ),
    Family(
        "alimentaire", ("don_materiel",), ("don_materiel",), ("mecenat", "cooperation_economique"), "alimentaire",
        ("alimentation", "precarite", "economie_circulaire", "environnement"),
        (("invendus alimentaires", "kg", 50, 2000), ("fruits et légumes", "kg", 30, 1000), ("produits laitiers", "kg", 20, 500),
         ("repas préparés", "repas", 20, 400), ("pain et viennoiseries", "kg", 10, 200)),
        ("Collecte de {item} pour notre épicerie solidaire", "{Item} pour les familles que nous aidons",
         "Recherche {item} pour {purpose}"),
        ("Dons de {item} chaque semaine", "{Item} à redistribuer à {commune}", "Lutte contre le gaspillage : {item} à donner"),
        ("Notre épicerie solidaire de {commune} accueille chaque semaine des familles en difficulté. Nous recherchons "
         "des {item} pour {purpose}.", "La banque alimentaire locale ne suffit plus : des {item} réguliers nous "
         "aideraient à tenir jusqu'à la fin de l'hiver."),
        ("Notre magasin de {commune} donne ses {item} à des associations d'aide alimentaire, avec un enlèvement "
         "plusieurs fois par semaine.", "Pour lutter contre le gaspillage, nous cherchons une association qui "
         "récupère nos {item} et les redistribue."),
    ),
    Family(
        "textile", ("don_materiel",), ("don_materiel",), ("mecenat",), "textile",
        ("precarite", "insertion", "economie_circulaire", "egalite"),
        (("vêtements de travail", "pièces", 20, 300), ("vêtements chauds", "pièces", 20, 500), ("linge de maison", "kg", 20, 300),
         ("tenues pour entretiens d'embauche", "tenues", 10, 100)),
        ("{Item} pour {purpose}", "Recherche {item} pour notre vestiaire solidaire"),
        ("Don de {item} de fin de série", "{Item} neufs à donner"),
        ("Notre vestiaire solidaire de {commune} équipe {public}. Les {item} manquent particulièrement en ce moment.",
         "Nous accompagnons {public} vers l'emploi : des {item} leur permettraient de se présenter sereinement."),
        ("Nous donnons des {item} invendus ou de fin de série à des associations de solidarité.",
         "Des {item} neufs, toutes tailles, sont disponibles dans notre entrepôt de {commune}."),
    ),
    Family(
        "hygiene", ("don_materiel",), ("don_materiel",), ("mecenat",), "hygiene",
        ("precarite", "sante", "egalite"),
        (("kits d'hygiène", "kits", 20, 500), ("protections périodiques", "paquets", 50, 1000), ("produits d'entretien", "cartons", 5, 60)),
        ("{Item} pour les personnes que nous accueillons", "Recherche {item} pour {purpose}"),
        ("Don de {item}", "{Item} disponibles pour des associations"),
        ("Notre accueil de jour de {commune} distribue des {item} aux personnes qu'il accueille. Nos stocks sont au plus bas.",),
        ("Notre entreprise donne des {item} proches de leur date de fin de commercialisation à des associations.",),
    ),
    Family(
        "vehicules", ("pret_materiel", "soutien_logistique"), ("pret_materiel",), ("mecenat",), "vehicules",
        ("mobilite", "insertion", "seniors", "alimentation"),
        (("véhicule utilitaire", "véhicules", 1, 2), ("minibus de neuf places", "minibus", 1, 2), ("vélo cargo", "vélos", 1, 4),
         ("camion frigorifique", "camions", 1, 1)),
        ("Prêt d'un {item} pour nos tournées", "{Item} pour {purpose}", "Recherche {item} le samedi"),
        ("Prêt de {item} le week-end", "{Item} disponible pour des associations", "Mise à disposition de {item}"),
        ("Chaque semaine nous collectons et livrons des colis autour de {commune}. Un {item} nous permettrait de "
         "{purpose}.", "Nos bénévoles conduisent {public} vers leurs rendez-vous : un {item} prêté quelques jours par "
         "mois changerait tout."),
        ("Notre flotte de {item} est peu utilisée le week-end : nous la prêtons à des associations de {commune} et "
         "des environs.", "Nous mettons à disposition un {item} assuré, avec carte carburant, pour des projets solidaires."),
    ),
    Family(
        "materiaux", ("don_materiel",), ("don_materiel",), ("mecenat", "cooperation_economique"), "materiaux",
        ("economie_circulaire", "environnement", "insertion", "logement"),
        (("chutes de bois", "m3", 1, 20), ("pots de peinture", "pots", 10, 200), ("outillage de chantier", "caisses", 1, 10),
         ("carrelage et parquet", "m2", 10, 300)),
        ("{Item} pour notre chantier d'insertion", "Recherche {item} pour {purpose}"),
        ("Don de {item} issus de nos chantiers", "{Item} à récupérer à {commune}"),
        ("Notre chantier d'insertion rénove des logements à {commune}. Des {item} nous permettraient de {purpose}.",),
        ("Plutôt que de jeter nos {item}, nous les donnons à des structures de réemploi et d'insertion.",),
    ),
    Family(
        "fournitures", ("don_materiel",), ("don_materiel",), ("mecenat",), "fournitures",
        ("education", "jeunesse", "precarite", "culture"),
        (("fournitures scolaires", "cartables", 10, 200), ("papeterie et cartouches", "cartons", 2, 30),
         ("jeux éducatifs", "jeux", 10, 100), ("petit électroménager", "appareils", 5, 40)),
        ("{Item} pour la rentrée des enfants", "Recherche {item} pour {purpose}"),
        ("Don de {item}", "{Item} à donner à des associations éducatives"),
        ("Notre soutien scolaire de {commune} accueille {public}. Nous cherchons des {item} pour {purpose}.",),
        ("Nous donnons des {item} neufs issus de nos stocks à des associations éducatives de {commune}.",),
    ),
    Family(
        "sport", ("don_materiel", "pret_materiel"), ("don_materiel", "pret_materiel"), ("mecenat",), "equipement_sportif",
        ("sport", "jeunesse", "sante", "handicap"),
        (("ballons et chasubles", "lots", 2, 20), ("maillots", "maillots", 15, 80), ("vélos adaptés", "vélos", 1, 6)),
        ("{Item} pour notre club", "Recherche {item} pour {purpose}"),
        ("Don de {item} pour des clubs", "{Item} à prêter pour des événements sportifs"),
        ("Notre club de {commune} accueille {public}. Des {item} nous permettraient de {purpose}.",),
        ("Notre magasin de sport soutient les clubs de {commune} avec des {item}.",),
    ),
    Family(
        "locaux", ("mise_a_disposition_locaux", "soutien_logistique"), ("mise_a_disposition_locaux",), ("mecenat",), "locaux",
        ("developpement_local", "culture", "insertion", "education", "sante_mentale"),
        (("salle de réunion", None, 0, 0), ("surface de stockage", None, 0, 0), ("salle de formation", None, 0, 0),
         ("salle d'activités", None, 0, 0)),
        ("Recherche une {item} à {commune}", "Une {item} quelques heures par semaine", "{Item} pour {purpose}"),
        ("Mise à disposition d'une {item}", "Notre {item} ouverte aux associations", "{Item} disponible en soirée"),
        ("Nous n'avons pas de local à {commune} : une {item} nous permettrait de {purpose}.",
         "Notre association accueille {public} et cherche une {item} accessible, proche des transports."),
        ("Notre {item} de {commune} est libre en soirée et le week-end : nous la prêtons gratuitement à des associations.",),
    ),
    Family(
        "competences-informatique", ("mecenat_competences",), ("mecenat_competences", "benevolat_entreprise"), ("mecenat",),
        "competences", ("numerique", "insertion", "alimentation", "education"),
        (("développeurs", None, 0, 0), ("experts en bases de données", None, 0, 0), ("spécialistes du site web", None, 0, 0)),
        ("Des {item} pour refaire notre site internet", "Mécénat de compétences : {item} pour notre logiciel",
         "Besoin de {item} pour notre outil de suivi"),
        ("Nos {item} en mécénat de compétences", "Mécénat de compétences numériques à {commune}",
         "Des {item} pour vos projets numériques"),
        ("Notre logiciel de suivi des bénéficiaires est vieillissant. Des {item} nous aideraient à l'adapter et à "
         "former nos bénévoles.", "Notre site internet ne permet pas les inscriptions en ligne : nous cherchons des "
         "{item} pour le refaire."),
        ("Nos collaborateurs informaticiens consacrent des journées de mécénat de compétences à des associations : "
         "développement, bases de données, formation des bénévoles.", "Des {item} de notre agence de {commune} "
         "accompagnent des associations sur leurs outils numériques."),
    ),
    Family(
        "competences-gestion", ("mecenat_competences",), ("mecenat_competences",), ("mecenat",), "competences",
        ("developpement_local", "insertion", "culture", "egalite"),
        (("comptables", None, 0, 0), ("juristes", None, 0, 0), ("experts en communication", None, 0, 0),
         ("recruteurs", None, 0, 0)),
        ("Des {item} pour structurer notre association", "Mécénat de compétences : {item}", "Accompagnement par des {item}"),
        ("Mécénat de compétences de nos {item}", "Nos {item} au service des associations"),
        ("Notre association grandit et doit structurer sa gestion : l'aide de {item} quelques demi-journées serait précieuse.",),
        ("Nos {item} accompagnent des associations de {commune} en mécénat de compétences, quelques jours par an.",),
    ),
    Family(
        "benevolat", ("benevolat_entreprise",), ("benevolat_entreprise",), ("mecenat",), "temps_benevole",
        ("environnement", "alimentation", "seniors", "sante_mentale", "precarite"),
        (("équipes de salariés bénévoles", None, 0, 0), ("bénévoles pour une journée solidaire", None, 0, 0)),
        ("Des {item} pour {purpose}", "Journée solidaire : {item}"),
        ("Nos {item} disponibles pour vos actions", "Journées solidaires de nos salariés à {commune}"),
        ("Nous organisons des actions à {commune} et cherchons des {item} pour {purpose}.",),
        ("Nos salariés de {commune} peuvent donner une journée par an à une association : tri, chantier nature, "
         "animation pour {public}.",),
    ),
    Family(
        "financement", ("soutien_financier",), ("soutien_financier",), ("mecenat",), "financement",
        ("culture", "education", "jeunesse", "sante", "environnement", "handicap"),
        (("financement de projet", None, 0, 0), ("soutien financier", None, 0, 0)),
        ("Recherche un {item} pour {purpose}", "{Item} : {purpose}"),
        ("Appel à projets : {item} pour les associations de {commune}", "Notre fondation propose un {item}"),
        ("Nous cherchons un {item} pour {purpose} à {commune}.",),
        ("Notre fondation d'entreprise soutient des projets associatifs locaux : {item} de 1 000 à 10 000 euros.",),
    ),
    Family(
        "achats", ("achat_responsable",), ("achat_responsable", "co_construction"), ("pratiques_responsables", "cooperation_economique"),
        "prestation", ("insertion", "handicap", "environnement", "developpement_local"),
        (("entretien des espaces verts", None, 0, 0), ("réparation de vélos", None, 0, 0), ("service traiteur", None, 0, 0),
         ("blanchisserie", None, 0, 0), ("conditionnement et mise sous pli", None, 0, 0)),
        ("Achat responsable : {item} auprès du secteur adapté", "Prestataire d'insertion pour {item}"),
        ("{Item} par une entreprise adaptée", "Notre ESAT propose : {item}", "{Item} par un chantier d'insertion"),
        ("Notre entreprise de {commune} veut confier une prestation ({item}) à une structure d'insertion ou du secteur adapté.",),
        ("Notre structure emploie des personnes en situation de handicap ou en insertion et propose ses services "
         "({item}) aux entreprises de {commune} et des environs.",),
    ),
    Family(
        "co-construction", ("co_construction",), ("co_construction", "achat_responsable"), ("innovation_societale", "cooperation_economique"),
        "projet_commun", ("insertion", "mobilite", "numerique", "logement", "environnement"),
        (("service de mobilité solidaire", None, 0, 0), ("atelier de réemploi", None, 0, 0), ("service de logistique solidaire", None, 0, 0)),
        ("Partenaire pour créer un {item}", "Co-construction d'un {item} à {commune}"),
        ("Co-construire un {item} avec une association", "Notre savoir-faire pour un {item}"),
        ("Nous voulons lancer un {item} à {commune} avec une entreprise partenaire, pour {purpose}.",),
        ("Notre entreprise souhaite co-construire un {item} avec une association de {commune}.",),
    ),
)

PUBLICS = ("des familles en difficulté", "des jeunes en insertion", "des personnes âgées isolées", "des demandeurs d'emploi",
           "des enfants du quartier", "des personnes en situation de handicap", "des personnes réfugiées",
           "des étudiants précaires")
PURPOSES = ("accompagner nos bénéficiaires", "ouvrir un nouvel atelier", "accueillir plus de monde",
            "développer nos activités", "former nos bénévoles", "lancer un projet dans le quartier",
            "aider les familles cet hiver", "préparer la rentrée")
PLACE_WORDS = ("notre local", "notre salle d'activités", "notre tiers-lieu", "notre accueil de jour")
ASSO_PREFIX = ("Association", "Collectif", "Amicale", "Maison", "Atelier", "Réseau", "Entraide", "Fédération")
ASSO_NOUNS = ("Solidarité", "Partage", "Avenir", "Tremplin", "Horizon", "Passerelle", "Trait d'union", "Les Jardins",
              "Coup de pouce", "Le Relais")
COMPANY_NAMES = ("Boulangerie", "Imprimerie", "Transports", "Informatique", "Menuiserie", "Conseil", "Logistique",
                 "Assurances", "Bâtiment", "Distribution", "Énergie", "Numérique")
COMPANY_SUFFIX = ("SAS", "SARL", "et Fils", "Services", "Groupe", "Solutions")
REACHES = (("rayon", 55), ("commune", 15), ("departement", 15), ("region", 10), ("national", 5))
RADII = (10, 15, 20, 30, 50, 100)


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


# ------------------------------------------------------------------ communes
@dataclass(frozen=True)
class _Commune:
    code: str
    nom: str
    place: Place


class _Communes:
    """Communes with a point, drawn in proportion to their population."""

    def __init__(self):
        from associe.enrich import place_of_commune
        from associe.territories import load_geography

        geo = load_geography()
        self.geo = geo
        self.items: list[_Commune] = []
        cumulative = []
        total = 0
        for code, commune in geo.communes.items():
            if commune.type != "commune" or commune.population <= 0 or commune.lat is None:
                continue
            total += commune.population
            cumulative.append(total)
            self.items.append(_Commune(code, commune.nom, place_of_commune(geo, code)))
        self.cumulative = cumulative
        self.total = total

    def draw(self, rng: random.Random) -> _Commune:
        return self.items[bisect.bisect_right(self.cumulative, rng.random() * self.total)]


_COMMUNES: _Communes | None = None


def communes() -> _Communes:
    global _COMMUNES
    if _COMMUNES is None:
        _COMMUNES = _Communes()
    return _COMMUNES


# ------------------------------------------------------------------ generation
class Directory(Corpus):
    """A Corpus whose entries already carry their place (as after the enrich stage)."""

    def needs(self) -> list[Entry]:
        return list(self.besoins.values())

    def offers(self) -> list[Entry]:
        return list(self.offres.values())


def _weighted(rng: random.Random, choices: tuple[tuple[str, int], ...]) -> str:
    total = sum(w for _, w in choices)
    x = rng.random() * total
    for value, weight in choices:
        x -= weight
        if x < 0:
            return value
    return choices[-1][0]


def _territory(rng: random.Random, commune: _Commune) -> dict:
    reach = _weighted(rng, REACHES)
    territory = {"commune": commune.code, "portee": reach}
    if reach == "rayon":
        territory["rayon_km"] = rng.choice(RADII)
    return territory


def _dates(rng: random.Random, today: dt.date, kind: str) -> dict:
    roll = rng.random()
    if roll < 0.06:   # expired
        published = today - dt.timedelta(days=rng.randint(200, 500))
        until = published + dt.timedelta(days=rng.randint(60, 190))
        status = rng.choice(("ouvert", "expire"))
    else:
        published = today - dt.timedelta(days=rng.randint(0, 240))
        until = min(published + dt.timedelta(days=rng.randint(250, 365)),
                    published.replace(year=published.year + 1) if not (published.month == 2 and published.day == 29)
                    else published.replace(year=published.year + 1, day=28))
        status = "pourvu" if roll < 0.10 else ("en_cours" if roll < 0.18 else "ouvert")
    out = {"date_publication": published.isoformat()}
    if kind == "offre" and rng.random() < 0.2:
        out["disponible_a_partir_du"] = (published + dt.timedelta(days=rng.randint(0, 90))).isoformat()
        if out["disponible_a_partir_du"] > until.isoformat():
            del out["disponible_a_partir_du"]
    out["valable_jusqu_au"] = until.isoformat()
    if rng.random() < 0.3:
        confirmed = published + dt.timedelta(days=rng.randint(0, max(0, (min(today, until) - published).days)))
        out["derniere_confirmation"] = confirmed.isoformat()
    out["statut"] = status
    return out


def _fill(template: str, values: dict[str, str]) -> str:
    text = template.format(**values)
    return _cap(text)


def _organisation(rng: random.Random, n: int, company: bool, commune: _Commune) -> dict:
    if company:
        name = f"{rng.choice(COMPANY_NAMES)} {commune.nom} {rng.choice(COMPANY_SUFFIX)}"
        presentation = (f"Entreprise implantée à {commune.nom}, engagée auprès des associations de son territoire "
                        "(démonstration).")
    else:
        name = f"{rng.choice(ASSO_PREFIX)} {rng.choice(ASSO_NOUNS)} {commune.nom}"
        presentation = f"Association de {commune.nom} qui agit pour {rng.choice(PUBLICS)} (démonstration)."
    ident = f"{slug(name)[:60].strip('-')}-{n}"
    data = {"identifiant": ident, "nom": name[:140], "nature": "entreprise" if company else "association"}
    if company:
        data["taille"] = rng.choice(("tpe", "pme", "eti", "grande_entreprise"))
    else:
        data["taille"] = rng.choice(("benevole", "employeuse"))
    data.update({
        "commune": commune.code,
        "presentation": presentation,
        "thematiques": rng.sample(("insertion", "numerique", "environnement", "precarite", "education", "culture",
                                   "sport", "sante", "alimentation", "developpement_local"), rng.randint(1, 3)),
        "contact": {"email": f"contact@{ident[:50].strip('-')}.example"},
        "fictif": True,
    })
    return data


def _posting(rng: random.Random, kind: str, n: int, family: Family, org: str, commune: _Commune,
             today: dt.date) -> dict:
    item, unit, qmin, qmax = rng.choice(family.items)
    values = {"item": item, "Item": _cap(item), "commune": commune.nom, "public": rng.choice(PUBLICS),
              "purpose": rng.choice(PURPOSES), "place_word": rng.choice(PLACE_WORDS)}
    titles = family.need_titles if kind == "besoin" else family.offer_titles
    texts = family.need_texts if kind == "besoin" else family.offer_texts
    title = _fill(rng.choice(titles), values)[:120]
    sentences = [_fill(rng.choice(texts), values)]
    if rng.random() < 0.5:
        sentences.append(_fill(rng.choice(texts), values))
    description = " ".join(dict.fromkeys(sentences))
    if rng.random() < 0.3:
        description += "\n\n- Contact par le formulaire de l'organisation\n- Entrée de démonstration"
    ident = f"{slug(title)[:60].strip('-')}-{n}"
    types = family.need_types if kind == "besoin" else family.offer_types
    data = {
        "identifiant": ident,
        "titre": title,
        "organisation": org,
        "type_de_soutien": rng.choice(types),
        "categorie": rng.choice(family.categories),
        "objet": family.objet,
        "thematiques": sorted(rng.sample(family.themes, rng.randint(1, min(3, len(family.themes)))),
                              key=family.themes.index),
        "description": description,
        "territoire": _territory(rng, commune),
    }
    if unit and rng.random() < 0.7:
        data["quantite"] = {"valeur": rng.randint(qmin, qmax), "unite": unit}
    data.update(_dates(rng, today, kind))
    data["fictif"] = True
    return data


def _example(rng: random.Random, n: int, family: Family, commune: _Commune, today: dt.date) -> dict:
    item = rng.choice(family.items)[0]
    asso = f"{rng.choice(ASSO_PREFIX)} {rng.choice(ASSO_NOUNS)} {commune.nom}"
    company = f"{rng.choice(COMPANY_NAMES)} {commune.nom} {rng.choice(COMPANY_SUFFIX)}"
    title = _cap(f"{item} : {asso} et {company}")[:140]
    scale = rng.choice(("commune", "commune", "departement", "region"))
    code = {"commune": commune.code, "departement": commune.place.departement, "region": commune.place.region}[scale]
    return {
        "identifiant": f"{slug(title)[:60].strip('-')}-{n}",
        "titre": title,
        "partenaires": [{"nom": asso[:140], "nature": "association"}, {"nom": company[:140], "nature": "entreprise"}],
        "categorie": rng.choice(family.categories),
        "type_de_soutien": rng.choice(family.offer_types),
        "thematiques": sorted(rng.sample(family.themes, rng.randint(1, min(3, len(family.themes)))), key=family.themes.index),
        "territoire": {"echelle": scale, "code": code},
        "annee_debut": rng.randint(2012, today.year),
        "en_cours": True,
        "resume": (f"À {commune.nom}, {company} et {asso} travaillent ensemble autour de : {item}. "
                   f"Le partenariat a commencé par une rencontre locale et bénéficie à {rng.choice(PUBLICS)}."),
        "apports": [{"partenaire": asso[:140], "texte": "La connaissance du terrain et l'accompagnement des personnes."},
                    {"partenaire": company[:140], "texte": f"Des moyens concrets : {item}, et du temps de ses équipes."}],
        "source": {"titre": "Exemple de démonstration", "editeur": "Asso'cie (données synthétiques)"},
        "fictif": True,
    }


def generate(needs: int = 100, offers: int = 100, organisations: int | None = None, examples: int | None = None,
             seed: int = 1, today: dt.date = DEFAULT_DATE) -> Directory:
    """A synthetic directory, as enriched ``Entry`` objects (ids sorted in each kind)."""
    rng = random.Random(seed)
    pool = communes()
    organisations = max(2, (needs + offers) // 5) if organisations is None else max(2, organisations)
    examples = max(1, (needs + offers) // 20) if examples is None else examples
    directory = Directory()
    associations, companies = [], []
    for n in range(organisations):
        commune = pool.draw(rng)
        company = n % 5 in (1, 3)          # 40 % companies, 60 % associations
        data = _organisation(rng, n, company, commune)
        entry = Entry("organisation", data["identifiant"], f"content/organisations/{data['identifiant']}.yaml", data,
                      place=commune.place)
        directory.organisations[entry.id] = entry
        (companies if company else associations).append(entry)
    if not companies:
        companies = associations
    if not associations:
        associations = companies
    for kind, count, orgs in (("besoin", needs, associations), ("offre", offers, companies)):
        target = directory.of_kind(kind)
        folder = "besoins" if kind == "besoin" else "offres"
        for n in range(count):
            family = rng.choice(FAMILIES)
            org = orgs[rng.randrange(len(orgs))]
            # most postings are near their organisation; some are elsewhere (another site or antenna)
            commune = pool.draw(rng) if rng.random() < 0.3 else _commune_of(org, pool)
            data = _posting(rng, kind, n, family, org.id, commune, today)
            target[data["identifiant"]] = Entry(kind, data["identifiant"], f"content/{folder}/{data['identifiant']}.yaml",
                                                data, place=commune.place, organisation=org)
    from associe.enrich import place_of_example

    for n in range(examples):
        family = rng.choice(FAMILIES)
        commune = pool.draw(rng)
        data = _example(rng, n, family, commune, today)
        directory.exemples[data["identifiant"]] = Entry("exemple", data["identifiant"],
                                                        f"content/exemples/{data['identifiant']}.yaml", data,
                                                        place=place_of_example(pool.geo, data["territoire"]))
    for kind in ("organisation", "besoin", "offre", "exemple"):
        entries = directory.of_kind(kind)
        ordered = dict(sorted(entries.items()))
        entries.clear()
        entries.update(ordered)
    return directory


def _commune_of(org: Entry, pool: _Communes) -> _Commune:
    place = org.place
    return _Commune(place.commune, place.commune_nom, place)


def write(directory: Corpus, out: Path) -> int:
    """Write every entry as ``out/<kind folder>/<id>.yaml`` (same format as content/). Returns the file count."""
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    count = 0
    for kind, folder in (("organisation", "organisations"), ("besoin", "besoins"), ("offre", "offres"),
                         ("exemple", "exemples")):
        target = out / folder
        target.mkdir(parents=True, exist_ok=True)
        for entry in directory.of_kind(kind).values():
            text = yaml.dump(entry.data, Dumper=dumper, allow_unicode=True, sort_keys=False, width=100)
            (target / f"{entry.id}.yaml").write_text(text, encoding="utf-8")
            count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Génère un annuaire synthétique (fictif) pour les mesures.")
    parser.add_argument("--entries", type=int, default=200, help="besoins + offres (moitié chacun)")
    parser.add_argument("--needs", type=int)
    parser.add_argument("--offers", type=int)
    parser.add_argument("--organisations", type=int)
    parser.add_argument("--examples", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--date", type=dt.date.fromisoformat, default=DEFAULT_DATE)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--check", action="store_true", help="valider les fichiers écrits (associe.validation)")
    args = parser.parse_args(argv)
    needs = args.needs if args.needs is not None else args.entries // 2
    offers = args.offers if args.offers is not None else args.entries - args.entries // 2
    directory = generate(needs, offers, args.organisations, args.examples, args.seed, args.date)
    count = write(directory, args.out)
    print(f"{count} fichiers écrits dans {args.out}")
    if args.check:
        from associe.validation import check

        result = check([args.out], root=args.out)
        for problem in result.problems[:20]:
            print(problem)
        print(f"{result.files} fichiers vérifiés, {len(result.errors)} erreur(s)")
        return 1 if result.errors else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
