"""The policy gate: load packs for one environment, check a stage before and after it.

One :class:`PolicyEngine` per run. ``check_pre`` evaluates the rules whose phase
covers ``pre`` on a stage's planned changes; ``check_post`` those covering
``post`` on the live properties read back after the stage. Each applicable
rule yields one result per resource of its types (``pass`` included), so a
report is a complete record, not only its failures.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Mapping

from provision.errors import PolicyError
from provision.plan.model import LiveResource, Plan, StagePlan
from provision.policy.config import CONFIG_FILE, apply_config, read_config
from provision.policy.inputs import Inputs, Subject, paths_overlap, post_inputs, pre_inputs
from provision.policy.model import (Enforcement, Phase, PolicyReport, Result, RuleInfo,
                                    RuleMeta, Status)
from provision.policy.pack import Pack, find_packs, load_pack
from provision.policy.rego import RegoRule
from provision.policy.rules import Deferred, PythonRule, RuleContext
from provision.policy.waivers import (Waiver, apply_waivers, check_waiver_resources,
                                      check_waiver_rules, load_waivers)
from provision.provider import AdapterRegistry
from provision.spec.perf import gc_paused

WAIVERS_FILE = "waivers.yaml"
_TOKEN = re.compile(r"[\w-]+(?:\.[\w-]+)*")


class PolicyEngine:
    def __init__(self, packs: list[Pack], *, env: str, waivers: list[Waiver] | None = None,
                 registry: AdapterRegistry | None = None, today: dt.date | None = None,
                 settings: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.packs = packs
        self.env = env
        # The environment's cloud settings ({cloud: {key: value}}), known at plan time.
        self.settings = dict(settings or {})
        self.waivers = list(waivers or [])
        self.registry = registry or AdapterRegistry({})
        self.today = today or dt.date.today()
        self.rules: dict[str, RuleInfo] = {}
        for pack in packs:
            for meta, language, source in pack.metas():
                if meta.id in self.rules:
                    other = self.rules[meta.id]
                    raise PolicyError(f"rule id {meta.id} is defined twice: in pack "
                                      f"'{other.pack}' ({other.source}) and '{pack.name}' ({source})")
                self.rules[meta.id] = RuleInfo(meta, pack.name, pack.effective(meta),
                                               language, source)

    @classmethod
    def load(cls, policies_dir: str | Path, *, env: str,
             waivers: str | Path | list[Waiver] | None = None,
             registry: AdapterRegistry | None = None, today: dt.date | None = None,
             packs: list[str] | None = None,
             settings: Mapping[str, Mapping[str, Any]] | None = None) -> "PolicyEngine":
        """Load every pack under ``policies_dir`` (or only ``packs`` by name) for ``env``.

        ``settings``: the environment's cloud settings (``{"aws": {"region": ...}}``); the
        pre phase judges a region or location the spec leaves to them.

        ``waivers`` defaults to ``<policies_dir>/waivers.yaml`` when it exists;
        ``<policies_dir>/config.yaml`` (optional) overrides enforcement per environment.
        Raises PolicyError when a pack, rule, config or waiver file is broken.
        """
        root = Path(policies_dir)
        loaded = [load_pack(p, env) for p in find_packs(root)]
        rule_ids = {meta.id for pack in loaded for meta, _, _ in pack.metas()}
        config_file = root / CONFIG_FILE
        apply_config(loaded, read_config(config_file), env, str(config_file))
        if packs is not None:
            unknown = set(packs) - {p.name for p in loaded}
            if unknown:
                raise PolicyError(f"unknown pack(s): {', '.join(sorted(unknown))}",
                                  hint=f"packs in {root}: {', '.join(p.name for p in loaded)}")
            loaded = [p for p in loaded if p.name in packs]
        if isinstance(waivers, list):
            waiver_list = waivers
        else:
            waiver_list = load_waivers(Path(waivers) if waivers else root / WAIVERS_FILE)
            check_waiver_rules(waiver_list, rule_ids)
        return cls(loaded, env=env, waivers=waiver_list, registry=registry, today=today,
                   settings=settings)

    # -- the gate API -------------------------------------------------------------------

    def check_pre(self, stage_plan: StagePlan, plan: Plan) -> PolicyReport:
        """Rules on every resource a stage keeps (before it changes anything), unchanged
        ones included; each result is located at its change's file:line."""
        with gc_paused():
            return self.check(pre_inputs(stage_plan, plan, self.env, self.registry,
                                         self.settings), Phase.PRE)

    def check_post(self, stage: str,
                   live: Mapping[str, LiveResource | tuple[str, Mapping[str, Any]]]) -> PolicyReport:
        """Rules on the live ``{resource_id: LiveResource}`` of a stage after it applied;
        each result is located at its record's file:line."""
        with gc_paused():
            return self.check(post_inputs(stage, live, self.env, self.registry), Phase.POST)

    def check_plan(self, plan: Plan) -> PolicyReport:
        """Pre-phase rules on every stage of a plan, as one report."""
        if not plan.targets and not plan.excludes:  # the whole spec: every id is in the plan
            check_waiver_resources(self.waivers, {c.id for s in plan.stages for c in s.changes},
                                   self.env)
        report = PolicyReport(Phase.PRE, self.env, "")
        for stage in plan.stages:
            report.extend(self.check_pre(stage, plan))
        report.rules = dict(self.rules)
        return report

    # -- evaluation ---------------------------------------------------------------------

    def check(self, inputs: Inputs, phase: Phase) -> PolicyReport:
        results: list[Result] = []
        with gc_paused():       # tens of thousands of acyclic results: skip GC passes
            for pack in self.packs:
                results.extend(self._check_pack(pack, inputs, phase))
            results = apply_waivers(results, self.waivers, self.env, self.today)
        return PolicyReport(phase, self.env, inputs.stage, results, dict(self.rules))

    def _active(self, pack: Pack, meta: RuleMeta, phase: Phase) -> bool:
        return (meta.phase.covers(phase)
                and self.rules[meta.id].enforcement is not Enforcement.DISABLED)

    def _check_pack(self, pack: Pack, inputs: Inputs, phase: Phase) -> list[Result]:
        results: list[Result] = []
        ctx = RuleContext(env=self.env, phase=phase.value, stage=inputs.stage, params=pack.params)
        for prule in pack.python_rules:
            if not self._active(pack, prule.meta, phase):
                continue
            info = self.rules[prule.meta.id]
            for subject in inputs.of_types(prule.meta.resource_types):
                if phase is Phase.PRE and _deferred(prule.meta, subject):
                    results.append(_result(info, subject, inputs, phase, Status.DEFERRED,
                                           _deferred_message(prule.meta, subject)))
                    continue
                try:
                    messages = prule.messages(subject, ctx)
                except Deferred as exc:
                    status = Status.DEFERRED if phase is Phase.PRE else Status.ERROR
                    results.append(_result(info, subject, inputs, phase, status,
                                           str(exc) or "decided after apply"))
                    continue
                except Exception as exc:  # a broken rule is an error result, not a crash
                    results.append(_result(info, subject, inputs, phase, Status.ERROR,
                                           f"rule raised {type(exc).__name__}: {exc}"))
                    continue
                if phase is Phase.PRE and not prule.meta.reads and subject.marked is not None \
                        and _python_depends(prule, subject, ctx, messages):
                    results.append(_result(info, subject, inputs, phase, Status.DEFERRED,
                                           _depends_message(subject)))
                    continue
                results.extend(_outcomes(info, subject, inputs, phase, messages, []))
        if pack.rego is not None:
            active = [r for r in pack.rego.rules if self._active(pack, r.meta, phase)]
            types = pack.rego.types()
            if types is not None and not types & inputs.types():
                active = []     # no resource of its types here (e.g. another cloud's stage)
            if active:
                results.extend(self._check_rego(pack, active, inputs, phase))
        return results

    def _check_rego(self, pack: Pack, rules: list[RegoRule], inputs: Inputs,
                    phase: Phase) -> list[Result]:
        assert pack.rego is not None
        if pack.rego.terraform:
            document = inputs.terraform_document()
        else:
            document = inputs.native_document(pack.rego.types())
        evaluated = pack.rego.evaluate(document, rules)
        # A rule that declares no reads: judged again with the values known only after
        # apply marked; a resource whose result changes depends on them (deferred).
        blind = [r for r in rules if not r.meta.reads]
        marked: dict[str, tuple[list[Any], list[Any]] | str] = {}
        if phase is Phase.PRE and blind and not pack.rego.terraform and inputs.marked():
            marked = pack.rego.evaluate(
                inputs.native_document(pack.rego.types(), marked=True), blind)
        results: list[Result] = []
        for r in rules:
            info = self.rules[r.meta.id]
            outcome = evaluated[r.meta.id]
            subjects = inputs.of_types(r.meta.resource_types)
            if isinstance(outcome, str):
                targets: list[Subject | None] = list(subjects) or [None]
                results.extend(_result(info, s, inputs, phase, Status.ERROR, outcome)
                               for s in targets)
                continue
            by_subject, unmatched = _group(outcome, inputs)
            shadow = marked.get(r.meta.id)
            shadow_by = _group(shadow, inputs)[0] if isinstance(shadow, tuple) else {}
            for subject in subjects:
                denied, warned = by_subject.pop(subject.id, ([], []))
                if phase is Phase.PRE and _deferred(r.meta, subject):
                    results.append(_result(info, subject, inputs, phase, Status.DEFERRED,
                                           _deferred_message(r.meta, subject)))
                    continue
                if shadow is not None and subject.marked is not None and (
                        isinstance(shadow, str)
                        or _differ(shadow_by.get(subject.id, ([], [])), (denied, warned))):
                    results.append(_result(info, subject, inputs, phase, Status.DEFERRED,
                                           _depends_message(subject)))
                    continue
                results.extend(_outcomes(info, subject, inputs, phase, denied, warned))
            for sid, (denied, warned) in by_subject.items():   # outside the declared types
                results.extend(_outcomes(info, inputs.index[sid], inputs, phase, denied, warned))
            if unmatched[0] or unmatched[1]:
                results.extend(_outcomes(info, None, inputs, phase, *unmatched))
        return results


