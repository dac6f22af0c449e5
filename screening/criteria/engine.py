"""evaluate(): every criterion of a protocol version for one case (CRITERIA.md § 1)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

from .adjudicate import adjudicate
from .catalogue import rules
from .context import Ctx
from .framework import Rule, not_applicable
from .model import Case
from .protocol import CURRENT_PROTOCOL, PROTOCOL_VERSIONS, ProtocolVersion, get_protocol
from .results import CriterionResult, Evaluation, Outcome, Overall

ONE_DAY: Final = timedelta(days=1)
_FAIL: Final = Outcome.FAIL
_MISSING: Final = Outcome.MISSING
_REVIEW: Final = Outcome.REVIEW
_PASS: Final = Outcome.PASS
_NA: Final = Outcome.NOT_APPLICABLE


# Per cohort, each criterion's rule, or its NOT_APPLICABLE result when it belongs to another
# cohort (§ 1.5: decided without reading any input, so it is built once).
_Step = tuple[Rule, bool, CriterionResult | None]


def _plan(protocol: ProtocolVersion, cohort: str) -> tuple[_Step, ...]:
    steps: list[_Step] = []
    for info, rule in rules(protocol):
        if info.cohort is not None and info.cohort != cohort:
            steps.append(
                (rule, info.timing, not_applicable(info.id, f"Applies to the {info.cohort} cohort only."))
            )
        else:
            steps.append((rule, info.timing, None))
    return tuple(steps)


# By protocol version, then cohort.
_PLANS: Final = {
    version: {cohort: _plan(p, cohort) for cohort in ("SLE", "IIM", "SSc")}
    for version, p in PROTOCOL_VERSIONS.items()
}


def protocol_for(case: Case, override: ProtocolVersion | None = None) -> ProtocolVersion:
    """The version a case is evaluated under: the override, else the one it names, else the current one."""
    if override is not None:
        return override
    if case.protocol_version is not None:
        return get_protocol(case.protocol_version)
    return CURRENT_PROTOCOL


def evaluate(case: Case, protocol: ProtocolVersion | None = None) -> Evaluation:
    protocol = protocol_for(case, protocol)
    ctx = Ctx.build(case, protocol)
    plan = _PLANS[protocol.version][case.cohort]
    # Most results are PASS or NOT_APPLICABLE: compute all, then revisit only the others.
    # Adjudication depends only on the case, so applying it afterwards changes nothing
    # (inc.childbearing_status is settled inside the rules that depend on it).
    results = [na if na is not None else rule(ctx) for rule, _timing, na in plan]
    shifted: dict[date, Ctx] = {}
    stale = ctx.stale
    any_fail = any_missing = any_review = False
    for i, r in enumerate(results):
        outcome = r.outcome
        if outcome is _PASS or outcome is _NA:
            continue
        if outcome is _REVIEW:
            r = adjudicate(ctx, r)
            outcome = r.outcome
        if outcome is _FAIL:
            any_fail = True
            rule, timing, _na = plan[i]
            if timing and r.valid_until is not None:
                f = r.valid_until + ONE_DAY
                later = shifted.get(f)
                if later is None:
                    later = shifted[f] = ctx.shifted(f)
                if adjudicate(later, rule(later)).outcome is _PASS:
                    r = r._replace(eligible_from=f)
        elif outcome is _MISSING:
            any_missing = True
            if stale:
                for path in r.missing:
                    if path in stale:
                        r = r._replace(repeat_from=ctx.window_start)
                        break
        elif outcome is _REVIEW:
            any_review = True
        results[i] = r
    vus = [r.valid_until for r in results if r.valid_until is not None]
    valid_until = min(vus) if vus else None
    eligible_from: date | None = None
    if any_fail:
        overall = Overall.INELIGIBLE
        for r in results:
            if r.outcome is _FAIL:
                if r.eligible_from is None:
                    eligible_from = None
                    break
                if eligible_from is None or r.eligible_from > eligible_from:
                    eligible_from = r.eligible_from
    elif any_missing:
        overall = Overall.INCOMPLETE
    elif any_review:
        overall = Overall.PENDING_REVIEW
    else:
        overall = Overall.ELIGIBLE
    return Evaluation(
        case.case_id, protocol.version, case.dates.as_of, overall, valid_until, eligible_from, tuple(results)
    )
