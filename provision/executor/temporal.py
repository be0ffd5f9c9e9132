"""The temporal executors: a run's stages as activities of one durable workflow.

``temporal-local`` starts the Temporal dev server itself (SQLite under
``.provision/temporal/``) and runs an in-process worker on every task queue the
run uses, so a laptop gets durable runs with no set-up. ``temporal://host:port
[?namespace=NS]`` talks to an existing cluster; its stages run on the workers of
their task queues (``provision worker --queue NAME``), wherever they are.

One run per environment cluster-wide: the workflow id is the spec's and the
environment's, and a start while a workflow of that id runs is rejected
(``WorkflowIDConflictPolicy.FAIL``); a finished one's id may be used again.
Every payload is encrypted with the state passphrase (codec.py), failures too.
"""

from __future__ import annotations

import asyncio
import dataclasses
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Sequence
from urllib.parse import parse_qs, quote, urlsplit

from temporalio import converter
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from provision.engine.clouds import home_dir
from provision.engine.orchestrator import Orchestrator, refuse_protected
from provision.engine.report import ApplyReport, StageOutcome
from provision.errors import (ExecutorError, PolicyViolation, ProvisionError, RemoteStageError,
                              WorkflowError)
from provision.executor.activities import RunContext, StageActivities
from provision.executor.checkpoints import CheckpointStore
from provision.executor.codec import PassphraseCodec
from provision.executor.plans import PlanStore, checkpoint_dir, plan_dir
from provision.executor.rollout_activities import RolloutActivities
from provision.executor.rollout_workflow import RolloutEnvWorkflow, RolloutWorkflow
from provision.executor.records import (DEFAULT_QUEUE, EnvironmentJob, ErrorRecord, RunRef,
                                        StageRecord)
from provision.executor.temporal_server import NAMESPACE, DevServer
from provision.executor.workflows import EnvironmentWorkflow
from provision.plan.model import Plan
from provision.policy.model import Enforcement, PolicyReport, Result, Severity, Status
from provision.vocabulary import Operation, Phase, StageStatus

SCHEME = "temporal://"


@dataclass(frozen=True)
class Target:
    """Where the workflows run: the dev server this process starts, or a cluster."""

    address: str = ""                    # host:port; "" for the dev server
    namespace: str = NAMESPACE
    heartbeat_seconds: float = 30.0      # a stage silent this long is retried elsewhere
    ui: bool = False                     # temporal-local: serve the dev server's web UI
    # temporal://...?workers=in-process: in-process workers on every queue of the run, as
    # for the dev server (a rollout step's apply on a dev server its client started).
    in_process: bool = False

    @property
    def local(self) -> bool:
        return not self.address

    @classmethod
    def parse(cls, text: str) -> "Target":
        """``temporal-local`` or ``temporal://host:port[?namespace=NS]``; both take
        ``?heartbeat=SECONDS`` (how soon a dead worker's stage is retried elsewhere);
        ``temporal-local?ui=1`` serves the dev server's web UI while the run lasts."""
        local = text.split("?", 1)[0] == "temporal-local"
        if not local and not text.startswith(SCHEME):
            raise ExecutorError(f"unknown executor '{text}'",
                                hint="use local, temporal-local or temporal://host:port")
        parts = urlsplit(text)
        query = parse_qs(parts.query)
        try:
            heartbeat = float(query.get("heartbeat", ["30"])[0])
        except ValueError:
            raise ExecutorError(f"executor '{text}': heartbeat must be a number of seconds") from None
        namespace = query.get("namespace", [NAMESPACE])[0]
        if local:
            return cls("", namespace, heartbeat, query.get("ui", ["0"])[0] in ("1", "true"))
        if not parts.hostname or not parts.port:
            raise ExecutorError(f"executor '{text}' names no host:port",
                                hint="e.g. temporal://temporal.internal:7233?namespace=infra")
        return cls(f"{parts.hostname}:{parts.port}", namespace, heartbeat,
                   in_process=query.get("workers", [""])[0] == "in-process")

    def url(self, address: str) -> str:
        """This target as an executor name for the server at ``address`` (the dev server
        once started), with its namespace, heartbeat and in-process workers."""
        return (f"{SCHEME}{address}?namespace={quote(self.namespace)}"
                f"&heartbeat={self.heartbeat_seconds:g}"
                + ("&workers=in-process" if self.local or self.in_process else ""))


def data_converter(passphrase: str) -> converter.DataConverter:
    """JSON payloads sealed with the state passphrase; failure messages sealed too."""
    return dataclasses.replace(
        converter.default(), payload_codec=PassphraseCodec(passphrase),
        failure_converter_class=converter.DefaultFailureConverterWithEncodedAttributes)


