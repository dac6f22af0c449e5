"""The dry run of README § 1: what importing one file would stage, as one JSON object.

Pure: the site's identifiers and earlier imports come in as `participant_of` and `history`
(`matching` reads them). Rows are produced one at a time, so the caller may write them as they
come; `write_json` does, with numbers printed as the decimals sent (`2.10` stays `2.10`).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import tzinfo
from decimal import Decimal
from typing import Any, Protocol

from .files import open_file
from .mapping import History, Row, Stager
from .reading import FileReading, Identifier, Reading, Refused


@dataclass
class DryRun:
    file: str
    site: str
    time_zone: str
    format: str | None = None
    refused: str | None = None
    rows: Iterator[Row] = field(default_factory=lambda: iter(()))
    ignored: Counter[str] = field(default_factory=Counter)
    # What `rows` is made of, for a caller that decides the rows in windows (staging): the file's
    # readings and the stager, whose history the caller may replace before each window.
    readings: Iterator[Reading] = field(default_factory=lambda: iter(()))
    stager: Stager | None = None


def dry_run(
    path: str,
    *,
    site: str,
    zone: tzinfo,
    zone_name: str,
    participant_of: Callable[[Identifier], str | None],
    history: History | None = None,
) -> DryRun:
    """Open and identify the file; its rows are decided as `rows` is iterated."""
    result = DryRun(os.path.basename(path), site, zone_name)
    try:
        reading: FileReading = open_file(path, os.path.getsize(path))
    except Refused as exc:
        result.refused, result.format = str(exc), exc.format
        return result
    result.format = reading.format
    result.ignored = reading.ignored
    stager = Stager(zone, participant_of, history)
    result.readings, result.stager = iter(reading.readings), stager
    result.rows = (stager.row(r) for r in result.readings)
    return result


class Writer(Protocol):
    def write(self, text: str, /) -> Any: ...


def to_json(value: Any) -> str:
    """JSON text of a value whose numbers may be Decimals, printed with the digits they carry."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(to_json(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def write_json(run: DryRun, out: Writer) -> bool:
    """Write the output object, one row a line as it is decided; False when the file is refused.

    Every whole-file refusal is found before the first row (`reading` checks a Bundle, every NDJSON
    line and every HL7 segment first), so rows can be written as they come.
    """
    out.write("{" + f'"file": {to_json(run.file)}, "site": {to_json(run.site)}, ')
    out.write(f'"time_zone": {to_json(run.time_zone)}, "format": {to_json(run.format)},\n "rows": [')
    separator = "\n  "
    for row in run.rows:
        out.write(separator + to_json(row.as_json()))
        separator = ",\n  "
    out.write("\n ],\n" if separator != "\n  " else "],\n")
    ignored = {} if run.refused is not None else dict(sorted(run.ignored.items()))
    out.write(f' "ignored": {to_json(ignored)}, "refused": {to_json(run.refused)}}}\n')
    return run.refused is None
