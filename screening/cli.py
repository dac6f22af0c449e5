"""The `screen` command, without Django: evaluate case files and print the results."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TextIO

from screening.criteria import CaseError, dumps, evaluate, evaluation_to_json, format_text, parse_case_text
from screening.criteria.results import Evaluation

# Results of one input: (label for errors, evaluation or the errors).
Outcome = tuple[str, Evaluation | None, list[tuple[str, str]]]


def _screen_text(label: str, text: str, as_of: date | None) -> Outcome:
    try:
        case = parse_case_text(text)
    except CaseError as exc:
        return label, None, exc.errors
    if as_of is not None:
        case = replace(case, dates=replace(case.dates, as_of=as_of))
    return label, evaluate(case), []


def _screen_file(args: tuple[str, date | None]) -> Outcome:
    path, as_of = args
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return path, None, [("", f"cannot read: {exc}")]
    return _screen_text(path, text, as_of)


def _directory(path: Path, as_of: date | None) -> Iterator[Outcome]:
    files = sorted(str(p) for p in path.iterdir() if p.suffix == ".json" and p.is_file())
    jobs = [(f, as_of) for f in files]
    workers = min(2, os.cpu_count() or 1)
    if len(files) >= 200 and workers > 1:
        # Validation dominates: two processes, results kept in file order.
        import multiprocessing

        ctx = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
        with ctx.Pool(workers) as pool:
            yield from pool.imap(_screen_file, jobs, chunksize=64)
    else:
        for job in jobs:
            yield _screen_file(job)


def run_screen(
    paths: list[str], as_of: date | None, fmt: str, stdout: TextIO, stderr: TextIO, stdin: TextIO
) -> int:
    """Screen case files, directories of case files, or "-" (standard input). Exit 2 if any input fails."""
    status = 0
    for raw in paths:
        is_dir = raw != "-" and Path(raw).is_dir()
        if raw == "-":
            outcomes: Iterator[Outcome] = iter([_screen_text("-", stdin.read(), as_of)])
        elif is_dir:
            outcomes = _directory(Path(raw), as_of)
        else:
            outcomes = iter([_screen_file((raw, as_of))])
        evaluations: list[Evaluation] = []
        for label, ev, errors in outcomes:
            if ev is None:
                status = 2
                for field, message in errors:
                    stderr.write(f"{label}: {field}: {message}\n" if field else f"{label}: {message}\n")
                continue
            if fmt == "text":
                stdout.write(format_text(ev))
            elif is_dir:
                evaluations.append(ev)
            else:
                stdout.write(dumps(evaluation_to_json(ev), indent=2) + "\n")
        if is_dir and fmt != "text":
            stdout.write(dumps([evaluation_to_json(ev) for ev in evaluations], indent=2) + "\n")
    return status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="screen", description="Evaluate ALLO-329 screening cases.")
    parser.add_argument("paths", nargs="+", metavar="PATH", help='case file, directory of case files, or "-"')
    parser.add_argument("--as-of", type=date.fromisoformat, default=None, help="evaluation date (YYYY-MM-DD)")
    parser.add_argument("--format", choices=("json", "text"), default="json")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_screen(args.paths, args.as_of, args.format, sys.stdout, sys.stderr, sys.stdin)


if __name__ == "__main__":
    raise SystemExit(main())
