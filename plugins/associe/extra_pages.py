"""The pages of issue 7, handed to the generator through ONE function: ``extra_pages``.

``extra_pages(site_data, settings) -> list[ExtraPage]``, each ``ExtraPage(url, template, context)``:

=================================================  ============  ==============================
url                                                template      what
=================================================  ============  ==============================
``lacunes/``                                       ``lacunes``   gaps, France entière
``lacunes/<slug-region>/``                         ``lacunes``   gaps of each région (all)
``lacunes/<slug-region>/<slug-departement>/``      ``lacunes``   gaps of each département (all)
``kit/<slug-departement>/``                        ``kit``       printable meeting kit (all)
``nouveautes/``                                    ``nouveautes``  entries of the last 30 days
=================================================  ============  ==============================

``template`` is a theme template name without extension, like the generator's own pages
(``self.get_template(name)``); the generator renders it with the theme's Jinja environment
(autoescape on), its usual context (``M``, ``P``, ``SITEURL``, filters) plus ``context``, and
writes ``<url>index.html``. Every ``context`` has ``page_title``, ``section``, ``description``
and the page's own data:

* ``lacunes``: ``gap`` (``gaps.GapReport``), ``dates`` (``gaps.PublicationDates``),
  ``kit_url`` (département only), ``feed_url``/``feed_title`` (territory feed, not national);
* ``kit``: ``kit`` (``meeting_kit.MeetingKit``), ``public_base`` (absolute site address or '');
* ``nouveautes``: ``groups`` [(kind, entries)], ``since``/``until`` (dates), ``days``,
  ``feeds`` [(title, path)], ``feed_url``/``feed_title``.

Links to add on the territory pages: ``gaps.gaps_url(geo, region=…, departement=…)`` and
``meeting_kit.kit_url(geo, departement)``.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .exports import published_date
from .gaps import gap_index
from .meeting_kit import kit_url, meeting_kits

NEW_DAYS = 30
KIND_PLURAL = {"besoin": "Besoins", "offre": "Offres", "exemple": "Exemples de partenariats"}
FEEDS = (("Nouveaux besoins", "flux/besoins.xml"), ("Nouvelles offres", "flux/offres.xml"),
         ("Nouveaux exemples de partenariat", "flux/exemples.xml"))
#: The one line on following a feed by e-mail (also used on the territory pages if wanted).
FEED_BY_EMAIL = ("Pour recevoir ces nouveautés par courriel, sans compte sur ce site : collez l'adresse d'un flux "
                 "dans n'importe quel service gratuit de « flux RSS par e-mail », qui vous écrira à chaque nouvelle "
                 "annonce.")


@dataclass(frozen=True)
class ExtraPage:
    url: str                       # relative, ends with "/": written to <url>index.html
    template: str                  # theme template name without ".html"
    context: dict[str, Any] = field(default_factory=dict)


def _public_base(settings: dict) -> str:
    site_url = str(settings.get("SITEURL") or "")
    return site_url.rstrip("/") if site_url.startswith(("https://", "http://")) else ""


def gap_pages(site_data: Any, settings: dict) -> list[ExtraPage]:
    index = gap_index(site_data, settings)
    geo = site_data.geography
    pages = []
    for report in index.reports():
        context: dict[str, Any] = {"gap": report, "dates": index.dates, "section": "territoires"}
        if report.scope == "national":
            context.update(page_title="Ce qui manque : France entière",
                           description="Besoins sans offre et offres sans preneur, partout en France.")
        elif report.scope == "region":
            context.update(page_title=f"Ce qui manque : {report.nom}",
                           description=f"Besoins sans offre et offres sans preneur en {report.nom}.",
                           feed_url=f"flux/regions/{geo.slug_region(report.code)}.xml",
                           feed_title=f"Nouveautés : {report.nom}")
        else:
            context.update(page_title=f"Ce qui manque : {report.nom} ({report.code})",
                           description=f"Besoins sans offre et offres sans preneur dans le département "
                                       f"{report.nom} ({report.code}).",
                           kit_url=kit_url(geo, report.code),
                           feed_url=f"flux/departements/{geo.slug_departement(report.code)}.xml",
                           feed_title=f"Nouveautés : {report.nom}")
        pages.append(ExtraPage(report.url, "lacunes", context))
    return pages


def kit_pages(site_data: Any, settings: dict) -> list[ExtraPage]:
    public_base = _public_base(settings)
    pages = []
    for kit in meeting_kits(site_data, settings).values():
        pages.append(ExtraPage(kit.url, "kit", {
            "kit": kit, "public_base": public_base, "section": "territoires",
            "page_title": f"Kit de rencontre : {kit.nom} ({kit.code})",
            "description": f"Kit imprimable pour une rencontre associations-entreprises dans le département "
                           f"{kit.nom} ({kit.code}) : besoins, offres, mises en relation, exemples et règles.",
        }))
    return pages


def recent_entries(site_data: Any, days: int = NEW_DAYS) -> tuple[dt.date, list[tuple[str, list]]]:
    """Listed needs, offers and examples first published in the ``days`` days ending on the build
    date (build date included), newest first; the publication date is the feeds' one
    (``exports.published_date``)."""
    until = site_data.build_date
    since = until - dt.timedelta(days=days - 1)
    groups = []
    for kind in ("besoin", "offre", "exemple"):
        entries = []
        for entry in site_data.listed.get(kind, []):
            try:
                day = dt.date.fromisoformat(published_date(entry))
            except ValueError:
                continue
            if since <= day <= until:
                entries.append(entry)
        entries.sort(key=lambda e: (e.kind, e.id))
        entries.sort(key=published_date, reverse=True)
        groups.append((kind, entries))
    return since, groups


def news_page(site_data: Any, settings: dict) -> ExtraPage:
    days = int(settings.get("ASSOCIE_NEW_DAYS") or NEW_DAYS)
    since, groups = recent_entries(site_data, days)
    return ExtraPage("nouveautes/", "nouveautes", {
        "page_title": "Nouveautés", "section": "nouveautes", "groups": groups, "since": since,
        "until": site_data.build_date, "days": days, "feeds": list(FEEDS), "feed_by_email": FEED_BY_EMAIL,
        "feed_url": "flux/besoins.xml", "feed_title": "Nouveaux besoins",
        "kind_plural": dict(KIND_PLURAL),
        "description": f"Les besoins, offres et exemples publiés ces {days} derniers jours, et comment les suivre.",
    })


def extra_pages(site_data: Any, settings: dict | None = None) -> list[ExtraPage]:
    """Every page of issue 7, sorted by URL (deterministic)."""
    settings = dict(settings or {})
    pages = gap_pages(site_data, settings) + kit_pages(site_data, settings) + [news_page(site_data, settings)]
    return sorted(pages, key=lambda page: page.url)
