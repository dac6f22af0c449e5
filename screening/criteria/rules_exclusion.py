"""Exclusion criteria (CRITERIA.md § 6-9). An exclusion PASSES when the participant is not excluded."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

from .calendar_math import add_months, iso, window_end_months
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
    bool_part,
    boolean_criterion,
    combine,
    entry,
    ev_fact,
    ev_lab,
    ev_therapy,
    failed,
    missing,
    not_applicable,
    outcome_of,
    passed,
)
from .model import LabResult
from .results import CriterionResult, EvidenceEntry
from .rules_cohorts import latest, positive_antibody
from .rules_inclusion import childbearing_potential, lab_absent_reason, show
from .table4 import CONTINUE, EXCLUDED, TAPER, Category
from .table4 import REVIEW as WASHOUT_REVIEW

ONE_DAY: Final = timedelta(days=1)


_REVIEWED_PARTS: Final[dict[tuple[str, str], tuple[Part, Part]]] = {}


def _reviewed_part(ctx: Ctx, area: str, none_reason: str) -> Part:
    """PASS when the area's history is reviewed, else MISSING; both parts are built once."""
    parts = _REVIEWED_PARTS.get((area, none_reason))
    if parts is None:
        parts = _REVIEWED_PARTS[(area, none_reason)] = (
            Part(PASS, none_reason),
            Part(MISSING, f"The {area.replace('_', ' ')} history is not reviewed.", ("reviewed." + area,)),
        )
    return parts[0] if area in ctx.reviewed else parts[1]


exc_infection: Rule = boolean_criterion(
    "exc.infection",
    "inv_active_infection",
    False,
    "No exclusionary infection.",
    "Exclusionary active infection.",
)

_EXCEPTED: Final = frozenset(
    ("bcc_skin_localized", "scc_skin_localized", "cis_breast", "cis_cervix", "cis_bladder")
)


def exc_malignancy(ctx: Ctx) -> CriterionResult:
    cid = "exc.malignancy"
    months = ctx.th.malignancy_months
    since = add_months(ctx.e, -months)
    t = ctx.t
    parts: list[Part] = []
    fail_ends: list[date | None] = []  # window ends of counting events; None when still active
    for ev in ctx.kind("malignancy"):
        excepted = ev.type in _EXCEPTED
        if excepted and ev.adequately_treated is True:
            continue
        if ev.still_active:
            active_end: date | None = t
        elif ev.active_until is not None:
            active_end = min(ev.active_until, t)  # an end after T means still active on T
        else:
            active_end = None
        if active_end is not None:
            counts = active_end >= since
            undecided: tuple[str, ...] = ()
        else:
            counts = ev.date >= since
            undecided = () if counts else ("events.malignancy.active_until",)
        if excepted and ev.adequately_treated is None and (counts or undecided):
            parts.append(
                Part(
                    MISSING,
                    f"{ev.type} of {ev.date}: whether it was adequately treated is not recorded.",
                    undecided + ("events.malignancy.adequately_treated",),
                )
            )
            continue
        if counts:
            if ev.still_active:
                end_text = "still active"
                fail_ends.append(None)
            elif ev.active_until is not None and ev.active_until > t:
                end_text = "still active"
                fail_ends.append(window_end_months(ev.active_until, months))
            elif ev.active_until is not None:
                end_text = f"active until {ev.active_until}"
                fail_ends.append(window_end_months(ev.active_until, months))
            else:
                end_text = "end of activity unknown"
                fail_ends.append(window_end_months(ev.date, months))
            parts.append(
                Part(
                    FAIL,
                    f"Malignancy ({ev.type}) diagnosed {ev.date}, {end_text}: active within "
                    f"{months // 12} years before enrollment.",
                )
            )
        elif undecided:
            parts.append(
                Part(
                    MISSING,
                    f"Malignancy ({ev.type}) diagnosed {ev.date}: the end of its activity is not recorded.",
                    undecided,
                )
            )
    parts.append(_reviewed_part(ctx, "malignancy", "No exclusionary malignancy."))
    vu = None
    if fail_ends and all(e is not None for e in fail_ends):
        vu = max(e for e in fail_ends if e is not None)
    return combine(cid, parts, vu if outcome_of(parts) is FAIL else None)


