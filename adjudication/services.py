"""Actions on escalations. Each takes the acting user, runs in one transaction with the audit
context, and sends mail only after commit."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import pghistory
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from participants import second_factor
from participants.models import Participant, User
from screening.criteria.catalogue import CRITERIA
from screening.evaluation import evaluate_participant
from screening.models import CriterionResult, Evaluation, Outcome, ReviewBy, ScreeningOutcome, Trigger
from screening.services import record_adjudication

from . import notifications
from .models import (
    ACTIVE_STATES,
    SIGNED_ACTIONS,
    Decision,
    Escalation,
    EscalationDecision,
    EscalationState,
    Review,
    ReviewAction,
    Signature,
)
from .selectors import get_escalation

log = logging.getLogger(__name__)

CRITERION_INFO = {c.id: c for c in CRITERIA}


class AdjudicationError(Exception):
    """An action refused; the message is for the person who tried it."""


class EvidenceChanged(AdjudicationError):
    """The reviewer acted on evidence that has since been replaced by a new round."""


class ClaimConflict(AdjudicationError):
    pass


class SignatureRefused(AdjudicationError):
    pass


class SecondFactorRequired(AdjudicationError):
    """The signer has no confirmed second factor yet: set-up comes first."""


def quorum_for(escalation: Escalation) -> int:
    return 1 if escalation.review_by == ReviewBy.INVESTIGATOR else max(1, int(settings.EAC_QUORUM))


def signature_meaning(escalation: Escalation, action: str) -> str:
    """What the signature states, shown before signing and stored with it."""
    number = escalation.participant.screening_number
    cid = escalation.criterion_id
    if escalation.review_by == ReviewBy.INVESTIGATOR:
        verb = "confirm" if action == ReviewAction.APPROVE else "do not confirm"
        return f"I {verb} criterion {cid} for participant {number}"
    verb = "approve" if action == ReviewAction.APPROVE else "reject"
    return f"I {verb} an exception to criterion {cid} for participant {number}"


# --- Opening, reopening and withdrawing: driven by stored evaluations ----------------------------


def sync_escalations(evaluation: Evaluation) -> None:
    """sync_escalations_many for one evaluation."""
    sync_escalations_many([evaluation])


# The fields a sync may change on an escalation (one bulk UPDATE for all of a batch).
SYNCED_FIELDS = [
    "previous_digest",
    "previous_evidence",
    "evidence_digest",
    "evidence",
    "round",
    "state",
    "state_note",
    "engine_reason",
    "latest_result",
    "opened_at",
    "claimed_by",
    "claimed_at",
    "info_requested_version",
    "updated_at",
]


def sync_escalations_many(evaluations: list[Evaluation]) -> None:
    """Bring the participants' escalations in line with their stored evaluations (each the latest
    of its participant), in one transaction and a fixed number of queries whatever the number of
    participants: a sweep's chunk is synchronised as one.

    A REVIEW opens an escalation unless the participant fails another criterion; a REVIEW on
    evidence other than the escalation's reopens it as a new round (decisions on the old evidence
    no longer apply); an open escalation whose criterion no longer computes REVIEW is withdrawn."""
    if not evaluations:
        return
    actor = evaluations[0].triggered_by if len(evaluations) == 1 else None
    reason = (
        f"evaluation #{evaluations[0].sequence}"
        if len(evaluations) == 1
        else f"evaluations: {Trigger(evaluations[0].trigger).label}"
    )
    with transaction.atomic(), pghistory.context(user=actor.pk if actor else None, reason=reason):
        ids = sorted({e.participant_id for e in evaluations})
        # Participant rows first, in id order: the order every path locks them in.
        participants = {
            p.pk: p
            for p in Participant.objects.select_for_update(of=("self",))
            .select_related("site")
            .filter(pk__in=ids)
            .order_by("pk")
        }
        latest = set(
            Evaluation.objects.filter(participant_id__in=ids)
            .order_by("participant_id", "-sequence")
            .distinct("participant_id")
            .values_list("pk", flat=True)
        )
        # A newer evaluation exists for the others; its own signal brings their escalations up to date.
        current = {e.participant_id: e for e in evaluations if e.pk in latest}
        if not current:
            return
        existing: dict[int, dict[str, Escalation]] = {pk: {} for pk in current}
        for e in Escalation.objects.select_for_update().filter(participant_id__in=list(current)):
            e.participant = participants[e.participant_id]
            existing[e.participant_id][e.criterion_id] = e
        # Only REVIEW and FAIL rows decide anything; other outcomes are read only to word a withdrawal.
        flagged: dict[int, list[CriterionResult]] = {e.pk: [] for e in current.values()}
        for r in CriterionResult.objects.filter(
            evaluation_id__in=list(flagged), outcome__in=[Outcome.REVIEW, Outcome.FAIL]
        ).order_by("evaluation_id", "position"):
            flagged[r.evaluation_id].append(r)
        active = {cid for by_criterion in existing.values() for cid, e in by_criterion.items() if e.is_active}
        outcomes: dict[tuple[int, str], str] = {}
        if active:
            outcomes = {
                (evaluation_id, cid): outcome
                for evaluation_id, cid, outcome in CriterionResult.objects.filter(
                    evaluation_id__in=list(flagged), criterion_id__in=sorted(active)
                ).values_list("evaluation_id", "criterion_id", "outcome")
            }
        now = timezone.now()
        opened: list[Escalation] = []
        changed: list[Escalation] = []
        announced: list[tuple[Escalation, bool]] = []
        for participant_id, evaluation in current.items():
            participant = participants[participant_id]
            results = flagged[evaluation.pk]
            mine = existing[participant_id]
            failing = [r.criterion_id for r in results if r.outcome == Outcome.FAIL]
            reviewing: set[str] = set()
            for r in results:
                if r.outcome != Outcome.REVIEW:
                    continue
                reviewing.add(r.criterion_id)
                e = mine.get(r.criterion_id)
                if failing:
                    if e is not None and e.is_active:
                        _withdraw(e, f"The participant fails {', '.join(failing)}.")
                        changed.append(e)
                    continue
                if e is None:
                    e = _open(participant, r, now)
                    opened.append(e)
                    announced.append((e, False))
                elif e.evidence_digest != r.evidence_digest:
                    _reopen(e, r, now)
                    changed.append(e)
                    announced.append((e, True))
                else:
                    if _refresh(e, r, evaluation, now):
                        announced.append((e, True))
                    changed.append(e)
            for cid, e in mine.items():
                if cid not in reviewing and e.is_active:
                    outcome = outcomes.get((evaluation.pk, cid), "not evaluated")
                    _withdraw(e, f"The criterion is now {outcome}.")
                    changed.append(e)
        Escalation.objects.bulk_create(opened)
        for e in changed:
            e.updated_at = now
        Escalation.objects.bulk_update(changed, SYNCED_FIELDS)
        notifications.new_items(announced)


def _criterion_text(cid: str) -> dict[str, str]:
    info = CRITERION_INFO.get(cid)
    if info is None:
        return {}
    return {
        "criterion_title": info.title[:200],
        "criterion_quote": info.page_text,
        "criterion_rule": info.rule,
    }


def _open(participant: Participant, r: CriterionResult, now: datetime) -> Escalation:
    """A new (unsaved) escalation of a REVIEW result; the sync creates a batch's in one statement."""
    e = Escalation(
        participant=participant,
        criterion_id=r.criterion_id,
        review_by=r.review_by,
        evidence_digest=r.evidence_digest,
        evidence=r.evidence or [],
        engine_reason=r.reason,
        latest_result=r,
        opened_at=now,
        # The participant's, read with its lock: the trigger need not look them up.
        site_id=participant.site_id,
        cohort=participant.cohort,
        **_criterion_text(r.criterion_id),
    )
    e.participant = participant
    return e


