"""How screening ends: who may enroll, record a screen failure or a withdrawal, and when; the
signed checklist; enrollment refused when a result has expired on the enrollment date; no
evaluation after an outcome; re-screening's cap and links."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import ProgrammingError, transaction
from django.utils import timezone

from adjudication.models import Escalation, EscalationState
from participants.case_import import import_case
from participants.models import Assessment, LabResult, OutcomeStatus, Participant, Role, Site, User
from participants.services import record_assessment, undated_history
from screening import outcomes
from screening.evaluation import evaluate_marked, evaluate_participant
from screening.impact import impact_report
from screening.models import Evaluation, FailureCategory, ScreeningOutcome, ScreeningState, Trigger
from screening.reevaluation import mark, mark_expired, mark_stale
from tests.conftest import PASSWORD, signing_code
from tests.factories import sign_current_consent

pytestmark = pytest.mark.django_db

CASES = Path(__file__).resolve().parents[2] / ".." / "shared" / "cases"
AS_OF = date(2025, 6, 16)  # the examples' evaluation date
ELIGIBLE_UNTIL = date(2025, 6, 26)  # sle-eligible's earliest expiring result


def _case(name: str) -> dict[str, Any]:
    return json.loads((CASES / f"{name}.json").read_text(encoding="utf-8"), parse_float=Decimal)  # type: ignore[no-any-return]


@pytest.fixture
def investigator_a(make_user: Callable[..., User], site_a: Site) -> User:
    return make_user(Role.INVESTIGATOR, site_a, "inv.a")


@pytest.fixture
def eligible(coordinator_a: User) -> Participant:
    participant = import_case(coordinator_a, coordinator_a.memberships.get().site, _case("sle-eligible"))
    sign_current_consent(participant, coordinator_a)
    evaluate_participant(participant.pk, trigger=Trigger.MANUAL, as_of=AS_OF)
    return participant


@pytest.fixture
def failing(coordinator_a: User, site_a: Site) -> Participant:
    participant = import_case(coordinator_a, site_a, _case("sle-anc-low"))
    evaluate_participant(participant.pk, trigger=Trigger.MANUAL, as_of=AS_OF)
    return participant


def _enroll(user: User, participant: Participant, on: date = AS_OF, **kw: Any) -> ScreeningOutcome:
    shown = outcomes.checklist_on(participant, on).digest
    return outcomes.enroll(
        user,
        participant.pk,
        password=kw.get("password", PASSWORD),
        code=kw.get("code") or signing_code(user),
        shown_digest=kw.get("shown", shown),
        on_date=on,
    )


def _state(participant: Participant) -> ScreeningState:
    return ScreeningState.objects.get(participant=participant)


# --- Enrollment -----------------------------------------------------------------------------------


def test_an_investigator_enrolls_by_signing_the_checklist_as_shown(
    eligible: Participant, investigator_a: User
) -> None:
    outcome = _enroll(investigator_a, eligible)
    assert outcome.kind == OutcomeStatus.ENROLLED and outcome.on_date == AS_OF
    state = _state(eligible)
    assert (state.outcome, state.outcome_on) == (OutcomeStatus.ENROLLED, AS_OF)
    # The enrollment date's own evaluation is stored and is what was signed.
    assert outcome.evaluation is not None and outcome.evaluation.trigger == Trigger.ENROLLMENT
    assert outcome.evaluation.as_of == AS_OF and outcome.evaluation.overall == "ELIGIBLE"
    # Stored exactly as shown: the JSON's digest, every criterion with outcome, reason and digest.
    assert hashlib.sha256(outcome.checklist_json.encode()).hexdigest() == outcome.checklist_digest
    signed = json.loads(outcome.checklist_json)
    assert signed["overall"] == "ELIGIBLE" and signed["on_date"] == AS_OF.isoformat()
    rows = {item["criterion"]: item for item in signed["items"]}
    assert len(rows) == outcome.evaluation.results.count()
    for result in outcome.evaluation.results.all():
        row = rows[result.criterion_id]
        assert (row["outcome"], row["reason"], row["evidence_digest"]) == (
            result.outcome,
            result.reason,
            result.evidence_digest,
        )
    assert rows["inc.heme.anc"]["outcome"] == "PASS"
    # The signature's manifestation: name, meaning, time, in the record and in the stored page.
    assert outcome.signer == investigator_a and outcome.signer_name == investigator_a.display_name()
    assert "meets every eligibility criterion" in outcome.signature_meaning and outcome.signed_at
    assert investigator_a.display_name() in outcome.checklist_html
    assert outcome.checklist_digest in outcome.checklist_html
    assert outcome.signature_meaning in outcome.checklist_html


def test_enrollment_is_refused_when_a_result_has_expired_on_the_enrollment_date(
    eligible: Participant, investigator_a: User
) -> None:
    """ELIGIBLE when evaluated, but a result stops holding before the enrollment date: the engine
    is run for that date and refuses; its evaluation is kept, nothing is signed."""
    later = ELIGIBLE_UNTIL + timedelta(days=1)
    with pytest.raises(outcomes.OutcomeRefused, match="Not eligible on 2025-06-27"):
        _enroll(investigator_a, eligible, on=later, shown="x" * 64)
    assert not ScreeningOutcome.objects.filter(participant=eligible).exists()
    assert _state(eligible).outcome == OutcomeStatus.IN_SCREENING
    refused = Evaluation.objects.filter(participant=eligible).latest()
    assert (refused.trigger, refused.as_of) == (Trigger.ENROLLMENT, later) and refused.overall != "ELIGIBLE"
    # The last day it holds, enrollment goes through.
    assert _enroll(investigator_a, eligible, on=ELIGIBLE_UNTIL).kind == OutcomeStatus.ENROLLED


def test_only_an_investigator_of_the_site_enrolls(
    eligible: Participant, coordinator_a: User, make_user: Callable[..., User], site_b: Site
) -> None:
    with pytest.raises(PermissionDenied):
        _enroll(coordinator_a, eligible, code="000000")
    other_site = make_user(Role.INVESTIGATOR, site_b, "inv.b")
    with pytest.raises(PermissionDenied):
        _enroll(other_site, eligible)
    monitor = make_user(Role.MONITOR, None, "mon")
    with pytest.raises(PermissionDenied):
        _enroll(monitor, eligible, code="000000")
    assert not ScreeningOutcome.objects.exists()


def test_a_wrong_password_or_a_changed_checklist_signs_nothing(
    eligible: Participant, investigator_a: User
) -> None:
    with pytest.raises(outcomes.SignatureRefused):
        _enroll(investigator_a, eligible, password="wrong")
    with pytest.raises(outcomes.ChecklistChanged):
        _enroll(investigator_a, eligible, shown="0" * 64)
    assert not ScreeningOutcome.objects.exists()


def test_an_investigator_without_a_second_factor_is_sent_to_set_it_up(
    eligible: Participant, make_user: Callable[..., User], site_a: Site
) -> None:
    newcomer = make_user(Role.INVESTIGATOR, site_a, "inv.new", second_factor=False)
    with pytest.raises(outcomes.SecondFactorRequired):
        _enroll(newcomer, eligible, code="000000")


def test_a_future_enrollment_date_is_blocked(eligible: Participant, investigator_a: User) -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert outcomes.enrollment_blocks(eligible, tomorrow) == [
        f"The enrollment date {tomorrow.isoformat()} is in the future."
    ]
    with pytest.raises(outcomes.OutcomeRefused, match="blocked"):
        _enroll(investigator_a, eligible, on=tomorrow, shown="x" * 64)


def test_an_enrollment_blocker_is_one_entry_of_the_list(
    eligible: Participant, investigator_a: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        outcomes, "ENROLLMENT_BLOCKERS", [*outcomes.ENROLLMENT_BLOCKERS, lambda p, d: "Re-consent needed."]
    )
    with pytest.raises(outcomes.OutcomeRefused, match="Re-consent needed."):
        _enroll(investigator_a, eligible)


# --- After an outcome -------------------------------------------------------------------------


def test_after_enrollment_the_participant_is_not_evaluated_and_a_change_is_flagged(
    eligible: Participant, investigator_a: User, coordinator_a: User
) -> None:
    outcome = _enroll(investigator_a, eligible)
    evaluations = Evaluation.objects.filter(participant=eligible).count()
    record_assessment(
        coordinator_a, eligible, key="history_pml", value=False, reason="re-confirmed with the patient"
    )
    assert Participant.objects.get(pk=eligible.pk).data_version > outcome.data_version
    assert ScreeningOutcome.objects.get(pk=outcome.pk).changed_after
    # Still recorded and audited, but not evaluated: the task, the batch and the sweep leave it.
    assert evaluate_participant(eligible.pk, trigger=Trigger.DATA_CHANGE, only_if_marked=True) is None
    assert evaluate_participant(eligible.pk, trigger=Trigger.MANUAL) is None
    mark(eligible.pk, timezone.now() - timedelta(days=2))
    assert evaluate_marked([eligible.pk], trigger=Trigger.SWEEP) == []
    assert _state(eligible).reevaluation_requested_at is None
    mark(eligible.pk, timezone.now() - timedelta(days=2))
    assert eligible.pk not in mark_stale(timezone.now())
    ScreeningState.objects.filter(participant=eligible).update(
        reevaluation_requested_at=None, status_valid_until=date(2025, 1, 1), evaluated_at=None
    )
    assert eligible.pk not in mark_expired(timezone.now())
    assert Evaluation.objects.filter(participant=eligible).count() == evaluations


def test_an_outcome_is_final_and_append_only(
    eligible: Participant, investigator_a: User, coordinator_a: User
) -> None:
    outcome = _enroll(investigator_a, eligible)
    with pytest.raises(outcomes.OutcomeRefused, match="already ended"):
        outcomes.record_withdrawal(coordinator_a, eligible.pk, reason="moved away", on_date=AS_OF)
    with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
        ScreeningOutcome.objects.filter(pk=outcome.pk).update(signer_name="someone else")


def test_an_outcome_withdraws_the_open_escalations(
    failing: Participant, coordinator_a: User, django_capture_on_commit_callbacks: Any
) -> None:
    evaluation = Evaluation.objects.filter(participant=failing).latest()
    result = evaluation.results.first()
    assert result is not None
    escalation = Escalation.objects.create(
        participant=failing,
        criterion_id=result.criterion_id,
        review_by="eac",
        evidence_digest="0" * 64,
        latest_result=result,
        opened_at=timezone.now(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        outcomes.record_withdrawal(
            coordinator_a, failing.pk, reason="consent withdrawn by phone", on_date=AS_OF
        )
    escalation.refresh_from_db()
    assert escalation.state == EscalationState.WITHDRAWN
    assert "Screening ended" in escalation.state_note


# --- Screen failure and withdrawal -------------------------------------------------------------


def test_criteria_not_met_records_the_failing_criteria(failing: Participant, coordinator_a: User) -> None:
    outcome = outcomes.record_screen_failure(
        coordinator_a,
        failing.pk,
        category=FailureCategory.CRITERIA_NOT_MET,
        reason="ANC too low",
        on_date=AS_OF,
    )
    assert outcome.failing_criteria == ["inc.heme.anc"]
    assert outcome.evaluation == Evaluation.objects.filter(participant=failing).latest()
    assert _state(failing).outcome == OutcomeStatus.SCREEN_FAILED


def test_criteria_not_met_needs_a_failing_criterion(eligible: Participant, coordinator_a: User) -> None:
    with pytest.raises(outcomes.OutcomeRefused, match="No criterion fails"):
        outcomes.record_screen_failure(
            coordinator_a, eligible.pk, category=FailureCategory.CRITERIA_NOT_MET, reason="x", on_date=AS_OF
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"category": "other", "reason": "x"}, "Describe the reason"),
        ({"category": "sponsor_decision", "reason": " "}, "reason for the change"),
        ({"category": "bogus", "reason": "x"}, "reason category"),
    ],
)
def test_a_screen_failure_needs_its_category_and_reason(
    eligible: Participant, coordinator_a: User, kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(outcomes.OutcomeRefused, match=message):
        outcomes.record_screen_failure(coordinator_a, eligible.pk, on_date=AS_OF, **kwargs)
    assert not ScreeningOutcome.objects.exists()


def test_who_records_a_screen_failure(
    eligible: Participant, investigator_a: User, make_user: Callable[..., User], site_a: Site, site_b: Site
) -> None:
    for user in (
        make_user(Role.MONITOR, site_a, "mon.a"),
        make_user(Role.EAC_REVIEWER, site_a, "eac.a"),
        make_user(Role.COORDINATOR, site_b, "coord.other"),
    ):
        with pytest.raises(PermissionDenied):
            outcomes.record_screen_failure(
                user, eligible.pk, category="lost_to_follow_up", reason="no answer", on_date=AS_OF
            )
    outcome = outcomes.record_screen_failure(
        investigator_a, eligible.pk, category="investigator_decision", reason="judgement", on_date=AS_OF
    )
    assert outcome.recorded_by == investigator_a


def test_an_outcome_date_is_not_in_the_future_nor_before_screening(
    eligible: Participant, coordinator_a: User
) -> None:
    with pytest.raises(outcomes.OutcomeRefused, match="future"):
        outcomes.record_withdrawal(
            coordinator_a, eligible.pk, reason="x", on_date=timezone.localdate() + timedelta(days=1)
        )
    with pytest.raises(outcomes.OutcomeRefused, match="before screening started"):
        outcomes.record_withdrawal(coordinator_a, eligible.pk, reason="x", on_date=date(2025, 1, 1))


# --- Re-screening ------------------------------------------------------------------------------


def test_a_screen_failed_participant_is_re_screened_as_a_linked_attempt(
    failing: Participant, coordinator_a: User
) -> None:
    with pytest.raises(outcomes.OutcomeRefused, match="Only a screen-failed"):
        outcomes.rescreen(coordinator_a, failing.pk)
    outcomes.record_screen_failure(
        coordinator_a, failing.pk, category="criteria_not_met", reason="ANC too low", on_date=AS_OF
    )
    undated = undated_history(failing)
    assert undated, "the example has undated history to offer"
    dated = Assessment.objects.filter(participant=failing, date__isnull=False).first()
    assert dated is not None
    with pytest.raises(ValidationError):
        outcomes.rescreen(coordinator_a, failing.pk, copy=[dated.pk])

    again = outcomes.rescreen(coordinator_a, failing.pk, copy=[undated[0].pk])
    assert again.screening_number == f"{failing.screening_number}-R1"
    assert (again.attempt, again.previous_attempt_id, again.site_id) == (1, failing.pk, failing.site_id)
    assert (again.cohort, again.sex, again.birth_date) == (failing.cohort, failing.sex, failing.birth_date)
    # Nothing dated carried over: no key dates, no labs; only the confirmed undated item.
    assert again.icf_signed is None and again.screening_start is None
    assert not LabResult.objects.filter(participant=again).exists()
    copied = list(Assessment.objects.filter(participant=again).values_list("key", "value", "date"))
    assert copied == [(undated[0].key, undated[0].value, None)]
    assert _state(again).outcome == OutcomeStatus.IN_SCREENING
    assert not Evaluation.objects.filter(participant=again).exists()

    # The protocol's cap (one re-screening): the second attempt's failure ends the candidate's story.
    with pytest.raises(outcomes.OutcomeRefused, match="already"):
        outcomes.rescreen(coordinator_a, failing.pk)
    outcomes.record_screen_failure(coordinator_a, again.pk, category="lost_to_follow_up", reason="x")
    with pytest.raises(outcomes.OutcomeRefused, match="allows 1 re-screening"):
        outcomes.rescreen(coordinator_a, again.pk)


def test_the_re_screening_cap_is_a_protocol_setting(
    failing: Participant, coordinator_a: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcomes.record_screen_failure(
        coordinator_a, failing.pk, category="lost_to_follow_up", reason="x", on_date=AS_OF
    )
    monkeypatch.setattr(outcomes, "rescreens_allowed", lambda participant, on_date=None: 0)
    with pytest.raises(outcomes.OutcomeRefused, match="allows 0"):
        outcomes.rescreen(coordinator_a, failing.pk)


def test_another_site_cannot_re_screen(
    failing: Participant, coordinator_a: User, coordinator_b: User
) -> None:
    outcomes.record_screen_failure(
        coordinator_a, failing.pk, category="lost_to_follow_up", reason="x", on_date=AS_OF
    )
    with pytest.raises(PermissionDenied):
        outcomes.rescreen(coordinator_b, failing.pk)


def test_an_amendments_impact_report_leaves_out_ended_screenings(
    eligible: Participant, failing: Participant, coordinator_a: User
) -> None:
    assert impact_report("2025-11-14.3", Participant.objects.all(), AS_OF).evaluated == 2
    outcomes.record_withdrawal(coordinator_a, failing.pk, reason="moved abroad", on_date=AS_OF)
    assert impact_report("2025-11-14.3", Participant.objects.all(), AS_OF).evaluated == 1
