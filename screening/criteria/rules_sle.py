"""The SLE cohort: its inclusion criteria (CRITERIA.md § 3) and exclusions (§ 7)."""

from __future__ import annotations

from datetime import date
from typing import Final

from .calendar_math import add_months, window_end_months
from .context import Ctx
from .framework import (
    EAC,
    FAIL,
    INVESTIGATOR,
    PASS,
    REVIEW,
    Part,
    Rule,
    bool_part,
    boolean_criterion,
    combine,
    entry,
    ev_event,
    failed,
    missing,
    not_applicable,
    passed,
    review,
    reviewed_part,
)
from .readings import fact_absent_reason, lab_absent_reason, latest, positive_antibody, show
from .registry import (
    EXCLUSION_SLE,
    INCLUSION_SLE,
    criterion,
)
from .results import CriterionResult
from .rule_r import RULE_R, refractory
from .vocabulary import LAB_TESTS_BY_KEY


# ---- SLE ---------------------------------------------------------------------------------------
@criterion(
    "sle.slicc",
    INCLUSION_SLE,
    title="SLE by SLICC 2012",
    page="SLE defined by the Systemic Lupus International Collaborating Clinics (SLICC) criteria.",
    rule="Rule: (SLICC 2012): met if slicc_biopsy_proven_ln = true, or if clinical ≥ 1 and immunologic ≥ 1 and clinical + immunologic ≥ 4. PASS if met. FAIL if slicc_biopsy_proven_ln = false and (clinical = 0, or immunologic = 0, or both counts are recorded and the count rule is not met): the count rule needs at least one criterion of each kind, so a zero decides it. Otherwise MISSING (the unrecorded facts among the three).",
)
def sle_slicc(ctx: Ctx) -> CriterionResult:
    cid = "sle.slicc"
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


@criterion(
    "sle.autoantibody",
    INCLUSION_SLE,
    title="Positive anti-dsDNA, anti-Sm or anti-RNP",
    page="Positive for at least 1 of the following autoantibodies at screening: Anti-dsDNA above the upper limit of normal (ULN); Anti-Sm above the ULN; Anti-RNP above the ULN",
    rule="Positive: a numeric result with value > uln (strictly above), or a qualitative positive. negative and indeterminate are not positive. Rule: PASS if any usable result is positive. FAIL if all three are usable and none is positive. Otherwise MISSING (the tests whose results are not usable).",
)
def sle_autoantibody(ctx: Ctx) -> CriterionResult:
    cid = "sle.autoantibody"
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
            f"{LAB_TESTS_BY_KEY[lab.test].label} {show(lab)}"
            + (f", ULN {lab.uln}" if lab.uln is not None else "")
            for lab in positives
        )
        return passed(cid, f"Positive: {shown}.", vu)
    if not unusable:
        assert earliest is not None
        return failed(cid, "Anti-dsDNA, anti-Sm and anti-RNP are all not above the ULN.", earliest + ctx.w)
    return missing(
        cid, " ".join(lab_absent_reason(ctx, t) for t in unusable), tuple("labs." + t for t in unusable)
    )


@criterion(
    "sle.sledai",
    INCLUSION_SLE,
    title="SLEDAI-2K ≥ {sledai_min} (non-LN)",
    page="Active (moderate-severe) disease as defined by: SLEDAI-2K [≥] {sledai_min} and at least 1 of the following significant SLE-related organ involvements: …",
    rule="Applies: lupus_nephritis = false. LN: NOT_APPLICABLE (the LN stratum qualifies through sle.ln_biopsy). Rule: dated fact sledai2k usable: PASS if ≥ {sledai_min}, FAIL if < {sledai_min}. Otherwise MISSING [facts.sledai2k].",
    reads=("sledai_min",),
)
def sle_sledai(ctx: Ctx) -> CriterionResult:
    cid = "sle.sledai"
    if ctx.case.lupus_nephritis:
        return not_applicable(cid, "LN stratum: activity is assessed by the kidney biopsy.")
    fact = ctx.dated_usable.get("sledai2k")
    if fact is None:
        return missing(cid, fact_absent_reason(ctx, "sledai2k", "SLEDAI-2K"), ("facts.sledai2k",))
    vu = fact.date + ctx.w
    if fact.value >= ctx.th.sledai_min:
        return passed(cid, f"SLEDAI-2K {fact.value} ({fact.date}) ≥ {ctx.th.sledai_min}.", vu)
    return failed(cid, f"SLEDAI-2K {fact.value} ({fact.date}) < {ctx.th.sledai_min}.", vu)


