"""The meeting kit printed by Chromium (issue 7): A4 pages, numbered « Page N sur M » by the
@page margin boxes of kit.css, site chrome hidden, no card cut across two pages.

The site is built from tests/fixtures/gaps/ and from the shipped content/ (build date fixed, no
search index) and served on 127.0.0.1; the PDF comes from Playwright's ``page.pdf(format="A4")``
in Debian's Chromium (the session ``browser`` fixture of conftest.py, one Playwright for every
browser test, launched with CHROMIUM_ARGS: --no-sandbox --disable-gpu …). Page sizes and texts
are read with pypdf when it is installed, else with the small reader below (page tree and
MediaBox by regex; text through each font's ToUnicode map, enough for Skia's PDFs)."""
from __future__ import annotations

import datetime as dt
import functools
import http.server
import importlib.util
import io
import re
import threading
import zlib
from pathlib import Path

import pytest

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "gaps"
BUILD_DATE = dt.date(2026, 11, 20)
KIT = "/kit/21-cote-d-or/"
A4_POINTS = (595.28, 841.89)
TOLERANCE = 2.0          # Chromium writes 594.96 × 841.92

pytestmark = pytest.mark.browser


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        pass


SOURCES = {
    "fixture": FIXTURE,                                              # 6 pages, flat page tree
    "contenu-livre": Path(__file__).resolve().parents[2] / "content",  # the shipped content: a longer kit
}


@pytest.fixture(scope="module", params=sorted(SOURCES))
def kit_site(request, tmp_path_factory):
    from associe.build import build_site

    output = tmp_path_factory.mktemp("kit-site") / "output"
    status = build_site(output=output, build_date=BUILD_DATE, content=SOURCES[request.param], include_fictitious=True,
                        search_index=False)
    assert status == 0, f"{request.param} did not build (status {status})"
    assert (output / KIT.strip("/") / "index.html").is_file(), \
        "no kit page: associe.extra_pages is not wired into the generator"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(output)))
    thread = threading.Thread(target=server.serve_forever, name="kit-site", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# ------------------------------------------------------------------------------ reading the PDF
_OBJ = re.compile(rb"(\d+)\s+0\s+obj\b(.*?)\bendobj", re.S)


def _stream(body: bytes) -> bytes:
    found = re.search(rb"stream\r?\n(.*?)\r?\n?endstream", body, re.S)
    if not found:
        return b""
    raw = found.group(1)
    if b"/FlateDecode" in body.split(b"stream", 1)[0]:
        return zlib.decompressobj().decompress(raw)
    return raw


def _to_unicode(cmap: bytes) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be", "replace")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(<[0-9A-Fa-f]+>|\[[^\]]*\])", block):
            lo_i, hi_i = int(lo, 16), int(hi, 16)
            if dst.startswith(b"["):
                for i, item in enumerate(re.findall(rb"<([0-9A-Fa-f]+)>", dst)):
                    mapping[lo_i + i] = bytes.fromhex(item.decode()).decode("utf-16-be", "replace")
            else:
                start = int(dst[1:-1], 16)
                for i in range(hi_i - lo_i + 1):
                    mapping[lo_i + i] = chr(start + i)
    return mapping


def page_order(data: bytes, objects: dict[int, bytes] | None = None) -> list[int]:
    """Object numbers of the pages, in order, walking the page tree from the catalog (Chromium
    nests /Pages nodes once a document has more than a few pages)."""
    objects = objects if objects is not None else {int(m.group(1)): m.group(2) for m in _OBJ.finditer(data)}
    catalog = next(body for body in objects.values() if re.search(rb"/Type\s*/Catalog\b", body))
    root = int(re.search(rb"/Pages\s+(\d+)\s+0\s+R", catalog).group(1))

    def walk(number: int) -> list[int]:
        body = objects[number]
        if re.search(rb"/Type\s*/Pages\b", body):
            kids = re.search(rb"/Kids\s*\[([^\]]*)\]", body)
            return [page for kid in re.findall(rb"(\d+)\s+0\s+R", kids.group(1)) for page in walk(int(kid))]
        return [number]

    return walk(root)


def page_count(data: bytes) -> int:
    """The /Count of the root of the page tree."""
    objects = {int(m.group(1)): m.group(2) for m in _OBJ.finditer(data)}
    catalog = next(body for body in objects.values() if re.search(rb"/Type\s*/Catalog\b", body))
    root = objects[int(re.search(rb"/Pages\s+(\d+)\s+0\s+R", catalog).group(1))]
    return int(re.search(rb"/Count\s+(\d+)", root).group(1))


