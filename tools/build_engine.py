"""Compile the engine's hot modules with mypyc into screening/criteria/_compiled/ (`make engine`).

Nothing is built when the stamp already matches the sources and the installed mypy. The build is
assembled in `_compiled.new/` beside the live one, its stamp written last, and swapped in by
renaming, under a lock: an interrupted or concurrent build never leaves a half-built engine
where the package looks for it (and the stamp's binary digests would refuse one anyway).
"""

from __future__ import annotations

import argparse
import fcntl
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# compiled.py by its path: importing the package would load the build that is about to be replaced.
_spec = importlib.util.spec_from_file_location("engine_build_state", REPO / "screening/criteria/compiled.py")
assert _spec is not None and _spec.loader is not None
compiled = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compiled)

OPT_LEVEL = "3"
_SETUP = """
import sys
from setuptools import setup
from mypyc.build import mypycify

paths, group, target, opt = sys.argv[1].split(","), sys.argv[2], sys.argv[3], sys.argv[6]
setup(
    name="allo329-engine",
    ext_modules=mypycify(paths, opt_level=opt, group_name=group, target_dir=target),
    script_args=["build_ext", "--build-lib", sys.argv[4], "--build-temp", sys.argv[5]],
)
"""


def _up_to_date() -> bool:
    if compiled.build_problem() is not None:
        return False
    stamp = json.loads(compiled.STAMP.read_text(encoding="utf-8"))
    return bool(stamp.get("mypy") == version("mypy"))


def _compile(lib: Path, work: Path) -> None:
    paths = ",".join(f"screening/criteria/{name}.py" for name in compiled.MODULES)
    # mypy reads its settings from pyproject.toml in the working directory.
    env = {**os.environ, compiled.ENV: "python"}
    args = [paths, compiled.GROUP, str(work / "c"), str(lib), str(work / "tmp"), OPT_LEVEL]
    proc = subprocess.run(
        [sys.executable, "-c", _SETUP, *args], cwd=REPO, env=env, capture_output=True, text=True
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"mypyc build failed (exit {proc.returncode})")


def build(force: bool = False) -> str:
    build_dir: Path = compiled.BUILD_DIR
    new, old = build_dir.with_name("_compiled.new"), build_dir.with_name("_compiled.old")
    with open(build_dir.with_name("_compiled.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second build waits, then finds the first one's result
        if not force and _up_to_date():
            return f"compiled engine is up to date in {build_dir.relative_to(REPO)}"
        started = time.perf_counter()
        sources = compiled.source_digests()
        shutil.rmtree(new, ignore_errors=True)
        with tempfile.TemporaryDirectory(prefix="allo-engine-build-") as tmp:
            lib = Path(tmp) / "lib"
            _compile(lib, Path(tmp))
            new.mkdir()
            suffix = compiled.extension_suffix()
            shutil.copy2(lib / f"{compiled.GROUP}__mypyc{suffix}", new)
            for name in compiled.MODULES:
                shutil.copy2(lib / "screening" / "criteria" / f"{name}{suffix}", new)
        if compiled.source_digests() != sources:
            shutil.rmtree(new)
            raise SystemExit("the engine's sources changed during the build; run it again")
        stamp = compiled.stamp_for_build(new, sources)
        (new / "stamp.json").write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
        shutil.rmtree(old, ignore_errors=True)
        if build_dir.exists():
            os.rename(build_dir, old)
        os.rename(new, build_dir)
        shutil.rmtree(old, ignore_errors=True)
    return (
        f"compiled {len(compiled.MODULES)} engine modules with mypyc into "
        f"{build_dir.relative_to(REPO)} in {time.perf_counter() - started:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="build even when the stamp matches")
    parser.add_argument("--clean", action="store_true", help="remove the compiled modules")
    args = parser.parse_args()
    if args.clean:
        shutil.rmtree(compiled.BUILD_DIR, ignore_errors=True)
        print(f"removed {compiled.BUILD_DIR.relative_to(REPO)}")
        return
    print(build(force=args.force))


if __name__ == "__main__":
    main()
