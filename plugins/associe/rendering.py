"""Stage 5 — render: every page of the site, from the pipeline's ``SiteData``, through Pelican's writer.

``AssocieGenerator`` is a Pelican ``Generator`` (hooked by ``pelican_plugin`` through
``signals.get_generators``). ``generate_context`` runs the pipeline (load → validate → enrich →
match); a ``PipelineError`` propagates, so the Pelican run fails with every problem.
``generate_output`` writes each page exactly once with ``writer.write_file`` (a second write of
the same file raises), then the commune autocomplete files, then calls the exports hook.

URL scheme (all French, stable, ending with a slash; ``paths`` below is the single source):

    /                                       home: two sentences, counters, map, latest, calls to action
    /besoins/  /offres/  /exemples/  /organisations/          listings, 50 cards a page (JS filters)
    /besoins/page/<n>/ …                    the next pages of a listing (rel=prev/next, page links)
    /besoins/<id>/  /offres/<id>/  /exemples/<id>/  /organisations/<id>/   entry pages
    /soutiens/<type>/  /categories/<cat>/  /thematiques/<theme>/          listings by vocabulary (paginated too)
    /territoires/                           every région, the map and the table
    /territoires/<slug-region>/             every région (also empty ones)
    /territoires/<slug-region>/<slug-dep>/  every département (also empty ones)
    /communes/<code>-<slug>/                each commune that has entries
    /mises-en-relation/[<slug-region>/[<slug-dep>/]]   suggested pairs, national/région/département
    /recherche/                             search (recherche.js on Pagefind's JS API)
    /donnees/                               the open data page (files written by associe.exports)
    /geo/communes-<x>.json, /geo/cp-<nn>.json         commune autocomplete (« près de chez moi »)
    /donnees/filtres-<kind folder>.json     every listed entry of a kind as compact rows, fetched by
                                            filtres.js on the first filter of a paginated listing

Freshness: an expired need or offer (``SiteData.expired``) keeps its page, which says « Cette
annonce a expiré le … », carries no ``data-pagefind-body`` (so Pagefind skips it) and a
``robots noindex``; it is in no listing, no count, no suggestion and no map.
"""
from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import logging
import os
import re
import sys
import tempfile
import threading
import traceback
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import quote, urlsplit

from jinja2 import FileSystemBytecodeCache, meta, pass_context
from markupsafe import Markup, escape
from pelican.generators import Generator
from pelican.utils import get_relative_path, path_to_url

from . import forked, markdown_safe
from .page_cache import FragmentStore, KeyMaker, Manifest, _digest, build_key, keys_in_two, remove_stale, stamp
from .pipeline import SiteData, is_open, run_pipeline
from .records import Entry
from .vocabulary import label as vocab_label
from .vocabulary import load_vocabularies
from .dates import MONTHS, french_date, to_date  # noqa: F401 - used by templates too

logger = logging.getLogger(__name__)

KINDS = ("besoin", "offre", "exemple", "organisation")
KIND_FOLDER = {"besoin": "besoins", "offre": "offres", "exemple": "exemples", "organisation": "organisations"}
KIND_LABEL = {"besoin": "Besoin", "offre": "Offre", "exemple": "Exemple", "organisation": "Organisation"}
KIND_PLURAL = {"besoin": "Besoins", "offre": "Offres", "exemple": "Exemples de partenariats",
               "organisation": "Organisations"}
# columns of donnees/filtres-*.json (names = the data-* attributes filtres.js reads on a card)
INDEX_COLUMNS = ("id", "titre", "url", "kind", "type", "categorie", "thematiques", "region", "departement",
                 "statut", "taille", "lat", "lon", "date", "meta", "org", "dates", "badge", "fictif")
#: templates of the many small pages (entries, communes): their page keys are computed apart from
#: the others' (``page_cache.keys_in_two``)
ENTRY_LIKE_TEMPLATES = frozenset({"entry", "exemple", "organisation", "commune"})
LISTING_PAGE_SIZE = 50   # cards per listing page (setting ASSOCIE_LISTING_PAGE_SIZE)
MAP_BUCKETS = ((0, "c0", "aucune"), (1, "c1", "1"), (2, "c2", "2 à 4"), (5, "c3", "5 à 9"), (10, "c4", "10 et plus"))
EXTERNAL_REL = "nofollow ugc noopener noreferrer"
ROOT_MARK = "\x00racine\x00"   # stands for SITEURL in cached cards (control characters never reach content)
SITE_NAME = "Asso'cie"
# Files written by Pelican's writer during the current run (its editorial pages), recorded by the
# ``content_written`` signal (``pelican_plugin``) so that an incremental build can remove the stale ones.
PELICAN_WRITTEN: list[str] = []


# ------------------------------------------------------------------------------------ paths
def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("Œ", "Oe")
                                       ).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def value_slug(value: str) -> str:
    """Vocabulary value → URL segment: ``don_materiel`` → ``don-materiel``."""
    return value.replace("_", "-")



class _ErrorRecords(logging.Handler):
    """Counts the ERROR records logged in a rendering child process."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        sys.stderr.write(f"erreur : {record.getMessage()}\n")

class Paths:
    """Every URL of the site, relative to its root (no leading slash, trailing slash for pages).

    The exports/feeds/sitemap module uses the same object (``Paths(geography)``)."""

    def __init__(self, geo: Any):
        self.geo = geo

    @staticmethod
    def entry(entry: Entry) -> str:
        return f"{KIND_FOLDER[entry.kind]}/{entry.id}/"

    @staticmethod
    def kind(kind: str) -> str:
        return f"{KIND_FOLDER[kind]}/"

    def region(self, code: str) -> str:
        return f"territoires/{self.geo.slug_region(code)}/"

    def departement(self, code: str) -> str:
        dep = self.geo.departements[code]
        return f"territoires/{self.geo.slug_region(dep.region)}/{self.geo.slug_departement(code)}/"

    def commune(self, code: str) -> str:
        commune = self.geo.commune(code)
        return f"communes/{slugify(code + ' ' + (commune.nom if commune else ''))}/"

    def commune_key(self, code: str) -> str:
        """``21231-dijon``: the commune's URL segment, also used in « près de chez moi » URLs."""
        return self.commune(code).split("/")[1]

    @staticmethod
    def vocabulary(vocab: str, value: str) -> str:
        folder = {"type_de_soutien": "soutiens", "categorie": "categories", "thematique": "thematiques"}[vocab]
        return f"{folder}/{value_slug(value)}/"

    def suggestions(self, region: str | None = None, departement: str | None = None) -> str:
        if departement:
            dep = self.geo.departements[departement]
            return (f"mises-en-relation/{self.geo.slug_region(dep.region)}/"
                    f"{self.geo.slug_departement(departement)}/")
        if region:
            return f"mises-en-relation/{self.geo.slug_region(region)}/"
        return "mises-en-relation/"

    # Feeds: written by associe.exports with exactly these paths.
    @staticmethod
    def feed_kind(kind: str) -> str | None:
        """``flux/besoins.xml``, ``flux/offres.xml``, ``flux/exemples.xml`` (no feed of organisations)."""
        return f"flux/{KIND_FOLDER[kind]}.xml" if kind in ("besoin", "offre", "exemple") else None

    def feed_region(self, code: str) -> str:
        return f"flux/regions/{self.geo.slug_region(code)}.xml"

    def feed_departement(self, code: str) -> str:
        return f"flux/departements/{self.geo.slug_departement(code)}.xml"

    @staticmethod
    def file(path: str) -> str:
        """Output file of a page path: ``besoins/x/`` → ``besoins/x/index.html``."""
        return path + "index.html" if path.endswith("/") or not path else path


# ------------------------------------------------------------------------------------ text helpers
def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """« 0 annonce », « 1 annonce », « 12 annonces » (French: 0 and 1 are singular)."""
    word = singular if count <= 1 else (plural_form or singular + "s")
    return f"{count} {word}"


def label(vocab: str, value: Any) -> str:
    return vocab_label(vocab, value) if value else ""


def safe_url(value: Any) -> str:
    """An http(s) URL kept as is, anything else (javascript:, data:, relative) → ''."""
    if not isinstance(value, str):
        return ""
    return _safe_url(value)


@lru_cache(maxsize=None)
def _safe_url(value: str) -> str:
    parts = urlsplit(value.strip())
    return value.strip() if parts.scheme in ("https", "http") and parts.netloc else ""


def url_host(value: Any) -> str:
    url = safe_url(value)
    return urlsplit(url).hostname or "" if url else ""


def mailto(address: Any, subject: str = "") -> str:
    """``mailto:`` link of a role address (checked again: one address, no header injection)."""
    if not isinstance(address, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
                                                         address):
        return ""
    link = "mailto:" + address
    if subject:
        link += "?subject=" + quote(subject, safe="")
    return link


