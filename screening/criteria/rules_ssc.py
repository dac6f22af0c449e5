"""The SSc cohort: its inclusion criteria (CRITERIA.md § 5) and exclusions (§ 9)."""

from __future__ import annotations

from .calendar_math import add_months, window_end_months
from .context import Ctx
from .framework import (
    EAC,
    Rule,
    boolean_criterion,
    entry,
    ev_fact,
    ev_lab,
    failed,
    missing,
    passed,
    review,
)
from .readings import show
from .registry import (
    EXCLUSION_SSC,
    INCLUSION_SSC,
    criterion,
)
from .results import CriterionResult
from .rule_r import RULE_R, refractory


# ---- SSc ---------------------------------------------------------------------------------------
@criterion(
    "ssc.classification",
    INCLUSION_SSC,
    title="SSc by 2013 ACR/EULAR",
    page="SSc as defined by the 2013 EULAR/ACR classification criteria.",
    rule="Rule: PASS if ssc_acr_eular_2013_score ≥ {ssc_score_min}; FAIL if < {ssc_score_min}; MISSING [facts.ssc_acr_eular_2013_score].",
    reads=("ssc_score_min",),
)
def ssc_classification(ctx: Ctx) -> CriterionResult:
    cid = "ssc.classification"
    score = ctx.facts.get("ssc_acr_eular_2013_score")
    if score is None:
        return missing(cid, "The 2013 ACR/EULAR score is not recorded.", ("facts.ssc_acr_eular_2013_score",))
    if score >= ctx.th.ssc_score_min:
        return passed(cid, f"2013 ACR/EULAR score {score} ≥ {ctx.th.ssc_score_min}.")
    return failed(cid, f"2013 ACR/EULAR score {score} < {ctx.th.ssc_score_min}.")


@criterion(
    "ssc.disease_duration",
    INCLUSION_SSC,
    title="Within {ssc_duration_months_years} years of the first non-Raynaud's manifestation",
    page="Within {ssc_duration_months_years} years of first non-Raynaud's presentation (or positive skin/lung progression AND discussion with EAC).",
    rule="Rule: 1. onset unrecorded (or after T) → MISSING [facts.ssc_first_non_raynaud_date]. 2. onset ≥ S − {ssc_duration_months} months → PASS. 3. Otherwise (more than {ssc_duration_months_years} years): progression = ssc_skin_or_lung_progression = true, or a usable ild_progressive_raghu2022 = true; either one true counts as progression, even when the other is false. Progression → REVIEW, eac. No progression with ssc_skin_or_lung_progression = false → FAIL. No progression with ssc_skin_or_lung_progression unrecorded → MISSING [facts.ssc_skin_or_lung_progression].",
    reads=("ssc_duration_months",),
)
def ssc_disease_duration(ctx: Ctx) -> CriterionResult:
    cid = "ssc.disease_duration"
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


