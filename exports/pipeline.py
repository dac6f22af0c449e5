"""Streamed CSV and XLSX downloads, safe against spreadsheet formula injection.

A report gives a header and an iterator of rows of plain values (text, numbers, dates, None);
this module alone turns them into cells and files. Rows arrive as an iterator and leave in chunks: nothing holds the whole table. CSV is written
row by row into the response. XLSX is built by an openpyxl write-only workbook (which keeps its
rows in a temporary file, not in memory) into a temporary file, which is then streamed.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any, BinaryIO

from django.http import Http404, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

# Characters XML 1.0 cannot hold: openpyxl's control characters, and U+FFFE / U+FFFF, which it
# does not catch but lxml refuses mid-stream (a truncated download).
XML_ILLEGAL = re.compile(ILLEGAL_CHARACTERS_RE.pattern + "|[\ufffe\uffff]")

# A cell starting with one of these is a formula (or becomes one) in spreadsheet programs.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CSV_ROWS_PER_CHUNK = 500
CSV_FIRST_ROWS = 20  # the first rows leave as soon as they are read
FILE_CHUNK = 64 * 1024


class ExportFormat:
    CSV = "csv"
    XLSX = "xlsx"
    ALL = (CSV, XLSX)


def export_format(fmt: str) -> str:
    """The format named in a download URL; any other is a 404."""
    if fmt not in ExportFormat.ALL:
        raise Http404("Unknown export format")
    return fmt


def neutralise(value: str) -> str:
    """Prefix a single quote to text a spreadsheet would read as a formula."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return (
            timezone.localtime(value).isoformat(timespec="seconds")
            if timezone.is_aware(value)
            else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value)


def csv_cell(value: Any) -> str:
    if type(value) is str:  # most cells: no conversion to choose
        return "'" + value if value.startswith(FORMULA_TRIGGERS) else value
    return neutralise(_text(value))


def xlsx_cell(value: Any) -> Any:
    """Numbers and dates stay typed (they cannot carry a formula); text is neutralised."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float, Decimal)):
        return value
    if isinstance(value, datetime):
        # Spreadsheets have no time zones: local wall time, as the column header says.
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, date):
        return value
    return neutralise(XML_ILLEGAL.sub("", str(value)))


def _csv_cells_in(tz: tzinfo) -> Callable[[Any], str]:
    """csv_cell with the time zone looked up once (the lookup costs more than the conversion)."""

    def cell(value: Any) -> str:
        kind = type(value)
        if kind is str:
            return "'" + value if value.startswith(FORMULA_TRIGGERS) else value
        if value is None:
            return ""
        if kind is datetime and value.tzinfo is not None:
            return value.astimezone(tz).isoformat(timespec="seconds")  # type: ignore[no-any-return]
        return csv_cell(value)

    return cell


def _xlsx_cells_in(tz: tzinfo) -> Callable[[Any], Any]:
    def cell(value: Any) -> Any:
        kind = type(value)
        if kind is str:
            text = XML_ILLEGAL.sub("", value)
            return "'" + text if text.startswith(FORMULA_TRIGGERS) else text
        if value is None or kind is int or kind is Decimal or kind is date:
            return value
        if kind is datetime and value.tzinfo is not None:
            return value.astimezone(tz).replace(tzinfo=None)
        return xlsx_cell(value)

    return cell


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The header leaves before the first row is asked for (so before the report's query runs),
    then the first CSV_FIRST_ROWS rows, then CSV_ROWS_PER_CHUNK rows a chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # byte order mark: spreadsheet programs then read UTF-8
    writer.writerow([csv_cell(h) for h in header])
    yield buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    writerow = writer.writerow
    cell = _csv_cells_in(timezone.get_current_timezone())
    pending = 0
    limit = CSV_FIRST_ROWS
    for row in rows:
        writerow([cell(v) for v in row])
        pending += 1
        if pending == limit:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
            limit = CSV_ROWS_PER_CHUNK
    if pending:
        yield buffer.getvalue()


def write_xlsx(
    out: BinaryIO,
    sheet_title: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    progress: Callable[[int], None] | None = None,
    every: int = 1000,
) -> int:
    """Write the workbook into `out` with openpyxl's write-only mode (rows go to a temporary file as
    they are appended, so memory does not grow with the table); `progress(rows so far)` is called
    every `every` rows. Returns the number of rows."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    sheet.append([xlsx_cell(h) for h in header])
    append = sheet.append
    cell = _xlsx_cells_in(timezone.get_current_timezone())
    n = 0
    for n, row in enumerate(rows, start=1):  # noqa: B007 - n is the count after the loop
        append([cell(v) for v in row])
        if progress is not None and n % every == 0:
            progress(n)
    workbook.save(out)
    return n


def xlsx_chunks(sheet_title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """A small workbook (the funnel, the EAC log) spooled in the request, then streamed; the large
    ones (screening log, audit trail) are written by a worker (exports.jobs)."""
    with tempfile.TemporaryFile(suffix=".xlsx") as out:
        write_xlsx(out, sheet_title, header, rows)
        out.seek(0)
        while chunk := out.read(FILE_CHUNK):
            yield chunk


CONTENT_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass
class ExportTrace:
    """What a download holds, for the audit trail of exports (audit/security.py records it with the
    user, the filters and the address once the file has been sent): `rows` counts as they stream."""

    basename: str
    fmt: str
    rows: int = 0
    # A file written by a worker: its job and the filters it was asked with (else the request's).
    job: int | None = None
    filters: dict[str, Any] | None = None

    def counted(self, rows: Iterable[Sequence[Any]]) -> Iterator[Sequence[Any]]:
        for row in rows:
            self.rows += 1
            yield row


def download(
    fmt: str, basename: str, header: Sequence[str], rows: Iterable[Sequence[Any]], sheet_title: str = ""
) -> StreamingHttpResponse:
    """The file `<basename>-<local date and time>.<fmt>`, streamed; `fmt` as checked by `export_format`.
    The response carries an `ExportTrace` as `.export`."""
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    trace = ExportTrace(basename, fmt)
    rows = trace.counted(rows)
    chunks: Iterator[Any] = (
        csv_chunks(header, rows)
        if fmt == ExportFormat.CSV
        else xlsx_chunks(sheet_title or basename, header, rows)
    )
    response = StreamingHttpResponse(chunks, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{basename}-{stamp}.{fmt}"'
    response["Cache-Control"] = "no-store"
    response.export = trace  # type: ignore[attr-defined]
    return response
