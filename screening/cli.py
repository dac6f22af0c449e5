"""The `screen` command, without Django: evaluate case files and print the results."""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from screening.criteria import (
    PROTOCOL_VERSIONS,
    CaseError,
    ProtocolVersion,
    evaluate,
    evaluation_to_json,
    format_text,
    load_case,
)
from screening.criteria.calendar_math import iso
from screening.criteria.canonical import format_decimal
from screening.criteria.results import Evaluation, Overall, ReviewBy
from screening.criteria.results import Outcome as CriterionOutcome

JSON = "json"
TEXT = "text"

# One input's outcome: (label for messages, rendered output or None, errors, skipped).
Outcome = tuple[str, str | None, list[tuple[str, str]], bool]


def render_json(ev: Evaluation, indent: int | None = 2) -> str:
    """The result object of cases/README.md as JSON text, Decimal numbers written exactly."""
    return render_value(evaluation_to_json(ev), indent)


_str = json.encoder.encode_basestring  # type: ignore[attr-defined]  # C function: a JSON string, non-ASCII kept
_NULL = "null"


def _date_json(d: date | None) -> str:
    return _NULL if d is None else '"' + iso(d) + '"'


_OUTCOME = {o: '"' + o.value + '"' for o in CriterionOutcome}
_OVERALL = {o: '"' + o.value + '"' for o in Overall}
_REVIEW_BY = {None: _NULL, **{b: '"' + b.value + '"' for b in ReviewBy}}


def render_compact(ev: Evaluation) -> str:
    """render_json(ev, indent=None), written field by field.

    json.dumps spends most of its time on the 57 dictionaries evaluation_to_json builds; a
    directory of cases prints thousands of results, so they are written directly. A property test
    checks that the text is identical to render_json's."""
    s, d = _str, _date_json
    rows = [
        f'{{"id": {s(r.id)}, "outcome": {_OUTCOME[r.outcome]}, "review_by": {_REVIEW_BY[r.review_by]}, '
        f'"reason": {s(r.reason)}, "missing": [{", ".join([s(m) for m in r.missing])}], '
        f'"valid_until": {d(r.valid_until)}, "eligible_from": {d(r.eligible_from)}, '
        f'"repeat_from": {d(r.repeat_from)}, '
        f'"evidence_digest": {_NULL if r.evidence_digest is None else s(r.evidence_digest)}, '
        f'"evidence": {_NULL if r.evidence is None else render_value([dict(e) for e in r.evidence])}}}'
        for r in ev.criteria
    ]
    return (
        f'{{"case_id": {s(ev.case_id)}, "protocol_version": {s(ev.protocol_version)}, '
        f'"as_of": {d(ev.as_of)}, "overall": {_OVERALL[ev.overall]}, "valid_until": {d(ev.valid_until)}, '
        f'"eligible_from": {d(ev.eligible_from)}, "criteria": [{", ".join(rows)}]}}'
    )


def render_value(value: Any, indent: int | None = None) -> str:
    """JSON of any value with Decimals written exactly.

    The C encoder writes everything except a Decimal (evidence values as recorded); those go in
    as unique placeholder strings that are replaced by the exact number afterwards."""
    decimals: list[str] = []
    token = ""

    def default(v: Any) -> Any:
        nonlocal token
        if isinstance(v, Decimal):
            if not token:
                token = secrets.token_hex(8)
            decimals.append(format_decimal(v))
            return f"{token}#{len(decimals) - 1}"
        raise TypeError(f"cannot write {type(v).__name__} as JSON")

    text = json.dumps(value, ensure_ascii=False, indent=indent, default=default)
    if decimals:
        text = re.sub(f'"{token}#([0-9]+)"', lambda m: decimals[int(m.group(1))], text)
    return text


def _render(ev: Evaluation, fmt: str, in_array: bool) -> str:
    if fmt == TEXT:
        return format_text(ev)
    if in_array:
        # One compact line per case in a directory's array: thousands of results are read by
        # programs, not people.
        return render_compact(ev)
    return render_json(ev) + "\n"


