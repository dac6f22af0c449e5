"""Escalations of REVIEW results, the reviews and signatures on them, and the decisions they reach.

One escalation per participant and criterion: it is opened by the first REVIEW, reopened when the
evidence changes (a new round), and keeps every review ever made. Reviews, signatures and decisions
are append-only: database triggers refuse UPDATE and DELETE on them. Their change history is kept
by the audit app's triggers (audit/models.py, TRACKED).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pgtrigger
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone

from participants.models import Cohort, Participant, Site
from participants.triggers import copies_site_and_cohort
from screening.models import AdjudicationDecision, CriterionResult, ReviewBy


class EscalationState(models.TextChoices):
    OPEN = "open", "Open"
    INFO_REQUESTED = "info_requested", "Information requested from the site"
    DECIDED = "decided", "Decided"
    # The criterion no longer computes REVIEW, or the participant now fails another criterion.
    WITHDRAWN = "withdrawn", "Not needed now"


ACTIVE_STATES = (EscalationState.OPEN, EscalationState.INFO_REQUESTED)


# What a decision says: the case format's accept / reject, owned by the evaluation layer that
# reads it (screening.models.Adjudication).
Decision = AdjudicationDecision


class ReviewAction(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
    REQUEST_INFO = "request_info", "Request information"


SIGNED_ACTIONS = (ReviewAction.APPROVE, ReviewAction.REJECT)


def claim_hours() -> int:
    """EAC_CLAIM_HOURS, at least one hour: a claim must protect a reviewer while they work."""
    return max(1, int(settings.EAC_CLAIM_HOURS))


class Escalation(models.Model):
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="escalations")
    criterion_id = models.CharField(max_length=40)
    review_by = models.CharField(max_length=15, choices=ReviewBy.choices)
    state = models.CharField(max_length=20, choices=EscalationState.choices, default=EscalationState.OPEN)
    state_note = models.CharField(max_length=300, blank=True)
    # Incremented each time the evidence changes; reviews count toward the quorum of their round.
    round = models.PositiveIntegerField(default=1)
    # The evidence of the current round, as the engine gave it (CriterionResult.evidence).
    evidence_digest = models.CharField(max_length=64)
    evidence = models.JSONField(encoder=DjangoJSONEncoder, default=list)
    engine_reason = models.TextField(blank=True)
    criterion_title = models.CharField(max_length=200, blank=True)
    criterion_quote = models.TextField(blank=True)
    criterion_rule = models.TextField(blank=True)
    # The evidence of the round before, when it changed: what reviewers see as "what changed".
    previous_digest = models.CharField(max_length=64, blank=True)
    previous_evidence = models.JSONField(encoder=DjangoJSONEncoder, null=True, blank=True)
    latest_result = models.ForeignKey(CriterionResult, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # Start of the current wait in the queue (opening or reopening): the age shown.
    opened_at = models.DateTimeField()
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Data version of the participant when information was requested: newer data answers it.
    info_requested_version = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The participant's site and cohort, copied so that the EAC queue's total, filter menus and
    # pages read this table's index alone (as ScreeningState's copy does for the dashboard). A
    # trigger fills them when a writer leaves them out, and a foreign key on (participant, site,
    # cohort) refuses other values and cascades a change of the participant's (migration 0006).
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+", db_index=False, editable=False)
    cohort = models.CharField(max_length=3, choices=Cohort.choices, editable=False)

    class Meta:
        ordering = ["opened_at", "pk"]
        triggers = [
            copies_site_and_cohort("escalation_copies_site_and_cohort"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "criterion_id"], name="escalation_one_per_criterion"
            ),
            models.CheckConstraint(
                condition=Q(claimed_by__isnull=True, claimed_at__isnull=True)
                | Q(claimed_by__isnull=False, claimed_at__isnull=False),
                name="escalation_claim_complete",
            ),
            models.CheckConstraint(
                condition=Q(claimed_by__isnull=True) | Q(state=EscalationState.OPEN),
                name="escalation_claim_only_when_open",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "review_by", "opened_at"]),
            # The EAC queue, oldest first: a page reads its rows from the index.
            models.Index(
                fields=["opened_at", "id"],
                condition=Q(review_by=ReviewBy.EAC, state__in=ACTIVE_STATES),
                name="escalation_eac_queue",
            ),
            # The EAC queue by site: its total and filter menus are index-only scans of the open
            # items, and a page filtered by site reads its rows in order.
            models.Index(
                fields=["site", "opened_at", "id"],
                include=["criterion_id", "cohort"],
                condition=Q(review_by=ReviewBy.EAC, state__in=ACTIVE_STATES),
                name="escalation_eac_site",
            ),
            # A page filtered by criterion, in order (a rare criterion's items are far apart in
            # the queue's order: its page read most of the open items).
            models.Index(
                fields=["criterion_id", "opened_at", "id"],
                condition=Q(review_by=ReviewBy.EAC, state__in=ACTIVE_STATES),
                name="escalation_eac_criterion",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.participant} {self.criterion_id} ({self.get_state_display()})"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def claim_expires_at(self) -> datetime | None:
        """When another reviewer may take the item over (EAC_CLAIM_HOURS after the claim)."""
        if self.claimed_at is None:
            return None
        return self.claimed_at + timedelta(hours=claim_hours())

    @property
    def claim_is_stale(self) -> bool:
        expires = self.claim_expires_at
        return expires is not None and expires <= timezone.now()


class Review(models.Model):
    """One reviewer's action on one round: approve or reject (signed) or a request for information."""

    escalation = models.ForeignKey(Escalation, on_delete=models.PROTECT, related_name="reviews")
    round = models.PositiveIntegerField()
    evidence_digest = models.CharField(max_length=64)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=15, choices=ReviewAction.choices)
    rationale = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            # One signed vote per reviewer and round.
            models.UniqueConstraint(
                fields=["escalation", "round", "reviewer"],
                condition=Q(action__in=["approve", "reject"]),
                name="review_one_vote_per_round",
            ),
            models.CheckConstraint(condition=~Q(rationale=""), name="review_has_rationale"),
        ]
        triggers = [
            pgtrigger.Protect(name="review_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.reviewer} (round {self.round})"


class Signature(models.Model):
    """An electronic signature: who, when, what it means and a digest of the evidence signed."""

    review = models.OneToOneField(Review, on_delete=models.PROTECT, related_name="signature")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Up to a first and a last name of 150 characters each (display_name()).
    signer_name = models.CharField(max_length=301)
    signed_at = models.DateTimeField(auto_now_add=True)
    meaning = models.CharField(max_length=300)
    evidence_digest = models.CharField(max_length=64)

    class Meta:
        ordering = ["signed_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(meaning=""), name="signature_has_meaning"),
            models.CheckConstraint(
                condition=Q(evidence_digest__regex=r"^[0-9a-f]{64}$"), name="signature_digest"
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="signature_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.signer_name} {self.signed_at:%Y-%m-%d %H:%M} UTC: {self.meaning}"


class EscalationDecision(models.Model):
    """A decision reached on one round: what the engine reads as an adjudication (case format)."""

    escalation = models.ForeignKey(Escalation, on_delete=models.PROTECT, related_name="decisions")
    round = models.PositiveIntegerField()
    criterion_id = models.CharField(max_length=40)
    review_by = models.CharField(max_length=15, choices=ReviewBy.choices)
    decision = models.CharField(max_length=10, choices=Decision.choices)
    date = models.DateField()
    evidence_digest = models.CharField(max_length=64)
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["decided_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["escalation", "round"], name="decision_one_per_round"),
        ]
        triggers = [
            pgtrigger.Protect(name="decision_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.criterion_id}: {self.decision} on {self.date}"
