"""The worker's side of large exports: the task takes the job's ID, is acknowledged late and is
idempotent (exports.jobs.run_job); it is sent once the job's row has committed."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError, transaction

from .jobs import remove_expired, run_job


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    autoretry_for=(OperationalError,),
    retry_backoff=1,
    retry_backoff_max=60,
    max_retries=8,
)
def write_export(job_id: int) -> str:
    return str(run_job(job_id).status)


@shared_task(acks_late=True, ignore_result=True)
def remove_expired_exports() -> dict[str, int]:
    """Hourly (beat): files past the retention period, abandoned jobs, strays (exports.jobs)."""
    done = remove_expired()
    return {"removed": done.removed, "abandoned": done.abandoned, "strays": done.strays}


def write_later(job_id: int) -> None:
    transaction.on_commit(lambda: write_export.delay(job_id))
