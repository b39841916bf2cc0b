"""The site's contribution pages, generated from the same fields as the GitHub forms.

Contract with the renderer (``rendering.py``)
--------------------------------------------
``render_site_forms(settings) -> dict[str, FormPage]``

* keys are output paths relative to the site root, without a leading slash:
  ``contribuer/index.html``, ``contribuer/besoin/index.html``, ``contribuer/offre/index.html``,
  ``contribuer/exemple/index.html`` (``contribuer`` is ``ASSOCIE_CONTRIBUTE_PATH``);
* each value is a ``FormPage``: a ``str`` holding **only the inner HTML of ``<main>``**
  (the renderer wraps it in the site layout, unescaped: it is built here with every text
  escaped), with two attributes, ``.title`` (for ``<title>`` and the breadcrumb) and
  ``.description`` (for ``<meta name="description">``);
* links inside are relative to the page (``../../charte/``), so the pages work from any
  folder (GitHub Pages project site, ``file://``);
* the form pages load ``static/js/contribuer.js`` (relative ``<script src>``, ``defer``):
  no inline script, no inline style, no event-handler attribute (CSP ``script-src 'self'``,
  ``style-src 'self'``). The commune field reuses the autocomplete files the renderer writes
  (``geo/communes-<lettre>.json``, ``geo/cp-<nn>.json``).

Settings read: ``ASSOCIE_GITHUB_REPO`` (``owner/name``; else derived from
``ASSOCIE_REPOSITORY_URL``), ``ASSOCIE_MAINTAINERS_EMAIL`` (else ``ASSOCIE_CONTACT_EMAIL``),
``ASSOCIE_CONTRIBUTE_PATH``, ``THEME_STATIC_DIR``.

What the page does (``contribuer.js``): it checks the answers in the page (required fields,
lengths, formats, dates, one to five thématiques, a new organisation's required fields) and
then offers three ways to send, none of which loses what was typed (the page stays open;
nothing is stored in the browser, on purpose — no sessionStorage, no cookie):

1. « Continuer sur GitHub » opens the pre-filled issue form
   ``https://github.com/<repo>/issues/new?template=besoin.yml&title=…&<field-id>=…``. Text
   fields are pre-filled; dropdown answers travel in the ``choix_du_site`` textarea (GitHub
   cannot pre-fill a dropdown); the organisation's e-mail is never put in the URL (it would
   end up in browser history and logs): the page asks to type it on GitHub. A URL over
   8,000 bytes is refused: the long texts are shown to copy and paste instead.
2. « Envoyer par e-mail aux mainteneurs »: a ``mailto:`` with the YAML file(s) in the body.
3. « Télécharger le fichier YAML »: the file(s) to attach to an e-mail or to a pull request.
"""
from __future__ import annotations

import html
import re
from typing import Any, Mapping

from .forms import FORMS, Field, Form, option_values, property_schema, schema_for_path
from .paths import FOLDER_OF_KIND

URL_LIMIT = 8000
NEW_ORGANISATION_REQUIRED = ("org_nom", "org_nature", "org_commune", "org_presentation")
URL_FIELDS = {"org_site_web", "org_formulaire", "source_url"}
NOT_IN_URL = {"org_email"}     # the contact e-mail never goes into a URL


class FormPage(str):
    """The inner HTML of ``<main>``, with ``.title`` and ``.description``."""

    title: str
    description: str

    def __new__(cls, body: str, title: str, description: str = "") -> "FormPage":
        page = super().__new__(cls, body)
        page.title = title
        page.description = description
        return page