def exc_prior_targeted_therapy(ctx: Ctx) -> CriterionResult:
    cid = "exc.prior_targeted_therapy"
    targeted = [v.therapy for v in ctx.therapies if v.agent.category is Category.TARGETED_EXCLUDED]
    if targeted:
        first = targeted[0]
        therapy_part = Part(
            FAIL,
            f"Prior {first.agent.replace('_', ' ')} ({first.start}): CD19/CD70-targeted or "
            "engineered cell therapy.",
        )
    else:
        therapy_part = _reviewed_part(ctx, "therapies", "No CD19/CD70-targeted or engineered cell therapy.")
    parts = [
        therapy_part,
        bool_part(
            ctx,
            "inv_no_prior_cd19_cd70_or_engineered_cell_therapy",
            True,
            "The investigator attests none was ever given.",
            "The investigator reports a prior CD19/CD70-targeted or engineered cell therapy.",
        ),
    ]
    return combine(cid, parts)


def exc_live_vaccine(ctx: Ctx) -> CriterionResult:
    cid = "exc.live_vaccine"
    days = ctx.th.live_vaccine_days
    since = ctx.e - timedelta(days=days)
    counting = [ev for ev in ctx.kind("live_vaccine") if ev.date >= since]
    if counting:
        last = max(ev.date for ev in counting)
        return failed(
            cid, f"Live vaccine on {last}, within {days} days before enrollment.", last + timedelta(days=days)
        )
    if "live_vaccine" in ctx.reviewed:
        return passed(cid, f"No live vaccine within {days} days before enrollment.")
    return missing(cid, "The live vaccine history is not reviewed.", ("reviewed.live_vaccine",))


_TIMEDELTAS: Final[dict[int, timedelta]] = {}


def _days(n: int) -> timedelta:
    delta = _TIMEDELTAS.get(n)
    if delta is None:
        delta = _TIMEDELTAS[n] = timedelta(days=n)
    return delta


def exc_washout(ctx: Ctx) -> CriterionResult:
    cid = "exc.washout"
    parts: list[Part] = []
    stop_needed: list[str] = []
    e, d0, t = ctx.e, ctx.d0, ctx.t
    lookback = ctx.settings.unlisted_agent_lookback_days
    for v in ctx.therapies:
        th = v.therapy
        washout = v.agent.washout
        if washout == CONTINUE or washout == EXCLUDED:
            continue
        name = th.agent_name or th.agent.replace("_", " ")
        if isinstance(washout, int):
            n = _days(washout)
            if not v.ongoing:
                last = v.last_dose
                assert last is not None
                if d0 is not None:
                    if last <= d0 - n:
                        parts.append(
                            Part(
                                PASS,
                                f"{name} last dose {iso(last)}, at least {washout} days before Day 0 {iso(d0)}.",
                            )
                        )
                    else:
                        note = (
                            f" ({v.agent.note})"
                            if v.agent.note and v.agent.key in ("belimumab", "telitacicept")
                            else ""
                        )
                        parts.append(
                            Part(
                                FAIL,
                                f"{name} last dose {last}; Day 0 must be on or after {last + n} "
                                f"({washout}-day washout{note}), planned {d0}.",
                                vu=last + n - ONE_DAY,
                            )
                        )
                elif last <= e - n:
                    parts.append(
                        Part(PASS, f"{name} last dose {last}, at least {washout} days before enrollment.")
                    )
                else:
                    parts.append(
                        Part(
                            MISSING,
                            f"{name} last dose {last}: the planned Day 0 is needed to check "
                            f"the {washout}-day washout.",
                            ("dates.planned_day0",),
                        )
                    )
                continue
            if d0 is None:
                parts.append(
                    Part(
                        MISSING,
                        f"{name} is ongoing: the planned Day 0 is needed for its {washout}-day washout.",
                        ("dates.planned_day0",),
                    )
                )
                continue
            deadline = d0 - n
            if t <= deadline:
                parts.append(_stop_part(ctx, f"{name} must be stopped by {iso(deadline)}.", deadline))
                stop_needed.append(name)
            elif v.last_dose is not None and v.last_dose <= deadline:
                parts.append(
                    _stop_part(
                        ctx,
                        f"{name}: no further dose may be given before Day 0 {d0} (last dose {v.last_dose}).",
                        None,
                    )
                )
                stop_needed.append(name)
            else:
                parts.append(
                    Part(
                        FAIL,
                        f"{name} is ongoing and can no longer be stopped {washout} days before "
                        f"Day 0 {d0} (deadline {deadline}).",
                    )
                )
        elif washout == TAPER:
            if v.ongoing:
                parts.append(_stop_part(ctx, f"{name} must be tapered as the protocol requires.", None))
                stop_needed.append(name)
        elif washout == WASHOUT_REVIEW:
            since = e - timedelta(days=lookback)
            if v.ongoing or (v.last_dose is not None and v.last_dose >= since):
                key = "other" if th.agent == "other" else th.agent
                when = "ongoing" if v.ongoing else f"last given {v.last_dose}"
                review_vu = (
                    None if v.last_dose is None or v.ongoing else v.last_dose + timedelta(days=lookback)
                )
                parts.append(
                    Part(
                        REVIEW,
                        f"{name} ({when}) has no washout in Table 4: the investigator reviews it.",
                        by=INVESTIGATOR,
                        vu=review_vu,
                        evidence=entry(f"exc.washout/{key}", [ev_therapy(th)]),
                    )
                )
    if "therapies" not in ctx.reviewed:
        parts.append(Part(MISSING, "The therapy history is not reviewed.", ("reviewed.therapies",)))
    outcome = outcome_of(parts)
    vu: date | None = None
    if outcome is FAIL:
        fails = [p.vu for p in parts if p.outcome is FAIL]
        if all(f is not None for f in fails):
            vu = max(f for f in fails if f is not None)
    elif outcome is PASS:
        vus = [p.vu for p in parts if p.outcome is PASS and p.vu is not None]
        vu = min(vus) if vus else None
    elif outcome is REVIEW:
        vus = [p.vu for p in parts if p.outcome in (PASS, REVIEW) and p.vu is not None]
        vu = min(vus) if vus else None
    return combine(cid, parts, vu, "No Table 4 therapy needs a washout.")


