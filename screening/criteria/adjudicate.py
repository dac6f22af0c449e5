"""Applying recorded decisions to REVIEW results (CRITERIA.md § 1.8)."""

from __future__ import annotations

from .canonical import evidence_digest
from .context import Ctx
from .results import CriterionResult, Outcome


def adjudicate(ctx: Ctx, r: CriterionResult) -> CriterionResult:
    """A REVIEW gets its digest; a decision on that same digest (dated <= T, latest wins) settles it."""
    if r.outcome is not Outcome.REVIEW:
        return r
    evidence = r.evidence or ()
    digest = evidence_digest(evidence)
    decisions = ctx.adjudications.get(r.id)
    if not decisions:
        return r._replace(evidence_digest=digest)
    match = None
    for a in decisions:
        if (
            a.review_by == r.review_by
            and a.evidence_digest == digest
            and (match is None or a.date >= match.date)
        ):
            match = a
    if match is None:
        return r._replace(
            evidence_digest=digest,
            reason=r.reason + " An earlier decision was made on different evidence and no longer applies.",
        )
    who = "The EAC" if match.review_by == "eac" else "The investigator"
    verb = "accepted" if match.decision == "accept" else "rejected"
    return r._replace(
        outcome=Outcome.PASS if match.decision == "accept" else Outcome.FAIL,
        review_by=None,
        reason=f"{r.reason} {who} {verb} this on {match.date}.",
        evidence_digest=digest,
    )
