"""The IIM cohort: its inclusion criteria (CRITERIA.md § 4) and exclusions (§ 8)."""

from __future__ import annotations

from datetime import date
from typing import Final

from .calendar_math import add_months, window_end_months
from .canonical import format_decimal
from .context import Ctx
from .framework import (
    FAIL,
    INVESTIGATOR,
    MISSING,
    PASS,
    Part,
    Rule,
    bool_part,
    boolean_criterion,
    combine,
    entry,
    ev_fact,
    ev_lab,
    failed,
    missing,
    outcome_of,
    passed,
    review,
)
from .readings import positive_antibody, show
from .registry import (
    EXCLUSION_IIM,
    INCLUSION_IIM,
    criterion,
)
from .results import CriterionResult
from .rule_r import RULE_R, refractory

# ---- IIM ---------------------------------------------------------------------------------------
_IIM_ELIGIBLE_SUBTYPES: Final = frozenset(
    ("dermatomyositis", "amyopathic_dermatomyositis", "imnm", "antisynthetase_syndrome")
)


@criterion(
    "iim.classification",
    INCLUSION_IIM,
    title="DM, IMNM or anti-synthetase syndrome (2017 EULAR/ACR)",
    page="Classification of probable or definite dermatomyositis, IMNM or anti-synthetase syndrome by 2017 EULAR/ACR classification criteria.",
    rule="Score part: (2017 EULAR/ACR: probable or definite means a probability of at least 55 %, which is a score ≥ {iim_score_min_without_biopsy} without a muscle biopsy and ≥ {iim_score_min_with_biopsy} with one): - score ≥ {iim_score_min_with_biopsy} → PASS; - score < {iim_score_min_without_biopsy} → FAIL; - {iim_score_min_without_biopsy} ≤ score < {iim_score_min_with_biopsy} → PASS if iim_eular_acr_2017_with_biopsy = false, FAIL if true, MISSING [facts.iim_eular_acr_2017_with_biopsy] if unrecorded; - score unrecorded → MISSING [facts.iim_eular_acr_2017_score]. Subtype part: PASS if iim_subtype ∈ {{dermatomyositis, amyopathic_dermatomyositis, imnm, antisynthetase_syndrome}}; FAIL for any other recorded value; MISSING [facts.iim_subtype]. Rule: the two parts, combined by § 1.3.",
    reads=(
        "iim_score_min_without_biopsy",
        "iim_score_min_with_biopsy",
    ),
)
def iim_classification(ctx: Ctx) -> CriterionResult:
    cid = "iim.classification"
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


@criterion(
    "iim.involvement",
    INCLUSION_IIM,
    title="Muscle, skin or lung involvement",
    page="Muscle, skin, OR lung involvement as defined by: Recent muscle biopsy; Elevated creatinine phosphokinase (CPK) > {iim_ck_uln_multiple} × ULN (or aldolase > {iim_aldolase_max_u_l}); Rash with Cutaneous Dermatomyositis Area Severity Index (CDASI) > {cdasi_activity_min_exclusive} (not counting damage); Presence of interstitial lung disease (ILD) on HRCT with progression as defined by Raghu, 2022",
    rule="Routes. Each route is met, negative or undecided: - M1 biopsy: met if a muscle_biopsy event with active_myositis = true is dated ≥ E − {muscle_biopsy_window_months} months. Negative if there is no such event and muscle_biopsy is reviewed (older biopsies, and biopsies without active myositis, are not such events). Otherwise undecided [reviewed.muscle_biopsy]. - M2 enzymes: met if usable CK > {iim_ck_uln_multiple} × ULN, or if usable aldolase > {iim_aldolase_max_u_l} U/L. Negative if both are usable and neither meets its threshold. Otherwise undecided [labs.ck and/or labs.aldolase, whichever is not usable]; when CK is usable and ≤ {iim_ck_uln_multiple} × ULN, the reason names aldolase as the one test that could still qualify. - S skin: dated fact cdasi_activity usable: met if > {cdasi_activity_min_exclusive}, negative if ≤ {cdasi_activity_min_exclusive}. Not usable: negative if iim_subtype = imnm or dm_rash_present = false (no cutaneous dermatomyositis to score); otherwise undecided [facts.cdasi_activity]. - L lung: dated fact ild_progressive_raghu2022 usable: met if true, negative if false. Otherwise undecided [facts.ild_progressive_raghu2022]. Rule: PASS if any route is met. FAIL if all four are negative. Otherwise MISSING (the union of the undecided lists, in the order M1, M2, S, L).",
    reads=(
        "muscle_biopsy_window_months",
        "iim_ck_uln_multiple",
        "iim_aldolase_max_u_l",
        "cdasi_activity_min_exclusive",
    ),
)
def iim_involvement(ctx: Ctx) -> CriterionResult:
    cid = "iim.involvement"
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


iim_refractory: Rule = criterion(
    "iim.refractory",
    INCLUSION_IIM,
    title="Refractory to an immunosuppressant",
    page="as sle.refractory.",
    rule="Rule: refractory rule R (§ 3.1) with cohort IIM." + " Rule R: " + RULE_R,
    timing=True,
    reads=("prior_immunosuppressant_months",),
)(refractory("iim.refractory", "IIM"))


