"""The rollout parts of a spec: promotion, sandbox, approval, health checks (YAML and HCL)."""

from __future__ import annotations

import pytest

from provision.errors import SpecError
from provision.spec import loads
from provision.spec.model import HealthCheck

YAML = """
name: demo
promotion: [dev, staging, prod]
environments:
  dev: {sandbox: true}
  staging:
    sandbox: true
    approval: false
    health_checks:
      - resource: logs
        properties: {bucket: logs-staging}
      - name: arn
        output: logs.arn
        matches: "^arn:aws:s3:::"
      - output: logs.bucket
        equals: logs-staging
      - http: http://127.0.0.1:8080/health
        status: [200, 204]
        timeout: 2
        retries: 5
        interval: 0.5
  prod: {protected: true}
resources:
  logs:
    type: aws:s3:Bucket
    properties: {bucket: logs}
"""

HCL = """
name      = "demo"
promotion = ["dev", "staging", "prod"]

environment "dev" {
  sandbox = true
}

environment "staging" {
  sandbox  = true
  approval = false
  health_check "logs" {
    resource   = "logs"
    properties = { bucket = "logs-staging" }
  }
  health_check "arn" {
    output  = "logs.arn"
    matches = "^arn:aws:s3:::"
  }
  health_check "bucket" {
    output = "logs.bucket"
    equals = "logs-staging"
  }
  health_check "site" {
    http     = "http://127.0.0.1:8080/health"
    status   = [200, 204]
    timeout  = 2
    retries  = 5
    interval = 0.5
  }
}

environment "prod" {
  protected = true
}

resource "logs" {
  type = "aws:s3:Bucket"
  properties {
    bucket = "logs"
  }
}
"""


def _checks(text: str, name: str) -> list[HealthCheck]:
    return loads(text, name, "hcl" if name.endswith(".hcl") else "yaml").environments["staging"].health_checks


def test_yaml_rollout_settings() -> None:
    spec = loads(YAML, "spec.yaml")
    assert spec.promotion == ["dev", "staging", "prod"]
    envs = spec.environments
    assert envs["dev"].sandbox and envs["staging"].sandbox and not envs["prod"].sandbox
    assert envs["prod"].needs_approval and not envs["staging"].needs_approval
    checks = _checks(YAML, "spec.yaml")
    assert [(c.kind, c.target) for c in checks] == [
        ("resource", "logs"), ("output", "logs.arn"), ("output", "logs.bucket"),
        ("http", "http://127.0.0.1:8080/health")]
    assert checks[0].expect == {"bucket": "logs-staging"} and checks[1].name == "arn"
    assert checks[1].matches == "^arn:aws:s3:::" and checks[2].equals == "logs-staging"
    assert (checks[3].status, checks[3].timeout, checks[3].retries, checks[3].interval) == (
        (200, 204), 2, 5, 0.5)
    assert checks[3].location is not None and checks[3].location.line == 17


def test_hcl_gives_the_same_checks() -> None:
    spec = loads(HCL, "spec.hcl", "hcl")
    assert spec.promotion == ["dev", "staging", "prod"]
    strip = [(c.kind, c.target, c.expect, c.equals, c.matches, c.status, c.timeout, c.retries,
              c.interval) for c in _checks(HCL, "spec.hcl")]
    assert strip == [(c.kind, c.target, c.expect, c.equals, c.matches, c.status, c.timeout,
                      c.retries, c.interval) for c in _checks(YAML, "spec.yaml")]
    assert spec.environments["dev"].sandbox and spec.environments["prod"].needs_approval


def test_only_local_is_sandbox_by_default() -> None:
    spec = loads("name: s\nenvironments: {local: {}, dev: {}}\n", "s.yaml")
    assert spec.environments["local"].sandbox and not spec.environments["dev"].sandbox


@pytest.mark.parametrize("text, message, line", [
    ("promotion: [dev, qa]", "'promotion' names unknown environment 'qa'", 1),
    ("promotion: [dev, dev]", "environment 'dev' appears twice in 'promotion'", 1),
    ("promotion: dev", "'promotion' must be a list of environment names", 1),
])
def test_bad_promotion(text: str, message: str, line: int) -> None:
    with pytest.raises(SpecError) as info:
        loads(f"{text}\nname: s\nenvironments: {{dev: {{}}}}\n", "s.yaml")
    [diag] = info.value.diagnostics
    assert message in diag.message and diag.line == line and diag.file == "s.yaml"


@pytest.mark.parametrize("check, message", [
    ("{http: ftp://x}", "is not an http(s) URL"),
    ("{http: 'http://x', status: 99}", "'status' must be an HTTP status code"),
    ("{http: 'http://x', retries: -1}", "'retries' must be an integer >= 0"),
    ("{output: logs}", "must be <resource>.<attribute>"),
    ("{output: logs.arn}", "exactly one of 'equals' or 'matches'"),
    ("{output: logs.arn, matches: '('}", "not a valid regular expression"),
    ("{resource: nope}", "names unknown resource 'nope'"),
    ("{resource: logs, http: 'http://x'}", "exactly one of 'resource', 'output' or 'http'"),
    ("{resource: logs, equals: 1}", "unknown key 'equals' in a resource health check"),
])
def test_bad_health_checks(check: str, message: str) -> None:
    text = (f"name: s\nenvironments:\n  dev:\n    health_checks:\n      - {check}\n"
            "resources:\n  logs: {type: 'aws:s3:Bucket', properties: {bucket: b}}\n")
    with pytest.raises(SpecError) as info:
        loads(text, "s.yaml")
    assert any(message in d.message and d.line == 5 for d in info.value.diagnostics), \
        [d.render() for d in info.value.diagnostics]


def test_sandbox_must_be_bool() -> None:
    with pytest.raises(SpecError, match="1 error") as info:
        loads("name: s\nenvironments: {dev: {sandbox: 'yes'}}\n", "s.yaml")
    assert "'sandbox' must be true or false" in info.value.diagnostics[0].message
