"""The administrator's amendment pages: the impact report computed by its task with progress,
its downloads, release and activation; other roles are refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from participants.case_import import import_case
from participants.models import Participant, Role, Site, User
from screening import tasks
from screening.amendments import record_release
from screening.models import SiteApproval
from tests.audit.test_exports import read_csv

pytestmark = pytest.mark.django_db

AMENDMENT = "2025-11-14.3"
CASES = Path(__file__).resolve().parents[2] / ".." / "shared" / "cases"


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMIN, None, "admin.x")


@pytest.fixture
def run_tasks_here(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """The impact task runs at once; activation's batches are recorded."""
    batches: list[tuple[Any, ...]] = []
    monkeypatch.setattr(tasks.impact_report_task, "delay", lambda *a: tasks.impact_report_task(*a))
    monkeypatch.setattr(tasks.impact_chunk_task, "delay", lambda *a: tasks.impact_chunk_task(*a))
    monkeypatch.setattr(
        tasks.reevaluate_participants, "apply_async", lambda args, **kw: batches.append(tuple(args))
    )
    return batches


def test_impact_report_page_downloads_and_activation(
    client: Client,
    admin: User,
    coordinator_a: User,
    site_a: Site,
    run_tasks_here: list[tuple[Any, ...]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    case = json.loads((CASES / "sle-crcl-umol-low.json").read_text(encoding="utf-8"), parse_float=Decimal)
    participant = import_case(coordinator_a, site_a, case)
    client.force_login(admin)
    page = client.get(reverse("screening:amendments"))
    assert page.status_code == 200 and "2025-03-31.2" in page.content.decode()

    response = client.post(
        reverse("screening:release"),
        {"version": AMENDMENT, "title": "Amendment 3", "released_on": "2025-11-14"},
    )
    assert response.status_code == 302
    response = client.post(reverse("screening:start_impact"), {"version": AMENDMENT, "site": site_a.pk})
    assert response.status_code == 302
    url = response["Location"]
    html = client.get(url).content.decode()
    assert f"Impact of protocol {AMENDMENT} on site A01" in html
    assert participant.screening_number in html and "exc.major_surgery" in html
    assert client.get(url, HTTP_HX_REQUEST="true")["HX-Refresh"] == "true"
    report_id = url.rstrip("/").rsplit("/", 1)[1]
    rows = read_csv(client.get(reverse("screening:impact_download", args=[report_id, "participants", "csv"])))
    assert {r[1] for r in rows[1:]} == {participant.screening_number}
    xlsx = client.get(reverse("screening:impact_download", args=[report_id, "counts", "xlsx"]))
    assert xlsx.status_code == 200

    today = timezone.localdate().isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("screening:activate"), {"version": AMENDMENT, "site": site_a.pk, "approved_on": today}
        )
    assert response.status_code == 302
    assert SiteApproval.objects.get(
        site=site_a, protocol__version=AMENDMENT
    ).approved_on == date.fromisoformat(today)
    assert run_tasks_here == [([participant.pk], "protocol_amendment")]
    assert Participant.objects.get(pk=participant.pk).screening_state.reevaluation_requested_at is not None
    # A second activation of the same version is refused on the page.
    again = client.post(
        reverse("screening:activate"), {"version": AMENDMENT, "site": site_a.pk, "approved_on": today}
    )
    assert again.status_code == 200 and "already has an approval" in again.content.decode()


def test_only_administrators_reach_the_amendment_pages(client: Client, coordinator_a: User) -> None:
    client.force_login(coordinator_a)
    assert client.get(reverse("screening:amendments")).status_code == 403
    assert client.post(reverse("screening:start_impact"), {"version": AMENDMENT}).status_code == 403
    assert client.get(reverse("screening:impact", args=["x"])).status_code == 403


def test_the_django_admin_records_an_approval_through_the_service(
    client: Client,
    admin: User,
    participant_a: Participant,
    site_a: Site,
    run_tasks_here: list[tuple[Any, ...]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    admin.is_staff = admin.is_superuser = True
    admin.save()
    protocol = record_release(admin, version=AMENDMENT, title="Amendment 3", released_on=date(2025, 11, 14))
    client.force_login(admin)
    url = reverse("admin:screening_siteapproval_add")
    data = {"site": site_a.pk, "protocol": protocol.pk, "approved_on": timezone.localdate().isoformat()}
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, data).status_code == 302
    approval = SiteApproval.objects.get(site=site_a, protocol=protocol)
    assert approval.recorded_by == admin and approval.applied_at is not None
    assert run_tasks_here == [([participant_a.pk], "protocol_amendment")]
    again = client.post(url, data)
    assert again.status_code == 200 and "already has an approval" in again.content.decode()
    early = client.post(url, {**data, "approved_on": "2025-01-01"})
    assert early.status_code == 200 and "cannot precede" in early.content.decode()
