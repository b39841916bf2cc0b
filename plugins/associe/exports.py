"""Stage 6 — exports: Atom feeds, open data (JSON, CSV, GeoJSON), published schemas, sitemap.

``write_exports(site_data, output_dir, settings)`` is called by the build once every HTML page
is written (the sitemap walks the output folder). It writes:

* ``/flux/besoins.xml``, ``/flux/offres.xml``, ``/flux/exemples.xml``: Atom feeds of the newest
  listed entries of each kind;
* ``/flux/regions/<slug-region>.xml`` and ``/flux/departements/<slug-departement>.xml`` for
  *every* région and département of the geography, even empty ones (a volunteer can subscribe
  before the first entry arrives): needs, offers and examples placed there;
* ``/donnees/annuaire.json`` (everything, with the match suggestions and their reasons),
  ``/donnees/{besoins,offres,exemples,organisations}.csv``, ``/donnees/annuaire.geojson`` and
  ``/donnees/LISEZMOI.txt``;
* ``/schemas/*.schema.json`` (copies of the JSON Schemas the entries are validated against);
* ``/sitemap.xml`` (a sitemap index over ``sitemap-N.xml`` beyond 50,000 URLs).

Rules kept everywhere: only *listed* entries (never expired or not yet published ones); dates
come from the entries and the build date, never from the clock or file times; every list is
sorted, so two builds of the same content on the same date are byte-identical; contact details
are the organisation's channel only (role e-mail or contact page), never a person.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

from .paths import FOLDER_OF_KIND, SCHEMAS_DIR
from .records import Entry
from .validation import french_date
from .vocabulary import label

KINDS = ("organisation", "besoin", "offre", "exemple")
FEED_KINDS = ("besoin", "offre", "exemple")
KIND_LABEL = {"organisation": "Organisation", "besoin": "Besoin", "offre": "Offre", "exemple": "Exemple"}
FEED_TITLE = {"besoin": "nouveaux besoins", "offre": "nouvelles offres", "exemple": "nouveaux exemples de partenariat"}

LICENCE = {
    "nom": "Licence Ouverte 2.0",
    "nom_anglais": "Open Licence 2.0",
    "url": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
}
DEFAULT_SITENAME = "Asso'cie"
DEFAULT_FEED_LIMIT = 50          # entries per feed: readers only need the newest
SITEMAP_MAX_URLS = 50_000        # sitemaps.org limit per file
LIST_SEPARATOR = " | "
ATOM_NS = "http://www.w3.org/2005/Atom"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
TAG_YEAR = "2026"                # the year in tag: URIs; never change it (entry ids must stay stable)

# Characters XML 1.0 cannot carry (validation already refuses control characters; belt and braces).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Spreadsheet formula injection (OWASP "CSV injection"): a text cell starting with one of these.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# ------------------------------------------------------------------------------ helpers
def _site_url(settings: dict) -> str:
    return str(settings.get("SITEURL") or "").rstrip("/")


def _tag_authority(settings: dict) -> str:
    """The authority of the feeds' tag: URIs: ``ASSOCIE_TAG_AUTHORITY``, else SITEURL's host.

    Set ``ASSOCIE_TAG_AUTHORITY`` once the public domain is known and never change it: the
    ids of feed entries must not change when the site moves."""
    explicit = settings.get("ASSOCIE_TAG_AUTHORITY")
    if explicit:
        return str(explicit)
    host = urlsplit(_site_url(settings)).hostname
    return host or "associe.invalid"


def page_path(kind: str, entry_id: str) -> str:
    return f"/{FOLDER_OF_KIND[kind]}/{entry_id}/"


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso(day: str | None) -> str | None:
    return day if isinstance(day, str) and _ISO_DAY.fullmatch(day) else None


def published_date(entry: Entry) -> str:
    """The date an entry appeared: ``date_publication``; for an example (which has none), the
    date of its source, else the 1st of January of its first year."""
    if entry.kind == "exemple":
        source = entry.get("source") or {}
        return _iso(source.get("date")) or f"{int(entry.get('annee_debut') or 1980):04d}-01-01"
    return _iso(entry.get("date_publication")) or "1970-01-01"


def updated_date(entry: Entry) -> str:
    """Last known change: ``derniere_confirmation`` when later than the publication."""
    confirmed = _iso(entry.get("derniere_confirmation"))
    published = published_date(entry)
    return max(confirmed, published) if confirmed else published


def known_lastmod(entry: Entry) -> str | None:
    """A lastmod for the sitemap only when the data really carries one (no invented dates)."""
    if entry.kind in ("besoin", "offre"):
        return updated_date(entry)
    if entry.kind == "exemple":
        return _iso((entry.get("source") or {}).get("date"))
    return None


def newest_first(entries: Iterable[Entry]) -> list[Entry]:
    """Newest first by publication date, then by id (ascending) among entries of the same day."""
    ordered = sorted(entries, key=lambda e: (e.kind, e.id))
    return sorted(ordered, key=published_date, reverse=True)


def _xml_text(text: Any) -> str:
    return _XML_INVALID.sub("", str(text))


_MD_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]*)\)")
_MD_MARK = re.compile(r"(\*\*|__|\*|`)")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_MD_LINE = re.compile(r"^[ \t]{0,3}(?:#{1,6}[ \t]+|>[ \t]?|[-*+][ \t]+|\d+[.)][ \t]+)", re.MULTILINE)


def plain_text(markdown: str | None, limit: int = 600) -> str:
    """A readable plain-text version of a Markdown field (feeds show it as text, never HTML)."""
    if not markdown:
        return ""
    text = _MD_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})" if m.group(2) else m.group(1), markdown)
    text = _MD_LINE.sub("", text)
    text = _MD_MARK.sub("", text)
    paragraphs = _PARAGRAPH_BREAK.split(text.strip())
    text = "\n\n".join(" ".join(line.strip() for line in p.splitlines() if line.strip()) for p in paragraphs)
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:.") + " …"
    return text


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _listed(site_data: Any, kind: str) -> list[Entry]:
    return sorted(site_data.listed.get(kind, []), key=lambda e: e.id)


def _place_name(entry: Entry) -> str:
    place = entry.place
    if place is None:
        return "France entière" if entry.kind == "exemple" else ""
    if place.commune_nom:
        return f"{place.commune_nom} ({place.departement})" if place.departement else place.commune_nom
    if place.departement_nom:
        return f"{place.departement_nom} ({place.departement})"
    if place.region_nom:
        return place.region_nom
    return "France entière"


def _organisation_name(entry: Entry) -> str | None:
    return entry.organisation.title if entry.organisation is not None else None


# ------------------------------------------------------------------------------ Atom feeds
def _atom_date(day: str) -> str:
    return f"{day}T00:00:00Z"


# The feeds were written with ElementTree (``ET.indent(feed, space="  ")`` then ``ET.tostring``);
# serialising them with ElementTree was most of the cost of the feeds. The functions below
# write the very same bytes (same escaping, same indentation, ``<tag />`` for an empty element)
# for the only shapes the feeds use: elements with attributes and either a text or children.
def _escape_text(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _escape_attribute(text: str) -> str:
    text = _escape_text(text)
    if '"' in text:
        text = text.replace('"', "&quot;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    if "\n" in text:
        text = text.replace("\n", "&#10;")
    if "\t" in text:
        text = text.replace("\t", "&#09;")
    return text


def _node(tag: str, text: str | None = None, children: list | None = None, **attrib: Any) -> tuple:
    """An Atom element: (tag, attributes, text, children), texts cleaned as ``_xml_text`` does."""
    return (tag, [(k, _xml_text(v)) for k, v in attrib.items()], None if text is None else _xml_text(text),
            children or [])


def _serialise(node: tuple, level: int, out: list[str]) -> None:
    """``node`` as ElementTree writes it once indented at ``level`` (without its tail)."""
    tag, attributes, text, children = node
    out.append("<" + tag)
    for name, value in attributes:
        out.append(f' {name}="{_escape_attribute(value)}"')
    if children:
        inner = "\n" + "  " * (level + 1)
        out.append(">")
        out.append(_escape_text(text) if text and text.strip() else inner)
        last = len(children) - 1
        for i, child in enumerate(children):
            _serialise(child, level + 1, out)
            out.append(inner if i < last else "\n" + "  " * level)
        out.append("</" + tag + ">")
    elif text:
        out.append(">" + _escape_text(text) + "</" + tag + ">")
    else:
        out.append(" />")


def _serialised(node: tuple, level: int) -> str:
    out: list[str] = []
    _serialise(node, level, out)
    return "".join(out)


def _entry_summary(entry: Entry) -> str:
    parts = [KIND_LABEL[entry.kind], label("type_de_soutien", entry.get("type_de_soutien", ""))]
    where = _place_name(entry)
    if where:
        parts.append(where)
    who = _organisation_name(entry)
    if entry.kind == "exemple":
        who = ", ".join(p.get("nom", "") for p in entry.get("partenaires") or [])
    head = " · ".join(p for p in parts if p)
    if who:
        head += f" — {who}"
    body = plain_text(entry.get("description") if entry.kind != "exemple" else entry.get("resume"))
    until = _iso(entry.get("valable_jusqu_au"))
    if until:
        body += f"\n\nValable jusqu'au {french_date(dt.date.fromisoformat(until))}."
    return f"{head}\n\n{body}".strip()


def _entry_node(entry: Entry, base: str, authority: str, sitename: str) -> tuple:
    if entry.kind == "exemple":
        author = [_node("name", ", ".join(p.get("nom", "") for p in entry.get("partenaires") or []) or sitename)]
    else:
        author = [_node("name", _organisation_name(entry) or sitename)]
        if entry.organisation is not None:
            author.append(_node("uri", base + page_path("organisation", entry.organisation.id)))
    children = [
        _node("id", f"tag:{authority},{TAG_YEAR}:{FOLDER_OF_KIND[entry.kind]}/{entry.id}"),
        _node("title", entry.title),
        _node("link", rel="alternate", type="text/html", href=base + page_path(entry.kind, entry.id)),
        _node("published", _atom_date(published_date(entry))),
        _node("updated", _atom_date(updated_date(entry))),
        _node("author", children=author),
        _node("category", term=entry.kind, label=KIND_LABEL[entry.kind]),
    ]
    for vocab in ("type_de_soutien", "categorie", "objet"):
        value = entry.get(vocab)
        if value:
            children.append(_node("category", term=value, label=label(vocab, value)))
    children.append(_node("summary", _entry_summary(entry), type="text"))
    return _node("entry", children=children)


def atom_feed(entries: list[Entry], *, settings: dict, feed_path: str, alternate_path: str,
              title: str, subtitle: str, build_date: str, entry_cache: dict | None = None) -> bytes:
    """One Atom 1.0 document. ``entries`` already sorted and cut; no clock involved:
    the feed's ``updated`` is its newest entry's, or the build date when it is empty.

    ``entry_cache`` ((kind, id) -> the entry's XML) lets the feeds of one build (an entry is in
    the feed of its kind, of its région and of its département) write each entry once; it must
    not outlive ``settings``."""
    base = _site_url(settings)
    authority = _tag_authority(settings)
    sitename = str(settings.get("SITENAME") or DEFAULT_SITENAME)
    updated = max((updated_date(e) for e in entries), default=build_date)
    head = [
        _node("id", f"tag:{authority},{TAG_YEAR}:{feed_path.strip('/')}"),
        _node("title", f"{sitename} — {title}"),
        _node("subtitle", subtitle),
        _node("updated", _atom_date(updated)),
        _node("link", rel="self", type="application/atom+xml", href=base + feed_path),
        _node("link", rel="alternate", type="text/html", href=base + alternate_path),
        _node("author", children=[_node("name", sitename), _node("uri", (base or "") + "/")]),
        _node("rights", f"Données sous {LICENCE['nom']} ({LICENCE['url']})"),
        _node("generator", "Asso'cie"),
    ]
    children = [_serialised(node, 1) for node in head]
    cache = {} if entry_cache is None else entry_cache
    for entry in entries:
        key = (entry.kind, entry.id)
        xml = cache.get(key)
        if xml is None:
            xml = cache[key] = _serialised(_entry_node(entry, base, authority, sitename), 1)
        children.append(xml)
    body = f'<feed xmlns="{ATOM_NS}" xml:lang="fr">\n  ' + "\n  ".join(children) + "\n</feed>"
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body.encode("utf-8", "xmlcharrefreplace") + b"\n"


def write_feeds(site_data: Any, output_dir: Path, settings: dict) -> list[str]:
    """Write every feed; return the site paths written (sorted)."""
    limit = int(settings.get("ASSOCIE_FEED_LIMIT") or DEFAULT_FEED_LIMIT)
    build_date = site_data.build_date.isoformat()
    geo = site_data.geography
    written: list[str] = []

    entry_cache: dict = {}

    def emit(feed_path: str, entries: list[Entry], **kwargs: str) -> None:
        data = atom_feed(newest_first(entries)[:limit], settings=settings, feed_path=feed_path,
                         build_date=build_date, entry_cache=entry_cache, **kwargs)
        _write(output_dir / feed_path.lstrip("/"), data)
        written.append(feed_path)

    for kind in FEED_KINDS:
        folder = FOLDER_OF_KIND[kind]
        emit(f"/flux/{folder}.xml", _listed(site_data, kind), alternate_path=f"/{folder}/",
             title=FEED_TITLE[kind], subtitle=f"Les {FEED_TITLE[kind]} publiés sur l'annuaire, partout en France.")

    by_region: dict[str, list[Entry]] = {}
    by_departement: dict[str, list[Entry]] = {}
    for kind in FEED_KINDS:
        for entry in _listed(site_data, kind):
            place = entry.place
            if place is None:
                continue
            if place.region:
                by_region.setdefault(place.region, []).append(entry)
            if place.departement:
                by_departement.setdefault(place.departement, []).append(entry)

    for code, region in geo.regions.items():
        slug = geo.slug_region(code)
        emit(f"/flux/regions/{slug}.xml", by_region.get(code, []), alternate_path=f"/territoires/{slug}/",
             title=f"{region.nom} : nouvelles annonces",
             subtitle=f"Besoins, offres et exemples de partenariat publiés en {region.nom}.")
    for code, departement in geo.departements.items():
        slug = geo.slug_departement(code)
        region_slug = geo.slug_region(departement.region) if departement.region in geo.regions else ""
        alternate = f"/territoires/{region_slug}/{slug}/" if region_slug else "/territoires/"
        emit(f"/flux/departements/{slug}.xml", by_departement.get(code, []), alternate_path=alternate,
             title=f"{departement.nom} ({code}) : nouvelles annonces",
             subtitle=f"Besoins, offres et exemples de partenariat publiés dans le département {departement.nom} ({code}).")
    return sorted(written)


# ------------------------------------------------------------------------------ open data
def _schema_order(kind: str) -> list[str]:
    schema = json.loads((SCHEMAS_DIR / f"{kind}.schema.json").read_text(encoding="utf-8"))
    return list(schema.get("properties", {}))


def _public_fields(entry: Entry, order: list[str]) -> dict[str, Any]:
    """The entry's own fields in schema order, without maintainer-only flags."""
    data = entry.data
    out: dict[str, Any] = {}
    for key in order + sorted(k for k in data if k not in order):
        if key not in data:
            continue
        value = data[key]
        if key == "contact" and isinstance(value, dict):
            value = {k: value[k] for k in ("email", "formulaire") if k in value}
        out[key] = value
    return out


