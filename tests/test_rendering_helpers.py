"""Helpers that keep the rendering cheap: one Markdown conversion per text, the autocomplete
files' first letter, the header and footer rendered once per distinct input."""
from __future__ import annotations

from jinja2 import Environment, FileSystemLoader

from associe import markdown_safe, rendering
from associe.territories import autocomplete_index, load_geography

THEME = rendering.Path(__file__).resolve().parent.parent / "theme" / "templates"


def test_a_text_is_converted_once_for_its_html_and_its_plain_text(monkeypatch):
    calls = []
    original = markdown_safe._markdown
    monkeypatch.setattr(markdown_safe, "_markdown", lambda source: calls.append(source) or original(source))
    text = "Un **texte** converti une seule fois, avec un [lien](https://example.org)."
    html = markdown_safe.render(text)
    plain = markdown_safe.plain_text(text, 20)
    assert markdown_safe.render(text) == html and "<strong>texte</strong>" in html
    assert plain == "Un texte converti…"
    assert calls == [text]


def test_first_letter_of_every_commune_is_the_folded_one():
    rows = list(autocomplete_index(load_geography()))
    assert len(rows) > 30_000
    assert all(rendering._first_letter(row[1]) == rendering.fold(row[1])[:1] for row in rows)
    for text in ("Œuilly", "Æble", "L'Haÿ-les-Roses", " - x", "ß1", "İstanbul", ""):
        assert rendering._first_letter(text) == rendering.fold(text)[:1]


def test_header_and_footer_are_rendered_once_per_root_section_and_menu_entry():
    env = Environment(loader=FileSystemLoader(str(THEME)), autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(rendering.JINJA_FILTERS)
    rendered = []
    template = env.get_template("_entete.html")
    original = template.render
    template.render = lambda *a, **k: rendered.append(1) or original(*a, **k)
    env.globals["fragment"] = rendering.fragments(env)
    page = env.from_string('{{ fragment("entete") }}')
    base = {"SITESUBTITLE": "Sous-titre", "section": "besoins"}
    one = page.render(SITEURL="../..", output_file="besoins/a/index.html", **base)
    two = page.render(SITEURL="../..", output_file="besoins/b/index.html", **base)
    assert one == two and len(rendered) == 1 and 'aria-current="true"' in one
    listing = page.render(SITEURL="..", output_file="besoins/index.html", **base)   # the menu entry's own page
    assert 'aria-current="page"' in listing and len(rendered) == 2
    without = Environment(loader=FileSystemLoader(str(THEME)), autoescape=True, trim_blocks=True, lstrip_blocks=True)
    direct = without.get_template("_entete.html").render(SITEURL="../..", output_file="besoins/a/index.html", **base)
    assert direct == one


def test_the_page_context_keeps_every_variable_the_templates_read():
    from jinja2 import DictLoader
    env = Environment(loader=DictLoader({
        "base.html": "{{ SITENAME }}{% block content %}{% endblock %}",
        "_m.html": "{% macro f() %}{{ SITEURL }}{% endmacro %}",
        "_inc.html": "{{ INCLUDED }}",
        "page.html": '{% extends "base.html" %}{% import "_m.html" as m with context %}'
                     '{% block content %}{{ m.f() }}{{ own }}{% include "_inc.html" %}{% endblock %}',
        "dynamic.html": "{% include chosen %}",
    }))
    read = rendering.template_variables(env, ["page.html"])
    assert {"SITENAME", "SITEURL", "own", "INCLUDED"} <= read
    assert "OTHER_SETTING" not in read
    assert rendering.template_variables(env, ["dynamic.html"]) is None    # anything may be read: keep all


def test_the_theme_templates_read_the_settings_they_show():
    env = Environment(loader=FileSystemLoader(str(THEME)), autoescape=True)
    env.filters.update(rendering.JINJA_FILTERS)
    pages = [path.name for path in THEME.glob("*.html") if not path.name.startswith("_")]
    read = rendering.template_variables(env, pages + [f"_{name}.html" for name in rendering.FRAGMENTS])
    assert {"SITENAME", "SITEURL", "SITESUBTITLE", "ASSOCIE_CSP", "M", "P", "e"} <= read
    assert not read & {"ARTICLE_URL", "PATH", "PLUGINS", "JINJA_ENVIRONMENT"}


def test_a_page_written_again_replaces_the_old_one_whole(tmp_path):
    folders: set[str] = set()
    rendering.write_page(str(tmp_path), "a/b/c/index.html", "une page plus longue".encode(), folders)
    rendering.write_page(str(tmp_path), "a/b/c/index.html", b"courte", folders)
    rendering.write_page(str(tmp_path), "a/index.html", b"haut", folders)
    rendering.write_page(str(tmp_path), "a/b/d/index.html", b"soeur", folders)
    assert (tmp_path / "a/b/c/index.html").read_bytes() == b"courte"
    assert (tmp_path / "a/index.html").read_bytes() == b"haut"
    assert (tmp_path / "a/b/d/index.html").read_bytes() == b"soeur"
    assert folders == {f"{tmp_path}/a/b/c", f"{tmp_path}/a", f"{tmp_path}/a/b/d"}


def test_a_rebuild_reads_the_templates_variables_from_the_cache(tmp_path, monkeypatch):
    from types import SimpleNamespace
    env = Environment(loader=FileSystemLoader(str(THEME)), autoescape=True)
    env.filters.update(rendering.JINJA_FILTERS)
    parsed = []
    original = rendering.template_variables
    monkeypatch.setattr(rendering, "template_variables", lambda e, n: parsed.append(n) or original(e, n))
    generator = SimpleNamespace(settings={"ASSOCIE_CACHE_PATH": str(tmp_path / "cache")}, env=env)
    read = rendering.AssocieGenerator._template_variables
    first = read(generator, ["entry.html", "_entete.html"], b"build-1")
    assert "SITENAME" in first and len(parsed) == 1
    assert read(generator, ["entry.html", "_entete.html"], b"build-1") == first and len(parsed) == 1
    read(generator, ["entry.html", "_entete.html"], b"build-2")          # templates or code changed
    read(generator, ["listing.html", "_entete.html"], b"build-2")        # other pages
    assert len(parsed) == 3
    (tmp_path / "cache" / "template-variables.json").write_text("{", encoding="utf-8")   # damaged: parsed again
    assert read(generator, ["listing.html", "_entete.html"], b"build-2") == original(env, ["listing.html", "_entete.html"])
    no_cache = SimpleNamespace(settings={}, env=env)
    read(no_cache, ["entry.html"], None)
    assert len(parsed) == 5
