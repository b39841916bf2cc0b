"""Untrusted Markdown → sanitised HTML (security notes C1, C2): an XSS corpus rendered through the
real function, checked by parsing the output (html.parser), never by regex."""
from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from associe import markdown_safe
from associe.markdown_safe import ALLOWED_TAGS, EXTENSIONS, LINK_REL, plain_text, render

FORBIDDEN_ELEMENTS = {"script", "iframe", "object", "embed", "style", "form", "svg", "img", "math", "input",
                      "button", "textarea", "select", "link", "meta", "base", "frame", "frameset", "video",
                      "audio", "source", "template", "h1", "h2"}


class Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.text = ""

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.text += data


def parse(html: str) -> Collector:
    collector = Collector()
    collector.feed(html)
    collector.close()
    return collector


XSS_CORPUS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)><circle r=1 /></svg>",
    "<iframe src=\"https://evil.example\"></iframe>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<form action=https://evil.example><input name=x><button>ok</button></form>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<embed src=\"javascript:alert(1)\">",
    "<a href=\"javascript:alert(1)\">a</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">a</a>",
    "<a href=\"jav&#x09;ascript:alert(1)\">a</a>",
    "<a href=\"jav&#x0A;ascript:alert(1)\">a</a>",
    "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">a</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">a</a>",
    "<a href=\"vbscript:msgbox(1)\">a</a>",
    "<a href=\"tel:+33102030405\">tel</a>",
    "<a href=\"//evil.example/x\">protocol-relative</a>",
    "<a href=\"/besoins/\">relative</a>",
    "<a href=\"https://ok.example\" onclick=\"alert(1)\" style=\"color:red\" target=\"_self\">ok</a>",
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](data:text/html,<script>alert(1)</script>)",
    "![i](javascript:alert(1))",
    "![i](https://tracker.example/pixel.png)",
    "[ref][1]\n\n[1]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "<https://ok.example/page>",
    "<div onmouseover=alert(1)>survol</div>",
    "<p style=\"position:fixed\">fixe</p>",
    "<h1 onclick=alert(1)>Titre</h1>",
    "<table><tr><td>cellule</td></tr></table>",
    "<details open ontoggle=alert(1)>d</details>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<!--<img src=x onerror=alert(1)>-->",
    "<base href=\"https://evil.example/\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\">",
    "\"><script>alert(1)</script>",
    "` <img src=x onerror=alert(1)> `",
]


def assert_clean(html: str) -> Collector:
    parsed = parse(html)
    for tag, attrs in parsed.elements:
        assert tag not in FORBIDDEN_ELEMENTS, (tag, html)
        assert tag in ALLOWED_TAGS, (tag, html)
        for name, value in attrs.items():
            assert not name.startswith("on"), (name, html)
            assert name in {"href", "rel"}, (name, html)
            if name == "href":
                assert tag == "a"
                scheme = urlsplit(value).scheme.lower()
                assert scheme in {"https", "http", "mailto"}, (value, html)
                assert not value.startswith("//")
        if tag == "a":
            assert attrs.get("rel") == LINK_REL
    return parsed


@pytest.mark.parametrize("source", XSS_CORPUS)
def test_xss_corpus_produces_only_allowed_markup(source):
    assert_clean(render(source))


@pytest.mark.parametrize("source", XSS_CORPUS)
def test_xss_corpus_inside_a_real_paragraph(source):
    html = render(f"Nous cherchons **des chaises**.\n\n{source}\n\n- un\n- deux")
    parsed = assert_clean(html)
    assert "des chaises" in parsed.text


def test_script_and_style_contents_are_dropped_not_shown():
    text = parse(render("avant <script>alert('x')</script><style>p{}</style> après")).text
    assert "alert" not in text and "p{}" not in text
    assert "avant" in text and "après" in text


def test_allowed_markup_is_kept():
    html = render("**gras** *italique* `code`\n\n> citation\n\n1. un\n2. deux\n\n- a\n- b\n\n"
                  "[site](https://exemple.fr/page) [écrire](mailto:contact@exemple.fr) [vieux](http://exemple.fr)")
    tags = [tag for tag, _ in parse(html).elements]
    for tag in ("strong", "em", "code", "blockquote", "ol", "ul", "li", "a", "p"):
        assert tag in tags
    hrefs = [attrs["href"] for tag, attrs in parse(html).elements if tag == "a"]
    assert hrefs == ["https://exemple.fr/page", "mailto:contact@exemple.fr", "http://exemple.fr"]


