"""The export pipeline every download goes through: cells, formula neutralising, CSV streaming and
XLSX spooling. The exports themselves (screening log, audit trail, funnel, EAC log) are read back in
tests/audit/test_exports.py and tests/adjudication/test_views.py."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pytest
from django.http import Http404, StreamingHttpResponse
from django.utils import timezone

import exports
from exports.pipeline import CSV_FIRST_ROWS, CSV_ROWS_PER_CHUNK

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def read_xlsx(data: bytes) -> list[tuple[object, ...]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    return list(sheet.iter_rows(values_only=True))


def test_neutralise_every_formula_start() -> None:
    for start in FORMULA_STARTS:
        assert exports.neutralise(f"{start}SUM(A1)") == f"'{start}SUM(A1)"
        assert exports.csv_cell(start + "1") == "'" + start + "1"
        assert exports.xlsx_cell(start + "1") == "'" + start + "1"
    assert exports.neutralise("A01-0001") == "A01-0001"
    assert exports.neutralise("plain") == "plain"
    assert exports.neutralise("'=already quoted") == "'=already quoted"  # not quoted twice


def test_csv_cells_are_text_and_neutralised() -> None:
    assert exports.csv_cell(-3) == "'-3"  # text in CSV: neutralised too
    assert exports.csv_cell(None) == ""
    assert exports.csv_cell(True) == "yes" and exports.csv_cell(False) == "no"
    assert exports.csv_cell(date(2025, 6, 3)) == "2025-06-03"
    assert exports.csv_cell(Decimal("1.500")) == "1.5"
    assert exports.csv_cell(Decimal("1E+3")) == "1000"
    moment = datetime(2025, 6, 3, 12, 30, 15, 999, tzinfo=UTC)
    assert exports.csv_cell(moment) == timezone.localtime(moment).isoformat(timespec="seconds")


def test_xlsx_cells_keep_numbers_and_dates_typed() -> None:
    assert exports.xlsx_cell(-3) == -3  # a number cell cannot hold a formula
    assert exports.xlsx_cell(Decimal("-1.5")) == Decimal("-1.5")
    assert exports.xlsx_cell(date(2025, 6, 3)) == date(2025, 6, 3)
    assert exports.xlsx_cell(None) is None
    assert exports.xlsx_cell(True) == "yes"
    moment = datetime(2025, 6, 3, 12, 30, tzinfo=UTC)
    assert exports.xlsx_cell(moment) == timezone.localtime(moment).replace(tzinfo=None)


def test_csv_is_streamed_in_chunks_with_a_byte_order_mark() -> None:
    rows = ([n, f"=row {n}"] for n in range(CSV_FIRST_ROWS + 2 * CSV_ROWS_PER_CHUNK + 7))
    chunks = list(exports.csv_chunks(["number", "text"], rows))
    # The header, the first rows, two full chunks and the rest: the table is never held whole.
    assert len(chunks) == 5
    assert chunks[0] == "\ufeffnumber,text\r\n"
    assert chunks[1].count("\n") == CSV_FIRST_ROWS
    parsed = list(csv.reader(io.StringIO("".join(chunks).removeprefix("\ufeff"))))
    assert parsed[0] == ["number", "text"]
    assert parsed[1] == ["0", "'=row 0"]
    assert len(parsed) == 1 + CSV_FIRST_ROWS + 2 * CSV_ROWS_PER_CHUNK + 7


def test_the_header_leaves_before_any_row_is_read_and_rows_are_read_lazily() -> None:
    read: list[int] = []

    def rows():  # type: ignore[no-untyped-def]
        for n in range(3 * CSV_ROWS_PER_CHUNK):
            read.append(n)
            yield [n]

    chunks = exports.csv_chunks(["n"], rows())
    assert next(chunks) == "\ufeffn\r\n" and read == []  # the report's query has not even started
    next(chunks)
    assert len(read) == CSV_FIRST_ROWS
    next(chunks)
    assert len(read) == CSV_FIRST_ROWS + CSV_ROWS_PER_CHUNK


def test_xlsx_drops_characters_xml_cannot_hold_and_neutralises() -> None:
    data = b"".join(
        exports.xlsx_chunks(
            "EAC log",
            ["rationale", "signer", "count"],
            [["seen\x01 ok\uffff", "=HYPERLINK(1)", 4], ["tab\x0b\ufffe", "@x", None]],
        )
    )
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["EAC log"]
    assert read_xlsx(data) == [
        ("rationale", "signer", "count"),
        ("seen ok", "'=HYPERLINK(1)", 4),
        ("tab", "'@x", None),
    ]
    assert all(c.data_type != "f" for row in book.worksheets[0].iter_rows() for c in row)


def test_xlsx_sheet_title_is_cut_to_what_spreadsheets_accept() -> None:
    data = b"".join(exports.xlsx_chunks("x" * 40, ["a"], []))
    assert openpyxl.load_workbook(io.BytesIO(data)).sheetnames == ["x" * 31]


@pytest.mark.parametrize("fmt", exports.ExportFormat.ALL)
def test_download_is_a_streamed_attachment(fmt: str) -> None:
    response = exports.download(fmt, "screening-log", ["Site"], iter([["=1+2"]]), "Screening log")
    assert isinstance(response, StreamingHttpResponse)
    assert response["Cache-Control"] == "no-store"
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="screening-log-') and disposition.endswith(f'.{fmt}"')
    body = b"".join(response.streaming_content)  # type: ignore[arg-type]
    if fmt == exports.ExportFormat.CSV:
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert body.decode("utf-8-sig").splitlines() == ["Site", "'=1+2"]
    else:
        assert read_xlsx(body) == [("Site",), ("'=1+2",)]


def test_export_format_accepts_csv_and_xlsx_only() -> None:
    assert exports.export_format("csv") == "csv"
    assert exports.export_format("xlsx") == "xlsx"
    for fmt in ("pdf", "CSV", "", "csv "):
        with pytest.raises(Http404):
            exports.export_format(fmt)
