"""The DAG scheduler behind plan, apply and destroy."""

from __future__ import annotations

import threading

import pytest

from provision.engine.schedule import schedule

# a -> b -> c ; d independent ; e depends on b and d
DEPS = {"a": [], "b": ["a"], "c": ["b"], "d": [], "e": ["b", "d"]}
ORDER = ["a", "d", "b", "c", "e"]


def test_a_node_starts_when_its_own_dependencies_are_done_not_a_whole_level() -> None:
    d_may_finish = threading.Event()
    started: list[str] = []
    lock = threading.Lock()

    def run(node: str) -> str:
        with lock:
            started.append(node)
        if node == "d":                     # slow and unrelated to b and c
            assert d_may_finish.wait(5), "c never started while d was running"
        if node == "c":
            d_may_finish.set()
        return "ok"

    results = schedule(ORDER, DEPS, run, succeeded=lambda r: r == "ok",
                       skip=lambda n, c, r: f"skipped by {c}", parallel=4)
    assert results == {n: "ok" for n in ORDER}
    assert started.index("c") < started.index("e")      # e waited for d


def test_a_failure_skips_only_its_dependents_transitively() -> None:
    ran: list[str] = []
    lock = threading.Lock()

    def run(node: str) -> str:
        with lock:
            ran.append(node)
        return "bad" if node == "a" else "ok"

    results = schedule(ORDER, DEPS, run, succeeded=lambda r: r == "ok",
                       skip=lambda n, c, r: f"skipped by {c} ({r})", parallel=2)
    assert results == {"a": "bad", "d": "ok", "b": "skipped by a (bad)",
                       "c": "skipped by a (bad)", "e": "skipped by a (bad)"}
    assert sorted(ran) == ["a", "d"]


def test_parallelism_is_bounded() -> None:
    running = 0
    peak = 0
    lock = threading.Lock()
    barrier = threading.Barrier(3, timeout=5)

    def run(node: str) -> str:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        barrier.wait()
        with lock:
            running -= 1
        return "ok"

    nodes = [f"n{i}" for i in range(6)]
    schedule(nodes, {}, run, succeeded=lambda r: True, skip=lambda n, c, r: r, parallel=3)
    assert peak == 3


def test_an_exception_stops_scheduling_and_propagates() -> None:
    ran: list[str] = []

    def run(node: str) -> str:
        ran.append(node)
        if node == "a":
            raise ValueError("boom")
        return "ok"

    with pytest.raises(ValueError, match="boom"):
        schedule(["a", "b"], {"b": ["a"]}, run, succeeded=lambda r: True,
                 skip=lambda n, c, r: r, parallel=2)
    assert ran == ["a"]
