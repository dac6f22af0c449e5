"""Inclusion criteria of the SLE, IIM and SSc cohorts (CRITERIA.md § 3-5), rule R included."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Final

from .calendar_math import add_months, window_end_months
from .canonical import format_decimal
from .context import Ctx
from .framework import (
    EAC,
    FAIL,
    INVESTIGATOR,
    MISSING,
    PASS,
    REVIEW,
    Part,
    Rule,
    combine,
    entry,
    ev_event,
    ev_fact,
    ev_lab,
    ev_therapy,
    failed,
    missing,
    not_applicable,
    passed,
    review,
)
from .model import Event, LabResult
from .results import CriterionResult
from .rules_inclusion import lab_absent_reason, show
from .table4 import Exposure

ONE_DAY: Final = timedelta(days=1)
_NA: Final = {c: f"Applies to the {c} cohort only." for c in ("SLE", "IIM", "SSc")}


def _na(cid: str, cohort: str) -> CriterionResult:
    return not_applicable(cid, _NA[cohort])


def latest(events: list[Event]) -> Event | None:
    """The event with the latest date (on a tie, the one listed last)."""
    best = None
    for ev in events:
        if best is None or ev.date >= best.date:
            best = ev
    return best


def positive_antibody(lab: LabResult) -> bool:
    value = lab.value
    if isinstance(value, str):
        return value == "positive"
    assert lab.uln is not None
    return value > lab.uln


# ---- SLE ---------------------------------------------------------------------------------------


def sle_slicc(ctx: Ctx) -> CriterionResult:
    cid = "sle.slicc"
    if ctx.cohort != "SLE":
        return _na(cid, "SLE")
    facts = ctx.facts
    clinical = facts.get("slicc_clinical_count")
    immunologic = facts.get("slicc_immunologic_count")
    biopsy = facts.get("slicc_biopsy_proven_ln")
    if biopsy is True:
        return passed(cid, "Biopsy-proven lupus nephritis with ANA or anti-dsDNA (SLICC 2012).")
    if (
        clinical is not None
        and immunologic is not None
        and clinical >= 1
        and immunologic >= 1
        and clinical + immunologic >= 4
    ):
        return passed(cid, f"SLICC 2012: {clinical} clinical and {immunologic} immunological criteria.")
    if biopsy is False and (
        clinical == 0 or immunologic == 0 or (clinical is not None and immunologic is not None)
    ):
        return failed(
            cid,
            f"SLICC 2012 not met ({clinical} clinical, {immunologic} immunological criteria; "
            "no biopsy-proven lupus nephritis).",
        )
    paths = tuple(
        "facts." + k
        for k, v in (
            ("slicc_clinical_count", clinical),
            ("slicc_immunologic_count", immunologic),
            ("slicc_biopsy_proven_ln", biopsy),
        )
        if v is None
    )
    return missing(cid, "SLICC 2012 cannot be decided from the recorded counts.", paths)


_AUTOANTIBODIES: Final = ("anti_dsdna", "anti_sm", "anti_rnp")


def sle_autoantibody(ctx: Ctx) -> CriterionResult:
    cid = "sle.autoantibody"
    if ctx.cohort != "SLE":
        return _na(cid, "SLE")
    positives = []
    unusable = []
    earliest: date | None = None
    for test in _AUTOANTIBODIES:
        lab = ctx.usable.get(test)
        if lab is None:
            unusable.append(test)
            continue
        if earliest is None or lab.collected < earliest:
            earliest = lab.collected
        if positive_antibody(lab):
            positives.append(lab)
    if positives:
        vu = max(lab.collected for lab in positives) + ctx.w
        shown = ", ".join(
            f"{lab.test} {show(lab)}" + (f" (ULN {lab.uln})" if lab.uln is not None else "")
            for lab in positives
        )
        return passed(cid, f"Positive: {shown}.", vu)
    if not unusable:
        assert earliest is not None
        return failed(cid, "Anti-dsDNA, anti-Sm and anti-RNP are all not above the ULN.", earliest + ctx.w)
    return missing(
        cid, " ".join(lab_absent_reason(ctx, t) for t in unusable), tuple("labs." + t for t in unusable)
    )


def sle_sledai(ctx: Ctx) -> CriterionResult:
    cid = "sle.sledai"
    if ctx.cohort != "SLE":
        return _na(cid, "SLE")
    if ctx.case.lupus_nephritis:
        return not_applicable(cid, "LN stratum: activity is assessed by the kidney biopsy.")
    fact = ctx.dated_usable.get("sledai2k")
    if fact is None:
        return missing(cid, _fact_absent(ctx, "sledai2k", "SLEDAI-2K"), ("facts.sledai2k",))
    vu = fact.date + ctx.w
    if fact.value >= ctx.th.sledai_min:
        return passed(cid, f"SLEDAI-2K {fact.value} ({fact.date}) ≥ {ctx.th.sledai_min}.", vu)
    return failed(cid, f"SLEDAI-2K {fact.value} ({fact.date}) < {ctx.th.sledai_min}.", vu)


def _fact_absent(ctx: Ctx, key: str, label: str) -> str:
    old = ctx.dated.get(key)
    if old is None:
        return f"{label} is not recorded."
    return (
        f"{label} of {old.date} is before the screening window, which starts {ctx.window_start}; "
        f"repeat on or after {ctx.window_start}."
    )


def sle_organ_involvement(ctx: Ctx) -> CriterionResult:
    cid = "sle.organ_involvement"
    if ctx.cohort != "SLE":
        return _na(cid, "SLE")
    if ctx.case.lupus_nephritis:
        return not_applicable(cid, "LN stratum: activity is assessed by the kidney biopsy.")
    fact = ctx.dated_usable.get("bilag2004")
    if fact is None:
        return missing(cid, _fact_absent(ctx, "bilag2004", "BILAG-2004"), ("facts.bilag2004",))
    grades: dict[str, str] = fact.value
    values = list(grades.values())
    a, b = values.count("A"), values.count("B")
    vu = fact.date + ctx.w
    parts = []
    if a >= 1 or b >= 2:
        parts.append(Part(PASS, f"BILAG-2004 ({fact.date}): {a} A and {b} B domains."))
    else:
        parts.append(Part(FAIL, f"BILAG-2004 ({fact.date}): {a} A and {b} B domains; needs one A or two B."))
    renal = grades.get("renal")
    if renal in ("A", "B"):
        parts.append(
            Part(
                REVIEW,
                f"Renal BILAG {renal} in the non-LN stratum: the investigator confirms the stratum.",
                by=INVESTIGATOR,
                evidence=entry(
                    "sle.organ_involvement/renal",
                    [{"path": "facts.bilag2004.renal", "date": fact.date.isoformat(), "value": renal}],
                ),
            )
        )
    return combine(cid, parts, vu)


def sle_ln_biopsy(ctx: Ctx) -> CriterionResult:
    cid = "sle.ln_biopsy"
    if ctx.cohort != "SLE":
        return _na(cid, "SLE")
    if not ctx.case.lupus_nephritis:
        return not_applicable(cid, "Non-LN stratum.")
    b = latest(ctx.kind("kidney_biopsy"))
    months = ctx.th.ln_biopsy_window_months
    if b is not None:
        classes = b.isn_rps_classes
        shown = "+".join(classes)
        if "III" not in classes and "IV" not in classes:
            return failed(
                cid, f"The latest kidney biopsy ({b.date}, class {shown}) does not show class III or IV."
            )
        if b.date >= add_months(ctx.e, -months):
            vu = window_end_months(b.date, months)
            index = b.nih_activity_index
            if index is None:
                return missing(
                    cid,
                    f"The NIH activity index of the biopsy of {b.date} is not recorded.",
                    ("events.kidney_biopsy.nih_activity_index",),
                )
            minimum = ctx.settings.ln_min_nih_activity_index
            if index >= minimum:
                return passed(
                    cid, f"Kidney biopsy {b.date}: class {shown}, NIH activity index {index} ≥ {minimum}.", vu
                )
            return review(
                cid,
                EAC,
                f"Kidney biopsy {b.date}: class {shown}, NIH activity index {index} below the "
                f"working threshold {minimum} (the page's threshold is lost): EAC decides.",
                (entry("sle.ln_biopsy/low_activity", [ev_event(b)]),),
                vu,
            )
    if "kidney_biopsy" not in ctx.reviewed:
        return missing(
            cid,
            "No kidney biopsy within 6 months; the kidney biopsy history is not reviewed.",
            ("reviewed.kidney_biopsy",),
        )
    what = (
        f"the latest biopsy ({b.date}) is older than {months} months"
        if b is not None
        else "no kidney biopsy on record"
    )
    items = [ev_event(b)] if b is not None else []
    return review(
        cid,
        EAC,
        f"Biopsy exception: {what}; the EAC decides after medical monitor discussion.",
        (entry("sle.ln_biopsy/no_recent_biopsy", items),),
    )


# ---- Refractory rule R (§ 3.1) -----------------------------------------------------------------


def refractory(cid: str, cohort: str) -> Rule:
    def rule(ctx: Ctx) -> CriterionResult:
        if ctx.cohort != cohort:
            return _na(cid, cohort)
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
            return passed(cid, f"Prior {listed_ok.agent} since {listed_ok.start} ({why}).")
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


sle_refractory: Rule = refractory("sle.refractory", "SLE")
iim_refractory: Rule = refractory("iim.refractory", "IIM")
ssc_refractory: Rule = refractory("ssc.refractory", "SSc")


# ---- IIM ---------------------------------------------------------------------------------------

_IIM_ELIGIBLE_SUBTYPES: Final = frozenset(
    ("dermatomyositis", "amyopathic_dermatomyositis", "imnm", "antisynthetase_syndrome")
)


def iim_classification(ctx: Ctx) -> CriterionResult:
    cid = "iim.classification"
    if ctx.cohort != "IIM":
        return _na(cid, "IIM")
    th = ctx.th
    facts = ctx.facts
    score = facts.get("iim_eular_acr_2017_score")
    parts = []
    if score is None:
        parts.append(
            Part(MISSING, "The 2017 EULAR/ACR score is not recorded.", ("facts.iim_eular_acr_2017_score",))
        )
    elif score >= th.iim_score_min_with_biopsy:
        parts.append(Part(PASS, f"2017 EULAR/ACR score {format_decimal(score)}."))
    elif score < th.iim_score_min_without_biopsy:
        parts.append(
            Part(FAIL, f"2017 EULAR/ACR score {format_decimal(score)} < {th.iim_score_min_without_biopsy}.")
        )
    else:
        with_biopsy = facts.get("iim_eular_acr_2017_with_biopsy")
        if with_biopsy is False:
            parts.append(
                Part(
                    PASS,
                    f"2017 EULAR/ACR score {format_decimal(score)} without biopsy ≥ "
                    f"{th.iim_score_min_without_biopsy}.",
                )
            )
        elif with_biopsy is True:
            parts.append(
                Part(
                    FAIL,
                    f"2017 EULAR/ACR score {format_decimal(score)} with biopsy < "
                    f"{th.iim_score_min_with_biopsy}.",
                )
            )
        else:
            parts.append(
                Part(
                    MISSING,
                    "Whether the 2017 score includes a muscle biopsy is not recorded.",
                    ("facts.iim_eular_acr_2017_with_biopsy",),
                )
            )
    subtype = facts.get("iim_subtype")
    if subtype is None:
        parts.append(Part(MISSING, "The IIM subtype is not recorded.", ("facts.iim_subtype",)))
    elif subtype in _IIM_ELIGIBLE_SUBTYPES:
        parts.append(Part(PASS, f"Subtype {subtype.replace('_', ' ')}."))
    else:
        parts.append(Part(FAIL, f"Subtype {subtype.replace('_', ' ')} is not an eligible IIM."))
    return combine(cid, parts)


def iim_involvement(ctx: Ctx) -> CriterionResult:
    cid = "iim.involvement"
    if ctx.cohort != "IIM":
        return _na(cid, "IIM")
    th = ctx.th
    w = ctx.w
    met: list[tuple[str, date]] = []
    undecided: list[str] = []
    notes: list[str] = []
    # M1 biopsy
    months = ctx.settings.muscle_biopsy_window_months
    since = add_months(ctx.e, -months)
    recent = [b for b in ctx.kind("muscle_biopsy") if b.active_myositis is True and b.date >= since]
    if recent:
        met.append(
            (
                f"muscle biopsy with active myositis on {max(b.date for b in recent)}",
                max(window_end_months(b.date, months) for b in recent),
            )
        )
    elif "muscle_biopsy" not in ctx.reviewed:
        undecided.append("reviewed.muscle_biopsy")
    # M2 enzymes
    ck = ctx.usable.get("ck")
    aldolase = ctx.usable.get("aldolase")
    enzyme_met = []
    if ck is not None:
        assert ck.uln is not None
        if ck.value > th.iim_ck_uln_multiple * ck.uln:  # type: ignore[operator]
            enzyme_met.append(ck)
    if aldolase is not None:
        assert aldolase.canonical_num is not None and aldolase.canonical_den is not None
        if aldolase.canonical_num > th.iim_aldolase_max_u_l * aldolase.canonical_den:
            enzyme_met.append(aldolase)
    if enzyme_met:
        met.append(
            (
                "elevated " + " and ".join(lab.test for lab in enzyme_met),
                max(lab.collected for lab in enzyme_met) + w,
            )
        )
    elif ck is None or aldolase is None:
        if ck is None:
            undecided.append("labs.ck")
        else:
            notes.append(f"CK {show(ck)} is not above 3 × ULN; aldolase could still qualify.")
        if aldolase is None:
            undecided.append("labs.aldolase")
    # S skin
    cdasi = ctx.dated_usable.get("cdasi_activity")
    if cdasi is not None:
        if cdasi.value > th.cdasi_activity_min_exclusive:
            met.append((f"CDASI activity {cdasi.value}", cdasi.date + w))
    elif not (ctx.facts.get("iim_subtype") == "imnm" or ctx.facts.get("dm_rash_present") is False):
        undecided.append("facts.cdasi_activity")
    # L lung
    ild = ctx.dated_usable.get("ild_progressive_raghu2022")
    if ild is not None:
        if ild.value is True:
            met.append(("progressive ILD (Raghu 2022)", ild.date + w))
    else:
        undecided.append("facts.ild_progressive_raghu2022")
    if met:
        return passed(cid, "Involvement: " + "; ".join(m for m, _ in met) + ".", max(d for _, d in met))
    if undecided:
        return missing(cid, " ".join(notes + ["No involvement route is met yet."]), tuple(undecided))
    expiries = [lab.collected + w for lab in (ck, aldolase) if lab is not None]
    expiries += [f.date + w for f in (cdasi, ild) if f is not None]
    return failed(
        cid, "No muscle, skin or lung involvement route is met.", min(expiries) if expiries else None
    )


# ---- SSc ---------------------------------------------------------------------------------------


def ssc_classification(ctx: Ctx) -> CriterionResult:
    cid = "ssc.classification"
    if ctx.cohort != "SSc":
        return _na(cid, "SSc")
    score = ctx.facts.get("ssc_acr_eular_2013_score")
    if score is None:
        return missing(cid, "The 2013 ACR/EULAR score is not recorded.", ("facts.ssc_acr_eular_2013_score",))
    if score >= ctx.th.ssc_score_min:
        return passed(cid, f"2013 ACR/EULAR score {score} ≥ {ctx.th.ssc_score_min}.")
    return failed(cid, f"2013 ACR/EULAR score {score} < {ctx.th.ssc_score_min}.")


def ssc_disease_duration(ctx: Ctx) -> CriterionResult:
    cid = "ssc.disease_duration"
    if ctx.cohort != "SSc":
        return _na(cid, "SSc")
    onset = ctx.facts.get("ssc_first_non_raynaud_date")
    if onset is None or onset > ctx.t_read:
        return missing(
            cid,
            "The first non-Raynaud's manifestation is not recorded.",
            ("facts.ssc_first_non_raynaud_date",),
        )
    months = ctx.th.ssc_duration_months
    if onset >= add_months(ctx.s, -months):
        vu = window_end_months(onset, months) if ctx.s_is_t else None
        return passed(cid, f"First non-Raynaud's manifestation {onset}, within 7 years of screening.", vu)
    skin_lung = ctx.facts.get("ssc_skin_or_lung_progression")
    ild = ctx.dated_usable.get("ild_progressive_raghu2022")
    if skin_lung is True or (ild is not None and ild.value is True):
        vu = ild.date + ctx.w if ild is not None else None
        items = [
            ev_fact(ctx, "ssc_first_non_raynaud_date"),
            ev_fact(ctx, "ssc_skin_or_lung_progression"),
            ev_fact(ctx, "ild_progressive_raghu2022"),
        ]
        return review(
            cid,
            EAC,
            f"First non-Raynaud's manifestation {onset}, more than 7 years before screening, "
            "with progression: the EAC decides.",
            (entry("ssc.disease_duration/progression", items),),
            vu,
        )
    if skin_lung is False:
        return failed(
            cid,
            f"First non-Raynaud's manifestation {onset}, more than 7 years before screening, "
            "without progression.",
        )
    return missing(
        cid,
        "More than 7 years since the first non-Raynaud's manifestation; progression is not recorded.",
        ("facts.ssc_skin_or_lung_progression",),
    )


def ssc_activity(ctx: Ctx) -> CriterionResult:
    cid = "ssc.activity"
    if ctx.cohort != "SSc":
        return _na(cid, "SSc")
    th = ctx.th
    w = ctx.w
    facts = ctx.facts
    mrss = ctx.dated_usable.get("mrss")
    ild = ctx.dated_usable.get("ild_progressive_raghu2022")
    ck = ctx.usable.get("ck")
    crp = ctx.usable.get("crp")
    # Route A (skin) and A' (early progression, EAC)
    a_met = a_neg = False
    a_und: tuple[str, ...] = ()
    ap_met = ap_neg = False
    ap_und: tuple[str, ...] = ()
    if mrss is not None:
        if mrss.value > th.ssc_mrss_min_exclusive:
            a_met = True
            ap_neg = True
        else:
            a_neg = True
            early = facts.get("ssc_early_progression")
            if early is True:
                ap_met = True
            elif early is False:
                ap_neg = True
            else:
                ap_und = ("facts.ssc_early_progression",)
    else:
        a_und = ("facts.mrss",)
        ap_und = ("facts.mrss",)
    # Route B (lung)
    b_met = b_neg = False
    b_und: tuple[str, ...] = ()
    if ild is not None:
        b_met, b_neg = ild.value is True, ild.value is not True
    else:
        b_und = ("facts.ild_progressive_raghu2022",)
    # Route C (myositis with CK)
    myositis = facts.get("ssc_myositis")
    ck_high: bool | None = None
    if ck is not None:
        assert ck.uln is not None
        ck_high = ck.value > th.ssc_ck_uln_multiple * ck.uln  # type: ignore[operator]
    c_met = myositis is True and ck_high is True
    c_neg = myositis is False or ck_high is False
    c_und: tuple[str, ...] = ()
    if not c_met and not c_neg:
        c_und = (("facts.ssc_myositis",) if myositis is None else ()) + (("labs.ck",) if ck is None else ())
    # Route D (CRP, EAC)
    d_met = d_neg = False
    d_und: tuple[str, ...] = ()
    if crp is not None:
        assert crp.uln is not None
        d_met = crp.value >= th.ssc_crp_uln_multiple * crp.uln  # type: ignore[operator]
        d_neg = not d_met
    else:
        d_und = ("labs.crp",)

    if a_met or b_met or c_met:
        expiries = []
        routes = []
        if a_met:
            assert mrss is not None
            expiries.append(mrss.date + w)
            routes.append(f"mRSS {mrss.value} > {th.ssc_mrss_min_exclusive}")
        if b_met:
            assert ild is not None
            expiries.append(ild.date + w)
            routes.append("progressive ILD (Raghu 2022)")
        if c_met:
            assert ck is not None
            expiries.append(ck.collected + w)
            routes.append(f"myositis with CK {show(ck)} > 1.5 × ULN")
        return passed(cid, "Active disease: " + "; ".join(routes) + ".", max(expiries))

    def union(*lists: tuple[str, ...]) -> tuple[str, ...]:
        out: list[str] = []
        for lst in lists:
            for p in lst:
                if p not in out:
                    out.append(p)
        return tuple(out)

    if a_und or b_und or c_und:
        return missing(
            cid,
            "An automatic activity route (mRSS, ILD progression, myositis with CK) is undecided.",
            union(a_und, ap_und, b_und, c_und, d_und),
        )
    usable_dates = [f.date + w for f in (mrss, ild) if f is not None]
    usable_dates += [lab.collected + w for lab in (ck, crp) if lab is not None]
    vu = min(usable_dates) if usable_dates else None
    if ap_met or d_met:
        evidence = []
        routes = []
        if ap_met:
            evidence.append(
                entry(
                    "ssc.activity/early_progression",
                    [ev_fact(ctx, "mrss"), ev_fact(ctx, "ssc_early_progression")],
                )
            )
            routes.append("mRSS ≤ 10 with early progression")
        if d_met:
            evidence.append(entry("ssc.activity/crp", [ev_lab(crp, "crp")]))
            assert crp is not None
            routes.append(f"CRP {show(crp)} ≥ 1.5 × ULN ({crp.uln})")
        return review(
            cid,
            EAC,
            "Only an EAC route is met (" + "; ".join(routes) + "): the EAC decides.",
            tuple(evidence),
            vu,
        )
    if ap_und or d_und:
        return missing(
            cid, "No automatic activity route is met; an EAC route is undecided.", union(ap_und, d_und)
        )
    del a_neg, b_neg, ap_neg, d_neg
    return failed(
        cid, "No activity route is met (mRSS, ILD progression, myositis with CK, early progression, CRP).", vu
    )


def ev_fact_any(ctx: Ctx, key: str) -> dict[str, Any]:
    return ev_fact(ctx, key)