def place_text(place: Any) -> str:
    """« Dijon (Côte-d'Or) », « Côte-d'Or », « Bourgogne-Franche-Comté », « France entière »."""
    if place is None:
        return ""
    if place.commune_nom:
        return f"{place.commune_nom} ({place.departement_nom})" if place.departement_nom else place.commune_nom
    if place.departement_nom:
        return f"{place.departement_nom} ({place.departement})"
    if place.region_nom:
        return place.region_nom
    return "France entière"


def reach_text(entry: Entry) -> str:
    """The reach of a need or an offer in words: « dans un rayon de 20 km autour de Dijon »."""
    territory = entry.get("territoire") or {}
    place = entry.place
    where = place.commune_nom if place and place.commune_nom else "la commune"
    portee = territory.get("portee")
    if portee == "rayon":
        return f"dans un rayon de {territory.get('rayon_km') or '?'} km autour de {where}"
    if portee == "commune":
        return f"à {where} et tout près"
    if portee == "departement":
        return (f"dans tout le département : {place.departement_nom} ({place.departement})"
                if place and place.departement_nom else "dans tout le département")
    if portee == "region":
        return f"dans toute la région {place.region_nom}" if place and place.region_nom else "dans toute la région"
    if portee == "national":
        return "partout en France"
    return ""


def example_scale_text(entry: Entry) -> str:
    territory = entry.get("territoire") or {}
    scale = territory.get("echelle")
    place = entry.place
    if scale == "national" or place is None:
        return "Partenariat national"
    if scale == "region":
        return f"Région {place.region_nom}" if place.region_nom else "Régional"
    return place_text(place)


def excerpt(source: Any, limit: int = 180) -> str:
    return markdown_safe.plain_text(source if isinstance(source, str) else "", limit)


def markdown(source: Any) -> Markup:
    return markdown_safe.render(source if isinstance(source, str) else "")


def ucfirst(text: Any) -> str:
    text = str(text or "")
    return text[:1].upper() + text[1:]


JINJA_FILTERS = {
    "fdate": french_date,
    "ucfirst": ucfirst,
    "md": markdown,
    "excerpt": excerpt,
    "safe_url": safe_url,
    "url_host": url_host,
}


NAV_FILES = frozenset(f"{folder}/index.html" for folder in (
    "besoins", "offres", "exemples", "organisations", "territoires", "mises-en-relation"))


FRAGMENTS = ("entete", "pied")   # the templates base.html renders through ``fragment(name)``


def write_page(output: str, name: str, data: bytes, folders: set[str]) -> None:
    """Write ``data`` to ``output/name``, creating its folder unless ``folders`` says it was
    (thousands of pages: the system calls alone, without pathlib's work around them)."""
    path = f"{output}/{name}"
    folder = path.rpartition("/")[0]
    if folder not in folders:
        try:
            os.mkdir(folder)         # pages come in path order: their parent folder usually exists
        except FileExistsError:
            pass
        except FileNotFoundError:
            os.makedirs(folder, exist_ok=True)
        folders.add(folder)
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(handle, view):]
    finally:
        os.close(handle)


def fragments(env: Any) -> Any:
    """``fragment(name)`` for base.html: the template ``_<name>.html`` rendered with the page's
    context, once per distinct value of what it reads that varies between pages (the way to the
    root, the section and the current menu entry); everything else it reads is the same for the
    whole build (settings, build date)."""
    cache: dict[tuple, Markup] = {}

    @pass_context
    def fragment(context: Any, name: str) -> Markup:
        output_file = context.get("output_file")
        key = (name, context.get("SITEURL"), context.get("section"), output_file if output_file in NAV_FILES else None)
        found = cache.get(key)
        if found is None:
            found = cache[key] = Markup(env.get_template(f"_{name}.html").render(context.get_all()))
        return found

    return fragment


def template_variables(env: Any, names: Iterable[str]) -> frozenset[str] | None:
    """Every variable the templates ``names`` read from their context, with those of the
    templates they extend, import or include, by Jinja's own analysis of their source; None
    when a template names another by an expression (then anything may be read)."""
    seen: set[str] = set()
    todo = list(names)
    found: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        source, filename, _ = env.loader.get_source(env, name)
        tree = env.parse(source, name, filename)
        found |= meta.find_undeclared_variables(tree)
        for referenced in meta.find_referenced_templates(tree):
            if referenced is None:
                return None
            todo.append(referenced)
    return frozenset(found)


def add_jinja_helpers(generator: Generator) -> None:
    """``signals.generator_init`` receiver: the same filters in every generator's environment
    (the editorial pages' ``page.html`` extends the same ``base.html``)."""
    generator.env.filters.update(JINJA_FILTERS)
    # An environment lives for one build: its templates are not edited meanwhile, so no
    # modification-time check each time a page gets or imports one.
    generator.env.auto_reload = False
    settings = getattr(generator, "settings", None) or {}
    cache = settings.get("ASSOCIE_CACHE_PATH")
    if cache and generator.env.bytecode_cache is None:
        # compiled templates kept between builds (Jinja checks each template's source checksum)
        import jinja2

        options = repr((jinja2.__version__, sorted((k, repr(v)) for k, v in
                                                    (settings.get("JINJA_ENVIRONMENT") or {}).items())))
        folder = Path(cache) / "jinja" / hashlib.blake2b(options.encode(), digest_size=8).hexdigest()
        folder.mkdir(parents=True, exist_ok=True)
        generator.env.bytecode_cache = FileSystemBytecodeCache(str(folder))
    if "fragment" not in generator.env.globals:
        generator.env.globals["fragment"] = fragments(generator.env)
    generator.env.globals.update({"label": label, "plural": plural, "KIND_LABEL": KIND_LABEL,
                                  "KIND_PLURAL": KIND_PLURAL, "mailto": mailto, "place_text": place_text,
                                  "reach_text": reach_text, "example_scale_text": example_scale_text})


def _frozen(value: Any) -> Any:
    """``value`` usable as a dictionary key: lists become tuples."""
    return tuple(_frozen(item) for item in value) if isinstance(value, list) else value


# ------------------------------------------------------------------------------------ the site model
@dataclass
class Territory:
    """Counts and entries of one région, département or commune (listed entries only)."""
    code: str
    nom: str
    path: str
    needs: list[Entry] = field(default_factory=list)        # open needs
    offers: list[Entry] = field(default_factory=list)       # open offers
    others: list[Entry] = field(default_factory=list)       # listed needs/offers no longer open (pourvu)
    examples: list[Entry] = field(default_factory=list)
    organisations: list[Entry] = field(default_factory=list)

    @property
    def open_count(self) -> int:
        return len(self.needs) + len(self.offers)

    @property
    def empty(self) -> bool:
        return not (self.needs or self.offers or self.others or self.examples or self.organisations)


def _all_of(territory: Territory) -> list[Entry]:
    return [*territory.needs, *territory.offers, *territory.examples, *territory.others, *territory.organisations]


def _sort_key_latest(entry: Entry) -> tuple:
    published = to_date(entry.get("date_publication")) or dt.date.min
    return (-published.toordinal(), entry.id)


def _by_title(entry: Entry) -> tuple:
    return (fold(entry.title), entry.id)


