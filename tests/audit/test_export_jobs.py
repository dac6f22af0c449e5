"""Large exports as jobs: progress while the worker writes, a failure shown with its error, the
task idempotent, and the file for its requester alone (role, site and scope as when asked)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from exports import jobs
from exports.models import ExportJob, JobStatus
from exports.tasks import write_export
from participants.models import Membership, Role, Site, User

from ..factories import ParticipantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    settings.EXPORT_DIR = tmp_path / "store"
    return settings.EXPORT_DIR  # type: ignore[no-any-return]


@pytest.fixture
def monitor(make_user, site_a: Site) -> User:  # type: ignore[no-untyped-def]
    return make_user(Role.MONITOR, site_a, "monitor.jobs")  # type: ignore[no-any-return]


def _ask(client: Client, django_capture_on_commit_callbacks: Any, url: str) -> ExportJob:
    with django_capture_on_commit_callbacks(execute=False) as sent:
        assert client.post(url).status_code == 302
    assert len(sent) == 1
    return ExportJob.objects.latest("pk")


def test_progress_is_shown_while_the_worker_writes(
    client: Client,
    monitor: User,
    site_a: Site,
    coordinator_a: User,
    store: Path,
    monkeypatch,
    django_capture_on_commit_callbacks,
) -> None:  # type: ignore[no-untyped-def]
    for _ in range(5):
        ParticipantFactory(site=site_a, created_by=coordinator_a)
    client.force_login(monitor)
    job = _ask(client, django_capture_on_commit_callbacks, reverse("audit:screening_log", args=["xlsx"]))
    page = reverse("audit:export_job", args=[job.pk])
    queued = client.get(page, headers={"HX-Request": "true"})
    assert b"Waiting for a worker" in queued.content and b'hx-trigger="every 1s"' in queued.content
    seen: list[bytes] = []

    def look(n: int) -> None:  # what the page shows while rows are being written
        seen.append(client.get(page, headers={"HX-Request": "true"}).content)

    monkeypatch.setattr(jobs, "PROGRESS_EVERY", 2)
    original = jobs.write_xlsx

    def write(*args: Any, progress: Any, every: int) -> int:
        def report(n: int) -> None:
            progress(n)
            look(n)

        return original(*args, progress=report, every=every)

    monkeypatch.setattr(jobs, "write_xlsx", write)
    write_export.apply(args=[job.pk])
    assert [b"Being written: 2 rows so far" in seen[0], b"Being written: 4 rows so far" in seen[1]] == [
        True,
        True,
    ]
    assert b"hx-get" in seen[0]
    done = client.get(page, headers={"HX-Request": "true"})
    assert done["HX-Refresh"] == "true" and b"Ready: 5 rows" in done.content
    assert cache.get(f"export-job:{job.pk}:rows") is None
    exports_page = client.get(reverse("audit:exports")).content.decode()
    assert "Your XLSX files" in exports_page and page in exports_page


def test_a_failed_job_shows_its_error_and_keeps_no_file(
    client: Client, monitor: User, store: Path, monkeypatch, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(monitor)
    job = _ask(client, django_capture_on_commit_callbacks, reverse("audit:screening_log", args=["xlsx"]))

    def broken(*args: Any, **kwargs: Any) -> int:
        raise OSError("No space left on device")

    monkeypatch.setattr(jobs, "write_xlsx", broken)
    assert write_export.apply(args=[job.pk]).get() == JobStatus.FAILED
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "No space left on device" in job.error and job.finished_at
    page = client.get(reverse("audit:export_job", args=[job.pk]))
    assert b"could not be written" in page.content and b"No space left on device" in page.content
    assert b"export-download" not in page.content
    assert client.get(reverse("audit:export_job_download", args=[job.pk])).status_code == 404
    assert not store.exists() or not any(store.iterdir())


def test_a_participant_gone_from_view_fails_the_job_in_words(
    client: Client,
    monitor: User,
    site_a: Site,
    coordinator_a: User,
    store: Path,
    django_capture_on_commit_callbacks,
) -> None:  # type: ignore[no-untyped-def]
    p = ParticipantFactory(site=site_a, created_by=coordinator_a)
    client.force_login(monitor)
    url = reverse("audit:audit_trail", args=["xlsx"]) + f"?screening_number={p.screening_number}"
    assert p.screening_number.encode() in client.get(url).content  # the page names what is asked
    job = _ask(client, django_capture_on_commit_callbacks, url)
    assert job.filters == {"screening_number": p.screening_number, "start": "", "end": ""}
    # By the time the worker reads it, the number names no participant the requester may see.
    ExportJob.objects.filter(pk=job.pk).update(filters={"screening_number": "NOPE-1", "start": "", "end": ""})
    write_export.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.error.startswith(
        "No participant with that screening number"
    )


def test_the_task_is_idempotent(
    client: Client, monitor: User, store: Path, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(monitor)
    job = _ask(client, django_capture_on_commit_callbacks, reverse("audit:screening_log", args=["xlsx"]))
    write_export.apply(args=[job.pk])
    job.refresh_from_db()
    first = (job.file_name, job.finished_at)
    write_export.apply(args=[job.pk])  # the message delivered again
    job.refresh_from_db()
    assert (job.file_name, job.finished_at) == first and [f.name for f in store.iterdir()] == [job.file_name]


def test_the_file_is_for_its_requester_in_the_role_and_scope_they_asked_in(
    client: Client,
    monitor: User,
    make_user,
    site_a: Site,
    site_b: Site,
    store: Path,
    django_capture_on_commit_callbacks,
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(monitor)
    job = _ask(client, django_capture_on_commit_callbacks, reverse("audit:screening_log", args=["xlsx"]))
    write_export.apply(args=[job.pk])
    download = reverse("audit:export_job_download", args=[job.pk])
    response = client.get(download)
    assert response.status_code == 200
    assert openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    # Another monitor of the same site, an administrator: 404.
    for other in (make_user(Role.MONITOR, site_a, "monitor.same"), make_user(Role.ADMIN, None, "admin.jobs")):
        c = Client()
        c.force_login(other)
        assert c.get(download).status_code == 404
        assert c.get(reverse("audit:export_job", args=[job.pk])).status_code == 404
    # The requester in another of their memberships (a coordinator's role): 404.
    coordinator = Membership.objects.create(user=monitor, role=Role.COORDINATOR, site=site_a)
    switched = client.post(reverse("switch_role"), {"membership": coordinator.pk})
    assert switched.status_code == 302
    assert client.get(download).status_code == 404
    coordinator.delete()
    client.post(reverse("switch_role"), {"membership": monitor.memberships.get().pk})
    assert client.get(download).status_code == 200
    # The sites the requester may see changed since: 404 (the file holds another scope).
    Membership.objects.create(user=monitor, role=Role.MONITOR, site=site_b)
    assert client.get(download).status_code == 404
