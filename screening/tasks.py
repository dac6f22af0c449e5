"""Background re-evaluation (DESIGN.md "Re-evaluation", docs/reevaluation.md).

Tasks take IDs only, are acknowledged late (a worker lost mid-task leaves the message to be
delivered again) and idempotent: `only_if_marked` makes a repeated or duplicate task a no-op."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from participants.models import Participant
from screening.models import Trigger

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


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, **RETRY)
def reevaluate_participant(
    participant_id: int, reason: str = "", trigger: str = Trigger.DATA_CHANGE
) -> int | None:
    """Evaluate a marked participant; one no longer marked was already evaluated on its current
    data, so a repeated or duplicate task stores nothing."""
    from screening.reevaluation import task_started
    from screening.services import evaluate_participant

    task_started(participant_id)  # before reading: later changes enqueue a new task
    try:
        evaluation = evaluate_participant(
            participant_id, trigger=Trigger(trigger), detail=reason, only_if_marked=True
        )
    except Participant.DoesNotExist:
        log.warning("re-evaluation of participant %s: no such participant", participant_id)
        return None
    return evaluation.pk if evaluation else None


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, **RETRY)
def reevaluate_participants(participant_ids: list[int], trigger: str = Trigger.SWEEP) -> int:
    """A batch from the sweep: each participant in its own transaction; on a retry or a redelivery
    those already evaluated are skipped. Returns the number of evaluations stored."""
    from screening.services import evaluate_participant

    stored = 0
    for participant_id in participant_ids:
        try:
            if evaluate_participant(participant_id, trigger=Trigger(trigger), only_if_marked=True):
                stored += 1
        except Participant.DoesNotExist:
            continue
    return stored


@shared_task(acks_late=True, ignore_result=True)
def sweep_reevaluations() -> dict[str, int]:
    """Celery beat: re-evaluate participants still marked and those whose results have expired."""
    from screening.reevaluation import sweep

    result = sweep()
    return {"stale": result.stale, "expired": result.expired, "batches": result.batches}
