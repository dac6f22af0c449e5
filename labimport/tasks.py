"""Staging of large lab files by a worker: the task takes the batch's ID, is acknowledged late and
idempotent (a batch already staged or refused is left as it is)."""

from __future__ import annotations

from celery import shared_task
from django.db import transaction

from screening.tasks import RETRY

from .services import stage_kept


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, **RETRY)
def stage_lab_batch(batch_id: int) -> str:
    return str(stage_kept(batch_id).status)


def stage_later(batch_id: int) -> None:
    """Queue the staging of a batch once the transaction that opened it has committed."""
    transaction.on_commit(lambda: stage_lab_batch.delay(batch_id))
