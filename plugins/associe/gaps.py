"""Gap analysis: what is missing in a territory (issue 7, item 1).

For the nation, every région and every département, from the pipeline's ``SiteData``:

* the open needs with **no suggested offer** (``matches.for_need[id]`` empty) and the open
  offers with **no taker** (``matches.for_offer[id]`` empty), counted by type de soutien, by
  catégorie and by the size of the publishing organisation (``taille``);
* the offers of small firms (TPE and PME), so that a territory sees what they bring;
* the monthly counts of **first publications** of needs and offers.

"Open" is the pipeline's rule (``pipeline.is_open``: not expired, published, statut ouvert or
en_cours), the same as the listings and the suggestions. An entry is placed in the région and
the département of its commune (``Entry.place``), like the territory pages.

First publication dates come from the git history of the content, read with ONE command per
build::

    git -C <content> -c core.quotepath=off log --diff-filter=A --no-renames --relative \
        --format=%cs --name-only -- besoins offres

(the date each ``besoins/<id>.yaml`` / ``offres/<id>.yaml`` file was first added; ``--relative``
makes the names relative to the content folder wherever it sits in the repository). The date of
an entry is its git date when the file is in the history and that date is not after the build
date; otherwise its ``date_publication``. Git is not used at all — every date is then
``date_publication`` — when git is missing, the content is not in a repository (a tarball, a
fresh test folder) or the clone is shallow (every file would look added by the last commit: in
CI, check out with ``fetch-depth: 0``). ``PublicationDates.sentence()`` says on the page which
source was used and why.

Everything here is pure (no Pelican, no clock: the build date comes from ``SiteData``) and
deterministic (sorted lists). The git command runs once per ``SiteData``: ``publication_dates``
and ``gap_index`` cache their result on the object, so the pages (``extra_pages``) and the
export (``gaps_export``) share it.
"""
from __future__ import annotations

import datetime as dt
import re
import subprocess
import weakref
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from .paths import ROOT
from .pipeline import is_open
from .records import Entry
from .vocabulary import label, load_vocabularies
from .dates import MONTHS

#: The key under which ``gaps_export`` goes into ``/donnees/annuaire.json``.
GAPS_EXPORT_KEY = "lacunes"
#: Organisation sizes shown as "small firms" (issue 7, item 2).
SMALL_COMPANY_SIZES = ("tpe", "pme")
#: Value used when the publishing organisation gives no size.
UNKNOWN_SIZE = "non_renseignee"
UNKNOWN_SIZE_LABEL = "Taille non renseignée"
#: Months shown in the "publications per month" table (ending with the build month).
DEFAULT_MONTHS = 24
GIT_TIMEOUT_S = 60

KIND_OF_FOLDER = {"besoins": "besoin", "offres": "offre"}
_DATE_LINE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Runner = Callable[..., Any]


# ------------------------------------------------------------------------------ URLs
def gaps_url(geo: Any, region: str | None = None, departement: str | None = None) -> str:
    """``lacunes/``, ``lacunes/<slug-region>/``, ``lacunes/<slug-region>/<slug-departement>/``
    (the same nesting as ``territoires/``)."""
    if departement:
        dep = geo.departements[departement]
        return f"lacunes/{geo.slug_region(dep.region)}/{geo.slug_departement(departement)}/"
    if region:
        return f"lacunes/{geo.slug_region(region)}/"
    return "lacunes/"


def territory_url(geo: Any, region: str | None = None, departement: str | None = None) -> str:
    """The territory page, as ``rendering.Paths`` writes it."""
    if departement:
        dep = geo.departements[departement]
        return f"territoires/{geo.slug_region(dep.region)}/{geo.slug_departement(departement)}/"
    if region:
        return f"territoires/{geo.slug_region(region)}/"
    return "territoires/"


