"""Inclusion criteria for all cohorts (CRITERIA.md § 2)."""

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
from .model import LabResult
from .results import CriterionResult
from .vocabulary import LAB_TESTS_BY_KEY

ONE_DAY: Final = timedelta(days=1)


def lab_absent_reason(ctx: Ctx, test: str) -> str:
    lab = ctx.selected.get(test)
    label = LAB_TESTS_BY_KEY[test].label
    if lab is None:
        return f"No {label} result on record."
    return (
        f"Latest {label} result {lab.collected} is before the screening window, which starts "
        f"{ctx.window_start}; repeat on or after {ctx.window_start}."
    )


def show(lab: LabResult) -> str:
    value = lab.value
    shown = format_decimal(value) if not isinstance(value, (str, int)) else str(value)
    return f"{shown} {lab.unit}" if lab.unit else shown


def canonical_text(lab: LabResult) -> str:
    num, den = lab.canonical_num, lab.canonical_den
    assert num is not None and den is not None
    unit = LAB_TESTS_BY_KEY[lab.test].canonical_unit
    if den == 1 and num == num.to_integral_value():
        return f"{format_decimal(num)} {unit}"
    c = num / den
    q = c.quantize(1) if c == c.to_integral_value() else round(c, 2)
    return f"{format_decimal(q)} {unit}"


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


def inc_consent(ctx: Ctx) -> CriterionResult:
    if ctx.icf is not None:
        return passed("inc.consent", f"ICF signed on {iso(ctx.icf)}.")
    return missing("inc.consent", "The signed ICF date is not recorded.", ("dates.icf_signed",))


_HEME: Final = ("anc", "platelets", "hemoglobin", "alc")
_HEME_MISSING: Final = tuple("labs." + t for t in _HEME)
_COUNTING_PRODUCTS: Final = frozenset(("red_cells", "platelets", "whole_blood"))


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
                f"Transfusion ({ev.product}) on {ev.date}, within {ctx.th.support_free_days} "
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


inc_heme_anc: Rule = _count_rule("inc.heme.anc", "anc", "ANC", "anc_min_per_ul", "/µL")
inc_heme_platelets: Rule = _count_rule(
    "inc.heme.platelets", "platelets", "Platelets", "platelets_min_per_ul", "/µL"
)
inc_heme_hemoglobin: Rule = _count_rule(
    "inc.heme.hemoglobin", "hemoglobin", "Haemoglobin", "hemoglobin_min_g_dl", "g/dL"
)
inc_heme_alc: Rule = _count_rule("inc.heme.alc", "alc", "ALC", "alc_min_per_ul", "/µL")

_CG_FEMALE: Final = Decimal("0.85")


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


inc_prior_ae_resolved: Rule = boolean_criterion(
    "inc.prior_ae_resolved",
    "inv_prior_therapy_aes_resolved",
    True,
    "Acute effects of prior therapy resolved (baseline or CTCAE grade ≤ 1).",
    "Acute effects of prior therapy not resolved.",
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


inc_compliance: Rule = boolean_criterion(
    "inc.compliance",
    "willing_able_to_comply",
    True,
    "Willing and able to comply.",
    "Not willing or able to comply with the study procedures.",
)
