"""The import of a large `POST /api/labs/` batch by a worker: takes the job's ID, acknowledged late,
idempotent (a job already done is left as it is)."""

from __future__ import annotations

from celery import shared_task
from django.db import transaction

from screening.tasks import RETRY

from .auth import Caller
from .jobs import Answer, run_job, status_url
from .models import LabImportJob


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, **RETRY)
def import_lab_job(job_id: int) -> str:
    return str(run_job(job_id).status)


def queue_job(caller: Caller, body: str, rows: int) -> Answer:
    """Keep the batch and queue its import once the caller's transaction commits; the answer is 202."""
    membership = caller.membership
    job = LabImportJob.objects.create(
        user=caller.user,
        via_token=caller.via_token,
        site_id=None if caller.via_token or membership is None else membership.site_id,
        body=body,
        rows=rows,
    )
    transaction.on_commit(lambda: import_lab_job.delay(job.pk))
    return 202, {"job": job.pk, "status": job.status, "rows": rows, "status_url": status_url(job)}
