"""The house rules for imports: the library never loads Typer or rich; no import cycles."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "dexbulk"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


PATHS = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
LIBRARY_MODULES = sorted(
    name
    for name, path in PATHS.items()
    if path.relative_to(PACKAGE).parts[0] != "cli" and path.name != "__main__.py"
)


@pytest.mark.parametrize("module", LIBRARY_MODULES)
def test_library_module_does_not_import_typer(module: str) -> None:
    code = (
        f"import sys, {module};"
        "bad = [m for m in ('typer', 'click', 'rich') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, f"{module} imported {done.stdout.strip()} {done.stderr[-400:]}"


def test_front_door_needs_no_cli() -> None:
    code = "import dexbulk, sys; dexbulk.send; dexbulk.Dex; assert 'typer' not in sys.modules"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-800:]


def _top_level_imports(path: Path) -> set[str]:
    """Modules of ours imported at module level (deferred imports inside functions are fine)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dexbulk"):
            found.add(node.module)
            for alias in node.names:
                if f"{node.module}.{alias.name}" in PATHS:
                    found.add(f"{node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("dexbulk"))
    return found


def test_no_import_cycles() -> None:
    graph = {name: _top_level_imports(path) for name, path in PATHS.items()}
    state: dict[str, int] = {}

    def visit(module: str, trail: list[str]) -> None:
        if state.get(module) == 2:
            return
        assert state.get(module) != 1, "import cycle: " + " -> ".join([*trail, module])
        state[module] = 1
        for dep in sorted(graph.get(module, ())):
            if dep != module and dep in graph and not module.startswith(dep + "."):
                visit(dep, [*trail, module])
        state[module] = 2

    for module in sorted(graph):
        visit(module, [])


def test_library_never_imports_the_cli() -> None:
    offenders = [
        module
        for module in LIBRARY_MODULES
        for dep in _top_level_imports(PATHS[module])
        if dep.startswith("dexbulk.cli")
    ]
    assert offenders == []
