"""How screening ends: enrollment with the investigator's signed eligibility checklist, screen
failure with its category, withdrawal before enrollment; and re-screening as a new, linked attempt.

Each action takes the acting user and runs in one transaction with the audit context. Once a
participant has an outcome, the evaluation layer no longer evaluates it (screening.evaluation
skips it, the sweep does not mark it) and the committee withdraws its open escalations
(`outcome_recorded`). A later data change is still recorded and audited by the participants layer;
`ScreeningOutcome.data_version` shows it as "changed after the outcome".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date

import pghistory
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.dispatch import Signal
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from participants import consent, second_factor
from participants.case_builder import build_case
from participants.models import Membership, OutcomeStatus, Participant, Role, ScreeningStatus, User
from participants.selectors import editable_participants
from participants.services import register_rescreen
from screening import criteria
from screening.criteria.protocol import get_protocol
from screening.evaluation import case_adjudications, evaluate_participant, locked_state, run_engine
from screening.models import (
    CriterionResult,
    Evaluation,
    FailureCategory,
    Outcome,
    ScreeningOutcome,
    ScreeningState,
    Trigger,
)
from screening.protocols import version_in_force
from screening.selectors import criterion_title, screening_state

# Sent after commit with `outcome` (the ScreeningOutcome): the committee withdraws open escalations.
outcome_recorded = Signal()


class OutcomeRefused(Exception):
    """An outcome that cannot be recorded; the message says why, for the user. Nothing was saved."""


class SignatureRefused(OutcomeRefused):
    pass


class SecondFactorRequired(OutcomeRefused):
    """The investigator has no confirmed second factor yet: set-up comes first."""


class ChecklistChanged(OutcomeRefused):
    """The checklist on the enrollment date differs from the one the investigator was shown."""


# --- What blocks an enrollment ---------------------------------------------------------------------

EnrollmentBlocker = Callable[[Participant, date], "str | None"]


def _enrollment_date_has_come(participant: Participant, on_date: date) -> str | None:
    if on_date > timezone.localdate():
        return f"The enrollment date {on_date.isoformat()} is in the future."
    return None


# Checks beyond the engine's verdict, in order; each gives the reason enrollment is blocked on the
# date, or None. A further blocker is one more entry here.
ENROLLMENT_BLOCKERS: list[EnrollmentBlocker] = [
    _enrollment_date_has_come,
    # The consent form version in effect at the site that day must be signed (docs/registration.md).
    consent.enrollment_block,
]


def enrollment_blocks(participant: Participant, on_date: date) -> list[str]:
    return [reason for check in ENROLLMENT_BLOCKERS if (reason := check(participant, on_date))]


# --- The eligibility checklist -----------------------------------------------------------------


@dataclass(frozen=True)
class ChecklistItem:
    criterion: str
    title: str
    outcome: str
    reason: str
    evidence_digest: str


@dataclass(frozen=True)
class Checklist:
    """Every criterion with its outcome, reason and evidence digest on the enrollment date: what the
    investigator reads and signs. Its JSON (sorted keys, no spaces) is what the digest covers."""

    screening_number: str
    site: str
    cohort: str
    on_date: str
    protocol_version: str
    engine_version: str
    overall: str
    items: tuple[ChecklistItem, ...]

    def as_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.as_json().encode()).hexdigest()

    @property
    def eligible(self) -> bool:
        return self.overall == ScreeningStatus.ELIGIBLE

    @property
    def holding_back(self) -> list[ChecklistItem]:
        return [i for i in self.items if i.outcome not in (Outcome.PASS, Outcome.NOT_APPLICABLE)]


def _checklist(
    participant: Participant,
    on_date: date,
    protocol_version: str,
    engine_version: str,
    overall: str,
    rows: Iterable[tuple[str, str, str, str]],
) -> Checklist:
    return Checklist(
        screening_number=participant.screening_number,
        site=participant.site.code,
        cohort=participant.cohort,
        on_date=on_date.isoformat(),
        protocol_version=protocol_version,
        engine_version=engine_version,
        overall=overall,
        items=tuple(
            ChecklistItem(cid, criterion_title(cid), outcome, reason, digest)
            for cid, outcome, reason, digest in rows
        ),
    )


def checklist_on(participant: Participant, on_date: date) -> Checklist:
    """The checklist the engine gives for `on_date` from the current data (nothing stored): what
    the enrollment page shows before the investigator signs."""
    case = build_case(
        participant,
        on_date,
        adjudications=case_adjudications(participant),
        protocol_version=version_in_force(participant.site_id, on_date),
    )
    result = run_engine(case)
    return _checklist(
        participant,
        on_date,
        result.protocol_version,
        criteria.ENGINE_VERSION,
        str(result.overall),
        ((r.id, str(r.outcome), r.reason, r.evidence_digest or "") for r in result.criteria),
    )


def stored_checklist(participant: Participant, evaluation: Evaluation) -> Checklist:
    """The checklist of a stored evaluation (the one run for the enrollment date)."""
    rows = CriterionResult.objects.filter(evaluation=evaluation).order_by("position")
    return _checklist(
        participant,
        evaluation.as_of,
        evaluation.protocol_version,
        evaluation.engine_version,
        evaluation.overall,
        ((r.criterion_id, r.outcome, r.reason, r.evidence_digest) for r in rows),
    )


def signature_meaning(checklist: Checklist) -> str:
    return (
        f"Eligibility confirmed: {checklist.screening_number} meets every eligibility criterion of "
        f"protocol {checklist.protocol_version} on {checklist.on_date}, as listed in this checklist, "
        "and is enrolled."
    )


# --- Actions -----------------------------------------------------------------------------------


def _require_site_role(user: User, participant: Participant, roles: Sequence[Role], what: str) -> None:
    if not Membership.objects.filter(user=user, site_id=participant.site_id, role__in=roles).exists():
        raise PermissionDenied(what)


def _participant(user: User, participant_id: int) -> Participant:
    participant = editable_participants(user).filter(pk=participant_id).first()
    if participant is None:
        raise PermissionDenied("You may not change this participant.")
    return participant


def enroll(
    user: User,
    participant_id: int,
    *,
    password: str,
    code: str,
    shown_digest: str,
    request: HttpRequest | None = None,
    on_date: date | None = None,
) -> ScreeningOutcome:
    """An investigator of the site enrolls the participant by signing the eligibility checklist.

    The engine is run again for the enrollment date and the evaluation stored (a result can expire
    between the last evaluation and enrollment): anything but ELIGIBLE refuses, and the refusal's
    evaluation stays on file. The checklist signed must be the one shown (`shown_digest`); the
    signature is the password again plus the second factor's code, as for the EAC."""
    on_date = on_date or timezone.localdate()
    participant = _participant(user, participant_id)
    _require_site_role(user, participant, [Role.INVESTIGATOR], "Only an investigator of the site enrolls.")
    if screening_state(participant).outcome != OutcomeStatus.IN_SCREENING:
        raise OutcomeRefused("This participant's screening has already ended.")
    blocks = enrollment_blocks(participant, on_date)
    if blocks:
        raise OutcomeRefused("Enrollment is blocked: " + " ".join(blocks))
    evaluation = evaluate_participant(
        participant.pk,
        trigger=Trigger.ENROLLMENT,
        detail=f"enrollment on {on_date}",
        user=user,
        as_of=on_date,
        store_in_full=True,
    )
    if evaluation is None:
        raise OutcomeRefused("This participant's screening has already ended.")
    checklist = stored_checklist(participant, evaluation)
    if not checklist.eligible:
        held = "; ".join(f"{i.criterion} {i.outcome}: {i.reason}" for i in checklist.holding_back)
        raise OutcomeRefused(
            f"Not eligible on {on_date.isoformat()} ({ScreeningStatus(checklist.overall).label}): {held}. "
            "Nothing was signed."
        )
    if checklist.digest != shown_digest:
        raise ChecklistChanged(
            "The checklist changed since this page was opened. Nothing was signed: read it again."
        )
    if not second_factor.has_second_factor(user):
        raise SecondFactorRequired("Set up your second factor before signing. Nothing was signed.")
    # Before the transaction: a failed attempt is recorded by the throttle, not rolled back.
    if not second_factor.verify_signature(user, password, code, request):
        raise SignatureRefused(
            "The password or the code is not correct (a code is good once). Nothing was signed."
        )
    with (
        transaction.atomic(),
        pghistory.context(user=user.pk, reason="enrolled: eligibility checklist signed"),
    ):
        locked = (
            Participant.objects.select_for_update(of=("self",)).select_related("site").get(pk=participant.pk)
        )
        state = locked_state(locked)
        latest = locked.evaluations.order_by("-sequence").values_list("pk", flat=True).first()
        if state.outcome != OutcomeStatus.IN_SCREENING:
            raise OutcomeRefused("This participant's screening has already ended.")
        if latest != evaluation.pk or locked.data_version != evaluation.data_version:
            raise ChecklistChanged(
                "The data changed while signing. Nothing was signed: read the checklist again."
            )
        signed_at = timezone.now()
        meaning = signature_meaning(checklist)
        signature = {
            "name": user.display_name(),
            "username": user.get_username(),
            "meaning": meaning,
            "at": signed_at,
        }
        html = render_to_string(
            "screening/_checklist.html",
            {"checklist": checklist, "signature": signature, "digest": checklist.digest},
        )
        outcome = ScreeningOutcome.objects.create(
            participant=locked,
            kind=OutcomeStatus.ENROLLED,
            on_date=on_date,
            recorded_by=user,
            recorded_at=signed_at,
            data_version=locked.data_version,
            evaluation=evaluation,
            checklist_json=checklist.as_json(),
            checklist_html=html,
            checklist_digest=checklist.digest,
            signer=user,
            signer_name=user.display_name(),
            signature_meaning=meaning,
            signed_at=signed_at,
        )
        _end(state, outcome)
    return outcome


