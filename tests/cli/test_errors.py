"""Bad input gets one clear error and exit 1: never a traceback, nothing touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_helpers import Run

SPEC = """
name: errs
environments:
  local: {}
  prod: {aws: {region: eu-west-1}}
resources:
  logs: {type: aws:s3:Bucket, properties: {bucket: errs-logs}}
"""


def _no_traceback(text: str) -> None:
    assert "Traceback" not in text


def test_missing_spec_file(run_cli: Run) -> None:
    result = run_cli("plan", "stacks/nope.yaml", "--env", "local")
    assert result.code == 1
    assert "spec file not found: stacks/nope.yaml" in result.stderr
    _no_traceback(result.stderr + result.stdout)


def test_unknown_environment_lists_known_ones(run_cli: Run, tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(SPEC)
    result = run_cli("plan", "s.yaml", "--env", "staging")
    assert result.code == 1
    assert "unknown environment 'staging'" in result.stderr
    assert "local, prod" in result.stderr
    _no_traceback(result.stderr)


def test_sandbox_not_running(run_cli: Run, tmp_path: Path, provision_home: Path) -> None:
    (tmp_path / "s.yaml").write_text(SPEC)
    result = run_cli("apply", "s.yaml", "--env", "local", "--yes")
    assert result.code == 1
    assert "targets the local sandbox, which is not running" in result.stderr
    assert "provision sandbox up" in result.stderr
    _no_traceback(result.stderr)
    assert not (provision_home / "state").exists() or not any((provision_home / "state").rglob("*.json"))


def test_missing_passphrase_for_a_real_environment(run_cli: Run, tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(SPEC)
    result = run_cli("plan", "s.yaml", "--env", "prod", env={"PULUMI_CONFIG_PASSPHRASE": ""})
    assert result.code == 1
    assert "no state passphrase for environment 'prod'" in result.stderr
    assert "PROVISION_PASSPHRASE" in result.stderr
    _no_traceback(result.stderr)


def test_broken_spec_names_file_line_and_resource(run_cli: Run, tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(SPEC.replace("aws:s3:Bucket", "aws:s3:Buckett"))
    result = run_cli("plan", "s.yaml", "--env", "local")
    assert result.code == 1
    assert "s.yaml:7" in result.stderr and "logs" in result.stderr
    assert "aws:s3:Bucket" in result.stderr        # the did-you-mean hint
    _no_traceback(result.stderr)


def test_apply_without_yes_when_not_interactive(run_cli: Run, tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(SPEC)
    result = run_cli("destroy", "s.yaml", "--env", "local")
    assert result.code == 1
    assert "--yes" in result.stderr
    _no_traceback(result.stderr)


def test_a_cloud_constraint_is_reported_before_any_cloud_call(run_cli: Run,
                                                               tmp_path: Path) -> None:
    """A 68-character bucket name: validate and plan fail at file:line; the sandbox is
    not even running, so nothing could have reached a cloud."""
    (tmp_path / "s.yaml").write_text(SPEC.replace("errs-logs", "a" * 68))
    for args in (("validate", "s.yaml"), ("plan", "s.yaml", "--env", "local")):
        result = run_cli(*args)
        assert result.code == 1, result.stderr
        assert ("s.yaml:7" in result.stderr
                and "property 'bucket' has 68 characters; allowed: 3 to 63" in result.stderr)
        assert "bucketnamingrules" in result.stderr
        assert "sandbox" not in result.stderr
        _no_traceback(result.stderr)


def _make_path_case(tmp_path: Path, case: str) -> str:
    import os

    if case == "directory":
        (tmp_path / "dir.yaml").mkdir()
        return "dir.yaml"
    if case == "symlink-loop":
        (tmp_path / "a.yaml").symlink_to("b.yaml")
        (tmp_path / "b.yaml").symlink_to("a.yaml")
        return "a.yaml"
    if case == "fifo":
        os.mkfifo(tmp_path / "pipe.yaml")
        return "pipe.yaml"
    if case == "broken-symlink":
        (tmp_path / "gone.yaml").symlink_to("nowhere.yaml")
        return "gone.yaml"
    return "missing.yaml"


@pytest.mark.parametrize("case,reason", [
    ("missing", "spec file not found: missing.yaml"),
    ("directory", "dir.yaml: cannot read the spec: is a directory"),
    ("symlink-loop", "a.yaml: cannot read the spec: too many levels of symbolic links"),
    ("fifo", "pipe.yaml: cannot read the spec: not a regular file: a FIFO (named pipe)"),
    ("broken-symlink", "gone.yaml: cannot read the spec: broken symbolic link"),
])
@pytest.mark.parametrize("command", [("validate",), ("plan", "--env", "local")])
def test_spec_path_errors_say_what_the_path_is(run_cli: Run, tmp_path: Path, case: str,
                                               reason: str, command: tuple[str, ...]) -> None:
    path = _make_path_case(tmp_path, case)
    result = run_cli(command[0], path, *command[1:], timeout=60)
    assert result.code == 1, result.stderr
    assert reason in result.stderr
    assert "internal error" not in result.stderr
    _no_traceback(result.stderr + result.stdout)


def test_json_mode_reports_bad_input_as_an_error_event(run_cli: Run, tmp_path: Path) -> None:
    """A pipeline reading only stdout (``--json``) learns why an event command stopped
    before its run started: one ``error`` event, valid against docs/events.schema.json."""
    import json

    from jsonschema import Draft202012Validator, FormatChecker

    schema = json.loads((Path(__file__).resolve().parents[2] / "docs" /
                         "events.schema.json").read_text())
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    (tmp_path / "s.yaml").write_text(SPEC)
    (tmp_path / "bad.yaml").write_text(SPEC.replace("type: aws:s3:Bucket, ", ""))
    unknown = run_cli("apply", "s.yaml", "--env", "staging", "--yes", "--json")
    broken = run_cli("destroy", "bad.yaml", "--env", "local", "--yes", "--json")
    for result in (unknown, broken):
        assert result.code == 1
        [line] = result.stdout.splitlines()
        event = json.loads(line)
        assert not list(validator.iter_errors(event)), event
        assert event["event"] == "error"
        _no_traceback(result.stderr + result.stdout)
    assert "unknown environment 'staging'" in json.loads(unknown.stdout)["message"]
    [problem] = json.loads(broken.stdout)["diagnostics"]
    assert problem.startswith("bad.yaml:") and "resource 'logs': resource has no 'type'" in problem
    assert run_cli("plan", "s.yaml", "--env", "staging", "--json").stdout == ""   # one document
