"""The one way to reach escalations: scoped by role and site, so anything else is a 404.

- An EAC reviewer sees EAC escalations of participants of every site except their own sites (any
  membership of theirs names a site they belong to).
- An investigator sees the investigator sign-offs of their site(s).
- Site staff, monitors and admins see escalations of the participants they may see (read only).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from participants.models import Membership, Participant, Role, User
from participants.selectors import visible_participants
from screening.criteria import CURRENT_PROTOCOL, PROTOCOL_VERSIONS
from screening.criteria.catalogue import catalogue
from screening.models import CriterionResult, Evaluation, ReviewBy
from screening.selectors import latest_results

from .models import ACTIVE_STATES, Escalation, EscalationDecision, Review


def _memberships(user: User) -> list[Membership]:
    if not user.is_authenticated or not user.is_active:
        return []
    return list(Membership.objects.filter(user=user))


def actionable_escalations(user: User) -> QuerySet[Escalation]:
    """Escalations the user may review and sign: EAC items away from their sites, or the sign-offs
    of the sites where they are investigator (by the escalation's copy of its participant's site)."""
    memberships = _memberships(user)
    own_sites = {m.site_id for m in memberships if m.site_id is not None}
    condition = Q(pk__in=[])
    if any(m.role == Role.EAC_REVIEWER for m in memberships):
        condition |= Q(review_by=ReviewBy.EAC) & ~Q(site_id__in=own_sites)
    investigator_sites = {m.site_id for m in memberships if m.role == Role.INVESTIGATOR}
    if investigator_sites:
        condition |= Q(review_by=ReviewBy.INVESTIGATOR, site_id__in=investigator_sites)
    return Escalation.objects.filter(condition).select_related("participant__site", "claimed_by")


def get_escalation(user: User, pk: int, *, for_update: bool = False) -> Escalation:
    """The escalation `pk` if the user may act on it, else 404; locked with for_update."""
    qs = actionable_escalations(user)
    if for_update:
        qs = qs.select_for_update(of=("self",))
    return get_object_or_404(qs, pk=pk)


def open_eac_items(user: User) -> QuerySet[Escalation]:
    """The user's open EAC items, unordered: what the queue's total, filter menus and pages read
    (the partial indexes of open EAC items, adjudication 0005 and 0006)."""
    return actionable_escalations(user).filter(review_by=ReviewBy.EAC, state__in=ACTIVE_STATES)


def eac_queue(user: User, items: QuerySet[Escalation] | None = None) -> QuerySet[Escalation]:
    """Open EAC escalations (`items`, by default the user's) oldest first, with the reviews of
    their current round counted (the queue page narrows it with adjudication.filters.QueueFilter)."""
    qs = open_eac_items(user) if items is None else items
    # Counted per row by subqueries, which PostgreSQL runs for the rows of the page only (after
    # the sort and the limit), not for every open item as a grouped join would.
    signed = Review.objects.filter(
        escalation=OuterRef("pk"), round=OuterRef("round"), action__in=["approve", "reject"]
    )
    return qs.annotate(
        votes=_count(signed),
        approvals=_count(signed.filter(action="approve")),
        my_votes=_count(signed.filter(reviewer=user)),
    ).order_by("opened_at", "pk")


def _count(reviews: QuerySet[Review]) -> Coalesce:
    counted = reviews.order_by().values("escalation").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


@dataclass(frozen=True)
class QueueChoices:
    """The criteria and sites present among the open items, for the queue's filter menus."""

    criteria: list[str]
    sites: dict[str, int]  # site code → site ID, in code order


def queue_filter_choices(items: QuerySet[Escalation]) -> QueueChoices:
    """The criteria and sites of `items` (open_eac_items): one row per (criterion, site), read
    from the open items' own index (their copy of the site), the sites' codes joined to it."""
    rows = (
        items.order_by()  # the ordering's columns would join the DISTINCT: one row per item
        .values_list("criterion_id", "site_id", "site__code")
        .distinct()
    )
    criteria: set[str] = set()
    sites: dict[str, int] = {}
    for criterion_id, site_id, code in rows:
        criteria.add(criterion_id)
        sites[code] = site_id
    return QueueChoices(criteria=sorted(criteria), sites=dict(sorted(sites.items())))


def pending_signoffs(user: User) -> QuerySet[Escalation]:
    """Investigator sign-offs waiting at the user's site(s)."""
    return (
        actionable_escalations(user)
        .filter(review_by=ReviewBy.INVESTIGATOR, state__in=ACTIVE_STATES)
        .order_by("opened_at", "pk")
    )


def escalations_for_participant(user: User, participant: Participant) -> list[Escalation]:
    """The participant's escalations for the site's own page (empty if the user may not see it),
    with their reviews, decisions and the criterion's result in the latest evaluation
    (`current_result`)."""
    # The visibility check is a condition of the same statement: no escalation of a participant
    # the user may not see.
    visible = visible_participants(user).filter(pk=participant.pk).values("pk")
    escalations = list(
        Escalation.objects.filter(participant=participant, participant_id__in=visible)
        .prefetch_related(
            Prefetch(
                "reviews",
                queryset=Review.objects.select_related("signature").order_by("created_at", "pk"),
            ),
            Prefetch("decisions", queryset=EscalationDecision.objects.order_by("decided_at", "pk")),
        )
        .order_by("-updated_at", "pk")
    )
    if not escalations:
        return escalations
    current = {
        r.criterion_id: r
        for r in latest_results([participant.pk]).filter(
            criterion_id__in=[e.criterion_id for e in escalations]
        )
    }
    for e in escalations:
        e.current_result = current.get(e.criterion_id)  # type: ignore[attr-defined]
    return escalations


@dataclass(frozen=True)
class ReviewPage:
    """What a reviewer reads: the participant's current evaluation (every criterion, and the case it
    read), the evaluations that changed this criterion, and every review of the escalation."""

    current: Evaluation | None
    results: list[CriterionResult]  # every criterion of the current evaluation, catalogue order
    titles: dict[str, str]
    history: list[CriterionResult]  # this criterion's rows where it changed, newest first
    reviews: list[Review]
    decisions: list[EscalationDecision]

    @property
    def titled_results(self) -> list[tuple[CriterionResult, str]]:
        return [(r, self.titles.get(r.criterion_id, r.criterion_id)) for r in self.results]

    @property
    def open_results(self) -> list[CriterionResult]:
        return [r for r in self.results if r.outcome not in ("PASS", "NOT_APPLICABLE")]

    @property
    def case(self) -> dict[str, Any]:
        return json.loads(self.current.case_json, parse_float=Decimal) if self.current else {}


def escalations_panel(user: User, participant: Participant) -> dict[str, Any]:
    """The participant page's escalations panel (registered in AdjudicationConfig.ready)."""
    return {"escalations": escalations_for_participant(user, participant)}


def _changed_rows(rows: list[CriterionResult]) -> list[CriterionResult]:
    """Of one criterion's rows oldest first, those whose outcome or evidence differs from the row
    before (the first always): an evaluation triggered by data this criterion ignores is left out."""
    kept: list[CriterionResult] = []
    for row in rows:
        if not kept or (row.outcome, row.evidence_digest) != (kept[-1].outcome, kept[-1].evidence_digest):
            kept.append(row)
    return kept


def _titles(version: str) -> dict[str, str]:
    """Criterion titles of the evaluation's protocol version (an unknown one: the current's)."""
    return {c.id: c.title for c in catalogue(version if version in PROTOCOL_VERSIONS else CURRENT_PROTOCOL)}


def review_page(escalation: Escalation) -> ReviewPage:
    """Read only through an escalation the selector already allowed (a fixed number of queries)."""
    rows = list(
        CriterionResult.objects.filter(
            evaluation__participant_id=escalation.participant_id, criterion_id=escalation.criterion_id
        )
        .select_related("evaluation")
        .defer("evaluation__case_json")
        .order_by("evaluation__sequence")
    )
    current = (
        Evaluation.objects.filter(participant_id=escalation.participant_id).order_by("-sequence").first()
    )
    results = list(current.results.order_by("position")) if current else []
    return ReviewPage(
        current=current,
        results=results,
        titles=_titles(current.protocol_version if current else ""),
        history=list(reversed(_changed_rows(rows))),
        reviews=list(escalation.reviews.select_related("reviewer", "signature").order_by("created_at", "pk")),
        decisions=list(escalation.decisions.order_by("decided_at", "pk")),
    )


def eac_log(user: User) -> QuerySet[Escalation]:
    """Every escalation the user may export (admins and monitors), with reviews and decisions."""
    return (
        Escalation.objects.filter(participant__in=visible_participants(user))
        .select_related("participant__site", "latest_result__evaluation")
        .prefetch_related(
            Prefetch(
                "reviews",
                queryset=Review.objects.select_related("reviewer", "signature").order_by("created_at", "pk"),
            ),
            Prefetch("decisions", queryset=EscalationDecision.objects.order_by("decided_at", "pk")),
        )
        .order_by("created_at", "pk")
    )
