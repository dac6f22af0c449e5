"""Read models of stored evaluations for the pages: the participant page's status, criteria,
worklist and history, and the dashboard's expiring results. Query counts do not depend on the
number of evaluations, criteria or records."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Max, OuterRef, Prefetch, QuerySet, Subquery
from django.utils import timezone

from participants.extensions import EXPIRING_DAYS
from participants.labels import path_label
from participants.models import OutcomeStatus, Participant
from screening.criteria import CRITERIA
from screening.criteria.catalogue import EXCLUSION_ALL, INCLUSION_ALL
from screening.diff import EvaluationDiff, diff_evaluations
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


@dataclass(frozen=True)
class CriterionRow:
    result: CriterionResult
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


def _result_rows(results: Iterable[CriterionResult], today: date) -> list[CriterionRow]:
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


def arrange(evaluation: Evaluation, today: date | None = None) -> EvaluationView:
    """Group the evaluation's (prefetched) results and collect what is missing, waiting or failing."""
    rows = _result_rows(evaluation.results.all(), today or timezone.localdate())
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
    when its data changed since: one query."""
    outcome = (
        ScreeningOutcome.objects.filter(participant=participant)
        .select_related("recorded_by", "evaluation")
        .defer("checklist_html", "checklist_json")
        .first()
    )
    if outcome is not None:
        outcome.participant = participant
    return outcome


def latest_evaluation(participant: Participant) -> Evaluation | None:
    """The participant's latest evaluation with all its results: two queries."""
    return (
        Evaluation.objects.filter(participant=participant)
        .select_related("triggered_by")
        .prefetch_related("results")
        .order_by("-sequence")
        .first()
    )


def evaluation_history(
    participant: Participant, page: int = 1, page_size: int = HISTORY_PAGE_SIZE
) -> HistoryPage:
    """A page of evaluations, newest first, each with its difference from the one before and the
    later runs that confirmed it unchanged (`confirmation_count`, `last_confirmed_at`,
    `last_confirmed_as_of`). Three queries whatever the page: the count, the evaluations (one more
    than the page, for the diff of the oldest shown) and their outcomes."""
    qs = Evaluation.objects.filter(participant=participant)
    total = qs.count()
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    start = (page - 1) * page_size
    outcomes = Prefetch(
        "results",
        queryset=CriterionResult.objects.only("id", "evaluation_id", "position", "criterion_id", "outcome"),
    )
    window = list(
        qs.select_related("triggered_by")
        .annotate(
            confirmation_count=Count("confirmations"),
            last_confirmed_at=Max("confirmations__confirmed_at"),
            last_confirmed_as_of=Max("confirmations__as_of"),
        )
        .prefetch_related(outcomes)
        .order_by("-sequence")[start : start + page_size + 1]
    )
    entries = [
        HistoryEntry(e, diff_evaluations(window[i + 1] if i + 1 < len(window) else None, e))
        for i, e in enumerate(window[:page_size])
    ]
    return HistoryPage(entries, page, total, page_size)


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
