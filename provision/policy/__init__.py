"""Policy-as-code: Rego and Python rules in packs, gates before and after each stage.

The gate API (what ``apply`` calls)::

    from provision.policy import PolicyEngine

    engine = PolicyEngine.load("policies", env="prod", registry=providers.registry())
    # waivers: default <policies>/waivers.yaml; or waivers=PATH / a list of Waiver

    report = engine.check_pre(stage_plan, plan)       # before a stage changes anything
    if report.blocking:                               # bool: any mandatory fail/error
        ...stop before the stage; exit code 3; name each r in report.blocking_results():
           r.rule_id, r.resource_id, r.file, r.line, r.message

    live = {resource_id: LiveResource(type_name, properties, file, line)}
    report = engine.check_post(stage_name, live)      # after the stage applied; each
    if report.blocking:                               # result located by its record
        ...mark the stage failed; stop

    for r in report.blocking_results(): print(r.describe())
    # PRV-AWS-002 [fail] logs (aws:s3:Bucket) at stacks/demo.yaml:41: public_access_block ...

``PolicyEngine`` satisfies the engine's ``Gate`` protocol as it is; one
Rego interpreter per pack takes one check at a time, so stages may be checked
from parallel threads.

``PolicyReport.results`` holds one :class:`Result` per rule x resource
(``pass | fail | warn | deferred | waived | error``); ``report.rules`` the
identity of every loaded rule. ``check_pre`` judges every resource a stage keeps
(unchanged ones too), with a region or location left to the environment's cloud
settings (``settings=``) filled in. A rule reading a value known only after apply
(a path of its ``reads``, ``*`` for any key or index; without ``reads``: a result
that changes when those values are marked) is ``deferred`` in ``check_pre`` and
decided by ``check_post``. Advisory
violations are ``warn`` and never block; a mandatory rule that errors blocks
(fail closed). Loading raises :class:`provision.errors.PolicyError` when a
pack, rule or waiver file is broken. Reports render through
``provision.report.render(report, fmt)`` (table, json, sarif, junit).

``run_tests(dir)`` (``provision policy test``) runs the packs' Rego
``*_test.rego`` and Python ``*_test.py`` tests.

The CLI sub-app is built by ``provision.cli.policy_cmd.build_app(wiring)``
(mounted as ``policy``); the composition root (``provision.cli.main``) gives it
the validated loader, the engine's planner and the live-state reader as a
``policy_cmd.Wiring``. Writing packs: ``policies/README.md``.
"""

from __future__ import annotations

from provision.policy.engine import PolicyEngine
from provision.policy.inputs import Subject
from provision.policy.model import (Enforcement, Phase, PolicyReport, Result, RuleInfo, RulePhase,
                                    RuleMeta, Severity, Status)
from provision.policy.rules import Deferred, PythonRule, RuleContext, rule
from provision.policy.testing import TestRun, run_tests
from provision.policy.waivers import Waiver

__all__ = [
    "Deferred", "Enforcement", "Phase", "PolicyEngine", "PolicyReport", "PythonRule", "Result",
    "RuleContext", "RuleInfo", "RuleMeta", "RulePhase", "Severity", "Status", "Subject", "TestRun", "Waiver",
    "rule", "run_tests",
]