def _site_writer_participant(user: User, participant_id: int, what: str) -> Participant:
    """The participant, if `user` is a coordinator or investigator of its site (who record how
    screening ended, other than by enrollment)."""
    participant = _participant(user, participant_id)
    _require_site_role(
        user,
        participant,
        [Role.COORDINATOR, Role.INVESTIGATOR],
        f"Only the site's coordinators and investigators record {what}.",
    )
    return participant


def record_screen_failure(
    user: User,
    participant_id: int,
    *,
    category: str,
    reason: str,
    detail: str = "",
    on_date: date | None = None,
) -> ScreeningOutcome:
    """A coordinator or investigator of the site records that screening failed, with its category
    and the reason for change. "Criteria not met" records the criteria failing in the latest
    evaluation and needs at least one."""
    on_date = on_date or timezone.localdate()
    reason, detail = reason.strip(), detail.strip()
    if category not in FailureCategory.values:
        raise OutcomeRefused("Choose the reason category.")
    if not reason:
        raise OutcomeRefused("Give the reason for the change.")
    if category == FailureCategory.OTHER and not detail:
        raise OutcomeRefused("Describe the reason when the category is Other.")
    participant = _site_writer_participant(user, participant_id, "a screen failure")
    with transaction.atomic(), pghistory.context(user=user.pk, reason=f"screen failure: {reason}"):
        locked, state = _lock_in_screening(participant, on_date)
        evaluation = locked.evaluations.order_by("-sequence").first()
        failing: list[str] = []
        if category == FailureCategory.CRITERIA_NOT_MET:
            if evaluation is not None:
                failing = list(
                    evaluation.results.filter(outcome=Outcome.FAIL)
                    .order_by("position")
                    .values_list("criterion_id", flat=True)
                )
            if not failing:
                raise OutcomeRefused(
                    "No criterion fails in the latest evaluation: choose the category that applies."
                )
        outcome = ScreeningOutcome.objects.create(
            participant=locked,
            kind=OutcomeStatus.SCREEN_FAILED,
            on_date=on_date,
            recorded_by=user,
            reason=reason,
            data_version=locked.data_version,
            failure_category=category,
            failure_detail=detail,
            failing_criteria=failing,
            evaluation=evaluation,
        )
        _end(state, outcome)
    return outcome


