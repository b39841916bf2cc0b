"""The forms are generated from the schemas: the committed issue forms must equal what
``associe forms`` generates (no drift), every schema property is asked or derived (the
mapping is total), and the site's forms carry the same fields without any inline script."""
from __future__ import annotations

import html.parser
import re
from pathlib import Path

import pytest
import yaml

from associe import forms
from associe.forms import DERIVED, FORMS, ORGANISATION_FORM, TEMPLATE_DIR, is_required, schema_paths
from associe.site_forms import FormPage, render_site_forms
from associe.vocabulary import load_vocabularies

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = {"ASSOCIE_GITHUB_REPO": "exemple/associe", "ASSOCIE_MAINTAINERS_EMAIL": "mainteneurs@associe.example",
            "ASSOCIE_CONTRIBUTE_PATH": "contribuer", "THEME_STATIC_DIR": "static"}


# ------------------------------------------------------------------------------ issue forms
def test_committed_issue_forms_equal_the_generated_ones():
    generated = forms.generate()
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in TEMPLATE_DIR.iterdir() if p.suffix == ".yml"}
    assert set(on_disk) == set(generated), "fichiers en trop ou manquants : lancez « associe forms »"
    for name, text in generated.items():
        assert on_disk[name] == text, f"{name} a divergé des schémas : lancez « associe forms »"


def test_forms_check_command(tmp_path, capsys):
    from associe.cli import main

    assert main(["forms", "--check"]) == 0
    assert main(["forms", "--output", str(tmp_path)]) == 0
    (tmp_path / "besoin.yml").write_text("name: modifié à la main\n", encoding="utf-8")
    assert main(["forms", "--check", "--output", str(tmp_path)]) == 1
    assert "périmé" in capsys.readouterr().out


@pytest.mark.parametrize("kind", sorted(FORMS))
def test_issue_form_is_well_formed(kind):
    data = yaml.safe_load((TEMPLATE_DIR / f"{kind}.yml").read_text(encoding="utf-8"))
    assert set(data) == {"name", "description", "title", "labels", "body"}
    assert data["labels"] == ["soumission", kind]
    body = data["body"]
    ids = [e["id"] for e in body if "id" in e]
    labels = [e["attributes"]["label"] for e in body if e["type"] != "markdown"]
    assert len(ids) == len(set(ids)) and len(labels) == len(set(labels))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", i) for i in ids)
    for element in body:
        assert element["type"] in {"markdown", "input", "textarea", "dropdown", "checkboxes"}
        if element["type"] == "dropdown":
            options = element["attributes"]["options"]
            assert options and len(options) == len(set(options)) and "None" not in options
    # the form opens on the public / no-personal-data warning
    first = body[0]
    assert first["type"] == "markdown"
    assert "public" in first["attributes"]["value"] and "aucune donnée personnelle" in first["attributes"]["value"]
    commitments = next(e for e in body if e["type"] == "checkboxes")
    texts = [o["label"] for o in commitments["attributes"]["options"]]
    assert all(o["required"] for o in commitments["attributes"]["options"])
    assert any("charte" in t for t in texts)
    if kind in ("besoin", "offre"):
        assert any(t.lower().startswith("je suis habilité(e) à représenter cette structure") for t in texts)
    else:
        assert any("habilité(e) à représenter" in t for t in texts)


def test_blank_issues_are_off_with_a_contact_link():
    config = yaml.safe_load((TEMPLATE_DIR / "config.yml").read_text(encoding="utf-8"))
    assert config["blank_issues_enabled"] is False
    assert config["contact_links"] and config["contact_links"][0]["url"].startswith("https://")


def test_dropdown_options_are_the_vocabulary_labels():
    vocabularies = load_vocabularies()
    for form in FORMS.values():
        for f in form.asked:
            if f.vocabulary:
                assert forms.options(f) == list(vocabularies[f.vocabulary].values())


# ------------------------------------------------------------------------------ mapping
def _mapped(form) -> set[str]:
    return {p for f in form.fields for p in f.paths}


@pytest.mark.parametrize("kind", sorted(FORMS))
def test_form_fields_and_schema_properties_map_totally(kind):
    form = FORMS[kind]
    mapped = _mapped(form)
    entry_paths = {p for p in mapped if not p.startswith("org:")}
    schema = set(schema_paths(kind))
    derived = set(DERIVED[kind])
    assert entry_paths <= schema, f"champs du formulaire sans propriété : {entry_paths - schema}"
    assert schema - derived == entry_paths, f"propriétés ni demandées ni dérivées : {schema - derived - entry_paths}"
    assert not (derived & entry_paths), "une propriété ne peut pas être à la fois demandée et dérivée"
    if kind in ("besoin", "offre"):
        org_paths = {p[4:] for p in mapped if p.startswith("org:")}
        org_schema = set(schema_paths("organisation"))
        assert org_schema - set(DERIVED["organisation"]) == org_paths


