"""Outcomes from remote workers: a stage record carries no error object, so the client
rebuilds one; a policy violation comes back as a PolicyViolation with its results (the
CLI shows them and exits 3, as for an in-process gate)."""

from __future__ import annotations

import json
from dataclasses import asdict

from provision.engine.orchestrator import StageOutcome
from provision.errors import PolicyViolation, RemoteStageError, StageFailedError
from provision.executor.activities import record_of
from provision.executor.records import ErrorRecord, StageRecord
from provision.executor.temporal import outcome_of
from provision.policy.model import Enforcement, PolicyReport, Result, Status
from provision.vocabulary import Phase, StageStatus


def _through_json(record: StageRecord) -> StageRecord:
    """What the data converter does to a record (JSON), by hand."""
    data = json.loads(json.dumps(asdict(record)))
    error = ErrorRecord(**data.pop("error")) if data["error"] else None
    return StageRecord(**{**data, "error": error})


def test_a_policy_violation_comes_back_with_its_blocking_results() -> None:
    result = Result("no-public", "pack", Status.FAIL, "logs", "aws:s3:Bucket", "aws", Phase.PRE,
                    "public buckets are forbidden", "spec.yaml", 12,
                    enforcement=Enforcement.MANDATORY)
    verdict = PolicyReport(Phase.PRE, "prod", "aws", [result])
    outcome = StageOutcome("aws", StageStatus.BLOCKED,
                           error=PolicyViolation("aws", Phase.PRE, verdict))
    back = outcome_of(_through_json(record_of(outcome, worker="w1")))
    assert back.status is StageStatus.BLOCKED
    assert isinstance(back.error, PolicyViolation)
    assert back.error.message == outcome.error.message if outcome.error else False
    assert back.error.verdict.blocking_results() == [result]


def test_other_errors_come_back_with_their_class_name_message_and_resource() -> None:
    outcome = StageOutcome("net", StageStatus.FAILED,
                           error=StageFailedError("net", "quota exceeded", hint="ask for more",
                                                  resource="vpc"))
    back = outcome_of(_through_json(record_of(outcome)))
    assert isinstance(back.error, RemoteStageError)
    assert (back.error.kind, back.error.message, back.error.hint, back.error.resource) == (
        "StageFailedError", "stage 'net' failed: quota exceeded", "ask for more", "vpc")
    assert back.status is StageStatus.FAILED
