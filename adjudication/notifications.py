"""Mail about escalations, sent after the transaction that caused it commits."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import Q

from participants.models import Membership, Role
from screening.models import ReviewBy

from .models import Escalation, EscalationDecision, Review

log = logging.getLogger(__name__)


def _addresses(condition: Q) -> list[str]:
    rows = Membership.objects.filter(condition, user__is_active=True).exclude(user__email="")
    return sorted(set(rows.values_list("user__email", flat=True)))


def _reviewers_for(e: Escalation) -> list[str]:
    if e.review_by == ReviewBy.INVESTIGATOR:
        return _addresses(Q(role=Role.INVESTIGATOR, site_id=e.participant.site_id))
    # EAC reviewers without any membership at the participant's site.
    at_site = Membership.objects.filter(site_id=e.participant.site_id).values("user_id")
    return _addresses(Q(role=Role.EAC_REVIEWER) & ~Q(user_id__in=at_site))


def _site_staff(e: Escalation) -> list[str]:
    return _addresses(Q(role__in=[Role.COORDINATOR, Role.INVESTIGATOR], site_id=e.participant.site_id))


def _send_after_commit(subject: str, body: str, recipients: list[str]) -> None:
    if not recipients:
        return
    messages = [(subject, body, settings.DEFAULT_FROM_EMAIL, [to]) for to in recipients]

    def send() -> None:
        try:
            send_mass_mail(messages, fail_silently=False)
        except Exception:  # mail is a courtesy: the queue and the pages are the record
            log.warning("could not send %r", subject, exc_info=True)

    transaction.on_commit(send)


def new_items(items: list[tuple[Escalation, bool]]) -> None:
    """Mail the reviewers of each escalation opened (False) or reopened (True): the recipients
    are looked up once per site and kind of review, however many items a sweep opens."""
    recipients: dict[tuple[str, int], list[str]] = {}
    for e, reopened in items:
        kind = "EAC review" if e.review_by == ReviewBy.EAC else "Investigator sign-off"
        what = "reopened: the evidence or the data changed" if reopened else "waiting"
        subject = f"[ALLO-329] {kind} {what}: {e.criterion_id}, {e.participant.screening_number}"
        body = (
            f"{kind} {what}.\n\nParticipant: {e.participant.screening_number} ({e.participant.cohort})\n"
            f"Criterion: {e.criterion_id} {e.criterion_title}\n\n{e.engine_reason}\n"
        )
        key = (e.review_by, e.participant.site_id)
        if key not in recipients:
            recipients[key] = _reviewers_for(e)
        _send_after_commit(subject, body, recipients[key])


def decided(e: Escalation, decision: EscalationDecision) -> None:
    subject = (
        f"[ALLO-329] {e.criterion_id} {decision.get_decision_display().lower()}ed for "
        f"{e.participant.screening_number}"
    )
    body = (
        f"The {'EAC' if e.review_by == ReviewBy.EAC else 'investigator'} decided on {decision.date}: "
        f"{decision.get_decision_display()} for criterion {e.criterion_id} of participant "
        f"{e.participant.screening_number}.\nThe participant is re-evaluated with this decision.\n"
    )
    _send_after_commit(subject, body, _site_staff(e))


def information_requested(e: Escalation, review: Review) -> None:
    subject = f"[ALLO-329] Information requested: {e.criterion_id}, {e.participant.screening_number}"
    body = (
        f"A reviewer asks for information about criterion {e.criterion_id} of participant "
        f"{e.participant.screening_number}:\n\n{review.rationale}\n\n"
        "Answer by updating the participant's data; the item then returns to the reviewers.\n"
    )
    _send_after_commit(subject, body, _site_staff(e))
