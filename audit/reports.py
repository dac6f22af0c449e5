"""The tables behind the exports: the screening log, the audit trail rows and the screening funnel.

Each takes the participants the user may see (participants.selectors) and reads them with
.iterator(chunk_size=...), the per-participant details coming from subqueries in the same statement.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.postgres.aggregates import StringAgg
from django.db import transaction
from django.db.models import CharField, Count, F, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from adjudication.models import EscalationDecision
from participants.models import Participant, ScreeningStatus
from screening.criteria import CRITERIA
from screening.models import CriterionResult, Evaluation, Outcome
from screening.selectors import screening_state

from . import trail

# Rows per fetch: the first fetch is what the download waits for before its first byte.
CHUNK_SIZE = 500
CRITERION_TITLES = {c.id: c.title for c in CRITERIA}

# --- Screening log ------------------------------------------------------------------------------

SCREENING_LOG_HEADER = [
    "Site",
    "Screening number",
    "Cohort",
    "Lupus nephritis stratum",
    "Sex",
    "Registered",
    "Screening start",
    "ICF signed",
    "Planned enrollment",
    "Planned Day 0",
    "Overall status",
    "Status valid until",
    "Last evaluated",
    "Evaluation number",
    "Protocol version",
    "Failed criteria",
    "Missing criteria",
    "Review criteria",
    "EAC decisions",
]


def _criteria_of_latest(outcome: str, with_reviewer: bool = False) -> Subquery:
    label: Any = F("criterion_id")
    if with_reviewer:
        label = Concat(F("criterion_id"), Value(" ("), F("review_by"), Value(")"))
    return Subquery(
        CriterionResult.objects.filter(evaluation_id=OuterRef("latest_evaluation_id"), outcome=outcome)
        .order_by()
        .values("evaluation_id")
        .annotate(ids=StringAgg(label, delimiter="; ", order_by="position"))
        .values("ids")
    )


def eac_decisions() -> Subquery:
    """The participant's EAC decisions, oldest first: "criterion: decision (date, round n)"."""
    text = Concat(
        F("criterion_id"),
        Value(": "),
        F("decision"),
        Value(" ("),
        Cast("date", output_field=CharField()),
        Value(", round "),
        Cast("round", output_field=CharField()),
        Value(")"),
        output_field=CharField(),
    )
    return Subquery(
        EscalationDecision.objects.filter(escalation__participant=OuterRef("pk"))
        .order_by()
        .values("escalation__participant")
        .annotate(text=StringAgg(text, delimiter="; ", order_by=("decided_at", "pk")))
        .values("text")
    )


def screening_log_queryset(participants: QuerySet[Participant]) -> QuerySet[Participant]:
    latest = Evaluation.objects.filter(participant=OuterRef("pk")).order_by("-sequence")
    return (
        participants.select_related("site", "screening_state")
        .annotate(
            latest_evaluation_id=Subquery(latest.values("pk")[:1]),
            latest_sequence=Subquery(latest.values("sequence")[:1]),
            latest_protocol=Subquery(latest.values("protocol_version")[:1]),
            review=_criteria_of_latest(Outcome.REVIEW, with_reviewer=True),
            eac=eac_decisions(),
        )
        # The (site, screening sequence) index's order: rows stream as they are read, where an
        # order by site code would compute every row's subqueries before the first could leave.
        .order_by("site_id", "screening_sequence")
    )


def under_protocol(participants: QuerySet[Participant], version: str) -> QuerySet[Participant]:
    """The participants whose latest evaluation ran under protocol `version` (all when empty)."""
    if not version:
        return participants
    latest = Evaluation.objects.filter(participant=OuterRef("pk")).order_by("-sequence")
    return participants.annotate(
        latest_protocol_version=Subquery(latest.values("protocol_version")[:1])
    ).filter(latest_protocol_version=version)


def screening_log_rows(participants: QuerySet[Participant]) -> Iterator[list[Any]]:
    # Read in one transaction: the server-side cursor then streams rows as PostgreSQL produces
    # them (outside one, Django declares it WITH HOLD, which computes every row before the first
    # arrives), and the file is one consistent snapshot.
    with transaction.atomic():
        yield from _screening_log_rows(participants)


def _screening_log_rows(participants: QuerySet[Participant]) -> Iterator[list[Any]]:
    for p in screening_log_queryset(participants).iterator(chunk_size=CHUNK_SIZE):
        state = screening_state(p)
        yield [
            p.site.code,
            p.screening_number,
            p.cohort,
            "" if p.lupus_nephritis is None else p.lupus_nephritis,
            p.get_sex_display(),
            p.created_at,
            p.screening_start,
            p.icf_signed,
            p.planned_enrollment,
            p.planned_day0,
            state.get_status_display(),
            state.status_valid_until,
            state.evaluated_at,
            p.latest_sequence,  # type: ignore[attr-defined]
            p.latest_protocol or "",  # type: ignore[attr-defined]
            # Stored with the status by the evaluation that produced them (no criterion rows read).
            "; ".join(cid for cid, _ in state.holding_back.get("failing", ())),
            "; ".join(cid for cid, _ in state.holding_back.get("missing", ())),
            p.review or "",  # type: ignore[attr-defined]
            p.eac or "",  # type: ignore[attr-defined]
        ]


# --- Audit trail --------------------------------------------------------------------------------