def _stop_part(ctx: Ctx, what: str, vu: date | None) -> Part:
    able = ctx.facts.get("inv_able_to_stop_or_taper_prior_therapies")
    if able is True:
        return Part(PASS, what + " The investigator attests this is possible.", vu=vu)
    if able is False:
        return Part(FAIL, what + " The investigator reports this is not possible.")
    return Part(
        MISSING,
        what + " The investigator's attestation is not recorded.",
        ("facts.inv_able_to_stop_or_taper_prior_therapies",),
    )


exc_uncontrolled_disease: Rule = boolean_criterion(
    "exc.uncontrolled_disease",
    "inv_uncontrolled_other_disease",
    False,
    "No uncontrolled other disease.",
    "Uncontrolled other disease or undue risk.",
)
exc_transplant: Rule = boolean_criterion(
    "exc.transplant", "history_transplant", False, "No prior transplant.", "History of transplantation."
)


def exc_transfusion_refractory(ctx: Ctx) -> CriterionResult:
    return combine(
        "exc.transfusion_refractory",
        [
            bool_part(
                ctx,
                "transfusion_refractory",
                False,
                "Not refractory to transfusions.",
                "Refractory to platelet or red cell transfusions.",
            ),
            bool_part(
                ctx,
                "refuses_transfusion",
                False,
                "Accepts transfusion support.",
                "Will refuse transfusion support.",
            ),
        ],
    )


_HEPATITIS_TESTS: Final = ("hiv_ag_ab", "hbsag", "anti_hbc", "hbv_dna", "hcv_ab", "hcv_rna")


def _hbv_evidence(
    hbsag: LabResult | None, anti_hbc: LabResult | None, hbv_dna: LabResult | None
) -> EvidenceEntry:
    return entry(
        "exc.hepatitis_hiv/hbv",
        [ev_lab(hbsag, "hbsag"), ev_lab(anti_hbc, "anti_hbc"), ev_lab(hbv_dna, "hbv_dna")],
    )


