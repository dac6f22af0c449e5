"""Read models of stored evaluations for the pages: the participant page's status, criteria,
worklist and history, and the dashboard's expiring results. Query counts do not depend on the
number of evaluations, criteria or records."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Max, OuterRef, QuerySet, Subquery, Window
from django.utils import timezone

from participants.extensions import EXPIRING_DAYS
from participants.labels import path_label
from participants.models import OutcomeStatus, Participant
from screening.criteria import CRITERIA
from screening.criteria.catalogue import EXCLUSION_ALL, INCLUSION_ALL
from screening.diff import EvaluationDiff, diff_snapshots, snapshot
from screening.models import CriterionResult, Evaluation, Outcome, ScreeningOutcome, ScreeningState

HISTORY_PAGE_SIZE = 10

_INFO = {c.id: c for c in CRITERIA}

# The three groups of the participant page: what every participant must meet, the cohort's own
# criteria (inclusion and exclusion), and what excludes every participant.
GROUPS = (
    ("inclusion", "Inclusion criteria"),
    ("cohort", "Cohort criteria"),
    ("exclusion", "Exclusion criteria"),
)


def criterion_group(criterion_id: str) -> str:
    info = _INFO.get(criterion_id)
    if info is not None:
        if info.section == INCLUSION_ALL:
            return "inclusion"
        if info.section == EXCLUSION_ALL:
            return "exclusion"
        return "cohort"
    # A criterion of an older protocol version: its id says where it belongs.
    return {"inc": "inclusion", "exc": "exclusion"}.get(criterion_id.split(".", 1)[0], "cohort")


def criterion_title(criterion_id: str) -> str:
    info = _INFO.get(criterion_id)
    return info.title if info else criterion_id


def criterion_text(criterion_id: str) -> str:
    info = _INFO.get(criterion_id)
    return info.page_text if info else ""


@dataclass(frozen=True, slots=True)
class ResultRow:
    """A stored criterion row as the participant page shows it, without its evidence: read as a
    tuple, since a model instance per row (57 a page) cost more than the page's SQL."""

    criterion_id: str
    position: int
    outcome: str
    review_by: str
    reason: str
    missing: list[str] | None
    valid_until: date | None
    eligible_from: date | None
    repeat_from: date | None


_RESULT_ROW_FIELDS = tuple(f.name for f in fields(ResultRow))


@dataclass(frozen=True)
class CriterionRow:
    result: CriterionResult | ResultRow
    title: str
    page_text: str
    expiring: bool  # valid_until within EXPIRING_DAYS of today


@dataclass
class CriterionGroup:
    key: str
    title: str
    rows: list[CriterionRow] = field(default_factory=list)
    not_applicable: list[CriterionRow] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for row in self.rows:
            out[row.result.outcome] = out.get(row.result.outcome, 0) + 1
        return out


@dataclass(frozen=True)
class MissingItem:
    """One input the engine still needs, with the criteria waiting for it."""

    path: str
    label: str
    criteria: tuple[str, ...]
    repeat_from: date | None  # a result on record is too old: a new one collected on or after this


@dataclass(frozen=True)
class Redraw:
    """Inputs on record but too old, to be collected again on or after one date."""

    repeat_from: date
    items: list[MissingItem]


@dataclass(frozen=True)
class HistoryEntry:
    evaluation: Evaluation
    diff: EvaluationDiff


@dataclass(frozen=True)
class HistoryPage:
    entries: list[HistoryEntry]
    number: int
    total: int
    page_size: int

    @property
    def has_next(self) -> bool:
        return self.number * self.page_size < self.total

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True)
class EvaluationView:
    """The latest stored evaluation, arranged for the participant page."""

    evaluation: Evaluation
    groups: list[CriterionGroup]
    missing: list[MissingItem]
    reviews: list[CriterionRow]
    failures: list[CriterionRow]
    expiring: list[CriterionRow]

    @property
    def redraws(self) -> list[Redraw]:
        dates = sorted({m.repeat_from for m in self.missing if m.repeat_from is not None})
        return [Redraw(d, [m for m in self.missing if m.repeat_from == d]) for d in dates]

    @property
    def missing_now(self) -> list[MissingItem]:
        """Missing inputs with nothing on record (or no redraw date)."""
        return [m for m in self.missing if m.repeat_from is None]


def _result_rows(results: Iterable[CriterionResult | ResultRow], today: date) -> list[CriterionRow]:
    horizon = today + timedelta(days=EXPIRING_DAYS)
    return [
        CriterionRow(
            r,
            criterion_title(r.criterion_id),
            criterion_text(r.criterion_id),
            r.valid_until is not None and r.valid_until <= horizon,
        )
        for r in sorted(results, key=lambda r: r.position)
    ]