# ---- IIM exclusions ----------------------------------------------------------------------------
iim_exc_other_myositis: Rule = criterion(
    "iim.exc.other_myositis",
    EXCLUSION_IIM,
    title="Other myositis",
    page="A myositis other than IIM classification.",
    rule="Rule: boolean criterion iim_other_myositis, passing on false. The investigator records true for a myositis or myopathy other than the eligible IIM: for example inclusion-body myositis, drug-induced or toxic, infectious, metabolic or endocrine myopathy, or muscular dystrophy.",
)(
    boolean_criterion(
        "iim.exc.other_myositis",
        "iim_other_myositis",
        False,
        "No other myositis.",
        "A myositis other than the eligible IIM.",
    )
)


@criterion(
    "iim.exc.damage",
    EXCLUSION_IIM,
    title="Damage index > {mdi_max_global_damage}/10 or weakness not assessable",
    page="Non-reversible, unrelated or weakness not amenable to assessment (damage index > {mdi_max_global_damage}/10).",
    rule="Parts: dated fact mdi_global_damage (Myositis Damage Index, physician's global damage, 0–10) usable: > {mdi_max_global_damage} → FAIL, ≤ {mdi_max_global_damage} → PASS, not usable → MISSING [facts.mdi_global_damage]. Boolean part inv_iim_weakness_not_assessable, passing on false.",
    reads=("mdi_max_global_damage",),
)
def iim_exc_damage(ctx: Ctx) -> CriterionResult:
    cid = "iim.exc.damage"
    mdi = ctx.dated_usable.get("mdi_global_damage")
    limit = ctx.th.mdi_max_global_damage
    if mdi is None:
        old = ctx.dated.get("mdi_global_damage")
        reason = (
            "MDI global damage is not recorded."
            if old is None
            else f"MDI global damage of {old.date} is before the screening window ({ctx.window_start})."
        )
        mdi_part = Part(MISSING, reason, ("facts.mdi_global_damage",))
    elif mdi.value > limit:
        mdi_part = Part(FAIL, f"MDI global damage {mdi.value} > {limit}.", vu=mdi.date + ctx.w)
    else:
        mdi_part = Part(PASS, f"MDI global damage {mdi.value} ≤ {limit}.", vu=mdi.date + ctx.w)
    parts = [
        mdi_part,
        bool_part(
            ctx,
            "inv_iim_weakness_not_assessable",
            False,
            "Weakness is assessable.",
            "Weakness not amenable to assessment.",
        ),
    ]
    outcome = outcome_of(parts)
    return combine(cid, parts, mdi_part.vu if outcome is mdi_part.outcome else None)


_DM: Final = frozenset(("dermatomyositis", "amyopathic_dermatomyositis"))


@criterion(
    "iim.exc.anti_tif1g",
    EXCLUSION_IIM,
    title="Dermatomyositis with anti-TIF1-γ",
    page="Dermatomyositis with presence of anti-TIF1 gamma antibody.",
    rule="Rule: the result is positive if numeric > uln or qualitative positive. - no result: PASS if iim_subtype is recorded and is not dermatomyositis or amyopathic_dermatomyositis; else MISSING [labs.anti_tif1g]; - negative (numeric ≤ uln, or negative) → PASS; - positive or indeterminate: iim_subtype unrecorded → MISSING [facts.iim_subtype]; not DM or amyopathic DM → PASS; DM or amyopathic DM → FAIL if positive, REVIEW (investigator) if indeterminate.",
)
def iim_exc_anti_tif1g(ctx: Ctx) -> CriterionResult:
    cid = "iim.exc.anti_tif1g"
    lab = ctx.selected.get("anti_tif1g")  # no screening window for this test
    subtype = ctx.facts.get("iim_subtype")
    if lab is None:
        if subtype is not None and subtype not in _DM:
            return passed(cid, f"No anti-TIF1-γ result needed ({subtype.replace('_', ' ')}).")
        return missing(cid, "No anti-TIF1-γ result on record.", ("labs.anti_tif1g",))
    positive = positive_antibody(lab)
    if not positive and lab.value != "indeterminate":
        return passed(cid, f"Anti-TIF1-γ negative ({show(lab)}, {lab.collected}).")
    if subtype is None:
        return missing(
            cid, "Anti-TIF1-γ is not negative; the IIM subtype is not recorded.", ("facts.iim_subtype",)
        )
    if subtype not in _DM:
        return passed(cid, f"Anti-TIF1-γ {show(lab)}, but not dermatomyositis.")
    if positive:
        return failed(cid, f"Dermatomyositis with anti-TIF1-γ {show(lab)} ({lab.collected}).")
    return review(
        cid,
        INVESTIGATOR,
        f"Dermatomyositis with an indeterminate anti-TIF1-γ ({lab.collected}): the investigator decides.",
        (
            entry(
                "iim.exc.anti_tif1g/indeterminate", [ev_lab(lab, "anti_tif1g"), ev_fact(ctx, "iim_subtype")]
            ),
        ),
    )