def exc_hepatitis_hiv(ctx: Ctx) -> CriterionResult:
    cid = "exc.hepatitis_hiv"
    u = ctx.usable
    hiv, hbsag, anti_hbc, hbv_dna = u.get("hiv_ag_ab"), u.get("hbsag"), u.get("anti_hbc"), u.get("hbv_dna")
    hcv_ab, hcv_rna = u.get("hcv_ab"), u.get("hcv_rna")
    parts: list[Part] = []
    # HIV
    if hiv is None:
        parts.append(Part(MISSING, lab_absent_reason(ctx, "hiv_ag_ab"), ("labs.hiv_ag_ab",)))
    elif hiv.value == "positive":
        parts.append(Part(FAIL, f"HIV Ag/Ab positive ({hiv.collected})."))
    elif hiv.value == "negative":
        parts.append(Part(PASS, "HIV negative."))
    else:
        parts.append(
            Part(
                REVIEW,
                f"HIV Ag/Ab indeterminate ({hiv.collected}).",
                by=INVESTIGATOR,
                evidence=entry("exc.hepatitis_hiv/hiv", [ev_lab(hiv, "hiv_ag_ab")]),
            )
        )
    # HBV (evidence is built only for a REVIEW part)
    if hbv_dna is not None and hbv_dna.value == "detected":
        parts.append(Part(FAIL, f"HBV DNA detected ({hbv_dna.collected})."))
    elif (hbsag is not None and hbsag.value == "positive") or (
        anti_hbc is not None and anti_hbc.value == "positive"
    ):
        if hbv_dna is not None:
            parts.append(
                Part(
                    REVIEW,
                    "Positive HBV serology with HBV DNA not detected: the investigator decides.",
                    by=INVESTIGATOR,
                    evidence=_hbv_evidence(hbsag, anti_hbc, hbv_dna),
                )
            )
        else:
            parts.append(Part(MISSING, "Positive HBV serology: HBV DNA by PCR is needed.", ("labs.hbv_dna",)))
    elif hbsag is not None and anti_hbc is not None:
        if hbsag.value == "negative" and anti_hbc.value == "negative":
            parts.append(Part(PASS, "HBsAg and anti-HBc negative."))
        else:
            parts.append(
                Part(
                    REVIEW,
                    "Indeterminate HBV serology: the investigator decides.",
                    by=INVESTIGATOR,
                    evidence=_hbv_evidence(hbsag, anti_hbc, hbv_dna),
                )
            )
    else:
        paths = tuple("labs." + k for k, lab in (("hbsag", hbsag), ("anti_hbc", anti_hbc)) if lab is None)
        parts.append(Part(MISSING, "HBV serology is incomplete.", paths))
    # HCV
    if hcv_rna is not None and hcv_rna.value == "detected":
        parts.append(Part(FAIL, f"HCV RNA detected ({hcv_rna.collected})."))
    elif hcv_ab is None:
        parts.append(Part(MISSING, lab_absent_reason(ctx, "hcv_ab"), ("labs.hcv_ab",)))
    elif hcv_ab.value == "negative":
        parts.append(Part(PASS, "HCV antibody negative."))
    elif hcv_ab.value == "indeterminate":
        parts.append(
            Part(
                REVIEW,
                "HCV antibody indeterminate: the investigator decides.",
                by=INVESTIGATOR,
                evidence=entry(
                    "exc.hepatitis_hiv/hcv", [ev_lab(hcv_ab, "hcv_ab"), ev_lab(hcv_rna, "hcv_rna")]
                ),
            )
        )
    elif hcv_rna is not None:
        parts.append(
            Part(
                REVIEW,
                "HCV antibody positive with HCV RNA not detected: the investigator decides.",
                by=INVESTIGATOR,
                evidence=entry(
                    "exc.hepatitis_hiv/hcv", [ev_lab(hcv_ab, "hcv_ab"), ev_lab(hcv_rna, "hcv_rna")]
                ),
            )
        )
    else:
        parts.append(Part(MISSING, "HCV antibody positive: HCV RNA by PCR is needed.", ("labs.hcv_rna",)))
    outcome = outcome_of(parts)
    vu = None
    if outcome is not MISSING:
        dates = [lab.collected for lab in (hiv, hbsag, anti_hbc, hbv_dna, hcv_ab, hcv_rna) if lab is not None]
        vu = min(dates) + ctx.w if dates else None
    return combine(cid, parts, vu)