# ------------------------------------------------------------------------------ first publications
@dataclass(frozen=True)
class PublicationDates:
    """The first publication date of every published need and offer, and where it came from."""
    dates: dict[tuple[str, str], dt.date]       # (kind, id) -> date
    source: str                                 # "git", "date_publication" or "mixte"
    from_git: int                               # entries dated by the git history
    from_field: int                             # entries dated by their date_publication
    note: str = ""                              # why git was not (fully) used, in French

    def key_view(self) -> tuple:
        """What a page shows of these dates (the incremental build keys pages on this, not on
        every entry's date)."""
        return (self.sentence(),)

    def sentence(self) -> str:
        """One French sentence for the page: which source was used, and why."""
        if self.source == "git":
            return ("Dates de première publication lues dans l'historique git du contenu "
                    f"(date d'ajout du fichier, {self.from_git} annonce{'s' if self.from_git > 1 else ''}).")
        if self.source == "mixte":
            return ("Dates de première publication lues dans l'historique git du contenu pour "
                    f"{self.from_git} annonce{'s' if self.from_git > 1 else ''} ; le champ « date_publication » "
                    f"pour {self.from_field} autre{'s' if self.from_field > 1 else ''}"
                    f"{' (' + self.note + ')' if self.note else ''}.")
        reason = f" : {self.note}" if self.note else ""
        return f"Dates de première publication tirées du champ « date_publication » des annonces{reason}."

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "annonces_datees_par_git": self.from_git,
                "annonces_datees_par_date_publication": self.from_field, "explication": self.sentence()}


def parse_git_log(text: str) -> dict[tuple[str, str], dt.date]:
    """``{(kind, id): earliest date}`` from the output of the git command above.

    The output is a date line (``%cs``), then the names the commit added. Only
    ``besoins/<id>.yaml`` and ``offres/<id>.yaml`` count (the last two path components, so a
    non-relative output works too)."""
    found: dict[tuple[str, str], dt.date] = {}
    current: dt.date | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if _DATE_LINE.match(line):
            try:
                current = dt.date.fromisoformat(line)
            except ValueError:
                current = None
            continue
        if current is None:
            continue
        parts = line.strip('"').split("/")
        if len(parts) < 2 or not parts[-1].endswith(".yaml"):
            continue
        kind = KIND_OF_FOLDER.get(parts[-2])
        if kind is None:
            continue
        key = (kind, parts[-1][: -len(".yaml")])
        if key not in found or current < found[key]:
            found[key] = current
    return found


