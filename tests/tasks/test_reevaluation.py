"""Marks, de-duplicated enqueueing, the tasks' idempotence and the sweep, without a worker."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from participants import services
from participants.models import Participant, ScreeningStatus
from screening import reevaluation, tasks
from screening.evaluation import evaluate_participant
from screening.models import Evaluation, Trigger

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    """Messages the code would publish, instead of publishing them."""
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def recorder(name: str):  # type: ignore[no-untyped-def]
        def apply_async(args: tuple[Any, ...], **options: Any) -> None:
            calls.append((name, tuple(args), options))

        return apply_async

    monkeypatch.setattr(tasks.reevaluate_participant, "apply_async", recorder("one"))
    monkeypatch.setattr(tasks.reevaluate_participants, "apply_async", recorder("batch"))
    return calls


def add_lab(user, participant, value: int = 2100) -> None:  # type: ignore[no-untyped-def]
    services.record_lab(
        user, participant, test="anc", value=Decimal(value), unit="/uL", collected=date(2025, 6, 3)
    )


def test_a_change_marks_and_enqueues_ids_after_commit(
    coordinator_a, participant_a, sent, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        add_lab(coordinator_a, participant_a)
        assert sent == []  # nothing before the commit
    assert len(callbacks) == 1
    participant = Participant.objects.get(pk=participant_a.pk)
    assert participant.screening_state.reevaluation_requested_at is not None
    assert participant.data_version == 1
    [(name, args, options)] = sent
    assert name == "one"
    assert args[0] == participant_a.pk and args[2] == Trigger.DATA_CHANGE
    assert all(isinstance(a, (int, str)) for a in args)
    assert not options.get("countdown")


def test_changes_while_a_task_is_queued_enqueue_nothing_more(
    coordinator_a, participant_a, sent, django_capture_on_commit_callbacks
) -> None:
    for value in (2100, 2200, 2300):
        with django_capture_on_commit_callbacks(execute=True):
            add_lab(coordinator_a, participant_a, value)
    assert len(sent) == 1


def test_a_change_after_the_task_started_enqueues_again_after_the_debounce(
    coordinator_a, participant_a, sent, django_capture_on_commit_callbacks, settings
) -> None:
    settings.REEVALUATION_DEBOUNCE_SECONDS = 5
    with django_capture_on_commit_callbacks(execute=True):
        add_lab(coordinator_a, participant_a)
    reevaluation.task_started(participant_a.pk)  # the worker took the task: it reads from now on
    with django_capture_on_commit_callbacks(execute=True):
        add_lab(coordinator_a, participant_a, 2500)
    assert len(sent) == 2
    countdown = sent[1][2]["countdown"]
    assert 4 < countdown <= 5


def test_import_trigger_travels_with_the_task(
    coordinator_a, participant_a, sent, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        with reevaluation.reevaluation_trigger(Trigger.IMPORT):
            add_lab(coordinator_a, participant_a)
    assert sent[0][1][2] == Trigger.IMPORT


def test_broker_refusal_keeps_the_mark_and_lets_the_next_change_retry(
    coordinator_a, participant_a, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.reevaluate_participant, "apply_async", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        add_lab(coordinator_a, participant_a)
    assert Participant.objects.get(pk=participant_a.pk).screening_state.reevaluation_requested_at is not None
    # The queued claim was released: the next attempt is not swallowed by de-duplication.
    assert reevaluation.claim_enqueue(participant_a.pk) == 0.0


def test_task_is_idempotent(coordinator_a, participant_a, sent, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        add_lab(coordinator_a, participant_a)
    first = tasks.reevaluate_participant(participant_a.pk, "lab", Trigger.DATA_CHANGE)
    again = tasks.reevaluate_participant(participant_a.pk, "lab", Trigger.DATA_CHANGE)
    assert first is not None and again is None
    evaluation = Evaluation.objects.get(participant=participant_a)
    assert evaluation.trigger == Trigger.DATA_CHANGE
    participant = Participant.objects.get(pk=participant_a.pk)
    assert participant.screening_state.reevaluation_requested_at is None
    assert (
        participant.screening_state.evaluated_version == participant.data_version == evaluation.data_version
    )
    assert tasks.reevaluate_participant(10**9) is None  # unknown participant: nothing, no error


def test_sweep_selects_stale_marks_and_expired_results_in_batches(
    site_a, coordinator_a, sent, settings, django_assert_max_num_queries
) -> None:
    from tests.factories import ParticipantFactory

    settings.REEVALUATION_SWEEP_BATCH_SIZE = 2
    now = timezone.now()
    today = timezone.localdate(now)
    old = now - timedelta(seconds=settings.REEVALUATION_STALE_SECONDS + 1)

    def make(**fields: Any) -> Participant:
        return ParticipantFactory(site=site_a, created_by=coordinator_a, **fields)

    stale = [make(reevaluation_requested_at=old) for _ in range(3)]
    make(reevaluation_requested_at=now - timedelta(seconds=1))  # just marked: its task is on the way
    expired = make(
        status=ScreeningStatus.ELIGIBLE,
        status_valid_until=today - timedelta(days=1),
        evaluated_at=now - timedelta(days=2),
    )
    make(
        status=ScreeningStatus.ELIGIBLE, status_valid_until=today - timedelta(days=1), evaluated_at=now
    )  # evaluated today already
    make(status=ScreeningStatus.ELIGIBLE, status_valid_until=today, evaluated_at=now - timedelta(days=2))
    make(status=ScreeningStatus.INELIGIBLE, status_valid_until=None, evaluated_at=now - timedelta(days=9))

    # One statement per group (stale marks, expired results, approvals due), whatever the number.
    with django_assert_max_num_queries(3):
        result = tasks.sweep(now)
    assert (result.stale, result.expired, result.batches) == (3, 1, 3)
    assert [(name, args) for name, args, _ in sent] == [
        ("batch", ([stale[0].pk, stale[1].pk], Trigger.SWEEP)),
        ("batch", ([stale[2].pk], Trigger.SWEEP)),
        ("batch", ([expired.pk], Trigger.EXPIRY)),
    ]
    marked = set(
        Participant.objects.filter(screening_state__reevaluation_requested_at=now).values_list(
            "pk", flat=True
        )
    )
    assert marked == {p.pk for p in stale} | {expired.pk}
    # Renewed marks are not stale: the next sweep leaves them to the queued batches.
    assert tasks.sweep(now).batches == 0


def test_sweep_batches_evaluate_once_with_their_trigger(site_a, coordinator_a, sent) -> None:
    from tests.factories import ParticipantFactory

    p = ParticipantFactory(site=site_a, created_by=coordinator_a, reevaluation_requested_at=timezone.now())
    assert tasks.reevaluate_participants([p.pk, 10**9], Trigger.EXPIRY) == 1
    assert tasks.reevaluate_participants([p.pk], Trigger.EXPIRY) == 0
    assert list(Evaluation.objects.filter(participant=p).values_list("trigger", flat=True)) == [
        Trigger.EXPIRY
    ]


def test_sweep_stops_when_the_broker_refuses(site_a, coordinator_a, monkeypatch) -> None:
    from tests.factories import ParticipantFactory

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.reevaluate_participants, "apply_async", refuse)
    old = timezone.now() - timedelta(days=1)
    ParticipantFactory(site=site_a, created_by=coordinator_a, reevaluation_requested_at=old)
    result = tasks.sweep()
    assert result.enqueue_failed and result.batches == 0


def test_evaluation_clears_only_the_mark_of_the_data_it_saw(coordinator_a, participant_a, sent) -> None:
    add_lab(coordinator_a, participant_a)
    evaluate_participant(participant_a.pk, trigger=Trigger.DATA_CHANGE, only_if_marked=True)
    add_lab(coordinator_a, participant_a, 900)
    participant = Participant.objects.get(pk=participant_a.pk)
    assert participant.screening_state.reevaluation_requested_at is not None
    assert participant.screening_state.evaluated_version == participant.data_version - 1


def test_beat_schedule_runs_the_sweep(settings) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["reevaluation-sweep"]
    assert entry["task"] == "screening.tasks.sweep_reevaluations"
    assert entry["schedule"] == settings.REEVALUATION_SWEEP_INTERVAL_SECONDS
    from config.celery import app

    app.loader.import_default_modules()
    assert "screening.tasks.sweep_reevaluations" in app.tasks


def test_form_evaluation_and_task_store_one_evaluation_whichever_runs_first(
    coordinator_a, participant_a, sent
) -> None:
    from screening.evaluation import evaluate_now

    add_lab(coordinator_a, participant_a)
    assert tasks.reevaluate_participant(participant_a.pk, "lab", Trigger.DATA_CHANGE) is not None
    assert evaluate_now(participant_a, coordinator_a, "lab") is None
    add_lab(coordinator_a, participant_a, 900)
    assert evaluate_now(participant_a, coordinator_a, "lab") is not None
    assert tasks.reevaluate_participant(participant_a.pk, "lab", Trigger.DATA_CHANGE) is None
    assert Evaluation.objects.filter(participant=participant_a).count() == 2
