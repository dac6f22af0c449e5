"""Inclusion criteria of every cohort (CRITERIA.md § 2)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Final

from .adjudicate import adjudicate
from .calendar_math import age_on, birthday, iso
from .canonical import format_decimal, threshold_text
from .context import Ctx
from .framework import (
    INVESTIGATOR,
    PASS,
    Rule,
    bool_part,
    boolean_criterion,
    combine,
    entry,
    ev_fact,
    ev_therapy,
    failed,
    missing,
    not_applicable,
    passed,
    review,
)
from .readings import canonical_text, lab_absent_reason, show
from .registry import (
    INCLUSION_ALL,
    criterion,
)
from .results import CriterionResult

ONE_DAY: Final = timedelta(days=1)


@criterion(
    "inc.age",
    INCLUSION_ALL,
    title="Age {age_min} to {age_max}",
    page="Adults [≥] 18 to < 70 years of age.",
    rule="Rule: age = whole years on C. PASS if {age_min} ≤ age ≤ {age_max}; FAIL otherwise.",
    timing=True,
    reads=(
        "age_min",
        "age_max",
    ),
)
def inc_age(ctx: Ctx) -> CriterionResult:
    cid = "inc.age"
    birth = ctx.case.birth_date
    th = ctx.th
    age = age_on(birth, ctx.c)
    at = "on the evaluation date" if ctx.c_is_t else f"at consent ({iso(ctx.c)})"
    if th.age_min <= age <= th.age_max:
        vu = birthday(birth, th.age_max + 1) - ONE_DAY if ctx.c_is_t else None
        return passed(cid, f"Age {age} {at}, within {th.age_min}–{th.age_max}.", vu)
    if age < th.age_min:
        vu = birthday(birth, th.age_min) - ONE_DAY if ctx.c_is_t else None
        return failed(cid, f"Age {age} {at} is below {th.age_min}.", vu)
    return failed(cid, f"Age {age} {at} is {th.age_max + 1} or more.")


@criterion(
    "inc.consent",
    INCLUSION_ALL,
    title="Signed informed consent",
    page="Signed and dated ICF indicating that the participant has been informed of all pertinent aspects of the study.",
    rule="Rule: PASS if dates.icf_signed is recorded and ≤ T. Otherwise MISSING [dates.icf_signed]. Never FAIL.",
)
def inc_consent(ctx: Ctx) -> CriterionResult:
    if ctx.icf is not None:
        return passed("inc.consent", f"ICF signed on {iso(ctx.icf)}.")
    return missing("inc.consent", "The signed ICF date is not recorded.", ("dates.icf_signed",))


_HEME: Final = ("anc", "platelets", "hemoglobin", "alc")


_HEME_MISSING: Final = tuple("labs." + t for t in _HEME)


_COUNTING_PRODUCTS: Final = frozenset(("red_cells", "platelets", "whole_blood"))


@criterion(
    "inc.heme.support",
    INCLUSION_ALL,
    title="No growth factor or transfusion support",
    page="Adequate hematological function without growth factor or transfusion support for at least {support_free_days} days prior to enrollment, including: …",
    rule="Decision: the support-free period is anchored on the haematology draw and runs to enrollment. Let H = the earliest collected date among the usable haematology results. Support counts if its date is after H − {support_free_days} days and ≤ T. So the last support must be at least {support_free_days} days before the counts that qualify the participant, and none may follow them. *Why*: counts drawn 3 days after a transfusion or G-CSF do not show the participant's own marrow function, even if enrollment is 8 days later (the page's intent). Support given between the draw and enrollment breaks the page's literal \"7 days prior to enrollment\". This reading satisfies both. Counting events: every growth_factor event (G-CSF, pegfilgrastim, GM-CSF, erythropoiesis-stimulating agents, thrombopoietin-receptor agonists; date = last dose, or the start with ongoing = true, which is read as dated T, § 1.5) and every transfusion with product red_cells, platelets or whole_blood. Plasma and other products do not count. Rule: 1. No usable haematology result → MISSING [labs.anc, labs.platelets, labs.hemoglobin, labs.alc]. 2. A counting event in the span → FAIL (reason: the event and its date). 3. Otherwise PASS if both growth_factor and transfusion are reviewed; else MISSING [reviewed.growth_factor and/or reviewed.transfusion, whichever is not reviewed].",
    reads=("support_free_days",),
)
def inc_heme_support(ctx: Ctx) -> CriterionResult:
    cid = "inc.heme.support"
    usable = ctx.usable
    h: date | None = None
    for test in _HEME:
        lab = usable.get(test)
        if lab is not None and (h is None or lab.collected < h):
            h = lab.collected
    if h is None:
        return missing(
            cid, "No usable haematology result, so the support-free period cannot be placed.", _HEME_MISSING
        )
    vu = h + ctx.w
    span_start = h - timedelta(days=ctx.th.support_free_days - 1)
    t = ctx.t
    for ev in ctx.kind("growth_factor"):
        d = ctx.event_date(ev)
        if span_start <= d <= t:
            return failed(
                cid,
                f"Growth factor on {d}, within {ctx.th.support_free_days} days before the "
                f"haematology draw of {h} or after it.",
                vu,
            )
    for ev in ctx.kind("transfusion"):
        if ev.product in _COUNTING_PRODUCTS and span_start <= ev.date <= t:
            return failed(
                cid,
                f"Transfusion ({str(ev.product).replace('_', ' ')}) on {ev.date}, within {ctx.th.support_free_days} "
                f"days before the haematology draw of {h} or after it.",
                vu,
            )
    reviewed = ctx.reviewed
    paths = tuple("reviewed." + a for a in ("growth_factor", "transfusion") if a not in reviewed)
    if paths:
        return missing(cid, "Growth factor and transfusion history must be reviewed in full.", paths)
    return passed(
        cid, f"No growth factor or transfusion support from {iso(span_start)} (draw {iso(h)}) to date.", vu
    )


def _count_rule(cid: str, test: str, name: str, threshold_attr: str, unit: str) -> Rule:
    def rule(ctx: Ctx) -> CriterionResult:
        lab = ctx.usable.get(test)
        if lab is None:
            return missing(cid, lab_absent_reason(ctx, test), ("labs." + test,))
        threshold = getattr(ctx.th, threshold_attr)
        num, den = lab.canonical_num, lab.canonical_den
        assert num is not None and den is not None
        vu = lab.collected + ctx.w
        shown = f"{name} {canonical_text(lab)} ({iso(lab.collected)})"
        if num >= threshold * den:
            return passed(cid, f"{shown} ≥ {threshold_text(threshold)} {unit}.", vu)
        return failed(cid, f"{shown} < {threshold_text(threshold)} {unit}.", vu)

    return rule


inc_heme_anc: Rule = criterion(
    "inc.heme.anc",
    INCLUSION_ALL,
    title="ANC ≥ {anc_min_per_ul}/µL",
    page="Absolute neutrophil count [≥] {anc_min_per_ul} [/µ]L",
    rule="Rule: selected anc usable: PASS if ANC ≥ {anc_min_per_ul}/µL, FAIL if < {anc_min_per_ul}/µL. Not usable: MISSING [labs.anc].",
    reads=("anc_min_per_ul",),
)(_count_rule("inc.heme.anc", "anc", "ANC", "anc_min_per_ul", "/µL"))


inc_heme_platelets: Rule = criterion(
    "inc.heme.platelets",
    INCLUSION_ALL,
    title="Platelets ≥ {platelets_min_per_ul}/µL",
    page="Platelet count ≥ {platelets_min_per_ul}/uL",
    rule="Rule: PASS if platelets ≥ {platelets_min_per_ul}/µL; FAIL if < {platelets_min_per_ul}/µL; MISSING [labs.platelets].",
    reads=("platelets_min_per_ul",),
)(_count_rule("inc.heme.platelets", "platelets", "Platelets", "platelets_min_per_ul", "/µL"))


inc_heme_hemoglobin: Rule = criterion(
    "inc.heme.hemoglobin",
    INCLUSION_ALL,
    title="Haemoglobin ≥ {hemoglobin_min_g_dl} g/dL",
    page="Hemoglobin [≥] {hemoglobin_min_g_dl} g/dL",
    rule="Rule: PASS if haemoglobin ≥ {hemoglobin_min_g_dl} g/dL; FAIL if < {hemoglobin_min_g_dl} g/dL; MISSING [labs.hemoglobin].",
    reads=("hemoglobin_min_g_dl",),
)(_count_rule("inc.heme.hemoglobin", "hemoglobin", "Haemoglobin", "hemoglobin_min_g_dl", "g/dL"))


inc_heme_alc: Rule = criterion(
    "inc.heme.alc",
    INCLUSION_ALL,
    title="ALC ≥ {alc_min_per_ul}/µL",
    page="Absolute Lymphocyte count ≥ {alc_min_per_ul}/uL",
    rule="Rule: PASS if ALC ≥ {alc_min_per_ul}/µL; FAIL if < {alc_min_per_ul}/µL; MISSING [labs.alc].",
    reads=("alc_min_per_ul",),
)(_count_rule("inc.heme.alc", "alc", "ALC", "alc_min_per_ul", "/µL"))


_CG_FEMALE: Final = Decimal("0.85")


@criterion(
    "inc.crcl",
    INCLUSION_ALL,
    title="Creatinine clearance ≥ {crcl_min_ml_min} mL/min",
    page="Creatinine clearance (CrCl) [≥] {crcl_min_ml_min} mL/min using the Cockcroft-Gault formula.",
    rule="Rule: CrCl by § 10.1. PASS if CrCl ≥ {crcl_min_ml_min} mL/min; FAIL if < {crcl_min_ml_min}. MISSING [labs.creatinine and/or labs.weight, whichever is not usable].",
    reads=("crcl_min_ml_min",),
)
def inc_crcl(ctx: Ctx) -> CriterionResult:
    cid = "inc.crcl"
    cr = ctx.usable.get("creatinine")
    wt = ctx.usable.get("weight")
    if cr is None or wt is None:
        paths = tuple(p for p, lab in (("labs.creatinine", cr), ("labs.weight", wt)) if lab is None)
        reasons = " ".join(lab_absent_reason(ctx, p[5:]) for p in paths)
        return missing(cid, reasons, paths)
    age = age_on(ctx.case.birth_date, cr.collected)
    cnum, cden = cr.canonical_num, cr.canonical_den
    wnum, wden = wt.canonical_num, wt.canonical_den
    assert cnum is not None and cden is not None and wnum is not None and wden is not None
    sex_factor = _CG_FEMALE if ctx.female else 1
    # CrCl = (140 − age) × weight × F / (72 × SCr); compared with 50 by cross-multiplying (exact).
    lhs = (140 - age) * wnum * sex_factor * cden
    rhs = 72 * cnum * wden
    threshold = ctx.th.crcl_min_ml_min
    crcl = lhs / rhs
    vu = min(cr.collected, wt.collected) + ctx.w
    shown = (
        f"CrCl {format_decimal(round(crcl, 1))} mL/min (Cockcroft–Gault: age {age}, weight "
        f"{canonical_text(wt)}, creatinine {show(cr)})"
    )
    if lhs >= threshold * rhs:
        return passed(cid, f"{shown} ≥ {threshold_text(threshold)} mL/min.", vu)
    return failed(cid, f"{shown} < {threshold_text(threshold)} mL/min.", vu)


@criterion(
    "inc.organ_function",
    INCLUSION_ALL,
    title="Adequate liver, cardiac and pulmonary function",
    page="Adequate liver, cardiac, and pulmonary function, including: See Protocol",
    rule="Rule: three boolean parts, each passing on true: inv_adequate_liver_function, inv_adequate_cardiac_function, inv_adequate_pulmonary_function. Combined by § 1.3.",
)
def inc_organ_function(ctx: Ctx) -> CriterionResult:
    parts = [
        bool_part(
            ctx,
            "inv_adequate_liver_function",
            True,
            "Liver function adequate.",
            "Liver function not adequate.",
        ),
        bool_part(
            ctx,
            "inv_adequate_cardiac_function",
            True,
            "Cardiac function adequate.",
            "Cardiac function not adequate.",
        ),
        bool_part(
            ctx,
            "inv_adequate_pulmonary_function",
            True,
            "Pulmonary function adequate.",
            "Pulmonary function not adequate.",
        ),
    ]
    return combine("inc.organ_function", parts)


inc_prior_ae_resolved: Rule = criterion(
    "inc.prior_ae_resolved",
    INCLUSION_ALL,
    title="Prior therapy effects resolved",
    page="Resolved acute effects of any prior therapy to baseline severity or Common Terminology [Criteria for Adverse Events Grade ≤] 1 except for AEs considered clinically nonsignificant and/or stable on supportive therapy as determined by the Investigator.",
    rule="Rule: boolean criterion inv_prior_therapy_aes_resolved, passing on true.",
)(
    boolean_criterion(
        "inc.prior_ae_resolved",
        "inv_prior_therapy_aes_resolved",
        True,
        "Acute effects of prior therapy resolved (baseline or CTCAE grade ≤ 1).",
        "Acute effects of prior therapy not resolved.",
    )
)


@criterion(
    "inc.pregnancy_test",
    INCLUSION_ALL,
    title="Negative pregnancy test",
    page="A highly sensitive urine pregnancy test or serum pregnancy test (for females of childbearing potential) negative at screening.",
    rule="Applies: sex = F with childbearing potential yes or unknown (§ 10.2). NOT_APPLICABLE for males and for females not of childbearing potential. Rule: selected pregnancy_test (urine or serum) usable: PASS if negative, FAIL if positive, MISSING [labs.pregnancy_test] if indeterminate (the reason asks for a repeat test). Not usable: MISSING [labs.pregnancy_test].",
)
def inc_pregnancy_test(ctx: Ctx) -> CriterionResult:
    cid = "inc.pregnancy_test"
    if not ctx.female:
        return not_applicable(cid, "Applies to women of childbearing potential only.")
    if childbearing_potential(ctx) == "no":
        return not_applicable(cid, "Not of childbearing potential.")
    lab = ctx.usable.get("pregnancy_test")
    if lab is None:
        return missing(cid, lab_absent_reason(ctx, "pregnancy_test"), ("labs.pregnancy_test",))
    vu = lab.collected + ctx.w
    if lab.value == "negative":
        return passed(cid, f"Pregnancy test ({lab.specimen}) negative on {iso(lab.collected)}.", vu)
    if lab.value == "positive":
        return failed(cid, f"Pregnancy test ({lab.specimen}) positive on {lab.collected}.", vu)
    return missing(
        cid, f"Pregnancy test of {lab.collected} indeterminate; repeat the test.", ("labs.pregnancy_test",)
    )


@criterion(
    "inc.childbearing_status",
    INCLUSION_ALL,
    title="Childbearing status",
    page="Female participants of non-childbearing potential must meet at least 1 of the following criteria: postmenopausal status … ; documented hysterectomy and/or bilateral oophorectomy; medically confirmed ovarian failure / ovarian insufficiency. All other female participants (including those with tubal ligations) are considered to be of childbearing potential.",
    rule="Applies: sex = F; NOT_APPLICABLE for males. Rule: childbearing_exemption unrecorded → MISSING [facts.childbearing_exemption]. postmenopausal with age on C below {postmenopausal_confirm_below_age}, or with any cyclophosphamide therapy entry → REVIEW, investigator: the investigator confirms the postmenopausal state (for example by FSH), because amenorrhoea after cyclophosphamide or in a young woman is often not menopause. Any other recorded value → PASS (the reason states the derived status, § 10.2). The computed outcome is never FAIL: the enumeration only allows the page's exemptions (an investigator's reject makes it FAIL, § 1.8, until the exemption is corrected).",
    reads=("postmenopausal_confirm_below_age",),
)
def childbearing_status(ctx: Ctx) -> CriterionResult:
    """inc.childbearing_status after adjudication, computed once per evaluation."""
    r = ctx.memo.get("inc.childbearing_status")
    if r is None:
        r = adjudicate(ctx, _childbearing_status(ctx))
        ctx.memo["inc.childbearing_status"] = r
    return r


def _childbearing_status(ctx: Ctx) -> CriterionResult:
    cid = "inc.childbearing_status"
    if not ctx.female:
        return not_applicable(cid, "Applies to female participants only.")
    exemption = ctx.facts.get("childbearing_exemption")
    if exemption is None:
        return missing(cid, "The childbearing status is not recorded.", ("facts.childbearing_exemption",))
    if exemption == "none":
        return passed(cid, "Of childbearing potential.")
    if exemption != "postmenopausal":
        return passed(cid, f"Not of childbearing potential ({exemption.replace('_', ' ')}).")
    birth = ctx.case.birth_date
    age = age_on(birth, ctx.c)
    cyclo = [v.therapy for v in ctx.therapies if v.therapy.agent == "cyclophosphamide"]
    young = age < ctx.th.postmenopausal_confirm_below_age
    if not young and not cyclo:
        return passed(cid, f"Postmenopausal at {age}: not of childbearing potential.")
    items = [
        ev_fact(ctx, "childbearing_exemption"),
        {"path": "birth_date", "date": None, "value": birth.isoformat()},
    ]
    items.extend(ev_therapy(t) for t in cyclo)
    why = []
    if young:
        why.append(f"age {age} is below {ctx.th.postmenopausal_confirm_below_age}")
    if cyclo:
        why.append("cyclophosphamide was given")
    vu = None
    if young and not cyclo and ctx.c_is_t:
        vu = birthday(birth, ctx.th.postmenopausal_confirm_below_age) - ONE_DAY
    return review(
        cid,
        INVESTIGATOR,
        f"Recorded postmenopausal, but {' and '.join(why)}: the investigator confirms the "
        "postmenopausal state (e.g. FSH).",
        (entry("inc.childbearing_status/postmenopausal", items),),
        vu,
    )


def childbearing_potential(ctx: Ctx) -> str:
    """'yes', 'no' or 'unknown' for a woman (§ 10.2)."""
    exemption = ctx.facts.get("childbearing_exemption")
    if exemption is None:
        return "unknown"
    if exemption == "none":
        return "yes"
    if exemption == "postmenopausal":
        return "no" if childbearing_status(ctx).outcome is PASS else "unknown"
    return "no"


@criterion(
    "inc.contraception",
    INCLUSION_ALL,
    title="Willing to use contraception",
    page="Fertile male and female participants of childbearing potential must be willing to use a highly effective method of contraception from the time of signing the ICF and for at least 12 months (6 months for males) after receiving LD or ALLO329, whichever is longer.",
    rule="Rule, female: not of childbearing potential → NOT_APPLICABLE. willing_contraception = true → PASS. False → FAIL if childbearing potential is yes, MISSING [facts.childbearing_exemption] if unknown (exemption unrecorded, or a postmenopausal state not yet confirmed: § 10.2). Unrecorded → MISSING [facts.willing_contraception], plus [facts.childbearing_exemption] if unknown. Rule, male: male_sterile = true → NOT_APPLICABLE. willing_contraception = true → PASS. False → FAIL if male_sterile = false, MISSING [facts.male_sterile] if unrecorded. Unrecorded → MISSING [facts.willing_contraception].",
)
def inc_contraception(ctx: Ctx) -> CriterionResult:
    cid = "inc.contraception"
    willing = ctx.facts.get("willing_contraception")
    if ctx.female:
        cbp = childbearing_potential(ctx)
        if cbp == "no":
            return not_applicable(cid, "Not of childbearing potential.")
        if willing is True:
            return passed(cid, "Willing to use highly effective contraception.")
        if willing is False:
            if cbp == "yes":
                return failed(cid, "Of childbearing potential and not willing to use contraception.")
            return missing(
                cid,
                "Not willing to use contraception; childbearing potential is not established.",
                ("facts.childbearing_exemption",),
            )
        paths: tuple[str, ...] = ("facts.willing_contraception",)
        if cbp == "unknown":
            paths += ("facts.childbearing_exemption",)
        return missing(cid, "Willingness to use contraception is not recorded.", paths)
    sterile = ctx.facts.get("male_sterile")
    if sterile is True:
        return not_applicable(cid, "Documented sterile.")
    if willing is True:
        return passed(cid, "Willing to use highly effective contraception.")
    if willing is False:
        if sterile is False:
            return failed(cid, "Not willing to use contraception and not documented sterile.")
        return missing(
            cid, "Not willing to use contraception; sterility is not recorded.", ("facts.male_sterile",)
        )
    return missing(cid, "Willingness to use contraception is not recorded.", ("facts.willing_contraception",))


inc_compliance: Rule = criterion(
    "inc.compliance",
    INCLUSION_ALL,
    title="Willing and able to comply",
    page="Willing and able to comply with scheduled visits, treatment plan, laboratory tests, and other procedures.",
    rule="Rule: boolean criterion willing_able_to_comply, passing on true. Confidence: high.",
)(
    boolean_criterion(
        "inc.compliance",
        "willing_able_to_comply",
        True,
        "Willing and able to comply.",
        "Not willing or able to comply with the study procedures.",
    )
)
