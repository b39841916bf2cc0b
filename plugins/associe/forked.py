"""Two halves of a computation at once, the second in a forked child process (Linux).

The build machine has 2 cores and the heavy stages are pure Python: validation (parsing and
checking thousands of files) and matching (scoring the candidate pairs) each give half of their
work to a child made with ``os.fork``, which sees the parent's data for free (copy-on-write) and
sends its result back pickled through a pipe.

``in_two(here, there)`` is the one primitive: ``(here(), there())`` whatever happens. Should the
child fail in any way (an exception, a crash, a result that cannot be pickled), the parent
computes ``there()`` itself, so the results and any exception are those of the plain calls, in
the same order. An exception (or Ctrl-C) in the parent kills the child.
"""
from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import sys
from typing import Callable, Iterator, TypeVar

A = TypeVar("A")
B = TypeVar("B")

#: private memory of the largest child since a caller last set it to 0 (MB of pages the child
#: wrote itself, Linux): what the second process really costs, the rest of its memory being
#: shared with the parent (read by the benchmarks)
LAST_CHILD_PRIVATE_MB = [0.0]
_FAILED = object()


def can_fork() -> bool:
    """Linux with ``os.fork`` and at least two CPUs available to this process."""
    return (sys.platform.startswith("linux") and hasattr(os, "fork")
            and len(os.sched_getaffinity(0)) >= 2)


def private_mb() -> float:
    total_kb = 0
    try:
        with open("/proc/self/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith(("Private_Dirty:", "Private_Clean:")):
                    total_kb += int(line.split()[1])
    except (OSError, ValueError):
        return 0.0
    return total_kb / 1024


@contextlib.contextmanager
def without_cyclic_gc() -> Iterator[None]:
    """Python's cyclic garbage collector off inside the block (and back as it was after). For
    steps that allocate many small objects without reference cycles next to a large corpus:
    every full collection would scan the whole corpus again (at 50,000 entries, half the time of
    choosing the inspiring examples). Memory is still freed by reference counting."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def write_part(folder: str | os.PathLike, suffix: str, value: dict) -> None:
    """In a forked process: ``value`` (plain data: marshal) written into ``folder`` as
    ``<pid><suffix>``, complete or not at all, for the parent to read (``read_parts``)."""
    import marshal

    temporary = os.path.join(folder, f"{os.getpid()}.tmp")
    with open(temporary, "wb") as handle:
        marshal.dump(value, handle)
    os.replace(temporary, os.path.join(folder, f"{os.getpid()}{suffix}"))


def read_parts(folder: str | os.PathLike, suffix: str) -> Iterator[dict]:
    """The dictionaries written by ``write_part`` into ``folder`` (those that cannot be read are
    skipped: what they held is computed again when needed)."""
    import marshal

    names = sorted(name for name in os.listdir(folder) if name.endswith(suffix)) if os.path.isdir(folder) else []
    for name in names:
        try:
            with open(os.path.join(folder, name), "rb") as handle:
                value = marshal.load(handle)
        except (OSError, EOFError, ValueError, TypeError):
            continue
        if isinstance(value, dict):
            yield value


def in_two(here: Callable[[], A], there: Callable[[], B], parallel: bool = True) -> tuple[A, B]:
    """``(here(), there())``, ``there()`` computed by a forked child when ``parallel`` and
    ``can_fork()``; both in this process otherwise."""
    if not (parallel and can_fork()):
        return here(), there()
    reader, writer = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(reader)
        os.close(writer)
        return here(), there()
    if pid == 0:                                   # the child: compute, send, exit at once
        status = 1
        try:
            os.close(reader)
            gc.disable()                           # short-lived: nothing to collect before exit
            result = there()
            payload = pickle.dumps((result, private_mb()), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(writer, "wb") as stream:
                stream.write(payload)
            status = 0
        finally:
            os._exit(status)
    os.close(writer)
    payload = b""
    finished = False
    try:
        ours = here()
        with os.fdopen(reader, "rb") as stream:
            reader = -1
            payload = stream.read()
        finished = True
    finally:
        if not finished:                           # an exception here (or Ctrl-C): stop the child
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if reader != -1:
            os.close(reader)
        _, status = os.waitpid(pid, 0)
    theirs = _FAILED
    if status == 0 and payload:
        try:
            theirs, child_mb = pickle.loads(payload)  # noqa: S301 - our own child's
            LAST_CHILD_PRIVATE_MB[0] = max(LAST_CHILD_PRIVATE_MB[0], child_mb)
        except Exception:  # noqa: BLE001 - recomputed below
            theirs = _FAILED
    if theirs is _FAILED:
        theirs = there()
    return ours, theirs


class Job:
    """A function running in a forked child process (``start``)."""

    def __init__(self, pid: int):
        self.pid = pid
        self.status: int | None = None

    def wait(self) -> bool:
        """Wait for the child to end; True when it ended well (exit status 0)."""
        if self.status is None:
            _, self.status = os.waitpid(self.pid, 0)
        return self.status == 0

    def stop(self) -> None:
        """Kill the child (the build is failing or interrupted) and reap it."""
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.wait()


def start(function: Callable[[], object]) -> Job | None:
    """Run ``function()`` in a forked child while this process goes on; its result is dropped
    (the work is what it writes) and the child ends with status 1 if it raises (the traceback is
    printed) or returns False. None when forking is not possible: the caller runs it itself."""
    if not can_fork():
        return None
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:                                   # the child: work, then exit at once
        status = 1
        try:
            gc.disable()
            status = 0 if function() is not False else 1
        except BaseException:  # noqa: BLE001 - reported here, the parent fails the build
            import traceback

            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
    return Job(pid)
