"""The one way views reach participants: scoped to the sites the user may see.

A participant of another site is simply not in the queryset, so a URL with its ID gives 404.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    Count,
    Exists,
    Func,
    IntegerField,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.expressions import Expression, RawSQL
from django.db.models.lookups import GreaterThan, LessThan
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.text import Truncator

from .extensions import EXPIRING_DAYS, STATE, STATE_COUNT_RELATION, STATE_RELATION, expiring_soon
from .filters import ParticipantListFilter
from .memberships import REQUEST_MEMBERSHIPS
from .models import (
    Assessment,
    ClinicalRecord,
    DuplicateCheck,
    DuplicateOutcome,
    HistoryReview,
    Membership,
    OutcomeStatus,
    Participant,
    RecordState,
    Role,
    ScreeningStatus,
    Site,
    SiteLabUnit,
    Therapy,
    User,
)
from .records import RECORD_KINDS
from .roles import PARTICIPANT_READER_ROLES, PARTICIPANT_WRITER_ROLES, SITE_ROLES


def _sites_of(user: User, roles: tuple[Role, ...]) -> set[int] | None:
    """The sites of the user's memberships in `roles`; None means every site."""
    if not user.is_authenticated or not user.is_active:
        return set()
    # Within a request, the memberships the request already read (participants.memberships).
    held: list[Membership] | None = getattr(user, REQUEST_MEMBERSHIPS, None)
    memberships = [
        m for m in (Membership.objects.filter(user=user) if held is None else held) if m.role in roles
    ]
    if any(m.role in (Role.ADMIN, Role.MONITOR) and m.site_id is None for m in memberships):
        return None
    return {m.site_id for m in memberships if m.site_id is not None}


def _site_filter(user: User, roles: tuple[Role, ...]) -> Q | None:
    """A filter on participant sites for the user's memberships in `roles`; None means every site."""
    sites = _sites_of(user, roles)
    return None if sites is None else Q(site_id__in=sites)


def visible_participants(user: User) -> QuerySet[Participant]:
    condition = _site_filter(user, PARTICIPANT_READER_ROLES)
    qs = Participant.objects.select_related("site")
    return qs if condition is None else qs.filter(condition)


def sees_every_participant(user: User) -> bool:
    """A trial-wide reader (a monitor of all sites, an administrator)."""
    return _site_filter(user, PARTICIPANT_READER_ROLES) is None


def editable_participants(user: User) -> QuerySet[Participant]:
    condition = _site_filter(user, PARTICIPANT_WRITER_ROLES)
    qs = Participant.objects.select_related("site")
    return qs if condition is None else qs.filter(condition)


def get_participant(user: User, pk: int, *, for_update: bool = False) -> Participant:
    """The participant `pk` if the user may see it (or change it, with for_update), else 404."""
    qs = editable_participants(user) if for_update else visible_participants(user)
    return get_object_or_404(qs, pk=pk)


def open_duplicate_check(site: Site, check_id: int | None) -> DuplicateCheck | None:
    """A check of the site still waiting for the coordinator's answer."""
    if check_id is None:
        return None
    return DuplicateCheck.objects.filter(pk=check_id, site=site, outcome=DuplicateOutcome.POSSIBLE).first()


def duplicate_links(user: User, numbers: list[str]) -> list[Participant]:
    """The participants a duplicate check named at the user's own site, as far as the user sees them."""
    return list(
        visible_participants(user).filter(screening_number__in=numbers).order_by("screening_sequence")
    )


def current_facts(participant: Participant) -> dict[str, Assessment]:
    """The participant's current assessments, by fact key."""
    current = Assessment.objects.filter(participant=participant, state=RecordState.CURRENT)
    return {a.key: a for a in current}


def confirmed_areas(participant: Participant) -> list[str]:
    """The history areas currently confirmed as taken in full."""
    reviewed = HistoryReview.objects.filter(participant=participant, state=RecordState.CURRENT)
    return [r.area for r in reviewed]


# --- Pages ----------------------------------------------------------------------------------------


