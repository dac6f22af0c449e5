"""Building blocks of the rules: results, parts (§ 1.3), boolean criteria, evidence items (§ 1.8)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any, Final

from .context import Ctx
from .model import DatedFact, Event, LabResult, Therapy
from .results import CriterionResult, EvidenceEntry, Outcome, ReviewBy

PASS: Final = Outcome.PASS
FAIL: Final = Outcome.FAIL
MISSING: Final = Outcome.MISSING
REVIEW: Final = Outcome.REVIEW
NA: Final = Outcome.NOT_APPLICABLE
EAC: Final = ReviewBy.EAC
INVESTIGATOR: Final = ReviewBy.INVESTIGATOR

Rule = Callable[[Ctx], CriterionResult]
_NONE: Final[tuple[str, ...]] = ()


# tuple.__new__ skips the generated NamedTuple constructor: these run ~60 times per evaluation.
_new = tuple.__new__
_CR: Final = CriterionResult


def passed(cid: str, reason: str, vu: date | None = None) -> CriterionResult:
    return _new(_CR, (cid, PASS, None, reason, _NONE, vu, None, None, None, None))


def failed(cid: str, reason: str, vu: date | None = None) -> CriterionResult:
    return _new(_CR, (cid, FAIL, None, reason, _NONE, vu, None, None, None, None))


def missing(cid: str, reason: str, paths: tuple[str, ...]) -> CriterionResult:
    return _new(_CR, (cid, MISSING, None, reason, paths, None, None, None, None, None))


def review(
    cid: str, by: ReviewBy, reason: str, evidence: tuple[EvidenceEntry, ...], vu: date | None = None
) -> CriterionResult:
    return CriterionResult(cid, REVIEW, by, reason, _NONE, vu, None, None, None, evidence)


def not_applicable(cid: str, reason: str) -> CriterionResult:
    return CriterionResult(cid, NA, None, reason, _NONE, None, None, None, None, None)


class Part:
    """One part of a criterion made of parts (§ 1.3)."""

    __slots__ = ("outcome", "reason", "missing", "by", "vu", "evidence")

    def __init__(
        self,
        outcome: Outcome,
        reason: str,
        missing: tuple[str, ...] = _NONE,
        by: ReviewBy | None = None,
        vu: date | None = None,
        evidence: EvidenceEntry | None = None,
    ) -> None:
        self.outcome = outcome
        self.reason = reason
        self.missing = missing
        self.by = by
        self.vu = vu
        self.evidence = evidence


def combine(
    cid: str, parts: Sequence[Part], vu: date | None = None, empty_reason: str = "Nothing to check."
) -> CriterionResult:
    """First outcome present in the order FAIL, MISSING, REVIEW, PASS; no part → PASS."""
    if not parts:
        return passed(cid, empty_reason, vu)
    outcome = outcome_of(parts)
    if len(parts) == 1:
        chosen: Sequence[Part] = parts
        reason = parts[0].reason
    else:
        chosen = []
        reasons = []
        for p in parts:
            if p.outcome is outcome:
                chosen.append(p)
                reasons.append(p.reason)
        reason = " ".join(reasons)
    if outcome is PASS:
        return passed(cid, reason, vu)
    if outcome is FAIL:
        return failed(cid, reason, vu)
    if outcome is MISSING:
        paths: list[str] = []
        for p in chosen:
            for m in p.missing:
                if m not in paths:
                    paths.append(m)
        return missing(cid, reason, tuple(paths))
    reviewers = {p.by for p in chosen}
    by = reviewers.pop() if len(reviewers) == 1 else EAC
    assert by is not None
    evidence = tuple(p.evidence for p in chosen if p.evidence is not None)
    return review(cid, by, reason, evidence, vu)


_RANK: Final = {FAIL: 0, MISSING: 1, REVIEW: 2, PASS: 3}


def outcome_of(parts: Sequence[Part]) -> Outcome:
    """FAIL before MISSING before REVIEW before PASS; PASS when there is no part."""
    best = PASS
    rank = 3
    for p in parts:
        o = p.outcome
        if o is FAIL:
            return FAIL
        r = _RANK[o]
        if r < rank:
            best, rank = o, r
    return best


_BOOL_PARTS: Final[dict[tuple[str, bool, str, str], dict[object, Part]]] = {}


def bool_part(ctx: Ctx, key: str, passing: bool, pass_reason: str, fail_reason: str) -> Part:
    """A boolean part (§ 1.3). Its three possible parts are built once: parts are never modified."""
    spec = (key, passing, pass_reason, fail_reason)
    by_value = _BOOL_PARTS.get(spec)
    if by_value is None:
        by_value = _BOOL_PARTS[spec] = {
            passing: Part(PASS, pass_reason),
            (not passing): Part(FAIL, fail_reason),
            None: Part(MISSING, f"{key} is not recorded.", ("facts." + key,)),
        }
    return by_value[ctx.facts.get(key)]


def boolean_criterion(cid: str, key: str, passing: bool, pass_reason: str, fail_reason: str) -> Rule:
    """A criterion read from one boolean fact; its three possible results are built once."""
    by_value: dict[object, CriterionResult] = {
        passing: passed(cid, pass_reason),
        (not passing): failed(cid, fail_reason),
        None: missing(cid, f"{key} is not recorded.", ("facts." + key,)),
    }

    def rule(ctx: Ctx) -> CriterionResult:
        return by_value[ctx.facts.get(key)]

    return rule


_REVIEWED_PARTS: Final[dict[tuple[str, str], tuple[Part, Part]]] = {}


def reviewed_part(ctx: Ctx, area: str, none_reason: str) -> Part:
    """PASS when the area's history is reviewed, else MISSING; both parts are built once."""
    parts = _REVIEWED_PARTS.get((area, none_reason))
    if parts is None:
        parts = _REVIEWED_PARTS[(area, none_reason)] = (
            Part(PASS, none_reason),
            Part(MISSING, f"The {area.replace('_', ' ')} history is not reviewed.", ("reviewed." + area,)),
        )
    return parts[0] if area in ctx.reviewed else parts[1]


