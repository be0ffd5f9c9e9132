"""``provision policy test``: run every pack's Rego and Python rule tests.

Rego: each ``*_test.rego`` package's ``test_*`` rules must be ``true``. A false
rule is *undefined* in Rego, so the runner queries the whole test package and
checks that every ``test_*`` rule declared in the file is present and true.
The Rego side runs in a child process: rego-cpp 1.5.2 can crash the process
(e.g. on ``with input as`` over rules that call functions); a crash becomes an
``error`` outcome naming the test, never a crashed CLI.

With OPA found (see provision.policy.opa), the Rego tests run in OPA, the engine
that then evaluates the packs' rules, instead of the rego-cpp child process.

Python: each ``*_test.py`` beside a pack's ``rules.py`` is imported and its
``test_*`` functions called; a parameter named ``rules`` receives the pack's
rules by id, one named ``params`` the pack's default parameters.
"""

from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provision.errors import PolicyError
from provision.policy.pack import (find_packs, import_file, load_python_rules, read_manifest,
                                   rego_modules)
from provision.policy.opa import OpaBundle, choose_engine
from provision.policy.rego import RegoModule

WORKER_TIMEOUT = 120


@dataclass(frozen=True)
class TestOutcome:
    __test__ = False        # not a pytest test class

    pack: str
    name: str
    kind: str          # "rego" | "python"
    file: str
    status: str        # "pass" | "fail" | "error"
    message: str = ""


@dataclass
class TestRun:
    __test__ = False

    outcomes: list[TestOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.outcomes) and all(o.status == "pass" for o in self.outcomes)

    def counts(self) -> dict[str, int]:
        out = {"pass": 0, "fail": 0, "error": 0}
        for o in self.outcomes:
            out[o.status] += 1
        return out


def run_tests(path: str | Path) -> TestRun:
    """Run the tests of every pack under ``path`` (or of the pack at ``path``)."""
    run = TestRun()
    for pack_dir in find_packs(Path(path)):
        manifest = read_manifest(pack_dir)
        name = str(manifest["name"])
        params = dict(manifest.get("parameters") or {})
        run.outcomes.extend(_rego_tests(pack_dir, name, params))
        run.outcomes.extend(_python_tests(pack_dir, name, params))
    return run


# -- Rego ---------------------------------------------------------------------------------

def _rego_tests(pack_dir: Path, pack: str, params: dict[str, Any]) -> list[TestOutcome]:
    modules = rego_modules(pack_dir, tests=True)
    tests = [m for m in modules if m.is_test]
    if not tests:
        return []
    opa = choose_engine()
    if opa is not None:
        return _opa_tests(opa, modules, tests, pack, params)
    request = {"modules": [[str(m.path), m.source] for m in modules],
               "data": {"params": params}, "packages": sorted({m.package for m in tests})}
    answer = _worker(request)
    if answer is None:      # the interpreter crashed: find which tests crash it, one by one
        return _rego_one_by_one(modules, tests, pack, params)
    if "error" in answer:
        return [TestOutcome(pack, t.path.name, "rego", str(t.path), "error", answer["error"])
                for t in tests]
    outcomes: list[TestOutcome] = []
    for module in tests:
        value = answer["packages"].get(module.package)
        for name in module.test_names():
            outcomes.append(_rego_outcome(pack, module, name, value))
    return outcomes


def _opa_tests(opa: Path, modules: list[RegoModule], tests: list[RegoModule], pack: str,
               params: dict[str, Any]) -> list[TestOutcome]:
    """The tests evaluated by OPA (the engine checks use when it is found)."""
    try:
        bundle = OpaBundle(opa, [(m.path, m.source) for m in modules], {"params": params})
    except PolicyError as exc:
        return [TestOutcome(pack, t.path.name, "rego", str(t.path), "error", exc.message)
                for t in tests]
    try:
        outcomes: list[TestOutcome] = []
        for module in tests:
            try:
                defined, value = bundle.query(f"data.{module.package}")
            except PolicyError as exc:
                value = {"error": exc.message}
            else:
                value = value if defined else None
            outcomes += [_rego_outcome(pack, module, name, value) for name in module.test_names()]
        return outcomes
    finally:
        bundle.close()


def _rego_outcome(pack: str, module: RegoModule, name: str, value: Any) -> TestOutcome:
    if isinstance(value, dict) and "error" in value:
        return TestOutcome(pack, name, "rego", str(module.path), "error", str(value["error"]))
    result = value.get(name) if isinstance(value, dict) else None
    if result is True:
        return TestOutcome(pack, name, "rego", str(module.path), "pass")
    why = "undefined (a body expression was false)" if result is None else f"= {result!r}"
    return TestOutcome(pack, name, "rego", str(module.path), "fail", f"{name} is {why}")