def _git_dir(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / ".git"
        if candidate.is_dir():
            return candidate
        if candidate.is_file():  # worktree or submodule: "gitdir: <path>"
            text = candidate.read_text(encoding="utf-8", errors="replace").strip()
            if text.startswith("gitdir:"):
                target = Path(text[len("gitdir:"):].strip())
                return target if target.is_absolute() else (folder / target).resolve()
    return None


def is_shallow(content_dir: Path) -> bool:
    """True when the repository holding ``content_dir`` is a shallow clone (no git command)."""
    git_dir = _git_dir(content_dir.resolve())
    if git_dir is None:
        return False
    if (git_dir / "shallow").exists():
        return True
    common = git_dir / "commondir"
    if common.is_file():
        target = Path(common.read_text(encoding="utf-8", errors="replace").strip())
        target = target if target.is_absolute() else (git_dir / target)
        return (target / "shallow").exists()
    return False


def read_git_additions(content_dir: Path | None, runner: Runner = subprocess.run
                       ) -> tuple[dict[tuple[str, str], dt.date] | None, str]:
    """Run the git command once. Returns (dates, "") or (None, French reason it was not used)."""
    if content_dir is None or not Path(content_dir).is_dir():
        return None, "dossier du contenu introuvable"
    content_dir = Path(content_dir)
    if is_shallow(content_dir):
        return None, "historique git incomplet (clone superficiel)"
    command = ["git", "-C", str(content_dir), "-c", "core.quotepath=off", "log", "--diff-filter=A",
               "--no-renames", "--relative", "--format=%cs", "--name-only", "--", "besoins", "offres"]
    try:
        completed = runner(command, capture_output=True, text=True, timeout=GIT_TIMEOUT_S, check=False)
    except FileNotFoundError:
        return None, "git n'est pas installé"
    except (OSError, subprocess.SubprocessError) as error:
        return None, f"git n'a pas pu être lancé ({type(error).__name__})"
    if completed.returncode != 0:
        error = (completed.stderr or "").lower()
        if "dubious ownership" in error:
            return None, "git refuse de lire ce dépôt (propriétaire différent : voir safe.directory)"
        if "not a git repository" in error or not error:
            return None, "le contenu n'est pas dans un dépôt git"
        return None, "git n'a pas pu lire l'historique"
    return parse_git_log(completed.stdout or ""), ""


def published_entries(site_data: Any) -> list[Entry]:
    """Every need and offer that has been published on the build date (listed or expired)."""
    entries = [e for kind in ("besoin", "offre") for e in site_data.listed.get(kind, [])]
    entries += [e for e in site_data.expired if e.kind in ("besoin", "offre")]
    return sorted(entries, key=lambda e: (e.kind, e.id))


def _field_date(entry: Entry) -> dt.date | None:
    value = entry.get("date_publication")
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def compute_publication_dates(site_data: Any, git_additions: dict[tuple[str, str], dt.date] | None,
                              note: str = "") -> PublicationDates:
    """Date every published need and offer: git date if known and not after the build date,
    else ``date_publication``."""
    dates: dict[tuple[str, str], dt.date] = {}
    from_git = from_field = 0
    skipped_future = 0
    for entry in published_entries(site_data):
        key = (entry.kind, entry.id)
        git_date = (git_additions or {}).get(key)
        if git_date is not None and git_date <= site_data.build_date:
            dates[key] = git_date
            from_git += 1
            continue
        if git_date is not None:
            skipped_future += 1
        day = _field_date(entry)
        if day is not None:
            dates[key] = day
            from_field += 1
    if git_additions is not None and not note:
        reasons = []
        if from_field - skipped_future:
            reasons.append(f"{from_field - skipped_future} pas encore dans l'historique git")
        if skipped_future:
            reasons.append(f"{skipped_future} ajoutée{'s' if skipped_future > 1 else ''} dans git après la date "
                           "de construction")
        note = " ; ".join(reasons)
    if git_additions is None or from_git == 0:
        source = "date_publication"
    elif from_field == 0:
        source = "git"
    else:
        source = "mixte"
    return PublicationDates(dates=dates, source=source, from_git=from_git, from_field=from_field, note=note)


# One computation per SiteData object (the git command runs once per build).
_CACHE: dict[tuple[str, int], tuple[Any, Any]] = {}


def _cached(kind: str, site_data: Any, compute: Callable[[], Any]) -> Any:
    key = (kind, id(site_data))
    hit = _CACHE.get(key)
    if hit is not None and hit[0]() is site_data:
        return hit[1]
    value = compute()
    try:
        ref = weakref.ref(site_data, lambda _r, k=key: _CACHE.pop(k, None))
    except TypeError:  # not weak-referenceable: no cache
        return value
    _CACHE[key] = (ref, value)
    return value


def resolve_content_dir(site_data: Any, settings: dict | None = None) -> Path | None:
    """The folder holding besoins/ and offres/: ``ASSOCIE_CONTENT_PATH`` (or Pelican's ``PATH``)
    when given, else derived from the entries' paths (relative to the project root)."""
    settings = settings or {}
    explicit = settings.get("ASSOCIE_CONTENT_PATH") or settings.get("PATH")
    if explicit:
        return Path(explicit)
    for entry in published_entries(site_data):
        path = Path(entry.path)
        path = path if path.is_absolute() else ROOT / path
        if path.exists():
            return path.parent.parent
    return None


def publication_dates(site_data: Any, settings: dict | None = None, content_dir: Path | None = None,
                      runner: Runner = subprocess.run) -> PublicationDates:
    """First publication dates of ``site_data`` (git run once, then cached on the object)."""
    def compute() -> PublicationDates:
        folder = content_dir if content_dir is not None else resolve_content_dir(site_data, settings)
        additions, note = read_git_additions(folder, runner)
        return compute_publication_dates(site_data, additions, note)
    return _cached("dates", site_data, compute)


# ------------------------------------------------------------------------------ the report
def organisation_size(entry: Entry) -> str:
    org = entry.organisation
    size = org.get("taille") if org is not None else None
    return size or UNKNOWN_SIZE


def size_label(value: str) -> str:
    return UNKNOWN_SIZE_LABEL if value == UNKNOWN_SIZE else label("taille", value)


@dataclass
class BreakdownRow:
    valeur: str
    libelle: str
    besoins_ouverts: int = 0
    besoins_sans_offre: int = 0
    offres_ouvertes: int = 0
    offres_sans_preneur: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"valeur": self.valeur, "libelle": self.libelle, "besoins_ouverts": self.besoins_ouverts,
                "besoins_sans_offre": self.besoins_sans_offre, "offres_ouvertes": self.offres_ouvertes,
                "offres_sans_preneur": self.offres_sans_preneur}


