"""The inline Pulumi program without the engine (Pulumi's mocks stand in for it): what
each resource exports is what the cloud returned, including attributes the spec left
out, and references in the stack read them too."""

from __future__ import annotations

import asyncio
from typing import Any

import pulumi
import pytest

from provision.engine import program as program_module
from provision.engine.protocol import Declared, StackProgram
from provision.spec.model import Reference

# What the "cloud" returns for each resource: the inputs it was given plus what it fills in.
FILLED = {"size": 1, "arn": "arn:fake:thing/x", "created_serial": 7}
READABLE = ("arn", "created_serial", "members", "name", "secret_value", "size", "tags")


class _Cloud(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.inputs: dict[str, dict[str, Any]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        given = {k: v for k, v in args.inputs.items() if not k.startswith("__")}
        self.inputs[args.name] = given
        return f"{args.name}-id", {**FILLED, **given}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], Any]:
        return {}, None


def _declared(rid: str, inputs: dict[str, Any]) -> Declared:
    return Declared(id=rid, type="test:fake:Thing", adapter="providers.testing:FakeThing",
                    inputs=inputs, secret=frozenset({"secret_value"}),
                    outputs=("arn", "created_serial"), readable=READABLE)


@pytest.fixture(autouse=True)
def _event_loop() -> Any:
    """Pulumi's mocks run on the thread's current event loop; an earlier test's
    ``asyncio.run()`` leaves none set, so each test here brings its own."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    asyncio.set_event_loop(None)
    loop.close()


def _run(stack: StackProgram, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any], _Cloud]:
    """Run the program on mocks; return its exports, resolved, and the mock cloud."""
    cloud = _Cloud()
    pulumi.runtime.set_mocks(cloud, project="p", stack="s", preview=False)
    exports: dict[str, Any] = {}
    monkeypatch.setattr(program_module.pulumi, "export",
                        lambda name, value: exports.__setitem__(name, value))

    @pulumi.runtime.test
    def run() -> pulumi.Output[Any]:
        program_module.pulumi_program(stack)()
        names = sorted(exports)
        return pulumi.Output.all(*(exports[n] for n in names)).apply(
            lambda values: resolved.update(zip(names, values)))

    resolved: dict[str, Any] = {}
    run()
    return resolved, cloud


def test_exports_carry_the_attributes_the_cloud_filled_in(monkeypatch: pytest.MonkeyPatch) -> None:
    stack = StackProgram((_declared("a", {"name": "alpha"}),
                          _declared("b", {"name": "beta", "size": 3,
                                          "tags": {"copy": Reference("resource", "a", "size")}})))
    exports, cloud = _run(stack, monkeypatch)
    assert exports["a"] == {"id": "a-id", "name": "alpha", "size": 1, "arn": "arn:fake:thing/x",
                            "created_serial": 7, "tags": None, "members": None,
                            "secret_value": None}
    assert exports["b"]["size"] == 3
    # A reference within the stack reads the filled-in value too.
    assert cloud.inputs["b"]["tags"] == {"copy": 1}
    # Attributes the spec leaves out are not sent to the cloud as inputs.
    assert cloud.inputs["a"] == {"name": "alpha"}
