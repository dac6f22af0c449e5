"""Engine benchmark (`make bench`).

1. Throughput of evaluate() on one core over a few thousand generated cases (already loaded), in
   the compiled engine (mypyc) and, in a second process, the Python source of the same engine;
   and the throughput of JSON Schema validation alone (jsonschema) on the same cases.
2. Wall time of `python manage.py screen DIR` over a directory of 10,000 generated case files,
   against a naive loop (json.load + jsonschema validation, nothing evaluated) over the same files.

CPU time is reported next to wall time: the machine may be shared, and CPU time is what the
process itself used.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.generate import generate, write_cases  # noqa: E402
from screening.criteria import ENGINE_BUILD, evaluate, load_case  # noqa: E402
from screening.criteria.loader import validator  # noqa: E402


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def engine_throughput(n_cases: int, min_seconds: float) -> tuple[float, float, float, int]:
    """Rounds over the loaded cases until `min_seconds` of CPU time: (best and median round in
    evaluations per CPU second, overall evaluations per wall second, evaluations done)."""
    cases = [load_case(c) for c in generate(n_cases, seed=329)]
    evaluate(cases[0])  # warm-up
    rates: list[float] = []
    wall0, cpu0 = _clock()
    while True:
        r_cpu = time.process_time()
        for case in cases:
            evaluate(case)
        rates.append(len(cases) / (time.process_time() - r_cpu))
        wall1, cpu1 = _clock()
        if cpu1 - cpu0 >= min_seconds and len(rates) >= 3:
            break
    done = len(rates) * len(cases)
    return max(rates), statistics.median(rates), done / (wall1 - wall0), done


def python_engine_throughput(n_cases: int, min_seconds: float) -> tuple[float, float]:
    """The same measurement in a process that runs the engine's Python source (ALLO_ENGINE=python)."""
    proc = subprocess.run(
        [
            sys.executable,
            __file__,
            "--throughput-only",
            f"--cases={n_cases}",
            f"--min-seconds={min_seconds}",
        ],
        env={**os.environ, "ALLO_ENGINE": "python"},
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(proc.stdout)
    return figures["best"], figures["median"]


def schema_throughput(n_cases: int) -> float:
    check = validator()
    data = generate(n_cases, seed=330)
    _, cpu0 = _clock()
    for d in data:
        for _ in check.iter_errors(d):
            pass
    _, cpu1 = _clock()
    return n_cases / (cpu1 - cpu0)


def screen_directory(directory: Path, n_files: int) -> tuple[float, float]:
    env = {**os.environ}
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/allo_engine")
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/1")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out_path = directory.parent / "screen-output.json"
    with open(out_path, "w", encoding="utf-8") as out:
        wall0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, str(REPO / "manage.py"), "screen", str(directory)],
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=REPO,
        )
        wall = time.perf_counter() - wall0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"screen exited {proc.returncode}: {proc.stderr[:2000]}")
    results = json.loads(out_path.read_text(encoding="utf-8"))
    if len(results) != n_files:
        raise SystemExit(f"screen printed {len(results)} results for {n_files} files")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def naive_loop(files: list[Path]) -> float:
    check = validator()
    wall0 = time.perf_counter()
    for path in files:
        with open(path, encoding="utf-8") as f:
            data = json.load(f, parse_float=Decimal)
        for _ in check.iter_errors(data):
            pass
    return time.perf_counter() - wall0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=3000, help="generated cases for the engine throughput")
    parser.add_argument("--files", type=int, default=10000, help="generated case files for `screen`")
    parser.add_argument(
        "--baseline-files",
        type=int,
        default=1000,
        help="files read by the naive json+jsonschema loop (its time is scaled to --files)",
    )
    parser.add_argument("--min-seconds", type=float, default=3.0, help="CPU seconds of evaluate() to measure")
    parser.add_argument("--throughput-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.throughput_only:
        best, median, _per_wall, _done = engine_throughput(args.cases, args.min_seconds)
        print(json.dumps({"best": best, "median": median, "build": ENGINE_BUILD}))
        return

    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, engine: {ENGINE_BUILD}")
    best, median, per_wall, done = engine_throughput(args.cases, args.min_seconds)
    py_best, py_median = python_engine_throughput(args.cases, args.min_seconds)
    schema_rate = schema_throughput(min(args.cases, 500))
    print(
        f"engine: {best:,.0f} evaluations/s of CPU time on one core (best round; median {median:,.0f}; "
        f"{per_wall:,.0f}/s wall), {done:,} evaluations of {args.cases:,} generated cases"
    )
    print(
        f"baseline: the engine's Python source {py_best:,.0f} evaluations/s (best; median "
        f"{py_median:,.0f}); the {ENGINE_BUILD} engine is {best / py_best:.2f}x that"
    )
    print(
        f"baseline: jsonschema validation alone {schema_rate:,.0f} cases/s; "
        f"evaluate() is {best / schema_rate:.1f}x faster than validating the same case"
    )
    print(f"load average (1 min) before the screen run: {os.getloadavg()[0]:.1f}")

    with tempfile.TemporaryDirectory(prefix="allo-bench-") as tmp:
        directory = Path(tmp) / "cases"
        write_cases(directory, generate(args.files, seed=331))
        files = sorted(directory.glob("*.json"))
        wall, cpu = screen_directory(directory, len(files))
        sample = files[: args.baseline_files]
        naive = naive_loop(sample) * len(files) / len(sample)
    print(
        f"screen: {len(files):,} files in {wall:.2f} s wall ({cpu:.2f} s CPU over all processes), "
        f"{len(files) / wall:,.0f} files/s"
    )
    print(
        f"baseline: naive json+jsonschema loop (validation only, one process) {naive:.2f} s for "
        f"{len(files):,} files (measured on {len(sample):,}); screen is {naive / wall:.1f}x faster"
    )
    target_ok = best >= 20000 and wall < 10
    print(f"targets (>= 20,000 evaluations/s, 10,000 files < 10 s): {'met' if target_ok else 'NOT met'}")


if __name__ == "__main__":
    main()