def _reopen(e: Escalation, r: CriterionResult, now: datetime) -> None:
    e.previous_digest, e.previous_evidence = e.evidence_digest, e.evidence
    e.evidence_digest, e.evidence = r.evidence_digest, r.evidence or []
    e.round += 1
    e.state = EscalationState.OPEN
    e.state_note = "The evidence changed: earlier reviews and decisions no longer apply."
    e.engine_reason = r.reason
    e.latest_result = r
    e.opened_at = now
    e.claimed_by = None
    e.claimed_at = None
    e.info_requested_version = None


def _refresh(e: Escalation, r: CriterionResult, evaluation: Evaluation, now: datetime) -> bool:
    """Point the escalation at the new result; True if it returns to the queue."""
    e.latest_result = r
    e.engine_reason = r.reason
    if e.state == EscalationState.WITHDRAWN:
        e.state = EscalationState.OPEN
        e.state_note = "Needed again."
        e.opened_at = now
        return True
    if (
        e.state == EscalationState.INFO_REQUESTED
        and e.info_requested_version is not None
        and evaluation.data_version > e.info_requested_version
    ):
        e.state = EscalationState.OPEN
        e.state_note = "The site updated the participant's data."
        e.info_requested_version = None
        return True
    return False


def _withdraw(e: Escalation, note: str) -> None:
    e.state = EscalationState.WITHDRAWN
    e.state_note = note[:300]
    e.claimed_by = None
    e.claimed_at = None


