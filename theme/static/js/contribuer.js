/* Asso'cie — the contribution forms (/contribuer/besoin/, /offre/, /exemple/).
   No framework, no third party, no inline script or style (CSP script-src 'self').
   The page is generated from the schemas by plugins/associe/site_forms.py; every constraint
   this script checks comes from data-* attributes written there.
   Nothing typed is stored (no cookie, no localStorage, no sessionStorage): the page stays
   open and each of the three sending buttons reads the form again.
   1. « Continuer sur GitHub »: the pre-filled issue form. Dropdown answers go in the
      « choix_du_site » field (GitHub cannot pre-fill a dropdown); the contact e-mail never
      goes into the URL; a URL over the limit (8,000 bytes) leaves the long texts to paste.
   2. « Envoyer par e-mail »: a mailto: with the YAML file(s).
   3. « Télécharger le fichier YAML ». */
(function () {
  "use strict";
  var form = document.getElementById("formulaire-contribution");
  if (!form || !String.prototype.normalize) { return; }

  var d = form.dataset;
  var script = document.currentScript;
  var root = script ? script.src.replace(/[^\/]+\/js\/contribuer\.js(\?.*)?$/, "") : "../../";
  var controls = Array.prototype.slice.call(form.querySelectorAll("[data-champ]"));
  var summary = document.getElementById("erreurs");
  var resultat = document.getElementById("resultat");
  var copier = document.getElementById("copier");
  var NOUVELLE_ORGA = "nouvelle-organisation";

  /* ---------------------------------------------------------------- text helpers */
  function normalise(text, oneLine) {
    var s = String(text || "").normalize("NFC").replace(/\r\n?/g, "\n").replace(/[\u2028\u2029]/g, "\n")
      .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b\u2060\ufeff]/g, "");
    if (oneLine) { return s.replace(/\s+/g, " ").trim(); }
    return s.split("\n").map(function (l) { return l.replace(/\s+$/, ""); }).join("\n")
      .replace(/\n{3,}/g, "\n\n").trim();
  }
  function fold(text) {
    var s = String(text || "").replace(/[œŒ]/g, "oe").replace(/[æÆ]/g, "ae").normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/[^a-z0-9]+/g, " ").trim();
    return s.split(" ").map(function (w) { return w === "st" ? "saint" : w === "ste" ? "sainte" : w; }).join(" ");
  }
  function slug(text) {
    var s = fold(text).replace(/ /g, "-");
    if (s.length > 80) { s = s.slice(0, 80).replace(/-[^-]*$/, ""); }
    return s.replace(/^-+|-+$/g, "");
  }
  function length(text) { return Array.from(text).length; }
  function today() {
    var t = new Date();
    return t.getFullYear() + "-" + String(t.getMonth() + 1).padStart(2, "0") + "-" + String(t.getDate()).padStart(2, "0");
  }
  function inOneYear(iso) {
    var p = iso.split("-"), y = +p[0] + 1, m = p[1], j = p[2];
    if (m === "02" && j === "29") { j = "28"; }
    return y + "-" + m + "-" + j;
  }

  /* ---------------------------------------------------------------- reading the form */
  function control(id) {
    for (var i = 0; i < controls.length; i++) { if (controls[i].getAttribute("data-champ") === id) { return controls[i]; } }
    return null;
  }
  function isMultiple(c) { return c.tagName === "FIELDSET"; }
  function value(c) {
    if (!c) { return ""; }
    if (isMultiple(c)) {
      return Array.prototype.filter.call(c.querySelectorAll("input[type=checkbox]"), function (b) { return b.checked; })
        .map(function (b) { return b.value; });
    }
    var oneLine = c.tagName !== "TEXTAREA";
    return normalise(c.value, oneLine);
  }
  function valueOf(id) { return value(control(id)); }
  function isEmpty(v) { return Array.isArray(v) ? v.length === 0 : v === ""; }
  function newOrganisation() { return (d.type === "besoin" || d.type === "offre") && valueOf("organisation") === ""; }
  function label(c) { return c.getAttribute("data-libelle") || c.name; }

  /* ---------------------------------------------------------------- commune autocomplete */
  var chunks = {};
  function chunk(name) {
    if (!chunks[name]) {
      chunks[name] = fetch(root + "geo/" + name + ".json", { credentials: "same-origin" })
        .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
        .then(function (rows) { rows.forEach(function (row) { row.push(fold(row[1])); }); return rows; })
        .catch(function () { delete chunks[name]; return []; });
    }
    return chunks[name];
  }
  function etiquette(row) { return row[1] + " (" + row[2] + ")"; }
  function communeScale(c) {
    if (c.getAttribute("data-conversion") === "commune") { return true; }
    var e = control("echelle");
    return !!e && e.value === "commune";
  }
  function suggest(c) {
    var list = document.getElementById(c.id + "-liste");
    var etat = document.getElementById(c.id + "-etat");
    var texte = c.value.trim();
    c.proposees = c.proposees || {};
    if (c.proposees[texte]) { c.setAttribute("data-code", c.proposees[texte][0]); return; }
    c.removeAttribute("data-code");
    if (!communeScale(c)) { list.textContent = ""; return; }
    var q = fold(texte), numerique = /^[0-9]/.test(q);
    if (q.length < (numerique ? 2 : 1)) { list.textContent = ""; return; }
    chunk(numerique ? "cp-" + q.slice(0, 2) : "communes-" + q.charAt(0)).then(function (rows) {
      if (fold(c.value.trim()) !== q) { return; }
      var found = [];
      for (var i = 0; i < rows.length && found.length < 12; i++) {
        var row = rows[i];
        var ok = numerique ? (row[3].split(" ").some(function (cp) { return cp.indexOf(q) === 0; }) || row[0].indexOf(q) === 0)
          : (row[6].indexOf(q) === 0 || row[6].indexOf(" " + q) > 0);
        if (ok) { found.push(row); }
      }
      list.textContent = "";
      c.proposees = {};
      found.forEach(function (row) {
        var t = etiquette(row);
        if (c.proposees[t]) { t += " – " + row[3].split(" ")[0]; }
        c.proposees[t] = row;
        var option = document.createElement("option");
        option.value = t;
        list.appendChild(option);
      });
      etat.textContent = found.length ? "" : "Aucune commune trouvée : vérifiez l'orthographe ou tapez le code postal.";
      if (c.proposees[c.value.trim()]) { c.setAttribute("data-code", c.proposees[c.value.trim()][0]); }
    });
  }
  /* The text sent for a commune: « Dijon (21231) » once chosen in the list (the bot reads the
     INSEE code in it), else what was typed. */
  function communeText(c) {
    var code = c.getAttribute("data-code");
    var row = code && c.proposees ? Object.keys(c.proposees).map(function (k) { return c.proposees[k]; })
      .filter(function (r) { return r[0] === code; })[0] : null;
    return row ? row[1] + " (" + row[0] + ")" : value(c);
  }
  controls.forEach(function (c) {
    if (c.getAttribute("data-commune")) { c.addEventListener("input", function () { suggest(c); }); }
  });

  /* ---------------------------------------------------------------- checks */
  function fieldErrors() {
    var errors = [];
    function add(c, message) { errors.push({ c: c, message: message }); }
    controls.forEach(function (c) {
      var v = value(c), conv = c.getAttribute("data-conversion");
      var required = c.required || c.getAttribute("data-requis") === "1" ||
        (c.getAttribute("data-requis-si") === NOUVELLE_ORGA && newOrganisation());
      if (conv === "commitments") {
        var boxes = c.querySelectorAll("input[type=checkbox]");
        Array.prototype.forEach.call(boxes, function (b) {
          if (!b.checked) { add(c, "Cochez la case « " + b.nextElementSibling.textContent + " »."); }
        });
        return;
      }
      if (isEmpty(v)) { if (required) { add(c, "Cette réponse est obligatoire."); } return; }
      if (isMultiple(c)) {
        var min = +c.getAttribute("data-minitems") || 0, max = +c.getAttribute("data-maxitems") || 99;
        if (v.length < min) { add(c, "Choisissez-en au moins " + min + "."); }
        if (v.length > max) { add(c, "Choisissez-en " + max + " au plus."); }
        return;
      }
      var minL = c.getAttribute("data-minlength"), maxL = c.getAttribute("data-maxlength");
      if (minL && length(v) < +minL) { add(c, "Texte trop court : au moins " + minL + " caractères (actuellement " + length(v) + ")."); }
      if (maxL && length(v) > +maxL) { add(c, "Texte trop long : " + maxL + " caractères au plus (actuellement " + length(v) + ")."); }
      var pattern = c.getAttribute("data-pattern");
      if (pattern) {
        var re = null;
        try { re = new RegExp(pattern, "u"); } catch (ignore) { re = null; }
        if (re && !re.test(v)) {
          if (/\^https/.test(pattern)) { add(c, "Donnez une adresse complète commençant par https://"); }
          else if (/@/.test(pattern)) { add(c, "Ce n'est pas une adresse e-mail valide (ex. contact@mon-asso.fr)."); }
          else if (/a-z0-9/.test(pattern)) { add(c, "Identifiant : lettres minuscules sans accent, chiffres et tirets."); }
          else { add(c, "Le texte contient un caractère invisible ou interdit : retapez-le sans copier-coller."); }
        }
      }
      if ((conv === "text" || conv === "line" || conv === "partners" || conv === "quantity") &&
          c.getAttribute("data-champ") !== "org_email") {
        /* the same rule as the validator (no personal data in texts), and no e-mail in the GitHub URL */
        if (/[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+/.test(v)) {
          add(c, "Pas d'adresse e-mail ici : le contact de l'organisation va dans son champ « E-mail de contact ».");
        }
        if (/(^|[^\d])(\+33[\s.-]?|0033[\s.-]?|0)[1-9]([\s.-]?\d{2}){4}(?!\d)/.test(v)) {
          add(c, "Pas de numéro de téléphone ici : le contact passe par le canal de l'organisation.");
        }
      }
      if (conv === "int") {
        var n = Number(v), lo = c.getAttribute("data-minimum"), hi = c.getAttribute("data-maximum");
        if (!/^\d+$/.test(v)) { add(c, "Écrivez un nombre entier, sans unité."); }
        else if ((lo && n < +lo) || (hi && n > +hi)) { add(c, "Le nombre doit être entre " + lo + " et " + hi + "."); }
      }
      if (conv === "date" && !/^\d{4}-\d{2}-\d{2}$/.test(v)) { add(c, "Choisissez une date dans le calendrier."); }
      if (conv === "quantity" && !/^\d[\d\s]*\s*\S/.test(v)) { add(c, "Un nombre suivi de l'unité (ex. « 12 ordinateurs portables »)."); }
      if (conv === "official_numbers") {
        v.split(/[,;]/).forEach(function (part) {
          var p = part.replace(/[\s.\-]/g, "").toUpperCase();
          if (p && !/^(W[0-9A-Z]\d{8}|\d{9}|\d{14})$/.test(p)) {
            add(c, "« " + part.trim() + " » n'est ni un SIREN (9 chiffres), ni un SIRET (14), ni un RNA (W + 9 caractères).");
          }
        });
      }
    });
    /* rules across fields */
    var until = control("valable_jusqu_au");
    if (until && valueOf("valable_jusqu_au")) {
      var u = valueOf("valable_jusqu_au"), t = today();
      if (u < t) { add(until, "Cette date est déjà passée."); }
      else if (u > inOneYear(t)) { add(until, "Une annonce vaut un an au plus : choisissez une date avant le " + inOneYear(t).split("-").reverse().join("/") + "."); }
      var from = valueOf("disponible_a_partir_du");
      if (from && from > u) { add(control("disponible_a_partir_du"), "Cette date est après la date de fin."); }
    }
    var portee = control("portee");
    if (portee) {
      var rayon = valueOf("rayon_km");
      if (portee.value === "rayon" && !rayon) { add(control("rayon_km"), "Avec un rayon, indiquez le nombre de kilomètres."); }
      if (portee.value && portee.value !== "rayon" && rayon) { add(control("rayon_km"), "Le rayon ne sert qu'avec la portée « Dans un rayon autour de la commune » : videz ce champ."); }
    }
    if (newOrganisation() && !valueOf("org_email") && !valueOf("org_formulaire")) {
      add(control("org_email"), "Donnez l'e-mail de l'organisation ou l'adresse de sa page de contact.");
    }
    if (newOrganisation() && !valueOf("org_taille") && valueOf("org_nature") === "entreprise") {
      add(control("org_taille"), "Pour une entreprise, indiquez sa taille.");
    }
    var echelle = control("echelle");
    if (echelle && echelle.value && echelle.value !== "national" && !valueOf("territoire")) {
      add(control("territoire"), "Indiquez la commune, le département ou la région.");
    }
    if (control("apport_partenaire_2") && valueOf("apport_partenaire_2") && !valueOf("partenaire_2_nom")) {
      add(control("partenaire_2_nom"), "Indiquez le nom du partenaire 2.");
    }
    return errors;
  }

  function showErrors(errors) {
    controls.forEach(function (c) {
      var p = document.getElementById("erreur-" + c.getAttribute("data-champ"));
      if (p) { p.hidden = true; p.textContent = ""; }
      c.removeAttribute("aria-invalid");
    });
    var list = summary.querySelector("ul");
    list.textContent = "";
    errors.forEach(function (err) {
      var id = err.c.getAttribute("data-champ");
      var p = document.getElementById("erreur-" + id);
      if (p) { p.textContent = p.textContent ? p.textContent + " " + err.message : err.message; p.hidden = false; }
      err.c.setAttribute("aria-invalid", "true");
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = "#" + err.c.id;
      a.textContent = label(err.c) + " : " + err.message;
      li.appendChild(a);
      list.appendChild(li);
    });
    summary.hidden = errors.length === 0;
    if (errors.length) { summary.focus(); }
    return errors.length === 0;
  }

  /* ---------------------------------------------------------------- the entry as YAML */
  function set(obj, path, v) {
    var steps = path.split("."), o = obj;
    for (var i = 0; i < steps.length - 1; i++) { o[steps[i]] = o[steps[i]] || {}; o = o[steps[i]]; }
    o[steps[steps.length - 1]] = v;
  }
  function optionValue(selectId, text) {
    var s = control(selectId), f = fold(text), found = null;
    if (!s) { return null; }
    Array.prototype.forEach.call(s.options, function (o) { if (o.value && (fold(o.textContent) === f || fold(o.value) === f)) { found = o.value; } });
    return found;
  }
  function entries() {
    var entry = {}, org = {}, kind = d.type;
    controls.forEach(function (c) {
      var v = value(c), conv = c.getAttribute("data-conversion");
      var paths = (c.getAttribute("data-chemins") || "").split(" ").filter(Boolean);
      if (isEmpty(v) || !paths.length || paths[0].indexOf("[]") >= 0 || conv === "partners" || conv === "commitments") { return; }
      var target = paths[0].indexOf("org:") === 0 ? org : entry;
      var path = paths[0].replace(/^org:/, "");
      if (conv === "int") { v = parseInt(v, 10); }
      else if (conv === "yes_no") { v = v === "oui"; }
      else if (conv === "identifier") { v = v.toLowerCase().split("/").filter(Boolean).pop(); }
      else if (conv === "commune" || (conv === "territory_code" && communeScale(c))) { v = c.getAttribute("data-code") || v; }
      else if (conv === "quantity") {
        var m = /^(\d[\d\s]*)\s*(.+)$/.exec(v);
        if (m) { set(entry, "quantite.valeur", parseInt(m[1].replace(/\s/g, ""), 10)); set(entry, "quantite.unite", m[2]); }
        return;
      } else if (conv === "official_numbers") {
        v.split(/[,;]/).forEach(function (part) {
          var p = part.replace(/[\s.\-]/g, "").toUpperCase();
          if (/^W/.test(p)) { org.rna = p; } else if (p.length === 9) { org.siren = p; } else if (p.length === 14) { org.siret = p; }
        });
        return;
      }
      set(target, path, v);
    });
    entry.identifiant = slug(entry.titre || "") || kind;
    if (kind === "besoin" || kind === "offre") {
      entry.date_publication = today();
      entry.statut = "ouvert";
      if (!entry.organisation && org.nom) {
        org.identifiant = slug(org.nom);
        if (!org.thematiques && entry.thematiques) { org.thematiques = entry.thematiques.slice(); }
        entry.organisation = org.identifiant;
      } else { org = null; }
    } else {
      org = null;
      var partenaires = [], apports = [];
      [1, 2].forEach(function (n) {
        var nom = valueOf("partenaire_" + n + "_nom");
        if (!nom) { return; }
        var p = { nom: nom, nature: valueOf("partenaire_" + n + "_nature") };
        var ident = valueOf("partenaire_" + n + "_organisation");
        if (ident) { p.organisation = ident.toLowerCase(); }
        partenaires.push(p);
        var apport = valueOf("apport_partenaire_" + n);
        if (apport) { apports.push({ partenaire: nom, texte: apport }); }
      });
      valueOf("autres_partenaires").split("\n").forEach(function (line) {
        var i = line.lastIndexOf(";");
        if (i > 0) { partenaires.push({ nom: line.slice(0, i).replace(/^[-*•\s]+/, "").trim(), nature: optionValue("partenaire_1_nature", line.slice(i + 1)) || line.slice(i + 1).trim() }); }
      });
      if (partenaires.length) { entry.partenaires = partenaires; }
      if (apports.length) { entry.apports = apports; }
      if (entry.territoire && entry.territoire.echelle === "national") { delete entry.territoire.code; }
    }
    var files = [{ path: "content/" + d.dossier + "/" + entry.identifiant + ".yaml", text: yaml(ordered(entry, d.ordre), 0) }];
    if (org) { files.push({ path: "content/organisations/" + org.identifiant + ".yaml", text: yaml(ordered(org, d.ordreOrganisation), 0) }); }
    return files;
  }
  function ordered(obj, order) {
    var out = {};
    order.split(" ").forEach(function (k) { if (k in obj) { out[k] = obj[k]; } });
    Object.keys(obj).forEach(function (k) { if (!(k in out)) { out[k] = obj[k]; } });
    return out;
  }
  /* JSON strings are valid YAML double-quoted scalars: every text is written quoted, so that
     no value can turn into a number, a boolean or a date. */
  function scalar(v) { return typeof v === "string" ? JSON.stringify(v) : String(v); }
  function yaml(obj, indent) {
    var pad = "  ".repeat(indent), out = "";
    Object.keys(obj).forEach(function (k) {
      var v = obj[k];
      if (v === undefined || v === null || v === "" || (Array.isArray(v) && !v.length)) { return; }
      if (Array.isArray(v)) {
        out += pad + k + ":\n";
        v.forEach(function (item) {
          if (item && typeof item === "object") { out += pad + "  - " + yaml(item, indent + 2).slice((indent + 2) * 2); }
          else { out += pad + "  - " + scalar(item) + "\n"; }
        });
      } else if (typeof v === "object") { out += pad + k + ":\n" + yaml(v, indent + 1); }
      else { out += pad + k + ": " + scalar(v) + "\n"; }
    });
    return out;
  }

  /* ---------------------------------------------------------------- sending */
  function clear() { resultat.textContent = ""; resultat.hidden = true; copier.hidden = true; }
  function say(nodes) {
    resultat.textContent = "";
    nodes.forEach(function (n) { resultat.appendChild(n); });
    resultat.hidden = false;
  }
  function para(text, link, href) {
    var p = document.createElement("p");
    p.appendChild(document.createTextNode(text));
    if (link) {
      var a = document.createElement("a");
      a.href = href; a.textContent = link; a.rel = "noopener";
      if (/^https:/.test(href)) { a.target = "_blank"; }
      p.appendChild(document.createTextNode(" "));
      p.appendChild(a);
    }
    return p;
  }
  function githubUrl(skipTexts) {
    var params = [["template", d.modele], ["title", d.prefixeTitre + valueOf("title")]];
    var choices = [];
    controls.forEach(function (c) {
      var id = c.getAttribute("data-champ"), conv = c.getAttribute("data-conversion"), v = value(c);
      if (id === "title" || conv === "commitments" || isEmpty(v)) { return; }
      if (c.tagName === "SELECT" || isMultiple(c)) { choices.push(id + ": " + (Array.isArray(v) ? v.join(", ") : v)); return; }
      if (c.getAttribute("data-hors-url")) { return; }
      if (skipTexts && c.tagName === "TEXTAREA") { return; }
      params.push([id, c.getAttribute("data-commune") ? communeText(c) : v]);
    });
    if (choices.length) { params.push(["choix_du_site", choices.join("\n")]); }
    return "https://github.com/" + d.depot + "/issues/new?" + params.map(function (p) {
      return encodeURIComponent(p[0]) + "=" + encodeURIComponent(p[1]);
    }).join("&");
  }
  function toGithub() {
    var limit = +d.limiteUrl || 8000;
    var url = githubUrl(false), tooLong = url.length > limit;
    copier.hidden = true;
    if (tooLong) {
      url = githubUrl(true);
      var box = document.getElementById("copier-champs");
      box.textContent = "";
      controls.forEach(function (c) {
        if (c.tagName !== "TEXTAREA" || !value(c)) { return; }
        var id = "copie-" + c.getAttribute("data-champ");
        var l = document.createElement("label"); l.htmlFor = id; l.textContent = label(c);
        var t = document.createElement("textarea"); t.id = id; t.readOnly = true; t.rows = 5; t.value = value(c);
        box.appendChild(l); box.appendChild(t);
      });
      copier.hidden = false;
    }
    if (url.length > limit) { url = "https://github.com/" + d.depot + "/issues/new?template=" + encodeURIComponent(d.modele); }
    var notes = [para("Le formulaire GitHub s'ouvre dans un nouvel onglet. Sur GitHub, cochez les engagements" +
      (valueOf("org_email") ? ", recopiez l'e-mail de contact de l'organisation (il ne passe pas par l'adresse de la page)" : "") +
      (tooLong ? ", collez les textes ci-dessous" : "") + ", puis cliquez sur « Create »." , "Ouvrir le formulaire GitHub", url)];
    say(notes);
    window.open(url, "_blank", "noopener");
  }
  function download(file) {
    var blob = new Blob([file.text], { type: "application/yaml;charset=utf-8" });
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = file.path.split("/").pop();
    a.textContent = "Télécharger " + a.download;
    return a;
  }
  function toYaml() {
    var files = entries();
    var nodes = [para("Le fichier est prêt. Joignez-le à un e-mail aux mainteneurs" + (d.courriel ? " (" + d.courriel + ")" : "") +
      ", ou ajoutez-le dans le dossier indiqué si vous utilisez git :")];
    var ul = document.createElement("ul");
    files.forEach(function (f) {
      var li = document.createElement("li");
      li.appendChild(download(f));
      li.appendChild(document.createTextNode(" → " + f.path));
      ul.appendChild(li);
    });
    nodes.push(ul);
    say(nodes);
    ul.querySelector("a").click();
  }
  function toEmail() {
    var files = entries();
    var subject = "[Asso'cie] " + d.prefixeTitre + valueOf("title");
    var body = "Bonjour,\n\nVoici une proposition pour Asso'cie. Je suis habilité(e) à représenter cette structure et " +
      "j'accepte la charte de contribution.\n\n" + files.map(function (f) { return "# " + f.path + "\n" + f.text; }).join("\n");
    var href = "mailto:" + d.courriel + "?subject=" + encodeURIComponent(subject) + "&body=" + encodeURIComponent(body);
    if (href.length > 1900) {
      href = "mailto:" + d.courriel + "?subject=" + encodeURIComponent(subject) + "&body=" +
        encodeURIComponent("Bonjour,\n\nVoici une proposition pour Asso'cie (fichier(s) joint(s)).\n");
      toYaml();
      resultat.insertBefore(para("Le texte est long : votre messagerie s'ouvre avec un message court. Joignez-y le(s) fichier(s) téléchargé(s)."), resultat.firstChild);
    } else {
      say([para("Votre messagerie s'ouvre avec le message prêt à envoyer. Si rien ne s'ouvre, utilisez « Télécharger le fichier YAML » et écrivez à " + d.courriel + ".")]);
    }
    window.location.href = href;
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-envoi]") : null;
    if (!button) { return; }
    clear();
    if (!showErrors(fieldErrors())) { return; }
    var how = button.getAttribute("data-envoi");
    if (how === "github") { toGithub(); } else if (how === "courriel") { toEmail(); } else { toYaml(); }
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); });
}());
