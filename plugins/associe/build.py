"""``associe build`` and ``associe serve``: the whole pipeline through Pelican, failing on any error.

``build_site`` reproduces ``pelican --fatal errors`` through the API: Pelican's logger class
(``pelican.log.FatalLogger``) raises ``RuntimeError`` on the first record at or above its
``fatal_lvl``; we set that level to ERROR for the run (and restore it after), and also count
every ERROR record with a handler, so an error that some code catches still fails the build.
A ``PipelineError`` (invalid entries) is printed in full, one problem per line
(``file:line:col: champ : message``).
"""
from __future__ import annotations

import datetime as dt
import functools
import http.server
import logging
import os
import shutil
import signal
import sys
import threading
import traceback
from pathlib import Path

from .paths import ROOT
from .problems import PipelineError

SETTINGS_FILE = ROOT / "pelicanconf.py"


class _ErrorCounter(logging.Handler):
    """Keeps every record of level ERROR or above (printed again in the summary)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class _Printer(logging.Handler):
    """Warnings and errors on stderr, plainly (no colours, no time stamps)."""

    def __init__(self, stream) -> None:
        super().__init__(level=logging.WARNING)
        self.stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        try:
            prefix = "erreur : " if record.levelno >= logging.ERROR else "avertissement : "
            message = record.getMessage()
            if message.startswith(("avertissement", "erreur")) or ": avertissement :" in message:
                prefix = ""
            self.stream.write(f"{prefix}{message}\n")
        except Exception:  # pragma: no cover - never let logging break the build
            self.handleError(record)


def pelican_settings(output: Path, build_date: dt.date | None, content: Path | None,
                     include_fictitious: bool = True, settings_file: Path = SETTINGS_FILE,
                     extra: dict | None = None) -> dict:
    """Pelican settings of a build: ``pelicanconf.py`` with the command's options on top."""
    from pelican.settings import read_settings

    override = {
        "OUTPUT_PATH": str(Path(output).resolve()),
        "ASSOCIE_BUILD_DATE": build_date.isoformat() if build_date else None,
        "ASSOCIE_INCLUDE_FICTITIOUS": include_fictitious,
    }
    if content is not None:
        override["ASSOCIE_CONTENT_PATH"] = str(Path(content).resolve())
    override.update(extra or {})
    return read_settings(str(settings_file), override=override)


def run_pelican(settings: dict, stream=None) -> tuple[int, dict]:
    """One Pelican run with fatal errors; returns (status, report). Prints every problem."""
    from pelican import Pelican
    from pelican.log import FatalLogger, console

    stream = stream or sys.stderr
    report: dict = {}
    settings = dict(settings)
    settings["ASSOCIE_BUILD_REPORT"] = report

    root = logging.getLogger()
    counter, printer = _ErrorCounter(), _Printer(stream)
    previous_fatal, previous_level = FatalLogger.fatal_lvl, root.level
    previous_handlers = root.handlers[:]
    FatalLogger.fatal_lvl = logging.ERROR
    previous_quiet, console.quiet = console.quiet, True   # no « Done: Processed 0 articles… »
    for handler in previous_handlers:   # Pelican's rich handler (from an earlier init) would print twice
        root.removeHandler(handler)
    root.addHandler(counter)
    root.addHandler(printer)
    if root.level > logging.WARNING or root.level == logging.NOTSET:
        root.setLevel(logging.WARNING)
    status = 0
    try:
        Pelican(settings).run()
    except PipelineError as error:
        for problem in error.problems:
            stream.write(f"{problem}\n")
        errors = sum(1 for p in error.problems if p.is_error)
        stream.write(f"Construction interrompue : {errors} erreur(s) à corriger dans les entrées.\n")
        status = 1
    except Exception as error:  # noqa: BLE001 - every failure must end in a non-zero status
        if not counter.records:  # the error was not logged already (FatalLogger raises after logging)
            stream.write(f"erreur : {error.__class__.__name__} : {error}{_where(error)}\n")
            if os.environ.get("ASSOCIE_DEBUG"):
                traceback.print_exception(error, file=stream)
        status = 1
    finally:
        FatalLogger.fatal_lvl = previous_fatal
        console.quiet = previous_quiet
        root.removeHandler(counter)
        root.removeHandler(printer)
        for handler in previous_handlers:
            root.addHandler(handler)
        root.setLevel(previous_level)
    if counter.records and not status:
        status = 1
    if status and counter.records:
        stream.write(f"Construction interrompue : {len(counter.records)} erreur(s) signalée(s) ci-dessus.\n")
    return status, report


