"""Outcomes and result records of an evaluation (CRITERIA.md § 1.1, § 1.2)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any, NamedTuple


class Outcome(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    MISSING = "MISSING"
    REVIEW = "REVIEW"
    NOT_APPLICABLE = "NOT_APPLICABLE"


class Overall(StrEnum):
    ELIGIBLE = "ELIGIBLE"
    INELIGIBLE = "INELIGIBLE"
    INCOMPLETE = "INCOMPLETE"
    PENDING_REVIEW = "PENDING_REVIEW"


class ReviewBy(StrEnum):
    EAC = "eac"
    INVESTIGATOR = "investigator"


# One `{"review_key", "evidence"}` object of § 1.8, JSON-ready (dates as strings, values as recorded).
EvidenceEntry = dict[str, Any]


class CriterionResult(NamedTuple):
    """One criterion's result. A named tuple: immutable and cheap to build 57 times per case."""

    id: str
    outcome: Outcome
    review_by: ReviewBy | None
    reason: str
    missing: tuple[str, ...]
    valid_until: date | None
    eligible_from: date | None
    repeat_from: date | None
    evidence_digest: str | None
    evidence: tuple[EvidenceEntry, ...] | None


class Evaluation(NamedTuple):
    case_id: str
    protocol_version: str
    as_of: date
    overall: Overall
    valid_until: date | None
    eligible_from: date | None
    criteria: tuple[CriterionResult, ...]

    def result(self, criterion_id: str) -> CriterionResult:
        for r in self.criteria:
            if r.id == criterion_id:
                return r
        raise KeyError(criterion_id)
