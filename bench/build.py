"""End-to-end build benchmark: a synthetic directory of N entries built like ``associe build``.

    python bench/build.py --entries 10000 [--warm] [--seed 1] [--keep DIR] [--workers N] [--profile FILE] [--json FILE]

N counts every YAML file: 80 % needs and offers (half each), 16 % organisations, 4 % examples
(the proportions of ``bench/synthetic.py``). The directory is generated once by
``bench/synthetic.py`` into ``bench/out/data-<N>-s<seed>/`` and reused by later runs
(``ASSOCIE_BENCH_OUT`` sets another folder; the tests use a temporary one).

Each build runs in a subprocess of its own (a fresh interpreter, as in CI) through the real
``associe.build.build_site``: Pelican with our generator, the exports, then Pagefind. The child
only wraps the stage functions with timers (nothing in the product code is changed):

    startup        interpreter, imports, Pelican settings and init, editorial pages
    load_validate  geography + ``validation.check`` (YAML parsing, schemas, cross-file rules)
    enrich         ``enrich.enrich``
    match          the rest of ``pipeline.run_pipeline``: listing, ``matching.match``, inspiring examples
    render         every HTML page (``SiteModel``, ``generate_output``), autocomplete files, theme files
    exports        ``exports.write_exports``: feeds, JSON/CSV/GeoJSON, schemas, sitemap. ``associe build``
                   writes them in a forked process while Pagefind runs: the stage is then the wait
                   for that process after the index (its wall time) and that process's CPU time
    index          ``indexing.build_search_index``: the Pagefind CLI and the bundle's canonicalisation.
                   ``associe build`` runs it in a forked process as soon as the entry pages are
                   written, while the other pages are rendered: the stage is then the wait for that
                   process after Pelican's run (part of the index's work is inside ``render``)
    finish         the end of ``build_site`` and the interpreter's exit

For each stage: wall time, CPU time (ours plus that of the processes waited for during the
stage: forked render workers, Pagefind) and peak memory of the process tree *during that stage*:
the Python process's VmHWM, reset at each stage through ``/proc/self/clear_refs``; plus, sampled,
the private memory of forked render workers and Pagefind's own VmHWM (see ``TreeSampler``). For
``index`` the peak is the Python process's resident memory plus Pagefind's peak, i.e. what the
machine holds while Pagefind runs.

Cold (default): no validation cache (``ASSOCIE_CACHE_PATH`` = None, never the project's
``.cache/``), empty output folder. ``--warm``: a first build fills a cache in a temporary folder,
then one need is added and the site rebuilt into the same output folder; the figures are those of
that rebuild. ``--workers N`` overrides ``ASSOCIE_RENDER_WORKERS``; ``--profile FILE`` writes a
cProfile (CPU time) of the measured build's main process; ``--json FILE`` keeps the figures.

File system: a build writes one folder and one file per page (24,000 files at 10,000 entries).
On some virtual machines, creating files right after many were deleted (the previous run's
output, a test suite's temporary folders) costs 10 to 15 times more for a few minutes (measured
on the reference machine: 0.07 ms per folder + file when settled, up to 1 ms after deleting
90,000 files). Before each build the benchmark times the creation of ``PROBE_FILES`` folders
with a 3 KB page in its working folder and prints it (``# file system: …``); ``--settle`` waits
(up to ``SETTLE_MAX_S``) until that probe is under ``SETTLED_MS`` before measuring.

The last line is exactly ``total_s=<seconds> peak_mb=<MB>`` (wall time of the build subprocess,
largest stage peak). Figures vary with the machine's load: the header prints the load average
and the code revision; compare CPU times when the machine is shared.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = Path(os.environ.get("ASSOCIE_BENCH_OUT") or BENCH / "out")   # where generated directories are kept
STAGES = ("startup", "load_validate", "enrich", "match", "render", "exports", "index", "finish")
BUILD_DATE = "2026-11-24"          # bench/synthetic.py's DEFAULT_DATE: entries are dated around it


# ------------------------------------------------------------------------------ sizes and data
def proportions(entries: int) -> dict[str, int]:
    """N files → needs, offers, organisations, examples (sum exactly N)."""
    if entries < 10:
        raise ValueError("--entries : au moins 10")
    postings = round(entries * 0.80)
    organisations = round(entries * 0.16)
    examples = entries - postings - organisations
    return {"needs": postings // 2, "offers": postings - postings // 2, "organisations": organisations,
            "examples": examples}


def ensure_data(entries: int, seed: int) -> tuple[Path, bool]:
    """The synthetic directory for (N, seed), generated once; (folder, reused?)."""
    folder = OUT / f"data-{entries}-s{seed}"
    marker = folder / ".complete"
    if marker.is_file():
        return folder, True
    OUT.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"data-{entries}-s{seed}-", dir=OUT))
    counts = proportions(entries)
    command = [sys.executable, str(BENCH / "synthetic.py"), "--out", str(staging), "--seed", str(seed),
               "--date", BUILD_DATE]
    for name, value in counts.items():
        command += [f"--{name}", str(value)]
    try:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        written = sum(1 for _ in staging.rglob("*.yaml"))
        if written != entries:
            raise RuntimeError(f"bench/synthetic.py a écrit {written} fichiers au lieu de {entries}")
        (staging / ".complete").write_text(json.dumps({"entries": entries, "seed": seed, **counts}) + "\n")
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return folder, False


def link_copy(source: Path, target: Path) -> None:
    """A copy of the data folder made of hard links (cheap; files are only added, never edited)."""
    def link(src, dst):
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
    shutil.copytree(source, target, copy_function=link, ignore=shutil.ignore_patterns(".complete"))


def add_one_entry(content: Path) -> Path:
    """A new need: a copy of the first need under a new identifier (valid, distinct, listed)."""
    import yaml

    first = sorted((content / "besoins").glob("*.yaml"))[0]
    data = yaml.load(first.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    ident = "bench-ajout-" + data["identifiant"]
    data["identifiant"] = ident[:80].rstrip("-")
    data["titre"] = ("Nouvelle annonce : " + data["titre"])[:120]
    target = content / "besoins" / f"{data['identifiant']}.yaml"
    target.write_text(yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), allow_unicode=True,
                                sort_keys=False, width=100), encoding="utf-8")
    return target


def code_revision() -> str:
    """``<commit>`` or ``<commit>+dirty`` (uncommitted changes to plugins/, theme/ or pelicanconf.py)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "plugins", "theme", "pelicanconf.py"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def output_size(output: Path) -> dict:
    files = html = size = bundle_files = bundle_size = 0
    for root, _dirs, names in os.walk(output):
        in_bundle = Path(root).relative_to(output).parts[:1] == ("pagefind",)
        for name in names:
            bytes_ = os.stat(os.path.join(root, name)).st_size
            files += 1
            size += bytes_
            html += name.endswith(".html")
            if in_bundle:
                bundle_files += 1
                bundle_size += bytes_
    return {"files": files, "html": html, "size_mb": size / 2**20, "pagefind_files": bundle_files,
            "pagefind_mb": bundle_size / 2**20}


