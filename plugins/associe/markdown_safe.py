"""Untrusted Markdown → sanitised HTML, the only HTML from content that templates mark safe.

Order matters: Markdown first (Python-Markdown passes raw HTML, ``javascript:`` links and event
handlers through untouched), then nh3 with an explicit allow-list. Decisions, tested in
``tests/test_markdown_safe.py``:

- tags: p, br, strong, em, ul, ol, li, a, blockquote, code, h3, h4 — no images, no tables;
  Markdown headings ``#``/``##`` become ``h3`` and ``#####``/``######`` become ``h4`` so that
  an entry never adds an ``h1``/``h2`` to the page outline;
- one attribute: ``a[href]``, with schemes https, http and mailto only; relative and
  protocol-relative (``//host``) URLs are removed (an entry has no business linking inside
  the site, and ``//host`` hides an external host);
- every kept link gets ``rel="nofollow ugc noopener noreferrer"``;
- a fixed extension list (no ``md_in_html``/``attr_list``, which would reintroduce attributes).
"""
from __future__ import annotations

import html
import os
import re

import markdown
import nh3
from markupsafe import Markup

from . import forked

EXTENSIONS: tuple[str, ...] = ("sane_lists",)
ALLOWED_TAGS = frozenset({"p", "br", "strong", "em", "ul", "ol", "li", "a", "blockquote", "code", "h3", "h4"})
ALLOWED_ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = frozenset({"https", "http", "mailto"})
LINK_REL = "nofollow ugc noopener noreferrer"
MAX_SOURCE = 20_000  # the schemas cap texts at 5,000 characters; refuse anything absurd outright

_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags={"script", "style", "template", "textarea", "title", "noscript", "iframe", "object",
                        "embed", "svg", "math", "select", "option"},
    attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
    url_schemes=set(URL_SCHEMES),
    link_rel=LINK_REL,
    url_relative="deny",
    strip_comments=True,
)
_TEXT_ONLY = nh3.Cleaner(tags=set(), clean_content_tags={"script", "style", "template", "textarea", "title"},
                         attributes={}, strip_comments=True)

# Only rewrites heading tags the Markdown renderer produced or raw tags: nh3 runs afterwards
# and removes every attribute either way.
_HEADING = re.compile(r"<(/?)h([1-6])(?=[\s>/])", re.IGNORECASE)


def _demote(match: re.Match) -> str:
    level = int(match.group(2))
    return f"<{match.group(1)}h{3 if level <= 3 else 4}"


# One converter, reset between texts: building a Markdown instance costs more than converting
# a short text (measured on 10,000 entries).
_CONVERTER = markdown.Markdown(extensions=list(EXTENSIONS), output_format="html")


def _markdown(source: str) -> str:
    _CONVERTER.reset()
    return _CONVERTER.convert(source[:MAX_SOURCE])


# One Markdown conversion per distinct text, kept for the whole build: the sanitised HTML (page
# body) and the plain text (meta description, excerpts) both come from it. Unbounded: a build
# converts each description once (about 1 KB each), and the rendering processes forked after the
# pages' descriptions are computed share the parent's results.
_CONVERTED: dict[str, tuple[str, str]] = {}


def _convert(source: str) -> tuple[str, str]:
    found = _CONVERTED.get(source)
    if found is None:
        produced = _markdown(source)
        html_out = _CLEANER.clean(_HEADING.sub(_demote, produced)).strip()
        plain = " ".join(html.unescape(_TEXT_ONLY.clean(produced)).split())
        found = _CONVERTED[source] = (html_out, plain)
    return found


def save_converted(folder: str | os.PathLike) -> None:
    """In a forked rendering process: write the conversions it made into ``folder``, so that
    the parent reads them (``load_converted``) before forking the processes of the next pages
    (the entry pages convert every description; the meeting kits show them again)."""
    forked.write_part(folder, ".texts", _CONVERTED)


def load_converted(folder: str | os.PathLike) -> int:
    """Add the conversions written by ``save_converted`` into ``folder``; how many were new."""
    added = 0
    for converted in forked.read_parts(folder, ".texts"):
        for source, pair in converted.items():
            if (source not in _CONVERTED and isinstance(source, str) and isinstance(pair, tuple) and len(pair) == 2
                    and all(isinstance(text, str) for text in pair)):
                _CONVERTED[source] = pair
                added += 1
    return added


def _render(source: str) -> str:
    return _convert(source)[0]


def render(source: str | None) -> Markup:
    """Markdown text from an entry → sanitised HTML, safe to insert in a page."""
    if not source:
        return Markup("")
    return Markup(_convert(str(source))[0])


def _plain(source: str) -> str:
    return _convert(source)[1]


def plain_text(source: str | None, limit: int | None = None) -> str:
    """Markdown text → plain text (for <meta name=description>, list excerpts, Pagefind meta).

    The result is *text*: templates escape it as any other string."""
    if not source:
        return ""
    text = _convert(str(source))[1]
    if limit and len(text) > limit:
        cut = text[: limit - 1]
        space = cut.rfind(" ")
        text = (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:.") + "…"
    return text
