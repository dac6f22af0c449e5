"""POST /api/fhir/ (a lab file staged for review, with the API tokens) and the Idempotency-Key of
POST /api/labs/ (a resend returns the first answer and stores nothing)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from api.models import IdempotentRequest
from labimport.models import BatchOrigin, ImportBatch, ImportedRow, Review
from labimport.services import record_hospital_identifier
from participants.models import LabResult, Participant, Role, User
from tests.labimport.helpers import LABS, MRN_SYSTEM

from .test_api_labs import post, row, token_for

pytestmark = pytest.mark.django_db
URL = "/api/fhir/"


def send(client: Client, body: bytes, token: str | None, query: str = "") -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post(URL + query, data=body, content_type="application/fhir+json", **headers)


def test_a_token_stages_a_file_for_review(
    client: Client, coordinator_a: User, participant_a: Participant
) -> None:
    record_hospital_identifier(coordinator_a, participant_a, system=MRN_SYSTEM, value="H-204518")
    token = token_for(coordinator_a)
    response = send(client, (LABS / "oru-r01.hl7").read_bytes(), token)
    assert response.status_code == 201, response.content
    answer = response.json()
    batch = ImportBatch.objects.get(pk=answer["batch"])
    assert (
        batch.origin == BatchOrigin.API
        and batch.site == participant_a.site
        and answer["format"] == batch.format
    )
    assert sum(answer["actions"].values()) == answer["rows"] == batch.rows.count()
    assert batch.rows.filter(review=Review.PENDING).exists() and not LabResult.objects.exists()


def test_a_resent_file_stages_nothing_new(client: Client, coordinator_a: User, site_a: Any) -> None:
    token = token_for(coordinator_a)
    body = (LABS / "observations.ndjson").read_bytes()
    first = send(client, body, token, "?site=A01").json()
    imported = ImportedRow.objects.count()
    again = send(client, body, token, "?site=A01").json()
    assert ImportedRow.objects.count() == imported and set(again["actions"]) == {"skip"}
    assert first["batch"] != again["batch"]


@pytest.mark.parametrize(
    "body", [b"{not json", b'{"resourceType": "Bundle", "type": "nonsense"}', b"\xff\xfe\x00"]
)
def test_bad_input_is_refused_with_a_message(client: Client, coordinator_a: User, body: bytes) -> None:
    response = send(client, body, token_for(coordinator_a))
    assert response.status_code == 422 and response.json()["error"].startswith("The file was refused")


def test_who_may_send(client: Client, coordinator_a: User, make_user: Any, site_a: Any, site_b: Any) -> None:
    body = (LABS / "oru-r01.hl7").read_bytes()
    assert send(client, body, None).status_code == 401
    assert send(client, body, "allo_wrong").status_code == 401
    assert send(client, body, token_for(coordinator_a), "?site=B02").status_code == 400
    investigator = make_user(Role.INVESTIGATOR, site_a, "inv.a")
    assert send(client, body, token_for(investigator)).status_code == 403
    assert not ImportBatch.objects.exists()


def test_idempotency_key_returns_the_first_answer(
    client: Client, coordinator_a: User, participant_a: Participant
) -> None:
    token = token_for(coordinator_a)
    body = json.dumps({"rows": [row(participant_a)]})
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_IDEMPOTENCY_KEY": "lab-batch-1"}
    first = client.post("/api/labs/", data=body, content_type="application/json", **headers)
    again = client.post("/api/labs/", data=body, content_type="application/json", **headers)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert LabResult.objects.count() == 1 and IdempotentRequest.objects.count() == 1
    other = json.dumps({"rows": [row(participant_a, value=2200)]})
    reused = client.post("/api/labs/", data=other, content_type="application/json", **headers)
    assert reused.status_code == 422 and LabResult.objects.count() == 1
    without_key = post(client, json.loads(body), token)
    assert without_key.status_code == 201 and LabResult.objects.count() == 2


def test_a_refused_answer_is_also_kept(
    client: Client, coordinator_a: User, participant_a: Participant
) -> None:
    token = token_for(coordinator_a)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_IDEMPOTENCY_KEY": "k"}
    body = json.dumps({"rows": [row(participant_a, unit="furlongs")]})
    first = client.post("/api/labs/", data=body, content_type="application/json", **headers)
    again = client.post("/api/labs/", data=body, content_type="application/json", **headers)
    assert first.status_code == again.status_code == 400 and first.json() == again.json()
    assert not LabResult.objects.exists()
