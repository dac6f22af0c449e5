"""Refractory rule R (CRITERIA.md § 3.1), shared by the three cohorts' `*.refractory` criteria."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Final

from .calendar_math import add_months
from .context import Ctx
from .framework import (
    INVESTIGATOR,
    Rule,
    entry,
    ev_therapy,
    failed,
    missing,
    passed,
    review,
)
from .results import CriterionResult
from .table4 import Exposure

ONE_DAY: Final = timedelta(days=1)


RULE_R: Final = (
    "Counting entry: a listed agent that counts as an immunosuppressant for the participant's cohort; or an other "
    "entry with counts_as_immunosuppressant = true (a *candidate*: exposure continuous, dosing interval 0). "
    "Qualifying entry: a counting entry with one of: - stopped_for_intolerance = true (any duration); - exposure "
    "continuous: end ≥ start + {prior_immunosuppressant_months} months, where end = T if ongoing, else the earlier "
    "of T and last_dose + dosing interval (the last dose of an interval-dosed agent covers one more interval, but "
    "exposure never extends past T); - exposure course (B-cell depleting antibodies, cyclophosphamide): T ≥ start "
    "+ {prior_immunosuppressant_months} months, so at least {prior_immunosuppressant_months} months have passed "
    "since the first dose of the course. Rule: PASS if a listed entry qualifies. Otherwise REVIEW, investigator, "
    "if a candidate qualifies (the investigator confirms that the agent is an immunosuppressant of standard care). "
    "Otherwise FAIL if therapies is reviewed, else MISSING [reviewed.therapies]."
)


def refractory(cid: str, cohort: str) -> Rule:
    def rule(ctx: Ctx) -> CriterionResult:
        months = ctx.th.prior_immunosuppressant_months
        t = ctx.t
        listed_ok = None
        candidates: list[Any] = []
        will_qualify: list[tuple[date, bool]] = []
        for v in ctx.therapies:
            th = v.therapy
            agent = v.agent
            if th.agent == "other":
                if not th.counts_as_immunosuppressant:
                    continue
                listed = False
            elif agent.counts_as_immunosuppressant(cohort):
                listed = True
            else:
                continue
            mark = add_months(th.start, months)
            interval = timedelta(days=agent.dosing_interval_days)
            if th.stopped_for_intolerance:
                ok = True
            elif agent.exposure is Exposure.COURSE:
                ok = t >= mark
            else:
                if v.ongoing:
                    end = t
                else:
                    assert v.last_dose is not None
                    end = min(t, v.last_dose + interval)
                ok = end >= mark
            if ok:
                if listed:
                    if listed_ok is None:
                        listed_ok = th
                else:
                    candidates.append(th)
            elif mark > t and (
                v.ongoing
                or agent.exposure is Exposure.COURSE
                or (v.last_dose is not None and v.last_dose + interval >= mark)
            ):
                will_qualify.append((mark, listed))
        if listed_ok is not None:
            why = (
                "stopped for intolerance"
                if listed_ok.stopped_for_intolerance
                else f"at least {months} months"
            )
            return passed(cid, f"Prior {listed_ok.agent.replace('_', ' ')} since {listed_ok.start} ({why}).")
        vu = min(m for m, _ in will_qualify) - ONE_DAY if will_qualify else None
        if candidates:
            names = ", ".join(th.agent_name or th.agent for th in candidates)
            return review(
                cid,
                INVESTIGATOR,
                f"Only unlisted agents qualify ({names}): the investigator confirms "
                "that they are standard-of-care immunosuppressants.",
                (entry(cid + "/unlisted_agent", [ev_therapy(th) for th in candidates]),),
                vu,
            )
        if "therapies" not in ctx.reviewed:
            return missing(
                cid,
                "No qualifying immunosuppressant on record; the therapy history is not reviewed.",
                ("reviewed.therapies",),
            )
        return failed(
            cid,
            f"No immunosuppressant (Table 4) for at least {months} months or stopped for intolerance.",
            vu,
        )

    return rule
