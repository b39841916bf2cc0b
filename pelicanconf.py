"""Pelican settings of Asso'cie (development and default build).

The directory's entries are YAML files read by the ``associe`` plugin (a custom generator),
never Markdown articles: ``ARTICLE_PATHS = []`` and Pelican's article machinery (index,
tags, categories, archives, feeds) is switched off. Only the four editorial pages of
``content/pages/`` go through Pelican's Markdown reader.

Build through ``associe build`` (or ``pelican -s pelicanconf.py --fatal errors``): a logged
error must fail the build.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
if str(_HERE / "plugins") not in sys.path:  # `pelican -s pelicanconf.py` from a bare checkout
    sys.path.insert(0, str(_HERE / "plugins"))

SITENAME = "Asso'cie"
SITESUBTITLE = "Associations et entreprises, partenaires près de chez vous"
AUTHOR = "Asso'cie"
DEFAULT_LANG = "fr"
TIMEZONE = "Europe/Paris"
LOCALE = ("fr_FR.UTF-8", "fr_FR.utf8", "C.UTF-8", "")  # dates are formatted in French by the plugin

PATH = str(_HERE / "content")
OUTPUT_PATH = str(_HERE / "output")
THEME = str(_HERE / "theme")
THEME_STATIC_DIR = "static"
THEME_STATIC_PATHS = ["static"]
DELETE_OUTPUT_DIRECTORY = True
OUTPUT_RETENTION = [".git", "CNAME", ".nojekyll"]

# Links: relative by default, so that the site works from any folder (GitHub Pages project
# site, file://, `associe serve`). publishconf.py sets the absolute public address.
SITEURL = os.environ.get("ASSOCIE_SITEURL", "")
RELATIVE_URLS = not SITEURL

# Plugins are explicit: with PLUGINS unset Pelican would load every installed namespace plugin.
PLUGIN_PATHS = [str(_HERE / "plugins")]
PLUGINS = ["associe"]

# Entries are not articles; the editorial pages are.
ARTICLE_PATHS: list[str] = []
PAGE_PATHS = ["pages"]
STATIC_PATHS: list[str] = []
PAGE_URL = "{slug}/"
PAGE_SAVE_AS = "{slug}/index.html"
ARTICLE_SAVE_AS = ""
ARTICLE_LANG_SAVE_AS = ""
PAGE_LANG_SAVE_AS = ""
DRAFT_SAVE_AS = ""
DRAFT_PAGE_SAVE_AS = ""
DIRECT_TEMPLATES: list[str] = []          # the plugin writes index.html and every listing
TAG_SAVE_AS = TAGS_SAVE_AS = ""
CATEGORY_SAVE_AS = CATEGORIES_SAVE_AS = ""
AUTHOR_SAVE_AS = AUTHORS_SAVE_AS = ""
ARCHIVES_SAVE_AS = ""
YEAR_ARCHIVE_SAVE_AS = MONTH_ARCHIVE_SAVE_AS = DAY_ARCHIVE_SAVE_AS = ""
DEFAULT_DATE = None
SUMMARY_MAX_LENGTH = None

# Pelican's feeds would be empty (no articles): the plugin's exports module writes ours
# (/flux/<kind>.xml, /flux/regions/<slug>.xml, /flux/departements/<slug>.xml).
FEED_ALL_ATOM = None
FEED_ALL_RSS = None
CATEGORY_FEED_ATOM = None
CATEGORY_FEED_RSS = None
TAG_FEED_ATOM = None
TAG_FEED_RSS = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
TRANSLATION_FEED_ATOM = None
TRANSLATION_FEED_RSS = None

# Autoescape ON: templates mark as safe only the HTML that markdown_safe.render produced
# (entries) or that the maintainers wrote (content/pages).
JINJA_ENVIRONMENT = {
    "autoescape": True,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "extensions": [],
}

# Editorial pages: Markdown written by maintainers, with a fixed extension list.
MARKDOWN = {
    "extension_configs": {
        "markdown.extensions.extra": {},
        "markdown.extensions.meta": {},
        "markdown.extensions.toc": {"permalink": False},
    },
    "output_format": "html5",
}

CACHE_CONTENT = False
LOAD_CONTENT_CACHE = False

# ---------------------------------------------------------------------------- Asso'cie
# Folder of the YAML entries (organisations/, besoins/, offres/, exemples/).
ASSOCIE_CONTENT_PATH = str(_HERE / "content")
# Parsed and schema-checked entries are kept here between builds (keyed by each file's content
# hash; dropped when the schemas or the validator change), and the manifest of the pages written
# in each output folder (associe.page_cache): a rebuild into the same folder keeps it (instead of
# DELETE_OUTPUT_DIRECTORY) and rewrites only the pages whose inputs changed. None: no cache, cold builds.
ASSOCIE_CACHE_PATH = os.environ.get("ASSOCIE_CACHE_PATH") or str(_HERE / ".cache" / "associe")
# Build date: None = today. Set it (AAAA-MM-JJ or datetime.date) for tests and reproducible
# builds: two builds of the same content on the same date are byte-identical.
ASSOCIE_BUILD_DATE = os.environ.get("ASSOCIE_BUILD_DATE") or None
# Demo entries (fictif: true) are shown with a badge; False leaves them out entirely.
ASSOCIE_INCLUDE_FICTITIOUS = True
# Suggestions kept per need and per offer (matching.MatchSettings.k).
# Pages rendered by this many processes (Jinja rendering is most of a large build).
ASSOCIE_RENDER_WORKERS = min(2, os.cpu_count() or 1)

ASSOCIE_MATCHES_PER_ENTRY = 5
# Inspiring examples shown on a need or offer (« Ils l'ont fait »).
ASSOCIE_EXAMPLES_PER_ENTRY = 3
# Entries on the home page (« Dernières annonces »).
ASSOCIE_LATEST_ON_HOME = 6
# Pairs listed on a « Mises en relation suggérées » page (national, région, département).
ASSOCIE_PAIRS_PER_PAGE = 200
# Where the site's forms live (written by the forms module).
ASSOCIE_CONTRIBUTE_PATH = "contribuer"
# Public address of the code repository (https://github.com/<owner>/<repo>); empty = no link.
ASSOCIE_REPOSITORY_URL = os.environ.get("ASSOCIE_REPOSITORY_URL", "")
# Role address of the maintainers, shown in the footer when set (empty = not shown).
ASSOCIE_CONTACT_EMAIL = os.environ.get("ASSOCIE_CONTACT_EMAIL", "")
# The Content-Security-Policy put in a <meta> right after <meta charset> on every page.
# 'wasm-unsafe-eval' lets Pagefind's WebAssembly run; no 'unsafe-inline' anywhere.
ASSOCIE_CSP = ("default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
               "img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; "
               "form-action 'self' https://github.com; object-src 'none'")
