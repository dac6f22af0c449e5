"""The EAC log as CSV or XLSX: one row per review (an escalation without reviews gets one row),
streamed. Text that a spreadsheet would read as a formula is neutralised with a leading quote."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook

from audit.exports import xlsx_cell

from .models import Escalation

HEADER = [
    "escalation",
    "screening_number",
    "site",
    "cohort",
    "criterion",
    "criterion_title",
    "review_by",
    "state",
    "created_at",
    "opened_at",
    "round",
    "evidence_digest",
    "review_round",
    "review_action",
    "reviewer",
    "rationale",
    "reviewed_at",
    "signature_name",
    "signed_at",
    "signature_meaning",
    "signed_evidence_digest",
    "decision",
    "decision_date",
    "decision_evidence_digest",
]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe(value: Any) -> str:
    """The cell text; a leading = + - @ tab or CR gets a single quote so it stays text."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        text = timezone.localtime(value).isoformat(timespec="seconds")
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def rows(escalations: QuerySet[Escalation]) -> Iterator[list[str]]:
    yield HEADER
    for e in escalations.iterator(chunk_size=200):
        decisions = {d.round: d for d in e.decisions.all()}
        base = [
            e.pk,
            e.participant.screening_number,
            e.participant.site.code,
            e.participant.cohort,
            e.criterion_id,
            e.criterion_title,
            e.review_by,
            e.state,
            e.created_at,
            e.opened_at,
            e.round,
            e.evidence_digest,
        ]
        reviews = list(e.reviews.all())
        if not reviews:
            last = max(decisions.values(), key=lambda d: d.round, default=None)
            yield [safe(v) for v in [*base, "", "", "", "", "", "", "", "", "", *_decision(last)]]
        for r in reviews:
            sig = getattr(r, "signature", None)
            yield [
                safe(v)
                for v in [
                    *base,
                    r.round,
                    r.action,
                    r.reviewer.display_name(),
                    r.rationale,
                    r.created_at,
                    sig.signer_name if sig else "",
                    sig.signed_at if sig else "",
                    sig.meaning if sig else "",
                    sig.evidence_digest if sig else "",
                    *_decision(decisions.get(r.round)),
                ]
            ]


def _decision(d: Any) -> list[Any]:
    return [d.decision, d.date, d.evidence_digest] if d is not None else ["", "", ""]


class _Echo:
    def write(self, value: str) -> str:
        return value


def _filename(ext: str) -> str:
    return f"eac-log-{timezone.localdate().isoformat()}.{ext}"


def csv_response(escalations: QuerySet[Escalation]) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rows(escalations)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename("csv")}"'
    return response


def write_xlsx(data: Iterable[list[str]], target: Any) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("EAC log")
    for row in data:
        sheet.append([xlsx_cell(value) for value in row])  # no character XML cannot hold
    workbook.save(target)


def xlsx_response(escalations: QuerySet[Escalation]) -> FileResponse:
    # openpyxl writes a zip, which needs the whole sheet: spool to a temporary file, stream that.
    spool = tempfile.TemporaryFile()
    write_xlsx(rows(escalations), spool)
    spool.seek(0)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=_filename("xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
