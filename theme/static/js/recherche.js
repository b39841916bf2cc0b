/* Asso'cie — starts Pagefind's search UI on /recherche/ (French, from <html lang="fr">)
   and runs the query of the header's search box (?q=…). Loaded after pagefind-ui.js. */
(function () {
  "use strict";
  function demarrer() {
    var conteneur = document.getElementById("recherche");
    if (!conteneur) { return; }
    if (typeof window.PagefindUI !== "function") {
      var indisponible = document.getElementById("recherche-indisponible");
      if (indisponible) { indisponible.hidden = false; }
      return;
    }
    var ui = new window.PagefindUI({
      element: "#recherche",
      bundlePath: conteneur.getAttribute("data-bundle") || undefined,
      showSubResults: false,
      showImages: false,
      resetStyles: false,
      pageSize: 10
    });
    // Pagefind's field has only a placeholder: give it an accessible name (RGAA 11.1).
    function nommer() {
      var champ = conteneur.querySelector("input");
      if (!champ) { return false; }
      champ.setAttribute("aria-label", "Rechercher dans l'annuaire");
      return true;
    }
    if (!nommer() && window.MutationObserver) {
      var observateur = new MutationObserver(function () { if (nommer()) { observateur.disconnect(); } });
      observateur.observe(conteneur, { childList: true, subtree: true });
    }
    var q = new URLSearchParams(window.location.search).get("q");
    if (q) { ui.triggerSearch(q); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", demarrer); } else { demarrer(); }
}());
