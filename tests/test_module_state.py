"""No module-level mutable state in ``provision/`` and ``providers/`` (docs: STYLE, "no
module-level mutable state"): a module-level dict, list or set may be a constant table,
but nothing may change it, and no function rebinds a module global (``global``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MUTATORS = frozenset({"append", "extend", "insert", "pop", "popitem", "update", "setdefault",
                      "clear", "add", "discard", "remove", "appendleft", "popleft"})
CONTAINERS = (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)
FACTORIES = frozenset({"dict", "list", "set", "defaultdict", "OrderedDict", "deque", "Counter"})


def _module_containers(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        target, value = None, None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        if not isinstance(target, ast.Name) or value is None:
            continue
        factory = (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
                   and value.func.id in FACTORIES)
        if isinstance(value, CONTAINERS) or factory:
            names.add(target.id)
    return names


def _state_changes(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    containers = _module_containers(tree)
    found: list[str] = []
    if not containers and "global" not in text:
        return found

    def where(node: ast.AST, what: str) -> None:
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
        found.append(f"{shown}:{getattr(node, 'lineno', 0)}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            where(node, f"global {', '.join(node.names)}")
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in targets:
                if (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name)
                        and target.value.id in containers):
                    where(node, f"{target.value.id}[...] changed")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in MUTATORS and isinstance(node.func.value, ast.Name)
              and node.func.value.id in containers):
            where(node, f"{node.func.value.id}.{node.func.attr}(...)")
    return found


def test_the_check_sees_module_state(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    text = ("_SEEN: dict[str, int] = {}\nTABLE = {'a': 1}\n_LIST = []\n\n"
            "def f(k):\n    global _N\n    _SEEN[k] = 1\n    _LIST.append(k)\n"
            "    return TABLE[k]\n")
    sample.write_text(text)
    assert _state_changes(sample) == ["sample.py:6: global _N", "sample.py:7: _SEEN[...] changed",
                                      "sample.py:8: _LIST.append(...)"]


@pytest.mark.parametrize("package", ["provision", "providers"])
def test_no_module_level_mutable_state(package: str) -> None:
    found = [line for path in sorted((ROOT / package).rglob("*.py"))
             for line in _state_changes(path)]
    assert found == []
