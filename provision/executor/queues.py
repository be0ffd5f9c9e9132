"""Credential-scoped task queues: which workers may run which stage.

An environment's ``queues:`` maps a cloud (or ``"*"``, every cloud) to a Temporal
task queue, e.g. ``prod: {queues: {aws: prod-aws}}``: the stages of AWS resources in
``prod`` then run only on workers started with ``provision worker --queue prod-aws``,
on the machines that hold prod's AWS credentials. Stages no mapping names run on
the default queue.
"""

from __future__ import annotations

from provision.errors import ExecutorError
from provision.executor.records import DEFAULT_QUEUE
from provision.graph.stages import StageGraph
from provision.spec.model import Environment, Spec


def stage_queues(spec: Spec, env: Environment, stages: StageGraph) -> dict[str, str]:
    """stage -> task queue for every stage of ``stages`` in ``env``.

    Raises :class:`ExecutorError` when one stage holds resources of clouds mapped to
    different queues (no single worker could hold both credentials)."""
    found: dict[str, str] = {}
    for stage in stages.stages:
        queues = {env.queues.get(spec.resources[rid].cloud) or env.queues.get("*")
                  or DEFAULT_QUEUE for rid in stage.resources}
        if len(queues) > 1:
            raise ExecutorError(
                f"stage '{stage.name}' of environment '{env.name}' holds resources of clouds "
                f"mapped to different task queues ({', '.join(sorted(queues))})",
                hint="put each cloud's resources in stages of their own, or map them to one queue")
        found[stage.name] = queues.pop() if queues else DEFAULT_QUEUE
    return found