@criterion(
    "sle.organ_involvement",
    INCLUSION_SLE,
    title="BILAG one A or two B (non-LN)",
    page="… at least 1 of the following significant SLE-related organ involvements: At least one BILAG A OR two BILAG B manifestations.",
    rule="Applies: lupus_nephritis = false. LN: NOT_APPLICABLE. Rule: dated fact bilag2004 usable, with the nine BILAG-2004 domains graded A–E (§ 10.3). Two parts: - PASS if at least one domain is A or at least two domains are B; FAIL otherwise; - renal domain A or B → REVIEW, investigator (active renal disease in the non-LN stratum: the investigator confirms the stratum; a participant with active LN belongs to the LN stratum and needs a biopsy, Q5); otherwise no part. Combined by § 1.3. Not usable: MISSING [facts.bilag2004].",
)
def sle_organ_involvement(ctx: Ctx) -> CriterionResult:
    cid = "sle.organ_involvement"
    if ctx.case.lupus_nephritis:
        return not_applicable(cid, "LN stratum: activity is assessed by the kidney biopsy.")
    fact = ctx.dated_usable.get("bilag2004")
    if fact is None:
        return missing(cid, fact_absent_reason(ctx, "bilag2004", "BILAG-2004"), ("facts.bilag2004",))
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


@criterion(
    "sle.ln_biopsy",
    INCLUSION_SLE,
    title="Active LN on a recent biopsy (LN)",
    page="Active lupus nephritis (LN) as determined by a recent kidney biopsy (within {ln_biopsy_window_months} months) showing Class III or IV +/- Class V according to International Society of Nephrology (ISN)/Renal Pathology Society (RPS) 2003 classification (with 2018 modification). Modified NIH Activity [threshold lost]. Exception to biopsy after medical monitor discussion with the EAC.",
    rule="Applies: lupus_nephritis = true. Non-LN: NOT_APPLICABLE. Rule: let B be the kidney_biopsy event with the latest date ≤ T (on a tie, the one listed last). 1. If B exists and its isn_rps_classes contain neither III nor IV → FAIL, whatever its age: the most recent biopsy does not show proliferative LN, and the biopsy exception is for a missing biopsy, not for a non-proliferative one (Q7). 2. If B exists and B.date ≥ E − {ln_biopsy_window_months} months (within {ln_biopsy_window_months} months before enrollment): - nih_activity_index unrecorded → MISSING [events.kidney_biopsy.nih_activity_index]; - nih_activity_index ≥ {ln_min_nih_activity_index} → PASS; - nih_activity_index below {ln_min_nih_activity_index} → REVIEW, eac (reason: below the working threshold; the page's threshold is lost). 3. Otherwise (no biopsy, or the latest, proliferative, is older than {ln_biopsy_window_months} months): REVIEW, eac (the EAC biopsy exception) if kidney_biopsy is reviewed; else MISSING [reviewed.kidney_biopsy].",
    reads=(
        "ln_biopsy_window_months",
        "ln_min_nih_activity_index",
    ),
)
def sle_ln_biopsy(ctx: Ctx) -> CriterionResult:
    cid = "sle.ln_biopsy"
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


sle_refractory: Rule = criterion(
    "sle.refractory",
    INCLUSION_SLE,
    title="Refractory to an immunosuppressant",
    page="Disease activity as above despite prior treatment with standard of care therapy including at least one immunosuppressive agent for at least {prior_immunosuppressant_months} months (in addition to HCQ). Definitions of prior therapies for assessing eligibility are provided in Table 4. Intolerance to prior therapy due to AE is acceptable.",
    rule="Rule: refractory rule R (§ 3.1) with cohort SLE." + " Rule R: " + RULE_R,
    timing=True,
    reads=("prior_immunosuppressant_months",),
)(refractory("sle.refractory", "SLE"))


