/* Asso'cie — instant filters of a listing and « près de chez moi ».
   No framework, no third party, no inline style (CSP style-src 'self').
   The page is complete without this script: every list item is in the HTML with data-*
   attributes (type, categorie, thematiques, region, departement, statut, taille, lat, lon);
   this script hides the items that do not match, sorts them by distance from a commune,
   and keeps the choice in the URL (?type=…&region=…&commune=21231-dijon&rayon=20) so that a
   filtered view can be shared and reloaded. The commune list (/geo/*.json, official
   geography) is fetched only when the visitor types in the commune field. */
(function () {
  "use strict";
  var form = document.getElementById("filtres");
  if (!form || !window.URLSearchParams || !window.fetch || !Array.prototype.forEach) { return; }

  var script = document.currentScript;
  var root = script ? script.src.replace(/static\/js\/filtres\.js(\?.*)?$/, "") : "../";
  var lists = Array.prototype.slice.call(document.querySelectorAll("[data-filtrable]"));
  var items = [];
  lists.forEach(function (list) {
    Array.prototype.forEach.call(list.children, function (li, i) { li.setAttribute("data-ordre", i); items.push(li); });
  });
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
  function appliquer() {
    limiterDepartements();
    var v = valeurs();
    var km = parseFloat(rayon.value) || 0;
    var o = origine && origine[4] !== null ? origine : null;
    var visibles = 0;
    items.forEach(function (li) {
      var ok = true;
      Object.keys(v).forEach(function (nom) {
        var attr = li.getAttribute("data-" + (ATTRIBUT[nom] || nom)) || "";
        if (nom === "thematique") { ok = ok && (" " + attr + " ").indexOf(" " + v[nom] + " ") >= 0; }
        else { ok = ok && attr === v[nom]; }
      });
      var d = null, lat = parseFloat(li.getAttribute("data-lat")), lon = parseFloat(li.getAttribute("data-lon"));
      if (o && !isNaN(lat) && !isNaN(lon)) { d = distance(o[4], o[5], lat, lon); }
      if (o && km && (d === null || d > km)) { ok = false; }
      li.hidden = !ok;
      li.setAttribute("data-distance", d === null ? "" : d.toFixed(1));
      var p = li.querySelector(".carte-distance");
      if (p) {
        p.hidden = d === null;
        p.textContent = d === null ? "" : (d < 1 ? "À moins de 1 km" : "À " + Math.round(d) + " km") + " de " + o[1];
      }
      if (ok) { visibles++; }
    });
    lists.forEach(function (list) {
      var lis = Array.prototype.slice.call(list.children);
      lis.sort(function (a, b) {
        if (o) {
          var da = a.getAttribute("data-distance"), db = b.getAttribute("data-distance");
          if (da !== db) {
            if (da === "") { return 1; }
            if (db === "") { return -1; }
            return parseFloat(da) - parseFloat(db);
          }
        }
        return a.getAttribute("data-ordre") - b.getAttribute("data-ordre");
      });
      lis.forEach(function (li) { list.appendChild(li); });
      var vide = list.nextElementSibling;
      if (vide && vide.classList.contains("vide-filtre")) { vide.hidden = lis.some(function (li) { return !li.hidden; }); }
    });
    var total = items.length;
    resultat.textContent = visibles === total && !o ? total + (total > 1 ? " entrées affichées." : " entrée affichée.")
      : visibles + " sur " + total + (total > 1 ? " entrées" : " entrée") +
        (o ? ", triées par distance de " + o[1] : "") + ".";
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

  form.hidden = false;
  if (window.matchMedia && window.matchMedia("(min-width: 64rem)").matches) {
    var plusFiltres = document.getElementById("plus-filtres");
    if (plusFiltres) { plusFiltres.open = true; }
  }
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  form.addEventListener("change", function (event) { if (event.target !== input) { appliquer(); } });
  form.addEventListener("reset", function () {
    origine = null; datalist.textContent = ""; etat.textContent = "";
    window.setTimeout(appliquer, 0);
  });
  input.addEventListener("input", proposer);
  input.addEventListener("change", proposer);
  restaurer();
}());
