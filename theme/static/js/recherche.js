/* Asso'cie — the search page (/recherche/) on Pagefind's JS API, without Pagefind's UI.

   Why not Pagefind's UI: it loads every filter file up front, which costs about 350 KB per search
   on a 10,000-entry site. Here a search loads only the index chunks of the words typed and the
   fragments of the results shown; the filter values (pagefind.filters()) are loaded only when the
   visitor opens the « Filtrer » panel, and a chosen filter loads only its own file.

   The index comes in several Pagefind bundles ("lots", see plugins/associe/indexing.py): the main
   bundle /pagefind/ (scripts, WebAssembly) lists the others in associe-lots.json, and each is
   merged with Pagefind's mergeIndex, tagged with a synthetic filter « lot ». Results by relevance
   come merged by Pagefind; « newest first » is sorted within each bundle only, so each lot is
   searched on its own and the lists are merged here by the date in each result's metadata,
   loading only the fragments of the results shown (and of the next one of each lot).

   The query, the order and the filters are reflected in the URL (?q=…&tri=date&region=…), so a
   search can be shared; the header's search box submits to /recherche/?q=….
   No innerHTML with data: results are built from DOM nodes and textContent, and Pagefind's excerpt
   (text with <mark>) is parsed off-document and copied back as text and <mark> only. */
