"""Background re-evaluation (DESIGN.md "Re-evaluation"). Tasks take IDs only and are idempotent."""

from __future__ import annotations

from celery import shared_task

from screening.models import Trigger


@shared_task(acks_late=True, ignore_result=True)
def reevaluate_participant(participant_id: int, reason: str = "") -> int | None:
    """Evaluate a marked participant; a participant no longer marked was already evaluated on its
    current data, so a repeated or duplicate task stores nothing."""
    from screening.services import evaluate_participant

    evaluation = evaluate_participant(
        participant_id, trigger=Trigger.DATA_CHANGE, detail=reason, only_if_marked=True
    )
    return evaluation.pk if evaluation else None