def test_organisation_form_covers_the_organisation_schema():
    org_paths = {p[4:] for f in ORGANISATION_FORM.fields for p in f.paths}
    assert org_paths == set(schema_paths("organisation")) - set(DERIVED["organisation"])


@pytest.mark.parametrize("kind", sorted(FORMS))
def test_required_properties_are_required_questions(kind):
    form = FORMS[kind]
    for path in schema_paths(kind):
        if path in DERIVED[kind] or not is_required(kind, path):
            continue
        if path in forms.ONE_OF[kind]:
            assert all(form.field(i) for i in forms.ONE_OF[kind][path])
            continue
        fields = [f for f in form.fields if path in f.paths]
        assert any(f.required for f in fields), f"{kind}: « {path} » est obligatoire dans le schéma"


@pytest.mark.parametrize("kind", sorted(FORMS))
def test_every_question_has_a_conversion_the_bot_knows(kind):
    known = {"line", "text", "int", "date", "commune", "territory_code", "identifier", "official_numbers", "quantity",
             "vocabulary", "yes_no", "partners", "site_choices", "commitments", "markdown"}
    for f in FORMS[kind].fields:
        assert f.convert in known, f.id
        assert f.type != "dropdown" or f.vocabulary or f.options


# ------------------------------------------------------------------------------ site forms
class _Parser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _parse(text: str) -> list[tuple[str, dict]]:
    parser = _Parser()
    parser.feed(text)
    return parser.tags


def test_site_forms_pages_and_contract():
    pages = render_site_forms(SETTINGS)
    assert set(pages) == {"contribuer/index.html", "contribuer/besoin/index.html", "contribuer/offre/index.html",
                          "contribuer/exemple/index.html"}
    for path, page in pages.items():
        assert isinstance(page, FormPage) and isinstance(page, str) and page.title
        assert "<main" not in page and "<html" not in page and "<body" not in page
    assert pages["contribuer/besoin/index.html"].title == "Publier un besoin"
    assert pages["contribuer/offre/index.html"].title == "Proposer une offre"
    assert pages["contribuer/exemple/index.html"].title == "Partager un exemple"


@pytest.mark.parametrize("kind", sorted(FORMS))
def test_site_form_has_every_question_and_no_inline_code(kind):
    page = render_site_forms(SETTINGS)[f"contribuer/{kind}/index.html"]
    tags = _parse(page)
    for tag, attrs in tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert "style" not in attrs and tag != "style"
        if tag == "script":
            assert attrs.get("src", "").endswith("static/js/contribuer.js") and not attrs["src"].startswith(("http", "/"))
        for name in ("href", "src", "action"):
            assert not str(attrs.get(name, "")).lower().startswith("javascript:")
    champs = {attrs.get("data-champ") for _, attrs in tags if attrs.get("data-champ")}
    asked = {f.id for f in FORMS[kind].asked if f.convert != "site_choices"}
    assert champs == asked | {"title"}
    form_tag = next(attrs for tag, attrs in tags if tag == "form")
    assert form_tag["data-depot"] == "exemple/associe" and form_tag["data-modele"] == f"{kind}.yml"
    assert form_tag["data-courriel"] == "mainteneurs@associe.example"
    assert "novalidate" in form_tag
    selects = [attrs for tag, attrs in tags if tag == "select"]
    assert selects and all(attrs.get("data-conversion") in ("vocabulary", "yes_no") for attrs in selects)
    required_labels = page.count('class="requis"')
    assert required_labels >= sum(1 for f in FORMS[kind].asked if f.required)
    assert 'data-hors-url="1"' in page if kind != "exemple" else True
    for button in ("github", "courriel", "yaml"):
        assert f'data-envoi="{button}"' in page
    assert "Rien n&#x27;est enregistré" in page or "Rien n'est enregistré" in page


def test_site_form_without_settings_still_offers_the_download():
    page = render_site_forms({})["contribuer/besoin/index.html"]
    assert 'data-envoi="yaml"' in page and 'data-envoi="github"' not in page and 'data-envoi="courriel"' not in page
    settings = {"ASSOCIE_REPOSITORY_URL": "https://github.com/asso/annuaire", "ASSOCIE_CONTACT_EMAIL": "a@b.fr"}
    page = render_site_forms(settings)["contribuer/besoin/index.html"]
    assert 'data-depot="asso/annuaire"' in page and 'data-courriel="a@b.fr"' in page