def record_withdrawal(
    user: User, participant_id: int, *, reason: str, on_date: date | None = None
) -> ScreeningOutcome:
    """A coordinator or investigator of the site records that the participant withdrew before
    enrollment, with the reason for change."""
    on_date = on_date or timezone.localdate()
    reason = reason.strip()
    if not reason:
        raise OutcomeRefused("Give the reason for the change.")
    participant = _site_writer_participant(user, participant_id, "a withdrawal")
    with transaction.atomic(), pghistory.context(user=user.pk, reason=f"withdrawn: {reason}"):
        locked, state = _lock_in_screening(participant, on_date)
        outcome = ScreeningOutcome.objects.create(
            participant=locked,
            kind=OutcomeStatus.WITHDRAWN,
            on_date=on_date,
            recorded_by=user,
            reason=reason,
            data_version=locked.data_version,
            evaluation=locked.evaluations.order_by("-sequence").first(),
        )
        _end(state, outcome)
    return outcome


def _lock_in_screening(participant: Participant, on_date: date) -> tuple[Participant, ScreeningState]:
    if on_date > timezone.localdate():
        raise OutcomeRefused("The date cannot be in the future.")
    locked = Participant.objects.select_for_update(of=("self",)).select_related("site").get(pk=participant.pk)
    state = locked_state(locked)
    if state.outcome != OutcomeStatus.IN_SCREENING:
        raise OutcomeRefused("This participant's screening has already ended.")
    start = locked.screening_start or timezone.localdate(locked.created_at)
    if on_date < start:
        raise OutcomeRefused(f"The date cannot be before screening started ({start.isoformat()}).")
    return locked, state


