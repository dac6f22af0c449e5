"""Background re-evaluation (DESIGN.md "Re-evaluation", docs/reevaluation.md).

Tasks take IDs only, are acknowledged late (a worker lost mid-task leaves the message to be
delivered again) and idempotent: `only_if_marked` makes a repeated or duplicate task a no-op."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError, connection, transaction

from participants.models import Participant
from screening.models import Evaluation, Trigger

log = logging.getLogger(__name__)

# Worth another try: the database restarting, a dropped connection, a deadlock, a lock timeout.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
RETRY = {
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 1,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 8,
}


def _relaxed_commit() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _evaluate(participant_id: int, trigger: str, detail: str = "") -> Evaluation | None:
    """One evaluation in its own transaction, committed without waiting for the disk flush: an
    evaluation lost to a database crash loses the cleared mark with it (same transaction), so the
    participant is still marked and the sweep evaluates it again."""
    from screening.services import evaluate_participant

    with transaction.atomic():
        _relaxed_commit()
        return evaluate_participant(
            participant_id, trigger=Trigger(trigger), detail=detail, only_if_marked=True
        )


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, **RETRY)
def reevaluate_participant(
    participant_id: int, reason: str = "", trigger: str = Trigger.DATA_CHANGE
) -> int | None:
    """Evaluate a marked participant; one no longer marked was already evaluated on its current
    data, so a repeated or duplicate task stores nothing."""
    from screening.reevaluation import task_started

    task_started(participant_id)  # before reading: later changes enqueue a new task
    try:
        evaluation = _evaluate(participant_id, trigger, reason)
    except Participant.DoesNotExist:
        log.warning("re-evaluation of participant %s: no such participant", participant_id)
        return None
    return evaluation.pk if evaluation else None


# Participants evaluated per transaction in a sweep batch: few queries per chunk, and row locks
# held only briefly against a coordinator saving at the same moment.
CHUNK = 25


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, **RETRY)
def reevaluate_participants(participant_ids: list[int], trigger: str = Trigger.SWEEP) -> int:
    """A batch from the sweep, evaluated in chunks (screening.services.evaluate_marked). On a retry
    or a redelivery the participants already evaluated are no longer marked and are skipped.
    Returns the number of evaluations stored."""
    from screening.services import evaluate_marked

    stored = 0
    for start in range(0, len(participant_ids), CHUNK):
        with transaction.atomic():
            _relaxed_commit()
            stored += len(evaluate_marked(participant_ids[start : start + CHUNK], trigger=Trigger(trigger)))
    return stored


@shared_task(acks_late=True, ignore_result=True)
def sweep_reevaluations() -> dict[str, int]:
    """Celery beat: re-evaluate participants still marked and those whose results have expired."""
    from screening.reevaluation import sweep

    result = sweep()
    return {"stale": result.stale, "expired": result.expired, "batches": result.batches}