def on_evaluations_stored(sender: object, evaluations: list[Evaluation], **kwargs: object) -> None:
    try:
        sync_escalations_many(evaluations)
    except Exception:  # the evaluations are stored; the next one retries the sync
        log.exception("could not update escalations after evaluations %s", [e.pk for e in evaluations])


def on_outcome_recorded(sender: object, outcome: ScreeningOutcome, **kwargs: object) -> None:
    """Screening has ended (enrolled, screen failed, withdrawn): nothing is left to judge, so the
    participant's open items are withdrawn with the outcome as the note."""
    with transaction.atomic(), pghistory.context(reason=f"screening ended: {outcome.get_kind_display()}"):
        open_items = list(
            Escalation.objects.select_for_update().filter(
                participant_id=outcome.participant_id, state__in=ACTIVE_STATES
            )
        )
        now = timezone.now()
        for e in open_items:
            _withdraw(e, f"Screening ended: {outcome.get_kind_display()} on {outcome.on_date.isoformat()}.")
            e.updated_at = now
        Escalation.objects.bulk_update(open_items, ["state", "state_note", "claimed_by", "claimed_at", "updated_at"])


# --- Reviewer actions ----------------------------------------------------------------------------


def claim(user: User, escalation_id: int) -> Escalation:
    """Take an open EAC item so no one else works it; the row lock makes the check-and-set atomic.

    A claim older than EAC_CLAIM_HOURS without a signature is taken over, and the audit trail
    names the reviewer who held it."""
    with transaction.atomic():
        e = get_escalation(user, escalation_id, for_update=True)
        if e.review_by != ReviewBy.EAC:
            raise AdjudicationError("Investigator sign-offs are not claimed.")
        if e.state != EscalationState.OPEN:
            raise AdjudicationError("This item is not open for review.")
        if e.claimed_by_id == user.pk:
            return e
        reason = "escalation claimed"
        if e.claimed_by_id is not None:
            expires = e.claim_expires_at
            assert expires is not None  # a claim always has its time (constraint)
            if not e.claim_is_stale:
                raise ClaimConflict(
                    f"{e.claimed_by} is already working on this item; it can be taken over from "
                    f"{timezone.localtime(expires):%Y-%m-%d %H:%M} if it is still unsigned then."
                )
            reason = (
                f"stale claim taken over from {e.claimed_by} (held since {e.claimed_at:%Y-%m-%d %H:%M} UTC)"
            )
        if e.reviews.filter(
            round=e.round, reviewer=user, action__in=[a.value for a in SIGNED_ACTIONS]
        ).exists():
            raise AdjudicationError("You have already signed this round.")
        with pghistory.context(user=user.pk, reason=reason):
            e.claimed_by = user
            e.claimed_at = timezone.now()
            e.save(update_fields=["claimed_by", "claimed_at", "updated_at"])
        return e


def release(user: User, escalation_id: int) -> Escalation:
    with transaction.atomic(), pghistory.context(user=user.pk, reason="escalation released"):
        e = get_escalation(user, escalation_id, for_update=True)
        if e.claimed_by_id != user.pk:
            raise AdjudicationError("You do not hold this item.")
        e.claimed_by = None
        e.claimed_at = None
        e.save(update_fields=["claimed_by", "claimed_at", "updated_at"])
        return e


def _lock_participant_then_escalation(user: User, escalation_id: int) -> Escalation:
    """The participant's row first, then the escalation's: the order sync_escalations takes them
    in, so that a signature and a stored evaluation never wait for each other in a circle."""
    e = get_escalation(user, escalation_id)
    Participant.objects.select_for_update(of=("self",)).filter(pk=e.participant_id).values_list("pk").get()
    return get_escalation(user, escalation_id, for_update=True)


def _check_shown_evidence(e: Escalation, expected_digest: str | None, verb: str) -> None:
    if expected_digest is not None and expected_digest != e.evidence_digest:
        raise EvidenceChanged(
            f"The evidence changed since this page was opened (now round {e.round}). "
            f"Nothing was {verb}: read the current evidence first."
        )


# The signature's credentials check lives with the users (participants.second_factor), shared with
# the investigator's enrollment signature.
verify_password = second_factor.verify_signature


@dataclass(frozen=True)
class SignOutcome:
    review: Review
    decision: EscalationDecision | None


