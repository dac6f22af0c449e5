"""Compile the engine's hot modules with mypyc into screening/criteria/_compiled/ (`make engine`).

Nothing is built when the stamp already matches the sources. The build goes to a temporary
directory and replaces _compiled/ only when it is complete, so an interrupted build never leaves
a half-built engine behind; the stamp is written last.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# compiled.py by its path: importing the package would load the build that is about to be replaced.
_spec = importlib.util.spec_from_file_location("engine_build_state", REPO / "screening/criteria/compiled.py")
assert _spec is not None and _spec.loader is not None
compiled = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compiled)

_SETUP = """
import sys
from setuptools import setup
from mypyc.build import mypycify

paths, group, target = sys.argv[1].split(","), sys.argv[2], sys.argv[3]
setup(
    name="allo329-engine",
    ext_modules=mypycify(paths, opt_level="3", group_name=group, target_dir=target),
    script_args=["build_ext", "--build-lib", sys.argv[4], "--build-temp", sys.argv[5]],
)
"""


def build(force: bool = False) -> str:
    if not force and compiled.build_problem() is None:
        return f"compiled engine is up to date in {compiled.BUILD_DIR.relative_to(REPO)}"
    started = time.perf_counter()
    stamp = compiled.stamp_for_current_sources()
    suffix = compiled.extension_suffix()
    with tempfile.TemporaryDirectory(prefix="allo-engine-build-") as tmp:
        work = Path(tmp)
        paths = ",".join(f"screening/criteria/{name}.py" for name in compiled.MODULES)
        # mypy reads its settings from pyproject.toml in the working directory.
        env = {**os.environ, compiled.ENV: "python"}
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                _SETUP,
                paths,
                compiled.GROUP,
                str(work / "c"),
                str(work / "lib"),
                str(work / "tmp"),
            ],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
            raise SystemExit(f"mypyc build failed (exit {proc.returncode})")
        out = work / "out"
        out.mkdir()
        lib = work / "lib"
        shutil.copy2(lib / f"{compiled.GROUP}__mypyc{suffix}", out)
        for name in compiled.MODULES:
            shutil.copy2(lib / "screening" / "criteria" / f"{name}{suffix}", out)
        if compiled.source_digests() != stamp["sources"]:
            raise SystemExit("the engine's sources changed during the build; run it again")
        (out / "stamp.json").write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
        old = compiled.BUILD_DIR.with_name("_compiled.old")
        shutil.rmtree(old, ignore_errors=True)
        if compiled.BUILD_DIR.exists():
            compiled.BUILD_DIR.rename(old)
        shutil.move(str(out), compiled.BUILD_DIR)
        shutil.rmtree(old, ignore_errors=True)
    return (
        f"compiled {len(compiled.MODULES)} engine modules with mypyc into "
        f"{compiled.BUILD_DIR.relative_to(REPO)} in {time.perf_counter() - started:.1f} s"
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