def arrange(
    evaluation: Evaluation,
    today: date | None = None,
    results: Iterable[CriterionResult | ResultRow] | None = None,
) -> EvaluationView:
    """Group the evaluation's results (given, else prefetched) and collect what is missing,
    waiting or failing."""
    rows = _result_rows(
        evaluation.results.all() if results is None else results, today or timezone.localdate()
    )
    groups = {key: CriterionGroup(key, title) for key, title in GROUPS}
    missing: dict[str, list[CriterionRow]] = {}
    for row in rows:
        group = groups[criterion_group(row.result.criterion_id)]
        if row.result.outcome == Outcome.NOT_APPLICABLE:
            group.not_applicable.append(row)
        else:
            group.rows.append(row)
        for path in row.result.missing or []:
            missing.setdefault(path, []).append(row)
    items = [
        MissingItem(
            path,
            path_label(path),
            tuple(r.result.criterion_id for r in needing),
            max((r.result.repeat_from for r in needing if r.result.repeat_from), default=None),
        )
        for path, needing in missing.items()
    ]
    return EvaluationView(
        evaluation=evaluation,
        groups=list(groups.values()),
        missing=items,
        reviews=[r for r in rows if r.result.outcome == Outcome.REVIEW],
        failures=[r for r in rows if r.result.outcome == Outcome.FAIL],
        expiring=sorted(
            (r for r in rows if r.expiring and r.result.outcome != Outcome.NOT_APPLICABLE),
            key=lambda r: r.result.valid_until or date.max,
        ),
    )


def screening_state(participant: Participant) -> ScreeningState:
    """The participant's screening state (cached on it); one without a row yet (added in bulk,
    never marked) is not evaluated and not marked."""
    try:
        return participant.screening_state  # type: ignore[no-any-return]
    except ScreeningState.DoesNotExist:
        return ScreeningState(participant=participant)


def outcome_of(participant: Participant) -> ScreeningOutcome | None:
    """How the participant's screening ended (None while in screening), with `changed_after` set
    when its data changed since: one query, none when read with the participant
    (`select_related("screening_outcome")`)."""
    if Participant.screening_outcome.is_cached(participant):  # type: ignore[attr-defined]
        try:
            return participant.screening_outcome  # type: ignore[no-any-return]
        except ScreeningOutcome.DoesNotExist:
            return None
    outcome = (
        ScreeningOutcome.objects.filter(participant=participant)
        .select_related("recorded_by", "evaluation")
        .defer("checklist_html", "checklist_json")
        .first()
    )
    if outcome is not None:
        outcome.participant = participant
    return outcome


def later_attempt(participant: Participant, outcome: ScreeningOutcome | None) -> Participant | None:
    """The participant's re-screening, if any: only a screen failure is re-screened
    (`outcomes.rescreen_refusal`), and an outcome is never changed, so no other is looked up."""
    if outcome is None or outcome.kind != OutcomeStatus.SCREEN_FAILED:
        return None
    return Participant.objects.filter(previous_attempt=participant).only("pk", "screening_number").first()


def latest_evaluation(participant: Participant) -> Evaluation | None:
    """The participant's latest evaluation with all its results: two queries."""
    return (
        Evaluation.objects.filter(participant=participant)
        .select_related("triggered_by")
        .prefetch_related("results")
        .order_by("-sequence")
        .first()
    )


@dataclass(frozen=True)
class ParticipantEvaluations:
    """What the participant page shows of the evaluations: the latest with its criterion rows, and
    a page of the history."""

    latest: Evaluation | None  # its case text left out when it is not on the history's page
    latest_results: list[ResultRow]  # catalogue order
    history: HistoryPage


