"""The EAC pages: queue, review, signing through the browser form, site views and the EAC log."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from adjudication import services
from adjudication.models import Escalation, Review, ReviewAction, Signature
from participants.models import Role

from ..conftest import PASSWORD, signing_code

pytestmark = pytest.mark.django_db


def login(client, user) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user)


@pytest.fixture
def escalation(enter) -> Escalation:  # type: ignore[no-untyped-def]
    participant = enter("sle-ln-no-biopsy.json")
    return Escalation.objects.get(participant=participant)


def test_every_adjudication_url_is_404_for_a_reviewer_of_the_participants_site(
    client, escalation, reviewer_a
) -> None:
    login(client, reviewer_a)
    pk = escalation.pk
    gets = [
        reverse("adjudication:review", args=[pk]),
        reverse("adjudication:participant_escalations", args=[escalation.participant_id]),
    ]
    posts = [
        reverse(name, args=[pk])
        for name in (
            "adjudication:claim",
            "adjudication:release",
            "adjudication:sign",
            "adjudication:request_information",
        )
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    for url in posts:
        data = {"action": "approve", "rationale": "x", "password": PASSWORD}
        assert client.post(url, data).status_code == 404, url
    assert escalation.participant.screening_number not in client.get(reverse("adjudication:queue")).text
    assert not Review.objects.exists()


def test_queue_lists_items_of_other_sites_oldest_first_with_constant_queries(
    client, enter, reviewer_b, coordinator_a, site_a
) -> None:
    login(client, reviewer_b)
    enter("sle-ln-no-biopsy.json")
    client.get(reverse("adjudication:queue"))  # warm the session
    with CaptureQueriesContext(connection) as one:
        response = client.get(reverse("adjudication:queue"))
    assert response.text.count('data-testid="queue-row"') == 1
    for name in ("ssc-crp-only.json", "ssc-lung-borderline.json", "ssc-early-progression.json"):
        enter(name)
    with CaptureQueriesContext(connection) as four:
        response = client.get(reverse("adjudication:queue"))
    assert response.text.count('data-testid="queue-row"') == 4
    assert len(four) == len(one)
    numbers = [e.participant.screening_number for e in Escalation.objects.order_by("opened_at")]
    positions = [response.text.index(n) for n in numbers]
    assert positions == sorted(positions)
    # filters
    filtered = client.get(reverse("adjudication:queue"), {"criterion": "ssc.activity", "cohort": "SSc"})
    assert filtered.text.count('data-testid="queue-row"') == 2
    by_site = client.get(reverse("adjudication:queue"), {"site": "A01", "criterion": "exc.lung_function"})
    assert by_site.text.count('data-testid="queue-row"') == 1


def test_queue_pages_its_items_oldest_first_with_the_total(client, enter, reviewer_b, monkeypatch) -> None:
    monkeypatch.setattr("adjudication.views.QUEUE_PAGE_SIZE", 2)
    login(client, reviewer_b)
    for name in ("ssc-crp-only.json", "ssc-lung-borderline.json", "ssc-early-progression.json"):
        enter(name)
    oldest_first = [e.participant.screening_number for e in Escalation.objects.order_by("opened_at", "pk")]
    assert len(oldest_first) == 3
    first = client.get(reverse("adjudication:queue"))
    second = client.get(reverse("adjudication:queue"), {"page": 2})
    assert "3 open items" in first.text and "Page 1 of 2" in first.text
    assert first.text.count('data-testid="queue-row"') == 2
    assert second.text.count('data-testid="queue-row"') == 1
    assert oldest_first[2] in second.text and oldest_first[2] not in first.text
    assert client.get(reverse("adjudication:queue"), {"page": "x"}).status_code == 200


def test_review_page_shows_criterion_evidence_and_history(client, escalation, reviewer_b) -> None:
    login(client, reviewer_b)
    assert "Claim this item" in client.get(reverse("adjudication:review", args=[escalation.pk])).text
    client.post(reverse("adjudication:claim", args=[escalation.pk]))
    response = client.get(reverse("adjudication:review", args=[escalation.pk]))
    assert response.status_code == 200
    text = response.text
    assert escalation.criterion_quote[:40] in text
    assert "sle.ln_biopsy/no_recent_biopsy" in text
    assert 'data-testid="evaluation-history"' in text
    assert "I approve an exception to criterion sle.ln_biopsy for participant" in text


def test_wrong_password_in_the_form_signs_nothing_and_is_a_failed_signature_not_a_failed_login(
    client, escalation, reviewer_b
) -> None:
    from axes.models import AccessAttempt

    from audit.models import SecurityEvent, SecurityEventKind

    login(client, reviewer_b)
    client.post(reverse("adjudication:claim", args=[escalation.pk]))
    response = client.post(
        reverse("adjudication:sign", args=[escalation.pk]),
        {"action": "approve", "rationale": "fine", "password": "wrong-password", "code": signing_code(reviewer_b)},
    )
    assert response.status_code == 400
    assert "Nothing was signed" in response.text
    assert not Signature.objects.exists()
    # A mistyped signing password never counts toward the login lockout; it is a security event.
    assert not AccessAttempt.objects.filter(username=reviewer_b.username).exists()
    failed = SecurityEvent.objects.get(kind=SecurityEventKind.SIGNATURE_FAILED)
    assert failed.user == reviewer_b and failed.role == "eac_reviewer" and failed.address == "127.0.0.1"
    ok = client.post(
        reverse("adjudication:sign", args=[escalation.pk]),
        {"action": "approve", "rationale": "fine", "password": PASSWORD, "code": signing_code(reviewer_b)},
    )
    assert ok.status_code == 302
    assert Signature.objects.get().signer == reviewer_b
    assert (
        SecurityEvent.objects.filter(kind=SecurityEventKind.SIGNATURE_VERIFIED, user=reviewer_b).count() == 1
    )


def test_site_sees_its_escalations_and_information_requests(
    client, escalation, reviewer_b, coordinator_a, coordinator_b
) -> None:
    services.claim(reviewer_b, escalation.pk)
    services.request_information(reviewer_b, escalation.pk, rationale="Is a biopsy planned?")
    url = reverse("adjudication:participant_escalations", args=[escalation.participant_id])
    login(client, coordinator_a)
    text = client.get(url).text
    assert 'data-testid="overall-status"' in text and "PENDING_REVIEW" in text
    assert "Is a biopsy planned?" in text
    login(client, coordinator_b)
    assert client.get(url).status_code == 404


def test_investigator_signs_off_with_quorum_one(
    client, enter, investigator_a, django_capture_on_commit_callbacks
) -> None:
    participant = enter("sle-postmenopausal-after-cyclophosphamide.json")
    e = Escalation.objects.get(participant=participant)
    login(client, investigator_a)
    assert participant.screening_number in client.get(reverse("adjudication:signoffs")).text
    page = client.get(reverse("adjudication:review", args=[e.pk])).text
    assert "I confirm criterion inc.childbearing_status for participant" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("adjudication:sign", args=[e.pk]),
            {
                "action": "approve",
                "rationale": "FSH in the menopausal range.",
                "password": PASSWORD,
                "code": signing_code(investigator_a),
            },
        )
    assert response.status_code == 302
    e.refresh_from_db()
    assert e.state == "decided"
    result = participant.evaluations.latest().results.get(criterion_id="inc.childbearing_status")
    assert result.outcome == "PASS" and "investigator accepted" in result.reason


def test_eac_log_export_csv_and_xlsx(client, escalation, reviewer_b, make_user) -> None:
    services.claim(reviewer_b, escalation.pk)
    services.sign_review(
        reviewer_b,
        escalation.pk,
        action=ReviewAction.APPROVE,
        rationale='=HYPERLINK("http://x")',
        password=PASSWORD,
        code=signing_code(reviewer_b),
    )
    monitor = make_user(Role.MONITOR, None, "monitor.x")
    login(client, monitor)
    response = client.get(reverse("adjudication:export_log", args=["csv"]))
    assert response.status_code == 200 and response.streaming
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    (row,) = rows
    assert row["criterion"] == "sle.ln_biopsy"
    assert row["review_action"] == "approve"
    assert row["rationale"] == '\'=HYPERLINK("http://x")'
    assert row["signature_name"] == reviewer_b.display_name()
    assert row["signature_meaning"].startswith("I approve an exception")
    assert row["signed_evidence_digest"] == escalation.evidence_digest
    assert row["protocol_version"] == escalation.latest_result.evaluation.protocol_version != ""

    response = client.get(reverse("adjudication:export_log", args=["xlsx"]))
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook["EAC log"]
    values = list(sheet.iter_rows(values_only=True))
    header, first = values[0], dict(zip(values[0], values[1], strict=True))
    assert "signature_meaning" in header
    assert first["rationale"] == '\'=HYPERLINK("http://x")'
    assert first["criterion"] == "sle.ln_biopsy"
    # reviewers and coordinators may not export
    login(client, reviewer_b)
    assert client.get(reverse("adjudication:export_log", args=["csv"])).status_code == 403


def test_a_replayed_signing_post_signs_nothing_more(client, escalation, reviewer_b) -> None:
    """The same signing POST sent again (a double click, a resent request) adds no signature."""
    login(client, reviewer_b)
    client.post(reverse("adjudication:claim", args=[escalation.pk]))
    form = {"action": "approve", "rationale": "fine", "password": PASSWORD, "code": signing_code(reviewer_b)}
    assert client.post(reverse("adjudication:sign", args=[escalation.pk]), form).status_code == 302
    replay = client.post(reverse("adjudication:sign", args=[escalation.pk]), form)
    assert replay.status_code == 400
    assert Signature.objects.filter(signer=reviewer_b).count() == 1