def only_test(source: str, name: str) -> str:
    """``source`` without its other ``test_*`` rules (a chunk starts at a column-0 word)."""
    chunks: list[list[str]] = [[]]
    for line in source.splitlines(keepends=True):
        if re.match(r"[A-Za-z_]", line):
            chunks.append([])
        chunks[-1].append(line)
    kept = [c for c in chunks if not (c and c[0].startswith("test_"))
            or re.match(rf"{name}\b", c[0])]
    return "".join("".join(c) for c in kept)


def _rego_one_by_one(modules: list[RegoModule], tests: list[RegoModule], pack: str,
                     params: dict[str, Any]) -> list[TestOutcome]:
    outcomes: list[TestOutcome] = []
    for module in tests:
        for name in module.test_names():
            query = f"{module.package}.{name}"
            sources = [[str(m.path), only_test(m.source, name) if m is module else m.source]
                       for m in modules if not m.is_test or m is module]
            answer = _worker({"modules": sources, "data": {"params": params},
                              "packages": [query]})
            if answer is None:
                outcomes.append(TestOutcome(
                    pack, name, "rego", str(module.path), "error",
                    "the Rego interpreter (rego-cpp) crashed evaluating this test; avoid "
                    "`with ... as` over rules that call functions: call the function directly"))
            elif "error" in answer:
                outcomes.append(TestOutcome(pack, name, "rego", str(module.path), "error",
                                            answer["error"]))
            else:
                value = answer["packages"].get(query)
                wrapped = value if isinstance(value, dict) and "error" in value else (
                    {name: value} if value is not None else {})
                outcomes.append(_rego_outcome(pack, module, name, wrapped))
    return outcomes


def _worker(request: dict[str, Any]) -> dict[str, Any] | None:
    """Evaluate in a child process; None if it crashed."""
    try:
        proc = subprocess.run([sys.executable, "-m", "provision.policy.testing", "--rego-worker"],
                              input=json.dumps(request), capture_output=True, text=True,
                              timeout=WORKER_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"Rego tests timed out after {WORKER_TIMEOUT}s"}
    if proc.returncode != 0:
        return None
    answer: dict[str, Any] = json.loads(proc.stdout)
    return answer


def _worker_main() -> None:
    from provision.policy.rego import new_interpreter, query_value
    request = json.loads(sys.stdin.read())
    try:
        modules = [RegoModule.from_source(Path(p), src) for p, src in request["modules"]]
        rego = new_interpreter(modules, request["data"])
    except PolicyError as exc:
        print(json.dumps({"error": exc.message}))
        return
    packages: dict[str, Any] = {}
    for package in request["packages"]:
        try:
            defined, value = query_value(rego, f"data.{package}")
            packages[package] = value if defined else None
        except PolicyError as exc:
            packages[package] = {"error": exc.message}
    print(json.dumps({"packages": packages}))


# -- Python -------------------------------------------------------------------------------

def _python_tests(pack_dir: Path, pack: str, params: dict[str, Any]) -> list[TestOutcome]:
    files = sorted(pack_dir.glob("*_test.py"))
    if not files:
        return []
    try:
        rules = {r.meta.id: r for r in load_python_rules(pack_dir, pack)}
    except PolicyError as exc:
        return [TestOutcome(pack, f.name, "python", str(f), "error", exc.message) for f in files]
    outcomes: list[TestOutcome] = []
    for file in files:
        try:
            module = import_file(file, f"provision_policy_packs.{pack.replace('-', '_')}."
                                       f"{file.stem}")
        except PolicyError as exc:
            outcomes.append(TestOutcome(pack, file.name, "python", str(file), "error", exc.message))
            continue
        for name, fn in sorted(vars(module).items()):
            if name.startswith("test_") and inspect.isfunction(fn):
                outcomes.append(_call(pack, file, name, fn, {"rules": rules, "params": params}))
    return outcomes


def _call(pack: str, file: Path, name: str, fn: Any, fixtures: dict[str, Any]) -> TestOutcome:
    wanted = list(inspect.signature(fn).parameters)
    unknown = [p for p in wanted if p not in fixtures]
    if unknown:
        return TestOutcome(pack, name, "python", str(file), "error",
                           f"unknown parameter(s) {', '.join(unknown)}; tests may take: "
                           f"{', '.join(fixtures)}")
    try:
        fn(**{p: fixtures[p] for p in wanted})
    except AssertionError as exc:
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        detail = str(exc) or f"assertion failed: {frame.line}"
        return TestOutcome(pack, name, "python", str(file), "fail",
                           f"{detail} ({Path(frame.filename).name}:{frame.lineno})")
    except Exception as exc:  # the test itself broke
        return TestOutcome(pack, name, "python", str(file), "error",
                           f"{type(exc).__name__}: {exc}")
    return TestOutcome(pack, name, "python", str(file), "pass")


if __name__ == "__main__" and "--rego-worker" in sys.argv:
    _worker_main()