def test_links_to_forbidden_places_lose_their_href_but_keep_their_text():
    for source in ("[a](javascript:alert(1))", "[a](tel:0102)", "<a href='//evil.example'>a</a>", "[a](/interne/)"):
        parsed = parse(render(source))
        anchors = [attrs for tag, attrs in parsed.elements if tag == "a"]
        assert all("href" not in attrs for attrs in anchors), source
        assert parsed.text.strip() == "a"


def test_headings_never_reach_h1_or_h2():
    tags = [tag for tag, _ in parse(render("# Un\n\n## Deux\n\n### Trois\n\n#### Quatre\n\n###### Six")).elements]
    assert tags == ["h3", "h3", "h3", "h4", "h4"]


def test_sanitizer_runs_after_markdown():
    """Markdown-generated dangerous links are removed: the sanitiser sees the rendered HTML."""
    html = render("[x](javascript:alert(1)) [y][r]\n\n[r]: vbscript:x")
    assert "javascript" not in html and "vbscript" not in html


def test_extension_list_is_fixed_and_minimal():
    assert EXTENSIONS == ("sane_lists",)
    assert not {"md_in_html", "attr_list", "markdown.extensions.attr_list", "extra"} & set(EXTENSIONS)


def test_attr_list_syntax_adds_no_attribute():
    html = render("Paragraphe {: onclick=\"alert(1)\" }\n\n[lien](https://ok.example){: onmouseover=alert(1) }")
    parsed = assert_clean(html)
    assert all(set(attrs) <= {"href", "rel"} for _, attrs in parsed.elements)


def test_render_returns_markup_and_escapes_text():
    html = render("a < b & c > d")
    assert isinstance(html, Markup)
    assert "&lt;" in html and "&amp;" in html
    assert render(None) == "" and render("") == ""


def test_plain_text_is_text_not_html():
    assert plain_text("**Bonjour** <script>alert(1)</script> <b>le</b> monde &amp; co") == "Bonjour le monde & co"
    long = plain_text("mot " * 100, 40)
    assert len(long) <= 40 and long.endswith("…")
    assert plain_text(None) == ""


def test_huge_input_is_cut():
    assert len(render("a" * (markdown_safe.MAX_SOURCE * 3))) < markdown_safe.MAX_SOURCE + 100


MARKDOWN_TOKENS = st.sampled_from([
    "**", "*", "_", "`", "[", "]", "(", ")", "<", ">", "\"", "'", "=", "&", "#", ";", ":", "/", "\n", "\n\n", " ",
    "javascript:", "data:", "vbscript:", "https://x.example", "//evil", "<script>", "</script>", "<img src=x ",
    "onerror=", "onload=", "<a href=", "<svg", "<iframe", "<style>", "&#x09;", "&#106;", "- ", "1. ", "> ", "# ",
    "[x](", "![i](", "{: ", "<!--", "-->", "<p ", "<h1>", "alert(1)", "é", "\t",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(MARKDOWN_TOKENS, max_size=40).map("".join))
def test_property_token_soup_is_always_clean(source):
    assert_clean(render(source))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_property_any_text_is_always_clean(source):
    assert_clean(render(source))


def test_conversions_made_in_a_rendering_process_are_read_back_by_the_parent(tmp_path, monkeypatch):
    """The entry pages are rendered by forked processes; the meeting kits, rendered after them,
    show the same descriptions: the parent reads the children's conversions back
    (``save_converted`` / ``load_converted``) instead of converting every text twice."""
    import os

    from associe import markdown_safe

    text = "Un **texte** converti une seule fois, avec [un lien](https://exemple.fr)."
    monkeypatch.setattr(markdown_safe, "_CONVERTED", {})
    pid = os.fork()
    if pid == 0:
        try:
            markdown_safe.render(text)
            markdown_safe.save_converted(tmp_path)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert text not in markdown_safe._CONVERTED
    (tmp_path / "1.texts").write_bytes(b"not marshal")          # a damaged part is skipped
    assert markdown_safe.load_converted(tmp_path) == 1

    def no_second_conversion(source):
        raise AssertionError("converted again")

    monkeypatch.setattr(markdown_safe, "_markdown", no_second_conversion)
    assert markdown_safe.plain_text(text, 30) == "Un texte converti une seule…"
    assert 'rel="nofollow ugc noopener noreferrer"' in markdown_safe.render(text)