# ---- SLE exclusions ----------------------------------------------------------------------------
@criterion(
    "sle.exc.cns",
    EXCLUSION_SLE,
    title="Active CNS lupus within {cns_lupus_months} months",
    page="Active disease involving CNS (eg CNS lupus and its sequelae) within the last {cns_lupus_months} months",
    rule="Rule: FAIL if a cns_lupus event (date = the most recent day CNS disease or its sequelae were active; with ongoing = true, the onset, and the event is read as dated T) is dated ≥ E − {cns_lupus_months} months. Else PASS if cns_lupus is reviewed, else MISSING [reviewed.cns_lupus].",
    timing=True,
    reads=("cns_lupus_months",),
)
def sle_exc_cns(ctx: Ctx) -> CriterionResult:
    cid = "sle.exc.cns"
    months = ctx.th.cns_lupus_months
    since = add_months(ctx.e, -months)
    counting = [ev for ev in ctx.kind("cns_lupus") if ctx.event_date(ev) >= since]
    if counting:
        if any(ev.ongoing for ev in counting):
            return failed(cid, "CNS lupus is ongoing.")
        last = max(ev.date for ev in counting)
        return failed(
            cid,
            f"CNS lupus active on {last}, within {months} months before enrollment.",
            window_end_months(last, months),
        )
    if "cns_lupus" in ctx.reviewed:
        return passed(cid, f"No active CNS lupus within {months} months.")
    return missing(cid, "The CNS lupus history is not reviewed.", ("reviewed.cns_lupus",))


sle_exc_drug_induced: Rule = criterion(
    "sle.exc.drug_induced",
    EXCLUSION_SLE,
    title="Drug-induced lupus",
    page="Lupus that is drug-induced",
    rule="Rule: boolean criterion drug_induced_lupus, passing on false.",
)(
    boolean_criterion(
        "sle.exc.drug_induced",
        "drug_induced_lupus",
        False,
        "Not drug-induced lupus.",
        "Drug-induced lupus.",
    )
)


def _ln_only(cid: str, ctx: Ctx) -> CriterionResult | None:
    """NOT_APPLICABLE outside the LN stratum, else None."""
    if not ctx.case.lupus_nephritis:
        return not_applicable(cid, "Applies to the LN stratum only.")
    return None


@criterion(
    "sle.exc.ln_dialysis",
    EXCLUSION_SLE,
    title="Dialysis within {dialysis_months} months or expected RRT (LN)",
    page="If LN: History of dialysis within {dialysis_months} months prior to signing the ICF or expected need for renal replacement therapy (dialysis or renal transplant) within a 12-month period after enrollment.",
    rule="Parts: - Dialysis: FAIL if a dialysis event (date = last session) is dated ≥ C − {dialysis_months} months. None: PASS if dialysis is reviewed, else MISSING [reviewed.dialysis]. - boolean part inv_expected_rrt_within_12m, passing on false.",
    timing=True,
    reads=("dialysis_months",),
)
def sle_exc_ln_dialysis(ctx: Ctx) -> CriterionResult:
    cid = "sle.exc.ln_dialysis"
    na = _ln_only(cid, ctx)
    if na is not None:
        return na
    months = ctx.th.dialysis_months
    since = add_months(ctx.c, -months)
    counting = [ev for ev in ctx.kind("dialysis") if ev.date >= since]
    if counting:
        dialysis_part = Part(
            FAIL, f"Dialysis on {max(ev.date for ev in counting)}, within {months} months before consent."
        )
    else:
        dialysis_part = reviewed_part(ctx, "dialysis", f"No dialysis within {months} months before consent.")
    parts = [
        dialysis_part,
        bool_part(
            ctx,
            "inv_expected_rrt_within_12m",
            False,
            "No renal replacement therapy expected within 12 months.",
            "Renal replacement therapy expected within 12 months.",
        ),
    ]
    vu = None
    if counting and ctx.c_is_t and sum(p.outcome is FAIL for p in parts) == 1:
        vu = max(window_end_months(ev.date, months) for ev in counting)
    return combine(cid, parts, vu)