def test_site_form_limits_come_from_the_schema():
    page = render_site_forms(SETTINGS)["contribuer/besoin/index.html"]
    assert re.search(r'data-champ="description"[^>]*data-minlength="10"[^>]*data-maxlength="5000"', page)
    assert re.search(r'data-champ="thematiques"[^>]*data-minitems="1"[^>]*data-maxitems="5"', page)
    assert re.search(r'data-champ="org_presentation"[^>]*data-maxlength="800"', page)


def test_contribuer_script_has_no_storage_and_no_third_party():
    script = (ROOT / "theme" / "static" / "js" / "contribuer.js").read_text(encoding="utf-8")
    code = re.sub(r"/\*.*?\*/", "", script, flags=re.S)
    for forbidden in ("localStorage", "sessionStorage", "document.cookie", "eval(", "innerHTML", "new Function"):
        assert forbidden not in code, forbidden
    assert set(re.findall(r"https?://[^\"' ]+", code)) == {"https://github.com/"}


# ------------------------------------------------------------------------------ in a browser
# The page, its script and the commune files served on 127.0.0.1 under the site's CSP; the
# URL sent to GitHub is read back by the intake bot, the downloaded YAML by the validator.
import datetime as dt  # noqa: E402
import functools  # noqa: E402
import http.server  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import runpy  # noqa: E402
import shutil  # noqa: E402
import threading  # noqa: E402
from urllib.parse import parse_qsl, urlsplit  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CONTENT = Path(__file__).resolve().parent / "fixtures" / "validation" / "base"
RECORDER = """
window.__opened = []; window.__csp = [];
window.open = function (url) { window.__opened.push(String(url)); return null; };
document.addEventListener('securitypolicyviolation', function (e) { window.__csp.push(e.violatedDirective); });
"""


@pytest.fixture(scope="module")
def form_site(tmp_path_factory):
    if os.environ.get("ASSOCIE_SKIP_BROWSER") == "1" or not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.skip("pas de Chromium (ASSOCIE_SKIP_BROWSER=1 ou binaire absent)")
    from associe.rendering import autocomplete_files
    from associe.territories import load_geography

    root = tmp_path_factory.mktemp("formulaires")
    csp = runpy.run_path(str(ROOT / "pelicanconf.py"))["ASSOCIE_CSP"]
    for path, page in render_site_forms(SETTINGS).items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
                          f'<meta http-equiv="Content-Security-Policy" content="{csp}"><title>{page.title}</title>'
                          f'</head><body><main id="contenu">{page}</main></body></html>', encoding="utf-8")
    (root / "static" / "js").mkdir(parents=True)
    shutil.copy(ROOT / "theme" / "static" / "js" / "contribuer.js", root / "static" / "js" / "contribuer.js")
    (root / "geo").mkdir()
    for name, rows in autocomplete_files(load_geography()).items():
        if name in ("communes-d", "communes-c", "cp-21"):
            (root / "geo" / f"{name}.json").write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript",
                          ".json": "application/json"}

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        yield browser, f"http://127.0.0.1:{server.server_address[1]}"
        browser.close()
    server.shutdown()


def _open_form(form_site, kind: str):
    browser, base = form_site
    context = browser.new_context(locale="fr-FR", accept_downloads=True)
    context.route("**/*", lambda route: route.continue_() if urlsplit(route.request.url).hostname in (None, "127.0.0.1")
                  or route.request.url.startswith("blob:") else route.abort())
    context.add_init_script(RECORDER)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{base}/contribuer/{kind}/", wait_until="load")
    return context, page, errors


def _choose_commune(page, field_id: str, typed: str, label: str):
    page.fill(f"#champ-{field_id}", typed)
    page.wait_for_selector(f"#champ-{field_id}-liste option", state="attached")
    page.fill(f"#champ-{field_id}", label)
    page.dispatch_event(f"#champ-{field_id}", "input")
    page.wait_for_selector(f"#champ-{field_id}[data-code]", state="attached")


def _fill_need(page, description: str):
    until = (dt.date.today() + dt.timedelta(days=180)).isoformat()
    page.fill("#champ-title", "Ordinateurs pour l'atelier du jeudi")
    page.select_option("#champ-type_de_soutien", "don_materiel")
    page.select_option("#champ-categorie", "mecenat")
    page.select_option("#champ-objet", "informatique")
    page.check("#champ-thematiques-2")
    page.fill("#champ-description", description)
    _choose_commune(page, "commune", "dijo", "Dijon (21)")
    page.select_option("#champ-portee", "rayon")
    page.fill("#champ-rayon_km", "20")
    page.fill("#champ-quantite", "6 ordinateurs")
    page.fill("#champ-valable_jusqu_au", until)
    page.fill("#champ-org_nom", "Atelier du jeudi")
    page.select_option("#champ-org_nature", "association")
    _choose_commune(page, "org_commune", "chen", "Chenôve (21)")
    page.fill("#champ-org_presentation", "Un atelier d'initiation au numérique pour les habitants du quartier.")
    page.fill("#champ-org_email", "contact@atelier-du-jeudi.example")
    for i in (1, 2, 3):
        page.check(f"#champ-engagements-{i}")