def participant_evaluations(
    participant: Participant, page: int = 1, page_size: int = HISTORY_PAGE_SIZE
) -> ParticipantEvaluations:
    """The latest evaluation with its rows, and a page of evaluations, newest first, each with its
    difference from the one before and the later runs that confirmed it unchanged
    (`confirmation_count`, `last_confirmed_at`, `last_confirmed_as_of`). On the history's first
    page the latest is its first entry: two queries for a participant evaluated once (the page with
    the total, the latest's rows), three with more evaluations (their outcomes for the
    differences); a later page reads the latest apart (four), a page past the end also counts."""
    qs = Evaluation.objects.filter(participant=participant)
    page = max(1, page)
    window = _history_window(qs, page, page_size)
    if window:
        total = window[0].total
    elif page == 1:
        total = 0
    else:  # past the end: the last page
        total = qs.count()
        page = max(1, -(-total // page_size))
        window = _history_window(qs, page, page_size) if total else []
    if page == 1 or not window:
        latest = window[0] if window else None
    else:
        latest = qs.defer("case_json").order_by("-sequence").first()
    latest_results = (
        [
            ResultRow(*row)
            for row in CriterionResult.objects.filter(evaluation_id=latest.pk)
            .order_by("position")
            .values_list(*_RESULT_ROW_FIELDS)
        ]
        if latest is not None
        else []
    )
    outcomes: dict[int, dict[str, str]] = {}
    if latest is not None:
        outcomes[latest.pk] = {r.criterion_id: r.outcome for r in latest_results}
    rest = [e.pk for e in window if e.pk not in outcomes]
    if rest:
        for evaluation_id, criterion_id, outcome in (
            CriterionResult.objects.filter(evaluation_id__in=rest)
            .order_by("evaluation_id", "position")
            .values_list("evaluation_id", "criterion_id", "outcome")
        ):
            outcomes.setdefault(evaluation_id, {})[criterion_id] = outcome
    # Each evaluation's case is read once, though it is both the "after" of its own entry and the
    # "before" of the next newer one.
    snapshots = [snapshot(e, outcomes.get(e.pk, {})) for e in window]
    entries = [
        HistoryEntry(e, diff_snapshots(snapshots[i + 1] if i + 1 < len(window) else None, snapshots[i]))
        for i, e in enumerate(window[:page_size])
    ]
    return ParticipantEvaluations(latest, latest_results, HistoryPage(entries, page, total, page_size))


def _history_window(qs: QuerySet[Evaluation], page: int, page_size: int) -> list[Evaluation]:
    """A page of evaluations and the one before its oldest (for its difference), each with
    `total`, the number of the participant's evaluations, counted in the same statement."""
    start = (page - 1) * page_size
    return list(
        qs.select_related("triggered_by")
        .annotate(
            confirmation_count=Count("confirmations"),
            last_confirmed_at=Max("confirmations__confirmed_at"),
            last_confirmed_as_of=Max("confirmations__as_of"),
            total=Window(Count("*")),
        )
        .order_by("-sequence")[start : start + page_size + 1]
    )


def latest_results(participant_ids: Sequence[int]) -> QuerySet[CriterionResult]:
    """The criterion rows of each participant's latest evaluation, in one query."""
    latest = (
        Evaluation.objects.filter(participant_id=OuterRef("evaluation__participant_id"))
        .order_by("-sequence")
        .values("pk")[:1]
    )
    return (
        CriterionResult.objects.filter(evaluation__participant_id__in=list(participant_ids))
        .filter(evaluation_id=Subquery(latest))
        .select_related("evaluation")
    )


def expiring_soon(
    site_ids: Sequence[int] | None, site_code: str, horizon: date, participants: int, shown: int
) -> list[tuple[Any, ...]]:
    """The dashboard's "expiring within the week": the first `participants` in screening whose
    latest result stops holding by `horizon` (soonest first, then by participant), at `site_ids`
    (None: every site) and, when given, the site coded `site_code`; each with its first `shown`
    such results (by date, then catalogue order) and how many it has in all. One statement of a
    fixed shape (no ORM compilation, no model instances: the list shows text), along the state's
    (site, valid until) index of those in screening; each participant's latest evaluation by its
    (participant, sequence) key. Rows: (participant id, screening number, status, criterion id,
    outcome, reason, valid until, evaluation sequence, results expiring), the last six None for
    a participant without one (its state's date came from an earlier evaluation)."""
    state, participant = ScreeningState._meta.db_table, Participant._meta.db_table
    evaluation, result = Evaluation._meta.db_table, CriterionResult._meta.db_table
    site = Participant._meta.get_field("site").related_model._meta.db_table  # type: ignore[union-attr]
    where, params = ["s.status_valid_until <= %s", "s.outcome = %s"], [horizon, OutcomeStatus.IN_SCREENING]
    if site_ids is not None:
        where.append("s.site_id = ANY(%s)")
        params.append(list(site_ids))
    if site_code:
        where.append(f"s.site_id = (SELECT id FROM {site} WHERE code = %s)")
        params.append(site_code)
    sql = f"""
        WITH soon AS (
            SELECT s.participant_id, s.status, s.status_valid_until FROM {state} s
            WHERE {" AND ".join(where)}
            ORDER BY s.status_valid_until, s.participant_id LIMIT %s
        )
        SELECT soon.participant_id, p.screening_number, soon.status, r.criterion_id, r.outcome, r.reason,
               r.valid_until, r.sequence, r.expiring
        FROM soon JOIN {participant} p ON p.id = soon.participant_id
        LEFT JOIN LATERAL (
            SELECT cr.criterion_id, cr.outcome, cr.reason, cr.valid_until, cr.position, e.sequence,
                   COUNT(*) OVER () AS expiring
            FROM (SELECT id, sequence FROM {evaluation} WHERE participant_id = soon.participant_id
                  ORDER BY sequence DESC LIMIT 1) e
            JOIN {result} cr ON cr.evaluation_id = e.id
            WHERE cr.valid_until <= %s
            ORDER BY cr.valid_until, cr.position LIMIT %s
        ) r ON TRUE
        ORDER BY soon.status_valid_until, soon.participant_id, r.valid_until, r.position"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, participants, horizon, shown])
        return cursor.fetchall()