def site_lab_units(participant: Participant) -> dict[str, str]:
    """The usual unit of each test at the participant's site (a site setting), by test key."""
    return dict(SiteLabUnit.objects.filter(site_id=participant.site_id).values_list("test", "unit"))


def current_therapies(participant: Participant) -> list[Therapy]:
    return list(
        Therapy.objects.filter(participant=participant, state=RecordState.CURRENT).order_by("start", "pk")
    )


def _current_count(model: type[ClinicalRecord]) -> RawSQL:
    """The participant's current records of one kind, as a correlated subquery written out: the
    ORM's grouped subqueries (one a kind) cost more to build and compile than the statement's run."""
    quote = connection.ops.quote_name
    column = model._meta.get_field("participant").column
    return RawSQL(
        f"SELECT COUNT(*) FROM {quote(model._meta.db_table)} AS r"
        f" WHERE r.{quote(column)} = {quote(Participant._meta.db_table)}.{quote(Participant._meta.pk.column)}"
        " AND r.state = %s",
        (RecordState.CURRENT.value,),
        output_field=IntegerField(),
    )


def get_participant_with_counts(
    user: User,
    pk: int,
    *,
    related: Sequence[str] = (),
    deferred: Sequence[str] = (),
    columns: Mapping[str, Expression] | None = None,
) -> Participant:
    """The participant (404 if not visible) with `record_counts` (current records per kind), the
    one-to-one rows the caller names in `related` (the evaluation layer's state and outcome, by
    relation name) and the caller's `columns`, in one query."""
    qs = (
        visible_participants(user)
        .select_related(*related)
        .defer(*deferred)
        .annotate(
            **{f"{t.kind}_count": _current_count(t.model) for t in RECORD_KINDS.values()},
            **(columns or {}),
        )
    )
    participant = get_object_or_404(qs, pk=pk)
    participant.record_counts = [  # type: ignore[attr-defined]
        (t.kind, t.list_label, getattr(participant, f"{t.kind}_count")) for t in RECORD_KINDS.values()
    ]
    return participant


def days_in_screening(participant: Participant, outcome_on: date | None, today: date) -> int:
    """Days from the start of screening (or registration, before a start date is entered) to the
    screening outcome, or to today while in screening."""
    return _days_in_screening(participant.screening_start, participant.created_at, outcome_on, today)


def _days_in_screening(start: date | None, created_at: datetime, outcome_on: date | None, today: date) -> int:
    return ((outcome_on or today) - (start or timezone.localdate(created_at))).days


# The dashboard's list of results that stop holding soon: this many participants, soonest first,
# each with its first few such results and the number of the others (its page lists them all).
EXPIRING_PARTICIPANTS = 20
EXPIRING_RESULTS_SHOWN = 3


@dataclass
class ExpiringEntry:
    """A participant of the expiring list: what the list shows of it."""

    pk: int
    screening_number: str
    row_status: str
    row_status_label: str
    detail_url: str = ""  # set by the view


@dataclass(frozen=True)
class ExpiringResult:
    """One result of a participant's latest evaluation that stops holding soon, as shown."""

    criterion_id: str
    outcome: str
    valid_until: date
    evaluation_sequence: int
    shown_until: str  # Y-m-d
    late: bool  # its date has passed
    short_reason: str


@dataclass(frozen=True)
class ExpiringParticipant:
    participant: ExpiringEntry
    results: list[ExpiringResult]  # soonest first
    more: int = 0  # further results of the participant expiring within the horizon, not shown


@dataclass
class Attention:
    """What holds a participant back, from the latest evaluation (stored with its status by the
    evaluation layer): shown in the dashboard's rows. Criteria as (id, title)."""

    failing: list[tuple[str, str]] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)
    reviews: list[tuple[str, str]] = field(default_factory=list)
    eligible_from: date | None = None

    @classmethod
    def of(cls, summary: Mapping[str, Any] | None) -> Attention:
        summary = summary or {}
        eligible_from = summary.get("eligible_from")
        return cls(
            failing=[(cid, title) for cid, title in summary.get("failing", ())],
            missing=[(cid, title) for cid, title in summary.get("missing", ())],
            reviews=[(cid, title) for cid, title in summary.get("reviews", ())],
            eligible_from=date.fromisoformat(eligible_from) if eligible_from else None,
        )


