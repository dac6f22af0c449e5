"""POST /api/labs/ at scale: queries that do not grow with the rows, large batches as a worker's job
(202 with a status URL, idempotent, reached only by its sender), and the per-token rate limit (429)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from api import tasks as api_tasks
from api.jobs import run_job
from api.lab_import import row_is_valid, row_validator
from api.models import JobStatus, LabImportJob
from participants.models import LabResult, Participant, Role
from screening import tasks
from screening.models import Trigger
from tests.factories import ParticipantFactory
from tests.web.test_api_labs import post, row, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_messages(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Messages to the broker are recorded, not sent; the rate-limit counts start empty."""
    cache.clear()
    sent: list[Any] = []
    for task in (tasks.reevaluate_participant, tasks.reevaluate_participants, api_tasks.import_lab_job):
        monkeypatch.setattr(
            task,
            "apply_async",
            lambda args, kwargs=None, name=task.name, **kw: sent.append((name, tuple(args))),
        )
    return sent


def rows_for(people: list[Participant], size: int) -> list[dict[str, Any]]:
    first = date(2025, 5, 1)
    return [
        row(people[n % len(people)], value=1500 + n, collected=(first + timedelta(days=n % 30)).isoformat())
        for n in range(size)
    ]


def queries(client: Client, body: dict[str, Any], token: str, capture) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as captured, capture(execute=True):
        response = post(client, body, token)
    assert response.status_code == 201, response.content
    return len(captured.captured_queries)


def test_queries_do_not_grow_with_rows_or_participants(
    client: Client, coordinator_a, site_a, django_capture_on_commit_callbacks
) -> None:
    token = token_for(coordinator_a)
    one = [ParticipantFactory(site=site_a, created_by=coordinator_a)]
    many = [ParticipantFactory(site=site_a, created_by=coordinator_a) for _ in range(12)]
    few = queries(client, {"rows": rows_for(one, 1)}, token, django_capture_on_commit_callbacks)
    lots = queries(client, {"rows": rows_for(many, 120)}, token, django_capture_on_commit_callbacks)
    assert lots <= few, (few, lots)
    assert LabResult.objects.count() == 121


def test_a_refused_row_is_named_among_many_of_one_participant(
    client: Client, coordinator_a, participant_a
) -> None:
    """Each participant's rows are checked by the engine in one case; a refusal still names its row."""
    rows = [row(participant_a, collected="2025-06-03"), row(participant_a, collected="2025-05-01")]
    rows.append(row(participant_a, collected="2025-04-01", unit="mg/dL"))
    rows.append(row(participant_a, collected="2025-06-01"))
    response = post(client, {"rows": rows}, token_for(coordinator_a))
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["rows/2/unit"]
    assert not LabResult.objects.exists()