def _place_dict(entry: Entry) -> dict[str, Any] | None:
    place = entry.place
    if place is None:
        return None
    return {
        "commune": place.commune, "commune_nom": place.commune_nom,
        "departement": place.departement, "departement_nom": place.departement_nom,
        "region": place.region, "region_nom": place.region_nom,
        "latitude": None if place.lat is None else round(place.lat, 5),
        "longitude": None if place.lon is None else round(place.lon, 5),
    }


def _suggestions_of(site_data: Any, entry: Entry) -> list[Any]:
    matches = site_data.matches
    if matches is None:
        return []
    table = getattr(matches, "for_need" if entry.kind == "besoin" else "for_offer", None) or {}
    return list(table.get(entry.id, []))


def _reason_text(reason: Any) -> str:
    if isinstance(reason, str):
        return reason
    for attr in ("texte", "text", "label", "message"):
        if hasattr(reason, attr):
            return str(getattr(reason, attr))
    return str(reason)


def _suggestion_dict(site_data: Any, entry: Entry, suggestion: Any, base: str) -> dict[str, Any]:
    other_kind = "offre" if entry.kind == "besoin" else "besoin"
    other_id = suggestion.offer_id if entry.kind == "besoin" else suggestion.need_id
    other = site_data.corpus.of_kind(other_kind).get(other_id)
    distance = getattr(suggestion, "distance_km", None)
    return {
        other_kind: other_id,
        "titre": other.title if other is not None else None,
        "url": base + page_path(other_kind, other_id),
        "score": round(float(suggestion.score), 4),
        "distance_km": None if distance is None else round(float(distance), 1),
        "raisons": [_reason_text(r) for r in (getattr(suggestion, "reasons", None) or [])],
    }