# The dashboard's order: the (site, screening sequence, attempt) unique index's, so that a page
# reads its rows from the index; a page link names the key of the row it continues from.
LIST_ORDER = ("site_id", "screening_sequence", "attempt")


class Row(Func):
    """A row value, `ROW(a, b, c)`: compared as a whole, PostgreSQL seeks it in a btree index."""

    function = "ROW"
    output_field = IntegerField()


def _row_key(row: Any) -> str:
    return ".".join(str(getattr(row, name)) for name in LIST_ORDER)


def _parse_key(value: str | None) -> tuple[int, int, int] | None:
    parts = (value or "").split(".")
    if len(parts) != len(LIST_ORDER) or not all(part.isdigit() and len(part) < 12 for part in parts):
        return None
    return int(parts[0]), int(parts[1]), int(parts[2])


@dataclass
class ListPage:
    """One page of the dashboard, found by the key of the row before it (Next) or after it
    (Previous) rather than by an offset: a deep page costs what the first does. `?page=N` alone
    (a typed address) still works, by offset; the last page is read backwards from the end."""

    object_list: list[Any]  # DashboardRow once the dashboard has built them
    number: int
    num_pages: int
    has_previous: bool
    has_next: bool

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def first_key(self) -> str:
        return _row_key(self.object_list[0]) if self.object_list else ""

    @property
    def last_key(self) -> str:
        return _row_key(self.object_list[-1]) if self.object_list else ""