def test_a_large_batch_is_a_job_with_a_status_url(
    client: Client, coordinator_a, participant_a, settings, no_messages, django_capture_on_commit_callbacks
) -> None:
    settings.LAB_API_SYNC_MAX_ROWS = 3
    token = token_for(coordinator_a)
    body = {"rows": rows_for([participant_a], 5)}
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_IDEMPOTENCY_KEY": "batch-2025-06-03"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/labs/", json.dumps(body), content_type="application/json", **headers)
    assert response.status_code == 202, response.content
    job = LabImportJob.objects.get()
    answer = response.json()
    assert answer == {"job": job.pk, "status": "queued", "rows": 5, "status_url": f"/api/labs/jobs/{job.pk}/"}
    assert response["Location"] == answer["status_url"]
    assert no_messages == [("api.tasks.import_lab_job", (job.pk,))]  # queued after commit, by ID
    assert not LabResult.objects.exists()

    status = client.get(answer["status_url"], HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert status["status"] == "queued" and "result" not in status

    # The resend with the same key gets the same job; nothing more is queued.
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post("/api/labs/", json.dumps(body), content_type="application/json", **headers)
    assert again.status_code == 202 and again.json() == answer
    assert LabImportJob.objects.count() == 1 and len(no_messages) == 1

    # The worker imports it once, however often its message is delivered.
    with django_capture_on_commit_callbacks(execute=True):
        assert run_job(job.pk).status == JobStatus.DONE
        run_job(job.pk)
    assert LabResult.objects.filter(participant=participant_a).count() == 5
    status = client.get(answer["status_url"], HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert status["status"] == "done" and status["finished"]
    assert status["result"] == {"status": 201, "saved": 5, "participants": [participant_a.screening_number]}
    # The participant is queued for re-evaluation, as by a batch done during the request.
    assert no_messages[-1] == (
        "screening.tasks.reevaluate_participants",
        ([participant_a.pk], Trigger.IMPORT),
    )


def test_a_large_batch_is_checked_before_it_is_accepted(
    client: Client, coordinator_a, participant_a, settings
) -> None:
    settings.LAB_API_SYNC_MAX_ROWS = 3
    rows = rows_for([participant_a], 5)
    rows[4]["collected"] = "2025-13-01"
    response = post(client, {"rows": rows}, token_for(coordinator_a))
    assert response.status_code == 400 and list(response.json()["errors"]) == ["rows/4/collected"]
    assert not LabImportJob.objects.exists()


def test_a_job_refused_by_the_worker_saves_nothing_and_says_why(
    client: Client, coordinator_a, participant_a, settings, django_capture_on_commit_callbacks
) -> None:
    settings.LAB_API_SYNC_MAX_ROWS = 3
    rows = rows_for([participant_a], 5)
    rows[3]["unit"] = "mg/dL"  # the engine's unit check, done by the worker
    token = token_for(coordinator_a)
    response = post(client, {"rows": rows}, token)
    assert response.status_code == 202
    with django_capture_on_commit_callbacks(execute=True):
        run_job(response.json()["job"])
    result = client.get(response["Location"], HTTP_AUTHORIZATION=f"Bearer {token}").json()["result"]
    assert result["status"] == 400 and list(result["errors"]) == ["rows/3/unit"]
    assert not LabResult.objects.exists()


def test_a_job_is_reached_only_by_its_sender(
    client: Client, make_user, coordinator_a, coordinator_b, site_a, participant_a, settings
) -> None:
    settings.LAB_API_SYNC_MAX_ROWS = 1
    response = post(client, {"rows": rows_for([participant_a], 2)}, token_for(coordinator_a))
    url = response["Location"]
    colleague = make_user(Role.COORDINATOR, site_a)  # same site, another user
    for user in (coordinator_b, colleague):
        assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {token_for(user)}").status_code == 404
    assert client.get(url).status_code == 401
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {token_for(coordinator_a)}").status_code == 200
    assert client.post(url, HTTP_AUTHORIZATION=f"Bearer {token_for(coordinator_a)}").status_code == 405


def test_each_token_has_its_rate_limit(
    client: Client, coordinator_a, coordinator_b, participant_a, participant_b, settings
) -> None:
    settings.LAB_API_RATE = "2/m"
    token_a, token_b = token_for(coordinator_a), token_for(coordinator_b)
    for _ in range(2):
        assert post(client, {"rows": [row(participant_a)]}, token_a).status_code == 201
    limited = post(client, {"rows": [row(participant_a)]}, token_a)
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert "Retry in" in limited.json()["error"]
    assert LabResult.objects.filter(participant=participant_a).count() == 2
    assert post(client, {"rows": [row(participant_b)]}, token_b).status_code == 201  # another token
    assert post(client, {"rows": [row(participant_a)]}, "allo_wrong").status_code == 401  # who first


def test_without_the_cache_the_api_still_imports(
    client: Client, coordinator_a, participant_a, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.LAB_API_RATE = "1/m"

    def frozen(*args: object, **kwargs: object) -> None:
        raise TimeoutError("Redis does not answer")

    monkeypatch.setattr(cache, "add", frozen)
    for _ in range(2):
        assert post(client, {"rows": [row(participant_a)]}, token_for(coordinator_a)).status_code == 201


ROW = {"screening_number": "A01-0001", "test": "anc", "value": 2100, "unit": "/uL", "collected": "2025-06-03"}


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"value": "negative", "test": "hbsag", "unit": None},
        {"uln": 170, "test": "ck", "unit": "U/L"},
        {"confirmed_low": True},
        {"confirmed_low": "yes"},
        {"collected": "2025-13-01"},
        {"collected": "2025-6-3"},
        {"value": True},
        {"value": None},
        {"test": "no_such_test"},
        {"colour": "red"},
        {"screening_number": ""},
        {"screening_number": None},
        {"uln": "high"},
        {"specimen": 3},
    ],
)
def test_the_fast_row_check_never_accepts_what_json_schema_refuses(changes: dict[str, Any]) -> None:
    """Rows the compiled check calls valid skip jsonschema: it must agree with it."""
    sent = {k: v for k, v in (ROW | changes).items() if v is not None}
    if row_is_valid()(sent):
        assert not list(row_validator().iter_errors(sent)), sent
    assert row_is_valid()(ROW)
