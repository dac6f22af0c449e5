"""The engine's hot modules compiled with mypyc, used only when they match the sources exactly.

The Python source is the engine; the compiled form is the same code turned into C by mypyc (part
of mypy) and is about twice as fast. `make engine` (run by `make test`, `make run` and
`make bench`) builds it into `_compiled/` next to this file, with a stamp that records the
SHA-256 of every module of the package, of each binary, and the interpreter's extension suffix.

At import, `activate()` puts `_compiled/` first on the package's search path only when the stamp
matches the files on disk, and loads every compiled module at once. An edited source, another
interpreter, a missing or damaged binary, or one that does not load all fall back to the Python
modules: a stale or partial compiled engine is never used.

ALLO_ENGINE=python forces the Python modules (the engine tests run once that way in `make test`);
ALLO_ENGINE=compiled makes any of those problems an import error.

Compiled frozen dataclasses (Case and its parts) cannot be copied or pickled; nothing does.
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
    "readings",
    "results",
    "rule_r",
    "rules_common_exclusion",
    "rules_common_inclusion",
    "rules_iim",
    "rules_sle",
    "rules_ssc",
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


def binary_names() -> list[str]:
    suffix = extension_suffix()
    return [f"{name}{suffix}" for name in MODULES] + [f"{GROUP}__mypyc{suffix}"]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def source_digests() -> dict[str, str]:
    """Every module of the package, compiled or not: the compiled code was type-checked against
    all of them, so a change to any one (this file included) retires the build."""
    return {path.name: _sha256(path) for path in sorted(PACKAGE_DIR.glob("*.py"))}


def stamp_for_build(build_dir: Path, sources: dict[str, str]) -> dict[str, object]:
    """The stamp of a finished build: what it was built from and the digest of each binary."""
    from importlib.metadata import version

    return {
        "suffix": extension_suffix(),
        "mypy": version("mypy"),
        "sources": sources,
        "binaries": {name: _sha256(build_dir / name) for name in binary_names()},
    }


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
    recorded, current = stamp.get("sources", {}), source_digests()
    changed = sorted(
        name for name in recorded.keys() | current.keys() if recorded.get(name) != current.get(name)
    )
    if changed:
        return "stale: " + ", ".join(changed) + " changed since the build"
    binaries = stamp.get("binaries", {})
    for name in binary_names():
        path = BUILD_DIR / name
        if not path.exists():
            return f"incomplete build: {name} is missing"
        if binaries.get(name) != _sha256(path):
            return f"damaged build: {name} differs from its stamp"
    return None


# What activate() decided: "compiled (mypyc)" or "Python (<why>)".
STATE = "Python (not yet decided)"


def activate(package_path: list[str], package: str) -> bool:
    """Before the engine's modules are imported: search `_compiled/` first when it is usable, and
    load every compiled module at once, so that one that does not load leaves the Python source in
    place rather than half an engine."""
    global STATE
    wanted = os.environ.get(ENV, "").strip().lower()
    if wanted == "python":
        STATE = f"Python ({ENV}=python)"
        return False
    problem = build_problem()
    if problem is None:
        problem = _load(package_path, package)
    if problem is not None:
        if wanted == "compiled":
            raise ImportError(f"{ENV}=compiled, but the compiled engine is {problem}")
        STATE = f"Python (compiled engine {problem})"
        return False
    STATE = "compiled (mypyc)"
    return True


def _load(package_path: list[str], package: str) -> str | None:
    group = f"{GROUP}__mypyc"
    loaded_group = group not in sys.modules
    package_path.insert(0, str(BUILD_DIR))
    try:
        # The compiled modules import their shared library by its top-level name.
        if loaded_group:
            spec = importlib.util.spec_from_file_location(group, BUILD_DIR / f"{group}{extension_suffix()}")
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {group}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[group] = module
            spec.loader.exec_module(module)
        for name in MODULES:
            importlib.import_module(f"{package}.{name}")
    except (ImportError, OSError) as exc:
        package_path.remove(str(BUILD_DIR))
        if loaded_group:
            sys.modules.pop(group, None)
        keep = {package, f"{package}.compiled"}
        for name in [m for m in sys.modules if m.startswith(package + ".") and m not in keep]:
            del sys.modules[name]
        return f"failed to load: {exc}"
    return None