def sign_review(
    user: User,
    escalation_id: int,
    *,
    action: str,
    rationale: str,
    password: str,
    code: str,
    request: HttpRequest | None = None,
    expected_digest: str | None = None,
) -> SignOutcome:
    """Approve or reject with an electronic signature. A wrong password signs nothing. When the
    quorum of distinct reviewers agrees on this round, the decision is recorded and the participant
    re-evaluated. `expected_digest`: the evidence the signer was shown; if the evidence has
    changed since, nothing is signed."""
    if action not in SIGNED_ACTIONS:
        raise AdjudicationError("A signature approves or rejects.")
    rationale = rationale.strip()
    if not rationale:
        raise AdjudicationError("Give the rationale for your decision.")
    if not second_factor.has_second_factor(user):
        raise SecondFactorRequired("Set up your second factor before signing. Nothing was signed.")
    # Checked before the transaction: a failed attempt is recorded by the throttle, not rolled back.
    if not verify_password(user, password, code, request):
        raise SignatureRefused(
            "The password or the code is not correct (a code is good once). Nothing was signed."
        )
    with transaction.atomic(), pghistory.context(user=user.pk, reason=f"review signed: {action}"):
        e = _lock_participant_then_escalation(user, escalation_id)
        _check_shown_evidence(e, expected_digest, "signed")
        if e.state != EscalationState.OPEN:
            raise AdjudicationError("This item is not open for review.")
        if e.review_by == ReviewBy.EAC and e.claimed_by_id != user.pk:
            raise AdjudicationError("Claim the item before signing.")
        if e.reviews.filter(
            round=e.round, reviewer=user, action__in=[a.value for a in SIGNED_ACTIONS]
        ).exists():
            raise AdjudicationError("You have already signed this round.")
        review = Review.objects.create(
            escalation=e,
            round=e.round,
            evidence_digest=e.evidence_digest,
            reviewer=user,
            action=action,
            rationale=rationale,
        )
        Signature.objects.create(
            review=review,
            signer=user,
            signer_name=user.display_name(),
            meaning=signature_meaning(e, action),
            evidence_digest=e.evidence_digest,
        )
        e.claimed_by = None
        e.claimed_at = None
        agreeing = e.reviews.filter(round=e.round, action=action).count()
        decision = None
        if agreeing >= quorum_for(e):
            decision = EscalationDecision.objects.create(
                escalation=e,
                round=e.round,
                criterion_id=e.criterion_id,
                review_by=e.review_by,
                decision=Decision.ACCEPT if action == ReviewAction.APPROVE else Decision.REJECT,
                date=timezone.localdate(),
                evidence_digest=e.evidence_digest,
            )
            e.state = EscalationState.DECIDED
            verb = "Accepted" if decision.decision == Decision.ACCEPT else "Rejected"
            e.state_note = f"{verb} by {agreeing} reviewer(s)."
            # The engine reads decisions from the evaluation layer: hand this one over.
            record_adjudication(
                e.participant_id,
                criterion_id=decision.criterion_id,
                review_by=decision.review_by,
                decision=decision.decision,
                decided_on=decision.date,
                evidence_digest=decision.evidence_digest,
                source_id=decision.pk,
            )
            notifications.decided(e, decision)
        e.save()
    if decision is not None:
        _evaluate_after_decision(e, user)
    return SignOutcome(review, decision)


def _evaluate_after_decision(e: Escalation, user: User) -> None:
    evaluate_participant(
        e.participant_id, trigger=Trigger.DECISION, detail=f"{e.criterion_id} decided", user=user
    )


def request_information(
    user: User, escalation_id: int, *, rationale: str, expected_digest: str | None = None
) -> Review:
    """Ask the site for information; the site answers by updating the participant's data."""
    rationale = rationale.strip()
    if not rationale:
        raise AdjudicationError("Say what information the site should provide.")
    with transaction.atomic(), pghistory.context(user=user.pk, reason="information requested"):
        e = _lock_participant_then_escalation(user, escalation_id)
        _check_shown_evidence(e, expected_digest, "sent")
        if e.state != EscalationState.OPEN:
            raise AdjudicationError("This item is not open for review.")
        if e.review_by == ReviewBy.EAC and e.claimed_by_id != user.pk:
            raise AdjudicationError("Claim the item before asking the site.")
        review = Review.objects.create(
            escalation=e,
            round=e.round,
            evidence_digest=e.evidence_digest,
            reviewer=user,
            action=ReviewAction.REQUEST_INFO,
            rationale=rationale,
        )
        e.state = EscalationState.INFO_REQUESTED
        e.state_note = "Waiting for the site."
        e.info_requested_version = Participant.objects.values_list("data_version", flat=True).get(
            pk=e.participant_id
        )
        e.claimed_by = None
        e.claimed_at = None
        e.save()
        notifications.information_requested(e, review)
    return review
