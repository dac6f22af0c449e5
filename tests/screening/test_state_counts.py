"""StateCount, the number of states per (site, cohort, status, outcome) that the dashboard reads, is
kept by statement triggers on the states: after every kind of write it equals a count of the
states, concurrent writers of one key both commit, and the dashboard shows it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from participants.case_import import import_case
from participants.models import (
    Cohort,
    Membership,
    OutcomeStatus,
    Participant,
    Role,
    ScreeningStatus,
    Site,
    User,
)
from participants.selectors import site_dashboard
from screening import outcomes
from screening.evaluation import evaluate_marked
from screening.models import ScreeningState, StateCount, Trigger
from screening.reevaluation import mark_many
from screening.state_counts import rebuild_state_counts

from ..factories import ParticipantFactory, SiteFactory
from ..web.pages_helpers import enter, sle_case, with_anc

Key = tuple[int, str, str, str]


def counted() -> dict[Key, int]:
    """The states counted per key, as the dashboard counted them before the table."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT site_id, cohort, status, outcome, count(*) FROM screening_screeningstate"
            " GROUP BY site_id, cohort, status, outcome"
        )
        return {row[:4]: row[4] for row in cursor.fetchall()}


def stored() -> dict[Key, int]:
    """The table's counts (keys whose count fell to 0 stay, as 0)."""
    return {(c.site_id, c.cohort, c.status, c.outcome): c.n for c in StateCount.objects.all() if c.n}


def assert_exact() -> None:
    assert stored() == counted()


def key(
    site: Site, status: str, *, cohort: str = Cohort.SLE, outcome: str = OutcomeStatus.IN_SCREENING
) -> Key:
    return (site.pk, cohort, status, outcome)


@pytest.mark.django_db
def test_registrations_evaluations_and_changes_of_status_and_outcome(
    coordinator_a: User, coordinator_b: User, site_a: Site, site_b: Site
) -> None:
    eligible = enter(coordinator_a, site_a, sle_case())
    ineligible = enter(coordinator_a, site_a, with_anc(sle_case(), 500))
    registered = ParticipantFactory(
        site=site_b, created_by=coordinator_b, cohort=Cohort.IIM, lupus_nephritis=None
    )
    assert_exact()
    assert stored()[key(site_a, ScreeningStatus.ELIGIBLE)] == 1
    assert stored()[key(site_a, ScreeningStatus.INELIGIBLE)] == 1
    assert stored()[key(site_b, ScreeningStatus.NOT_EVALUATED, cohort=Cohort.IIM)] == 1

    ScreeningState.objects.filter(pk=registered.pk).update(status=ScreeningStatus.INCOMPLETE)
    outcomes.record_withdrawal(coordinator_a, ineligible.pk, reason="moved away")
    assert_exact()
    assert stored()[key(site_a, ScreeningStatus.INELIGIBLE, outcome=OutcomeStatus.WITHDRAWN)] == 1
    assert key(site_a, ScreeningStatus.INELIGIBLE) not in stored()
    # Several keys in one statement, some of them changing back and forth.
    ScreeningState.objects.filter(pk__in=[eligible.pk, registered.pk]).update(
        status=ScreeningStatus.PENDING_REVIEW
    )
    assert_exact()


@pytest.mark.django_db
def test_site_and_cohort_changes_of_participants_cascade_into_the_counts(
    coordinator_a: User, site_a: Site, site_b: Site
) -> None:
    made = [ParticipantFactory(site=site_a, created_by=coordinator_a) for _ in range(3)]
    Participant.objects.filter(pk=made[0].pk).update(cohort=Cohort.SSC, lupus_nephritis=None)
    Participant.objects.filter(pk__in=[made[1].pk, made[2].pk]).update(
        site=site_b, cohort=Cohort.IIM, lupus_nephritis=None
    )
    assert_exact()
    assert stored() == {
        key(site_a, ScreeningStatus.NOT_EVALUATED, cohort=Cohort.SSC): 1,
        key(site_b, ScreeningStatus.NOT_EVALUATED, cohort=Cohort.IIM): 2,
    }