(function () {
  "use strict";

  // Pagefind filter name → URL parameter (the names are those of the data-pagefind-filter attributes)
  var FILTRES = [
    ["Type", "type"], ["Catégorie", "categorie"], ["Type de soutien", "soutien"],
    ["Région", "region"], ["Département", "departement"], ["Taille", "taille"]
  ];
  var GENRES = { "Besoin": "besoin", "Offre": "offre", "Exemple": "exemple", "Organisation": "organisation" };
  var PAR_PAGE = 10;
  var ATTENTE_MS = 250;
  var MANIFESTE = "associe-lots.json";
  var FILTRE_LOT = "lot";    // synthetic filter given to each merged bundle (mergeIndex's mergeFilter)

  var formulaire, champ, tri, panneau, zoneFiltres, etat, liste, suite;
  var pagefind = null, chargement = null, lots = [], dates = [];   // lots; those with a date
  var choisis = {};          // filter name → value (from the URL or the panel)
  var filtresCharges = false;
  var total = 0, montres = 0, numero = 0, minuterie = null;
  var prochains = null;      // n -> Promise of the data of the next n results, in display order

  /** The lots listed by the main bundle (none on a site indexed in a single bundle). */
  function lireLots(base) {
    return window.fetch(new URL(MANIFESTE, base).href, { cache: "no-cache" }).then(function (reponse) {
      return reponse.ok ? reponse.json() : { lots: [] };
    }).then(function (manifeste) {
      return (manifeste && Array.isArray(manifeste.lots) ? manifeste.lots : []).filter(function (lot) {
        return lot && /^[a-z0-9-]+$/.test(String(lot.nom));
      });
    }, function () { return []; });
  }

  function charger() {
    if (!chargement) {
      var bundle = formulaire.getAttribute("data-bundle") || "/pagefind/";
      var base = new URL(bundle, window.location.href).href;
      var adresse = new URL("pagefind.js", base).href;
      chargement = import(adresse).then(function (module) {
        pagefind = module;
        return Promise.all([module.options({ bundlePath: base }), lireLots(base)]).then(function (r) {
          lots = r[1].map(function (lot) { return String(lot.nom); });
          dates = r[1].filter(function (lot) {
            return Array.isArray(lot.tris) && lot.tris.indexOf("date") >= 0;
          }).map(function (lot) { return String(lot.nom); });
          // merged in the manifest's order, so that results of equal score keep a stable order
          return Promise.all(lots.map(function (nom) {
            var filtre = {};
            filtre[FILTRE_LOT] = nom;
            return module.mergeIndex(new URL(nom + "/", base).href, { mergeFilter: filtre });
          }));
        }).then(function () { return module; });
      });
      chargement.catch(function () {
        var indisponible = document.getElementById("recherche-indisponible");
        if (indisponible) { indisponible.hidden = false; }
        formulaire.hidden = true;
      });
    }
    return chargement;
  }

  // ---------------------------------------------------------------- URL
  function lireAdresse() {
    var params = new URLSearchParams(window.location.search);
    champ.value = params.get("q") || "";
    tri.value = params.get("tri") === "date" ? "date" : "";
    choisis = {};
    FILTRES.forEach(function (f) {
      var v = params.get(f[1]);
      if (v) { choisis[f[0]] = v; }
    });
  }

  function ecrireAdresse() {
    var params = new URLSearchParams();
    var q = champ.value.trim();
    if (q) { params.set("q", q); }
    if (tri.value === "date") { params.set("tri", "date"); }
    FILTRES.forEach(function (f) { if (choisis[f[0]]) { params.set(f[1], choisis[f[0]]); } });
    var chaine = params.toString();
    var adresse = window.location.pathname + (chaine ? "?" + chaine : "");
    if (adresse !== window.location.pathname + window.location.search) {
      window.history.replaceState(null, "", adresse);
    }
  }

  // ---------------------------------------------------------------- filters panel
  function chargerFiltres() {
    if (filtresCharges) { return; }
    filtresCharges = true;
    charger().then(function (pf) { return pf.filters(); }).then(function (valeurs) {
      zoneFiltres.textContent = "";
      FILTRES.forEach(function (f, i) {
        var options = Object.keys(valeurs[f[0]] || {}).sort(function (a, b) { return a.localeCompare(b, "fr"); });
        if (choisis[f[0]] && options.indexOf(choisis[f[0]]) < 0) { options.unshift(choisis[f[0]]); }
        if (!options.length) { return; }
        var bloc = document.createElement("div");
        bloc.className = "champ";
        var etiquette = document.createElement("label");
        etiquette.htmlFor = "filtre-" + f[1];
        etiquette.textContent = f[0];
        var select = document.createElement("select");
        select.id = "filtre-" + f[1];
        select.name = f[1];
        var tous = document.createElement("option");
        tous.value = "";
        tous.textContent = "Tous";
        select.appendChild(tous);
        options.forEach(function (v) {
          var o = document.createElement("option");
          o.value = v;
          o.textContent = v + (valeurs[f[0]] && valeurs[f[0]][v] ? " (" + valeurs[f[0]][v] + ")" : "");
          select.appendChild(o);
        });
        select.value = choisis[f[0]] || "";
        select.addEventListener("change", function () {
          if (select.value) { choisis[f[0]] = select.value; } else { delete choisis[f[0]]; }
          lancer(0);
        });
        bloc.appendChild(etiquette);
        bloc.appendChild(select);
        zoneFiltres.appendChild(bloc);
        return i;
      });
    }).catch(function () {
      filtresCharges = false;
      zoneFiltres.textContent = "Les filtres n'ont pas pu être chargés.";
    });
  }

  // ---------------------------------------------------------------- results
  /** Pagefind's excerpt is HTML text with <mark>: keep its text and the <mark>s, nothing else. */
  function extrait(html) {
    var fragment = document.createDocumentFragment();
    var doc = new DOMParser().parseFromString("<body>" + html + "</body>", "text/html");
    (function copier(noeud) {
      Array.prototype.forEach.call(noeud.childNodes, function (enfant) {
        if (enfant.nodeType === 3) {
          fragment.appendChild(document.createTextNode(enfant.nodeValue));
        } else if (enfant.nodeType === 1 && enfant.nodeName === "MARK") {
          var mark = document.createElement("mark");
          mark.textContent = enfant.textContent;
          fragment.appendChild(mark);
        } else if (enfant.nodeType === 1) {
          copier(enfant);
        }
      });
    }(doc.body));
    return fragment;
  }

  function badge(texte, classe) {
    var span = document.createElement("span");
    span.className = "badge " + classe;
    span.textContent = texte;
    return span;
  }

  function premier(filtres, nom) {
    var v = filtres && filtres[nom];
    return Array.isArray(v) ? v[0] : v;
  }

  function sur(adresse) {
    // only same-origin links (Pagefind's URLs are site paths)
    try {
      var u = new URL(adresse, window.location.href);
      return u.origin === window.location.origin ? u.href : null;
    } catch (e) { return null; }
  }

  function element(donnees) {
    var li = document.createElement("li");
    var genreLibelle = premier(donnees.filters, "Type");
    var genre = GENRES[genreLibelle] || "";
    li.className = "resultat carte" + (genre ? " carte-" + genre : "");
    var titre = document.createElement("h2");
    titre.className = "resultat-titre carte-titre";
    var lien = document.createElement("a");
    var cible = sur(donnees.url);
    if (cible) { lien.href = cible; }
    lien.textContent = (donnees.meta && donnees.meta.title) || donnees.url;
    titre.appendChild(lien);
    li.appendChild(titre);
    var badges = document.createElement("p");
    badges.className = "resultat-badges";
    if (genreLibelle) { badges.appendChild(badge(genreLibelle, "badge-" + (genre || "statut"))); }
    var soutien = premier(donnees.filters, "Type de soutien");
    if (soutien) { badges.appendChild(badge(soutien, "badge-statut")); }
    var lieu = premier(donnees.filters, "Département") || premier(donnees.filters, "Région");
    var region = premier(donnees.filters, "Région");
    if (lieu) { badges.appendChild(badge(lieu + (region && region !== lieu ? " · " + region : ""), "badge-statut")); }
    if (badges.childNodes.length) { li.appendChild(badges); }
    if (donnees.excerpt) {
      var p = document.createElement("p");
      p.className = "resultat-extrait";
      p.appendChild(extrait(donnees.excerpt));
      li.appendChild(p);
    }
    return li;
  }

  /** Results in Pagefind's order: the data of the next ones, n at a time. */
  function parOrdre(resultats) {
    var pris = 0;
    return function (n) {
      var lot = resultats.slice(pris, pris + n);
      pris += lot.length;
      return Promise.all(lot.map(function (r) { return r.data(); }));
    };
  }

  function dateDe(donnees) {
    return (donnees && donnees.meta && donnees.meta.date) || "";
  }

  /** Lists each sorted newest first (one per lot), merged by date; only the data of the first
      result not yet shown of each list is loaded. */
  function parDate(listes) {
    var curseurs = listes.map(function () { return 0; });
    var tetes = listes.map(function () { return null; });
    function tete(i) {
      if (curseurs[i] >= listes[i].length) { return Promise.resolve(null); }
      if (!tetes[i]) { tetes[i] = listes[i][curseurs[i]].data(); }
      return tetes[i];
    }
    return function (n) {
      var pris = [];
      function suivant() {
        if (pris.length >= n) { return Promise.resolve(pris); }
        return Promise.all(listes.map(function (_, i) { return tete(i); })).then(function (donnees) {
          var meilleur = -1;
          donnees.forEach(function (d, i) {
            if (d && (meilleur < 0 || dateDe(d) > dateDe(donnees[meilleur]))) { meilleur = i; }
          });
          if (meilleur < 0) { return pris; }
          pris.push(donnees[meilleur]);
          curseurs[meilleur] += 1;
          tetes[meilleur] = null;
          return suivant();
        });
      }
      return suivant();
    };
  }

  function afficherSuite(mon) {
    if (!prochains) { return Promise.resolve(); }
    return prochains(PAR_PAGE).then(function (donnees) {
      if (mon !== numero) { return; }
      var fragment = document.createDocumentFragment();
      donnees.forEach(function (d) { fragment.appendChild(element(d)); });
      liste.appendChild(fragment);
      montres += donnees.length;
      suite.hidden = montres >= total;
    });
  }

  function avecLot(filtres, nom) {
    var parLot = {};
    Object.keys(filtres).forEach(function (k) { parLot[k] = filtres[k]; });
    parLot[FILTRE_LOT] = nom;
    return parLot;
  }

  function chercher(pf, q, filtres, parDates) {
    var tri = parDates ? { date: "desc" } : {};
    if (lots.length < 2) {
      return pf.search(q || null, { filters: filtres, sort: tri }).then(function (recherche) {
        if (!recherche) { return null; }
        var resultats = recherche.results || [];
        return { total: resultats.length, prochains: parOrdre(resultats) };
      });
    }
    // One search per lot. When a bundle has no word starting with a searched word (after
    // stemming), Pagefind falls back on the longest word of that bundle the searched one starts
    // with (« or » of Côte-d'Or for « ordinateurs »); with one index for the whole site that
    // happens only when no page has the word. So for each word, when some lot has it exactly
    // (a quoted search, stemmed), the lots that do not are left out.
    return Promise.all(lots.map(function (nom) {
      return pf.search(q || null, { filters: avecLot(filtres, nom) });
    })).then(function (recherches) {
      var listes = recherches.map(function (r) { return (r && r.results) || []; });
      var mots = q && q.indexOf('"') < 0 ? q.split(/\s+/).filter(Boolean) : [];
      return Promise.all(mots.map(function (mot) {
        return Promise.all(lots.map(function (nom, i) {
          if (!listes[i].length) { return false; }
          return pf.search('"' + mot + '"', { filters: avecLot(filtres, nom) }).then(function (r) {
            return Boolean(r && r.results && r.results.length);
          });
        }));
      })).then(function (exacts) {
        return { listes: listes, exacts: exacts };
      });
    }).then(function (trouve) {
      var listes = trouve.listes, exacts = trouve.exacts;
      var gardes = lots.filter(function (_, i) {
        return listes[i].length && exacts.every(function (parLot) {
          return parLot[i] || parLot.indexOf(true) < 0;
        });
      });
      if (!parDates) {
        var tous = [];
        lots.forEach(function (nom, i) { if (gardes.indexOf(nom) >= 0) { tous = tous.concat(listes[i]); } });
        tous.sort(function (a, b) { return b.score - a.score; });     // stable: lots in manifest order
        return { total: tous.length, prochains: parOrdre(tous) };
      }
      // Pagefind sorts each merged bundle on its own: lists newest first, merged by date here.
      // A lot without dates (organisations) is left out, as Pagefind leaves out undated pages.
      gardes = gardes.filter(function (nom) { return dates.indexOf(nom) >= 0; });
      return Promise.all(gardes.map(function (nom) {
        return pf.search(q || null, { filters: avecLot(filtres, nom), sort: tri });
      })).then(function (parLot) {
        var triees = parLot.map(function (r) { return (r && r.results) || []; });
        var n = triees.reduce(function (somme, l) { return somme + l.length; }, 0);
        return { total: n, prochains: parDate(triees) };
      });
    });
  }

  function lancer(delai) {
    var mon = ++numero;
    window.clearTimeout(minuterie);
    ecrireAdresse();
    var q = champ.value.trim();
    liste.textContent = "";
    suite.hidden = true;
    prochains = null;
    total = 0;
    montres = 0;
    if (!q && !Object.keys(choisis).length) { etat.textContent = ""; return; }
    etat.textContent = "Recherche en cours…";
    minuterie = window.setTimeout(function () {
      charger().then(function (pf) {
        var filtres = {};
        Object.keys(choisis).forEach(function (k) { filtres[k] = choisis[k]; });
        return chercher(pf, q, filtres, tri.value === "date");
      }).then(function (trouve) {
        if (mon !== numero || !trouve) { return; }
        total = trouve.total;
        prochains = trouve.prochains;
        etat.textContent = total === 0 ? "Aucun résultat." : (total === 1 ? "1 résultat." : total + " résultats.");
        return afficherSuite(mon);
      }).catch(function () {
        if (mon === numero) { etat.textContent = "La recherche a échoué."; }
      });
    }, delai);
  }

  function demarrer() {
    formulaire = document.getElementById("recherche");
    if (!formulaire) { return; }
    champ = document.getElementById("q-recherche");
    tri = document.getElementById("tri-recherche");
    panneau = document.getElementById("recherche-filtres");
    zoneFiltres = document.getElementById("recherche-filtres-champs");
    etat = document.getElementById("recherche-etat");
    liste = document.getElementById("resultats");
    suite = document.getElementById("resultats-suite");
    lireAdresse();
    var entete = document.getElementById("q-entete");
    if (entete && champ.value) { entete.value = champ.value; }
    formulaire.addEventListener("submit", function (ev) { ev.preventDefault(); lancer(0); });
    champ.addEventListener("input", function () { lancer(ATTENTE_MS); });
    tri.addEventListener("change", function () { lancer(0); });
    suite.addEventListener("click", function () { afficherSuite(numero); });
    panneau.addEventListener("toggle", function () { if (panneau.open) { chargerFiltres(); } });
    if (Object.keys(choisis).length) { panneau.open = true; chargerFiltres(); }
    if (champ.value || Object.keys(choisis).length) { lancer(0); }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", demarrer); } else { demarrer(); }
}());