def _screen_text(
    label: str, text: str, as_of: date | None, fmt: str, in_dir: bool, protocol: ProtocolVersion | None
) -> Outcome:
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        return label, None, [("", f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")], False
    if in_dir and isinstance(data, dict) and "$schema" in data:
        # A JSON Schema document (such as cases/schema.json) lying next to the cases.
        return label, None, [], True
    try:
        case = load_case(data)
    except CaseError as exc:
        return label, None, exc.errors, False
    if as_of is not None:
        case = replace(case, dates=replace(case.dates, as_of=as_of))
    return label, _render(evaluate(case, protocol), fmt, in_dir), [], False


# One file to screen: path, as-of override, format, part of a directory, protocol override.
_Job = tuple[str, date | None, str, bool, ProtocolVersion | None]


def _screen_file(job: _Job) -> Outcome:
    path, as_of, fmt, in_dir, protocol = job
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        return path, None, [("", f"cannot read: {exc}")], False
    return _screen_text(path, text, as_of, fmt, in_dir, protocol)


def case_files(directory: Path) -> list[str]:
    """The `*.json` files directly in `directory`, sorted; subdirectories (such as expected/) are not read."""
    with os.scandir(directory) as entries:
        return sorted(
            os.path.join(directory, e.name) for e in entries if e.name.endswith(".json") and e.is_file()
        )


def _directory(
    path: Path, as_of: date | None, fmt: str, protocol: ProtocolVersion | None
) -> Iterator[Outcome]:
    jobs: list[_Job] = [(f, as_of, fmt, True, protocol) for f in case_files(path)]
    workers = min(
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 8
    )
    if len(jobs) >= 200 and workers > 1:
        # One process per available core (at most 8), results kept in file order.
        import multiprocessing

        ctx = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
        with ctx.Pool(workers) as pool:
            yield from pool.imap(_screen_file, jobs, chunksize=64)
    else:
        for job in jobs:
            yield _screen_file(job)


def _report(label: str, errors: list[tuple[str, str]], stderr: TextIO) -> None:
    for field, message in errors:
        stderr.write(f"{label}: {field}: {message}\n" if field else f"{label}: {message}\n")


def run_screen(
    paths: list[str],
    as_of: date | None,
    fmt: str,
    stdout: TextIO,
    stderr: TextIO,
    stdin: TextIO,
    protocol_version: str | None = None,
) -> int:
    """Screen case files, directories of case files, or "-" (standard input).

    JSON: one object per case file, a JSON array per directory. Every refused input is reported
    on stderr with its file and field path; the others are still evaluated. Exit status 2 if any
    input was refused, else 0. `protocol_version` overrides the version each case names; an
    unknown one is refused before anything is evaluated (exit status 2)."""
    protocol: ProtocolVersion | None = None
    if protocol_version is not None:
        protocol = PROTOCOL_VERSIONS.get(protocol_version)
        if protocol is None:
            stderr.write(
                f"--protocol: unknown protocol version {protocol_version!r}; "
                f"known: {', '.join(PROTOCOL_VERSIONS)}\n"
            )
            return 2
    status = 0
    for raw in paths:
        if raw != "-" and Path(raw).is_dir():
            # Streamed as results arrive (in file order), so memory does not grow with the directory.
            count = 0
            for label, out, errors, skipped in _directory(Path(raw), as_of, fmt, protocol):
                if skipped:
                    continue
                if out is None:
                    status = 2
                    _report(label, errors, stderr)
                elif fmt == TEXT:
                    stdout.write(out)
                else:
                    stdout.write(("[\n" if count == 0 else ",\n") + out)
                    count += 1
            if fmt != TEXT:
                stdout.write("\n]\n" if count else "[]\n")
            continue
        if raw == "-":
            label, out, errors, _ = _screen_text("<stdin>", stdin.read(), as_of, fmt, False, protocol)
        else:
            label, out, errors, _ = _screen_file((raw, as_of, fmt, False, protocol))
        if out is None:
            status = 2
            _report(label, errors, stderr)
        else:
            stdout.write(out)
    return status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="screen", description="Evaluate ALLO-329 screening cases.")
    parser.add_argument("paths", nargs="+", metavar="PATH", help='case file, directory of case files, or "-"')
    parser.add_argument("--as-of", type=date.fromisoformat, default=None, help="evaluation date (YYYY-MM-DD)")
    parser.add_argument("--format", choices=(JSON, TEXT), default=JSON)
    parser.add_argument(
        "--protocol", default=None, metavar="VERSION", help="evaluate every case under this protocol version"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_screen(args.paths, args.as_of, args.format, sys.stdout, sys.stderr, sys.stdin, args.protocol)


if __name__ == "__main__":
    raise SystemExit(main())
