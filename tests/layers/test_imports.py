"""Guards of the one-way layers (docs/architecture.md): the import-linter contracts hold, and no
module imports a project app inside a function (the way an import cycle hides)."""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
APPS = ("config", "exports", "participants", "screening", "adjudication", "labimport", "audit", "api")


def _function_local_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        # An app's ready() is where Django lets an app connect to others: models are loaded.
        if path.name == "apps.py" and function.name == "ready":
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.ImportFrom):
                names = [f"{path.parent.name}.{node.module or ''}"]  # relative: this app's own
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            if any(name.split(".")[0] in APPS for name in names):
                found.append(f"{path.relative_to(REPO)}:{node.lineno} in {function.name}()")
    return found


def test_no_project_import_inside_a_function() -> None:
    found = [
        hit
        for app in APPS
        for path in sorted((REPO / app).rglob("*.py"))
        if "migrations" not in path.parts and "criteria" not in path.parts
        for hit in _function_local_imports(path)
    ]
    assert found == [], "import at the top of the module (a cycle means a layer is wrong):\n" + "\n".join(found)


@pytest.mark.slow
def test_the_layer_contracts_hold() -> None:
    lint_imports = shutil.which("lint-imports", path=str(REPO / ".venv" / "bin")) or shutil.which("lint-imports")
    if lint_imports is None:
        pytest.skip("import-linter is not installed")
    proc = subprocess.run([lint_imports], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:]
