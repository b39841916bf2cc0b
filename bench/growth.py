"""How the pipeline stages grow with the directory's size, measured so that the host's speed cancels out.

    python bench/growth.py [--sizes 1000 10000 50000] [--rounds 3] [--seed 1]

The build machine is a shared virtual machine: the same work takes 25 to 50 % more CPU time in
its slow phases, which last minutes. Two full builds of different sizes (``bench/build.py``) are
taken minutes apart, so their ratio mixes the growth of a stage with the host's drift. Here the
sizes are measured **in turn** (1,000, 10,000, 50,000, then again, ``--rounds`` times), each in a
fresh interpreter running ``pipeline.run_pipeline`` on the synthetic directory of
``bench/build.py`` (same data, generated once), and the smallest CPU time of each stage over the
rounds is kept (the host's fastest phase seen by every size).

Stages, as in ``bench/build.py``:

    load_validate  geography + ``validation.check`` (both of its processes)
    enrich         ``enrich.enrich``
    match          the rest of ``run_pipeline``: listing, ``matching.match`` (both of its
                   processes), inspiring examples

CPU time is this process's plus that of its children waited for (``getrusage``). The table gives,
between two successive sizes, the ratio of the CPU times and the n log n bound
(n₂ log n₂ / n₁ log n₁). Rendering, exports and the search index are measured by full builds
(``bench/build.py``), see docs/performance.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import resource
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from build import BUILD_DATE, ROOT, ensure_data  # noqa: E402

STAGES = ("load_validate", "enrich", "match")


def cpu() -> float:
    """CPU seconds of this process and of its children waited for (microsecond resolution;
    ``os.times`` counts in hundredths)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def child(content: str) -> int:
    """One measurement: the pipeline on ``content``; prints the CPU time of each stage as JSON."""
    sys.path.insert(0, str(ROOT / "plugins"))
    from associe import pipeline

    marks: dict[str, float] = {}

    def timed(name, function):
        def wrapper(*args, **kwargs):
            result = function(*args, **kwargs)
            marks[name] = cpu()
            return result
        return wrapper

    pipeline.check = timed("load_validate", pipeline.check)
    pipeline.enrich = timed("enrich", pipeline.enrich)
    start = cpu()
    site = pipeline.run_pipeline(Path(content), dt.date.fromisoformat(BUILD_DATE))
    end = cpu()
    print(json.dumps({"load_validate": marks["load_validate"] - start,
                      "enrich": marks["enrich"] - marks["load_validate"],
                      "match": end - marks["enrich"],
                      "pairs": len(site.matches.pairs)}))
    return 0


def bound(small: int, large: int) -> float:
    return large * math.log(large) / (small * math.log(small))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Croissance des étapes du pipeline, tailles mesurées en alternance.")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child)
    sizes = sorted(set(args.sizes))
    if len(sizes) < 2 or args.rounds < 1:
        parser.error("au moins deux tailles et un tour")
    folders = {size: ensure_data(size, args.seed)[0] for size in sizes}
    best: dict[int, dict[str, float]] = {size: {} for size in sizes}
    for number in range(1, args.rounds + 1):
        for size in sizes:
            completed = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(folders[size])],
                                       cwd=ROOT, capture_output=True, text=True, check=False)
            if completed.returncode != 0:
                sys.stderr.write(completed.stdout + completed.stderr)
                return 1
            figures = json.loads(completed.stdout.strip().splitlines()[-1])
            print(f"round={number} entries={size} " + " ".join(f"{s}_cpu_s={figures[s]:.3f}" for s in STAGES)
                  + f" pairs={figures['pairs']}", flush=True)
            for stage in STAGES:
                best[size][stage] = min(best[size].get(stage, math.inf), figures[stage])
    print("# smallest CPU time of each stage over the rounds, and its growth between successive sizes")
    for size in sizes:
        print(f"entries={size} " + " ".join(f"{s}_cpu_s={best[size][s]:.3f}" for s in STAGES))
    verdict = True
    for small, large in zip(sizes, sizes[1:]):
        limit = bound(small, large)
        ratios = {s: best[large][s] / best[small][s] if best[small][s] > 0 else math.inf for s in STAGES}
        within = {s: ratios[s] <= limit for s in STAGES}
        verdict = verdict and all(within.values())
        print(f"growth {small}->{large}: bound_nlogn={limit:.2f} "
              + " ".join(f"{s}=x{ratios[s]:.2f}{'' if within[s] else '(over)'}" for s in STAGES))
    print(f"within_nlogn={'yes' if verdict else 'no'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
