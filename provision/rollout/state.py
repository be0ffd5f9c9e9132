"""A rollout's persisted state: the chain, how far each environment got, its plan.

Kept in the rollout's run-history record (``detail.rollout``) after every change, so
``rollout --resume RUN_ID`` continues from the first unfinished environment. Each
environment's plan (the one an approval binds to) is a saved-plan file under
``<home>/rollouts/<run id>/<env>.plan.json``. A finished environment keeps the digest
of the spec as resolved for it, so that a later environment is only promoted to what the
earlier ones run (the promotion gate, provision.rollout.machine).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from provision.errors import PlanError
from provision.vocabulary import GateStatus, StageStatus

DONE = frozenset({StageStatus.APPLIED.value, StageStatus.UNCHANGED.value})


@dataclass
class EnvState:
    status: str = StageStatus.PENDING.value   # a StageStatus or GateStatus.WAITING value
    plan_digest: str = ""                     # of the stored plan (what an approval binds to)
    plan_file: str = ""
    reason: str = ""                          # why it stopped, when it did
    # When done: the digest of the spec as resolved for the environment, as it was
    # applied (provision.spec.digest); '' before, or in a state older than the record.
    resolved_digest: str = ""

    @property
    def done(self) -> bool:
        return self.status in DONE

    @property
    def waiting(self) -> bool:
        return self.status == GateStatus.WAITING.value


@dataclass
class RolloutState:
    spec_file: str
    chain: list[str]                 # the environments to go through, in order
    rollback_on_failure: bool = False
    policies: str = ""               # the policy packs directory ('' : no policy gates)
    envs: dict[str, EnvState] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for env in self.chain:
            self.envs.setdefault(env, EnvState())

    @property
    def target(self) -> str:
        return self.chain[-1]

    def waiting_env(self) -> str:
        return next((e for e in self.chain if self.envs[e].waiting), "")

    def to_dict(self) -> dict[str, Any]:
        return {"spec_file": self.spec_file, "chain": list(self.chain),
                "rollback_on_failure": self.rollback_on_failure, "policies": self.policies,
                "envs": {k: asdict(v) for k, v in self.envs.items()}}

    @classmethod
    def from_dict(cls, data: Any, run_id: str) -> "RolloutState":
        try:
            return cls(spec_file=str(data["spec_file"]), chain=list(data["chain"]),
                       rollback_on_failure=bool(data.get("rollback_on_failure")),
                       policies=str(data.get("policies", "")),
                       envs={k: EnvState(**v) for k, v in dict(data.get("envs", {})).items()})
        except (KeyError, TypeError) as exc:
            raise PlanError(f"run {run_id} is not a rollout that can be resumed ({exc!r})",
                            hint="start a new one with: provision rollout SPEC --to ENV") from None


def chain_to(promotion: list[str], to: str, spec_file: str) -> list[str]:
    """The environments of ``promotion`` up to and including ``to``."""
    if not promotion:
        raise PlanError(f"{spec_file} declares no promotion chain",
                        hint="add e.g. 'promotion: [dev, staging, prod]' at top level "
                             "(docs/spec.md, Rollouts)")
    if to not in promotion:
        raise PlanError(f"environment '{to}' is not in the promotion chain of {spec_file} "
                        f"({' -> '.join(promotion)})",
                        hint="--to names one of: " + ", ".join(promotion))
    return promotion[: promotion.index(to) + 1]
