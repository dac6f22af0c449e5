"""A signature lands only on the evidence its signer was shown; a decision is not the site's answer
to another item's information request; long signer names; the vote count as reviewers read it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from adjudication import services
from adjudication.models import Escalation, EscalationDecision, EscalationState, Review, Signature
from participants import services as records
from participants.models import Role, Site
from screening.evaluation import evaluate_participant
from screening.models import Trigger

from ..conftest import PASSWORD, signing_code

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_a_signature_on_evidence_replaced_since_the_page_was_opened_is_refused(
    enter, investigator_a, coordinator_a, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    participant = enter("sle-postmenopausal-after-cyclophosphamide.json")
    e = Escalation.objects.get(participant=participant)
    client = client_for(investigator_a)
    page = client.get(reverse("adjudication:review", args=[e.pk])).text
    shown = e.evidence_digest
    assert f'name="evidence_digest" value="{shown}"' in page
    participant.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        records.update_participant(
            coordinator_a, participant, reason="typo", birth_date=participant.birth_date - timedelta(days=400)
        )
        evaluate_participant(participant.pk, trigger=Trigger.DATA_CHANGE)
    e.refresh_from_db()
    assert e.round == 2 and e.evidence_digest != shown
    sign = {
        "action": "approve",
        "rationale": "FSH confirms",
        "password": PASSWORD,
        "code": signing_code(investigator_a),
        "evidence_digest": shown,
    }
    response = client.post(reverse("adjudication:sign", args=[e.pk]), sign)
    assert response.status_code == 400
    assert "The evidence changed since this page was opened (now round 2)" in response.text
    assert not Review.objects.exists() and not Signature.objects.exists()
    # The page now carries the new evidence; signing it works.
    assert f'name="evidence_digest" value="{e.evidence_digest}"' in response.text
    sign["evidence_digest"] = e.evidence_digest
    sign["code"] = signing_code(investigator_a)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("adjudication:sign", args=[e.pk]), sign).status_code == 302
    assert EscalationDecision.objects.get().evidence_digest == e.evidence_digest
    with pytest.raises(services.EvidenceChanged):
        services.request_information(investigator_a, e.pk, rationale="?", expected_digest=shown)


def test_a_decision_does_not_answer_another_items_information_request(
    enter, investigator_a, coordinator_a, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    participant = enter("sle-unlisted-agent.json")
    washout = Escalation.objects.get(participant=participant, criterion_id="exc.washout")
    refractory = Escalation.objects.get(participant=participant, criterion_id="sle.refractory")
    with django_capture_on_commit_callbacks(execute=True):
        services.request_information(investigator_a, washout.pk, rationale="When was the last dose?")
        services.sign_review(
            investigator_a, refractory.pk, action="approve", rationale="standard of care", password=PASSWORD,
            code=signing_code(investigator_a),
        )
    washout.refresh_from_db()
    assert washout.state == EscalationState.INFO_REQUESTED, washout.state_note
    # The site's own change is the answer.
    with django_capture_on_commit_callbacks(execute=True):
        records.record_assessment(
            coordinator_a,
            participant,
            key="inv_able_to_stop_or_taper_prior_therapies",
            value=True,
            reason="asked again",
        )
        evaluate_participant(participant.pk, trigger=Trigger.DATA_CHANGE)
    washout.refresh_from_db()
    assert washout.state == EscalationState.OPEN
    assert washout.state_note == "The site updated the participant's data."


def test_a_signer_with_long_names_signs(enter, reviewer_b) -> None:  # type: ignore[no-untyped-def]
    e = Escalation.objects.get(participant=enter("sle-ln-no-biopsy.json"))
    reviewer_b.full_name, reviewer_b.first_name, reviewer_b.last_name = "", "A" * 150, "B" * 150
    reviewer_b.save()
    services.claim(reviewer_b, e.pk)
    services.sign_review(
        reviewer_b, e.pk, action="approve", rationale="ok", password=PASSWORD, code=signing_code(reviewer_b)
    )
    assert Signature.objects.get().signer_name == "A" * 150 + " " + "B" * 150


def test_the_review_page_counts_approvals_and_rejections_apart(
    enter, reviewer_b, reviewer_c, make_user, settings
) -> None:  # type: ignore[no-untyped-def]

    settings.EAC_QUORUM = 2
    e = Escalation.objects.get(participant=enter("sle-ln-no-biopsy.json"))
    for user, action in ((reviewer_b, "approve"), (reviewer_c, "reject")):
        services.claim(user, e.pk)
        services.sign_review(
            user, e.pk, action=action, rationale="x", password=PASSWORD, code=signing_code(user)
        )
    third = make_user(Role.EAC_REVIEWER, Site.objects.create(code="D04", name="Site D"), "eac.d")
    page = client_for(third).get(reverse("adjudication:review", args=[e.pk])).text
    assert "1 approve, 1 reject</strong>. A decision needs 2 agreeing." in page