@pytest.mark.django_db
def test_deletes_and_marks_that_create_states(coordinator_a: User, site_a: Site) -> None:
    made = [ParticipantFactory(site=site_a, created_by=coordinator_a) for _ in range(3)]
    ScreeningState.objects.filter(pk__in=[made[0].pk, made[1].pk]).delete()
    assert_exact()
    assert stored() == {key(site_a, ScreeningStatus.NOT_EVALUATED): 1}
    # An upsert: one state made (its INSERT trigger), one marked (its UPDATE trigger).
    mark_many([made[0].pk, made[2].pk], timezone.now())
    assert_exact()
    assert stored() == {key(site_a, ScreeningStatus.NOT_EVALUATED): 2}
    ScreeningState.objects.all().delete()
    assert stored() == {} == counted()
    assert StateCount.objects.get().n == 0  # the row stays, at 0


def _xmins() -> dict[Key, str]:
    """The transaction that last wrote each count row (unchanged: the row was not written)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT site_id, cohort, status, outcome, xmin::text FROM screening_statecount")
        return {row[:4]: row[4] for row in cursor.fetchall()}


@pytest.mark.django_db
def test_the_sweeps_batch_path(coordinator_a: User, site_a: Site) -> None:
    cases = [sle_case(), with_anc(sle_case(), 500), sle_case(), sle_case()]
    entered = [import_case(coordinator_a, site_a, case) for case in cases]  # not evaluated yet
    ids = sorted(p.pk for p in entered)
    as_of = date.fromisoformat(cases[0]["dates"]["as_of"])
    assert stored() == {key(site_a, ScreeningStatus.NOT_EVALUATED): 4}
    mark_many(ids, timezone.now())
    assert len(evaluate_marked(ids, trigger=Trigger.SWEEP, as_of=as_of)) == 4
    assert_exact()
    assert stored()[key(site_a, ScreeningStatus.ELIGIBLE)] == 3
    assert stored()[key(site_a, ScreeningStatus.INELIGIBLE)] == 1
    # The same data again: confirmations, which change no key and write no count.
    before = _xmins()
    mark_many(ids, timezone.now())
    evaluate_marked(ids, trigger=Trigger.SWEEP, as_of=as_of)
    assert _xmins() == before
    assert_exact()


@pytest.mark.django_db
def test_rebuild_replaces_counts_written_with_the_triggers_off(coordinator_a: User, site_a: Site) -> None:
    ParticipantFactory(site=site_a, created_by=coordinator_a)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE screening_screeningstate SET status = %s", [ScreeningStatus.ELIGIBLE])
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    assert stored() != counted()
    rebuild_state_counts()
    assert_exact()


@pytest.mark.django_db(transaction=True)
def test_seed_population_leaves_exact_counts() -> None:
    call_command("seed_population", "24", "--sites", "2", "--seed", "7", "--profiles", "6")
    assert ScreeningState.objects.count() == 24
    assert sum(stored().values()) == 24
    assert_exact()


def _in_thread(work: Callable[[], None], errors: list[BaseException]) -> threading.Thread:
    """`work` on a thread of its own (so on a connection of its own), its failure kept in `errors`."""

    def run() -> None:
        try:
            work()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _wait_until_a_writer_waits_for_a_lock() -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.02)
    raise AssertionError("the second writer never waited for the first")


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_the_same_keys_both_commit(coordinator_a: User, site_a: Site) -> None:
    """Both move a participant from "not evaluated" (a count row that exists) to "eligible" (one
    that the first writer inserts): the second waits for the first's count rows, then adds to them."""
    first, second = (ParticipantFactory(site=site_a, created_by=coordinator_a) for _ in range(2))
    holding, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def write(participant: Participant, hold: bool) -> None:
        with transaction.atomic():
            ScreeningState.objects.filter(pk=participant.pk).update(status=ScreeningStatus.ELIGIBLE)
            if hold:
                holding.set()
                assert release.wait(10)

    a = _in_thread(lambda: write(first, True), errors)
    assert holding.wait(10)
    b = _in_thread(lambda: write(second, False), errors)
    try:
        _wait_until_a_writer_waits_for_a_lock()
    finally:
        release.set()
        a.join(10)
        b.join(10)
    assert not errors
    assert stored() == {key(site_a, ScreeningStatus.ELIGIBLE): 2}
    assert_exact()


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_lock_counts_in_key_order(coordinator_a: User) -> None:
    """The second writer's one statement changes eight counts ("eligible" and "not evaluated" at
    four sites) and waits for the first writer, which holds the lowest of them; the first then
    writes the seven others and commits. Had the second locked any of those before waiting, the
    two would deadlock."""
    sites = sorted((SiteFactory() for _ in range(4)), key=lambda site: site.pk)
    moved, deleted = [], []
    for site in sites:
        moved.append(ParticipantFactory(site=site, created_by=coordinator_a).pk)
        deleted.append(ParticipantFactory(site=site, created_by=coordinator_a).pk)
        ParticipantFactory(site=site, created_by=coordinator_a)
        deleted.append(
            ParticipantFactory(site=site, created_by=coordinator_a, status=ScreeningStatus.ELIGIBLE).pk
        )
    lowest = deleted[1]  # "eligible" at the first site: the lowest key
    locked, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        with transaction.atomic():
            ScreeningState.objects.filter(pk=lowest).delete()
            locked.set()
            assert release.wait(10)
            ScreeningState.objects.filter(pk__in=[pk for pk in deleted if pk != lowest]).delete()

    def second() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            # Grouped by hashing, the changes come in no particular order: the upsert orders them.
            cursor.execute("SET LOCAL enable_sort = off")
            ScreeningState.objects.filter(pk__in=moved).update(status=ScreeningStatus.ELIGIBLE)

    a = _in_thread(first, errors)
    assert locked.wait(10)
    b = _in_thread(second, errors)
    try:
        _wait_until_a_writer_waits_for_a_lock()
    finally:
        release.set()
        a.join(10)
        b.join(10)
    assert not errors
    assert stored() == {
        **{key(site, ScreeningStatus.ELIGIBLE): 1 for site in sites},
        **{key(site, ScreeningStatus.NOT_EVALUATED): 1 for site in sites},
    }
    assert_exact()