class SiteModel:
    """Everything the templates read, computed once from ``SiteData`` (sorted, deterministic)."""

    def __init__(self, site: SiteData, settings: dict):
        self.site = site
        self.settings = settings
        self.geo = site.geography
        self.paths = Paths(self.geo)
        self.build_date = site.build_date
        self.listed = {kind: sorted(site.listed.get(kind, []), key=lambda e: e.id) for kind in KINDS}
        self.expired = sorted(site.expired, key=lambda e: (e.kind, e.id))
        self.expired_ids = {(e.kind, e.id) for e in self.expired}
        self.listed_ids = {(e.kind, e.id) for kind in KINDS for e in self.listed[kind]}
        self.by_id = {(e.kind, e.id): e for kind in KINDS for e in self.listed[kind]}
        self.by_id.update({(e.kind, e.id): e for e in self.expired})
        self.open = {kind: [e for e in self.listed[kind] if is_open(e, self.build_date)]
                     for kind in ("besoin", "offre")}
        self.open_ids = {(e.kind, e.id) for kind in ("besoin", "offre") for e in self.open[kind]}
        self.vocab = load_vocabularies()
        self._cards: dict[tuple, str] = {}
        self.fragments: FragmentStore | None = None   # set by an incremental build (page_cache)
        self._memo: dict[tuple, Markup] = {}
        self._attributes: dict[tuple, Markup] = {}
        self._fingerprints: dict[int, bytes] = {}
        self._field_values: dict[str, dict[int, tuple]] = {}
        self._communes_by_departement: dict[str, list[Territory]] | None = None
        self._territories()
        self._organisation_entries()
        self._all_pairs()

    # -- incremental builds (page_cache) -------------------------------------------------
    def fingerprint(self, entry: Entry) -> bytes:
        """Everything a page may show about ``entry``: its data, place and status, its
        organisation's data and status, and for an example the entries it names (whether they
        have a page, and their titles)."""
        found = self._fingerprints.get(id(entry))
        if found is None:
            org = entry.organisation
            org_part = None if org is None else (org.kind, org.id, org.data, org.place,
                                                 (org.kind, org.id) in self.listed_ids)
            refs: tuple = ()
            if entry.kind == "exemple":
                named = [("organisation", p.get("organisation")) for p in entry.get("partenaires") or ()
                         if isinstance(p, dict)]
                named += [("besoin", entry.get("besoin")), ("offre", entry.get("offre"))]
                refs = tuple((kind, ident, (other := self.get(kind, ident)) is not None,
                              other.title if other is not None else None) for kind, ident in named)
            key = (entry.kind, entry.id)
            found = _digest((entry.kind, entry.id, entry.path, entry.data, entry.place, entry.extra, org_part, refs,
                             key in self.listed_ids, key in self.open_ids, key in self.expired_ids))
            self._fingerprints[id(entry)] = found
        return found

    def shared_state(self, template: str) -> tuple:
        """What a template reads from the whole site instead of its page's context: the régions
        that have entries (« Parcourir », on listings and territory pages) and, for the
        territories page, the open counts of every région and département."""
        state: tuple = tuple((code, t.nom, t.path, t.empty) for code, t in self.regions.items())
        if template == "territoires":
            state += (tuple((code, t.open_count) for code, t in self.regions.items()),
                      tuple((code, t.nom, t.path, t.open_count) for code, t in self.departements.items()))
        return state

    # -- lookups used by templates ----------------------------------------------------
    def has_page(self, kind: str, ident: str | None) -> bool:
        return bool(ident) and (kind, ident) in self.by_id

    def get(self, kind: str, ident: str | None) -> Entry | None:
        return self.by_id.get((kind, ident)) if ident else None

    def suggestions_for(self, entry: Entry) -> list[dict]:
        """Suggested partners of an open need or offer: [{entry, reasons}]."""
        if (entry.kind, entry.id) not in self.open_ids:
            return []
        matches = self.site.matches
        if matches is None:
            return []
        found = (matches.for_need if entry.kind == "besoin" else matches.for_offer).get(entry.id, [])
        result = []
        for suggestion in found:
            other_kind, other_id = (("offre", suggestion.offer_id) if entry.kind == "besoin"
                                    else ("besoin", suggestion.need_id))
            other = self.get(other_kind, other_id)
            if other is not None and (other_kind, other_id) in self.open_ids:
                # only what the page shows: a score or a distance that changes with the rest of the
                # directory (the matching's text weights) would make an unchanged page look changed
                result.append({"entry": other, "reasons": list(suggestion.reasons)})
        return result

    def examples_for(self, entry: Entry) -> list[Entry]:
        if (entry.kind, entry.id) not in self.open_ids and (entry.kind, entry.id) not in self.listed_ids:
            return []
        limit = int(self.settings.get("ASSOCIE_EXAMPLES_PER_ENTRY", 3))
        return [e for e in self.site.examples_for.get((entry.kind, entry.id), [])
                if (e.kind, e.id) in self.listed_ids][:limit]

    def _all_pairs(self) -> None:
        """Every suggested pair between open entries, by score then ids, indexed by territory."""
        self._pairs: list[dict] = []
        self._pairs_by: dict[tuple[str, str], list[dict]] = defaultdict(list)
        matches = self.site.matches
        for pair in getattr(matches, "pairs", None) or []:
            if ("besoin", pair.need_id) not in self.open_ids or ("offre", pair.offer_id) not in self.open_ids:
                continue
            need, offer = self.by_id[("besoin", pair.need_id)], self.by_id[("offre", pair.offer_id)]
            self._pairs.append({"need": need, "offer": offer, "score": pair.score, "reasons": list(pair.reasons)})
        self._pairs.sort(key=lambda p: (-p["score"], p["need"].id, p["offer"].id))
        for item in self._pairs:   # only what the pages show (see suggestions_for)
            del item["score"]
        for item in self._pairs:
            keys = set()
            for place in (item["need"].place, item["offer"].place):
                if place is not None:
                    if place.region:
                        keys.add(("region", place.region))
                    if place.departement:
                        keys.add(("departement", place.departement))
            for key in sorted(keys):
                self._pairs_by[key].append(item)

    def pairs(self, region: str | None = None, departement: str | None = None) -> list[dict]:
        """Suggested pairs by score (then ids) whose need or offer is in the territory."""
        if departement:
            found = self._pairs_by.get(("departement", departement), [])
        elif region:
            found = self._pairs_by.get(("region", region), [])
        else:
            found = self._pairs
        return found[: int(self.settings.get("ASSOCIE_PAIRS_PER_PAGE", 200))]

    def pairs_count(self, region: str | None = None, departement: str | None = None) -> int:
        if departement:
            return len(self._pairs_by.get(("departement", departement), []))
        if region:
            return len(self._pairs_by.get(("region", region), []))
        return len(self._pairs)

    def organisation_of(self, entry: Entry) -> Entry | None:
        org = entry.organisation
        return org if org is not None and (org.kind, org.id) in self.listed_ids else None

    def taille(self, entry: Entry) -> str:
        if entry.kind == "organisation":
            return entry.get("taille") or ""
        org = entry.organisation
        return (org.get("taille") or "") if org is not None else ""

    def card(self, macro: Any, entry: Entry, root: str, level: int = 3) -> Markup:
        """The list item of ``entry`` (the ``card`` macro), rendered once per heading level with a
        placeholder for the way to the root, then reused on every listing it appears on."""
        return Markup(self._card_html(macro, entry, level).replace(ROOT_MARK, str(escape(root))))

    def cards(self, macro: Any, entries: Iterable[Entry], root: str, level: int = 3) -> Markup:
        """The list items of ``entries``, each followed by a line break, joined here rather than
        by a loop in the template (a listing shows hundreds of them)."""
        html = "".join([f"{self._card_html(macro, entry, level)}\n" for entry in entries])
        return Markup(html.replace(ROOT_MARK, str(escape(root))))

    def _card_html(self, macro: Any, entry: Entry, level: int) -> str:
        key = (entry.kind, entry.id, level)
        html = self._cards.get(key)
        if html is None:
            html = self._cards[key] = self._fragment(macro, entry, level)
        return html

    def _fragment(self, macro: Any, entry: Entry, *args: Any) -> str:
        """``macro(entry, M, P, *args, ROOT_MARK)``, read from the fragments of the last build when
        there are (``fragments``, an incremental build) and its entry did not change."""
        store = self.fragments
        if store is None:
            return str(macro(entry, self, self.paths, *args, ROOT_MARK))
        name = (macro.name, entry.kind, entry.id, *args)
        fingerprint = self.fingerprint(entry)
        html = store.get(name, fingerprint)
        if html is None:
            html = str(macro(entry, self, self.paths, *args, ROOT_MARK))
            store.put(name, fingerprint, html)
        return html

    def memo(self, macro: Any, *args: Any) -> Markup:
        """``macro(*args)``, rendered once per distinct arguments (lists compared by value). The
        macro must depend on its arguments only; memoised macros are told apart by their name
        (a template imported ``with context`` makes new macro objects for every page)."""
        key = (macro.name, *(_frozen(arg) for arg in args))
        html = self._memo.get(key)
        if html is None:
            html = self._memo[key] = Markup(str(macro(*args)))
        return html

    def once(self, macro: Any, entry: Entry, root: str) -> Markup:
        """``macro(entry, M, P, root)`` (a suggested entry's head, one side of a suggested pair),
        rendered once per entry with a placeholder for the way to the root, then reused on every
        page that shows it. The macro must depend on nothing else."""
        key = (macro.name, entry.kind, entry.id)
        html = self._cards.get(key)
        if html is None:
            html = self._cards[key] = self._fragment(macro, entry)
        return Markup(html.replace(ROOT_MARK, str(escape(root))))

    def data_attributes(self, entry: Entry) -> Markup:
        """The ``data-*`` attributes a list item carries for the JS filter (escaped here)."""
        key = (entry.kind, entry.id)
        if key not in self._attributes:
            self._attributes[key] = self._data_attributes(entry)
        return self._attributes[key]

    def _data_attributes(self, entry: Entry) -> Markup:
        place = entry.place
        values = {
            "kind": entry.kind,
            "type": entry.get("type_de_soutien") or "",
            "categorie": entry.get("categorie") or "",
            "thematiques": " ".join(entry.get("thematiques") or ()),
            "region": (place.region if place else None) or "",
            "departement": (place.departement if place else None) or "",
            "statut": entry.get("statut") or ("ouvert" if entry.kind in ("besoin", "offre") else ""),
            "taille": self.taille(entry),
            "nature": (entry.get("nature") if entry.kind == "organisation"
                       else (entry.organisation.get("nature") if entry.organisation is not None else "")) or "",
            "lat": f"{place.lat:.4f}" if place and place.lat is not None else "",
            "lon": f"{place.lon:.4f}" if place and place.lon is not None else "",
            "date": entry.get("date_publication") or "",
        }
        return Markup(" ".join(f'data-{k}="{escape(v)}"' for k, v in values.items() if v))

    def vocabulary_values(self, vocab: str, entries: Iterable[Entry], field_name: str) -> list[tuple[str, str]]:
        """(value, label) of a vocabulary present among ``entries``, in the schema's order."""
        present: set[str] = set()
        for entry in entries:
            present.update(self.field_values(entry, field_name))
        return [(v, lab) for v, lab in self.vocab[vocab].items() if v in present]

    def field_values(self, entry: Entry, field_name: str) -> tuple:
        """The values of an entry's field (a list's items, a single value, or nothing), read once
        per entry and field (``taille`` is the organisation's)."""
        values = self._field_values.get(field_name)
        if values is None:
            values = self._field_values[field_name] = {}
        found = values.get(id(entry))
        if found is None:
            value = self.taille(entry) if field_name == "taille" else entry.data.get(field_name)
            found = values[id(entry)] = tuple(value) if isinstance(value, list) else (value,) if value else ()
        return found

    def regions_present(self, entries: Iterable[Entry]) -> list[tuple[str, str]]:
        codes = {e.place.region for e in entries if e.place is not None and e.place.region}
        return [(code, r.nom) for code, r in self.geo.regions.items() if code in codes]

    def departements_present(self, entries: Iterable[Entry]) -> list[tuple[str, str, str]]:
        codes = {e.place.departement for e in entries if e.place is not None and e.place.departement}
        return [(code, d.nom, d.region) for code, d in self.geo.departements.items() if code in codes]

    # -- territories -------------------------------------------------------------------
    def _territories(self) -> None:
        geo = self.geo
        self.regions = {code: Territory(code, r.nom, self.paths.region(code)) for code, r in geo.regions.items()}
        self.departements = {code: Territory(code, d.nom, self.paths.departement(code))
                             for code, d in geo.departements.items()}
        communes: dict[str, Territory] = {}

        def add(attr: str, entry: Entry) -> None:
            place = entry.place
            if place is None:
                return
            targets = []
            if place.region in self.regions:
                targets.append(self.regions[place.region])
            if place.departement in self.departements:
                targets.append(self.departements[place.departement])
            if place.commune:
                if place.commune not in communes:
                    communes[place.commune] = Territory(place.commune, place.commune_nom or place.commune,
                                                        self.paths.commune(place.commune))
                targets.append(communes[place.commune])
            for territory in targets:
                getattr(territory, attr).append(entry)

        for kind, attr in (("besoin", "needs"), ("offre", "offers")):
            for entry in self.listed[kind]:
                add(attr if (kind, entry.id) in self.open_ids else "others", entry)
        for entry in self.listed["exemple"]:
            add("examples", entry)
        for entry in self.listed["organisation"]:
            add("organisations", entry)
        for territory in [*self.regions.values(), *self.departements.values(), *communes.values()]:
            territory.needs.sort(key=_sort_key_latest)
            territory.offers.sort(key=_sort_key_latest)
            territory.others.sort(key=_sort_key_latest)
            territory.examples.sort(key=lambda e: e.id)
            territory.organisations.sort(key=_by_title)
        self.communes = dict(sorted(communes.items()))

    def communes_of(self, departement: str) -> list[Territory]:
        """The communes of a département that have entries, by name."""
        if self._communes_by_departement is None:
            grouped: dict[str, list[Territory]] = defaultdict(list)
            for code, territory in self.communes.items():
                commune = self.geo.commune(code)
                if commune is not None:
                    grouped[commune.departement].append(territory)
            self._communes_by_departement = {
                code: sorted(territories, key=lambda t: (slugify(t.nom), t.code)) for code, territories in grouped.items()}
        return list(self._communes_by_departement.get(departement, ()))

    def _organisation_entries(self) -> None:
        self.org_entries: dict[str, dict[str, list[Entry]]] = defaultdict(lambda: {"besoin": [], "offre": [],
                                                                                  "exemple": []})
        for kind in ("besoin", "offre"):
            for entry in self.listed[kind]:
                if entry.organisation is not None:
                    self.org_entries[entry.organisation.id][kind].append(entry)
        for example in self.listed["exemple"]:
            for partner in example.get("partenaires") or ():
                if partner.get("organisation"):
                    self.org_entries[partner["organisation"]]["exemple"].append(example)
        for value in self.org_entries.values():
            for kind in value:
                value[kind].sort(key=_sort_key_latest)

    # -- the map ------------------------------------------------------------------------
    def map_data(self) -> dict:
        """The départements of the shipped SVG, each with its count of open entries and bucket."""
        svg = _map_paths(self.settings)
        metro, overseas = [], []
        for code, territory in self.departements.items():
            dep = self.geo.departements[code]
            count = territory.open_count
            bucket = next(css for threshold, css, _ in reversed(MAP_BUCKETS) if count >= threshold)
            item = {"code": code, "nom": territory.nom, "path": territory.path, "count": count, "bucket": bucket,
                    "needs": len(territory.needs), "offers": len(territory.offers),
                    "region": self.geo.regions[dep.region].nom if dep.region in self.geo.regions else "",
                    "name": f"{territory.nom} : {plural(count, 'annonce ouverte', 'annonces ouvertes')}"}
            if code in svg:
                metro.append({**item, "d": svg[code]})
            else:
                overseas.append(item)
        return {"metro": metro, "overseas": overseas, "buckets": MAP_BUCKETS, "viewbox": "0 0 613 585"}