# ------------------------------------------------------------------------------ the child: one build
_STATUS = re.compile(r"^(VmHWM|VmRSS):\s+(\d+) kB", re.M)
_PRIVATE = re.compile(r"^Private_(?:Clean|Dirty):\s+(\d+) kB", re.M)


def _status_kib(pid: int | str = "self") -> dict[str, int]:
    with open(f"/proc/{pid}/status") as status:
        return {name: int(value) for name, value in _STATUS.findall(status.read())}


def _private_kib(pid: int) -> int:
    """Pages of ``pid`` that no other process shares (a forked worker's own memory)."""
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        return sum(int(value) for value in _PRIVATE.findall(rollup.read()))


def _reset_peak() -> bool:
    """Reset this process's VmHWM (Linux ≥ 4.0), so that each stage reports its own peak."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class TreeSampler(threading.Thread):
    """Memory of the whole process tree while it has descendants (render workers, Pagefind).

    The Python process's own peak is exact (VmHWM, reset at every stage). Descendants are sampled:
    a forked render worker shares most of its pages with us, so it counts for its private pages
    only (``smaps_rollup``; every ``slow`` seconds, reading it costs a few ms); a program started
    by exec (Pagefind) counts for its own VmHWM, read every ``fast`` seconds. ``RUSAGE_CHILDREN``'s
    max RSS cannot be used for either: a fork shares our pages, and on Linux a child started by
    fork/vfork + exec inherits its parent's high-water mark (the whole Python build)."""

    def __init__(self, fast: float = 0.05, slow: float = 0.5):
        super().__init__(daemon=True)
        self.fast, self.slow = fast, slow
        self.me = os.getpid()
        self.lock = threading.Lock()
        self.halt = threading.Event()
        self.tree_kib = 0          # largest (our RSS + descendants' own memory) seen in the current stage
        self.exec_hwm_kib = 0      # largest VmHWM of an exec'd descendant (Pagefind) in the current stage
        self.base_kib = 0          # our RSS when that descendant was first seen
        self._last_slow = 0.0
        self._parent_of: dict[int, int] = {}   # process → its parent, read once per process

    def _descendants(self) -> list[int]:
        """Our descendants. A process's parent is read once, when its number first appears in
        /proc (reading every process's ``stat`` at each sample cost 2 ms, 20 times a second, in
        a thread of the measured build)."""
        parent_of = self._parent_of
        alive = {int(name) for name in os.listdir("/proc") if name.isdigit()}
        for pid in list(parent_of):
            if pid not in alive:
                del parent_of[pid]
        for pid in alive - parent_of.keys():
            try:
                with open(f"/proc/{pid}/stat", "rb") as handle:
                    stat = handle.read()
                parent_of[pid] = int(stat[stat.rindex(b")") + 2:].split()[1])
            except (OSError, ValueError, IndexError):
                continue
        found, frontier = [], {self.me}
        while frontier:
            frontier = {pid for pid, ppid in parent_of.items() if ppid in frontier}
            found.extend(frontier)
        return found

    def sample(self) -> None:
        descendants = self._descendants()
        if not descendants:
            return
        now = time.monotonic()
        mine = _status_kib().get("VmRSS", 0)
        total, slow_due = mine, now - self._last_slow >= self.slow
        for pid in descendants:
            try:
                exe = os.readlink(f"/proc/{pid}/exe")
                if exe == os.readlink("/proc/self/exe"):      # a forked worker (or a Python helper)
                    if not slow_due:
                        continue
                    total += _private_kib(pid)
                else:                                          # Pagefind's binary
                    hwm = _status_kib(pid).get("VmHWM", 0)
                    with self.lock:
                        if not self.exec_hwm_kib:
                            self.base_kib = mine
                        self.exec_hwm_kib = max(self.exec_hwm_kib, hwm)
                    total += hwm
            except OSError:
                continue
        if slow_due:
            self._last_slow = now
        with self.lock:
            self.tree_kib = max(self.tree_kib, total)

    def take(self) -> tuple[int, int, int]:
        """(tree peak, exec'd descendant's peak, our RSS then) since the last call; resets them."""
        with self.lock:
            values = (self.tree_kib, self.exec_hwm_kib, self.base_kib)
            self.tree_kib = self.exec_hwm_kib = self.base_kib = 0
        return values

    def run(self) -> None:
        while not self.halt.wait(self.fast):
            self.sample()

    def stop(self) -> None:
        self.halt.set()
        self.join()