@dataclass
class MonthRow:
    mois: str          # "2026-11"
    libelle: str       # "novembre 2026"
    besoins: int = 0
    offres: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"mois": self.mois, "libelle": self.libelle, "besoins": self.besoins, "offres": self.offres}


@dataclass
class GapReport:
    """What is missing in one territory (``scope``: national, region or departement)."""
    scope: str
    code: str | None
    nom: str
    url: str                                    # this gap page
    territory_url: str                          # the territory page
    parent: "GapReport | None" = field(default=None, repr=False, compare=False)
    open_needs: list[Entry] = field(default_factory=list)
    open_offers: list[Entry] = field(default_factory=list)
    needs_without_offer: list[Entry] = field(default_factory=list)   # oldest first: waiting longest
    offers_without_taker: list[Entry] = field(default_factory=list)
    small_company_offers: list[Entry] = field(default_factory=list)  # open offers of TPE and PME, newest first
    by_type: list[BreakdownRow] = field(default_factory=list)
    by_categorie: list[BreakdownRow] = field(default_factory=list)
    by_taille: list[BreakdownRow] = field(default_factory=list)
    months: list[MonthRow] = field(default_factory=list)
    published_before: dict[str, int] = field(default_factory=dict)  # before the first month shown
    children: list["GapReport"] = field(default_factory=list, repr=False, compare=False)

    @property
    def fictitious_count(self) -> int:
        return sum(1 for e in self.open_needs + self.open_offers if e.fictitious)

    @property
    def has_publications(self) -> bool:
        return any(m.besoins or m.offres for m in self.months) or any(self.published_before.values())

    @property
    def empty(self) -> bool:
        return not (self.open_needs or self.open_offers or self.has_publications)

    def link_view(self) -> tuple:
        """What a page linking to this report shows of it (parent link, children table): the
        incremental build keys a page on this, not on the linked report's whole content."""
        return (self.scope, self.code, self.nom, self.url, self.summary())

    def summary(self) -> dict[str, Any]:
        return {"besoins_ouverts": len(self.open_needs), "besoins_sans_offre": len(self.needs_without_offer),
                "offres_ouvertes": len(self.open_offers), "offres_sans_preneur": len(self.offers_without_taker)}

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "nom": self.nom, "page": "/" + self.url}
        data.update(self.summary())
        data.update({
            "besoins_sans_offre_ids": [e.id for e in self.needs_without_offer],
            "offres_sans_preneur_ids": [e.id for e in self.offers_without_taker],
            "offres_tpe_pme_ids": [e.id for e in self.small_company_offers],
            "par_type_de_soutien": [r.as_dict() for r in self.by_type],
            "par_categorie": [r.as_dict() for r in self.by_categorie],
            "par_taille": [r.as_dict() for r in self.by_taille],
            "publications_par_mois": [m.as_dict() for m in self.months],
            "publications_avant": dict(self.published_before),
        })
        return data


@dataclass
class GapIndex:
    national: GapReport
    regions: dict[str, GapReport]
    departements: dict[str, GapReport]
    dates: PublicationDates
    build_date: dt.date

    def reports(self) -> Iterable[GapReport]:
        yield self.national
        yield from self.regions.values()
        yield from self.departements.values()


