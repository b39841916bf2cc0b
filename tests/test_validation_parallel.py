"""``validation._in_two_processes``: a forked child computes the second half; whatever happens
to it, the result (or the exception) is that of the plain loop."""
from __future__ import annotations

import os

import pytest

from associe import validation


@pytest.fixture(autouse=True)
def two_processes(monkeypatch):
    monkeypatch.setattr(validation, "PARALLEL_MIN_FILES", 2)
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core: always one process")


def test_results_in_order_from_both_processes():
    parent = os.getpid()
    result = validation._in_two_processes(list(range(50)), lambda x: (x * x, os.getpid() == parent))
    assert [r[0] for r in result] == [x * x for x in range(50)]
    assert [r[1] for r in result] == [True] * 25 + [False] * 25


def test_pack_and_unpack_carry_the_childs_results():
    result = validation._in_two_processes(list(range(6)), lambda x: {"x": x}, pack=lambda item, r: r["x"],
                                          unpack=lambda item, packed: {"x": packed, "item": item})
    assert result == [{"x": 0}, {"x": 1}, {"x": 2}, {"x": 3, "item": 3}, {"x": 4, "item": 4}, {"x": 5, "item": 5}]


def test_a_failing_child_is_replaced_by_the_parent():
    parent = os.getpid()

    def work(x):
        if os.getpid() != parent:
            raise RuntimeError("only in the child")
        return x + 1

    assert validation._in_two_processes(list(range(10)), work) == list(range(1, 11))


def test_an_unpicklable_result_is_computed_again_by_the_parent():
    result = validation._in_two_processes(list(range(4)), lambda x: (lambda: x))
    assert [f() for f in result] == [0, 1, 2, 3]


def test_an_error_in_the_parent_stops_the_child_and_is_raised():
    parent = os.getpid()

    def work(x):
        if os.getpid() == parent and x == 1:
            raise ValueError("parent")
        return x

    with pytest.raises(ValueError, match="parent"):
        validation._in_two_processes(list(range(10)), work)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)        # no child left behind


def test_an_error_everywhere_is_the_error_of_the_plain_loop():
    with pytest.raises(ZeroDivisionError):
        validation._in_two_processes(list(range(4)), lambda x: 1 / (x - 3))
