"""The weekly maintenance jobs (``.github/workflows/maintenance.yml``): external links and
expired entries. Standard library plus PyYAML (through ``associe.loading``).

``python -m associe.links check --report FILE``
    Checks every external address of the directory (``site_web``, ``contact.formulaire``,
    ``source.url``) and writes a French report for the tracking issue. It never fails the
    job and never blocks a pull request: a site that is down today may be back tomorrow.
    Addresses are checked once each, the hosts in parallel but one request at a time per
    host; a redirect is followed and reported when it ends on another site (a lapsed domain
    bought by someone else looks exactly like that). Private and local addresses are never
    requested.

``python -m associe.links expired --changes FILE --report FILE``
    Lists the needs and offers whose ``valable_jusqu_au`` is more than ``--grace-days`` (90)
    days past, for one weekly pull request that **deletes** them (decision: an expired entry
    is not kept in an archive folder: the site already hides it at its date, its page says
    « expirée » during the grace period, git history keeps every version, and deleting is
    what data minimisation and the right to erasure ask for). Entries that an example cites
    (``besoin:``/``offre:``) are kept, and listed, since deleting them would break the
    example; organisations left without any entry are listed for the maintainers, not deleted.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import http.client
import ipaddress
import json
import socket
import ssl
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from .loading import load_file
from .paths import CONTENT_DIR, FOLDER_OF_KIND, ROOT

URL_FIELDS = ("site_web", "formulaire", "url")
MAX_REPORT_CHARS = 60_000
USER_AGENT = "Mozilla/5.0 (compatible; associe-liens/1.0; verification hebdomadaire de l'annuaire)"
OK, MOVED, BROKEN, CHECK = "ok", "redirige-ailleurs", "casse", "a-verifier"


@dataclass
class LinkUse:
    file: str
    field: str
    url: str


@dataclass
class LinkResult:
    url: str
    status: str           # ok | redirige-ailleurs | casse | a-verifier
    detail: str
    final_url: str = ""


# ------------------------------------------------------------------------------ collecting
def _walk(data: Any, path: list) -> Iterable[tuple[str, str]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _walk(value, path + [str(key)])
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _walk(value, path + [str(i + 1)])
    elif isinstance(data, str) and path and path[-1] in URL_FIELDS:
        yield ".".join(path), data


def collect_links(content_dir: Path = CONTENT_DIR, root: Path = ROOT) -> list[LinkUse]:
    uses = []
    for folder in FOLDER_OF_KIND.values():
        for path in sorted((content_dir / folder).glob("*.yaml")):
            loaded = load_file(path, root)
            if isinstance(loaded.data, dict):
                uses.extend(LinkUse(loaded.relpath, fld, url) for fld, url in _walk(loaded.data, []))
    return uses


# ------------------------------------------------------------------------------ checking
def _site(host: str) -> str:
    host = (host or "").lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def is_private(host: str) -> bool:
    """True for localhost, private, loopback, link-local or reserved addresses (never requested)."""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if address.is_private or address.is_loopback or address.is_link_local or address.is_reserved \
                or address.is_multicast or address.is_unspecified:
            return True
    return False


def _request(url: str, method: str, timeout: float) -> tuple[int, str]:
    parts = urllib.parse.urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    kwargs: dict[str, Any] = {"timeout": timeout}
    if parts.scheme == "https":
        kwargs["context"] = ssl.create_default_context()
    connection = connection_class(parts.hostname, parts.port, **kwargs)
    try:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request(method, target, headers={"User-Agent": USER_AGENT, "Accept": "text/html,*/*;q=0.5"})
        response = connection.getresponse()
        if method == "GET":
            response.read(65_536)
        return response.status, response.getheader("Location") or ""
    finally:
        connection.close()


def check_url(url: str, timeout: float = 15.0, allow_private: bool = False, max_redirects: int = 5) -> LinkResult:
    current = url
    for _ in range(max_redirects + 1):
        parts = urllib.parse.urlsplit(current)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return LinkResult(url, BROKEN, "adresse invalide", current)
        if not allow_private and is_private(parts.hostname):
            return LinkResult(url, CHECK, "adresse privée ou locale : non vérifiée", current)
        try:
            status, location = _request(current, "HEAD", timeout)
            if status in (400, 403, 405, 501) or status >= 500:
                status, location = _request(current, "GET", timeout)
        except socket.gaierror:
            return LinkResult(url, BROKEN, "nom de domaine introuvable", current)
        except (TimeoutError, socket.timeout):
            return LinkResult(url, CHECK, "pas de réponse (délai dépassé)", current)
        except ssl.SSLError as error:
            return LinkResult(url, CHECK, f"certificat ou chiffrement refusé ({error.reason or error})", current)
        except (OSError, http.client.HTTPException) as error:
            return LinkResult(url, CHECK, f"connexion impossible ({error.__class__.__name__})", current)
        if status in (301, 302, 303, 307, 308) and location:
            current = urllib.parse.urljoin(current, location)
            continue
        if 200 <= status < 300:
            if _site(urllib.parse.urlsplit(current).hostname or "") != _site(urllib.parse.urlsplit(url).hostname or ""):
                return LinkResult(url, MOVED, f"redirige vers un autre site : {current}", current)
            return LinkResult(url, OK, f"{status}", current)
        if status in (404, 410):
            return LinkResult(url, BROKEN, f"page introuvable ({status})", current)
        if status == 429:
            return LinkResult(url, CHECK, "le site limite les visites (429) : à vérifier à la main", current)
        return LinkResult(url, CHECK, f"réponse {status}", current)
    return LinkResult(url, CHECK, "trop de redirections", current)


def check_links(uses: list[LinkUse], timeout: float = 15.0, allow_private: bool = False,
                workers: int = 8) -> dict[str, LinkResult]:
    """url -> result; one request at a time per host, hosts in parallel."""
    by_host: dict[str, list[str]] = {}
    for url in sorted({u.url for u in uses}):
        by_host.setdefault(urllib.parse.urlsplit(url).hostname or "", []).append(url)

    def run(urls: list[str]) -> list[LinkResult]:
        return [check_url(url, timeout, allow_private) for url in urls]

    results: dict[str, LinkResult] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        for batch in pool.map(run, by_host.values()):
            for result in batch:
                results[result.url] = result
    return results


def link_report(uses: list[LinkUse], results: dict[str, LinkResult], today: dt.date) -> str:
    counts = {status: sum(1 for r in results.values() if r.status == status) for status in (OK, MOVED, BROKEN, CHECK)}
    lines = [f"Vérification du {today.isoformat()} : {len(results)} adresse(s) dans {len({u.file for u in uses})} fichier(s) — "
             f"{counts[OK]} bonne(s), {counts[BROKEN]} cassée(s), {counts[MOVED]} redirigée(s) vers un autre site, "
             f"{counts[CHECK]} à vérifier à la main.", "",
             "Ce rapport ne bloque rien. Pour chaque ligne : corrigez l'adresse dans le fichier (ou demandez à "
             "l'organisation), ou retirez-la si le site a disparu. Un site peut être indisponible un jour et revenir "
             "le lendemain : attendez deux rapports avant de supprimer.", ""]
    for status, title in ((BROKEN, "Adresses cassées"), (MOVED, "Redirigées vers un autre site"),
                          (CHECK, "À vérifier à la main")):
        rows = [(u, results[u.url]) for u in uses if u.url in results and results[u.url].status == status]
        if not rows:
            continue
        lines += [f"## {title} ({len(rows)})", "", "| Fichier | Champ | Adresse | Constat |", "|---|---|---|---|"]
        for use, result in sorted(rows, key=lambda r: (r[0].file, r[0].field)):
            cell = lambda s: str(s).replace("|", "\\|").replace("\n", " ")  # noqa: E731
            lines.append(f"| `{cell(use.file)}` | {cell(use.field)} | `{cell(use.url)}` | {cell(result.detail)} |")
        lines.append("")
    text = "\n".join(lines)
    if len(text) > MAX_REPORT_CHARS:
        text = text[: MAX_REPORT_CHARS - 200].rsplit("\n", 1)[0] + "\n\n… rapport tronqué (trop long pour un ticket) : " \
               "lancez « python -m associe.links check » en local pour la liste complète.\n"
    return text


# ------------------------------------------------------------------------------ expired entries
@dataclass
class Expired:
    path: str
    title: str
    until: str


def expired_entries(content_dir: Path = CONTENT_DIR, today: dt.date | None = None, grace_days: int = 90,
                    root: Path = ROOT) -> tuple[list[Expired], list[Expired], list[str]]:
    """(to delete, kept because an example cites them, organisations left without any entry)."""
    today = today or dt.date.today()
    limit = today - dt.timedelta(days=grace_days)
    cited: set[tuple[str, str]] = set()
    for path in sorted((content_dir / "exemples").glob("*.yaml")):
        data = load_file(path, root).data or {}
        for kind in ("besoin", "offre"):
            if isinstance(data.get(kind), str):
                cited.add((kind, data[kind]))
    delete, keep = [], []
    users: dict[str, int] = {}
    for kind in ("besoin", "offre"):
        for path in sorted((content_dir / FOLDER_OF_KIND[kind]).glob("*.yaml")):
            loaded = load_file(path, root)
            data = loaded.data or {}
            try:
                until = dt.date.fromisoformat(str(data.get("valable_jusqu_au")))
            except ValueError:
                until = None
            old = until is not None and until < limit
            if not old:
                users[str(data.get("organisation"))] = users.get(str(data.get("organisation")), 0) + 1
                continue
            record = Expired(loaded.relpath, str(data.get("titre", loaded.id)), until.isoformat())
            (keep if (kind, loaded.id) in cited else delete).append(record)
            if (kind, loaded.id) in cited:
                users[str(data.get("organisation"))] = users.get(str(data.get("organisation")), 0) + 1
    for path in sorted((content_dir / "exemples").glob("*.yaml")):
        for partner in (load_file(path, root).data or {}).get("partenaires") or []:
            if isinstance(partner, dict) and partner.get("organisation"):
                users[partner["organisation"]] = users.get(partner["organisation"], 0) + 1
    orphans = [p.stem for p in sorted((content_dir / "organisations").glob("*.yaml")) if p.stem not in users]
    return delete, keep, orphans


def expiry_report(delete: list[Expired], keep: list[Expired], orphans: list[str], grace_days: int) -> str:
    lines = [f"Cette proposition supprime {len(delete)} annonce(s) expirée(s) depuis plus de {grace_days} jours. "
             "Le site ne les montre déjà plus dans les listes ; leur page disparaîtra à la fusion. L'historique git "
             "garde chaque version. Relisez la liste puis fusionnez ; pour garder une annonce, demandez à son auteur "
             "de la prolonger (nouvelle date « valable_jusqu_au ») et retirez-la de cette proposition.", ""]
    lines += [f"- `{e.path}` — {e.title} (fin : {e.until})" for e in delete]
    if keep:
        lines += ["", "Gardées car un exemple les cite :", ""] + [f"- `{e.path}` — {e.title} (fin : {e.until})" for e in keep]
    if orphans:
        lines += ["", "Organisations qui n'auront plus aucune annonce (non supprimées : à contacter ou à retirer à leur "
                  "demande) :", ""] + [f"- `content/organisations/{o}.yaml`" for o in orphans]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ command line
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m associe.links")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="vérifier les liens externes (ne bloque jamais)")
    p.add_argument("--report", required=True)
    p.add_argument("--content", default=str(CONTENT_DIR))
    p.add_argument("--timeout", type=float, default=15.0)
    p = sub.add_parser("expired", help="lister les annonces expirées à supprimer")
    p.add_argument("--changes", required=True, help="fichier JSON {chemin: null} écrit pour la PR")
    p.add_argument("--report", required=True)
    p.add_argument("--content", default=str(CONTENT_DIR))
    p.add_argument("--grace-days", type=int, default=90)
    p.add_argument("--date", default=None, help="date du jour AAAA-MM-JJ (tests)")
    args = parser.parse_args(argv)
    content = Path(args.content)
    root = content.resolve().parent
    if args.command == "check":
        uses = collect_links(content, root)
        results = check_links(uses, args.timeout)
        Path(args.report).write_text(link_report(uses, results, dt.date.today()), encoding="utf-8")
        broken = sum(1 for r in results.values() if r.status != OK)
        print(f"{len(results)} adresse(s) vérifiée(s), {broken} à regarder : rapport dans {args.report}")
        return 0
    today = dt.date.fromisoformat(args.date) if args.date else dt.date.today()
    delete, keep, orphans = expired_entries(content, today, args.grace_days, root)
    Path(args.changes).write_text(json.dumps({e.path: None for e in delete}, indent=2), encoding="utf-8")
    Path(args.report).write_text(expiry_report(delete, keep, orphans, args.grace_days), encoding="utf-8")
    print(f"{len(delete)} annonce(s) à supprimer, {len(keep)} gardée(s) (citées par un exemple).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