class Recorder:
    """Stage boundaries: ``close(name)`` ends the current stage under ``name`` and starts the next.

    A stage's CPU time is ours plus that of the descendants waited for during it (render
    workers, Pagefind); its peak is the largest memory the process tree held during it."""

    def __init__(self, spawned: float):
        self.stages: dict[str, dict] = {}
        self.resettable = _reset_peak()
        self.wall, self.cpu = spawned, 0.0          # the startup stage began when the parent spawned us
        self.children_cpu = _children_cpu()
        self.sampler = TreeSampler()
        self.sampler.start()

    def close(self, name: str) -> None:
        now, cpu, children_cpu = time.time(), time.process_time(), _children_cpu()
        own = (_status_kib().get("VmHWM", 0) if self.resettable
               else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        tree, exec_peak, base = self.sampler.take()
        stage = self.stages.setdefault(name, {"wall_s": 0.0, "cpu_s": 0.0, "peak_kib": 0})
        stage["wall_s"] += now - self.wall
        stage["cpu_s"] += (cpu - self.cpu) + (children_cpu - self.children_cpu)
        # Pagefind at its peak while we wait, holding our memory: an upper bound of what the machine needs.
        stage["peak_kib"] = max(stage["peak_kib"], own, tree, base + exec_peak if exec_peak else 0)
        if exec_peak:
            stage["exec_peak_kib"] = max(stage.get("exec_peak_kib", 0), exec_peak)
        self.wall, self.cpu, self.children_cpu = now, cpu, children_cpu
        _reset_peak()


def child(spec: dict) -> int:
    """One build with every stage timed; writes the figures to ``spec['result']`` as JSON."""
    recorder = Recorder(spec["spawned"])
    import associe.build as build
    import associe.exports as exports
    import associe.indexing as indexing
    import associe.pipeline as pipeline
    import associe.rendering as rendering

    cache_dir = Path(spec["cache"]) if spec.get("cache") else None
    info: dict = {}

    me = os.getpid()
    render_open = [True]

    def wrap(module, name, before=None, after=None):
        original = getattr(module, name)

        def wrapper(*args, **kwargs):
            here = os.getpid() == me       # not in a forked child (the exports' process): no timers there
            if before and here:
                before(args, kwargs)
            result = original(*args, **kwargs)
            if after and here:
                after(result)
            return result

        wrapper.__wrapped__ = original
        setattr(module, name, wrapper)

    def settings_done(settings):
        info["render_workers"] = settings.get("ASSOCIE_RENDER_WORKERS", 1)
        info["cache_path"] = settings.get("ASSOCIE_CACHE_PATH")

    def pipeline_start(args, kwargs):
        recorder.close("startup")
        # A generator that does not read ASSOCIE_CACHE_PATH yet: pass the cache folder ourselves.
        if cache_dir is not None and kwargs.get("cache_dir") is None:
            kwargs["cache_dir"] = cache_dir
        info["cache_dir"] = str(kwargs.get("cache_dir")) if kwargs.get("cache_dir") else None

    def check_done(result):
        recorder.close("load_validate")
        info["files_checked"] = getattr(result, "files", None)

    def pipeline_done(site):
        recorder.close("match")
        info["listed"] = {kind: len(entries) for kind, entries in site.listed.items()}
        info["expired"] = len(site.expired)
        info["pairs"] = len(getattr(site.matches, "pairs", None) or [])

    wrap(build, "pelican_settings", after=settings_done)
    wrap(rendering, "run_pipeline", before=pipeline_start, after=pipeline_done)
    wrap(pipeline, "check", after=check_done)
    wrap(pipeline, "enrich", after=lambda _r: recorder.close("enrich"))
    def close_render(*_args):
        if render_open[0]:
            recorder.close("render")
            render_open[0] = False

    # exports written in this process (a generator run without ASSOCIE_BACKGROUND_EXPORTS)…
    wrap(exports, "write_exports", before=close_render, after=lambda _r: recorder.close("exports"))
    wrap(indexing, "build_search_index", before=close_render, after=lambda _r: recorder.close("index"))
    # …or by a forked process started once the entry pages are written (``associe build``): "index"
    # is then the wait for it after Pelican's run, with its CPU and Pagefind's
    wrap(rendering, "wait_background_index", before=close_render, after=lambda _r: recorder.close("index"))
    # …or by a forked process during the index: "exports" is then the wait for it at the end, with
    # its CPU (counted when the process is reaped)
    wrap(rendering, "wait_background_exports", before=close_render, after=lambda _r: recorder.close("exports"))

    extra = {"ASSOCIE_CACHE_PATH": str(cache_dir) if cache_dir else None}   # cold: never the project's cache
    if spec.get("workers"):
        extra["ASSOCIE_RENDER_WORKERS"] = spec["workers"]
    run = lambda: build.build_site(Path(spec["output"]), dt.date.fromisoformat(spec["build_date"]),  # noqa: E731
                                   Path(spec["content"]), include_fictitious=True, search_index=spec["index"],
                                   extra_settings=extra)
    if spec.get("profile"):
        import cProfile

        profiler = cProfile.Profile(time.process_time)   # CPU time: meaningful on a busy machine too
        status = profiler.runcall(run)
        profiler.dump_stats(spec["profile"])
    else:
        status = run()
    if status == 0 and render_open[0]:
        recorder.close("render")
    recorder.close("finish")                # the end of build_site (it counts the HTML pages)
    recorder.sampler.stop()
    Path(spec["result"]).write_text(json.dumps({"status": status, "stages": recorder.stages, "info": info,
                                                "resettable": recorder.resettable,
                                                "finish_wall": time.time()}), encoding="utf-8")
    return status


# ------------------------------------------------------------------------------ the parent
def run_build(content: Path, output: Path, cache: Path | None, index: bool, profile: Path | None,
              label: str, workers: int | None = None) -> dict:
    """One build in a fresh interpreter; its figures (stages, total, peak)."""
    with tempfile.NamedTemporaryFile(prefix="bench-result-", suffix=".json", delete=False) as handle:
        result_path = Path(handle.name)
    spawned = time.time()
    spec = {"content": str(content), "output": str(output), "cache": str(cache) if cache else None,
            "build_date": BUILD_DATE, "index": index, "profile": str(profile) if profile else None,
            "result": str(result_path), "spawned": spawned, "workers": workers}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    completed = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)],
                               cwd=ROOT, stdout=subprocess.PIPE, text=True, encoding="utf-8", errors="replace")
    total = time.perf_counter() - start
    ended = time.time()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    for line in completed.stdout.splitlines():
        print(f"# [{label}] {line}")
    try:
        data = json.loads(result_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {"status": completed.returncode or 1, "stages": {}}
    finally:
        result_path.unlink(missing_ok=True)
    if completed.returncode or data.get("status"):
        raise SystemExit(f"erreur : la construction « {label} » a échoué (code {completed.returncode}).")
    stages = data["stages"]
    stages["finish"]["wall_s"] += max(0.0, ended - data["finish_wall"])   # + the interpreter's exit
    missing = [name for name in STAGES if name not in stages and (index or name != "index")]
    if missing:
        raise SystemExit(f"erreur : étapes non observées ({', '.join(missing)}) : le code de la construction a "
                         "changé, adaptez les points de mesure de bench/build.py.")
    data["total_s"] = total
    data["cpu_s"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    data["rusage_children_peak_kib"] = after.ru_maxrss     # largest process of the tree (cross-check)
    data["peak_kib"] = max(s["peak_kib"] for s in stages.values())
    return data


PROBE_FILES = 500
SETTLED_MS = 0.2          # ms per folder + file under which the file system is considered settled
SETTLE_MAX_S = 600
SETTLE_STEP_S = 20


def fs_probe(work: Path) -> float:
    """Milliseconds to create one folder holding a 3 KB ``index.html`` in ``work`` (mean of
    ``PROBE_FILES``; the probe folders stay until the working folder is deleted)."""
    probe = Path(tempfile.mkdtemp(prefix="fs-probe-", dir=work))
    page = b"x" * 3000
    start = time.perf_counter()
    for number in range(PROBE_FILES):
        folder = probe / f"p{number}"
        folder.mkdir()
        (folder / "index.html").write_bytes(page)
    return (time.perf_counter() - start) * 1000 / PROBE_FILES


def check_file_system(work: Path, settle: bool) -> float:
    """Probe the file system; with ``settle``, wait until it is settled (see the module's text)."""
    waited = 0
    speed = fs_probe(work)
    while settle and speed > SETTLED_MS and waited < SETTLE_MAX_S:
        print(f"# file system: {speed:.2f} ms per folder + file, waiting for it to settle "
              f"({waited} s so far)", flush=True)
        time.sleep(SETTLE_STEP_S)
        waited += SETTLE_STEP_S
        speed = fs_probe(work)
    state = "settled" if speed <= SETTLED_MS else "NOT settled: file writes cost more than usual"
    print(f"# file system: {speed:.2f} ms per folder + file ({state}; probe of {PROBE_FILES} in {work})",
          flush=True)
    return speed


def print_stages(data: dict) -> None:
    for name in STAGES:
        stage = data["stages"].get(name)
        if stage is None:
            continue
        line = (f"stage={name} wall_s={stage['wall_s']:.2f} cpu_s={stage['cpu_s']:.2f} "
                f"peak_mb={stage['peak_kib'] / 1024:.0f}")
        if name == "index":
            line += f" pagefind_peak_mb={stage.get('exec_peak_kib', 0) / 1024:.0f}"
        print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Mesure la construction complète d'un annuaire synthétique.")
    parser.add_argument("--entries", type=int, default=1000, help="nombre total de fichiers YAML (défaut 1000)")
    parser.add_argument("--warm", action="store_true",
                        help="mesurer la reconstruction après l'ajout d'une entrée (cache rempli par une 1re construction)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="garder le site construit dans ce dossier (remplacé s'il existe)")
    parser.add_argument("--profile", type=Path, help="profil cProfile (temps CPU) de la construction mesurée (fausse les temps)")
    parser.add_argument("--json", type=Path, help="écrire aussi les mesures dans ce fichier JSON")
    parser.add_argument("--workers", type=int,
                        help="processus de rendu (ASSOCIE_RENDER_WORKERS ; défaut : celui de pelicanconf.py)")
    parser.add_argument("--no-index", dest="index", action="store_false", help="sans index Pagefind")
    parser.add_argument("--settle", action="store_true",
                        help="attendre que le système de fichiers soit revenu à sa vitesse habituelle avant de mesurer")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(json.loads(args.child))

    if args.entries < 10:
        parser.error("--entries : au moins 10")
    counts = proportions(args.entries)
    print(f"# associe bench: {args.entries} entries ({counts['needs']} besoins, {counts['offers']} offres, "
          f"{counts['organisations']} organisations, {counts['examples']} exemples), seed {args.seed}, "
          f"{'warm (rebuild after adding one entry)' if args.warm else 'cold'}"
          f"{'' if args.index else ', no search index'}", flush=True)
    revision = code_revision()
    print(f"# machine: {os.cpu_count()} CPU, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"code {revision}", flush=True)
    started = time.perf_counter()
    data_dir, reused = ensure_data(args.entries, args.seed)
    shown = data_dir.relative_to(ROOT) if data_dir.is_relative_to(ROOT) else data_dir
    print(f"# data: {shown} ({'reused' if reused else 'generated'} in "
          f"{time.perf_counter() - started:.1f} s)", flush=True)
    work = Path(tempfile.mkdtemp(prefix="associe-bench-"))
    try:
        output = work / "site"
        if args.warm:
            content, cache = work / "content", work / "cache"
            link_copy(data_dir, content)
            check_file_system(work, args.settle)
            first = run_build(content, output, cache, args.index, None, "fill", args.workers)
            print(f"# first build (fills the cache): total_s={first['total_s']:.2f} "
                  f"peak_mb={first['peak_kib'] / 1024:.0f}", flush=True)
            added = add_one_entry(content)
            print(f"# added: {added.relative_to(content)}", flush=True)
            fs_ms = check_file_system(work, args.settle)
            data = run_build(content, output, cache, args.index, args.profile, "rebuild", args.workers)
        else:
            fs_ms = check_file_system(work, args.settle)
            data = run_build(data_dir, output, None, args.index, args.profile, "cold", args.workers)
        info = data.get("info", {})
        if info.get("listed"):
            listed = info["listed"]
            print(f"# listed: {listed.get('besoin', 0)} besoins, {listed.get('offre', 0)} offres, "
                  f"{listed.get('organisation', 0)} organisations, {listed.get('exemple', 0)} exemples; "
                  f"{info.get('expired', 0)} expired; {info.get('pairs', 0)} suggested pairs", flush=True)
        print(f"# render workers: {info.get('render_workers')}; validation cache: {info.get('cache_dir') or 'none'}",
              flush=True)
        if not data.get("resettable"):
            print("# note: /proc/self/clear_refs unavailable: stage peaks are the process's peak so far", flush=True)
        print(f"# cross-check: RUSAGE_CHILDREN max RSS {data['rusage_children_peak_kib'] / 1024:.0f} MB "
              f"(largest single process); CPU of the build {data['cpu_s']:.2f} s", flush=True)
        print_stages(data)
        size = output_size(output)
        print(f"output files={size['files']} html={size['html']} size_mb={size['size_mb']:.1f} "
              f"pagefind_files={size['pagefind_files']} pagefind_mb={size['pagefind_mb']:.1f}", flush=True)
        if args.keep:
            if args.keep.exists():
                shutil.rmtree(args.keep)
            args.keep.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(output), str(args.keep))
            print(f"# site kept in {args.keep}", flush=True)
        if args.json:
            record = {"entries": args.entries, "seed": args.seed, "mode": "warm" if args.warm else "cold",
                      "index": args.index, "load_average": os.getloadavg(), "code": revision, "counts": counts, "output": size,
                      "fs_probe_ms": fs_ms,
                      **{k: data[k] for k in ("stages", "info", "total_s", "cpu_s", "peak_kib")}}
            if args.warm:
                record["first_build"] = {k: first[k] for k in ("stages", "total_s", "cpu_s", "peak_kib")}
            args.json.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        print(f"total_s={data['total_s']:.2f} peak_mb={data['peak_kib'] / 1024:.0f}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