def _where(error: BaseException) -> str:
    """« (theme/templates/x.html:12) » for a template error: the last template frame."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.endswith(".html")]
    return f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""


def _optional(module: str):
    """Import ``associe.<module>`` if it exists; None only when that exact module is missing."""
    from .rendering import optional_module

    return optional_module(module)


def build_site(output: Path, build_date: dt.date | None = None, content: Path | None = None,
               include_fictitious: bool = True, search_index: bool = True, settings_file: Path = SETTINGS_FILE,
               extra_settings: dict | None = None) -> int:
    """Check, render (pages, feeds, exports) and index the site into ``output``; 0 on success, 1 on any error."""
    output = Path(output)
    try:
        settings = pelican_settings(output, build_date, content, include_fictitious, settings_file, extra_settings)
    except Exception as error:  # noqa: BLE001 - a broken pelicanconf.py
        print(f"erreur : réglages illisibles ({settings_file}) : {error}", file=sys.stderr)
        return 1
    # feeds and exports are written by a forked process while the rest runs (see
    # rendering.AssocieGenerator._exports_hook); every way out below waits for it or stops it
    settings["ASSOCIE_BACKGROUND_EXPORTS"] = True
    # and the search index by another, started as soon as the entry pages are written
    # (rendering.AssocieGenerator._index_hook); _build_and_index waits for it
    settings["ASSOCIE_BACKGROUND_INDEX"] = bool(search_index)
    from .rendering import wait_background_exports, wait_background_index

    try:
        status, summary = _build_and_index(settings, output, search_index)
    except BaseException:
        wait_background_index(stop=True)
        wait_background_exports(stop=True)
        raise
    if status:
        wait_background_index(stop=True)
        wait_background_exports(stop=True)
        return status
    if not wait_background_exports():
        print("erreur : l'écriture des flux et des exports a échoué (voir le message ci-dessus).", file=sys.stderr)
        return 1
    print(summary)
    return 0


def _build_and_index(settings: dict, output: Path, search_index: bool) -> tuple[int, str]:
    """Pelican's run and the search index: (status, the summary line to print on success)."""
    status, report = run_pelican(settings)
    if status:
        return status, ""
    if not search_index and (output / "pagefind").is_dir():
        # an incremental build keeps the output: no search index of an earlier build may outlive it
        shutil.rmtree(output / "pagefind")
    if search_index:
        from .rendering import wait_background_index

        indexing = _optional("indexing")
        built = wait_background_index()     # None: not started in the background (no fork here)
        if built is False:                   # its error was printed by the process that built it
            print("erreur : l'index de recherche n'a pas pu être construit.", file=sys.stderr)
            return 1, ""
        if built is None and indexing is None:
            print("avertissement : module associe.indexing absent, pas d'index de recherche.", file=sys.stderr)
        elif built is None:
            try:
                result = indexing.build_search_index(output)
            except Exception as error:  # noqa: BLE001
                print(f"erreur : index de recherche : {error}", file=sys.stderr)
                return 1, ""
            if isinstance(result, int) and result:
                print("erreur : l'index de recherche n'a pas pu être construit.", file=sys.stderr)
                return 1, ""
    html_pages = report.get("html_pages")   # counted while writing (a walk of the output took 6 s at 50,000 entries)
    if not isinstance(html_pages, int):
        html_pages = sum(1 for _ in output.rglob("*.html"))
    listed = report.get("listed", {})
    return 0, (f"Site construit dans {output} (date {report.get('build_date', '?')}) : {html_pages} pages, "
               f"{listed.get('besoin', 0)} besoins, {listed.get('offre', 0)} offres, "
               f"{listed.get('exemple', 0)} exemples, {listed.get('organisation', 0)} organisations publiés, "
               f"{report.get('expired', 0)} annonce(s) expirée(s)"
               f"{', index de recherche construit' if search_index and _optional('indexing') else ''}.")


# ------------------------------------------------------------------------------------ serve
class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".wasm": "application/wasm",
        ".pagefind": "application/octet-stream",
        ".pf_meta": "application/octet-stream",
        ".pf_fragment": "application/octet-stream",
        ".pf_index": "application/octet-stream",
        ".pf_filter": "application/octet-stream",
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".json": "application/json",
        ".xml": "application/xml",
        ".atom": "application/atom+xml",
        ".svg": "image/svg+xml",
        ".csv": "text/csv; charset=utf-8",
        ".geojson": "application/geo+json",
        ".md": "text/plain; charset=utf-8",
    }

    def log_error(self, format, *args):  # noqa: A002 - the request line (log_request) says it all
        pass

    def log_request(self, code="-", size="-"):
        if str(getattr(code, "value", code)).startswith(("4", "5")):  # quiet: errors only
            super().log_request(code, size)

    def send_error(self, code, message=None, explain=None):
        not_found = Path(self.directory) / "404.html"
        if code == 404 and not_found.exists():
            body = not_found.read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            return
        super().send_error(code, message, explain)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(output: Path, port: int = 8000, bind: str = "127.0.0.1") -> int:
    """Serve the built site until Ctrl-C; prints the local address."""
    output = Path(output).resolve()
    if not (output / "index.html").exists():
        print(f"erreur : {output} ne contient pas de site construit (lancez « associe build »).", file=sys.stderr)
        return 1
    handler = functools.partial(_Handler, directory=str(output))
    try:
        server = _Server((bind, port), handler)
    except OSError as error:
        print(f"erreur : impossible d'écouter sur {bind}:{port} ({error.strerror or error}). "
              "Essayez un autre port : --port 8001", file=sys.stderr)
        return 1
    host = "localhost" if bind in ("127.0.0.1", "0.0.0.0", "::", "") else bind

    def stop(_signum, _frame):  # `kill <pid>` stops as cleanly as Ctrl-C
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
    print(f"Site disponible sur http://{host}:{server.server_address[1]}/  (Ctrl-C pour arrêter)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nArrêt du serveur.")
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(build_site(Path(os.environ.get("OUTPUT", ROOT / "output"))))
