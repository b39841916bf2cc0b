"""``forked.start``: a function run by a forked child while the caller goes on (the build's feeds
and exports are written that way while Pagefind runs); its failure is seen by ``wait``."""
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
