"""The package's modules import each other without cycles: the pipeline loads the fix engine
in a thread while other threads import the stages, which is only deadlock-free that way."""

from __future__ import annotations

import ast
from pathlib import Path

import exampletest

PACKAGE = Path(exampletest.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports_at_load(path: Path) -> set[str]:
    """This package's modules that ``path`` imports while it loads (top-level statements)."""
    out: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        out |= {n for n in names if n.split(".")[0] == "exampletest"}
    return out


def test_no_two_modules_of_the_package_import_each_other_at_load_time() -> None:
    graph = {_module_name(p): _imports_at_load(p) for p in PACKAGE.rglob("*.py")}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def cycle_from(module: str, path: list[str]) -> list[str] | None:
        state[module] = 1
        for dep in sorted(graph.get(module, ())):
            if dep == module or module.startswith(f"{dep}."):
                continue  # a package's own submodules load under it: not a wait on another
            if state.get(dep) == 1:
                return [*path, dep]
            if dep not in state and (found := cycle_from(dep, [*path, dep])):
                return found
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state:
            assert cycle_from(module, [module]) is None
    assert "exampletest.fix.engine" in graph  # the walk saw the package
