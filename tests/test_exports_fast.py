"""The exports are written without ElementTree and without ``os.path.relpath`` per folder, and
each feed entry is serialised once per build: the bytes must be exactly those of the former
code, kept below as the reference (ElementTree for the Atom feeds, ``os.walk`` for the pages)."""
from __future__ import annotations

import datetime as dt
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from associe import exports
from associe.exports import (ATOM_NS, DEFAULT_SITENAME, FOLDER_OF_KIND, KIND_LABEL, LICENCE, TAG_YEAR, _atom_date,
                             _entry_summary, _organisation_name, _site_url, _tag_authority, _xml_text, label,
                             page_path, published_date, updated_date)
from associe.pipeline import run_pipeline
from associe.records import Entry, Place

FIXTURE = Path(__file__).parent / "fixtures" / "exports"
BUILD_DATE = dt.date(2026, 11, 20)
SETTINGS = {"SITEURL": "https://associe.example", "SITENAME": "Asso'cie"}


# ------------------------------------------------------------------------------ reference: ElementTree
def _sub(parent, tag, text=None, **attrib):
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", {k: _xml_text(v) for k, v in attrib.items()})
    if text is not None:
        element.text = _xml_text(text)
    return element


def atom_feed_with_elementtree(entries, *, settings, feed_path, alternate_path, title, subtitle, build_date):
    base = _site_url(settings)
    authority = _tag_authority(settings)
    sitename = str(settings.get("SITENAME") or DEFAULT_SITENAME)
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": "fr"})
    _sub(feed, "id", f"tag:{authority},{TAG_YEAR}:{feed_path.strip('/')}")
    _sub(feed, "title", f"{sitename} — {title}")
    _sub(feed, "subtitle", subtitle)
    updated = max((updated_date(e) for e in entries), default=build_date)
    _sub(feed, "updated", _atom_date(updated))
    _sub(feed, "link", rel="self", type="application/atom+xml", href=base + feed_path)
    _sub(feed, "link", rel="alternate", type="text/html", href=base + alternate_path)
    author = _sub(feed, "author")
    _sub(author, "name", sitename)
    _sub(author, "uri", (base or "") + "/")
    _sub(feed, "rights", f"Données sous {LICENCE['nom']} ({LICENCE['url']})")
    _sub(feed, "generator", "Asso'cie")
    for entry in entries:
        item = _sub(feed, "entry")
        _sub(item, "id", f"tag:{authority},{TAG_YEAR}:{FOLDER_OF_KIND[entry.kind]}/{entry.id}")
        _sub(item, "title", entry.title)
        _sub(item, "link", rel="alternate", type="text/html", href=base + page_path(entry.kind, entry.id))
        _sub(item, "published", _atom_date(published_date(entry)))
        _sub(item, "updated", _atom_date(updated_date(entry)))
        author = _sub(item, "author")
        if entry.kind == "exemple":
            _sub(author, "name", ", ".join(p.get("nom", "") for p in entry.get("partenaires") or []) or sitename)
        else:
            _sub(author, "name", _organisation_name(entry) or sitename)
            if entry.organisation is not None:
                _sub(author, "uri", base + page_path("organisation", entry.organisation.id))
        _sub(item, "category", term=entry.kind, label=KIND_LABEL[entry.kind])
        for vocab in ("type_de_soutien", "categorie", "objet"):
            value = entry.get(vocab)
            if value:
                _sub(item, "category", term=value, label=label(vocab, value))
        _sub(item, "summary", _entry_summary(entry), type="text")
    ET.indent(feed, space="  ")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8") + b"\n"


def both(entries, settings=SETTINGS, **kwargs):
    kwargs = {"feed_path": "/flux/besoins.xml", "alternate_path": "/besoins/", "title": "nouveaux besoins",
              "subtitle": "Les besoins & <offres> « publiés »", "build_date": "2026-11-20", **kwargs}
    return (exports.atom_feed(entries, settings=settings, **kwargs),
            atom_feed_with_elementtree(entries, settings=settings, **kwargs))


@pytest.fixture(scope="module")
def site():
    return run_pipeline(FIXTURE, BUILD_DATE)