@criterion(
    "ssc.activity",
    INCLUSION_SSC,
    title="Active disease",
    page="Disease activity: mRSS > {ssc_mrss_min_exclusive} (or early progression AND discussion with EAC); Presence of ILD on HRCT with progression as defined by Raghu, 2022; Myositis with CPK > {ssc_ck_uln_multiple} × ULN; CRP elevated at [≥] {ssc_crp_uln_multiple} × ULN (AND discussion with EAC).",
    rule="Routes. Automatic routes are A, B and C; EAC routes are A′ and D. Each is met, negative or undecided: | route | met | negative | undecided (missing) | |---|---|---|---| | A skin | usable mrss > {ssc_mrss_min_exclusive} | usable mrss ≤ {ssc_mrss_min_exclusive} | facts.mrss | | A′ early progression (EAC) | usable mrss ≤ {ssc_mrss_min_exclusive} and ssc_early_progression = true | usable mrss ≤ {ssc_mrss_min_exclusive} and ssc_early_progression = false; or A is met | facts.ssc_early_progression (if mrss ≤ {ssc_mrss_min_exclusive}); facts.mrss (if mrss not usable) | | B lung | usable ild_progressive_raghu2022 = true | usable = false | facts.ild_progressive_raghu2022 | | C myositis | ssc_myositis = true and usable CK > {ssc_ck_uln_multiple} × ULN | ssc_myositis = false, or usable CK ≤ {ssc_ck_uln_multiple} × ULN | facts.ssc_myositis if unrecorded; labs.ck if not usable | | D CRP (EAC) | usable CRP ≥ {ssc_crp_uln_multiple} × ULN | usable CRP < {ssc_crp_uln_multiple} × ULN | labs.crp | Rule: 1. PASS if A, B or C is met. 2. Else MISSING if A, B or C is undecided (the union of all undecided lists, in the order A, A′, B, C, D). 3. Else (A, B and C are all negative): REVIEW, eac if A′ or D is met, whether or not the other EAC route is decided (it cannot change the outcome: the met route needs the EAC either way). Otherwise MISSING if A′ or D is undecided. Otherwise (both negative) FAIL. So an EAC route leads to REVIEW only when it is the only route left. An undecided automatic route is completed first, because it may make the review unnecessary. The REVIEW's evidence holds the met EAC routes (A′, then D), so a route decided later changes it (§ 1.8).",
    reads=(
        "ssc_mrss_min_exclusive",
        "ssc_ck_uln_multiple",
        "ssc_crp_uln_multiple",
    ),
)
def ssc_activity(ctx: Ctx) -> CriterionResult:
    cid = "ssc.activity"
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
            routes.append(f"CRP {show(crp)} ≥ 1.5 × the ULN of {crp.uln}")
        return review(
            cid,
            EAC,
            "Only an EAC route is met: " + "; ".join(routes) + ". The EAC decides.",
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


ssc_refractory: Rule = criterion(
    "ssc.refractory",
    INCLUSION_SSC,
    title="Refractory to an immunosuppressant",
    page='as sle.refractory, followed by "See Protocol',
    rule='Rule: refractory rule R (§ 3.1) with cohort SSc. Whatever the protocol adds after "See Protocol" is unknown (Q14).'
    + " Rule R: "
    + RULE_R,
    timing=True,
    reads=("prior_immunosuppressant_months",),
)(refractory("ssc.refractory", "SSc"))


# ---- SSc exclusions ----------------------------------------------------------------------------
ssc_exc_pah: Rule = criterion(
    "ssc.exc.pah",
    EXCLUSION_SSC,
    title="PAH requiring treatment",
    page="Pulmonary arterial hypertension requiring treatment.",
    rule="Rule: boolean criterion pah_requiring_treatment, passing on false.",
)(
    boolean_criterion(
        "ssc.exc.pah",
        "pah_requiring_treatment",
        False,
        "No PAH requiring treatment.",
        "Pulmonary arterial hypertension requiring treatment.",
    )
)


ssc_exc_gi: Rule = criterion(
    "ssc.exc.gi",
    EXCLUSION_SSC,
    title="Severe SSc gastrointestinal involvement",
    page="Rapidly progressive or severe SSc gastrointestinal involvement.",
    rule="Rule: boolean criterion ssc_severe_gi, passing on false. The investigator judges, e.g. intestinal pseudo-obstruction, malabsorption requiring nutritional support, or parenteral nutrition.",
)(
    boolean_criterion(
        "ssc.exc.gi",
        "ssc_severe_gi",
        False,
        "No severe SSc GI involvement.",
        "Rapidly progressive or severe SSc GI involvement.",
    )
)


ssc_exc_renal_crisis: Rule = criterion(
    "ssc.exc.renal_crisis",
    EXCLUSION_SSC,
    title="Prior scleroderma renal crisis",
    page="Prior scleroderma renal crisis.",
    rule="Rule: boolean criterion history_scleroderma_renal_crisis, passing on false.",
)(
    boolean_criterion(
        "ssc.exc.renal_crisis",
        "history_scleroderma_renal_crisis",
        False,
        "No prior scleroderma renal crisis.",
        "Prior scleroderma renal crisis.",
    )
)
