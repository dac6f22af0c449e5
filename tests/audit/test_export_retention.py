"""Export files are kept EXPORT_FILE_DAYS: then the hourly task removes the file and the job stays,
marked removed, as the record of the export. A job no worker finished within
EXPORT_JOB_STALE_HOURS is failed, and what a lost worker left in the store is deleted."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from exports import jobs
from exports.models import ExportJob, JobStatus
from exports.tasks import remove_expired_exports, write_export
from participants.models import Role, Site, User

from ..factories import ParticipantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    settings.EXPORT_DIR = tmp_path / "store"
    return settings.EXPORT_DIR  # type: ignore[no-any-return]


@pytest.fixture
def written(
    client: Client,
    make_user,
    site_a: Site,
    coordinator_a: User,
    store: Path,
    django_capture_on_commit_callbacks,
) -> ExportJob:  # type: ignore[no-untyped-def]  # noqa: E501
    ParticipantFactory(site=site_a, created_by=coordinator_a)
    client.force_login(make_user(Role.MONITOR, site_a, "monitor.retention"))
    with django_capture_on_commit_callbacks(execute=False):
        assert client.post(reverse("audit:screening_log", args=["xlsx"])).status_code == 302
    job = ExportJob.objects.latest("pk")
    write_export.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and jobs.file_path(job).exists()
    return job


def _age(path: Path, hours: float) -> None:
    then = (timezone.now() - timedelta(hours=hours)).timestamp()
    os.utime(path, (then, then))


def test_a_file_is_kept_until_its_retention_ends_then_removed_and_the_job_kept(
    client: Client, written: ExportJob
) -> None:
    page = reverse("audit:export_job", args=[written.pk])
    download = reverse("audit:export_job_download", args=[written.pk])
    just_before = (
        written.finished_at + timedelta(days=django_settings.EXPORT_FILE_DAYS) - timedelta(seconds=1)
    )
    assert jobs.remove_expired(just_before) == jobs.Housekeeping(removed=0, abandoned=0, strays=0)
    assert client.get(download).status_code == 200

    after = written.finished_at + timedelta(days=django_settings.EXPORT_FILE_DAYS, seconds=1)
    assert jobs.remove_expired(after).removed == 1
    written.refresh_from_db()
    assert (written.status, written.removed_at, written.rows_done) == (JobStatus.REMOVED, after, 1)
    assert not jobs.file_path(written).exists()
    assert client.get(download).status_code == 404
    shown = client.get(page).content.decode()
    assert "The file was removed" in shown and f"kept for {django_settings.EXPORT_FILE_DAYS} days" in shown
    assert 'hx-trigger="every 1s"' not in shown  # finished: no more polling
    assert "Removed" in client.get(reverse("audit:exports")).content.decode()
    assert jobs.remove_expired(after + timedelta(days=1)).removed == 0  # idempotent


def test_a_job_no_worker_finished_is_failed_in_words(written: ExportJob, store: Path) -> None:
    now = timezone.now()
    stale = now - timedelta(hours=django_settings.EXPORT_JOB_STALE_HOURS, seconds=1)
    fresh = now - timedelta(hours=django_settings.EXPORT_JOB_STALE_HOURS) + timedelta(minutes=1)
    user = written.requested_by
    common: dict[str, Any] = {"role": written.role, "site_id": written.site_id, "scope": written.scope}
    lost = ExportJob.objects.create(requested_by=user, report=written.report, basename="lost", **common)
    waiting = ExportJob.objects.create(requested_by=user, report=written.report, basename="waiting", **common)
    busy = ExportJob.objects.create(requested_by=user, report=written.report, basename="busy", **common)
    ExportJob.objects.filter(pk=lost.pk).update(status=JobStatus.RUNNING, started_at=stale)
    ExportJob.objects.filter(pk=waiting.pk).update(requested_at=stale)
    ExportJob.objects.filter(pk=busy.pk).update(status=JobStatus.RUNNING, started_at=fresh)

    assert jobs.remove_expired(now).abandoned == 2
    statuses = dict(ExportJob.objects.values_list("basename", "status"))
    assert statuses == {
        written.basename: JobStatus.DONE,
        "lost": JobStatus.FAILED,
        "waiting": JobStatus.FAILED,
        "busy": JobStatus.RUNNING,
    }
    assert ExportJob.objects.get(pk=lost.pk).error == jobs.ABANDONED
    assert write_export.apply(args=[lost.pk]).get() == JobStatus.FAILED  # a late redelivery changes nothing


def test_what_a_lost_worker_left_is_deleted_once_old(written: ExportJob, store: Path) -> None:
    part = store / f"{written.pk}-0123456789abcdef.xlsx.part"
    loser = store / f"{written.pk}-fedcba9876543210.xlsx"
    recent = store / "99-00000000000000aa.xlsx.part"
    for path in (part, loser, recent):
        path.write_bytes(b"partial")
    hours = django_settings.EXPORT_JOB_STALE_HOURS + 1
    for path in (part, loser, jobs.file_path(written)):
        _age(path, hours)

    assert remove_expired_exports.apply().get() == {"removed": 0, "abandoned": 0, "strays": 2}
    assert sorted(p.name for p in store.iterdir()) == sorted([written.file_name, recent.name])


def test_the_task_is_on_the_beat_schedule() -> None:
    entry = django_settings.CELERY_BEAT_SCHEDULE["export-retention"]
    assert entry["task"] == "exports.tasks.remove_expired_exports"
    assert remove_expired_exports.acks_late