_TIMEDELTAS: Final[dict[int, timedelta]] = {}


def days(n: int) -> timedelta:
    """timedelta(days=n), memoised: washouts are few and fixed."""
    delta = _TIMEDELTAS.get(n)
    if delta is None:
        delta = _TIMEDELTAS[n] = timedelta(days=n)
    return delta


# Evidence items (§ 1.8): inputs as recorded, values not converted.


def ev_lab(lab: LabResult | None, test: str) -> dict[str, Any]:
    if lab is None:
        return {"path": "labs." + test, "date": None, "value": None, "unit": None, "uln": None}
    return {
        "path": "labs." + test,
        "date": lab.collected.isoformat(),
        "value": lab.value,
        "unit": lab.unit,
        "uln": lab.uln,
    }


def ev_fact(ctx: Ctx, key: str) -> dict[str, Any]:
    value = ctx.facts.get(key)
    if type(value) is DatedFact:
        usable = ctx.dated_usable.get(key)
        if usable is None:
            return {"path": "facts." + key, "date": None, "value": None}
        return {"path": "facts." + key, "date": usable.date.isoformat(), "value": usable.value}
    if isinstance(value, date):
        value = value.isoformat()
    return {"path": "facts." + key, "date": None, "value": value}


def ev_event(ev: Event) -> dict[str, Any]:
    return {"path": "events." + ev.kind, "date": ev.date.isoformat(), "value": dict(ev.fields)}


def ev_therapy(t: Therapy) -> dict[str, Any]:
    return {"path": "therapies", "date": t.start.isoformat(), "value": dict(t.fields)}


def entry(review_key: str, items: list[dict[str, Any]]) -> EvidenceEntry:
    return {"review_key": review_key, "evidence": items}


def fmt(d: Any) -> str:
    """A value for a reason (display only)."""
    return str(d)
