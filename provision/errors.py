"""The one error hierarchy of provision.

Every failure a user can cause or meet is one of these; the CLI turns them into a
clear message and exit code 1 (never a traceback). Leaf errors are named for the
situation and carry the context that failed (file, line, resource, stage).

    ProvisionError                      base; ``hint`` says what to do next
    ├── SpecError                       the spec cannot be used; carries all diagnostics
    │   └── SpecNotFoundError           the spec file does not exist
    ├── InputFileError                  a named input file is a directory, a loop, a FIFO, ...
    ├── EnvironmentNotFoundError        ``--env`` names no environment of the spec
    ├── GraphError                      resource or stage ordering is impossible
    │   └── CycleError                  a dependency cycle, with its path
    ├── PlanError                       a plan cannot be made or applied
    │   ├── StalePlanError              a saved plan no longer matches spec or state
    │   ├── UnresolvedReferenceError    at apply, a reference to another stage has no value
    │   ├── RenamedResourceError        a plan creates one id and deletes another that name
    │   │                                   the same cloud resource (an id was renamed)
    │   ├── ProtectedResourceError      a destroy covers resources marked ``protect: true``
    │   └── PolicyBypassRefusedError    ``--no-policy`` on a protected environment without
    │                                   ``--unsafe-bypass-policy``
    ├── EngineError                     the Pulumi engine failed or is missing
    │   ├── ToolchainError              the Pulumi CLI is not installed / wrong version
    │   ├── StageFailedError            one stage's update failed (others stay recorded)
    │   ├── LiveCheckError              a stage applied, but its live state could not be read
    │   ├── EnvironmentLockedError      another live run holds the environment lock
    │   ├── StackLockedError            another process holds a stack's update lock
    │   ├── RecoveryError               a crashed run's state cannot be repaired safely
    │   ├── PassphraseError             the state passphrase does not open a stack
    │   └── ImportRefusedError          a resource cannot be imported (not in the spec,
    │                                   or already managed)
    ├── ProviderError                   a cloud adapter failed
    │   ├── CredentialsError            a cloud credential is missing or rejected
    │   └── CloudError                  the cloud API answered with an error
    ├── SandboxError                    the local emulators cannot be started/used
    │   └── SandboxNotRunningError      an environment needs the sandbox, which is down
    ├── ExecutorError                   the chosen executor cannot run (bad --executor,
    │   │                                   no Temporal CLI, server unreachable)
    │   ├── WorkflowError                   a Temporal workflow of this run failed or is a duplicate
    │   └── RemoteStageError                a stage failed on a worker elsewhere (its error's
    │                                       class name and message, as the worker reported them)
    ├── PolicyError                     a policy pack or rule is broken (not a violation)
    ├── PolicyViolation                 a mandatory rule failed at a gate; the stage stopped (exit 3)
    └── HistoryError                    the run history cannot be opened or written
        └── RunNotFoundError            no run has this id (or the prefix is ambiguous)
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

from provision.vocabulary import Phase


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a spec, located precisely."""

    message: str
    file: str = ""
    line: int = 0
    column: int = 0
    resource: str = ""
    hint: str = ""

    def render(self) -> str:
        where = self.file or "<spec>"
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        text = f"{where}: "
        if self.resource:
            text += f"resource '{self.resource}': "
        text += self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class ProvisionError(Exception):
    """Base of every error provision raises on purpose.

    ``reported`` is set once a command's ``--json`` events carried the error (an
    ``error`` event before ``run_finished``), so the CLI does not emit it again."""

    reported: bool = False

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        return f"{self.message}" + (f"\n  hint: {self.hint}" if self.hint else "")


