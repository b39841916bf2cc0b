"""``forked.start``: a function run by a forked child while the caller goes on (the build's feeds
and exports are written that way while Pagefind runs); its failure is seen by ``wait``. And the
render shares forked while the search index is built beside them, at a lower priority."""
from __future__ import annotations

import os
import time

import pytest

from associe import forked

pytestmark = pytest.mark.skipif(not forked.can_fork(), reason="one core or no os.fork: the caller runs it")


def test_the_function_runs_in_another_process_and_wait_says_it_ended_well(tmp_path):
    marker = tmp_path / "pid"
    job = forked.start(lambda: marker.write_text(str(os.getpid())))
    assert job is not None
    assert job.wait() is True and job.wait() is True           # waiting twice is harmless
    assert int(marker.read_text()) != os.getpid()


def test_an_exception_or_false_is_a_failure(tmp_path, capfd):
    def broken():
        raise ValueError("exports cassés")

    assert forked.start(broken).wait() is False
    assert "exports cassés" in capfd.readouterr().err         # the traceback is printed
    assert forked.start(lambda: False).wait() is False


def test_stop_kills_a_running_child(tmp_path):
    marker = tmp_path / "late"
    job = forked.start(lambda: (time.sleep(30), marker.write_text("too late")))
    started = time.monotonic()
    job.stop()
    assert time.monotonic() - started < 10 and job.wait() is False and not marker.exists()


def _render_shares(tmp_path, pages, workers):
    from associe import rendering

    def render(share):
        for page in share:
            if page == "casse":
                raise ValueError("page cassée")
            (tmp_path / page).write_text(f"{os.getpid()} {os.nice(0)}")

    rendering.AssocieGenerator._render_in_processes(render, pages, workers)
    return {page: (tmp_path / page).read_text().split() for page in pages}


def test_pages_rendered_beside_the_search_index_are_rendered_by_children_that_yield(tmp_path, monkeypatch):
    from associe import rendering
    pages = [f"page-{i}" for i in range(10)]
    here = [str(os.getpid()), str(os.nice(0))]
    (tmp_path / "seul").mkdir()
    alone = _render_shares(tmp_path / "seul", pages, 2)
    assert here in alone.values() and len({pid for pid, _ in alone.values()}) == 2     # this process renders a share
    monkeypatch.setattr(rendering, "BACKGROUND_INDEX", [("index en cours", None)])
    (tmp_path / "avec-index").mkdir()
    beside = _render_shares(tmp_path / "avec-index", pages, 2)
    assert len({pid for pid, _ in beside.values()}) == 2 and str(os.getpid()) not in {pid for pid, _ in beside.values()}
    assert {int(nice) for _, nice in beside.values()} == {min(19, os.nice(0) + rendering.YIELD_TO_INDEX)}
    assert os.nice(0) == int(here[1])                                               # this process keeps its priority
    (tmp_path / "casse").mkdir()
    with pytest.raises(RuntimeError):
        _render_shares(tmp_path / "casse", ["page-a", "casse", "page-b"], 2)


def test_without_cyclic_gc_pauses_the_collector_and_restores_it_as_it_was():
    import gc

    from associe.forked import without_cyclic_gc

    assert gc.isenabled()
    with pytest.raises(ValueError):
        with without_cyclic_gc():
            assert not gc.isenabled()
            raise ValueError("une erreur dans le bloc")
    assert gc.isenabled()
    gc.disable()
    try:
        with without_cyclic_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()          # it was off: left off
    finally:
        gc.enable()