Grouped = dict[str, tuple[list[str], list[str]]]


def _group(outcome: tuple[list[Any], list[Any]],
           inputs: Inputs) -> tuple[Grouped, tuple[list[str], list[str]]]:
    """A Rego rule's (deny, warn) members as messages by subject id, and those that name
    no subject."""
    by_subject: Grouped = {}
    unmatched: tuple[list[str], list[str]] = ([], [])
    for kind, members in enumerate(outcome):
        for member in members:
            rid, message = _member(member)
            subject = _find_subject(rid, message, inputs)
            bucket = by_subject.setdefault(subject.id, ([], [])) if subject else unmatched
            bucket[kind].append(message)
    return by_subject, unmatched


def _differ(a: tuple[list[str], list[str]], b: tuple[list[str], list[str]]) -> bool:
    return sorted(a[0]) != sorted(b[0]) or sorted(a[1]) != sorted(b[1])


def _python_depends(prule: PythonRule, subject: Subject, ctx: RuleContext,
                    messages: list[str]) -> bool:
    """True when a Python rule that declares no reads judges ``subject`` otherwise once its
    values known only after apply are marked (or cannot judge it then)."""
    try:
        return sorted(prule.messages(subject.with_marks(), ctx)) != sorted(messages)
    except Exception:  # raised (Deferred included) on a marked value: it depends on it
        return True