AUDIT_HEADER = [
    f"Time ({settings.TIME_ZONE})",
    "Site",
    "Screening number",
    "Record type",
    "Record ID",
    "Action",
    "Field",
    "Old value",
    "New value",
    "User",
    "Username",
    "Role",
    "Reason",
    "Request URL",
    "Context ID",
]


def audit_rows(events: Iterator[trail.TrailEvent]) -> Iterator[list[Any]]:
    """One row per changed field (an event without field changes still gives one row)."""
    for e in events:
        common = [e.at, e.site_code, e.screening_number, e.record_label, e.record_id, e.action]
        context = [
            e.user_name or ("(database, outside the application)" if e.outside_application else ""),
            e.username,
            e.role,
            e.reason,
            e.url,
            e.context_id,
        ]
        for change in e.rows:
            yield [*common, change.field, change.old, change.new, *context]


def audit_trail_events(
    participants: QuerySet[Participant] | None,
    *,
    include_unattached: bool,
    start: datetime | None = None,
    end: datetime | None = None,
    one_participant: bool = False,
) -> Iterator[trail.TrailEvent]:
    return trail.stream_trail(
        participants=participants,
        include_unattached=include_unattached,
        start=start,
        end=end,
        one_participant=one_participant,
    )


# --- Funnel -------------------------------------------------------------------------------------

FUNNEL_HEADER = ["Section", "Key", "Label", "Participants"]


@dataclass(frozen=True)
class Bar:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class Funnel:
    total: int
    by_status: list[Bar]
    by_failing_criterion: list[Bar]
    by_protocol: list[Bar]

    def rows(self) -> Iterator[list[Any]]:
        yield ["Total", "", "Participants screened", self.total]
        for bar in self.by_status:
            yield ["Overall status", bar.key, bar.label, bar.count]
        for bar in self.by_failing_criterion:
            yield ["Failing criterion", bar.key, bar.label, bar.count]
        for bar in self.by_protocol:
            yield ["Protocol version", bar.key, bar.label, bar.count]


def funnel(participants: QuerySet[Participant]) -> Funnel:
    """Participants by overall status, by each criterion their latest evaluation fails and by the
    protocol version of that evaluation (four queries)."""
    # A participant without a state row yet (added in bulk) is not evaluated yet.
    status = Coalesce(F("screening_state__status"), Value(ScreeningStatus.NOT_EVALUATED.value))
    counts = dict(participants.order_by().values_list(status).annotate(n=Count("pk")))
    by_status = [Bar(s.value, str(s.label), counts.get(s.value, 0)) for s in ScreeningStatus]
    latest = (
        Evaluation.objects.filter(participant__in=participants.order_by().values("pk"))
        .order_by("participant_id", "-sequence")
        .distinct("participant_id")
        .values("pk")
    )
    failing = (
        CriterionResult.objects.filter(evaluation_id__in=latest, outcome=Outcome.FAIL)
        .values_list("criterion_id")
        .annotate(n=Count("evaluation_id", distinct=True))
        .order_by("-n", "criterion_id")
    )
    by_criterion = [Bar(cid, CRITERION_TITLES.get(cid, cid), n) for cid, n in failing]
    versions = (
        Evaluation.objects.filter(pk__in=latest)
        .values_list("protocol_version")
        .annotate(n=Count("pk"))
        .order_by("protocol_version")
    )
    by_protocol = [Bar(v, f"Latest evaluation under {v}", n) for v, n in versions]
    return Funnel(
        total=sum(counts.values()),
        by_status=by_status,
        by_failing_criterion=by_criterion,
        by_protocol=by_protocol,
    )


# --- Chart --------------------------------------------------------------------------------------


def bar_chart_svg(title: str, bars: list[Bar], *, width: int = 720, label_width: int = 300) -> SafeString:
    """A horizontal bar chart as inline SVG, drawn on the server (no script, no external asset)."""
    row_height, top = 26, 30
    height = top + row_height * max(len(bars), 1) + 10
    peak = max((b.count for b in bars), default=0) or 1
    scale = (width - label_width - 60) / peak
    rows = format_html_join(
        "",
        '<g transform="translate(0,{})"><text x="{}" y="17" text-anchor="end" class="chart-label">{}</text>'
        '<rect x="{}" y="4" width="{}" height="18" rx="2" class="chart-bar"><title>{}: {}</title></rect>'
        '<text x="{}" y="17" class="chart-value">{}</text></g>',
        (
            (
                top + i * row_height,
                label_width - 8,
                b.label if len(b.label) <= 45 else b.label[:44] + "…",
                label_width,
                round(b.count * scale, 1),
                b.label,
                b.count,
                label_width + round(b.count * scale, 1) + 6,
                b.count,
            )
            for i, b in enumerate(bars)
        ),
    )
    empty = format_html('<text x="10" y="{}">No data yet.</text>', top + 17) if not bars else ""
    return format_html(
        # Colours and sizing in static/css/app.css: the Content-Security-Policy allows no inline style.
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{}" viewBox="0 0 {} {}" width="{}"'
        ' class="chart" font-family="system-ui, sans-serif" font-size="13">'
        '<text x="0" y="18" font-weight="600">{}</text>{}{}</svg>',
        title,
        width,
        height,
        width,
        title,
        rows,
        empty,
    )
