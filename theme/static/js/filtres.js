/* Asso'cie — instant filters of a listing and « près de chez moi ».
   No framework, no third party, no inline style (CSP style-src 'self').
   The page is complete without this script: every list item is in the HTML with data-*
   attributes (type, categorie, thematiques, region, departement, statut, taille, lat, lon);
   this script hides the items that do not match, sorts them by distance from a commune,
   and keeps the choice in the URL (?type=…&region=…&commune=21231-dijon&rayon=20) so that a
   filtered view can be shared and reloaded. On a paginated listing (form data-index), the first
   filter or commune chosen fetches donnees/filtres-*.json (every entry of the listing, compact
   rows) and the matching cards of ALL pages are built from it with textContent (no innerHTML).
   The commune list (/geo/*.json, official
   geography) is fetched only when the visitor types in the commune field. */
(function () {
  "use strict";
  var form = document.getElementById("filtres");
  if (!form || !window.URLSearchParams || !window.fetch || !Array.prototype.forEach) { return; }

  var script = document.currentScript;
  var root = script ? script.src.replace(/static\/js\/filtres\.js(\?.*)?$/, "") : "../";
  var lists = Array.prototype.slice.call(document.querySelectorAll("[data-filtrable]"));
  /* An item is a card of this page ({li}) or, on a paginated listing once the visitor filters,
     a row of donnees/filtres-*.json ({row}) whose card is built on first display. */
  var pageItems = [];
  lists.forEach(function (list) {
    Array.prototype.forEach.call(list.children, function (li, i) {
      pageItems.push({ li: li, list: list, ordre: i });
    });
  });
  var items = pageItems;
  var indexFiles = (form.getAttribute("data-index") || "").split(" ").filter(Boolean);
  var allItems = null, loadingAll = null, complete = false;
  var LIMITE = 100, limite = LIMITE;
  var RESTRICTION = { type_de_soutien: "type", categorie: "categorie", thematiques: "thematiques" };
  var selects = Array.prototype.slice.call(form.querySelectorAll("select[name]:not([name=rayon])"));
  var input = document.getElementById("f-commune");
  var datalist = document.getElementById("f-communes");
  var rayon = document.getElementById("f-rayon");
  var etat = document.getElementById("f-commune-etat");
  var resultat = document.getElementById("filtres-resultat");
  var region = form.querySelector("select[name=region]");
  var departement = form.querySelector("select[name=departement]");
  var ATTRIBUT = { thematique: "thematiques" };
  var chunks = {};
  var proposees = {};
  var origine = null;   // [code, nom, dep, cps, lat, lon]

  function fold(text) {
    var s = String(text || "").replace(/[œŒ]/g, "oe").replace(/[æÆ]/g, "ae").normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/[^a-z0-9]+/g, " ").trim();
    return s.split(" ").map(function (w) { return w === "st" ? "saint" : w === "ste" ? "sainte" : w; }).join(" ");
  }
  function slug(text) { return fold(text).replace(/ /g, "-"); }
  function distance(lat1, lon1, lat2, lon2) {
    var r = Math.PI / 180, a = Math.sin((lat2 - lat1) * r / 2), b = Math.sin((lon2 - lon1) * r / 2);
    var h = a * a + Math.cos(lat1 * r) * Math.cos(lat2 * r) * b * b;
    return 2 * 6371.0088 * Math.asin(Math.min(1, Math.sqrt(h)));
  }
  function chunk(name) {
    if (!chunks[name]) {
      chunks[name] = fetch(root + "geo/" + name + ".json", { credentials: "same-origin" })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (rows) { rows.forEach(function (row) { row.push(fold(row[1])); }); return rows; })
        .catch(function () { delete chunks[name]; etat.textContent = "Liste des communes indisponible."; return []; });
    }
    return chunks[name];
  }
  function etiquette(row) { return row[1] + " (" + row[2] + ")"; }

  /* ---- autocomplete ---- */
  function proposer() {
    var texte = input.value.trim();
    if (proposees[texte]) { choisir(proposees[texte]); return; }
    var q = fold(texte);
    if (origine && texte !== etiquette(origine)) { origine = null; appliquer(); }
    var numerique = /^[0-9]/.test(q);
    if (q.length < (numerique ? 2 : 1)) { datalist.textContent = ""; return; }
    var nom = numerique ? "cp-" + q.slice(0, 2) : "communes-" + q.charAt(0);
    chunk(nom).then(function (rows) {
      if (fold(input.value.trim()) !== q) { return; }   // the visitor typed on
      var trouves = [];
      for (var i = 0; i < rows.length && trouves.length < 12; i++) {
        var row = rows[i];
        var ok = numerique ? (row[3].split(" ").some(function (cp) { return cp.indexOf(q) === 0; }) || row[0].indexOf(q) === 0)
          : (row[6].indexOf(q) === 0 || row[6].indexOf(" " + q) > 0);
        if (ok) { trouves.push(row); }
      }
      datalist.textContent = "";
      proposees = {};
      trouves.forEach(function (row) {
        var texte = etiquette(row);
        if (proposees[texte]) { texte += " – " + row[3].split(" ")[0]; }
        proposees[texte] = row;
        var option = document.createElement("option");
        option.value = texte;
        datalist.appendChild(option);
      });
      etat.textContent = trouves.length ? "" : "Aucune commune trouvée.";
      if (proposees[input.value.trim()]) { choisir(proposees[input.value.trim()]); }
    });
  }
  function choisir(row) {
    origine = row;
    etat.textContent = row[4] === null ? "Position inconnue pour cette commune." : "";
    appliquer();
  }

  /* ---- filtering ---- */
  function valeurs() {
    var v = {};
    selects.forEach(function (s) { if (s.value) { v[s.name] = s.value; } });
    return v;
  }
  function limiterDepartements() {
    if (!region || !departement) { return; }
    Array.prototype.forEach.call(departement.options, function (o) {
      var cache = !!(o.value && region.value && o.getAttribute("data-region") !== region.value);
      o.hidden = cache; o.disabled = cache;
    });
    if (departement.selectedOptions && departement.selectedOptions[0] && departement.selectedOptions[0].disabled) {
      departement.value = "";
    }
  }
  function attr(item, name) {
    if (!item.row) { return item.li.getAttribute("data-" + name) || ""; }
    var v = item.row[item.cols[name]];
    return v === null || v === undefined ? "" : String(v);
  }
  function element(tag, classe, texte) {
    var e = document.createElement(tag);
    if (classe) { e.className = classe; }
    if (texte) { e.textContent = texte; }
    return e;
  }
  var GENRE = { besoin: "Besoin", offre: "Offre", exemple: "Exemple", organisation: "Organisation" };
  /* The card of a JSON row, like the card macro of theme/templates/_macros.html (text only). */
  function carte(item) {
    if (item.li) { return item.li; }
    var kind = attr(item, "kind");
    var li = element("li", "carte carte-" + kind);
    var titre = element(item.list.getAttribute("data-niveau") || "h3", "carte-titre");
    var lien = element("a", "", attr(item, "titre"));
    lien.href = root + attr(item, "url");
    titre.appendChild(lien);
    li.appendChild(titre);
    var badges = element("p", "carte-badges");
    badges.appendChild(element("span", "badge badge-" + kind, GENRE[kind] || kind));
    if (attr(item, "badge")) { badges.appendChild(document.createTextNode(" ")); badges.appendChild(element("span", "badge badge-statut", attr(item, "badge"))); }
    if (attr(item, "fictif") === "1") { badges.appendChild(document.createTextNode(" ")); badges.appendChild(element("span", "badge badge-fictif", "Entrée fictive (démonstration)")); }
    li.appendChild(badges);
    ["meta", "org", "dates"].forEach(function (nom) {
      if (attr(item, nom)) { li.appendChild(element("p", "carte-" + nom, attr(item, nom))); }
    });
    var distance = element("p", "carte-distance");
    distance.hidden = true;
    li.appendChild(distance);
    item.li = li;
    return li;
  }
  function chargerTout() {
    if (!loadingAll) {
      resultat.textContent = "Chargement de toutes les entrées de la liste…";
      var champ = RESTRICTION[form.getAttribute("data-champ")] || "";
      var valeur = form.getAttribute("data-valeur") || "";
      loadingAll = Promise.all(indexFiles.map(function (f) {
        return fetch(f, { credentials: "same-origin" }).then(function (r) {
          if (!r.ok) { throw new Error(r.status); }
          return r.json();
        });
      })).then(function (fichiers) {
        var tous = [];
        fichiers.forEach(function (data) {
          var cols = {};
          data.colonnes.forEach(function (c, i) { cols[c] = i; });
          data.lignes.forEach(function (row) {
            var item = { row: row, cols: cols };
            var list = null;
            lists.forEach(function (l) { if (!list && (l.getAttribute("data-genre") || "") === attr(item, "kind")) { list = l; } });
            if (!list && lists.length === 1 && !lists[0].getAttribute("data-genre")) { list = lists[0]; }
            if (!list) { return; }
            if (champ && (" " + attr(item, champ) + " ").indexOf(" " + valeur + " ") < 0) { return; }
            item.list = list;
            item.ordre = tous.length;
            tous.push(item);
          });
        });
        // the cards of this page are reused (same entries, same nodes)
        var surPage = {};
        pageItems.forEach(function (it) {
          var a = it.li.querySelector(".carte-titre a");
          if (a) { surPage[a.getAttribute("href").replace(/^(\.\.\/)+|^\//, "")] = it.li; }
        });
        tous.forEach(function (it) {
          var url = attr(it, "url");
          Object.keys(surPage).forEach(function (k) { if (!it.li && k.slice(-url.length) === url) { it.li = surPage[k]; } });
        });
        allItems = tous;
        return tous;
      }).catch(function () {
        loadingAll = null;
        resultat.textContent = "La liste complète n'a pas pu être chargée : seules les entrées de cette page sont filtrées.";
        return null;
      });
    }
    return loadingAll;
  }
  function appliquer() {
    limiterDepartements();
    var v = valeurs();
    var km = parseFloat(rayon.value) || 0;
    var o = origine && origine[4] !== null ? origine : null;
    var actif = Object.keys(v).length > 0 || !!origine;
    if (indexFiles.length && actif && !allItems) {
      chargerTout().then(function (tous) { if (tous) { appliquer(); } });
      if (!allItems) { return; }
    }
    complete = !!(indexFiles.length && actif && allItems);
    items = complete ? allItems : pageItems;
    Array.prototype.forEach.call(document.querySelectorAll(".pagination, .vide-page"), function (e) { e.hidden = complete; });
    var visibles = 0;
    var retenus = [];
    items.forEach(function (item) {
      var ok = true;
      Object.keys(v).forEach(function (nom) {
        var val = attr(item, ATTRIBUT[nom] || nom);
        if (nom === "thematique") { ok = ok && (" " + val + " ").indexOf(" " + v[nom] + " ") >= 0; }
        else { ok = ok && val === v[nom]; }
      });
      var d = null, lat = parseFloat(attr(item, "lat")), lon = parseFloat(attr(item, "lon"));
      if (o && !isNaN(lat) && !isNaN(lon)) { d = distance(o[4], o[5], lat, lon); }
      if (o && km && (d === null || d > km)) { ok = false; }
      item.ok = ok;
      item.distance = d;
      if (ok) { visibles++; retenus.push(item); }
    });
    function ordre(a, b) {
      if (o && a.distance !== b.distance) {
        if (a.distance === null) { return 1; }
        if (b.distance === null) { return -1; }
        return a.distance - b.distance;
      }
      return a.ordre - b.ordre;
    }
    var tronque = false;
    lists.forEach(function (list) {
      var siens = (complete ? retenus : items).filter(function (it) { return it.list === list; }).sort(ordre);
      if (complete && siens.length > limite) { siens = siens.slice(0, limite); tronque = true; }
      var fragment = document.createDocumentFragment();
      siens.forEach(function (item) {
        var li = carte(item);
        li.hidden = !item.ok;
        li.setAttribute("data-distance", item.distance === null ? "" : item.distance.toFixed(1));
        var p = li.querySelector(".carte-distance");
        if (p) {
          p.hidden = item.distance === null;
          p.textContent = item.distance === null ? "" : (item.distance < 1 ? "À moins de 1 km" : "À " + Math.round(item.distance) + " km") + " de " + o[1];
        }
        fragment.appendChild(li);
      });
      list.textContent = "";
      list.appendChild(fragment);
      var vide = list.nextElementSibling;
      if (vide && vide.classList.contains("vide-filtre")) { vide.hidden = siens.some(function (it) { return it.ok; }); }
    });
    plus.hidden = !tronque;
    var total = items.length;
    resultat.textContent = visibles === total && !o ? total + (total > 1 ? " entrées affichées." : " entrée affichée.")
      : visibles + " sur " + total + (total > 1 ? " entrées" : " entrée") +
        (o ? ", triées par distance de " + o[1] : "") + "." +
        (tronque ? " Les " + limite + " premières de chaque liste sont affichées." : "");
    memoriser(v, km);
  }
  function memoriser(v, km) {
    var params = new URLSearchParams();
    Object.keys(v).forEach(function (nom) { params.set(nom, v[nom]); });
    if (origine) { params.set("commune", origine[0] + "-" + slug(origine[1])); }
    if (km) { params.set("rayon", String(km)); }
    var query = params.toString();
    var url = location.pathname + (query ? "?" + query : "") + location.hash;
    if (url !== location.pathname + location.search + location.hash) { history.replaceState(null, "", url); }
  }

  /* ---- start: restore the view from the URL ---- */
  function restaurer() {
    var params = new URLSearchParams(location.search);
    var plus = document.getElementById("plus-filtres");
    selects.concat([rayon]).forEach(function (s) {
      var value = params.get(s.name);
      if (value && Array.prototype.some.call(s.options, function (o) { return o.value === value; })) {
        s.value = value;
        if (plus && s !== rayon) { plus.open = true; }
      }
    });
    var commune = params.get("commune");
    var m = commune && /^([0-9AaBb]{5})-([a-z0-9-]+)$/.exec(commune);
    if (m) {
      chunk("communes-" + m[2].charAt(0)).then(function (rows) {
        var code = m[1].toUpperCase();
        for (var i = 0; i < rows.length; i++) {
          if (rows[i][0] === code) { input.value = etiquette(rows[i]); proposees[input.value] = rows[i]; choisir(rows[i]); return; }
        }
        appliquer();
      });
    }
    appliquer();
  }

  /* « Afficher plus » after the last list when a filtered complete listing is cut */
  var plus = element("button", "bouton-secondaire filtres-plus", "Afficher plus d'entrées");
  plus.type = "button";
  plus.hidden = true;
  plus.addEventListener("click", function () { limite += LIMITE; appliquer(); });
  if (lists.length) {
    var dernier = lists[lists.length - 1].closest(".groupe") || lists[lists.length - 1];
    dernier.parentNode.insertBefore(plus, dernier.nextSibling);
  }

  form.hidden = false;
  if (window.matchMedia && window.matchMedia("(min-width: 64rem)").matches) {
    var plusFiltres = document.getElementById("plus-filtres");
    if (plusFiltres) { plusFiltres.open = true; }
  }
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  form.addEventListener("change", function (event) { if (event.target !== input) { limite = LIMITE; appliquer(); } });
  form.addEventListener("reset", function () {
    origine = null; datalist.textContent = ""; etat.textContent = "";
    window.setTimeout(appliquer, 0);
  });
  input.addEventListener("input", proposer);
  input.addEventListener("change", proposer);
  restaurer();
}());