def _end(state: ScreeningState, outcome: ScreeningOutcome) -> None:
    """Copy the outcome to the participant's state (lists, the sweep) and clear any mark."""
    state.outcome = outcome.kind
    state.outcome_on = outcome.on_date
    state.reevaluation_requested_at = None
    state.save(update_fields=["outcome", "outcome_on", "reevaluation_requested_at"])
    transaction.on_commit(lambda: outcome_recorded.send(sender=ScreeningOutcome, outcome=outcome))


# --- Re-screening ------------------------------------------------------------------------------


def rescreens_allowed(participant: Participant, on_date: date | None = None) -> int:
    """The protocol's cap on re-screenings (the version the site uses on the day)."""
    version = version_in_force(participant.site_id, on_date or timezone.localdate())
    return get_protocol(version).settings.rescreen_attempts_max


def rescreen_refusal(participant: Participant) -> str | None:
    """Why this attempt cannot be re-screened, or None."""
    outcome = ScreeningOutcome.objects.filter(participant=participant).first()
    if outcome is None or outcome.kind != OutcomeStatus.SCREEN_FAILED:
        return "Only a screen-failed participant is re-screened."
    if Participant.objects.filter(previous_attempt=participant).exists():
        return "This attempt has been re-screened already."
    cap = rescreens_allowed(participant)
    if participant.attempt >= cap:
        return f"The protocol allows {cap} re-screening(s); this candidate has had {participant.attempt}."
    return None


def rescreen(user: User, participant_id: int, *, copy: Sequence[int] = ()) -> Participant:
    """Re-screen a screen-failed participant as a new attempt linked to it (participants'
    register_rescreen), within the protocol's cap. `copy`: undated facts the coordinator confirmed
    one by one; nothing dated is carried over."""
    participant = _participant(user, participant_id)
    with transaction.atomic():
        Participant.objects.select_for_update(of=("self",)).filter(pk=participant.pk).values_list("pk").get()
        refusal = rescreen_refusal(participant)
        if refusal:
            raise OutcomeRefused(refusal)
        return register_rescreen(user, participant, copy=copy)