def month_window(build_date: dt.date, first: dt.date | None, limit: int = DEFAULT_MONTHS) -> list[tuple[int, int]]:
    """(year, month) from the month of ``first`` to the build month, at most ``limit`` months."""
    if first is None or first > build_date:
        return []
    end = build_date.year * 12 + build_date.month - 1
    start = max(first.year * 12 + first.month - 1, end - max(1, limit) + 1)
    return [(i // 12, i % 12 + 1) for i in range(start, end + 1)]


def _published_sort_key(entry: Entry) -> tuple:
    return (entry.get("date_publication") or "", entry.id)


def _breakdown(needs: list[Entry], unmatched_needs: set[str], offers: list[Entry],
               unmatched_offers: set[str], value_of: Callable[[Entry], str],
               labels: dict[str, str]) -> list[BreakdownRow]:
    rows = {value: BreakdownRow(value, text) for value, text in labels.items()}
    for entry in needs:
        value = value_of(entry)
        row = rows.setdefault(value, BreakdownRow(value, value))
        row.besoins_ouverts += 1
        row.besoins_sans_offre += entry.id in unmatched_needs
    for entry in offers:
        value = value_of(entry)
        row = rows.setdefault(value, BreakdownRow(value, value))
        row.offres_ouvertes += 1
        row.offres_sans_preneur += entry.id in unmatched_offers
    return [r for r in rows.values() if r.besoins_ouverts or r.offres_ouvertes]


def _fill(report: GapReport, needs: list[Entry], offers: list[Entry], unmatched_needs: set[str],
          unmatched_offers: set[str], published: list[tuple[Entry, dt.date]],
          window: list[tuple[int, int]]) -> None:
    vocab = load_vocabularies()
    report.open_needs = sorted(needs, key=lambda e: e.id)
    report.open_offers = sorted(offers, key=lambda e: e.id)
    report.needs_without_offer = sorted((e for e in needs if e.id in unmatched_needs), key=_published_sort_key)
    report.offers_without_taker = sorted((e for e in offers if e.id in unmatched_offers), key=_published_sort_key)
    small = [e for e in offers if organisation_size(e) in SMALL_COMPANY_SIZES]
    report.small_company_offers = sorted(small, key=lambda e: (e.get("date_publication") or "", e.id), reverse=True)
    report.by_type = _breakdown(needs, unmatched_needs, offers, unmatched_offers,
                                lambda e: e.get("type_de_soutien") or "", vocab["type_de_soutien"])
    report.by_categorie = _breakdown(needs, unmatched_needs, offers, unmatched_offers,
                                     lambda e: e.get("categorie") or "", vocab["categorie"])
    sizes = dict(vocab["taille"])
    sizes[UNKNOWN_SIZE] = UNKNOWN_SIZE_LABEL
    report.by_taille = _breakdown(needs, unmatched_needs, offers, unmatched_offers,
                                  organisation_size, sizes)
    counts: Counter = Counter()
    before = Counter()
    first = window[0] if window else None
    for entry, day in published:
        key = (day.year, day.month)
        if first is not None and key < first:
            before[entry.kind] += 1
        else:
            counts[(key, entry.kind)] += 1
    report.months = [MonthRow(f"{y:04d}-{m:02d}", f"{MONTHS[m - 1]} {y}", counts[((y, m), "besoin")],
                              counts[((y, m), "offre")]) for y, m in window]
    report.published_before = {"besoins": before["besoin"], "offres": before["offre"]}


def compute_gap_index(site_data: Any, dates: PublicationDates, months: int = DEFAULT_MONTHS) -> GapIndex:
    """Every gap report (national, each région, each département), without caching."""
    geo = site_data.geography
    build_date = site_data.build_date
    matches = site_data.matches
    for_need = getattr(matches, "for_need", {}) or {}
    for_offer = getattr(matches, "for_offer", {}) or {}
    needs = [e for e in site_data.listed.get("besoin", []) if is_open(e, build_date)]
    offers = [e for e in site_data.listed.get("offre", []) if is_open(e, build_date)]
    unmatched_needs = {e.id for e in needs if not for_need.get(e.id)}
    unmatched_offers = {e.id for e in offers if not for_offer.get(e.id)}
    by_id = {(e.kind, e.id): e for e in published_entries(site_data)}
    published = sorted(((by_id[key], day) for key, day in dates.dates.items() if key in by_id and day <= build_date),
                       key=lambda pair: (pair[1], pair[0].kind, pair[0].id))
    window = month_window(build_date, published[0][1] if published else None, months)

    buckets: dict[tuple[str, str], dict[str, list]] = defaultdict(lambda: {"needs": [], "offers": [], "published": []})

    def keys(entry: Entry) -> list[tuple[str, str]]:
        place = entry.place
        found = []
        if place is not None and place.region in geo.regions:
            found.append(("region", place.region))
        if place is not None and place.departement in geo.departements:
            found.append(("departement", place.departement))
        return found

    for entry in needs:
        for key in keys(entry):
            buckets[key]["needs"].append(entry)
    for entry in offers:
        for key in keys(entry):
            buckets[key]["offers"].append(entry)
    for entry, day in published:
        for key in keys(entry):
            buckets[key]["published"].append((entry, day))

    national = GapReport("national", None, "France entière", gaps_url(geo), territory_url(geo))
    _fill(national, needs, offers, unmatched_needs, unmatched_offers, published, window)
    regions: dict[str, GapReport] = {}
    for code, region in geo.regions.items():
        report = GapReport("region", code, region.nom, gaps_url(geo, region=code), territory_url(geo, region=code),
                           parent=national)
        bucket = buckets.get(("region", code), {"needs": [], "offers": [], "published": []})
        _fill(report, bucket["needs"], bucket["offers"], unmatched_needs, unmatched_offers, bucket["published"], window)
        regions[code] = report
    departements: dict[str, GapReport] = {}
    for code, dep in geo.departements.items():
        parent = regions.get(dep.region)
        report = GapReport("departement", code, dep.nom, gaps_url(geo, departement=code),
                           territory_url(geo, departement=code), parent=parent)
        bucket = buckets.get(("departement", code), {"needs": [], "offers": [], "published": []})
        _fill(report, bucket["needs"], bucket["offers"], unmatched_needs, unmatched_offers, bucket["published"], window)
        departements[code] = report
        if parent is not None:
            parent.children.append(report)
    national.children = list(regions.values())
    return GapIndex(national=national, regions=regions, departements=departements, dates=dates, build_date=build_date)


def gap_index(site_data: Any, settings: dict | None = None, content_dir: Path | None = None,
              runner: Runner = subprocess.run) -> GapIndex:
    """The gap reports of ``site_data`` (computed once per SiteData object, then cached)."""
    def compute() -> GapIndex:
        dates = publication_dates(site_data, settings, content_dir, runner)
        months = int((settings or {}).get("ASSOCIE_GAPS_MONTHS") or DEFAULT_MONTHS)
        return compute_gap_index(site_data, dates, months)
    return _cached("index", site_data, compute)


# ------------------------------------------------------------------------------ the export
EXPORT_DEFINITIONS = {
    "besoins_ouverts": "besoins ouverts (statut ouvert ou en_cours, ni expirés ni à venir) placés dans le territoire",
    "besoins_sans_offre": "besoins ouverts pour lesquels l'annuaire ne suggère aucune offre",
    "offres_ouvertes": "offres ouvertes placées dans le territoire",
    "offres_sans_preneur": "offres ouvertes pour lesquelles l'annuaire ne suggère aucun besoin",
    "par_taille": "selon la taille de l'organisation qui publie (TPE, PME, ETI, grande entreprise ; "
                  "association sans salarié ou employeuse ; non_renseignee si elle ne la donne pas)",
    "publications_par_mois": "premières publications de besoins et d'offres par mois (voir source_des_dates), "
                             "jusqu'au mois de la date de construction ; publications_avant compte les plus anciennes",
}


def gaps_export(site_data: Any, settings: dict | None = None, content_dir: Path | None = None) -> dict[str, Any]:
    """The gaps for ``/donnees/annuaire.json``, under the key ``GAPS_EXPORT_KEY`` (« lacunes »).

    Call it with the build's settings (``gaps_export(site_data, settings)``) so that git runs in
    ``ASSOCIE_CONTENT_PATH``; after the extra pages it reuses their computation (no second git
    run). The value::

        {"date_construction": "AAAA-MM-JJ",
         "source_des_dates": {"source": "git" | "date_publication" | "mixte", ...},
         "definitions": {...},
         "national": {<report>},
         "regions": {"<code région>": {<report>}, ...},          # every région of the geography
         "departements": {"<code département>": {<report>}, ...}}  # every département

    where a report is ``{code, nom, page, besoins_ouverts, besoins_sans_offre, offres_ouvertes,
    offres_sans_preneur, besoins_sans_offre_ids, offres_sans_preneur_ids, offres_tpe_pme_ids,
    par_type_de_soutien, par_categorie, par_taille, publications_par_mois, publications_avant}``;
    the ``par_*`` rows are ``{valeur, libelle, besoins_ouverts, besoins_sans_offre,
    offres_ouvertes, offres_sans_preneur}`` for the values present, in the schema's order."""
    index = gap_index(site_data, settings, content_dir)
    return {
        "date_construction": index.build_date.isoformat(),
        "source_des_dates": index.dates.as_dict(),
        "definitions": dict(EXPORT_DEFINITIONS),
        "national": index.national.as_dict(),
        "regions": {code: report.as_dict() for code, report in index.regions.items()},
        "departements": {code: report.as_dict() for code, report in index.departements.items()},
    }
