"""The tables behind the exports: the screening log, the audit trail rows and the screening funnel.

Each takes the participants the user may see (participants.selectors) and reads them with
.iterator(chunk_size=...), the per-participant details coming from subqueries in the same statement.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.postgres.aggregates import StringAgg
from django.db import transaction
from django.db.models import CharField, Count, F, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from adjudication.models import EscalationDecision
from participants.consent import with_consent
from participants.models import OutcomeStatus, Participant, ScreeningStatus
from participants.selectors import days_in_screening
from screening.criteria import CRITERIA
from screening.models import CriterionResult, Evaluation, FailureCategory, Outcome, ScreeningOutcome
from screening.selectors import screening_state

from . import trail

# Rows per fetch of the screening log; the first rows are read by a small statement of their own.
CHUNK_SIZE = 500
FIRST_ROWS = 20
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
    "Consent version signed",
    "Consent version signed on",
    "Consent version in effect",
    "Consent in effect signed",
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
    "Attempt",
    "Earlier attempt",
    "Later attempt",
    "Outcome",
    "Outcome date",
    "Failure category",
    "Failure detail",
    "Failing criteria at screen failure",
    "Reason for change",
    "Outcome recorded by",
    "Investigator sign-off",
    "Signed at",
    "Checklist digest",
    "Changed after the outcome",
    "Days in screening",
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
    later = Participant.objects.filter(previous_attempt=OuterRef("pk")).values("screening_number")[:1]
    return (
        with_consent(participants)
        .select_related("site", "screening_state", "previous_attempt", "screening_outcome__recorded_by")
        # The signed checklist itself is on its own page (and PDF); the log names its digest.
        .defer("screening_outcome__checklist_html", "screening_outcome__checklist_json")
        .annotate(
            later_attempt=Subquery(later),
            latest_evaluation_id=Subquery(latest.values("pk")[:1]),
            latest_sequence=Subquery(latest.values("sequence")[:1]),
            latest_protocol=Subquery(latest.values("protocol_version")[:1]),
            review=_criteria_of_latest(Outcome.REVIEW, with_reviewer=True),
            eac=eac_decisions(),
        )
        # The (site, screening sequence, attempt) index's order: rows stream as they are read, where an
        # order by site code would compute every row's subqueries before the first could leave.
        .order_by("site_id", "screening_sequence", "attempt")
    )


def outcome_of(p: Participant) -> ScreeningOutcome | None:
    try:
        return p.screening_outcome  # type: ignore[no-any-return]
    except ScreeningOutcome.DoesNotExist:
        return None


def outcome_columns(p: Participant, today: date) -> list[Any]:
    outcome = outcome_of(p)
    earlier = p.previous_attempt.screening_number if p.previous_attempt_id else ""  # type: ignore[union-attr]
    links = [p.attempt + 1, earlier, p.later_attempt or ""]  # type: ignore[attr-defined]
    if outcome is None:
        return [
            *links,
            OutcomeStatus.IN_SCREENING.label,
            *[""] * 10,
            days_in_screening(p, None, today),
        ]
    return [
        *links,
        outcome.get_kind_display(),
        outcome.on_date,
        outcome.get_failure_category_display() if outcome.failure_category else "",
        outcome.failure_detail,
        "; ".join(outcome.failing_criteria),
        outcome.reason,
        outcome.recorded_by.display_name(),
        outcome.signer_name,
        outcome.signed_at,
        outcome.checklist_digest,
        p.data_version > outcome.data_version,
        days_in_screening(p, outcome.on_date, today),
    ]


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
    # arrives). Repeatable read when this opens the transaction: the first rows and the rest are
    # two statements that see one snapshot, so the file is consistent.
    outermost = not transaction.get_connection().in_atomic_block
    with transaction.atomic():
        if outermost:
            with transaction.get_connection().cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield from _screening_log_rows(participants)


def _screening_log_rows(participants: QuerySet[Participant]) -> Iterator[list[Any]]:
    """The first FIRST_ROWS rows by a statement of their own (a fetch of CHUNK_SIZE rows computes
    every row's subqueries first: about half a second), then the rest, CHUNK_SIZE a fetch."""
    today = timezone.localdate()
    queryset = screening_log_queryset(participants)
    first = list(queryset[:FIRST_ROWS])
    for p in first:
        yield screening_log_row(p, today)
    if len(first) < FIRST_ROWS:
        return
    for p in queryset[FIRST_ROWS:].iterator(chunk_size=CHUNK_SIZE):
        yield screening_log_row(p, today)


def screening_log_row(p: Participant, today: date) -> list[Any]:
    """One participant's row of the screening log (p from screening_log_queryset)."""
    state = screening_state(p)
    return [
        p.site.code,
        p.screening_number,
        p.cohort,
        "" if p.lupus_nephritis is None else p.lupus_nephritis,
        p.get_sex_display(),
        p.created_at,
        p.screening_start,
        p.icf_signed,
        p.consent_version or "",  # type: ignore[attr-defined]
        p.consent_signed_on,  # type: ignore[attr-defined]
        p.consent_version_in_effect or "",  # type: ignore[attr-defined]
        p.consent_in_effect_signed,  # type: ignore[attr-defined]
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
        *outcome_columns(p, today),
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
class SiteOutcomes:
    """One site's screening attempts by outcome; the screen-failure rate is per attempt screened."""

    code: str
    screened: int
    in_screening: int
    enrolled: int
    screen_failed: int
    withdrawn: int

    @property
    def failure_rate(self) -> Decimal | None:
        if not self.screened:
            return None
        return (Decimal(100 * self.screen_failed) / self.screened).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class Funnel:
    total: int
    by_status: list[Bar]
    by_failing_criterion: list[Bar]
    by_protocol: list[Bar]
    # CONSORT-style attrition: screened -> excluded by a criterion -> eligible -> enrolled.
    excluded_by_criterion: int = 0
    eligible: int = 0
    by_outcome: list[Bar] = field(default_factory=list)
    by_failure_category: list[Bar] = field(default_factory=list)
    by_site: list[SiteOutcomes] = field(default_factory=list)

    @property
    def screen_failures(self) -> int:
        return sum(b.count for b in self.by_failure_category)

    @property
    def enrolled(self) -> int:
        return next((b.count for b in self.by_outcome if b.key == OutcomeStatus.ENROLLED), 0)

    @property
    def attrition(self) -> list[Bar]:
        return [
            Bar("screened", "Screened (attempts)", self.total),
            Bar(
                "excluded_by_criterion",
                "Excluded by a criterion (latest evaluation)",
                self.excluded_by_criterion,
            ),
            Bar("eligible", "Eligible (latest evaluation)", self.eligible),
            Bar("enrolled", "Enrolled", self.enrolled),
        ]

    def rows(self) -> Iterator[list[Any]]:
        yield ["Total", "", "Participants screened", self.total]
        for bar in self.by_status:
            yield ["Overall status", bar.key, bar.label, bar.count]
        for bar in self.by_failing_criterion:
            yield ["Failing criterion", bar.key, bar.label, bar.count]
        for bar in self.by_protocol:
            yield ["Protocol version", bar.key, bar.label, bar.count]
        for bar in self.attrition:
            yield ["Attrition", bar.key, bar.label, bar.count]
        for bar in self.by_outcome:
            yield ["Outcome", bar.key, bar.label, bar.count]
        for bar in self.by_failure_category:
            yield ["Screen-failure category", bar.key, bar.label, bar.count]
        for site in self.by_site:
            yield [
                "Screen-failure rate (%)",
                site.code,
                f"Site {site.code}: {site.screen_failed} of {site.screened}",
                site.failure_rate,
            ]


def funnel(participants: QuerySet[Participant]) -> Funnel:
    """Participants by overall status, by each criterion their latest evaluation fails and by the
    protocol version of that evaluation; the attrition from screened to enrolled; attempts by
    outcome and site, and screen failures by category (seven queries, whatever the number)."""
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
    excluded = CriterionResult.objects.filter(evaluation_id__in=latest, outcome=Outcome.FAIL).aggregate(
        n=Count("evaluation_id", distinct=True)
    )["n"]
    # Attempts by site and outcome (one query), and screen failures by category (one query).
    outcome = Coalesce(F("screening_state__outcome"), Value(OutcomeStatus.IN_SCREENING.value))
    per_site: dict[str, dict[str, int]] = {}
    for code, kind, n in participants.order_by().values_list("site__code", outcome).annotate(n=Count("pk")):
        per_site.setdefault(code, {})[kind] = n
    totals = {k.value: sum(site.get(k.value, 0) for site in per_site.values()) for k in OutcomeStatus}
    categories = dict(
        ScreeningOutcome.objects.filter(
            participant__in=participants.order_by().values("pk"), kind=OutcomeStatus.SCREEN_FAILED
        )
        .values_list("failure_category")
        .annotate(n=Count("pk"))
    )
    return Funnel(
        total=sum(counts.values()),
        by_status=by_status,
        by_failing_criterion=by_criterion,
        by_protocol=by_protocol,
        excluded_by_criterion=excluded,
        eligible=counts.get(ScreeningStatus.ELIGIBLE.value, 0),
        by_outcome=[Bar(k.value, str(k.label), totals[k.value]) for k in OutcomeStatus],
        by_failure_category=[Bar(c.value, str(c.label), categories.get(c.value, 0)) for c in FailureCategory],
        by_site=[
            SiteOutcomes(
                code=code,
                screened=sum(kinds.values()),
                in_screening=kinds.get(OutcomeStatus.IN_SCREENING, 0),
                enrolled=kinds.get(OutcomeStatus.ENROLLED, 0),
                screen_failed=kinds.get(OutcomeStatus.SCREEN_FAILED, 0),
                withdrawn=kinds.get(OutcomeStatus.WITHDRAWN, 0),
            )
            for code, kinds in sorted(per_site.items())
        ],
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