async def connect(target: Target, address: str, passphrase: str) -> Client:
    """A client of ``address`` in the target's namespace, payloads sealed with ``passphrase``."""
    try:
        return await Client.connect(address, namespace=target.namespace,
                                    data_converter=data_converter(passphrase))
    except RuntimeError as exc:          # the SDK's "Failed client connect: ..."
        raise ExecutorError(f"cannot reach the Temporal server at {address}: {exc}",
                            hint="is it running, and is the address host:port of its "
                                 "frontend (gRPC, 7233 by default)?") from None


async def serve(stack: AsyncExitStack, target: Target, passphrase: str,
                db_file: Path | None = None) -> tuple[Client, dict[str, str]]:
    """A client of the target's server; for ``temporal-local`` the dev server is started on
    its SQLite file first (stopped when ``stack`` closes). Also where it is: ``address``,
    and for the dev server ``db_file`` and ``url`` (its web UI's workflow link prefix)."""
    address, where = target.address, dict[str, str]()
    if target.local:
        server = DevServer(db_file or home_dir() / "temporal" / "dev.sqlite", ui=target.ui)
        await asyncio.to_thread(server.start)
        stack.callback(server.stop)
        address = server.address
        where = {"db_file": str(server.db_file), "url": server.workflow_url("")}
    return await connect(target, address, passphrase), {"address": address, **where}


def sandboxed_runner() -> SandboxedWorkflowRunner:
    """Workflow code runs in Temporal's sandbox; provision's own modules are passed
    through (imported once, outside it: they hold no state the workflow could mutate)."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules("provision"))


def workflow_id(spec: str, env: str) -> str:
    return f"provision/{spec}/{env}"


def worker(client: Client, queue: str, activities: StageActivities | None, *,
           parallel: int = 4, workflows: bool = True,
           rollouts: RolloutActivities | None = None) -> Worker:
    """A worker on ``queue``: the workflows (environment, approval gate, rollout and its
    environments) and/or the stage activities and/or the rollout step activity."""
    acts: Sequence[Callable[..., object]] = activities.all() if activities else []
    if rollouts is not None:
        acts = [*acts, rollouts.step]
    return Worker(client, task_queue=queue,
                  workflows=[EnvironmentWorkflow, RolloutWorkflow,
                             RolloutEnvWorkflow] if workflows else [],
                  activities=acts,
                  activity_executor=ThreadPoolExecutor(max(1, parallel)) if acts else None,
                  workflow_runner=sandboxed_runner(),
                  max_concurrent_activities=max(1, parallel))


def _violation(stage: str, error: ErrorRecord) -> PolicyViolation:
    """A worker's policy violation again, with its blocking results (the CLI shows them and
    exits 3, as for an in-process gate)."""
    phase = Phase(error.phase)
    results = [Result(**{**r, "status": Status(r["status"]), "phase": Phase(r["phase"]),
                         "severity": Severity(r["severity"]),
                         "enforcement": Enforcement(r["enforcement"])}) for r in error.results]
    return PolicyViolation(stage, phase, PolicyReport(phase, "", stage, results))


def outcome_of(record: StageRecord) -> StageOutcome:
    """A stage's outcome from the record a worker returned (no error object travels)."""
    error: ProvisionError | None = None
    if record.error is not None and record.error.kind == "PolicyViolation" and record.error.phase:
        error = _violation(record.stage, record.error)
    elif record.error is not None:
        error = RemoteStageError(record.error.kind, record.error.message,
                                 hint=record.error.hint, resource=record.error.resource)
    return StageOutcome(record.stage, StageStatus(record.status), None, error,
                        record.reason, record.cause, record.seconds)


