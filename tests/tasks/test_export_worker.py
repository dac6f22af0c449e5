"""An XLSX export written by a real worker (a Celery subprocess on the test database and Redis)
while its page polls the progress; the file is then downloaded by its requester only."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse

from audit.models import SecurityEvent, SecurityEventKind
from audit.reports import SCREENING_LOG_HEADER
from exports.models import ExportJob, JobStatus
from participants.models import Participant, Role, Site, User

from ..factories import ParticipantFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def export_worker(django_db_blocker, tmp_path: Path, settings) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A worker sharing the test's file store (as web and worker share a volume in production)."""
    from config.celery import app

    from .worker import Worker

    settings.EXPORT_DIR = tmp_path / "store"
    app.control.purge()
    worker = Worker(tmp_path)
    worker.start(EXPORT_DIR=str(settings.EXPORT_DIR))
    try:
        yield worker
    finally:
        worker.stop()
        app.control.purge()


def test_a_screening_log_xlsx_is_written_by_the_worker_and_downloaded(
    export_worker, make_user, site_a: Site, site_b: Site, coordinator_a: User
) -> None:  # type: ignore[no-untyped-def]
    mine = [ParticipantFactory(site=site_a, created_by=coordinator_a) for _ in range(3)]
    ParticipantFactory(site=site_b, created_by=coordinator_a)  # another site: not in a site monitor's file
    monitor = make_user(Role.MONITOR, site_a, "monitor.worker")
    client = Client()
    client.force_login(monitor)
    url = reverse("audit:screening_log", args=["xlsx"])
    prepare = client.get(url)
    assert prepare.status_code == 200 and b"Prepare the XLSX file" in prepare.content
    asked = client.post(url)
    job = ExportJob.objects.get()
    assert asked.status_code == 302 and asked["Location"] == reverse("audit:export_job", args=[job.pk])
    assert (job.requested_by, job.role, job.site_id, job.scope) == (
        monitor,
        Role.MONITOR,
        site_a.pk,
        str(site_a.pk),
    )
    page = client.get(asked["Location"])
    assert page.status_code == 200 and b"export-job-status" in page.content
    deadline = time.monotonic() + 60
    while not ExportJob.objects.get(pk=job.pk).finished:
        assert time.monotonic() < deadline, export_worker.log()  # type: ignore[attr-defined]
        time.sleep(0.2)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    assert job.rows_done == 3 and job.file_size and job.started_at and job.finished_at
    polled = client.get(asked["Location"], headers={"HX-Request": "true"})
    assert polled["HX-Refresh"] == "true" and b"export-download" in polled.content
    download = client.get(reverse("audit:export_job_download", args=[job.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="screening-log-')
    book = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content)), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert list(rows[0]) == SCREENING_LOG_HEADER
    assert sorted(r[1] for r in rows[1:]) == sorted(p.screening_number for p in mine)
    event = SecurityEvent.objects.filter(kind=SecurityEventKind.EXPORT).get()
    assert event.user == monitor and event.detail["job"] == job.pk and event.detail["rows"] == 3
    assert event.detail["complete"] is True and event.detail["format"] == "xlsx"
    # Another monitor of the same site may not download it.
    other = Client()
    other.force_login(make_user(Role.MONITOR, site_a, "monitor.other"))
    assert other.get(reverse("audit:export_job_download", args=[job.pk])).status_code == 404
    assert Participant.objects.count() == 4