def _pages_without_pypdf(data: bytes) -> list[tuple[tuple[float, float], str]]:
    objects = {int(m.group(1)): m.group(2) for m in _OBJ.finditer(data)}
    maps: dict[int, dict[int, str]] = {}

    def cmap_of(font: int) -> dict[int, str]:
        if font not in maps:
            ref = re.search(rb"/ToUnicode\s+(\d+)\s+0\s+R", objects.get(font, b""))
            maps[font] = _to_unicode(_stream(objects[int(ref.group(1))])) if ref else {}
        return maps[font]

    pages = []
    for number in page_order(data, objects):
        body = objects[number]
        box = re.search(rb"/MediaBox\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*\]", body)
        x0, y0, x1, y1 = (float(v) for v in box.groups())
        fonts = {}
        font_dict = re.search(rb"/Font\s*<<(.*?)>>", body, re.S)
        if font_dict:
            fonts = {name: int(ref) for name, ref in re.findall(rb"/(\w+)\s+(\d+)\s+0\s+R", font_dict.group(1))}
        found = re.search(rb"/Contents\s*(\[[^\]]*\]|\d+\s+0\s+R)", body)
        contents = re.findall(rb"(\d+)\s+0\s+R", found.group(1)) if found else []
        text, cmap = [], {}
        for ref in contents:
            stream = _stream(objects[int(ref)])
            for token in re.finditer(rb"/(\w+)\s+[\d.]+\s+Tf|\[((?:[^\]\\]|\\.)*)\]\s*TJ|<([0-9A-Fa-f]*)>\s*Tj", stream):
                if token.group(1) is not None:
                    cmap = cmap_of(fonts[token.group(1)]) if token.group(1) in fonts else {}
                    continue
                hexes = re.findall(rb"<([0-9A-Fa-f]*)>", token.group(2)) if token.group(2) is not None \
                    else [token.group(3)]
                for h in hexes:
                    text.extend(cmap.get(int(h[i:i + 4], 16), "") for i in range(0, len(h) - 3, 4))
        pages.append(((x1 - x0, y1 - y0), "".join(text)))
    return pages


def pdf_pages(data: bytes) -> list[tuple[tuple[float, float], str]]:
    """[((width, height) in points, text)] for every page, in order."""
    if importlib.util.find_spec("pypdf") is not None:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        return [((float(p.mediabox.width), float(p.mediabox.height)), p.extract_text() or "") for p in reader.pages]
    return _pages_without_pypdf(data)


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


# ------------------------------------------------------------------------------ the tests
def test_kit_prints_on_numbered_a4_pages(browser, kit_site):
    context = browser.new_context(locale="fr-FR")
    try:
        page = context.new_page()
        page.goto(kit_site + KIT, wait_until="load")
        assert page.locator("h1").inner_text().strip() == "Côte-d'Or (21)"
        pdf = page.pdf(format="A4")
    finally:
        context.close()
    pages = pdf_pages(pdf)
    count = len(pages)
    assert count >= 2, "the kit fits on several pages (cover and rules, listings, notes sheet)"
    assert page_count(pdf) == count
    for number, ((width, height), text) in enumerate(pages, start=1):
        assert abs(width - A4_POINTS[0]) <= TOLERANCE and abs(height - A4_POINTS[1]) <= TOLERANCE, (number, width, height)
        assert f"Page{number}sur{count}" in _squeeze(text), f"page {number} is not numbered « Page {number} sur {count} »"
    everything = _squeeze(" ".join(text for _, text in pages))
    assert _squeeze("Sept minutes par table") in everything
    assert _squeeze("Besoins ouverts") in everything and _squeeze("Pour s'inspirer") in everything
    assert _squeeze("Rechercher dans l'annuaire") not in everything     # the site's header is not printed
    assert _squeeze("Mes notes") in _squeeze(pages[-1][1])                # the notes sheet ends the kit


def test_print_layout_keeps_cards_whole(browser, kit_site):
    context = browser.new_context(locale="fr-FR")
    try:
        page = context.new_page()
        page.goto(kit_site + KIT, wait_until="load")
        page.emulate_media(media="print")
        styles = page.evaluate("""() => ({
            cards: [...document.querySelectorAll('.kit-carte, .kit-paire, .kit-regle')]
                .map(e => getComputedStyle(e).breakInside),
            header: getComputedStyle(document.querySelector('.entete')).display,
            footer: getComputedStyle(document.querySelector('.pied')).display,
            screenOnly: getComputedStyle(document.querySelector('.kit-ecran')).display,
            newPage: [...document.querySelectorAll('.kit-saut')].map(e => getComputedStyle(e).breakBefore),
            color: getComputedStyle(document.body).color,
        })""")
    finally:
        context.close()
    assert styles["cards"] and set(styles["cards"]) == {"avoid"}
    assert styles["header"] == styles["footer"] == styles["screenOnly"] == "none"
    assert styles["newPage"] and set(styles["newPage"]) == {"page"}
    assert styles["color"] == "rgb(0, 0, 0)"