@pytest.mark.browser
def test_site_form_checks_answers_in_the_page(form_site):
    context, page, errors = _open_form(form_site, "besoin")
    page.click("button[data-envoi=github]")
    assert page.is_visible("#erreurs")
    summary = page.inner_text("#erreurs")
    assert "Cette réponse est obligatoire" in summary and "Titre" in summary
    assert page.evaluate("window.__opened") == []
    page.fill("#champ-title", "PC")
    page.fill("#champ-description", "Écrivez à jeanne.dupont@gmail.com ou au 06 12 34 56 78.")
    page.click("button[data-envoi=yaml]")
    assert "Texte trop court" in page.inner_text("#erreur-title")
    assert "Pas d'adresse e-mail ici" in page.inner_text("#erreur-description")
    assert "Pas de numéro de téléphone ici" in page.inner_text("#erreur-description")
    assert page.evaluate("window.__csp") == [] and errors == []
    context.close()


@pytest.mark.browser
def test_site_form_to_github_url_then_the_bot(form_site, tmp_path):
    from associe.intake import process_issue, render_body
    from associe.territories import load_geography

    context, page, errors = _open_form(form_site, "besoin")
    _fill_need(page, "Six ordinateurs portables pour nos ateliers d'initiation, chargeurs compris.")
    page.click("button[data-envoi=github]")
    opened = page.evaluate("window.__opened")
    assert len(opened) == 1 and opened[0].startswith("https://github.com/exemple/associe/issues/new?")
    assert len(opened[0].encode()) <= 8000
    params = dict(parse_qsl(urlsplit(opened[0]).query))
    assert params["template"] == "besoin.yml" and params["title"] == "[Besoin] Ordinateurs pour l'atelier du jeudi"
    assert "org_email" not in params and "contact@" not in opened[0]
    assert params["commune"] == "Dijon (21231)" and params["org_commune"] == "Chenôve (21166)"
    assert "type_de_soutien: don_materiel" in params["choix_du_site"]
    assert page.evaluate("window.__csp") == [] and errors == []
    # what GitHub would write once the contributor ticks the boxes and types the e-mail
    form = FORMS["besoin"]
    answers = {k: v for k, v in params.items() if k not in ("template", "title")}
    answers["org_email"] = "contact@atelier-du-jeudi.example"
    answers["engagements"] = list(form.field("engagements").options)
    issue = {"number": 7, "title": params["title"], "body": render_body(form, answers), "user": {"login": "x"},
             "created_at": dt.datetime.now(dt.timezone.utc).isoformat(), "state": "open",
             "labels": [{"name": "soumission"}, {"name": "besoin"}]}
    outcome = process_issue(issue, load_geography(), CONTENT)
    assert outcome.action == "pull", outcome.comment
    context.close()


@pytest.mark.browser
def test_site_form_long_texts_are_left_to_paste(form_site):
    context, page, errors = _open_form(form_site, "besoin")
    _fill_need(page, ("Équipement réemployé, dépôt à l'atelier. " * 120)[:4900])
    page.click("button[data-envoi=github]")
    opened = page.evaluate("window.__opened")
    assert len(opened) == 1 and len(opened[0]) <= 8000 and "description=" not in opened[0]
    assert page.is_visible("#copier") and page.input_value("#copie-description").startswith("Équipement réemployé")
    context.close()


@pytest.mark.browser
def test_site_form_yaml_download_passes_the_validator(form_site, tmp_path):
    from associe.intake import load_yaml
    from associe.territories import load_geography
    from associe.validation import check

    context, page, errors = _open_form(form_site, "besoin")
    _fill_need(page, "Six ordinateurs portables pour nos ateliers d'initiation, chargeurs compris.")
    with page.expect_download() as first:
        page.click("button[data-envoi=yaml]")
    links = page.locator("#resultat a[download]")
    assert links.count() == 2
    with page.expect_download() as second:
        links.nth(1).click()
    for download in (first.value, second.value):
        text = Path(download.path()).read_text(encoding="utf-8")
        data = load_yaml(text)
        folder = "organisations" if "nom" in data else "besoins"
        (tmp_path / "content" / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / "content" / folder / download.suggested_filename).write_text(text, encoding="utf-8")
    result = check([tmp_path / "content"], root=tmp_path, geography=load_geography(), context_paths=[CONTENT])
    assert [str(p) for p in result.errors] == []
    assert page.evaluate("window.__csp") == [] and errors == []
    context.close()