exc_immunodeficiency: Rule = boolean_criterion(
    "exc.immunodeficiency",
    "primary_immunodeficiency",
    False,
    "No primary immunodeficiency.",
    "Primary immunodeficiency.",
)


def exc_cardiac(ctx: Ctx) -> CriterionResult:
    cid = "exc.cardiac"
    months = ctx.th.cardiac_months
    since = add_months(ctx.s, -months)
    min_class = ctx.settings.nyha_exclusion_min_class
    counting = []
    for ev in ctx.kind("cardiovascular_event"):
        if ev.condition == "heart_failure" and (ev.nyha_class is None or ev.nyha_class < min_class):
            continue
        if ctx.event_date(ev) >= since:
            counting.append(ev)
    if counting:
        last = max(counting, key=ctx.event_date)
        event_part = Part(
            FAIL,
            f"{(last.condition or 'cardiovascular event').replace('_', ' ')} "
            f"{'ongoing' if last.ongoing else 'on ' + str(last.date)}, within {months} months "
            "before screening.",
        )
    else:
        event_part = _reviewed_part(
            ctx, "cardiovascular_event", f"No cardiovascular event within {months} months."
        )
    parts = [
        event_part,
        bool_part(
            ctx,
            "symptomatic_pericardial_effusion",
            False,
            "No symptomatic pericardial effusion.",
            "Haemodynamically symptomatic pericardial effusion.",
        ),
        bool_part(
            ctx,
            "symptomatic_ecg_abnormality",
            False,
            "No symptomatic ECG abnormality.",
            "Symptomatic ECG abnormality requiring intervention.",
        ),
    ]
    vu = None
    if (
        counting
        and ctx.s_is_t
        and sum(p.outcome is FAIL for p in parts) == 1
        and not any(ev.ongoing for ev in counting)
    ):
        vu = max(window_end_months(ev.date, months) for ev in counting)
    return combine(cid, parts, vu)


exc_pml: Rule = boolean_criterion("exc.pml", "history_pml", False, "No history of PML.", "History of PML.")


def exc_cirrhosis(ctx: Ctx) -> CriterionResult:
    cid = "exc.cirrhosis"
    cirrhosis = ctx.facts.get("cirrhosis")
    if cirrhosis is None:
        return missing(cid, "Cirrhosis is not recorded.", ("facts.cirrhosis",))
    if cirrhosis is False:
        return passed(cid, "No cirrhosis.")
    score = ctx.facts.get("child_pugh_score")
    if score is None:
        return missing(cid, "Cirrhosis: the Child–Pugh score is not recorded.", ("facts.child_pugh_score",))
    if score >= ctx.th.child_pugh_min_excluded:
        return failed(cid, f"Child–Pugh score {score}: class {'B' if score <= 9 else 'C'} cirrhosis.")
    return passed(cid, f"Child–Pugh score {score}: class A cirrhosis.")


def exc_pulmonary(ctx: Ctx) -> CriterionResult:
    cid = "exc.pulmonary"
    months = ctx.th.pulmonary_embolism_months
    since = add_months(ctx.e, -months)
    parts = [
        bool_part(
            ctx,
            "symptomatic_airway_disease",
            False,
            "No symptomatic airway disease.",
            "Symptomatic airway disease requiring intervention.",
        )
    ]
    grade = ctx.facts.get("pleural_effusion_ctcae_grade")
    if grade is None:
        parts.append(
            Part(
                MISSING,
                "The pleural effusion grade is not recorded.",
                ("facts.pleural_effusion_ctcae_grade",),
            )
        )
    elif grade >= ctx.th.pleural_effusion_min_excluded_grade:
        parts.append(Part(FAIL, f"Pleural effusion CTCAE grade {grade}."))
    else:
        parts.append(Part(PASS, f"Pleural effusion grade {grade}."))
    counting = [
        ev
        for ev in ctx.kind("pulmonary_embolism")
        if ev.required_anticoagulation is True and ev.date >= since
    ]
    if counting:
        parts.append(
            Part(
                FAIL,
                f"Pulmonary embolism requiring anticoagulation on "
                f"{max(ev.date for ev in counting)}, within {months} months before enrollment.",
            )
        )
    else:
        parts.append(_reviewed_part(ctx, "pulmonary_embolism", "No pulmonary embolism within 6 months."))
    vu = None
    if counting and sum(p.outcome is FAIL for p in parts) == 1:
        vu = max(window_end_months(ev.date, months) for ev in counting)
    return combine(cid, parts, vu)


