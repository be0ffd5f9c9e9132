"""Run the nodes of a DAG as soon as their dependencies have succeeded.

One mechanism for plan, apply and destroy: a node starts when every node it
depends on has finished successfully (bounded by ``parallel`` workers), never
waiting for unrelated nodes (no level barrier). A node that did not succeed
stops only the nodes that depend on it, directly or through others: they are
skipped, each with the node that caused it; independent nodes run to
completion.

All bookkeeping happens in the calling thread; workers only run ``run(node)``
and hand back its result, so no shared mapping is written from two threads.
"""

from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Callable, Collection, Mapping, Sequence, TypeVar

R = TypeVar("R")


def schedule(order: Sequence[str], depends_on: Mapping[str, Collection[str]],
             run: Callable[[str], R], *, succeeded: Callable[[R], bool],
             skip: Callable[[str, str, R], R], parallel: int) -> dict[str, R]:
    """Run every node of ``order`` (a topological order) and return node -> result.

    ``depends_on[n]`` names the nodes ``n`` waits for; names outside ``order`` are
    taken as already done. ``skip(node, cause, cause_result)`` makes the result of a
    node that is not run because ``cause`` (a node it depends on, directly or not)
    did not succeed. Ready nodes start in ``order``. An exception raised by ``run`` stops
    the scheduling: nodes not started yet are not started, running ones finish,
    then the exception propagates.
    """
    known = set(order)
    waiting = {n: {d for d in depends_on.get(n, ()) if d in known and d != n} for n in order}
    dependents: dict[str, list[str]] = {n: [] for n in order}
    for node in order:
        for dep in waiting[node]:
            dependents[dep].append(node)
    results: dict[str, R] = {}
    ready = [n for n in order if not waiting[n]]
    position = {n: i for i, n in enumerate(order)}

    def block(node: str, cause: str) -> None:
        """Skip every not-yet-finished dependent of ``node``, transitively."""
        stack = list(dependents[node])
        while stack:
            dependent = stack.pop()
            if dependent in results:
                continue
            results[dependent] = skip(dependent, cause, results[cause])
            stack.extend(dependents[dependent])

    pool = ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="stage")
    running: dict[Future[R], str] = {}
    try:
        while ready or running:
            for node in sorted(ready, key=position.__getitem__):
                running[pool.submit(run, node)] = node
            ready = []
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: position[running[f]]):
                node = running.pop(future)
                result = future.result()
                results[node] = result
                if not succeeded(result):
                    block(node, node)
                    continue
                for dependent in dependents[node]:
                    waiting[dependent].discard(node)
                    if not waiting[dependent] and dependent not in results:
                        ready.append(dependent)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return {n: results[n] for n in order if n in results}
