"""The mypyc-compiled engine: loaded only when it matches the sources, and it gives the very same
results as the Python source on every example and on generated cases."""

from __future__ import annotations

import importlib.machinery
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import screening.criteria as engine
from screening.criteria import compiled

from .helpers import CASES, REPO

SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


def test_the_process_runs_the_engine_form_it_was_asked_for() -> None:
    """`make test` runs the engine tests with ALLO_ENGINE=python, then everything with =compiled."""
    wanted = os.environ.get(compiled.ENV, "")
    module_file = sys.modules["screening.criteria.engine"].__file__ or ""
    if wanted == "python":
        assert engine.ENGINE_BUILD == "Python (ALLO_ENGINE=python)"
        assert module_file.endswith("engine.py")
    elif wanted == "compiled":
        assert engine.ENGINE_BUILD == "compiled (mypyc)"
        assert module_file.endswith("engine" + SUFFIX)
        for name in compiled.MODULES:
            loaded = sys.modules[f"screening.criteria.{name}"].__file__ or ""
            assert loaded == str(compiled.BUILD_DIR / f"{name}{SUFFIX}")
    else:
        pytest.skip(f"{compiled.ENV} is not set (make test sets it)")


_DUMP = """
import json, sys
sys.path.insert(0, "bench")
import screening.criteria as engine
from generate import generate
from pathlib import Path
out = {"build": engine.ENGINE_BUILD, "results": {}}
for path in sorted(Path(sys.argv[1]).glob("*.json")):
    if path.name == "schema.json":
        continue
    try:
        case = engine.parse_case_text(path.read_text(encoding="utf-8"))
    except engine.CaseError:
        continue
    out["results"][path.name] = engine.dumps(engine.evaluation_to_json(engine.evaluate(case)))
for i, data in enumerate(generate(int(sys.argv[2]), seed=4242)):
    ev = engine.evaluate(engine.load_case(data))
    out["results"][f"generated-{i}"] = engine.dumps(engine.evaluation_to_json(ev))
print(json.dumps(out))
"""


def _results_in(form: str, n_generated: int) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", _DUMP, str(CASES), str(n_generated)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, compiled.ENV: form},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    data: dict[str, object] = json.loads(proc.stdout)
    return data


def test_compiled_and_python_engines_give_identical_results() -> None:
    if compiled.build_problem() is not None and os.environ.get(compiled.ENV) != "compiled":
        pytest.skip(f"compiled engine {compiled.build_problem()}")
    python = _results_in("python", 400)
    native = _results_in("compiled", 400)
    assert python["build"] == "Python (ALLO_ENGINE=python)"
    assert native["build"] == "compiled (mypyc)"
    py_results, native_results = python["results"], native["results"]
    assert isinstance(py_results, dict) and isinstance(native_results, dict)
    assert len(py_results) >= 420  # the examples of the shared folder and the generated cases
    assert py_results.keys() == native_results.keys()
    different = [name for name in py_results if py_results[name] != native_results[name]]
    assert different == []


@pytest.fixture
def package_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """compiled.py pointed at a copy of the engine's sources with a fake build beside it."""
    package = tmp_path / "criteria"
    package.mkdir()
    for path in compiled.PACKAGE_DIR.glob("*.py"):
        shutil.copy2(path, package)
    build = package / "_compiled"
    build.mkdir()
    monkeypatch.setattr(compiled, "PACKAGE_DIR", package)
    monkeypatch.setattr(compiled, "BUILD_DIR", build)
    monkeypatch.setattr(compiled, "STAMP", build / "stamp.json")
    monkeypatch.delenv(compiled.ENV, raising=False)
    monkeypatch.setattr(compiled, "STATE", compiled.STATE)
    for name in compiled.binary_names():
        (build / name).write_bytes(b"not a shared object " + name.encode())
    _restamp()
    return package


def _restamp() -> None:
    stamp = compiled.stamp_for_build(compiled.BUILD_DIR, compiled.source_digests())
    compiled.STAMP.write_text(json.dumps(stamp), encoding="utf-8")


def test_a_build_matching_the_sources_is_usable(package_copy: Path) -> None:
    assert compiled.build_problem() is None


@pytest.mark.parametrize("edited", ["engine.py", "loader.py", "compiled.py"])
def test_a_source_edited_after_the_build_falls_back_to_python(
    package_copy: Path, monkeypatch: pytest.MonkeyPatch, edited: str
) -> None:
    """Compiled or not, every module of the package counts: the build was type-checked against all."""
    source = package_copy / edited
    source.write_text(source.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert compiled.build_problem() == f"stale: {edited} changed since the build"
    path: list[str] = []
    assert compiled.activate(path, "criteria_copy") is False
    assert path == []
    assert compiled.STATE == f"Python (compiled engine stale: {edited} changed since the build)"
    monkeypatch.setenv(compiled.ENV, "compiled")
    with pytest.raises(ImportError, match=f"stale: {edited} changed"):
        compiled.activate(path, "criteria_copy")


def test_a_missing_damaged_or_foreign_build_is_not_used(package_copy: Path) -> None:
    engine_so = compiled.BUILD_DIR / f"engine{SUFFIX}"
    whole = engine_so.read_bytes()
    engine_so.write_bytes(whole[:5])  # a copy cut short
    assert compiled.build_problem() == f"damaged build: engine{SUFFIX} differs from its stamp"
    engine_so.write_bytes(whole)
    assert compiled.build_problem() is None
    (compiled.BUILD_DIR / f"rules_sle{SUFFIX}").unlink()
    assert compiled.build_problem() == f"incomplete build: rules_sle{SUFFIX} is missing"
    stamp = json.loads(compiled.STAMP.read_text(encoding="utf-8"))
    stamp["suffix"] = ".cpython-312-x86_64-linux-gnu.so"
    compiled.STAMP.write_text(json.dumps(stamp), encoding="utf-8")
    assert (compiled.build_problem() or "").startswith("built for .cpython-312")
    compiled.STAMP.unlink()
    assert compiled.build_problem() == "not built (run `make engine`)"


def test_a_build_that_does_not_load_falls_back_to_python(
    package_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stamp matches, but the binaries are not loadable: nothing of them stays in use."""
    monkeypatch.setattr(compiled, "GROUP", "test_unloadable_group")
    (compiled.BUILD_DIR / f"test_unloadable_group__mypyc{SUFFIX}").write_bytes(b"not a shared object")
    _restamp()
    assert compiled.build_problem() is None
    path = ["source-dir"]
    assert compiled.activate(path, "criteria_copy") is False
    assert path == ["source-dir"]
    assert compiled.STATE.startswith("Python (compiled engine failed to load:")
    assert "test_unloadable_group__mypyc" not in sys.modules
    monkeypatch.setenv(compiled.ENV, "compiled")
    with pytest.raises(ImportError, match="failed to load"):
        compiled.activate(path, "criteria_copy")
    assert path == ["source-dir"]


def test_python_can_be_forced(monkeypatch: pytest.MonkeyPatch, package_copy: Path) -> None:
    monkeypatch.setenv(compiled.ENV, "python")
    path: list[str] = []
    assert compiled.activate(path, "criteria_copy") is False
    assert path == []
    assert compiled.STATE == "Python (ALLO_ENGINE=python)"