_LUNG_TESTS: Final = (("fvc_pct_pred", "FVC"), ("dlco_pct_pred", "DLCO"))


def exc_lung_function(ctx: Ctx) -> CriterionResult:
    cid = "exc.lung_function"
    ald = ctx.facts.get("autoimmune_lung_disease")
    ild = ctx.dated.get("ild_progressive_raghu2022")  # any date <= T here
    ild_true = ild is not None and ild.value is True
    if not (ald is True or ild_true):
        if ald is False:
            return passed(cid, "No lung disease secondary to the autoimmune process.")
        return missing(
            cid,
            "Whether there is autoimmune lung disease is not recorded.",
            ("facts.autoimmune_lung_disease",),
        )
    floor = ctx.th.lung_function_floor_pct
    band = floor - ctx.settings.lung_function_review_margin_pct
    parts = []
    dates = []
    for test, label in _LUNG_TESTS:
        lab = ctx.usable.get(test)
        if lab is None:
            parts.append(Part(MISSING, lab_absent_reason(ctx, test), ("labs." + test,)))
            continue
        dates.append(lab.collected)
        value = lab.value
        assert not isinstance(value, str)
        shown = f"{label} {format_decimal(value) if not isinstance(value, int) else value} % predicted"
        if value > floor:
            parts.append(Part(PASS, f"{shown} > {floor} %."))
        elif value > band:
            parts.append(
                Part(
                    REVIEW,
                    f"{shown} is borderline ({band} < value ≤ {floor}): the EAC decides.",
                    by=EAC,
                    evidence=entry(f"exc.lung_function/{label.lower()}", [ev_lab(lab, test)]),
                )
            )
        else:
            parts.append(Part(FAIL, f"{shown} ≤ {band} %."))
    outcome = outcome_of(parts)
    vu = min(dates) + ctx.w if outcome is not MISSING and dates else None
    return combine(cid, parts, vu)


def exc_hypertensive_crisis(ctx: Ctx) -> CriterionResult:
    cid = "exc.hypertensive_crisis"
    months = ctx.th.hypertensive_crisis_months
    since = add_months(ctx.s, -months)
    counting = [ev for ev in ctx.kind("hypertensive_crisis") if ev.date >= since]
    if counting:
        last = max(ev.date for ev in counting)
        vu = window_end_months(last, months) if ctx.s_is_t else None
        return failed(cid, f"Hypertensive crisis on {last}, within {months} months before screening.", vu)
    if "hypertensive_crisis" in ctx.reviewed:
        return passed(cid, f"No hypertensive crisis within {months} months before screening.")
    return missing(cid, "The hypertensive crisis history is not reviewed.", ("reviewed.hypertensive_crisis",))


exc_adherence_risk: Rule = boolean_criterion(
    "exc.adherence_risk",
    "inv_adherence_risk",
    False,
    "No condition making adherence unlikely.",
    "A condition would prevent safe treatment or make adherence unlikely.",
)


def exc_pregnancy(ctx: Ctx) -> CriterionResult:
    cid = "exc.pregnancy"
    facts = ctx.facts
    if ctx.female:
        parts = [bool_part(ctx, "breastfeeding", False, "Not breastfeeding.", "Breastfeeding.")]
        plans = facts.get("plans_pregnancy_or_breastfeeding_12m")
        if plans is None and childbearing_potential(ctx) == "no":
            parts.append(Part(PASS, "Pregnancy plans are moot (not of childbearing potential)."))
        else:
            parts.append(
                bool_part(
                    ctx,
                    "plans_pregnancy_or_breastfeeding_12m",
                    False,
                    "No pregnancy or breastfeeding planned within 12 months.",
                    "Plans pregnancy or breastfeeding within 12 months.",
                )
            )
        test = ctx.usable.get("pregnancy_test")
        positive = test is not None and test.value == "positive"
        if positive:
            assert test is not None
            parts.append(Part(FAIL, f"Positive pregnancy test on {test.collected}."))
        vu = None
        if positive and sum(p.outcome is FAIL for p in parts) == 1:
            assert test is not None
            vu = test.collected + ctx.w
        return combine(cid, parts, vu)
    plans = facts.get("plans_partner_pregnancy_6m")
    if plans is None and facts.get("male_sterile") is True:
        return passed(cid, "Partner pregnancy plans are moot (documented sterile).")
    if plans is None:
        return missing(
            cid, "Partner pregnancy plans are not recorded.", ("facts.plans_partner_pregnancy_6m",)
        )
    if plans is False:
        return passed(cid, "No partner pregnancy planned within 6 months.")
    return failed(cid, "Plans a partner pregnancy within 6 months.")