class SpecError(ProvisionError):
    """The spec has one or more problems; all of them are in ``diagnostics``."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        count = len(self.diagnostics)
        super().__init__(f"{count} error{'s' if count != 1 else ''} in spec")

    def render(self) -> str:
        lines = [f"error: {d.render()}" for d in self.diagnostics]
        lines.append(self.message)
        return "\n".join(lines)


class SpecNotFoundError(SpecError):
    def __init__(self, path: str) -> None:
        super().__init__(
            [Diagnostic(f"spec file not found: {path}", file=path,
                        hint="check the path; specs usually live in stacks/")]
        )


class InputFileError(ProvisionError):
    """An input file (spec, policy file) cannot be read as text; ``reason`` says why."""

    def __init__(self, path: str, what: str, reason: str) -> None:
        self.path = path
        self.what = what
        self.reason = reason
        super().__init__(f"{what} {path}: {reason}",
                         hint="give the path of a regular UTF-8 text file")


class EnvironmentNotFoundError(ProvisionError):
    def __init__(self, env: str, spec_file: str, known: list[str]) -> None:
        super().__init__(
            f"{spec_file}: unknown environment '{env}'",
            hint=f"environments defined: {', '.join(known) or 'none'}",
        )
        self.env = env


class GraphError(ProvisionError):
    pass


class CycleError(GraphError):
    def __init__(self, path: list[str], *, what: str = "resources", detail: str = "") -> None:
        self.path = path
        msg = f"dependency cycle between {what}: {' -> '.join(path)}"
        if detail:
            msg += f"\n{detail}"
        super().__init__(msg, hint="break the cycle by removing a reference or a depends_on")


class PlanError(ProvisionError):
    pass


class StalePlanError(PlanError):
    pass


class ProtectedResourceError(PlanError):
    """A destroy would delete resources marked ``protect: true``; nothing was deleted."""

    def __init__(self, resources: list[tuple[str, str]]) -> None:
        self.resources = [rid for rid, _ in resources]
        named = ", ".join(f"'{rid}' ({where})" if where else f"'{rid}'"
                          for rid, where in resources)
        excludes = " ".join(f"--exclude {rid}" for rid in self.resources)
        super().__init__(
            f"destroy refused: protected resource(s) {named} would be deleted; "
            "nothing was deleted",
            hint=f"to keep them, destroy the rest with {excludes}; to delete them, set "
                 "'protect: false' on them, apply, then destroy")


class PolicyBypassRefusedError(PlanError):
    """``--no-policy`` would skip the policies of the protected environments ``envs``
    and the explicit bypass flag ``flag`` was not given; nothing ran."""

    def __init__(self, envs: list[str], command: str, flag: str) -> None:
        self.envs = list(envs)
        named = ", ".join(f"'{e}'" for e in envs)
        super().__init__(
            f"--no-policy refused: environment {named} is protected; its mandatory policies "
            "are not skipped by --no-policy alone, and nothing was changed",
            hint=f"drop --no-policy (fix the violation, or record a waiver in "
                 f"policies/waivers.yaml), or, to change {named} with no policy checked, "
                 f"add {flag}: `provision {command} ... --no-policy {flag}` (recorded in "
                 "the run history and the audit log)")


class RenamedResourceError(PlanError):
    """A plan would create ``new`` and delete ``old``, two ids that name the same cloud
    resource (``cloud_name``): the spec renamed an id. The create would meet the
    existing resource and the delete would then remove it; nothing was applied."""

    def __init__(self, old: str, new: str, type_name: str, cloud_name: str,
                 where: str = "") -> None:
        self.old, self.new, self.cloud_name = old, new, cloud_name
        at = f" ({where})" if where else ""
        super().__init__(
            f"plan refused: resource '{new}'{at} would be created and '{old}' deleted, but "
            f"both are the {type_name} {cloud_name}: renaming a resource's id deletes the "
            "resource and creates it again",
            hint=f"to keep the resource under its new id, add 'moved_from: {old}' to "
                 f"'{new}' (the plan then shows the move, and nothing changes in the cloud); "
                 f"to replace it, give '{new}' another name")


class UnresolvedReferenceError(PlanError):
    """At apply, ``reference`` (to a resource of an upstream stage, which has applied)
    has no recorded value; nothing of ``resource`` is sent to the cloud."""

    def __init__(self, resource: str, reference: str, *, where: str = "") -> None:
        self.resource, self.reference = resource, reference
        prefix = f"{where}: " if where else ""
        super().__init__(
            f"{prefix}resource '{resource}': {reference} has no value after its stage "
            "applied; nothing was sent to the cloud for this resource",
            hint="run `provision plan` to see the upstream resource's state, "
                 "then apply again")


class EngineError(ProvisionError):
    pass


class ToolchainError(EngineError):
    pass


class ImportRefusedError(EngineError):
    pass


class StageFailedError(EngineError):
    def __init__(self, stage: str, message: str, *, hint: str = "", resource: str = "") -> None:
        self.stage = stage
        self.reason = message
        self.resource = resource
        super().__init__(f"stage '{stage}' failed: {message}", hint=hint)


class LiveCheckError(EngineError):
    """``stage`` applied (its changes are in the cloud and recorded in state), but reading
    its live state back for the post-stage gate failed, retries included."""

    def __init__(self, stage: str, message: str, *, resource: str = "") -> None:
        self.stage, self.reason, self.resource = stage, message, resource
        super().__init__(
            f"stage '{stage}' applied; live check failed: {message}",
            hint="the changes are applied and recorded in state; once the cloud answers, run "
                 "`provision policy check SPEC --env ENV --phase post`, or apply again")


def command_arg(value: str) -> str:
    """``value`` as one word of a command a user can paste (placeholders stay bare)."""
    return value if value in ("SPEC", "ENV") else shlex.quote(value)


class EnvironmentLockedError(EngineError):
    """Another run that may still be alive holds the lock of this spec and environment.

    The hint names the command that removes the lock; the command line fills in the
    spec file the user gave with :meth:`name_command` (the lock knows only the spec's
    name)."""

    def __init__(self, spec: str, env: str, holder: str, *, location: str = "",
                 spec_file: str = "SPEC") -> None:
        self.spec, self.env, self.holder, self.location = spec, env, holder, location
        where = f" (lock {location})" if location else ""
        super().__init__(f"environment '{env}' of spec '{spec}' is locked by {holder}{where}")
        self.name_command(spec_file, env)

    def name_command(self, spec_file: str, env: str) -> None:
        self.hint = ("wait for that run to finish; if it is gone for good, remove the lock "
                     f"with: provision unlock {command_arg(spec_file)} --env {command_arg(env)}")


class StackLockedError(EngineError):
    """Another process that may still run holds the update lock of a stack (``what`` is
    "stack" or "stage"); ``holder`` says who, where, since when, and which lock."""

    def __init__(self, stack: str, holder: str, *, what: str = "stack", hint: str = "") -> None:
        self.stack, self.holder = stack, holder
        super().__init__(f"{what} '{stack}' is locked by {holder}", hint=hint)
        if not hint:
            self.name_command("SPEC", "ENV")

    def name_command(self, spec_file: str, env: str) -> None:
        """The hint with the repair command for ``spec_file`` and ``env``."""
        self.hint = ("wait for that run to finish; if it died, run: provision repair "
                     f"{command_arg(spec_file)} --env {command_arg(env)} (it clears locks of "
                     "processes that are gone)")


class RecoveryError(EngineError):
    pass


class PassphraseError(EngineError):
    pass


class ProviderError(ProvisionError):
    def __init__(self, message: str, *, resource: str = "", resource_type: str = "",
                 hint: str = "") -> None:
        self.resource = resource
        self.resource_type = resource_type
        self.detail = message          # the message without the resource prefix
        prefix = f"{resource} ({resource_type}): " if resource else ""
        super().__init__(prefix + message, hint=hint)


class CredentialsError(ProviderError):
    pass


class CloudError(ProviderError):
    pass


class SandboxError(ProvisionError):
    pass


class SandboxNotRunningError(SandboxError):
    def __init__(self, env: str = "local") -> None:
        super().__init__(
            f"environment '{env}' targets the local sandbox, which is not running",
            hint="start it with: provision sandbox up",
        )


class ExecutorError(ProvisionError):
    pass


class WorkflowError(ExecutorError):
    """A workflow of this run failed, or another run of the same environment holds its id."""

    def __init__(self, workflow_id: str, message: str, *, hint: str = "") -> None:
        self.workflow_id = workflow_id
        super().__init__(f"workflow {workflow_id}: {message}", hint=hint)


class RemoteStageError(ExecutorError):
    def __init__(self, kind: str, message: str, *, hint: str = "", resource: str = "") -> None:
        self.kind, self.resource = kind, resource
        super().__init__(message, hint=hint)


class PolicyError(ProvisionError):
    pass


class PolicyViolation(ProvisionError):
    """A mandatory policy failed at the ``phase`` gate of ``stage``; the stage stopped.

    ``verdict`` is the gate's report (a :class:`provision.policy.PolicyReport` in
    the product): its ``blocking_results()`` name each rule, resource and location.
    """

    def __init__(self, stage: str, phase: Phase, verdict: Any) -> None:
        self.stage, self.phase, self.verdict = stage, phase, verdict
        super().__init__(f"mandatory policy violation at the {phase.value} gate of stage '{stage}'",
                         hint="fix the resource or the rule, or record a waiver")


class HistoryError(ProvisionError):
    pass


class RunNotFoundError(HistoryError):
    def __init__(self, run_id: str, *, ambiguous: list[str] | None = None) -> None:
        self.run_id = run_id
        if ambiguous:
            super().__init__(f"run id '{run_id}' is ambiguous ({len(ambiguous)} runs match)",
                             hint="give more of the id: " + ", ".join(ambiguous[:5]))
        else:
            super().__init__(f"no run '{run_id}' in the run history",
                             hint="list the runs with: provision runs list")


@dataclass
class Collected:
    """Accumulates diagnostics so validation can report every error at once."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def add(self, diagnostic: Diagnostic) -> None:
        self.diagnostics.append(diagnostic)

    def raise_if_any(self) -> None:
        if self.diagnostics:
            raise SpecError(self.diagnostics)
