"""bench/build.py on a small synthetic directory: the output format and the built site, never a timing.

The benchmark's own figures (1,000 / 10,000 / 50,000 entries) are in docs/performance.md; here
only the contract of its output is checked: one line per stage with wall time and peak memory,
the output size, and a last line exactly ``total_s=<seconds> peak_mb=<MB>``."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench" / "build.py"
STAGES = ["startup", "load_validate", "enrich", "match", "render", "exports", "index", "finish"]
NUMBER = r"\d+(?:\.\d+)?"
STAGE_LINE = re.compile(rf"stage=(\w+) wall_s=({NUMBER}) cpu_s=({NUMBER}) peak_mb=({NUMBER})(?: pagefind_peak_mb=({NUMBER}))?")
OUTPUT_LINE = re.compile(rf"output files=(\d+) html=(\d+) size_mb=({NUMBER}) pagefind_files=(\d+) pagefind_mb=({NUMBER})")
LAST_LINE = re.compile(rf"total_s=({NUMBER}) peak_mb=({NUMBER})")


def run_bench(tmp_path: Path, *options: str) -> tuple[list[str], Path]:
    site = tmp_path / "site"
    env = {**os.environ, "ASSOCIE_BENCH_OUT": str(tmp_path / "data")}
    completed = subprocess.run([sys.executable, str(BENCH), "--entries", "200", "--seed", "3", "--keep", str(site),
                                *options], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout.splitlines(), site


def check_format(lines: list[str]) -> None:
    stages = [STAGE_LINE.fullmatch(line) for line in lines if line.startswith("stage=")]
    assert all(stages), [line for line in lines if line.startswith("stage=")]
    assert [m.group(1) for m in stages] == STAGES
    index = next(m for m in stages if m.group(1) == "index")
    assert index.group(5) is not None                      # Pagefind's own peak is reported
    assert all(float(m.group(4)) > 0 for m in stages)
    outputs = [OUTPUT_LINE.fullmatch(line) for line in lines if line.startswith("output ")]
    assert len(outputs) == 1 and outputs[0], lines
    files, html, _, bundle_files, _ = outputs[0].groups()
    assert int(files) > int(html) > 200 and int(bundle_files) > 0
    last = LAST_LINE.fullmatch(lines[-1])
    assert last, lines[-1]
    assert float(last.group(2)) >= max(float(m.group(4)) for m in stages) - 1
    assert lines.count(lines[-1]) == 1 and all(not LAST_LINE.match(line) for line in lines[:-1])


def check_site(site: Path, needs: int) -> None:
    assert (site / "index.html").is_file()
    assert len(list((site / "besoins").glob("*/index.html"))) == needs
    assert (site / "pagefind" / "pagefind-entry.json").is_file()
    assert (site / "sitemap.xml").is_file() and (site / "donnees" / "annuaire.json").is_file()


def test_cold_build_prints_every_stage_and_builds_the_site(tmp_path):
    lines, site = run_bench(tmp_path)
    assert lines[0].startswith("# associe bench: 200 entries (80 besoins, 80 offres, 32 organisations, 8 exemples)")
    check_format(lines)
    check_site(site, 80)
    probe = [line for line in lines if line.startswith("# file system: ")]
    assert len(probe) == 1 and re.match(rf"# file system: {NUMBER} ms per folder \+ file \(", probe[0]), probe
    assert len(list((tmp_path / "data" / "data-200-s3").rglob("*.yaml"))) == 200   # kept for the next run


def test_warm_rebuild_adds_one_entry(tmp_path):
    lines, site = run_bench(tmp_path, "--warm")
    check_format(lines)
    assert any(line.startswith("# first build (fills the cache): total_s=") for line in lines)
    check_site(site, 81)                                    # the added need has its page
    assert len(list((tmp_path / "data" / "data-200-s3").rglob("*.yaml"))) == 200   # data left untouched


def test_too_small_is_refused(tmp_path):
    completed = subprocess.run([sys.executable, str(BENCH), "--entries", "5"], cwd=ROOT,
                               env={**os.environ, "ASSOCIE_BENCH_OUT": str(tmp_path)},
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 2 and "--entries" in completed.stderr
    assert not any(tmp_path.iterdir())


def load_bench_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_build", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_settle_waits_until_file_creation_is_back_to_its_usual_speed(tmp_path, monkeypatch, capsys):
    bench = load_bench_module()
    speeds = iter([0.9, 0.5, 0.05])
    monkeypatch.setattr(bench, "fs_probe", lambda work: next(speeds))
    monkeypatch.setattr(bench, "SETTLE_STEP_S", 0)
    assert bench.check_file_system(tmp_path, settle=True) == 0.05
    out = capsys.readouterr().out.splitlines()
    assert [line.split(" ms")[0] for line in out] == ["# file system: 0.90", "# file system: 0.50", "# file system: 0.05"]
    assert "waiting" in out[0] and "(settled;" in out[-1]


def test_without_settle_a_slow_file_system_is_reported_not_waited_for(tmp_path, monkeypatch, capsys):
    bench = load_bench_module()
    monkeypatch.setattr(bench, "fs_probe", lambda work: 0.9)
    assert bench.check_file_system(tmp_path, settle=False) == 0.9
    assert "NOT settled" in capsys.readouterr().out


def test_probe_measures_real_folder_and_file_creation(tmp_path):
    bench = load_bench_module()
    assert bench.fs_probe(tmp_path) > 0
    probes = list(tmp_path.glob("fs-probe-*/p*/index.html"))
    assert len(probes) == bench.PROBE_FILES and probes[0].stat().st_size == 3000


def test_growth_measures_the_sizes_in_turn_and_compares_with_n_log_n(tmp_path):
    """bench/growth.py on two small sizes, one round: a line per measurement, the smallest CPU
    time of each stage per size, the growth against the n log n bound, a verdict."""
    growth = ROOT / "bench" / "growth.py"
    completed = subprocess.run([sys.executable, str(growth), "--sizes", "100", "200", "--rounds", "1", "--seed", "3"],
                               cwd=ROOT, env={**os.environ, "ASSOCIE_BENCH_OUT": str(tmp_path)},
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    lines = completed.stdout.splitlines()
    stage = rf"load_validate_cpu_s=({NUMBER}) enrich_cpu_s=({NUMBER}) match_cpu_s=({NUMBER})"
    rounds = [re.fullmatch(rf"round=1 entries=(\d+) {stage} pairs=(\d+)", line) for line in lines if line.startswith("round=")]
    assert [m.group(1) for m in rounds if m] == ["100", "200"]
    assert float(rounds[1].group(2)) > 0 and int(rounds[1].group(5)) >= 0
    assert [line for line in lines if line.startswith("entries=")] == [
        f"entries={m.group(1)} load_validate_cpu_s={m.group(2)} enrich_cpu_s={m.group(3)} match_cpu_s={m.group(4)}"
        for m in rounds]
    [ratio] = [line for line in lines if line.startswith("growth ")]
    assert re.fullmatch(rf"growth 100->200: bound_nlogn=2\.30 load_validate=x{NUMBER}(\(over\))? "
                        rf"enrich=x({NUMBER}|inf)(\(over\))? match=x{NUMBER}(\(over\))?", ratio), ratio
    assert re.fullmatch(r"within_nlogn=(yes|no)", lines[-1])
    assert ("(over)" in ratio) == (lines[-1] == "within_nlogn=no")
