"""Matching benchmark: N synthetic needs × N synthetic offers over real communes.

    python bench/matching.py --needs 10000 --offers 10000 [--seed 1] [--k 5] [--workers 2]

Generation is not timed. Prints the counts, the time of each step and of ``associe.matching.match``
and the peak memory: the main process's max RSS (``resource.getrusage``, generation included)
plus the private memory of the second process that ``match`` forks on Linux (its other pages are
shared with the main process). Last line exactly ``matching_s=<seconds> peak_mb=<MB>``.

``--workers 1`` keeps everything in one process; ``--tracemalloc`` also reports the Python
allocations of the matching step alone (much slower: only for small N).
"""
from __future__ import annotations

import argparse
import gc
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import DEFAULT_DATE, ROOT, generate  # noqa: E402

sys.path.insert(0, str(ROOT / "plugins"))
from associe.matching import LAST_CHILD_PRIVATE_MB, LAST_TIMINGS, MatchSettings, match  # noqa: E402


def peak_mb() -> float:
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss   # KiB on Linux
    return kib / 1024 if sys.platform != "darwin" else kib / 1024 / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Mesure du temps et de la mémoire de la mise en relation.")
    parser.add_argument("--needs", type=int, default=10_000)
    parser.add_argument("--offers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2, help="processus (1 : un seul)")
    parser.add_argument("--tracemalloc", action="store_true")
    args = parser.parse_args(argv)

    directory = generate(needs=args.needs, offers=args.offers, organisations=max(2, (args.needs + args.offers) // 5),
                         examples=0, seed=args.seed, today=DEFAULT_DATE)
    needs, offers = directory.needs(), directory.offers()
    settings = MatchSettings(k=args.k, workers=args.workers)
    gc.collect()
    if args.tracemalloc:
        import tracemalloc

        tracemalloc.start()
    start = time.perf_counter()
    result = match(needs, offers, DEFAULT_DATE, settings)
    elapsed = time.perf_counter() - start
    if args.tracemalloc:
        _, traced = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"tracemalloc_peak_mb={traced / 1e6:.1f}")
    with_suggestions = sum(1 for s in result.for_need.values() if s)
    print(f"besoins={len(needs)} offres={len(offers)} ouverts={len(result.for_need)}+{len(result.for_offer)} "
          f"candidats={result.candidates} paires_valides={result.valid} paires_gardees={len(result.pairs)} "
          f"besoins_avec_suggestion={with_suggestions}")
    print("étapes_s " + " ".join(f"{step}={seconds:.2f}" for step, seconds in LAST_TIMINGS.items()))
    child = LAST_CHILD_PRIVATE_MB[0]
    print(f"mémoire : processus principal {peak_mb():.0f} Mo au plus, second processus {child:.0f} Mo en propre")
    print(f"matching_s={elapsed:.2f} peak_mb={peak_mb() + child:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