_NUMBER = re.compile(r"-?\d+\.\d+")


def _map_paths(settings: dict) -> dict[str, str]:
    """{département code: path data} from the départements SVG, coordinates rounded to 0.1
    (≈ 100 m on the map's scale; halves the file)."""
    candidates = [Path(settings.get("THEME", "theme")) / "static" / "img" / "france-departements.svg",
                  Path(__file__).resolve().parent / "data" / "cartes" / "france-departements.svg"]
    source = next((p for p in candidates if p.exists()), None)
    if source is None:
        logger.warning("Carte des départements introuvable : la page d'accueil n'aura que le tableau.")
        return {}
    text = source.read_text(encoding="utf-8")
    result = {}
    for match in re.finditer(r'<path\s[^>]*?id="([0-9AB]{2,3})"[^>]*?\sd="([^"]+)"', text, re.S):
        result[match.group(1)] = _NUMBER.sub(lambda m: f"{float(m.group()):.1f}".rstrip("0").rstrip("."),
                                             match.group(2))
    return result


# ------------------------------------------------------------------------------------ autocomplete
def fold(text: str) -> str:
    """Search key, identical to theme/static/js/filtres.js's ``fold``."""
    text = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


_FIRST_LETTERS: dict[str, str] = {}


def _first_letter(text: str) -> str:
    """``fold(text)[:1]``, one character at a time (fold works character by character) and
    remembered per character: the file key of each of the 35,000 communes."""
    for char in text:
        letter = _FIRST_LETTERS.get(char)
        if letter is None:
            letter = _FIRST_LETTERS[char] = fold(char)[:1]
        if letter:
            return letter
    return ""


def autocomplete_files(geo: Any) -> dict[str, list[list]]:
    """``communes-<letter>.json`` by first letter of the folded name, ``cp-<nn>.json`` by the
    first two digits of the postcode; rows ``[code, nom, dep, 'cp1 cp2', lat, lon]`` as given by
    ``territories.autocomplete_index`` (largest communes first)."""
    from .territories import autocomplete_index

    files: dict[str, list[list]] = defaultdict(list)
    for row in autocomplete_index(geo):
        key = _first_letter(row[1]) or "_"
        files[f"communes-{key if key.isalnum() else '_'}"].append(row)
        for prefix in sorted({cp[:2] for cp in (row[3] or "").split() if len(cp) >= 2}):
            files[f"cp-{prefix}"].append(row)
    return dict(sorted(files.items()))


# ------------------------------------------------------------------------------------ optional stages
def optional_module(name: str):
    """``associe.<name>`` if that module exists, else None. Only the absence of that exact
    module is tolerated: an ImportError inside it (or a missing dependency) surfaces."""
    import importlib

    qualified = f"{__package__}.{name}"
    try:
        return importlib.import_module(qualified)
    except ModuleNotFoundError as error:
        if error.name != qualified:
            raise
        return None