exc_long_term_followup: Rule = boolean_criterion(
    "exc.long_term_followup",
    "willing_ltfu_15y",
    True,
    "Willing to take part in 15-year follow-up.",
    "Unwilling to take part in 15-year follow-up.",
)


# ---- SLE exclusions ----------------------------------------------------------------------------


def sle_exc_cns(ctx: Ctx) -> CriterionResult:
    cid = "sle.exc.cns"
    if ctx.cohort != "SLE":
        return not_applicable(cid, "Applies to the SLE cohort only.")
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


sle_exc_drug_induced: Rule = boolean_criterion(
    "sle.exc.drug_induced",
    "drug_induced_lupus",
    False,
    "Not drug-induced lupus.",
    "Drug-induced lupus.",
    "SLE",
)


def _ln_only(cid: str, ctx: Ctx) -> CriterionResult | None:
    if ctx.cohort != "SLE":
        return not_applicable(cid, "Applies to the SLE cohort only.")
    if not ctx.case.lupus_nephritis:
        return not_applicable(cid, "Applies to the LN stratum only.")
    return None


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
        dialysis_part = _reviewed_part(ctx, "dialysis", f"No dialysis within {months} months before consent.")
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


sle_exc_ln_other_kidney: Rule = _ln_other_kidney_rule()

_CHRONICITY: Final = ("glomerular_sclerosis", "fibrous_crescents", "tubular_atrophy", "interstitial_fibrosis")


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
                "within the sle.ln_biopsy exception.",
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


# ---- IIM exclusions ----------------------------------------------------------------------------

iim_exc_other_myositis: Rule = boolean_criterion(
    "iim.exc.other_myositis",
    "iim_other_myositis",
    False,
    "No other myositis.",
    "A myositis other than the eligible IIM.",
    "IIM",
)


def iim_exc_damage(ctx: Ctx) -> CriterionResult:
    cid = "iim.exc.damage"
    if ctx.cohort != "IIM":
        return not_applicable(cid, "Applies to the IIM cohort only.")
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


def iim_exc_anti_tif1g(ctx: Ctx) -> CriterionResult:
    cid = "iim.exc.anti_tif1g"
    if ctx.cohort != "IIM":
        return not_applicable(cid, "Applies to the IIM cohort only.")
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
    return CriterionResult(
        cid,
        REVIEW,
        INVESTIGATOR,
        f"Dermatomyositis with an indeterminate anti-TIF1-γ ({lab.collected}): the investigator decides.",
        (),
        None,
        None,
        None,
        None,
        (
            entry(
                "iim.exc.anti_tif1g/indeterminate", [ev_lab(lab, "anti_tif1g"), ev_fact(ctx, "iim_subtype")]
            ),
        ),
    )


# ---- SSc exclusions ----------------------------------------------------------------------------

ssc_exc_pah: Rule = boolean_criterion(
    "ssc.exc.pah",
    "pah_requiring_treatment",
    False,
    "No PAH requiring treatment.",
    "Pulmonary arterial hypertension requiring treatment.",
    "SSc",
)
ssc_exc_gi: Rule = boolean_criterion(
    "ssc.exc.gi",
    "ssc_severe_gi",
    False,
    "No severe SSc GI involvement.",
    "Rapidly progressive or severe SSc GI involvement.",
    "SSc",
)
ssc_exc_renal_crisis: Rule = boolean_criterion(
    "ssc.exc.renal_crisis",
    "history_scleroderma_renal_crisis",
    False,
    "No prior scleroderma renal crisis.",
    "Prior scleroderma renal crisis.",
    "SSc",
)