def e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def repository(settings: Mapping[str, Any]) -> str:
    repo = str(settings.get("ASSOCIE_GITHUB_REPO") or "").strip().strip("/")
    if not repo:
        match = re.match(r"https://github\.com/([^/]+/[^/#?]+)", str(settings.get("ASSOCIE_REPOSITORY_URL") or ""))
        repo = match.group(1).removesuffix(".git") if match else ""
    return repo if re.fullmatch(r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+", repo) else ""


def maintainers_email(settings: Mapping[str, Any]) -> str:
    email = str(settings.get("ASSOCIE_MAINTAINERS_EMAIL") or settings.get("ASSOCIE_CONTACT_EMAIL") or "").strip()
    return email if re.fullmatch(r"[^@\s<>\"]+@[^@\s<>\"]+\.[A-Za-z]{2,}", email) else ""


# ------------------------------------------------------------------------------- fields
def _constraints(form: Form, f: Field) -> dict[str, Any]:
    """Limits of the field from the schema: item counts of a multiple choice; length, pattern
    and range of a typed answer (converted answers such as a commune are checked by the bot)."""
    if not f.paths:
        return {}
    path = "apports[].texte" if f.paths[0].startswith("apports[]") else f.paths[0]
    node = property_schema(*schema_for_path(form.kind, path))
    if f.convert == "vocabulary" and f.multiple:
        keys: tuple[str, ...] = ("minItems", "maxItems")
    elif f.convert in ("text", "line", "identifier"):
        keys = ("minLength", "maxLength", "pattern")
    elif f.convert == "int":
        keys = ("minimum", "maximum")
    else:
        keys = ()
    return {k: node[k] for k in keys if k in node}


def _required_attr(form: Form, f: Field) -> str:
    if f.required:
        return " required aria-required=\"true\""
    return ""


def _label(f: Field, control_id: str, required: bool, conditional: bool = False) -> str:
    mark = ' <span class="requis" aria-hidden="true">*</span>' if required else ""
    if conditional:
        mark = ' <span class="requis-si">(obligatoire pour une nouvelle organisation)</span>'
    return f'<label for="{control_id}">{e(f.label)}{mark}</label>'


def _help(f: Field, help_id: str) -> str:
    text = re.sub(r"^(Obligatoire|Facultatif)\.\s*", "", f.description or "")
    return f'<p class="aide" id="{help_id}">{e(text)}</p>' if text else ""


def _data(form: Form, f: Field) -> str:
    attrs = {"data-champ": f.id, "data-conversion": f.convert, "data-chemins": " ".join(f.paths),
             "data-libelle": f.label}
    for key, value in _constraints(form, f).items():
        attrs[f"data-{key.lower()}"] = value
    if f.id in NOT_IN_URL:
        attrs["data-hors-url"] = "1"
    if form.kind in ("besoin", "offre") and f.id in NEW_ORGANISATION_REQUIRED:
        attrs["data-requis-si"] = "nouvelle-organisation"
    return "".join(f' {k}="{e(v)}"' for k, v in attrs.items())


def render_field(form: Form, f: Field) -> str:
    cid = f"champ-{f.id}"
    help_id, error_id = f"aide-{f.id}", f"erreur-{f.id}"
    described = " ".join(x for x in (help_id if f.description else "", error_id) if x)
    conditional = form.kind in ("besoin", "offre") and f.id in NEW_ORGANISATION_REQUIRED
    error = f'<p class="erreur" id="{error_id}" hidden></p>'
    data = _data(form, f)
    if f.type == "dropdown" and f.multiple:
        boxes = "".join(
            f'<li><input type="checkbox" id="{cid}-{i}" name="{e(f.id)}" value="{e(value)}" data-libelle="{e(label)}">'
            f'<label for="{cid}-{i}">{e(label)}</label></li>'
            for i, (label, value) in enumerate(option_values(f).items(), 1))
        mark = ' <span class="requis" aria-hidden="true">*</span>' if f.required else ""
        requis = ' data-requis="1"' if f.required else ""
        return (f'<fieldset class="champ choix-multiple" id="{cid}" aria-describedby="{described}"{data}{requis}>'
                f'<legend>{e(f.label)}{mark}</legend>{_help(f, help_id)}<ul class="cases">{boxes}</ul>{error}</fieldset>')
    if f.type == "dropdown":
        choices = "".join(f'<option value="{e(value)}">{e(label)}</option>' for label, value in option_values(f).items())
        return (f'<div class="champ">{_label(f, cid, f.required, conditional)}{_help(f, help_id)}'
                f'<select id="{cid}" name="{e(f.id)}" aria-describedby="{described}"{_required_attr(form, f)}{data}>'
                f'<option value="">— Choisir —</option>{choices}</select>{error}</div>')
    if f.type == "checkboxes":
        boxes = "".join(
            f'<li><input type="checkbox" id="{cid}-{i}" name="{e(f.id)}" value="{i}" required aria-required="true">'
            f'<label for="{cid}-{i}">{_inline_markdown(option, form)}</label></li>'
            for i, option in enumerate(f.options, 1))
        return (f'<fieldset class="champ engagements" id="{cid}" aria-describedby="{described}"{data} data-requis="1">'
                f'<legend>{e(f.label)} <span class="requis" aria-hidden="true">*</span></legend>{_help(f, help_id)}'
                f'<ul class="cases">{boxes}</ul>{error}</fieldset>')
    limits = _constraints(form, f)
    common = f'id="{cid}" name="{e(f.id)}" aria-describedby="{described}"{_required_attr(form, f)}{data}'
    if "maxLength" in limits:
        common += f' maxlength="{limits["maxLength"]}"'
    if f.placeholder:
        common += f' placeholder="{e(f.placeholder)}"'
    if f.type == "textarea":
        rows = 8 if f.id in ("description", "resume") else 4
        control = f"<textarea {common} rows=\"{rows}\"></textarea>"
    elif f.convert == "date":
        control = f'<input type="date" {common}>'
    elif f.convert == "int":
        bounds = "".join(f' {k[:3]}="{limits[k]}"' for k in ("minimum", "maximum") if k in limits)
        control = f'<input type="number" inputmode="numeric" step="1"{bounds} {common}>'
    elif f.convert in ("commune", "territory_code"):
        control = (f'<input type="text" autocomplete="off" list="{cid}-liste" data-commune="1" {common}>'
                   f'<datalist id="{cid}-liste"></datalist><p class="etat-commune" id="{cid}-etat" aria-live="polite"></p>')
    elif f.id == "org_email":
        control = f'<input type="email" autocomplete="off" {common}>'
    elif f.id in URL_FIELDS:
        control = f'<input type="url" {common}>'
    else:
        control = f'<input type="text" {common}>'
    return f'<div class="champ">{_label(f, cid, f.required, conditional)}{_help(f, help_id)}{control}{error}</div>'


def _inline_markdown(text: str, form: Form) -> str:
    """The checkbox labels' only Markdown is a link to the charter: point it at the site's page."""
    out, last = [], 0
    for match in re.finditer(r"\[([^\]]+)\]\(([^)]+)\)", text):
        out.append(e(text[last:match.start()]))
        out.append(f'<a href="../../charte/">{e(match.group(1))}</a>')
        last = match.end()
    out.append(e(text[last:]))
    return "".join(out)


# ------------------------------------------------------------------------------- pages
SENDING_HELP = (
    "Rien n'est enregistré par ce site, ni dans votre navigateur : gardez cette page ouverte jusqu'à l'envoi. "
    "Chacun des trois boutons reprend ce que vous avez saisi, vous pouvez donc en essayer un autre."
)


def _intro(form: Form) -> str:
    what = {"besoin": "votre besoin", "offre": "votre offre", "exemple": "cet exemple de partenariat"}[form.kind]
    return (
        '<div class="alerte" role="note"><p><strong>Ce que vous envoyez sera public</strong> : sur GitHub dès l\'envoi, '
        "puis sur le site après relecture. N'y mettez aucune donnée personnelle (ni nom, ni téléphone, ni e-mail d'une "
        "personne) : pour le contact, donnez une adresse de l'organisation (contact@…) ou l'adresse de sa page de contact.</p></div>"
        f"<p>Remplissez le formulaire pour présenter {what}. Des bénévoles relisent chaque proposition, en général "
        "sous une semaine ; elle paraît ensuite sur le site. Les champs marqués "
        '<span class="requis" aria-hidden="true">*</span><span class="visuellement-cache">d\'un astérisque</span> sont obligatoires.</p>'
    )


def _organisation_intro() -> str:
    return ('<h2 id="votre-organisation">Votre organisation</h2>'
            "<p>Si votre organisation a déjà une fiche sur Asso'cie, donnez seulement son identifiant (la fin de "
            "l'adresse de sa fiche, par exemple <code>atelier-numerique-dijon</code>). Sinon, décrivez-la : sa fiche "
            "sera créée en même temps que l'annonce.</p>")


def _order(kind: str) -> list[str]:
    """Top-level keys of ``kind`` in schema order (the YAML written by the page follows it)."""
    from .forms import _schemas

    return list(_schemas()[kind]["properties"])


def render_form_page(form: Form, settings: Mapping[str, Any]) -> FormPage:
    repo, email = repository(settings), maintainers_email(settings)
    static = str(settings.get("THEME_STATIC_DIR", "theme")).strip("/")
    schema_title = property_schema(form.kind, "titre")
    title_help = ("Quelques mots clairs, par exemple « Ordinateurs portables pour notre atelier numérique »."
                  if form.kind != "exemple" else "Par exemple « Des informaticiens bénévoles pour la Banque alimentaire ».")
    parts = [f"<h1>{e(form.name)}</h1>", f'<p class="intro">{e(form.description)}</p>', _intro(form),
             f'<form class="formulaire" id="formulaire-contribution" novalidate data-type="{e(form.kind)}" '
             f'data-modele="{e(form.template)}" data-prefixe-titre="{e(form.title_prefix)}" data-depot="{e(repo)}" '
             f'data-courriel="{e(email)}" data-dossier="{e(FOLDER_OF_KIND[form.kind])}" data-limite-url="{URL_LIMIT}" '
             f'data-ordre="{e(" ".join(_order(form.kind)))}" data-ordre-organisation="{e(" ".join(_order("organisation")))}">',
             '<div class="erreurs alerte alerte-expiree" id="erreurs" role="alert" tabindex="-1" hidden>'
             "<h2>Quelques réponses sont à reprendre</h2><ul></ul></div>",
             '<div class="champ">'
             f'<label for="champ-title">{"Titre de l&#x27;annonce" if form.kind != "exemple" else "Titre de l&#x27;exemple"}'
             ' <span class="requis" aria-hidden="true">*</span></label>'
             f'<p class="aide" id="aide-title">{e(title_help)}</p>'
             f'<input type="text" id="champ-title" name="title" required aria-required="true" '
             f'aria-describedby="aide-title erreur-title" data-champ="title" data-conversion="line" data-chemins="titre" '
             f'data-libelle="Titre" data-minlength="{schema_title["minLength"]}" data-maxlength="{schema_title["maxLength"]}" '
             f'maxlength="{schema_title["maxLength"]}">'
             '<p class="erreur" id="erreur-title" hidden></p></div>']
    for f in form.fields:
        if f.id == "avertissement" or f.convert == "site_choices":
            continue
        if f.id == "organisation_intro":
            parts.append(_organisation_intro())
            continue
        parts.append(render_field(form, f))
    parts.append(
        '<h2 id="envoyer">Envoyer</h2>'
        f"<p>{e(SENDING_HELP)}</p>"
        '<div class="actions envoi">'
        + (f'<button type="button" data-envoi="github">Continuer sur GitHub</button>' if repo else "")
        + (f'<button type="button" class="bouton-secondaire" data-envoi="courriel">Envoyer par e-mail aux mainteneurs</button>'
           if email else "")
        + '<button type="button" class="bouton-secondaire" data-envoi="yaml">Télécharger le fichier YAML</button></div>'
        '<div class="resultat" id="resultat" aria-live="polite" hidden></div>'
        '<div class="copier" id="copier" hidden><p>Le texte est trop long pour passer dans l\'adresse de GitHub. '
        "Le formulaire GitHub s'ouvre avec les réponses courtes ; copiez-y les textes ci-dessous, chacun dans le "
        'champ du même nom.</p><div id="copier-champs"></div></div>'
        "</form>"
        '<p class="rappel">Avec GitHub : un compte gratuit suffit ; un robot vérifie votre proposition en quelques minutes '
        "et vous répond sur la page du ticket. Par e-mail ou avec le fichier : un mainteneur l'ajoute pour vous. "
        '<a href="../">Les autres façons de contribuer</a>.</p>'
        f'<script src="../../{e(static)}/js/contribuer.js" defer></script>')
    return FormPage("\n".join(parts), title=form.name, description=form.description)


def render_index(settings: Mapping[str, Any]) -> FormPage:
    repo = repository(settings)
    repo_link = f'<a href="https://github.com/{e(repo)}">le dépôt du projet</a>' if repo else "le dépôt du projet"
    cards = "".join(
        f'<li class="carte carte-{kind}"><h2 class="carte-titre"><a href="{kind}/">{e(form.name)}</a></h2>'
        f"<p>{e(form.description)}</p></li>" for kind, form in FORMS.items())
    body = (
        "<h1>Contribuer à Asso'cie</h1>"
        '<p class="intro">Asso\'cie grandit grâce à vous : publiez un besoin, proposez une offre, partagez un partenariat '
        "qui vous a inspiré. C'est gratuit, et chaque proposition est relue par des bénévoles avant publication.</p>"
        f'<ul class="cartes">{cards}</ul>'
        '<h2 id="trois-facons">Trois façons de contribuer</h2><ol>'
        "<li><strong>Le formulaire de ce site</strong> : vous remplissez, la page vérifie vos réponses, puis vous "
        "continuez sur GitHub (compte gratuit), ou vous envoyez le tout par e-mail aux mainteneurs.</li>"
        f"<li><strong>Le formulaire GitHub</strong> : directement sur {repo_link}, onglet « Issues », bouton « New issue ».</li>"
        "<li><strong>Une pull request</strong> : si vous utilisez git, ajoutez un fichier YAML dans "
        "<code>content/</code> ; la commande <code>associe new besoin</code> pose les questions et écrit le fichier.</li></ol>"
        '<h2 id="ensuite">Et ensuite ?</h2><ol>'
        "<li>Un robot vérifie votre proposition en quelques minutes et vous dit quoi corriger, en français.</li>"
        "<li>Des bénévoles la relisent, en général sous une semaine.</li>"
        "<li>Acceptée, elle paraît sur le site au plus tard le lendemain, avec ses mises en relation suggérées.</li>"
        "<li>Elle disparaît d'elle-même à sa date de fin (un an au plus) ; vous pouvez la prolonger ou la retirer à tout moment.</li></ol>"
        '<p>Avant de proposer, lisez la <a href="../charte/">charte de contribution</a> et la page '
        '<a href="../donnees-personnelles/">données personnelles</a>.</p>')
    return FormPage(body, title="Contribuer", description="Publier un besoin, proposer une offre ou partager un exemple de partenariat.")


def render_site_forms(site_settings: Mapping[str, Any]) -> dict[str, FormPage]:
    """Output path (relative to the site root) -> inner ``<main>`` HTML with ``.title``."""
    base = str(site_settings.get("ASSOCIE_CONTRIBUTE_PATH", "contribuer")).strip("/") or "contribuer"
    pages = {f"{base}/index.html": render_index(site_settings)}
    for kind, form in FORMS.items():
        pages[f"{base}/{kind}/index.html"] = render_form_page(form, site_settings)
    return pages


__all__ = ["render_site_forms", "render_form_page", "render_index", "FormPage", "URL_LIMIT"]
