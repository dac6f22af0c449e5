"""The EAC log: one row per review (an escalation without reviews gets one row), streamed as CSV
or XLSX by the export pipeline (`exports`), which also neutralises formulas."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from exports import download

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
    "protocol_version",
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


def rows(escalations: QuerySet[Escalation]) -> Iterator[list[Any]]:
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
            # The version of the latest evaluation that gave this REVIEW result.
            e.latest_result.evaluation.protocol_version,
        ]
        reviews = list(e.reviews.all())
        if not reviews:
            last = max(decisions.values(), key=lambda d: d.round, default=None)
            yield [*base, "", "", "", "", "", "", "", "", "", *_decision(last)]
        for r in reviews:
            sig = getattr(r, "signature", None)
            yield [
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


def _decision(d: Any) -> list[Any]:
    return [d.decision, d.date, d.evidence_digest] if d is not None else ["", "", ""]


def download_eac_log(fmt: str, escalations: QuerySet[Escalation]) -> StreamingHttpResponse:
    """The EAC log as a file of the export pipeline (`fmt` checked by `exports.export_format`)."""
    return download(fmt, "eac-log", HEADER, rows(escalations), "EAC log")
