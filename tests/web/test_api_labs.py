"""POST /api/labs/: token and session authentication, site scope, roles, all-or-nothing validation."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from api.models import ApiToken, hash_token
from participants.models import LabResult, Participant, Role
from screening import tasks
from screening.criteria.vocabulary import IMPLAUSIBLE_BELOW
from screening.models import Trigger
from tests.factories import ParticipantFactory
from tests.tasks.keys import clear_reevaluation_keys

pytestmark = pytest.mark.django_db
URL = "/api/labs/"


def token_for(user) -> str:  # type: ignore[no-untyped-def]
    out = StringIO()
    call_command("create_api_token", user.username, "--name", "lab interface", stdout=out)
    return out.getvalue().strip()


def post(client: Client, body: Any, token: str | None = None):  # type: ignore[no-untyped-def]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", **headers)


def row(participant: Participant, **fields: Any) -> dict[str, Any]:
    base = {"screening_number": participant.screening_number, "test": "anc", "value": 2100, "unit": "/uL"}
    return base | {"collected": "2025-06-03"} | fields


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    clear_reevaluation_keys()
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(tasks.reevaluate_participant, "apply_async", lambda args, **kw: calls.append(args))
    monkeypatch.setattr(tasks.reevaluate_participants, "apply_async", lambda args, **kw: calls.append(args))
    return calls


def test_url_name() -> None:
    assert reverse("api:labs") == URL


def test_token_is_shown_once_and_only_its_hash_is_stored(coordinator_a) -> None:
    token = token_for(coordinator_a)
    stored = ApiToken.objects.get(user=coordinator_a)
    assert stored.token_hash == hash_token(token) and len(stored.token_hash) == 64
    assert token not in json.dumps(list(ApiToken.objects.values()), default=str)
    assert len(token) > 40 and stored.hint == token[:12]


def test_token_import_saves_every_row_and_requests_reevaluation(
    client: Client, coordinator_a, site_a, sent, django_capture_on_commit_callbacks
) -> None:
    p1, p2 = (ParticipantFactory(site=site_a, created_by=coordinator_a) for _ in range(2))
    rows = [
        row(p1),
        row(p1, test="hemoglobin", value=12.5, unit="g/dL"),
        row(p2, test="hbsag", value="negative", unit=None),
        row(p2, test="ck", value=1250, unit="U/L", uln=170),
    ]
    rows[2].pop("unit")
    token = token_for(coordinator_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, {"rows": rows}, token)
    assert response.status_code == 201, response.content
    assert response.json() == {"saved": 4, "participants": sorted([p1.screening_number, p2.screening_number])}
    hb = LabResult.objects.get(participant=p1, test="hemoglobin")
    assert str(hb.value_number.normalize()) == "12.5" and hb.entered_by == coordinator_a
    for p in (p1, p2):
        p.refresh_from_db()
        assert p.screening_state.reevaluation_requested_at is not None and p.data_version == 2
    # The participants of an import are queued together, as the sweep's batches, with its trigger.
    assert sent == [(sorted([p1.pk, p2.pk]), Trigger.IMPORT)]
    assert ApiToken.objects.get(user=coordinator_a).last_used_at is not None


def test_one_bad_row_saves_nothing_and_names_row_and_field(
    client: Client, coordinator_a, participant_a, sent, django_capture_on_commit_callbacks
) -> None:
    rows = [row(participant_a), row(participant_a), row(participant_a), row(participant_a, unit="mg/dL")]
    rows.append(row(participant_a, collected="2025-13-01"))
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, {"rows": rows}, token_for(coordinator_a))
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["rows/4/collected"]  # shape errors first: nothing reached the database
    rows.pop()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, {"rows": rows}, token_for(coordinator_a))
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["rows/3/unit"], errors
    assert "mg/dL" in errors["rows/3/unit"][0]
    assert not LabResult.objects.exists()
    assert Participant.objects.get(pk=participant_a.pk).data_version == 0
    assert sent == []


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"value": True}, "rows/0/value"),
        ({"test": "no_such_test"}, "rows/0/test"),
        ({"colour": "red"}, "rows/0/colour"),
        ({"uln": "high"}, "rows/0/uln"),
        ({"collected": "2999-01-01"}, "rows/0/collected"),
        ({"value": -5}, "rows/0/value"),
    ],
)
def test_field_errors(client: Client, coordinator_a, participant_a, fields, path) -> None:  # type: ignore[no-untyped-def]
    response = post(client, {"rows": [row(participant_a, **fields)]}, token_for(coordinator_a))
    assert response.status_code == 400
    assert path in response.json()["errors"], response.json()


def test_participant_of_another_site_is_not_found_and_nothing_saved(
    client: Client, coordinator_a, participant_a, participant_b
) -> None:
    response = post(client, {"rows": [row(participant_a), row(participant_b)]}, token_for(coordinator_a))
    assert response.status_code == 404
    assert list(response.json()["errors"]) == ["rows/1/screening_number"]
    assert not LabResult.objects.exists()


def test_roles_that_cannot_write_are_refused(client: Client, make_user, site_a, participant_a) -> None:
    for role, site in ((Role.MONITOR, site_a), (Role.MONITOR, None), (Role.EAC_REVIEWER, site_a)):
        user = make_user(role, site)
        assert post(client, {"rows": [row(participant_a)]}, token_for(user)).status_code == 403


def test_authentication_is_required(client: Client, coordinator_a, participant_a) -> None:
    body = {"rows": [row(participant_a)]}
    assert post(client, body).status_code == 401
    assert post(client, body, "allo_not-a-token").status_code == 401
    token = token_for(coordinator_a)
    ApiToken.objects.update(revoked_at=timezone.now())
    assert post(client, body, token).status_code == 401
    assert client.get(URL, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 405


def test_session_import_with_csrf(coordinator_a, participant_a) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator_a)
    body = {"rows": [row(participant_a)]}
    assert post(client, body).status_code == 403  # no CSRF token
    client.get(reverse("participants:list"))
    csrf = client.cookies["csrftoken"].value
    response = client.post(URL, data=json.dumps(body), content_type="application/json", HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 201, response.content


def test_bad_json(client: Client, coordinator_a) -> None:
    token = token_for(coordinator_a)
    assert post(client, "{not json", token).status_code == 400
    assert post(client, [1, 2], token).status_code == 400
    response = post(client, {"rows": []}, token)
    assert response.status_code == 400 and "rows" in response.json()["errors"]


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"screening_number": "S01\u00000001"}, "rows/0/screening_number"),
        ({"test": "crp", "value": 5, "unit": "mg\u0000/L", "uln": 5}, "rows/0/unit"),
        ({"test": "hbsag", "value": "nega\u0000tive", "unit": ""}, "rows/0/value"),
        ({"collected": "2025-06-03\u0000"}, "rows/0/collected"),
        ({"test": "anc\u001b"}, "rows/0/test"),
        ({"specimen": "urine\n"}, "rows/0/specimen"),
    ],
)
def test_control_characters_are_refused_not_a_server_error(  # type: ignore[no-untyped-def]
    client: Client, coordinator_a, participant_a, fields, path
) -> None:
    rows = [row(participant_a), row(participant_a, **fields)]
    response = post(client, {"rows": rows}, token_for(coordinator_a))
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert errors == {path.replace("/0/", "/1/"): ["Must not contain control characters."]}
    assert not LabResult.objects.exists()


def test_lone_surrogate_is_refused_not_a_server_error(client: Client, coordinator_a, participant_a) -> None:
    body = json.dumps({"rows": [row(participant_a, screening_number="S01-\ud800")]})
    response = post(client, body, token_for(coordinator_a))
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == {"rows/0/screening_number": ["Must be valid Unicode text."]}


@pytest.mark.parametrize("body", ["[" * 100_000 + "]" * 100_000, '{"rows": ' * 100_000 + "1" + "}" * 100_000])
def test_deeply_nested_body_is_bad_json(client: Client, coordinator_a, body: str) -> None:
    response = post(client, body, token_for(coordinator_a))
    assert response.status_code == 400
    assert response.json() == {"error": "The body must be JSON."}


@pytest.mark.parametrize(
    "collected",
    [
        "20250603",
        "2025-W23-2",
        "2025-W23",
        "2025-06-03T00:00",
        "2025-6-3",
        "２０２５-06-03",
        " 2025-06-03",
        "2025-02-30",
    ],
)
def test_collected_must_be_exactly_yyyy_mm_dd(
    client: Client, coordinator_a, participant_a, collected: str
) -> None:
    response = post(client, {"rows": [row(participant_a, collected=collected)]}, token_for(coordinator_a))
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == {"rows/0/collected": ["Must be a date, YYYY-MM-DD."]}
    assert not LabResult.objects.exists()


def test_body_must_be_utf8_application_json(client: Client, coordinator_a, participant_a) -> None:
    token = token_for(coordinator_a)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    text = json.dumps({"rows": [row(participant_a)]})
    refused = [
        (text, "text/plain"),
        (text, "application/x-www-form-urlencoded"),
        (text, "application/jsonp"),
        (text.encode("utf-16"), "application/json; charset=utf-16"),
        (text.encode("latin-1"), "application/json; charset=latin-1"),
    ]
    for data, content_type in refused:
        response = client.generic("POST", URL, data, content_type=content_type, **auth)
        assert response.status_code == 415, content_type
        assert response.json() == {"error": "Send the rows as application/json."}
    response = client.generic("POST", URL, text, **auth)  # no Content-Type at all
    assert response.status_code == 415
    # Labelled JSON but not UTF-8: not JSON.
    response = client.generic("POST", URL, text.encode("utf-16"), content_type="application/json", **auth)
    assert response.status_code == 400 and response.json() == {"error": "The body must be JSON."}
    assert not LabResult.objects.exists()
    for content_type in ("application/json; charset=utf-8", "Application/JSON; charset=UTF-8"):
        response = client.generic("POST", URL, text, content_type=content_type, **auth)
        assert response.status_code == 201, (content_type, response.content)
    assert LabResult.objects.count() == 2


def test_implausibly_low_count_needs_confirmed_low(client: Client, coordinator_a, participant_a) -> None:
    token = token_for(coordinator_a)
    low = row(participant_a, value=0.5, unit="/uL")
    response = post(client, {"rows": [row(participant_a), low]}, token)
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert list(errors) == ["rows/1/value"]
    assert "implausibly low" in errors["rows/1/value"][0]
    assert '"confirmed_low": true' in errors["rows/1/value"][0]
    assert not LabResult.objects.exists()
    response = post(client, {"rows": [row(participant_a, confirmed_low="yes")]}, token)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["rows/0/confirmed_low"]
    response = post(client, {"rows": [low | {"confirmed_low": False}]}, token)
    assert list(response.json()["errors"]) == ["rows/0/value"]
    response = post(
        client, {"rows": [row(participant_a, confirmed_low=False), low | {"confirmed_low": True}]}, token
    )
    assert response.status_code == 201, response.content
    saved = LabResult.objects.get(value_number=0.5)
    assert saved.test == "anc" and saved.unit == "/uL"


@pytest.mark.parametrize("test", sorted(IMPLAUSIBLE_BELOW))
def test_implausible_threshold_is_the_form_s_in_the_canonical_unit(
    client: Client, coordinator_a, participant_a, test: str
) -> None:
    token = token_for(coordinator_a)
    floor = IMPLAUSIBLE_BELOW[test]
    # Below the floor per µL, and the same count in thousands per µL (converted before comparing).
    below = floor - 1
    for value, unit in ((below, "/uL"), (below / 1000, "10^9/L"), (below / 1000, "K/uL")):
        response = post(
            client, {"rows": [row(participant_a, test=test, value=float(value), unit=unit)]}, token
        )
        assert response.status_code == 400, (value, unit)
        assert list(response.json()["errors"]) == ["rows/0/value"]
    for value, unit in ((floor, "/uL"), (floor / 1000, "10^3/uL")):
        response = post(
            client, {"rows": [row(participant_a, test=test, value=float(value), unit=unit)]}, token
        )
        assert response.status_code == 201, (value, unit, response.content)


def test_admin_lists_and_revokes_tokens_without_showing_them(
    client: Client, coordinator_a, participant_a
) -> None:
    from participants.models import User

    token = token_for(coordinator_a)
    admin_user = User.objects.create_superuser("root.admin", "root@example.org", "unused-password-123")
    client.force_login(admin_user)
    listing = client.get(reverse("admin:api_apitoken_changelist"))
    assert listing.status_code == 200 and token not in listing.content.decode()
    stored = ApiToken.objects.get(user=coordinator_a)
    client.post(
        reverse("admin:api_apitoken_changelist"), {"action": "revoke", "_selected_action": [stored.pk]}
    )
    client.logout()
    assert post(client, {"rows": [row(participant_a)]}, token).status_code == 401


def test_a_number_too_large_to_convert_is_refused_not_a_server_error(
    client: Client, coordinator_a, participant_a
) -> None:
    body = json.dumps({"rows": [row(participant_a, value=0)]}).replace('"value": 0', '"value": 1e1000000')
    response = post(client, body, token_for(coordinator_a))
    assert response.status_code == 400
    assert not LabResult.objects.exists()


def test_the_api_and_the_form_reach_the_same_service(
    client: Client, client_a: Client, coordinator_a, participant_a, monkeypatch: pytest.MonkeyPatch
) -> None:
    from participants import services
    from tests.web.intake_helpers import RECENT, add_url

    # record_lab (the form) and import_labs (the API, in bulk) ask the same question of a low count.
    calls: list[tuple[str, bool]] = []
    check_plausible = services._check_plausible

    def spy(record, confirmed_low):  # type: ignore[no-untyped-def]
        calls.append((record.test, confirmed_low))
        return check_plausible(record, confirmed_low)

    monkeypatch.setattr(services, "_check_plausible", spy)
    low = {"test": "platelets", "value_number": "182", "unit": "/uL", "collected": RECENT}
    page = client_a.post(add_url(participant_a, "lab"), low).content.decode()
    assert "unusually low for this count" in page  # the service's question, worded for the form
    api = post(client, {"rows": [row(participant_a, test="platelets", value=182)]}, token_for(coordinator_a))
    assert '"confirmed_low": true' in api.json()["errors"]["rows/0/value"][0]  # ... and for the API
    assert client_a.post(add_url(participant_a, "lab"), low | {"value_checked": "on"}).status_code == 302
    api = post(
        client,
        {"rows": [row(participant_a, test="platelets", value=182, confirmed_low=True)]},
        token_for(coordinator_a),
    )
    assert api.status_code == 201
    assert calls == [("platelets", False), ("platelets", False), ("platelets", True), ("platelets", True)]
    assert LabResult.objects.count() == 2


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_refused_not_a_server_error(
    client: Client, coordinator_a, participant_a, number: str
) -> None:
    for name in ("value", "uln"):
        fields = {"test": "crp", "value": 5, "unit": "mg/L", "uln": 5}
        body = json.dumps({"rows": [row(participant_a, **fields)]}).replace(
            f'"{name}": 5', f'"{name}": {number}'
        )
        response = post(client, body, token_for(coordinator_a))
        assert response.status_code == 400, (name, response.content)
        assert f"rows/0/{name}" in response.json()["errors"]
    assert not LabResult.objects.exists()
