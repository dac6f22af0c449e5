"""The engine imports no Django and reads no clock."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from .helpers import DATA, REPO

ENGINE = REPO / "screening" / "criteria"


def test_importing_and_running_the_engine_loads_no_django() -> None:
    code = f"""
import sys
from pathlib import Path
import screening.criteria as engine
from screening.cli import run_screen
case = engine.parse_case_text(Path({str(DATA / "sle-eligible.json")!r}).read_text(encoding="utf-8"))
ev = engine.evaluate(case)
assert ev.overall == "ELIGIBLE", ev.overall
engine.dumps(engine.evaluation_to_json(ev))
loaded = sorted(m for m in sys.modules if m == "django" or m.startswith("django."))
assert not loaded, loaded
print("ok")
"""
    # -I would drop the repo from sys.path; a clean environment without DJANGO_SETTINGS_MODULE instead.
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


_CLOCK_CALLS = {"today", "now", "utcnow", "time", "monotonic", "perf_counter", "localtime", "gmtime"}
_CLOCK_MODULES = {"time", "django", "zoneinfo"}


def _engine_modules() -> list[Path]:
    return sorted(ENGINE.glob("*.py"))


def test_engine_sources_read_no_clock_and_import_no_django() -> None:
    problems: list[str] = []
    for path in _engine_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in _CLOCK_MODULES:
                        problems.append(f"{path.name}:{node.lineno} imports {alias.name}")
            elif isinstance(node, ast.ImportFrom) and node.module:
                if node.module.split(".")[0] in _CLOCK_MODULES:
                    problems.append(f"{path.name}:{node.lineno} imports from {node.module}")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr in _CLOCK_CALLS:
                    problems.append(f"{path.name}:{node.lineno} calls .{node.func.attr}()")
    assert problems == []