@dataclass
class TemporalExecutor:
    """Runs an environment's apply or destroy as one workflow on ``target``."""

    target: Target
    passphrase: str
    queues: dict[str, str] = field(default_factory=dict)     # stage -> task queue
    heartbeat_seconds: float | None = None                   # None: the target's
    max_attempts: int = 5
    db_file: Path | None = None                              # the dev server's SQLite
    # In-process workers on every queue the run uses (None: only for the dev server).
    in_process_workers: bool | None = None
    notice: Callable[[str], None] = lambda text: None
    recover: Callable[[], object] = lambda: None     # in-process workers: before a retried stage
    started: Callable[[dict[str, str]], None] = lambda workflow: None   # for the run record
    last_records: list[StageRecord] = field(default_factory=list)

    name = "temporal"

    def apply(self, orch: Orchestrator, plan: Plan, run: RunRef, *,
              check_fresh: bool = False) -> ApplyReport:
        order = orch.apply_order(plan)
        deps = {n: list(orch.stages.stage(n).depends_on) for n in order}
        plan_id = PlanStore(plan_dir()).put(plan, orch.registry)
        job = EnvironmentJob(run, Operation.APPLY.value, order, deps, deps,
                             {n: q for n, q in self.queues.items() if n in deps}, plan_id,
                             check_fresh, orch.parallel, self._heartbeat(), self.max_attempts)
        return self._execute(orch, job)

    def destroy(self, orch: Orchestrator, run: RunRef) -> ApplyReport:
        refuse_protected(orch.spec, orch.selection)
        order, dependents = orch.destroy_order()
        deps = {n: list(orch.stages.stage(n).depends_on) for n in order}
        job = EnvironmentJob(run, Operation.DESTROY.value, order, dependents, deps,
                             {n: q for n, q in self.queues.items() if n in deps},
                             parallel=orch.parallel, heartbeat_seconds=self._heartbeat(),
                             max_attempts=self.max_attempts)
        return self._execute(orch, job)

    def _heartbeat(self) -> float:
        return self.heartbeat_seconds or self.target.heartbeat_seconds

    def _execute(self, orch: Orchestrator, job: EnvironmentJob) -> ApplyReport:
        def resolve(ref: RunRef) -> RunContext:
            # In-process workers serve this run only: a task of an older workflow (its
            # client died) must never apply that workflow's plan with this run's engine.
            if ref != job.run:
                raise ExecutorError(f"a stage task of run '{ref.run_id}' reached run "
                                    f"'{job.run.run_id}''s in-process worker")
            return RunContext(orch, self.recover)

        activities = StageActivities(resolve, PlanStore(plan_dir()),
                                     checkpoints=CheckpointStore(checkpoint_dir(),
                                                                 self.passphrase))
        wid = workflow_id(orch.spec.name, orch.env.name)
        records, run_id = asyncio.run(self._run_workflow(wid, job, activities))
        self.last_records = records
        outcomes = []
        for record in records:
            taken = activities.take(run_id, record.stage)
            outcome = (replace(taken, seconds=record.seconds)
                       if taken is not None and taken.status.value == record.status
                       else outcome_of(record))
            if outcome.status is StageStatus.SKIPPED and outcome.cause:
                orch.hooks.stage_skipped(outcome.stage, outcome.reason)
            outcomes.append(outcome)
        return ApplyReport(outcomes)

    async def _run_workflow(self, wid: str, job: EnvironmentJob,
                            activities: StageActivities) -> tuple[list[StageRecord], str]:
        async with AsyncExitStack() as stack:
            client, where = await serve(stack, self.target, self.passphrase, self.db_file)
            address = where["address"]
            if self.target.local or self.target.in_process:
                self.notice(f"workflow {wid} on the Temporal dev server {address}"
                            + (f": {where['url']}{quote(wid, safe='')}" if self.target.ui
                               else ""))
            if self.in_process_workers or (self.in_process_workers is None and (
                    self.target.local or self.target.in_process)):
                # Local credentials serve every queue: one in-process worker per queue.
                for queue in sorted({DEFAULT_QUEUE, *job.queues.values()}):
                    await stack.enter_async_context(worker(
                        client, queue, activities, parallel=job.parallel,
                        workflows=queue == DEFAULT_QUEUE))
            handle = await self._start(client, wid, job)
            self.started({"id": wid, "run_id": handle.result_run_id or "",
                          "namespace": self.target.namespace,
                          **{k: v for k, v in where.items() if k != "url"}})
            try:
                records = await handle.result()
            except WorkflowFailureError as exc:
                raise WorkflowError(wid, str(exc.cause or exc)) from None
            return list(records), handle.result_run_id or ""
        raise AssertionError("unreachable")

    async def _start(self, client: Client, wid: str,
                     job: EnvironmentJob) -> WorkflowHandle[Any, list[StageRecord]]:
        """Start the environment's workflow; one of that id still running is refused, except
        on the dev server: this process holds the environment lock, so that workflow's
        client died (it is terminated, with a notice, and the run starts); the same with
        in-process workers on a server a rollout's client started (``?workers=in-process``)."""
        for attempt in (1, 2):
            try:
                return await client.start_workflow(
                    EnvironmentWorkflow.run, job, id=wid, task_queue=DEFAULT_QUEUE,
                    id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                    id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE)
            except WorkflowAlreadyStartedError:
                if not (self.target.local or self.target.in_process) or attempt > 1:
                    raise WorkflowError(
                        wid, "another run of this environment is in flight",
                        hint="wait for it, or inspect it with: temporal workflow describe "
                             f"--workflow-id {wid}") from None
                await client.get_workflow_handle(wid).terminate(
                    reason=f"its client died; run {job.run.run_id} holds the environment now")
                self.notice(f"terminated workflow {wid} of a run whose client died")
        raise AssertionError("unreachable")
