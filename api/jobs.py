"""Large batches of `POST /api/labs/`: accepted as a job (202 with a status URL) and imported by a
worker, with the same checks and the same answer as a batch done during the request."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from participants.models import Membership, Participant
from participants.roles import PARTICIPANT_WRITER_ROLES

from .auth import Caller, writable_participants
from .lab_import import answer, import_labs
from .models import JobStatus, LabImportJob

Answer = tuple[int, dict[str, Any]]


def status_url(job: LabImportJob) -> str:
    return reverse("api:lab_job", kwargs={"pk": job.pk})


def _scope(job: LabImportJob) -> QuerySet[Participant] | None:
    """The participants the job's sender may write now (a membership ended since: fewer or none)."""
    membership = None
    if not job.via_token:
        membership = Membership.objects.filter(
            user=job.user, site_id=job.site_id, role__in=PARTICIPANT_WRITER_ROLES
        ).first()
        if membership is None:
            return None
    return writable_participants(Caller(job.user, via_token=job.via_token, membership=membership))


def run_job(job_id: int) -> LabImportJob:
    """Import a queued job's rows and store its answer, in one transaction: a job is done once,
    whatever the number of deliveries of its message (the row lock makes a second one wait)."""
    with transaction.atomic():
        job = LabImportJob.objects.select_for_update().get(pk=job_id)
        if job.status != JobStatus.QUEUED:
            return job
        scope = _scope(job)
        if scope is None:
            status, payload = 403, {"error": "Your role cannot record lab results."}
        else:
            rows = json.loads(job.body, parse_float=Decimal).get("rows")
            status, payload = answer(import_labs(job.user, scope, rows))
        job.status, job.answer_status, job.answer = JobStatus.DONE, status, payload
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "answer_status", "answer", "finished_at"])
    return job


def visible_jobs(caller: Caller) -> QuerySet[LabImportJob]:
    """The caller's own jobs: a token's user sees those sent with a token; a session, those sent
    from a session at its current site. Any other job is 404."""
    jobs = LabImportJob.objects.filter(user=caller.user, via_token=caller.via_token)
    if not caller.via_token:
        membership = caller.membership
        return jobs.filter(site_id=membership.site_id) if membership is not None else jobs.none()
    return jobs


def describe(job: LabImportJob) -> dict[str, Any]:
    """The status URL's answer: the job, and once done the answer the request would have given."""
    found: dict[str, Any] = {
        "job": job.pk,
        "status": job.status,
        "rows": job.rows,
        "received": job.created_at.isoformat(),
        "finished": job.finished_at.isoformat() if job.finished_at else None,
    }
    if job.status == JobStatus.DONE:
        found["result"] = {"status": job.answer_status, **(job.answer or {})}
    return found
