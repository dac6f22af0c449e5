"""Large exports written by a worker into the file store (`settings.EXPORT_DIR`), with progress.

A report is registered by name (`register_report`, from the registering app's `AppConfig.ready`):
given the job, it returns the header, the rows and the sheet title, reading the data as the
requester may see it. `run_job` writes the file with openpyxl's write-only mode (constant memory),
reports the rows written so far through Redis every PROGRESS_EVERY rows (the report may read its
rows inside one transaction, where a progress column would stay invisible until the end), and
records the outcome on the job. It is idempotent: a finished job is left as it is, and a job run
twice (a message delivered again after a lost worker) keeps the file of the run that finished first.

`remove_expired` (hourly, `exports.tasks.remove_expired_exports`) removes a file once it is
`EXPORT_FILE_DAYS` old (the job stays, marked removed), fails a job no worker has finished within
`EXPORT_JOB_STALE_HOURS`, and deletes what a lost worker left in the store (a `.part` file, or the
file of a second run that lost) once it is as old.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import models, transaction
from django.utils import timezone

from .models import ExportJob, JobStatus
from .pipeline import write_xlsx

log = logging.getLogger(__name__)

PROGRESS_EVERY = 1000
PROGRESS_TTL = 24 * 3600


@dataclass(frozen=True)
class ReportRows:
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]
    sheet_title: str


Report = Callable[[ExportJob], ReportRows]
REPORTS: dict[str, Report] = {}


def register_report(name: str, report: Report) -> None:
    REPORTS[name] = report


def export_dir() -> Path:
    return Path(settings.EXPORT_DIR)


def file_path(job: ExportJob) -> Path:
    return export_dir() / job.file_name


def _progress_key(job_id: int) -> str:
    return f"export-job:{job_id}:rows"


def rows_so_far(job: ExportJob) -> int:
    """Rows written: the job's count once it has finished, the worker's last report while it runs."""
    if job.status == JobStatus.RUNNING:
        return int(cache.get(_progress_key(job.pk)) or 0)
    return job.rows_done


class JobFailed(Exception):
    """A failure to show the requester as it is (no such participant any more, scope changed)."""


def run_job(job_id: int) -> ExportJob:
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=job_id)
        if job.finished:
            return job
        job.status = JobStatus.RUNNING
        job.started_at = timezone.now()
        job.save(update_fields=["status", "started_at"])
    cache.set(_progress_key(job.pk), 0, PROGRESS_TTL)
    export_dir().mkdir(parents=True, exist_ok=True)
    name = f"{job.pk}-{secrets.token_hex(8)}.{job.fmt}"
    path = export_dir() / name
    part = path.with_name(name + ".part")
    try:
        report = REPORTS[job.report](job)
        with part.open("wb") as out:
            rows = write_xlsx(
                out,
                report.sheet_title,
                report.header,
                report.rows,
                progress=lambda n: cache.set(_progress_key(job.pk), n, PROGRESS_TTL),
                every=PROGRESS_EVERY,
            )
        part.rename(path)
    except Exception as exc:  # noqa: BLE001 - any failure is shown on the job; the worker goes on
        part.unlink(missing_ok=True)
        if isinstance(exc, JobFailed):
            error = str(exc)
        else:
            log.exception("export job %s failed", job.pk)
            error = (
                f"The file could not be written ({type(exc).__name__}: {str(exc)[:300]}). Ask for it again."
            )
        ExportJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            status=JobStatus.FAILED, error=error, finished_at=timezone.now()
        )
        job.refresh_from_db()
        return job
    done = ExportJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
        status=JobStatus.DONE,
        rows_done=rows,
        file_name=name,
        file_size=path.stat().st_size,
        finished_at=timezone.now(),
    )
    if not done:  # another run of the same job finished first and keeps its file
        path.unlink(missing_ok=True)
    cache.delete(_progress_key(job.pk))
    job.refresh_from_db()
    return job


@dataclass(frozen=True)
class Housekeeping:
    removed: int  # files of finished jobs past the retention period
    abandoned: int  # jobs no worker finished in time, now failed
    strays: int  # files in the store that belong to no finished job


ABANDONED = "The worker writing this file stopped before it finished. Ask for it again."


def remove_expired(now: datetime | None = None) -> Housekeeping:
    """Idempotent: each step selects only what is still to do."""
    now = now or timezone.now()
    removed = list(
        ExportJob.objects.filter(
            status=JobStatus.DONE, finished_at__lt=now - timedelta(days=settings.EXPORT_FILE_DAYS)
        ).values_list("pk", "file_name")
    )
    if removed:
        ExportJob.objects.filter(pk__in=[pk for pk, _ in removed], status=JobStatus.DONE).update(
            status=JobStatus.REMOVED, removed_at=now
        )
        for _, name in removed:
            (export_dir() / name).unlink(missing_ok=True)
    stale = now - timedelta(hours=settings.EXPORT_JOB_STALE_HOURS)
    abandoned = ExportJob.objects.filter(
        models.Q(status=JobStatus.RUNNING, started_at__lt=stale)
        | models.Q(status=JobStatus.QUEUED, requested_at__lt=stale)
    ).update(status=JobStatus.FAILED, error=ABANDONED, finished_at=now)
    strays = 0
    if export_dir().is_dir():
        kept = set(ExportJob.objects.filter(status=JobStatus.DONE).values_list("file_name", flat=True))
        for path in export_dir().iterdir():
            if path.is_file() and path.name not in kept and path.stat().st_mtime < stale.timestamp():
                path.unlink(missing_ok=True)
                strays += 1
    return Housekeeping(removed=len(removed), abandoned=abandoned, strays=strays)