def _depends_message(subject: Subject) -> str:
    return (f"decided after apply: the result depends on {', '.join(sorted(subject.unknown))}"
            " known only after apply")


def _deferred(meta: RuleMeta, subject: Subject) -> bool:
    return bool(subject.unknown) and any(subject.is_unknown(p) for p in meta.reads)


def _deferred_message(meta: RuleMeta, subject: Subject) -> str:
    paths = sorted({u for u in subject.unknown for p in meta.reads if paths_overlap(u, p)})
    return f"decided after apply: {', '.join(paths)} known only after apply"


def _member(member: Any) -> tuple[str, str]:
    """(resource id or "", message) from a deny/warn member."""
    if isinstance(member, dict):
        rid = member.get("resource") or member.get("id") or member.get("address") or ""
        message = member.get("message") or member.get("msg") or str(member)
        return str(rid), str(message)
    return "", str(member)


def _find_subject(rid: str, message: str, inputs: Inputs) -> Subject | None:
    if rid:
        return inputs.index.get(rid) or inputs.by_address.get(rid)
    # A plain message: the resource whose Terraform address (or else id) it names.
    tokens = _TOKEN.findall(message)
    for token in tokens:
        if token in inputs.by_address:
            return inputs.by_address[token]
    for token in tokens:
        if token in inputs.index:
            return inputs.index[token]
    return None


def _result(info: RuleInfo, subject: Subject | None, inputs: Inputs, phase: Phase,
            status: Status, message: str) -> Result:
    return Result(
        rule_id=info.meta.id, pack=info.pack, status=status,
        resource_id=subject.id if subject else "", resource_type=subject.type if subject else "",
        stage=subject.stage if subject and subject.stage else inputs.stage, phase=phase,
        message=message, file=subject.file if subject else "",
        line=subject.line if subject else 0, severity=info.meta.severity,
        enforcement=info.enforcement, title=info.meta.title)


def _outcomes(info: RuleInfo, subject: Subject | None, inputs: Inputs, phase: Phase,
              denied: list[str], warned: list[str]) -> list[Result]:
    if not denied and not warned:
        return [_result(info, subject, inputs, phase, Status.PASS, "")]
    fail = Status.FAIL if info.enforcement is Enforcement.MANDATORY else Status.WARN
    return ([_result(info, subject, inputs, phase, fail, m) for m in denied]
            + [_result(info, subject, inputs, phase, Status.WARN, m) for m in warned])