def _list_page(
    rows: QuerySet[Participant],
    count: int,
    page_size: int,
    number: int,
    after: tuple[int, int, int] | None,
    before: tuple[int, int, int] | None,
) -> ListPage:
    """A page of `rows` (`count` of them, counted already) in LIST_ORDER: one query."""
    num_pages = max(1, -(-count // page_size))
    number = min(max(1, number), num_pages)
    ascending = rows.order_by(*LIST_ORDER)
    descending = rows.order_by(*(f"-{name}" for name in LIST_ORDER))
    if after is not None:
        found = list(
            ascending.filter(GreaterThan(Row(*LIST_ORDER), Row(*map(Value, after))))[: page_size + 1]
        )
        return ListPage(found[:page_size], number, num_pages, True, len(found) > page_size)
    if before is not None:
        found = list(descending.filter(LessThan(Row(*LIST_ORDER), Row(*map(Value, before))))[: page_size + 1])
        return ListPage(found[:page_size][::-1], number, num_pages, len(found) > page_size, True)
    if number == num_pages and number > 1:  # the last page, from the end
        last = count - (num_pages - 1) * page_size
        return ListPage(list(descending[:last])[::-1], number, num_pages, True, False)
    start = (number - 1) * page_size
    return ListPage(
        list(ascending[start : start + page_size]), number, num_pages, number > 1, number < num_pages
    )


def _shown_date(day: date | None) -> str:
    return day.isoformat() if day else ""


def _labels(choices: Any) -> dict[str, str]:
    """A choice's labels translated once for a page, not once a row (each translation lookup reads
    the active language from a context-local)."""
    return {value: str(label) for value, label in choices}


# What a dashboard row reads: the participant's and its state's columns, as values (no model
# instances: a page builds 50 rows).
ROW_FIELDS = (
    "pk",
    "screening_number",
    "site__code",
    "cohort",
    "lupus_nephritis",
    "screening_start",
    "created_at",
    "planned_enrollment",
    *LIST_ORDER,
    *(
        STATE + name
        for name in (
            "status",
            "reevaluation_requested_at",
            "status_valid_until",
            "evaluated_at",
            "outcome",
            "outcome_on",
            "holding_back",
        )
    ),
)


@dataclass
class DashboardRow:
    """One row of the dashboard, its cells computed once here rather than by template filters
    (dates as `Y-m-d` text)."""

    pk: int
    screening_number: str
    site_code: str
    cohort: str
    lupus_nephritis: bool
    site_id: int
    screening_sequence: int
    attempt: int
    attention: Attention
    days_in_screening: int
    row_status: str
    row_status_label: str
    row_updating: bool
    row_valid_until: str
    row_outcome: str
    row_planned: str
    row_evaluated: str
    detail_url: str = ""  # set by the view

    @classmethod
    def of(
        cls, v: Mapping[str, Any], today: date, statuses: dict[str, str], outcomes: dict[str, str]
    ) -> DashboardRow:
        status = v[STATE + "status"] or ""
        outcome, outcome_on = v[STATE + "outcome"], v[STATE + "outcome_on"]
        evaluated_at = v[STATE + "evaluated_at"]
        return cls(
            pk=v["pk"],
            screening_number=v["screening_number"],
            site_code=v["site__code"],
            cohort=v["cohort"],
            lupus_nephritis=v["lupus_nephritis"],
            site_id=v["site_id"],
            screening_sequence=v["screening_sequence"],
            attempt=v["attempt"],
            attention=Attention.of(v[STATE + "holding_back"]),
            days_in_screening=_days_in_screening(v["screening_start"], v["created_at"], outcome_on, today),
            row_status=status,
            row_status_label=statuses.get(status, status),
            row_updating=bool(v[STATE + "reevaluation_requested_at"]),
            # A valid-until date means something only for a result that holds: not while data are missing.
            row_valid_until="—"
            if status in (ScreeningStatus.INCOMPLETE, ScreeningStatus.NOT_EVALUATED)
            else _shown_date(v[STATE + "status_valid_until"]) or "—",
            row_outcome=f"{outcomes.get(outcome, outcome)} {_shown_date(outcome_on)}"
            if outcome and outcome != OutcomeStatus.IN_SCREENING
            else "",
            row_planned=_shown_date(v["planned_enrollment"]) or "—",
            row_evaluated=timezone.localtime(evaluated_at).strftime("%Y-%m-%d %H:%M")
            if evaluated_at
            else "—",
        )


def _state_model() -> type[Model]:
    """The evaluation layer's state (screening.ScreeningState), reached through the participant's
    relation to it rather than imported: it carries the participant's site and cohort."""
    return Participant._meta.get_field(STATE_RELATION).related_model  # type: ignore[return-value]


def _state_count_model() -> type[Model]:
    """The evaluation layer's states counted per (site, cohort, status, outcome)
    (screening.StateCount), reached through the site's relation to it rather than imported."""
    return Site._meta.get_field(STATE_COUNT_RELATION).related_model  # type: ignore[return-value]


@dataclass(frozen=True)
class Dashboard:
    page: ListPage
    status_counts: list[tuple[str, str, int]]  # (status, label, count), every status listed
    total: int
    expiring: list[ExpiringParticipant]
    today: date
    horizon: date
    sites: list[Site]  # for the site filter of cross-site roles; empty for a site role
    filters: ParticipantListFilter


def dashboard_sites(user: User, membership: Membership | None) -> set[int] | None:
    """The sites the dashboard lists: the current site for a site role, else every site the user
    sees (None: every site)."""
    if membership is not None and membership.role in SITE_ROLES:
        mine = user.is_authenticated and user.is_active and membership.user_id == user.pk
        return {membership.site_id} if mine else set()
    return _sites_of(user, PARTICIPANT_READER_ROLES)


def dashboard_scope(user: User, membership: Membership | None) -> QuerySet[Participant]:
    """The participants the dashboard lists: the current site for a site role, else all the user sees."""
    sites = dashboard_sites(user, membership)
    qs = Participant.objects.select_related("site")
    return qs if sites is None else qs.filter(site_id__in=sites)


def site_dashboard(
    user: User,
    membership: Membership | None,
    filters: Mapping[str, Any] | None = None,
    *,
    page: int = 1,
    after: str | None = None,
    before: str | None = None,
    page_size: int = 50,
    today: date | None = None,
) -> Dashboard:
    """The dashboard: participants under `filters` (the page's query string, ParticipantListFilter),
    counts per status (under the cohort, search, outcome and site filters), and the results of
    latest evaluations (under the site filter) that stop holding within a week. The page is the
    one after the row keyed `after` or before the row keyed `before` (ListPage), else page `page`.
    A constant number of queries, each of which reads a bounded number of rows; the counts are
    read from the stored counts per (site, cohort, status, outcome), but a search's, which counts
    the matching states."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=EXPIRING_DAYS)
    site_ids = dashboard_sites(user, membership)
    cross_site = membership is None or membership.role not in SITE_ROLES
    scope = Participant.objects.all()
    states = _state_model().objects.all()
    if site_ids is not None:
        scope, states = scope.filter(site_id__in=site_ids), states.filter(site_id__in=site_ids)
    # The sites with participants in scope: one index probe a site.
    sites = list(Site.objects.filter(Exists(scope.filter(site_id=OuterRef("pk"))))) if cross_site else []
    chosen = ParticipantListFilter(filters or {}, scope, cross_site=cross_site)
    if chosen.chosen["q"]:  # a search: the matching states, counted
        counted = chosen.narrow_states(states, ("site", "cohort", "q", "outcome"))
        counts = dict(counted.order_by().values_list("status").annotate(n=Count("*")))
    else:  # the stored counts: a few rows per site whatever the population
        stored = _state_count_model().objects.all()
        if site_ids is not None:
            stored = stored.filter(site_id__in=site_ids)
        counted = chosen.narrow_states(stored, ("site", "cohort", "outcome"))
        counts = dict(counted.order_by().values_list("status").annotate(n=Sum("n")))
    status_counts = [(value, str(label), counts.get(value, 0)) for value, label in ScreeningStatus.choices]
    listed_count = counts.get(chosen.chosen["status"], 0) if chosen.chosen["status"] else sum(counts.values())
    listed = _list_page(
        chosen.qs.values(*ROW_FIELDS),
        listed_count,
        page_size,
        page,
        _parse_key(after),
        _parse_key(before),
    )
    statuses, outcomes = _labels(ScreeningStatus.choices), _labels(OutcomeStatus.choices)
    listed.object_list = [DashboardRow.of(v, today, statuses, outcomes) for v in listed.object_list]
    return Dashboard(
        page=listed,
        status_counts=status_counts,
        total=sum(counts.values()),
        expiring=_expiring(site_ids, chosen.chosen.get("site", ""), today, horizon, statuses),
        today=today,
        horizon=horizon,
        sites=sites,
        filters=chosen,
    )


def _expiring(
    site_ids: set[int] | None, site_code: str, today: date, horizon: date, statuses: dict[str, str]
) -> list[ExpiringParticipant]:
    """The participants in screening whose latest results stop holding by `horizon`, soonest
    first, each with its first few such results (the list shows three; a participant may have
    dozens within the week) and how many more it has: one statement (screening's reading)."""
    items: dict[int, tuple[ExpiringEntry, list[ExpiringResult], list[int]]] = {}
    for pk, number, status, criterion_id, outcome, reason, valid_until, sequence, count in expiring_soon(
        None if site_ids is None else sorted(site_ids), site_code, horizon, EXPIRING_PARTICIPANTS, EXPIRING_RESULTS_SHOWN
    ):
        if pk not in items:
            items[pk] = (ExpiringEntry(pk, number, status, statuses.get(status, status)), [], [count or 0])
        if criterion_id is not None:
            items[pk][1].append(
                ExpiringResult(
                    criterion_id=criterion_id,
                    outcome=outcome,
                    valid_until=valid_until,
                    evaluation_sequence=sequence,
                    shown_until=valid_until.isoformat(),
                    late=valid_until < today,
                    # Truncator's count of characters (and its translated ellipsis) only for a long reason.
                    short_reason=reason if len(reason) <= 140 else Truncator(reason).chars(140),
                )
            )
    return [
        ExpiringParticipant(entry, results, max(0, count - len(results)) if results else 0)
        for entry, results, (count,) in items.values()
    ]