# ------------------------------------------------------------------------------------ the generator
class AssocieGenerator(Generator):
    """Writes every page of the directory from the validated YAML entries."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        add_jinja_helpers(self)
        self.site: SiteData | None = None
        self.model: SiteModel | None = None
        self.pages_written = 0
        self.pages_rendered = 0
        PELICAN_WRITTEN.clear()

    # -- settings --------------------------------------------------------------------------
    def _build_date(self) -> dt.date:
        value = self.settings.get("ASSOCIE_BUILD_DATE")
        if value in (None, ""):
            return dt.date.today()
        day = to_date(value)
        if day is None:
            raise ValueError(f"ASSOCIE_BUILD_DATE : « {value} » n'est pas une date AAAA-MM-JJ")
        return day

    def _content_dir(self) -> Path:
        return Path(self.settings.get("ASSOCIE_CONTENT_PATH") or self.settings["PATH"])

    # -- Pelican hooks ------------------------------------------------------------------------
    def generate_context(self) -> None:
        content = self._content_dir()
        if not any((content / folder).is_dir() for folder in KIND_FOLDER.values()):
            logger.warning("Asso'cie : aucun dossier d'entrées dans %s (organisations/, besoins/, offres/, "
                           "exemples/) ; le site sera vide.", content)
        from .matching import MatchSettings

        match_settings = MatchSettings(k=int(self.settings.get("ASSOCIE_MATCHES_PER_ENTRY", 5)))
        root = self.settings.get("ASSOCIE_ROOT")
        self.site = run_pipeline(content, self._build_date(),
                                 include_fictitious=bool(self.settings.get("ASSOCIE_INCLUDE_FICTITIOUS", True)),
                                 match_settings=match_settings, root=Path(root) if root else None,
                                 cache_dir=Path(cache) if (cache := self.settings.get("ASSOCIE_CACHE_PATH")) else None)
        for warning in self.site.warnings:
            logger.warning("%s", warning)
        # The corpus, the matches and the model live until the pages are written: the cyclic
        # garbage collector need not scan them again at every full collection (0.8 s at 10,000
        # entries) nor touch them in the forked rendering processes. Unfrozen by ``generate_output``.
        gc.freeze()
        self.model = SiteModel(self.site, self.settings)
        gc.freeze()
        # Shared with the editorial pages (page.html extends base.html).
        self.context["associe_build_date"] = self.site.build_date
        self.context["associe_build_date_fr"] = french_date(self.site.build_date)
        self.context["associe_news"] = optional_module("extra_pages") is not None

    def generate_output(self, writer) -> None:
        try:
            self._generate_output()
        finally:
            gc.unfreeze()     # frozen in ``generate_context``: given back to the collector, even on failure

    def _generate_output(self) -> None:
        assert self.model is not None and self.site is not None
        output = Path(self.output_path)
        relative = bool(self.settings.get("RELATIVE_URLS"))
        common = {"M": self.model, "P": self.model.paths, "build_date": self.site.build_date,
                  "build_date_fr": french_date(self.site.build_date),
                  "contribute": self.settings.get("ASSOCIE_CONTRIBUTE_PATH", "contribuer").strip("/")}
        pages = sorted(self.pages(), key=lambda p: p["path"])
        files = [Paths.file(page["path"]) for page in pages]
        # every page is written once, and none over a page Pelican wrote (its writer raised on a second write)
        theirs = {Path(path).resolve() for path in PELICAN_WRITTEN}
        root = output.resolve()   # once: resolving every page's path cost a second at 10,000 entries
        for before, after in zip([None, *files], files):
            if before == after or (theirs and root / after in theirs):
                raise RuntimeError(f"la page « {after} » serait écrite deux fois")

        manifest = self._manifest()
        keys: list[bytes | None] = [None] * len(pages)
        todo = list(range(len(pages)))
        if manifest is not None:
            maker = self._key_maker()
            shared = {name: self.model.shared_state(name) for name in {page["template"] for page in pages}}
            # the pages of entries and communes (many, small) in one group, the others (listings,
            # territories, gap reports, kits: fewer, larger) in another: computed at once on 2 cores
            keys = keys_in_two(lambda: self._key_maker(maker.base), pages, lambda page: shared[page["template"]],
                               first=lambda page: page["template"] in ENTRY_LIKE_TEMPLATES,
                               parallel=int(self.settings.get("ASSOCIE_RENDER_WORKERS") or 1) > 1)
            todo = [i for i in todo if not manifest.unchanged(files[i], keys[i])]
            manifest.forget()   # a build that fails half-way leaves no manifest: the next one starts afresh
            # cards and pair sides of unchanged entries: from the last build (read before the fork)
            self.model.fragments = FragmentStore(Path(self.settings["ASSOCIE_CACHE_PATH"]), output, maker.base).load()
            self.model.fragments.clear_parts()
        base = dict(self.context)
        base["localsiteurl"] = base.get("localsiteurl", None)
        base.update(common)
        # Only what the templates read: Pelican's context holds every setting, and the page's
        # context is copied for each page (and again by each ``import … with context``).
        read = self._template_variables(sorted({f"{page['template']}.html" for page in pages})
                                        + [f"_{name}.html" for name in FRAGMENTS],
                                        maker.base if manifest is not None else None)
        if read is not None:
            base = {key: value for key, value in base.items() if key in read}
        # Every template compiled (or read from the bytecode cache) once, here: the rendering
        # processes forked below share them instead of each compiling its own.
        templates = {name: self.get_template(name) for name in sorted({page["template"] for page in pages})}
        for source in sorted((Path(self.theme) / "templates").glob("_*.html")):
            self.env.get_template(source.name)
        prefixes: dict[int, str] = {}
        out = str(output)
        folders: set[str] = set()
        store, parent = self.model.fragments, os.getpid()
        hand_over: list[str | None] = [None]   # where the entry pages' processes leave their texts and cards

        def render(share: list[int]) -> None:
            for index in share:
                page, name = pages[index], files[index]
                local = dict(base)
                if relative:
                    depth = name.count("/")
                    if depth not in prefixes:
                        prefixes[depth] = path_to_url(get_relative_path(name))
                    local["SITEURL"] = local["localsiteurl"] = prefixes[depth]
                local["output_file"] = name
                local.update(page)
                if "describe" in local:   # Markdown → text here, in the rendering process, not before the fork
                    local["description"] = self._description(local.pop("describe"))
                template = templates[local.pop("template")]
                write_page(out, name, template.render(local).encode("utf-8"), folders)
            if os.getpid() != parent:     # a rendering process: what the parent reads back
                if store is not None:
                    store.write_part()
                if hand_over[0] is not None:
                    markdown_safe.save_converted(hand_over[0])
                    self._hand_over_cards(hand_over[0])

        workers = int(self.settings.get("ASSOCIE_RENDER_WORKERS") or 1)

        def render_all(share: list[int]) -> None:
            if workers > 1 and hasattr(os, "fork") and len(share) >= 200:
                self._render_in_processes(render, share, workers)
            elif share:
                render(share)

        # the searched pages (entries) first: the search index can be built from them while the
        # other pages are written (``_index_hook``)
        searched = [i for i in todo if files[i].split("/", 1)[0] in SEARCHED_FOLDERS]
        with tempfile.TemporaryDirectory(prefix="associe-textes-") as folder:
            hand_over[0] = folder
            render_all(searched)
            hand_over[0] = None
            # their descriptions, converted there, are shown again on the meeting kits and the
            # organisations' pages rendered below: read back rather than converted twice; so are
            # the cards they rendered (else both processes below would render most cards again)
            markdown_safe.load_converted(folder)
            self._take_cards(folder)
        if manifest is not None:   # an entry page the last build wrote and this one does not: not to be indexed
            remove_stale(output, [name for name in manifest.groups.get("own", [])
                                  if name.split("/", 1)[0] in SEARCHED_FOLDERS], set(files))
        self._index_hook()
        render_all([i for i in todo if files[i].split("/", 1)[0] not in SEARCHED_FOLDERS])
        self.pages_written += len(pages)
        self.pages_rendered = len(todo)
        if store is not None:
            by_id = self.model.by_id
            store.save(lambda name: (name[1], name[2]) in by_id)
            self.model.fragments = None
        # commune autocomplete: depends only on the geography and the code (in the build key)
        geo_key = _digest(maker.base, "autocomplete") if manifest is not None else None
        geo_files = manifest.groups.get("autocomplete", []) if manifest is not None else []
        if not (geo_files and all(manifest.unchanged(name, geo_key) for name in geo_files)):
            geo_files = self._write_autocomplete()
        if manifest is not None:
            stamps = {files[i]: stamp(output, files[i], keys[i]) for i in range(len(pages))}
            stamps.update((name, stamp(output, name, geo_key)) for name in geo_files)
            current = {name: value for name, value in stamps.items() if value is not None}
            groups = self._other_files()
            remove_stale(output, manifest.groups.get("own", []), set(files) | set(geo_files))
            for group in ("pelican", "static"):
                remove_stale(output, manifest.groups.get(group, []), groups[group])
            groups["own"] = sorted(files) + geo_files
            groups["autocomplete"] = geo_files
            manifest.save(current, groups)
        self._write_listing_indexes()
        self._report()
        self._exports_hook()

    def _template_variables(self, names: list[str], build: bytes | None) -> frozenset[str] | None:
        """``template_variables`` of ``names``, kept in the cache folder under the build key (which
        covers the theme's templates and this code): a rebuild reads it instead of parsing every
        template (0.3 s)."""
        cache = self.settings.get("ASSOCIE_CACHE_PATH")
        if not cache or build is None:
            return template_variables(self.env, names)
        path = Path(cache) / "template-variables.json"
        key = _digest(build, names).hex()
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            if stored["key"] == key:
                return None if stored["variables"] is None else frozenset(stored["variables"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
        found = template_variables(self.env, names)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{path.name}.{os.getpid()}")
            temporary.write_text(json.dumps({"key": key, "variables": None if found is None else sorted(found)}),
                                 encoding="utf-8")
            os.replace(temporary, path)
        except OSError:
            pass
        return found

    def _manifest(self) -> "Manifest | None":
        cache = self.settings.get("ASSOCIE_CACHE_PATH")
        return Manifest(Path(cache), Path(self.output_path)).load() if cache else None

    def _key_maker(self, base: bytes | None = None) -> KeyMaker:
        """A ``KeyMaker`` of this site's pages (``base``: the build key, computed if not given)."""
        assert self.model is not None and self.site is not None
        if base is None:
            base = build_key(self.settings, self.site.build_date, self.settings.get("THEME") or "theme")
        return KeyMaker(base, self.model.fingerprint, Entry, Territory, skip=(SiteModel, Paths))

    def _other_files(self) -> dict[str, list[str]]:
        """Files of the output written by Pelican rather than by this generator: its own pages
        (the editorial pages, through its writer) and the theme's static files it copies."""
        output = Path(self.output_path).resolve()
        written = []
        for path in PELICAN_WRITTEN:
            try:
                written.append(Path(path).resolve().relative_to(output).as_posix())
            except ValueError:
                continue
        static = []
        theme = Path(self.settings.get("THEME") or "theme")
        target = Path(self.settings.get("THEME_STATIC_DIR") or "theme")
        for item in self.settings.get("THEME_STATIC_PATHS") or ():
            source = theme / item
            if source.is_dir():
                static += [(target / p.relative_to(source)).as_posix() for p in source.rglob("*") if p.is_file()]
            elif source.is_file():
                static.append((target / source.name).as_posix())
        return {"pelican": sorted(set(written)), "static": sorted(set(static))}

    def _hand_over_cards(self, folder: str) -> None:
        """In a forked process that rendered entry pages: write the fragments it rendered into
        ``folder`` for the parent (``_take_cards``). An organisation's page shows the cards of
        its needs and offers, an entry's page those of its inspiring examples: nearly every
        listing card is rendered there, by one process; without this, each process rendering
        the listings afterwards would render most cards again."""
        m = self.model
        assert m is not None
        forked.write_part(folder, ".cards", m._cards)

    def _take_cards(self, folder: str) -> None:
        """Add the fragments written by ``_hand_over_cards`` to this process's."""
        m = self.model
        assert m is not None
        for cards in forked.read_parts(folder, ".cards"):
            for key, html in cards.items():
                if isinstance(html, str):
                    m._cards.setdefault(key, html)

    @staticmethod
    def _render_in_processes(render, pages: list, workers: int) -> None:
        """Render ``pages`` in ``workers`` forked processes (every page is still written once).

        Jinja rendering is most of a large build and Pelican has no parallelism; the pages are
        independent, so forked children (which share the already built context) each write one
        share. Any failure in a child fails the build."""
        children = []
        # while the search index is built beside them, every share is rendered by a child that
        # yields the processor to Pagefind (the index is the longer path), and this process waits
        yielding = bool(BACKGROUND_INDEX)
        for worker in range(0 if yielding else 1, workers):
            pid = os.fork()
            if pid == 0:  # child: render its share, never return into Pelican
                status = 0
                errors = _ErrorRecords()
                logging.getLogger().addHandler(errors)  # an error logged here must fail the build too
                try:
                    if yielding:
                        yield_to_index()
                    render(pages[worker::workers])
                    status = 1 if errors.count else 0
                except BaseException:  # noqa: BLE001 - reported, then the parent fails the build
                    traceback.print_exc()
                    status = 1
                finally:
                    sys.stdout.flush()
                    sys.stderr.flush()
                    os._exit(status)
            children.append(pid)
        failed = False
        try:
            if not yielding:
                render(pages[0::workers])
        finally:
            for pid in children:
                _, status = os.waitpid(pid, 0)
                failed = failed or status != 0
        if failed:
            raise RuntimeError("le rendu des pages a échoué dans un processus de rendu (voir l'erreur ci-dessus)")

    # -- pages -------------------------------------------------------------------------------
    def pages(self) -> Iterable[dict]:
        m = self.model
        assert m is not None
        p = m.paths
        yield {"path": "", "template": "home", "section": "accueil", "page_title": "",
               "map": m.map_data(), "latest": self._latest(), "counts": self._counts()}
        yield {"path": "recherche/", "template": "recherche", "section": "recherche",
               "page_title": "Rechercher dans l'annuaire"}
        yield {"path": "donnees/", "template": "donnees", "section": "donnees",
               "page_title": "Données ouvertes", "counts": self._counts(),
               "feeds": [(KIND_PLURAL[k], p.feed_kind(k)) for k in ("besoin", "offre", "exemple")]}
        if not self.settings.get("RELATIVE_URLS"):
            yield {"path": "404.html", "template": "404", "page_title": "Page introuvable", "noindex": True}
        yield from self._contribution_pages()
        yield from self._extra_pages()
        # entries
        for kind in KINDS:
            for entry in m.listed[kind]:
                yield self._entry_page(entry, expired=False)
        for entry in m.expired:
            yield self._entry_page(entry, expired=True)
        # listings per kind
        for kind in KINDS:
            entries = self._listing_order(kind, m.listed[kind])
            yield from self._paginated({
                "path": p.kind(kind), "template": "listing", "section": KIND_FOLDER[kind],
                "page_title": KIND_PLURAL[kind], "kind": kind, "total": len(entries),
                "feed_url": p.feed_kind(kind), "feed_title": f"{SITE_NAME} : {KIND_PLURAL[kind].lower()}",
                "filters": self._filters(entries), "index_files": [f"donnees/filtres-{KIND_FOLDER[kind]}.json"]}, [(kind, entries)])
        # listings per vocabulary
        for vocab, field_name, title in (("type_de_soutien", "type_de_soutien", "Type de soutien"),
                                         ("categorie", "categorie", "Catégorie de partenariat"),
                                         ("thematique", "thematiques", "Thématique")):
            having = self._entries_by_value(field_name, ("besoin", "offre", "exemple"))
            for value, value_label in m.vocab[vocab].items():
                groups = []
                for kind in ("besoin", "offre", "exemple"):
                    entries = having.get((kind, value), [])
                    groups.append((kind, self._listing_order(kind, entries)))
                everything = [e for _, entries in groups for e in entries]
                yield from self._paginated({
                    "path": p.vocabulary(vocab, value), "template": "listing", "section": "parcourir",
                    "page_title": value_label, "vocab": vocab, "vocab_title": title, "value": value,
                    "vocab_field": field_name, "total": len(everything),
                    "filters": self._filters(everything, skip=vocab),
                    "index_files": [f"donnees/filtres-{KIND_FOLDER[k]}.json" for k in ("besoin", "offre", "exemple")]},
                    groups)
        # territories
        yield {"path": "territoires/", "template": "territoires", "section": "territoires",
               "page_title": "Territoires", "map": m.map_data()}
        gaps, kits = optional_module("gaps"), optional_module("meeting_kit")
        for code, territory in m.regions.items():
            yield {"path": territory.path, "template": "region", "section": "territoires",
                   "gaps_url": gaps.gaps_url(m.geo, region=code) if gaps else None,
                   "page_title": territory.nom, "t": territory, "zone": m.geo.regions[code].zone,
                   "departements": [m.departements[d.code] for d in m.geo.departements_in_region(code)],
                   "feed_url": p.feed_region(code), "feed_title": f"{SITE_NAME} : {territory.nom}",
                   "pairs_count": m.pairs_count(region=code), "filters": self._filters(_all_of(territory)),
                   "total": len(_all_of(territory))}
        for code, territory in m.departements.items():
            dep = m.geo.departements[code]
            yield {"path": territory.path, "template": "departement", "section": "territoires",
                   "gaps_url": gaps.gaps_url(m.geo, departement=code) if gaps else None,
                   "kit_url": kits.kit_url(m.geo, code) if kits else None,
                   "page_title": f"{territory.nom} ({code})", "t": territory, "region": m.regions.get(dep.region),
                   "zone": dep.zone,
                   "communes": m.communes_of(code), "feed_url": p.feed_departement(code),
                   "feed_title": f"{SITE_NAME} : {territory.nom}", "pairs_count": m.pairs_count(departement=code),
                   "filters": self._filters(_all_of(territory)),
                   "total": len(_all_of(territory))}
        for code, territory in m.communes.items():
            commune = m.geo.commune(code)
            yield {"path": territory.path, "template": "commune", "section": "territoires",
                   "page_title": f"{territory.nom} ({commune.departement if commune else ''})", "t": territory,
                   "departement": m.departements.get(commune.departement) if commune else None,
                   "region": m.regions.get(commune.region) if commune else None}
        # suggested pairs
        yield {"path": p.suggestions(), "template": "mises_en_relation", "section": "mises-en-relation",
               "page_title": "Mises en relation suggérées", "pairs": m.pairs(), "scope": None,
               "children": list(m.regions.values()), "children_kind": "region"}
        for code, territory in m.regions.items():
            yield {"path": p.suggestions(region=code), "template": "mises_en_relation",
                   "section": "mises-en-relation", "page_title": f"Mises en relation suggérées : {territory.nom}",
                   "pairs": m.pairs(region=code), "scope": territory, "scope_kind": "region",
                   "children": [m.departements[d.code] for d in m.geo.departements_in_region(code)],
                   "children_kind": "departement"}
        for code, territory in m.departements.items():
            dep = m.geo.departements[code]
            yield {"path": p.suggestions(departement=code), "template": "mises_en_relation",
                   "section": "mises-en-relation",
                   "page_title": f"Mises en relation suggérées : {territory.nom} ({code})",
                   "pairs": m.pairs(departement=code), "scope": territory, "scope_kind": "departement",
                   "parent": m.regions.get(dep.region), "children": [], "children_kind": None}

    def _page_size(self) -> int:
        return max(1, int(self.settings.get("ASSOCIE_LISTING_PAGE_SIZE", LISTING_PAGE_SIZE)))

    def _paginated(self, page: dict, groups: list[tuple[str, list[Entry]]]) -> Iterable[dict]:
        """A listing cut into pages of ``ASSOCIE_LISTING_PAGE_SIZE`` cards (``<path>``,
        ``<path>page/2/`` …), in the listing's order, groups (kinds) kept with their full counts."""
        size = self._page_size()
        flat = [(kind, entry) for kind, entries in groups for entry in entries]
        count = max(1, -(-len(flat) // size))
        base = page["path"]
        urls = [base] + [f"{base}page/{n}/" for n in range(2, count + 1)]
        group_totals = {kind: len(entries) for kind, entries in groups}
        for number in range(1, count + 1):
            chunk = flat[(number - 1) * size: number * size]
            if count == 1:
                page_groups = groups
            else:
                page_groups = [(kind, [e for k, e in chunk if k == kind]) for kind, _ in groups]
                page_groups = [(kind, entries) for kind, entries in page_groups if entries or group_totals[kind]]
            extra = {"path": urls[number - 1], "groups": page_groups, "group_totals": group_totals,
                     "pagination": {"current": number, "count": count, "urls": urls, "size": size,
                                    "first": (number - 1) * size + 1 if flat else 0,
                                    "last": (number - 1) * size + len(chunk)}}
            if number > 1:
                extra["page_title_suffix"] = f"page {number} sur {count}"
            yield {**page, **extra}

    def _contribution_pages(self) -> Iterable[dict]:
        """The forms of /contribuer/ (``associe.site_forms``): their inner ``<main>`` HTML is built
        from the schemas with every text escaped, and wrapped here in the site layout."""
        site_forms = optional_module("site_forms")
        if site_forms is None:
            return
        for path, body in sorted(site_forms.render_site_forms(self.settings).items()):
            yield {"path": path, "template": "formulaire", "section": "contribuer",
                   "page_title": getattr(body, "title", "Contribuer"),
                   "description": getattr(body, "description", ""), "body": Markup(str(body)),
                   "is_index": path.count("/") == 1}

    def _extra_pages(self) -> Iterable[dict]:
        """Gap pages, meeting kits and « Nouveautés » (``associe.extra_pages``), rendered with
        the theme's templates and the usual context."""
        extra = optional_module("extra_pages")
        if extra is None:
            return
        for page in extra.extra_pages(self.site, self.settings):
            yield {**page.context, "path": page.url, "template": page.template}

    def _entry_page(self, entry: Entry, expired: bool) -> dict:
        m = self.model
        assert m is not None
        template = {"besoin": "entry", "offre": "entry", "exemple": "exemple", "organisation": "organisation"}
        page = {"path": m.paths.entry(entry), "template": template[entry.kind], "section": KIND_FOLDER[entry.kind],
                "page_title": entry.title, "e": entry, "expired": expired,
                "noindex": expired, "describe": entry}
        if entry.kind in ("besoin", "offre"):
            page.update(is_open=(entry.kind, entry.id) in m.open_ids, org=m.organisation_of(entry),
                        suggestions=[] if expired else m.suggestions_for(entry),
                        examples=[] if expired else m.examples_for(entry),
                        expired_on=french_date(entry.get("valable_jusqu_au")))
        elif entry.kind == "organisation":
            page.update(own=m.org_entries.get(entry.id, {"besoin": [], "offre": [], "exemple": []}))
        return page

    @staticmethod
    def _description(entry: Entry) -> str:
        source = entry.get("description") or entry.get("resume") or entry.get("presentation") or ""
        return excerpt(source, 160)

    def _entries_by_value(self, field_name: str, kinds: tuple[str, ...]) -> dict[tuple[str, Any], list[Entry]]:
        """(kind, value) -> the listed entries of that kind whose ``field_name`` is or holds the
        value, in the order of ``SiteModel.listed``: one pass over the entries instead of one per value."""
        m = self.model
        assert m is not None
        having: dict[tuple[str, Any], list[Entry]] = defaultdict(list)
        for kind in kinds:
            for entry in m.listed[kind]:
                # vocabulary values are strings; each one once per entry
                for value in dict.fromkeys(v for v in m.field_values(entry, field_name) if isinstance(v, str)):
                    having[(kind, value)].append(entry)
        return having

    def _listing_order(self, kind: str, entries: list[Entry]) -> list[Entry]:
        if kind in ("besoin", "offre"):
            m = self.model
            # open first (newest first), then the others (pourvu), newest first
            return sorted(entries, key=lambda e: ((e.kind, e.id) not in m.open_ids, *_sort_key_latest(e)))
        if kind == "exemple":
            return sorted(entries, key=lambda e: (-(e.get("annee_debut") or 0), e.id))
        return sorted(entries, key=_by_title)

    def _filters(self, entries: list[Entry], skip: str | None = None) -> list[dict]:
        """The JS filter controls of a listing: only values present, in the schema's order."""
        m = self.model
        assert m is not None
        controls = []
        for name, vocab, field_name, title in (
                ("type", "type_de_soutien", "type_de_soutien", "Type de soutien"),
                ("categorie", "categorie", "categorie", "Catégorie"),
                ("thematique", "thematique", "thematiques", "Thématique"),
                ("statut", "statut", "statut", "Statut"),
                ("taille", "taille", "taille", "Taille de l'organisation")):
            if vocab == skip:
                continue
            options = m.vocabulary_values(vocab, entries, field_name)
            if options:
                controls.append({"name": name, "title": title, "options": options})
        regions = m.regions_present(entries)
        if regions:
            controls.append({"name": "region", "title": "Région", "options": regions})
        departements = m.departements_present(entries)
        if departements:
            controls.append({"name": "departement", "title": "Département",
                             "options": [(code, f"{nom} ({code})", region) for code, nom, region in departements]})
        return controls

    def _latest(self) -> list[Entry]:
        m = self.model
        assert m is not None
        entries = m.open["besoin"] + m.open["offre"]
        return sorted(entries, key=_sort_key_latest)[: int(self.settings.get("ASSOCIE_LATEST_ON_HOME", 6))]

    def _counts(self) -> dict:
        m = self.model
        assert m is not None
        covered = {e.place.departement for kind in ("besoin", "offre") for e in m.open[kind]
                   if e.place is not None and e.place.departement}
        return {"besoins": len(m.open["besoin"]), "offres": len(m.open["offre"]),
                "exemples": len(m.listed["exemple"]), "organisations": len(m.listed["organisation"]),
                "departements": len(covered), "paires": m.pairs_count()}

    # -- other files ----------------------------------------------------------------------------
    def _write_autocomplete(self) -> list[str]:
        folder = Path(self.output_path) / "geo"
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name, rows in autocomplete_files(self.model.geo).items():
            (folder / f"{name}.json").write_text(json.dumps(rows, ensure_ascii=False, separators=(",", ":")),
                                                 encoding="utf-8")
            written.append(f"geo/{name}.json")
        return written

    def _write_listing_indexes(self) -> None:
        """``donnees/filtres-<kind folder>.json``: every listed entry of a kind, in listing order, as
        compact rows, fetched by filtres.js only when a visitor first filters a paginated listing
        (or uses « près de chez moi ») so that the filter covers all pages, not just the one shown."""
        m = self.model
        assert m is not None
        folder = Path(self.output_path) / "donnees"
        folder.mkdir(parents=True, exist_ok=True)
        for kind in KINDS:
            rows = [self._index_row(e) for e in self._listing_order(kind, m.listed[kind])]
            data = {"colonnes": list(INDEX_COLUMNS), "lignes": rows}
            (folder / f"filtres-{KIND_FOLDER[kind]}.json").write_text(
                json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")

    def _index_row(self, e: Entry) -> list:
        m = self.model
        place = e.place
        if e.kind in ("besoin", "offre"):
            meta = label("type_de_soutien", e.get("type_de_soutien"))
            if place:
                meta += " · " + (place.commune_nom or place.departement_nom or "")
                if place.departement:
                    meta += f" ({place.departement})"
            org = ""
            if e.organisation is not None:
                org = e.organisation.title + (f" · {label('taille', m.taille(e))}" if m.taille(e) else "")
            dates = "Publié le " + french_date(e.get("date_publication"))
            if e.get("valable_jusqu_au"):
                dates += " · jusqu'au " + french_date(e.get("valable_jusqu_au"))
        elif e.kind == "exemple":
            meta = f"{label('categorie', e.get('categorie'))} · {label('type_de_soutien', e.get('type_de_soutien'))}"
            org = " + ".join(str(p.get("nom") or "") for p in e.get("partenaires") or []) + \
                f" · depuis {e.get('annee_debut')}"
            dates = ""
        else:
            meta = label("nature", e.get("nature"))
            if e.get("taille"):
                meta += " · " + label("taille", e.get("taille"))
            if place:
                meta += f" · {place.commune_nom} ({place.departement})"
            org, dates = "", ""
        statut = e.get("statut") or ("ouvert" if e.kind in ("besoin", "offre") else "")
        badge = label("statut", statut) if e.kind in ("besoin", "offre") and statut != "ouvert" else ""
        return [e.id, e.title, m.paths.entry(e), e.kind, e.get("type_de_soutien") or "", e.get("categorie") or "",
                " ".join(e.get("thematiques") or ()), (place.region if place else None) or "",
                (place.departement if place else None) or "", statut, m.taille(e),
                round(place.lat, 4) if place and place.lat is not None else None,
                round(place.lon, 4) if place and place.lon is not None else None,
                str(e.get("date_publication") or ""), meta, org, dates, badge, 1 if e.fictitious else 0]

    def _report(self) -> None:
        report = self.settings.get("ASSOCIE_BUILD_REPORT")
        if isinstance(report, dict):
            assert self.site is not None
            report.update({"pages": self.pages_written, "rendered": self.pages_rendered,
                           "html_pages": self.pages_written + sum(1 for path in PELICAN_WRITTEN
                                                                  if path.endswith(".html")),
                           "listed": {kind: len(self.site.listed.get(kind, [])) for kind in KINDS},
                           "expired": len(self.site.expired), "warnings": [str(w) for w in self.site.warnings],
                           "build_date": self.site.build_date.isoformat()})

    def _exports_hook(self) -> None:
        """Feeds, exports and sitemap: ``associe.exports.write_exports`` when that module exists.

        With ``ASSOCIE_BACKGROUND_EXPORTS`` (set by ``associe build``), they are written by a
        forked process while this one finishes Pelican's run and Pagefind indexes the pages (the
        index leaves part of the 2 cores idle); ``wait_background_exports`` waits for it."""
        exports = optional_module("exports")
        if exports is None:
            logger.debug("associe.exports absent : pas de flux ni d'exports.")
            return
        if self.settings.get("ASSOCIE_BACKGROUND_EXPORTS"):
            def write() -> bool:
                if BACKGROUND_INDEX:
                    yield_to_index()
                errors = _ErrorRecords()
                logging.getLogger().addHandler(errors)   # an error logged there must fail the build too
                exports.write_exports(self.site, self.output_path, self.settings)
                return errors.count == 0

            job = forked.start(write)
            if job is not None:
                BACKGROUND_EXPORTS.append((job, None))
                return
        exports.write_exports(self.site, self.output_path, self.settings)

    def _index_hook(self) -> None:
        """With ``ASSOCIE_BACKGROUND_INDEX`` (set by ``associe build`` when it builds the search
        index), ``associe.indexing.build_search_index`` runs in a forked process as soon as the
        entry pages (the only pages it reads) are written, while this one writes the listings,
        territory pages, feeds and exports: Pagefind leaves part of the 2 cores idle, and the
        pages left to write fill them. ``wait_background_index`` waits for it."""
        indexing = optional_module("indexing")
        if not self.settings.get("ASSOCIE_BACKGROUND_INDEX") or indexing is None:
            return
        output = Path(self.output_path)
        # one lot at a time while the render workers run (memory), all of them once this
        # process writes to ``rendered`` (``wait_background_index``)
        waiting, rendered = os.pipe()

        def index() -> bool:
            os.close(rendered)
            indexing.SLOTS.set_limit(1)

            def raise_limit() -> None:
                os.read(waiting, 1)            # a byte, or the end of the pipe if this process's parent died
                indexing.SLOTS.set_limit(indexing.PARALLEL_LOTS)

            threading.Thread(target=raise_limit, daemon=True).start()
            try:
                indexing.build_search_index(output)
            except Exception as error:  # noqa: BLE001 - reported here, the parent fails the build
                print(f"erreur : index de recherche : {error}", file=sys.stderr)
                return False
            return True

        job = forked.start(index)
        os.close(waiting)
        if job is None:
            os.close(rendered)
        else:
            BACKGROUND_INDEX.append((job, rendered))


#: how much lower the priority of the processes that render pages and write exports is while the
#: search index is built beside them (``os.nice`` increment)
YIELD_TO_INDEX = 10


def yield_to_index() -> None:
    """Lower this (forked) process's priority below the search index's: the build ends when the
    index is done, and Pagefind is its longest path."""
    try:
        os.nice(YIELD_TO_INDEX)
    except (AttributeError, OSError):   # pragma: no cover - no priorities on this system
        pass


#: folders of the pages the search index reads (``associe.indexing.ENTRY_FOLDERS``)
SEARCHED_FOLDERS = frozenset(KIND_FOLDER.values())
#: exports being written by a forked process (``ASSOCIE_BACKGROUND_EXPORTS``)
BACKGROUND_EXPORTS: list[tuple[forked.Job, int | None]] = []
#: the search index being built by a forked process (``ASSOCIE_BACKGROUND_INDEX``), with the pipe
#: that tells it the pages are all written (a lot of Pagefind may then run beside another)
BACKGROUND_INDEX: list[tuple[forked.Job, int | None]] = []


def _finish(jobs: list[tuple[forked.Job, int | None]], stop: bool) -> bool:
    """Wait for each job (``stop``: kill it, the build failed), first writing a byte to its pipe
    if it has one; True when they all ended well."""
    ok = True
    while jobs:
        job, pipe = jobs.pop()
        try:
            if stop:
                job.stop()
                continue
            if pipe is not None:
                try:
                    os.write(pipe, b"\n")
                except OSError:              # the process already ended
                    pass
            ok = job.wait() and ok
        finally:
            if pipe is not None:
                os.close(pipe)
    return ok


def wait_background_index(stop: bool = False) -> bool | None:
    """Wait for the search index built in the background (``stop``: kill it, the build failed):
    True when it was built, False when it failed, None when none was started."""
    return _finish(BACKGROUND_INDEX, stop) if BACKGROUND_INDEX else None


def wait_background_exports(stop: bool = False) -> bool:
    """Wait for the exports written in the background (``stop``: kill them, the build failed);
    True when there were none or they were all written without error."""
    return _finish(BACKGROUND_EXPORTS, stop)


def keep_output(settings: dict) -> bool:
    """Whether the next run can update the output in place (``pelican_plugin``)."""
    cache = settings.get("ASSOCIE_CACHE_PATH")
    return bool(cache) and Manifest.exists_for(Path(cache), Path(settings["OUTPUT_PATH"]))


def get_generators(_pelican) -> type[AssocieGenerator]:
    return AssocieGenerator


def output_files(output: os.PathLike) -> list[str]:
    """Every file of a built site, as sorted POSIX paths (for reports and tests)."""
    root = Path(output)
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