def _ln_other_kidney_rule() -> Rule:
    inner = boolean_criterion(
        "sle.exc.ln_other_kidney",
        "inv_other_kidney_disease_confounding",
        False,
        "No confounding kidney disease.",
        "Other kidney disease confounds the LN assessment.",
    )

    def rule(ctx: Ctx) -> CriterionResult:
        na = _ln_only("sle.exc.ln_other_kidney", ctx)
        return na if na is not None else inner(ctx)

    return rule


sle_exc_ln_other_kidney: Rule = criterion(
    "sle.exc.ln_other_kidney",
    EXCLUSION_SLE,
    title="Other confounding kidney disease (LN)",
    page="History of, or current kidney diseases (other than LN) that in the opinion of the Investigator could interfere with the LN assessment and confound the disease activity assessment (e.g. diabetic nephropathy).",
    rule="Rule: boolean criterion inv_other_kidney_disease_confounding, passing on false.",
)(_ln_other_kidney_rule())


_CHRONICITY: Final = ("glomerular_sclerosis", "fibrous_crescents", "tubular_atrophy", "interstitial_fibrosis")


@criterion(
    "sle.exc.ln_chronicity",
    EXCLUSION_SLE,
    title="NIH chronicity component of {chronicity_component_excluded} (LN)",
    page="NIH chronicity index score of {chronicity_component_excluded}+ in any of the following domains: glomerular sclerosis, glomerular fibrous crescents, tubular atrophy, and/or interstitial fibrosis.",
    rule="Rule: - No biopsy: PASS if kidney_biopsy is reviewed (reason: chronicity cannot be assessed without a biopsy; the missing biopsy is decided within the sle.ln_biopsy EAC exception, so the EAC decides once); else MISSING [reviewed.kidney_biopsy]. - With B, in this order: any recorded component = {chronicity_component_excluded} → FAIL; all four components recorded → PASS (all below {chronicity_component_excluded}); total recorded and ≥ {chronicity_total_excluded_min} → FAIL (four components below {chronicity_component_excluded} cannot reach it); total recorded and ≤ {chronicity_total_pass_max} → PASS; otherwise MISSING [events.kidney_biopsy.<component> for each unrecorded component].",
    reads=(
        "chronicity_component_excluded",
        "chronicity_total_excluded_min",
        "chronicity_total_pass_max",
    ),
)
def sle_exc_ln_chronicity(ctx: Ctx) -> CriterionResult:
    cid = "sle.exc.ln_chronicity"
    na = _ln_only(cid, ctx)
    if na is not None:
        return na
    b = latest(ctx.kind("kidney_biopsy"))
    if b is None:
        if "kidney_biopsy" in ctx.reviewed:
            return passed(
                cid,
                "No kidney biopsy: chronicity cannot be assessed; the missing biopsy is decided "
                "within the exception for a missing kidney biopsy.",
            )
        return missing(cid, "The kidney biopsy history is not reviewed.", ("reviewed.kidney_biopsy",))
    comps = {k: getattr(b, k) for k in _CHRONICITY}
    high = [k for k, v in comps.items() if v is not None and v >= ctx.th.chronicity_component_excluded]
    if high:
        return failed(cid, f"Biopsy {b.date}: NIH chronicity {high[0].replace('_', ' ')} score 3.")
    unrecorded = [k for k, v in comps.items() if v is None]
    if not unrecorded:
        return passed(cid, f"Biopsy {b.date}: every NIH chronicity component ≤ 2.")
    total = b.nih_chronicity_index
    if total is not None and total >= ctx.th.chronicity_total_excluded_min:
        return failed(cid, f"Biopsy {b.date}: NIH chronicity index {total} implies a component of 3.")
    if total is not None and total <= ctx.th.chronicity_total_pass_max:
        return passed(cid, f"Biopsy {b.date}: NIH chronicity index {total}, so every component ≤ 2.")
    return missing(
        cid,
        f"Biopsy {b.date}: NIH chronicity components are not all recorded.",
        tuple("events.kidney_biopsy." + k for k in unrecorded),
    )