def entry_record(site_data: Any, entry: Entry, order: list[str], base: str) -> dict[str, Any]:
    record: dict[str, Any] = {"type": entry.kind}
    record.update(_public_fields(entry, order))
    record["url"] = base + page_path(entry.kind, entry.id)
    record["lieu"] = _place_dict(entry)
    if entry.kind in ("besoin", "offre"):
        record["organisation_nom"] = _organisation_name(entry)
        record["organisation_url"] = (base + page_path("organisation", entry.organisation.id)
                                      if entry.organisation is not None else None)
        record["suggestions"] = [_suggestion_dict(site_data, entry, s, base)
                                 for s in _suggestions_of(site_data, entry)]
        examples = (getattr(site_data, "examples_for", None) or {}).get((entry.kind, entry.id), [])
        record["exemples_inspirants"] = [e.id for e in examples]
    return record


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)


def _dumps(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)``, one encoder."""
    return _ENCODER.encode(value)


def schema_urls(base: str) -> dict[str, str]:
    return {kind: f"{base}/schemas/{kind}.schema.json" for kind in ("definitions",) + KINDS}


def write_json(site_data: Any, output_dir: Path, settings: dict) -> None:
    """``/donnees/annuaire.json``, streamed entry by entry (tens of thousands of entries fit)."""
    base = _site_url(settings)
    header = {
        "titre": f"{settings.get('SITENAME') or DEFAULT_SITENAME} — annuaire des besoins, offres et exemples de partenariat",
        "licence": LICENCE,
        "date_construction": site_data.build_date.isoformat(),
        "site": base + "/",
        "schemas": schema_urls(base),
        "nombre": {FOLDER_OF_KIND[k]: len(site_data.listed.get(k, [])) for k in KINDS},
    }
    path = output_dir / "donnees" / "annuaire.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write(_dumps(header)[:-1])
        for kind in KINDS:
            order = _schema_order(kind)
            out.write(f',\n"{FOLDER_OF_KIND[kind]}":[')
            for i, entry in enumerate(_listed(site_data, kind)):
                out.write(("\n" if i == 0 else ",\n") + _dumps(entry_record(site_data, entry, order, base)))
            out.write("]")
        from .gaps import GAPS_EXPORT_KEY, gaps_export

        out.write(f',\n"{GAPS_EXPORT_KEY}":' + _dumps(gaps_export(site_data, settings)))
        out.write("}\n")


def _joined(values: Iterable[Any]) -> str:
    return LIST_SEPARATOR.join(str(v) for v in values if v not in (None, ""))


def _cell(value: Any) -> str:
    """A CSV cell: booleans as oui/non, text starting like a formula prefixed with an apostrophe."""
    if value.__class__ is str:                       # the common case, first
        return "'" + value if value.startswith(_FORMULA_START) else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float):
        return f"{value:.5f}".rstrip("0").rstrip(".")
    text = str(value)
    if text.startswith(_FORMULA_START):
        text = "'" + text
    return text


def _coord(entry: Entry, axis: str) -> float | None:
    value = getattr(entry.place, axis, None) if entry.place else None
    return None if value is None else round(value, 5)


Column = tuple[str, Callable[[Entry], Any]]


def _place_columns() -> list[Column]:
    return [
        ("commune", lambda e: e.place.commune if e.place else None),
        ("commune_nom", lambda e: e.place.commune_nom if e.place else None),
        ("departement", lambda e: e.place.departement if e.place else None),
        ("departement_nom", lambda e: e.place.departement_nom if e.place else None),
        ("region", lambda e: e.place.region if e.place else None),
        ("region_nom", lambda e: e.place.region_nom if e.place else None),
        ("latitude", lambda e: _coord(e, "lat")),
        ("longitude", lambda e: _coord(e, "lon")),
    ]


def _columns(kind: str, base: str) -> list[Column]:
    url: Column = ("url", lambda e: base + page_path(e.kind, e.id))
    if kind == "organisation":
        return [
            ("identifiant", lambda e: e.id), ("nom", lambda e: e.data.get("nom")), url,
            ("nature", lambda e: e.data.get("nature")), ("nature_libelle", lambda e: label("nature", e.data.get("nature", ""))),
            ("taille", lambda e: e.data.get("taille")), ("siren", lambda e: e.data.get("siren")),
            ("siret", lambda e: e.data.get("siret")), ("rna", lambda e: e.data.get("rna")),
            ("site_web", lambda e: e.data.get("site_web")),
            ("thematiques", lambda e: _joined(e.data.get("thematiques") or [])),
            ("presentation", lambda e: e.data.get("presentation")),
            ("contact_email", lambda e: (e.data.get("contact") or {}).get("email")),
            ("contact_formulaire", lambda e: (e.data.get("contact") or {}).get("formulaire")),
            *_place_columns(),
            ("fictif", lambda e: bool(e.data.get("fictif"))),
        ]
    if kind in ("besoin", "offre"):
        return [
            ("identifiant", lambda e: e.id), ("titre", lambda e: e.data.get("titre")), url,
            ("organisation", lambda e: e.data.get("organisation")), ("organisation_nom", _organisation_name),
            ("type_de_soutien", lambda e: e.data.get("type_de_soutien")),
            ("type_de_soutien_libelle", lambda e: label("type_de_soutien", e.data.get("type_de_soutien", ""))),
            ("categorie", lambda e: e.data.get("categorie")),
            ("categorie_libelle", lambda e: label("categorie", e.data.get("categorie", ""))),
            ("objet", lambda e: e.data.get("objet")), ("objet_libelle", lambda e: label("objet", e.data.get("objet", ""))),
            ("thematiques", lambda e: _joined(e.data.get("thematiques") or [])),
            ("description", lambda e: e.data.get("description")),
            ("portee", lambda e: (e.data.get("territoire") or {}).get("portee")),
            ("rayon_km", lambda e: (e.data.get("territoire") or {}).get("rayon_km")),
            *_place_columns(),
            ("quantite_valeur", lambda e: (e.data.get("quantite") or {}).get("valeur")),
            ("quantite_unite", lambda e: (e.data.get("quantite") or {}).get("unite")),
            ("date_publication", lambda e: e.data.get("date_publication")),
            ("disponible_a_partir_du", lambda e: e.data.get("disponible_a_partir_du")),
            ("valable_jusqu_au", lambda e: e.data.get("valable_jusqu_au")),
            ("derniere_confirmation", lambda e: e.data.get("derniere_confirmation")),
            ("statut", lambda e: e.data.get("statut")),
            ("fictif", lambda e: bool(e.data.get("fictif"))),
        ]
    return [
        ("identifiant", lambda e: e.id), ("titre", lambda e: e.data.get("titre")), url,
        ("partenaires", lambda e: _joined(p.get("nom") for p in e.data.get("partenaires") or [])),
        ("partenaires_natures", lambda e: _joined(p.get("nature") for p in e.data.get("partenaires") or [])),
        ("partenaires_organisations", lambda e: _joined(p.get("organisation") for p in e.data.get("partenaires") or [])),
        ("categorie", lambda e: e.data.get("categorie")),
        ("categorie_libelle", lambda e: label("categorie", e.data.get("categorie", ""))),
        ("type_de_soutien", lambda e: e.data.get("type_de_soutien")),
        ("type_de_soutien_libelle", lambda e: label("type_de_soutien", e.data.get("type_de_soutien", ""))),
        ("thematiques", lambda e: _joined(e.data.get("thematiques") or [])),
        ("echelle", lambda e: (e.data.get("territoire") or {}).get("echelle")),
        ("code_territoire", lambda e: (e.data.get("territoire") or {}).get("code")),
        *_place_columns(),
        ("annee_debut", lambda e: e.data.get("annee_debut")), ("duree_mois", lambda e: e.data.get("duree_mois")),
        ("en_cours", lambda e: e.data.get("en_cours")),
        ("resume", lambda e: e.data.get("resume")),
        ("apports", lambda e: _joined(f"{a.get('partenaire')} : {a.get('texte')}" for a in e.data.get("apports") or [])),
        ("resultats", lambda e: e.data.get("resultats")), ("et_ensuite", lambda e: e.data.get("et_ensuite")),
        ("besoin", lambda e: e.data.get("besoin")), ("offre", lambda e: e.data.get("offre")),
        ("source_titre", lambda e: (e.data.get("source") or {}).get("titre")),
        ("source_editeur", lambda e: (e.data.get("source") or {}).get("editeur")),
        ("source_url", lambda e: (e.data.get("source") or {}).get("url")),
        ("source_date", lambda e: (e.data.get("source") or {}).get("date")),
        ("fictif", lambda e: bool(e.data.get("fictif"))),
    ]


def csv_bytes(kind: str, entries: list[Entry], base: str) -> bytes:
    """UTF-8 with BOM, ``;`` separator, CRLF: what French Excel opens correctly by double-click."""
    columns = _columns(kind, base)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([name for name, _ in columns])
    getters = [get for _, get in columns]
    formula = _FORMULA_START
    for entry in entries:
        values = [get(entry) for get in getters]
        # _cell(value), with its common case (a text not starting like a formula) inlined
        writer.writerow([value if value.__class__ is str and not value.startswith(formula) else _cell(value)
                         for value in values])
    return "\ufeff".encode("utf-8") + buffer.getvalue().encode("utf-8")


def write_csv(site_data: Any, output_dir: Path, settings: dict) -> None:
    base = _site_url(settings)
    for kind in KINDS:
        _write(output_dir / "donnees" / f"{FOLDER_OF_KIND[kind]}.csv",
               csv_bytes(kind, _listed(site_data, kind), base))


def write_geojson(site_data: Any, output_dir: Path, settings: dict) -> None:
    """Points of listed needs, offers and organisations (the commune's point, or its
    département's chef-lieu when the commune has none)."""
    base = _site_url(settings)
    features = []
    for kind in ("besoin", "offre", "organisation"):
        for entry in _listed(site_data, kind):
            lat, lon = _coord(entry, "lat"), _coord(entry, "lon")
            if lat is None or lon is None:
                continue
            properties = {
                "type": entry.kind, "identifiant": entry.id, "titre": entry.title,
                "url": base + page_path(entry.kind, entry.id),
                "commune": entry.place.commune, "commune_nom": entry.place.commune_nom,
                "departement": entry.place.departement, "region": entry.place.region,
            }
            if kind == "organisation":
                properties["nature"] = entry.get("nature")
            else:
                properties.update({
                    "organisation": entry.get("organisation"), "organisation_nom": _organisation_name(entry),
                    "type_de_soutien": entry.get("type_de_soutien"), "categorie": entry.get("categorie"),
                    "objet": entry.get("objet"), "statut": entry.get("statut"),
                    "portee": (entry.get("territoire") or {}).get("portee"),
                    "date_publication": entry.get("date_publication"),
                    "valable_jusqu_au": entry.get("valable_jusqu_au"),
                })
            properties["fictif"] = bool(entry.get("fictif"))
            features.append({"type": "Feature", "id": f"{entry.kind}/{entry.id}",
                             "geometry": {"type": "Point", "coordinates": [lon, lat]},
                             "properties": properties})
    # one feature per line: readable diffs, and a reader can stream the file
    head = {"type": "FeatureCollection", "licence": LICENCE, "date_construction": site_data.build_date.isoformat()}
    text = _dumps(head)[:-1] + ',"features":[' + ",".join("\n" + _dumps(f) for f in features) + "]}\n"
    _write(output_dir / "donnees" / "annuaire.geojson", text.encode("utf-8"))


def write_schemas(output_dir: Path) -> list[str]:
    names = sorted(p.name for p in SCHEMAS_DIR.glob("*.schema.json"))
    for name in names:
        _write(output_dir / "schemas" / name, (SCHEMAS_DIR / name).read_bytes())
    return names


def lisezmoi(site_data: Any, settings: dict, schema_names: list[str]) -> str:
    base = _site_url(settings)
    counts = {k: len(site_data.listed.get(k, [])) for k in KINDS}
    schemas = "\n".join(f"  - {base}/schemas/{name}" for name in schema_names)
    return f"""Asso'cie — données ouvertes de l'annuaire
==========================================

Construit le {site_data.build_date.isoformat()} à partir des fiches publiées sur {base or 'le site'}/.
{counts['besoin']} besoins, {counts['offre']} offres, {counts['exemple']} exemples de partenariat, {counts['organisation']} organisations.

Licence
-------
Les données sont publiées sous la {LICENCE['nom']} (Etalab) : {LICENCE['url']}
Vous pouvez les réutiliser librement, y compris commercialement, en citant la source
(« Asso'cie », avec un lien vers le site) et la date de mise à jour.
Les entrées marquées « fictif » (vrai/oui) sont des exemples de démonstration.

Fichiers
--------
- annuaire.json : tout l'annuaire en un fichier (UTF-8) : licence, date de construction,
  liens vers les schémas, puis les listes organisations, besoins, offres et exemples.
  Chaque fiche reprend ses champs (voir les schémas), son adresse (url) et son lieu
  (commune, département, région, latitude, longitude). Chaque besoin et chaque offre
  porte ses mises en relation suggérées (suggestions : l'autre fiche, score, distance en km,
  raisons en français) et des exemples de partenariat inspirants.
- besoins.csv, offres.csv, exemples.csv, organisations.csv : une ligne par fiche.
  Encodage UTF-8 avec BOM, séparateur point-virgule « ; », fins de ligne CRLF : ces fichiers
  s'ouvrent tels quels dans Excel en français comme dans LibreOffice.
  Les listes (thématiques, partenaires, apports) sont jointes par « | ».
  Vrai/faux s'écrit oui/non ; les codes (type de soutien, catégorie, objet) sont suivis
  de leur libellé en français (colonnes *_libelle).
  Un texte commençant par =, +, -, @ est précédé d'une apostrophe (protection contre
  l'injection de formules dans les tableurs) ; le JSON garde le texte exact.
- annuaire.geojson : les besoins, offres et organisations sous forme de points
  (WGS 84, [longitude, latitude]) : le point de la commune, ou celui du chef-lieu du
  département quand la commune n'en a pas. Les exemples n'y figurent pas.

Seules les fiches en cours de validité sont publiées : une annonce dont la date de fin
est passée le jour de la construction disparaît des fichiers, des flux et du plan du site.
Les coordonnées de contact sont celles de l'organisation (adresse de rôle ou page de
contact), jamais celles d'une personne.

Schémas (JSON Schema, brouillon 7)
----------------------------------
{schemas}

Flux Atom
---------
- {base}/flux/besoins.xml, {base}/flux/offres.xml, {base}/flux/exemples.xml
- {base}/flux/regions/<région>.xml et {base}/flux/departements/<département>.xml
  (un flux par région et par département, même vide, pour s'abonner avant la première annonce).
"""


def write_open_data(site_data: Any, output_dir: Path, settings: dict) -> None:
    write_json(site_data, output_dir, settings)
    write_csv(site_data, output_dir, settings)
    write_geojson(site_data, output_dir, settings)
    names = write_schemas(output_dir)
    _write(output_dir / "donnees" / "LISEZMOI.txt", lisezmoi(site_data, settings, names).encode("utf-8"))


# ------------------------------------------------------------------------------ sitemap
SITEMAP_SKIP_DIRS = {"pagefind"}          # the search bundle (its playground is not a page)
SITEMAP_SKIP_FILES = {"404.html"}


def _html_pages(output_dir: Path) -> list[str]:
    """Every HTML file of the output as a site path (``/a/b/`` for ``a/b/index.html``), sorted.

    Walks like ``os.walk`` (a link to a folder is listed, not followed; unreadable folders are
    skipped), building each folder's site path once instead of asking ``os.path.relpath``."""
    pages: list[str] = []

    def walk(folder: str, prefix: str, top: bool) -> None:
        try:
            scanner = os.scandir(folder)
        except OSError:
            return
        subfolders = []
        with scanner:
            for item in scanner:
                try:
                    is_dir = item.is_dir()
                except OSError:
                    is_dir = False
                name = item.name
                if is_dir:
                    if top and name in SITEMAP_SKIP_DIRS:
                        continue
                    try:
                        is_link = item.is_symlink()
                    except OSError:
                        is_link = False
                    if not is_link:
                        subfolders.append((item.path, name))
                elif name.endswith(".html") and not (top and name in SITEMAP_SKIP_FILES):
                    pages.append(prefix if name == "index.html" else prefix + name)
        for path, name in subfolders:
            walk(path, f"{prefix}{name}/", False)

    walk(os.fspath(output_dir), "/", True)
    return sorted(pages)


def _max(dates: Iterable[str | None]) -> str | None:
    known = [d for d in dates if d]
    return max(known) if known else None


def sitemap_lastmods(site_data: Any) -> tuple[dict[str, str | None], set[str]]:
    """(path -> lastmod known from the data, paths to leave out: unlisted entries' pages)."""
    geo = site_data.geography
    lastmod: dict[str, str | None] = {}
    listed_ids = {(k, e.id) for k in KINDS for e in site_data.listed.get(k, [])}
    excluded = {page_path(e.kind, e.id) for e in site_data.corpus.all() if (e.kind, e.id) not in listed_ids}
    by_organisation: dict[str, list[str]] = {}
    by_region: dict[str, list[str]] = {}
    by_departement: dict[str, list[str]] = {}
    by_kind: dict[str, list[str]] = {}
    for kind in KINDS:
        for entry in site_data.listed.get(kind, []):
            date = known_lastmod(entry)
            lastmod[page_path(kind, entry.id)] = date
            if not date:
                continue
            by_kind.setdefault(kind, []).append(date)
            if entry.organisation is not None:
                by_organisation.setdefault(entry.organisation.id, []).append(date)
            if entry.place is not None and kind != "organisation":
                if entry.place.region:
                    by_region.setdefault(entry.place.region, []).append(date)
                if entry.place.departement:
                    by_departement.setdefault(entry.place.departement, []).append(date)
    for org_id, dates in by_organisation.items():
        lastmod[page_path("organisation", org_id)] = _max(dates)
    for kind, dates in by_kind.items():
        lastmod[f"/{FOLDER_OF_KIND[kind]}/"] = _max(dates)
    lastmod["/"] = _max(d for dates in by_kind.values() for d in dates)
    for code, dates in by_region.items():
        if code in geo.regions:
            lastmod[f"/territoires/{geo.slug_region(code)}/"] = _max(dates)
    for code, dates in by_departement.items():
        departement = geo.departements.get(code)
        if departement is not None and departement.region in geo.regions:
            lastmod[f"/territoires/{geo.slug_region(departement.region)}/{geo.slug_departement(code)}/"] = _max(dates)
    return lastmod, excluded


def _urlset(urls: list[tuple[str, str | None]]) -> bytes:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<urlset xmlns="{SITEMAP_NS}">']
    for loc, lastmod in urls:
        item = f"  <url><loc>{_escape(loc)}</loc>"
        if lastmod:
            item += f"<lastmod>{lastmod}</lastmod>"
        lines.append(item + "</url>")
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _escape(text: str) -> str:
    return (_xml_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&apos;"))


def write_sitemap(site_data: Any, output_dir: Path, settings: dict) -> list[str]:
    """``/sitemap.xml`` from the HTML files actually written, minus unlisted entries' pages;
    returns the listed paths. Beyond 50,000 URLs, ``sitemap.xml`` is an index of
    ``sitemap-1.xml``, ``sitemap-2.xml``…"""
    base = _site_url(settings)
    lastmods, excluded = sitemap_lastmods(site_data)
    paths = [p for p in _html_pages(output_dir) if p not in excluded]
    urls = [(base + p, lastmods.get(p)) for p in paths]
    for old in sorted(output_dir.glob("sitemap-*.xml")):
        old.unlink()
    if len(urls) <= SITEMAP_MAX_URLS:
        _write(output_dir / "sitemap.xml", _urlset(urls))
        return paths
    parts = [urls[i:i + SITEMAP_MAX_URLS] for i in range(0, len(urls), SITEMAP_MAX_URLS)]
    index = ['<?xml version="1.0" encoding="UTF-8"?>', f'<sitemapindex xmlns="{SITEMAP_NS}">']
    for number, part in enumerate(parts, start=1):
        _write(output_dir / f"sitemap-{number}.xml", _urlset(part))
        newest = _max(lastmod for _, lastmod in part)
        item = f"  <sitemap><loc>{_escape(f'{base}/sitemap-{number}.xml')}</loc>"
        index.append(item + (f"<lastmod>{newest}</lastmod>" if newest else "") + "</sitemap>")
    index.append("</sitemapindex>")
    _write(output_dir / "sitemap.xml", ("\n".join(index) + "\n").encode("utf-8"))
    return paths


# ------------------------------------------------------------------------------ entry point
def write_exports(site_data: Any, output_dir: Path, settings: dict) -> None:
    """Feeds, open data, schemas and sitemap. Call it after every HTML page is written."""
    output_dir = Path(output_dir)
    settings = dict(settings or {})
    write_feeds(site_data, output_dir, settings)
    write_open_data(site_data, output_dir, settings)
    write_sitemap(site_data, output_dir, settings)
