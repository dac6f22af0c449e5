"""Escalations open from stored evaluations, reach a decision by quorum and reopen on new evidence."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import DatabaseError, transaction
from django.http import Http404
from django.utils import timezone

from adjudication import services
from adjudication.models import (
    Escalation,
    EscalationDecision,
    EscalationState,
    Review,
    ReviewAction,
    Signature,
)
from adjudication.selectors import eac_queue
from participants import services as records
from participants.models import ScreeningStatus
from screening.evaluation import case_adjudications, evaluate_participant
from screening.models import Trigger

from ..conftest import PASSWORD, signing_code

pytestmark = pytest.mark.django_db

NO_BIOPSY_DIGEST = "d266d13485772fc843e8d44757e2f9e7a432c2b7d017559449f1a00cfade10d2"


def approve(user, escalation, capture, action=ReviewAction.APPROVE):  # type: ignore[no-untyped-def]
    services.claim(user, escalation.pk)
    with capture(execute=True):
        return services.sign_review(
            user, escalation.pk, action=action, rationale="Exception justified.", password=PASSWORD,
            code=signing_code(user),
        )


def test_review_by_eac_opens_one_escalation_with_its_evidence(enter, reviewer_b) -> None:
    participant = enter("sle-ln-no-biopsy.json")
    assert participant.screening_state.status == ScreeningStatus.PENDING_REVIEW
    (e,) = Escalation.objects.filter(participant=participant)
    assert (e.criterion_id, e.review_by, e.state) == ("sle.ln_biopsy", "eac", EscalationState.OPEN)
    assert e.evidence_digest == NO_BIOPSY_DIGEST
    assert e.evidence == [{"evidence": [], "review_key": "sle.ln_biopsy/no_recent_biopsy"}]
    assert "biopsy" in e.criterion_quote.lower()
    # reviewers of other sites are told; the reviewer of site B has an address
    assert any("sle.ln_biopsy" in m.subject and reviewer_b.email in m.to for m in mail.outbox)


def test_evaluating_again_on_the_same_evidence_does_not_duplicate(
    enter, django_capture_on_commit_callbacks
) -> None:
    participant = enter("sle-ln-no-biopsy.json")
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            evaluate_participant(participant.pk, trigger=Trigger.MANUAL)
    assert Escalation.objects.filter(participant=participant).count() == 1
    assert Escalation.objects.get(participant=participant).round == 1


def test_review_by_investigator_opens_a_site_sign_off(enter, investigator_a) -> None:
    participant = enter("sle-postmenopausal-after-cyclophosphamide.json")
    (e,) = Escalation.objects.filter(participant=participant)
    assert (e.criterion_id, e.review_by) == ("inc.childbearing_status", "investigator")
    assert services.quorum_for(e) == 1


def test_no_escalation_while_another_criterion_fails(
    enter, coordinator_a, django_capture_on_commit_callbacks
) -> None:
    participant = enter("sle-ln-no-biopsy.json")
    e = Escalation.objects.get(participant=participant)
    # ANC below 1000/µL: the participant now fails inc.heme.anc
    with django_capture_on_commit_callbacks(execute=True):
        records.record_lab(
            coordinator_a,
            participant,
            test="anc",
            value=Decimal("0.5"),
            unit="10^9/L",
            uln=None,
            specimen="",
            collected=timezone.localdate(),
        )
        evaluate_participant(participant.pk, trigger=Trigger.DATA_CHANGE)
    e.refresh_from_db()
    assert e.state == EscalationState.WITHDRAWN
    assert "inc.heme.anc" in e.state_note


def test_no_escalation_is_opened_for_a_failing_participant(enter, coordinator_a, site_a) -> None:
    from adjudication.demo import CASES_DIR, load_case_file, shift_case

    case = shift_case(load_case_file(CASES_DIR / "sle-ln-no-biopsy.json"))
    for lab in case["labs"]:
        if lab["test"] == "anc":
            lab["value"] = Decimal("0.5")
    from participants.case_import import import_case

    participant = import_case(coordinator_a, site_a, case)
    evaluation = evaluate_participant(participant.pk, trigger=Trigger.MANUAL)
    assert evaluation is not None
    services.sync_escalations(evaluation)
    assert evaluation.overall == "INELIGIBLE"
    assert not Escalation.objects.filter(participant=participant).exists()


def test_quorum_of_two_distinct_reviewers_accepts_and_re_evaluates(
    enter, reviewer_b, reviewer_c, django_capture_on_commit_callbacks, settings
) -> None:
    settings.EAC_QUORUM = 2
    participant = enter("sle-ln-no-biopsy.json")
    e = Escalation.objects.get(participant=participant)
    first = approve(reviewer_b, e, django_capture_on_commit_callbacks)
    assert first.decision is None
    e.refresh_from_db()
    assert e.state == EscalationState.OPEN and e.claimed_by is None
    # the same reviewer cannot vote twice
    with pytest.raises(services.AdjudicationError):
        services.claim(reviewer_b, e.pk)
    mail.outbox.clear()
    second = approve(reviewer_c, e, django_capture_on_commit_callbacks)
    assert second.decision is not None
    e.refresh_from_db()
    assert e.state == EscalationState.DECIDED
    assert case_adjudications(participant) == [
        {
            "criterion": "sle.ln_biopsy",
            "review_by": "eac",
            "decision": "accept",
            "date": timezone.localdate().isoformat(),
            "evidence_digest": NO_BIOPSY_DIGEST,
        }
    ]
    participant.refresh_from_db()
    assert participant.screening_state.status == ScreeningStatus.ELIGIBLE
    latest = participant.evaluations.latest()
    assert latest.trigger == Trigger.DECISION
    result = latest.results.get(criterion_id="sle.ln_biopsy")
    assert result.outcome == "PASS" and "EAC accepted" in result.reason
    assert any("accepted" in m.subject for m in mail.outbox)
    # the signatures record name, time, meaning and the digest signed
    signatures = list(Signature.objects.filter(review__escalation=e))
    assert [s.signer_name for s in signatures] == [reviewer_b.display_name(), reviewer_c.display_name()]
    assert signatures[0].meaning == (
        f"I approve an exception to criterion sle.ln_biopsy for participant {participant.screening_number}"
    )
    assert {s.evidence_digest for s in signatures} == {NO_BIOPSY_DIGEST}


def test_disagreeing_reviewers_do_not_decide(
    enter, reviewer_b, reviewer_c, django_capture_on_commit_callbacks
) -> None:
    participant = enter("sle-ln-no-biopsy.json")
    e = Escalation.objects.get(participant=participant)
    approve(reviewer_b, e, django_capture_on_commit_callbacks)
    outcome = approve(reviewer_c, e, django_capture_on_commit_callbacks, action=ReviewAction.REJECT)
    assert outcome.decision is None
    assert not EscalationDecision.objects.exists()


def test_quorum_setting_of_one_rejects_at_once(
    enter, reviewer_b, django_capture_on_commit_callbacks, settings
) -> None:
    settings.EAC_QUORUM = 1
    participant = enter("sle-ln-no-biopsy.json")
    e = Escalation.objects.get(participant=participant)
    approve(reviewer_b, e, django_capture_on_commit_callbacks, action=ReviewAction.REJECT)
    participant.refresh_from_db()
    assert participant.screening_state.status == ScreeningStatus.INELIGIBLE


def test_wrong_password_signs_nothing(enter, reviewer_b) -> None:
    participant = enter("sle-ln-no-biopsy.json")
    e = Escalation.objects.get(participant=participant)
    services.claim(reviewer_b, e.pk)
    with pytest.raises(services.SignatureRefused):
        services.sign_review(
            reviewer_b, e.pk, action=ReviewAction.APPROVE, rationale="ok", password="not-my-password",
            code=signing_code(reviewer_b),
        )
    assert not Review.objects.exists() and not Signature.objects.exists()
    e.refresh_from_db()
    assert e.claimed_by == reviewer_b  # still held: the reviewer may try again


def test_reviewer_of_the_participants_site_gets_404(enter, reviewer_a) -> None:
    participant = enter("sle-ln-no-biopsy.json")
    e = Escalation.objects.get(participant=participant)
    assert not eac_queue(reviewer_a).exists()
    with pytest.raises(Http404):
        services.claim(reviewer_a, e.pk)
    with pytest.raises(Http404):
        services.request_information(reviewer_a, e.pk, rationale="?")


def test_signatures_and_reviews_are_immutable(enter, reviewer_b, django_capture_on_commit_callbacks) -> None:
    participant = enter("sle-ln-no-biopsy.json")
    e = Escalation.objects.get(participant=participant)
    approve(reviewer_b, e, django_capture_on_commit_callbacks)
    signature = Signature.objects.get()
    for statement in (
        lambda: Signature.objects.filter(pk=signature.pk).update(meaning="something else"),
        lambda: Signature.objects.filter(pk=signature.pk).delete(),
        lambda: Review.objects.filter(pk=signature.review_id).update(rationale="changed"),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            statement()
    assert Signature.objects.get().meaning.startswith("I approve")


def test_decision_no_longer_applies_when_the_evidence_changes(
    enter, coordinator_a, reviewer_b, reviewer_c, django_capture_on_commit_callbacks
) -> None:
    participant = enter("sle-ln-no-biopsy.json")
    e = Escalation.objects.get(participant=participant)
    approve(reviewer_b, e, django_capture_on_commit_callbacks)
    approve(reviewer_c, e, django_capture_on_commit_callbacks)
    participant.refresh_from_db()
    assert participant.screening_state.status == ScreeningStatus.ELIGIBLE
    # an older biopsy now on record (class IV + V, more than 6 months ago): the evidence changes
    biopsy_date = timezone.localdate() - timedelta(days=270)
    with django_capture_on_commit_callbacks(execute=True):
        records.record_event(
            coordinator_a,
            participant,
            kind="kidney_biopsy",
            date=biopsy_date,
            details={
                "isn_rps_classes": ["IV", "V"],
                "nih_activity_index": 6,
                "glomerular_sclerosis": 1,
                "fibrous_crescents": 0,
                "tubular_atrophy": 1,
                "interstitial_fibrosis": 1,
            },
        )
        evaluate_participant(participant.pk, trigger=Trigger.DATA_CHANGE)
    participant.refresh_from_db()
    assert participant.screening_state.status == ScreeningStatus.PENDING_REVIEW
    e.refresh_from_db()
    assert e.state == EscalationState.OPEN and e.round == 2
    assert e.previous_digest == NO_BIOPSY_DIGEST and e.evidence_digest != NO_BIOPSY_DIGEST
    assert e.previous_evidence == [{"evidence": [], "review_key": "sle.ln_biopsy/no_recent_biopsy"}]
    assert e.evidence[0]["evidence"][0]["path"] == "events.kidney_biopsy"
    result = participant.evaluations.latest().results.get(criterion_id="sle.ln_biopsy")
    assert "no longer applies" in result.reason
    # round 2 needs new votes: reviewer B may sign again
    services.claim(reviewer_b, e.pk)


def test_request_for_information_goes_to_the_site_and_data_answers_it(
    enter, coordinator_a, reviewer_b, django_capture_on_commit_callbacks
) -> None:
    participant = enter("sle-ln-no-biopsy.json")
    e = Escalation.objects.get(participant=participant)
    services.claim(reviewer_b, e.pk)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.request_information(reviewer_b, e.pk, rationale="Is a biopsy planned?")
    e.refresh_from_db()
    assert e.state == EscalationState.INFO_REQUESTED
    assert [m.to for m in mail.outbox] == [[coordinator_a.email]]
    assert "Is a biopsy planned?" in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        records.record_assessment(
            coordinator_a,
            participant,
            key="inv_adherence_risk",
            value=False,
            reason="confirmed with the participant",
        )
        evaluate_participant(participant.pk, trigger=Trigger.DATA_CHANGE)
    e.refresh_from_db()
    assert e.state == EscalationState.OPEN
