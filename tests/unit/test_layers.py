"""The import rules of design.md, checked on the real modules in a clean interpreter."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "claudetop"

# layer -> layers it may import (besides itself and the leaves every layer may use: claudetop.model,
# _version, _warn, the once-per-process stderr notice of whatever cannot do its job, and _lazy, the
# attributes a package loads on first use)
ALLOWED: dict[str, set[str]] = {
    "model": set(),
    "pricing": set(),
    "config": set(),
    "sinks": set(),
    "policies": {"config", "sinks", "pricing"},
    "hook": {"pricing", "config", "sinks", "policies"},
    "sources": {"sinks", "pricing", "config"},
    "analysis": {"pricing", "config", "sources"},
    "simulate": {"pricing", "config", "sinks", "hook", "policies", "sources", "analysis"},
    "exporters": {"pricing", "config", "sources", "analysis", "sinks", "policies"},
}


def _layer(module_path: Path) -> str:
    rel = module_path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _imported_layers(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {n.split(".")[1] for n in names if n.startswith("claudetop.") and n.count(".") >= 1}


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_one_way(path: Path) -> None:
    layer = _layer(path)
    if layer not in ALLOWED:
        return
    forbidden = _imported_layers(path) - ALLOWED[layer] - {layer, "model", "_version", "_warn", "_lazy"}
    assert not forbidden, f"{path.relative_to(PACKAGE)} ({layer}) imports {sorted(forbidden)}"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_textual_only_in_ui(path: Path) -> None:
    if _layer(path) in {"ui", "cli"}:
        return
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        mods = (
            [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else []
        )
        assert not any(m.split(".")[0] == "textual" for m in mods), path


def test_importing_the_package_is_light() -> None:
    code = (
        "import sys, claudetop, claudetop.model;"
        "heavy = {'textual', 'aiosqlite', 'rich'} & {m.split('.')[0] for m in sys.modules};"
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
