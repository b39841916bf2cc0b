"""Stage 3 — enrich: place every entry on the official geography and resolve references."""
from __future__ import annotations

from typing import Any

from .records import Corpus, Entry, Place


def place_of_commune(geo: Any, code: str | None) -> Place | None:
    commune = geo.commune(code) if code else None
    if commune is None:
        return None
    departement = geo.departements.get(commune.departement)
    region = geo.regions.get(commune.region)
    point = geo.point(commune.code)
    return Place(
        commune=commune.code, commune_nom=commune.nom,
        departement=commune.departement, departement_nom=departement.nom if departement else None,
        region=commune.region, region_nom=region.nom if region else None,
        lat=point[0] if point else None, lon=point[1] if point else None,
    )


def place_of_example(geo: Any, territory: dict) -> Place:
    scale, code = territory.get("echelle"), territory.get("code")
    if scale == "commune":
        place = place_of_commune(geo, code)
        if place:
            return place
    if scale == "departement" and code in geo.departements:
        departement = geo.departements[code]
        region = geo.regions.get(departement.region)
        point = geo.point(departement.chef_lieu)
        return Place(None, None, code, departement.nom, departement.region, region.nom if region else None,
                     point[0] if point else None, point[1] if point else None)
    if scale == "region" and code in geo.regions:
        return Place(None, None, None, None, code, geo.regions[code].nom, None, None)
    return Place(None, None, None, None, None, None, None, None)


def enrich(corpus: Corpus, geo: Any) -> Corpus:
    """Fill ``Entry.place`` for every entry and ``Entry.organisation`` for needs and offers (in place)."""
    for entry in corpus.organisations.values():
        entry.place = place_of_commune(geo, entry.get("commune"))
    for entry in list(corpus.besoins.values()) + list(corpus.offres.values()):
        entry.place = place_of_commune(geo, (entry.get("territoire") or {}).get("commune"))
        entry.organisation = corpus.organisations.get(entry.get("organisation"))
    for entry in corpus.exemples.values():
        entry.place = place_of_example(geo, entry.get("territoire") or {})
    return corpus