def test_feeds_are_byte_identical_to_elementtree(site):
    entries = [e for kind in ("besoin", "offre", "exemple") for e in site.listed[kind]]
    for settings_ in (SETTINGS, {"SITEURL": ""}, {"SITEURL": "https://a.example/", "SITENAME": "A & <B>",
                                                  "ASSOCIE_TAG_AUTHORITY": "a.example"}):
        ours, reference = both(entries, settings_)
        assert ours == reference
    ours, reference = both([], subtitle="")
    assert ours == reference


TRICKY = st.lists(st.sampled_from(list("ab &<>\"'\r\n\t\x01é«»—") + ["\ud800", "]]>", "&amp;", "  ", "**", "[l](u)"]),
                  max_size=12).map("".join)


@settings(max_examples=150, deadline=None)
@given(title=TRICKY, partner=TRICKY, resume=TRICKY, category=TRICKY, organisation=TRICKY)
def test_feeds_with_any_text_are_byte_identical_to_elementtree(title, partner, resume, category, organisation):
    place = Place("21231", "Dijon", "21", "Côte-d'Or", "27", "Bourgogne-Franche-Comté", 47.3, 5.0)
    org = Entry("organisation", "org", "organisations/org.yaml", {"nom": organisation}, place)
    need = Entry("besoin", "besoin-x", "besoins/besoin-x.yaml",
                 {"titre": title, "description": resume, "categorie": category, "type_de_soutien": "don",
                  "date_publication": "2026-11-01", "valable_jusqu_au": "2027-01-02"}, place, org)
    example = Entry("exemple", "exemple-x", "exemples/exemple-x.yaml",
                    {"titre": title, "resume": resume, "partenaires": [{"nom": partner}, {"nom": organisation}],
                     "objet": category, "annee_debut": 2020}, None)
    ours, reference = both([need, example], subtitle=title)
    assert ours == reference


def test_each_entry_is_serialised_once_per_build(site, tmp_path, monkeypatch):
    made: list[tuple[str, str]] = []
    entry_node = exports._entry_node
    monkeypatch.setattr(exports, "_entry_node", lambda entry, *a: (made.append((entry.kind, entry.id)),
                                                                    entry_node(entry, *a))[1])
    exports.write_feeds(site, tmp_path, SETTINGS)
    assert made and len(made) == len(set(made))
    # an entry is in the feed of its kind, of its région and of its département
    need = site.corpus.besoins["ordinateurs-portables-dijon"].id
    feeds = [p for p in tmp_path.rglob("*.xml") if need in p.read_text(encoding="utf-8")]
    assert len(feeds) == 3


# ------------------------------------------------------------------------------ reference: os.walk
def html_pages_with_os_walk(output_dir: Path) -> list[str]:
    pages = []
    top = os.fspath(output_dir)
    for root, dirs, files in os.walk(top):
        rel_root = os.path.relpath(root, top).replace(os.sep, "/")
        if rel_root == ".":
            rel_root = ""
            dirs[:] = [d for d in dirs if d not in exports.SITEMAP_SKIP_DIRS]
        prefix = f"/{rel_root}/" if rel_root else "/"
        for name in files:
            if not name.endswith(".html") or (not rel_root and name in exports.SITEMAP_SKIP_FILES):
                continue
            pages.append(prefix if name == "index.html" else prefix + name)
    return sorted(pages)


def test_html_pages_are_those_os_walk_finds(tmp_path):
    out = tmp_path / "site"
    for page in ["index.html", "404.html", "a/index.html", "a/404.html", "a/b/c/index.html", "a/b/page.html",
                 "a/b/notes.txt", "pagefind/index.html", "pagefind/x/index.html", "x/pagefind/index.html",
                 "é t/index.html", "vide/.keep"]:
        path = out / page
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x", encoding="utf-8")
    (out / "lien-dossier").symlink_to(out / "a")                  # listed by os.walk, not followed
    (out / "a" / "lien.html").symlink_to(out / "index.html")      # a link to a file is a file
    (out / "a" / "casse.html").symlink_to(out / "absent.html")    # a broken link too
    (out / "a" / "dossier.html").mkdir()
    assert exports._html_pages(out) == html_pages_with_os_walk(out)
    assert "/a/lien.html" in exports._html_pages(out) and "/a/404.html" in exports._html_pages(out)
    assert exports._html_pages(tmp_path / "absent") == []