def _shown(dashboard: object) -> dict[str, int]:
    return {status: n for status, _, n in dashboard.status_counts}  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_the_dashboard_shows_the_tables_counts(
    coordinator_a: User, coordinator_b: User, site_a: Site, site_b: Site, make_user: Callable[..., User]
) -> None:
    make = ParticipantFactory
    make(site=site_a, created_by=coordinator_a, status=ScreeningStatus.ELIGIBLE)
    make(
        site=site_a,
        created_by=coordinator_a,
        status=ScreeningStatus.ELIGIBLE,
        cohort=Cohort.IIM,
        lupus_nephritis=None,
    )
    make(site=site_a, created_by=coordinator_a, status=ScreeningStatus.INELIGIBLE)
    make(site=site_b, created_by=coordinator_b, status=ScreeningStatus.ELIGIBLE)
    ended = make(site=site_b, created_by=coordinator_b, status=ScreeningStatus.INCOMPLETE)
    outcomes.record_withdrawal(coordinator_b, ended.pk, reason="moved away")
    monitor = make_user(Role.MONITOR, None)
    site_role = Membership.objects.get(user=coordinator_a)
    for user, membership, filters in (
        (coordinator_a, site_role, {}),
        (coordinator_a, site_role, {"cohort": Cohort.IIM}),
        (monitor, None, {}),
        (monitor, None, {"site": site_b.code}),
        (monitor, None, {"outcome": OutcomeStatus.WITHDRAWN}),
        (monitor, None, {"status": ScreeningStatus.ELIGIBLE, "cohort": Cohort.SLE}),
    ):
        states = ScreeningState.objects.all()
        if membership is not None:
            states = states.filter(site=site_a)
        if "cohort" in filters:
            states = states.filter(cohort=filters["cohort"])
        if "site" in filters:
            states = states.filter(site__code=filters["site"])
        if "outcome" in filters:
            states = states.filter(outcome=filters["outcome"])
        expected = {status: states.filter(status=status).count() for status in ScreeningStatus.values}
        assert _shown(site_dashboard(user, membership, filters)) == expected, filters
    # The counts are the table's, not a count of the states ...
    StateCount.objects.filter(site=site_a, status=ScreeningStatus.INELIGIBLE).update(n=41)
    assert _shown(site_dashboard(coordinator_a, site_role))[ScreeningStatus.INELIGIBLE] == 41
    # ... but a search's, which counts the states that match.
    searched = site_dashboard(coordinator_a, site_role, {"q": site_a.code})
    assert _shown(searched)[ScreeningStatus.INELIGIBLE] == 1


@pytest.mark.django_db
def test_counts_are_per_site(coordinator_a: User) -> None:
    sites = [SiteFactory() for _ in range(2)]
    for site in sites:
        ParticipantFactory(site=site, created_by=coordinator_a)
    assert stored() == {key(site, ScreeningStatus.NOT_EVALUATED): 1 for site in sites}
