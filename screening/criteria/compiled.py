"""The engine's hot modules compiled with mypyc, used only when they match the sources exactly.

The Python source is the engine; the compiled form is the same code turned into C by mypyc (part
of mypy) and is about twice as fast. `make engine` (run by `make test`, `make run` and
`make bench`) builds it into `_compiled/` next to this file, with a stamp that records the
SHA-256 of each compiled source, the interpreter's extension suffix and the mypy version.

At import, `activate()` puts `_compiled/` first on the package's search path only when the stamp
matches the sources on disk. A source edited after the build, another interpreter, or a missing
build all fall back to the Python modules: a stale compiled module is never loaded.

ALLO_ENGINE=python forces the Python modules (the engine tests run once that way in `make test`);
ALLO_ENGINE=compiled makes a missing or stale build an import error.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import sys
from pathlib import Path

# The modules of one evaluation (engine → rules → context, framework and helpers). The loader,
# output and catalogue modules run once per case or once per process and stay Python.
MODULES = (
    "adjudicate",
    "calendar_math",
    "canonical",
    "context",
    "engine",
    "framework",
    "model",
    "protocol",
    "results",
    "rules_cohorts",
    "rules_exclusion",
    "rules_inclusion",
    "table4",
    "vocabulary",
)
GROUP = "allo329_engine"  # mypyc's shared library: allo329_engine__mypyc
PACKAGE_DIR = Path(__file__).resolve().parent
BUILD_DIR = PACKAGE_DIR / "_compiled"
STAMP = BUILD_DIR / "stamp.json"
ENV = "ALLO_ENGINE"


def extension_suffix() -> str:
    return importlib.machinery.EXTENSION_SUFFIXES[0]


def source_digests() -> dict[str, str]:
    return {name: hashlib.sha256((PACKAGE_DIR / f"{name}.py").read_bytes()).hexdigest() for name in MODULES}


def mypy_version() -> str:
    from importlib.metadata import version

    return version("mypy")


def stamp_for_current_sources() -> dict[str, object]:
    return {"suffix": extension_suffix(), "mypy": mypy_version(), "sources": source_digests()}


def build_problem() -> str | None:
    """Why the compiled modules cannot be used, or None when they match the sources."""
    try:
        stamp = json.loads(STAMP.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "not built (run `make engine`)"
    except (OSError, ValueError) as exc:
        return f"unreadable build stamp {STAMP}: {exc}"
    if stamp.get("suffix") != extension_suffix():
        return f"built for {stamp.get('suffix')}, this interpreter loads {extension_suffix()}"
    recorded = stamp.get("sources", {})
    current = source_digests()
    changed = sorted(name for name in MODULES if recorded.get(name) != current[name])
    if changed:
        return "stale: " + ", ".join(f"{name}.py" for name in changed) + " changed since the build"
    missing = [name for name in MODULES if not (BUILD_DIR / f"{name}{extension_suffix()}").exists()]
    if missing or not (BUILD_DIR / f"{GROUP}__mypyc{extension_suffix()}").exists():
        return "incomplete build: " + ", ".join(missing or [f"{GROUP}__mypyc"])
    return None


# What activate() decided: "compiled (mypyc)" or "Python (<why>)".
STATE = "Python (not yet decided)"


def activate(package_path: list[str]) -> bool:
    """Before the engine's modules are imported: search `_compiled/` first when it is usable."""
    global STATE
    wanted = os.environ.get(ENV, "").strip().lower()
    if wanted == "python":
        STATE = f"Python ({ENV}=python)"
        return False
    problem = build_problem()
    if problem is not None:
        if wanted == "compiled":
            raise ImportError(f"{ENV}=compiled, but the compiled engine is {problem}")
        STATE = f"Python (compiled engine {problem})"
        return False
    # The compiled modules import their shared library by its top-level name.
    name = f"{GROUP}__mypyc"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, BUILD_DIR / f"{name}{extension_suffix()}")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    package_path.insert(0, str(BUILD_DIR))
    STATE = "compiled (mypyc)"
    return True
