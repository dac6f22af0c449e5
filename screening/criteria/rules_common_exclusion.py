"""Exclusion criteria of every cohort (CRITERIA.md § 6). An exclusion PASSES when the participant is not excluded."""

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
    days,
    entry,
    ev_lab,
    ev_therapy,
    failed,
    missing,
    outcome_of,
    passed,
    reviewed_part,
)
from .model import LabResult
from .readings import lab_absent_reason
from .registry import (
    EXCLUSION_ALL,
    criterion,
)
from .results import CriterionResult, EvidenceEntry
from .rules_common_inclusion import childbearing_potential
from .table4 import CONTINUE, EXCLUDED, TAPER, Category
from .table4 import REVIEW as WASHOUT_REVIEW

ONE_DAY: Final = timedelta(days=1)


exc_infection: Rule = criterion(
    "exc.infection",
    EXCLUSION_ALL,
    title="Active infection",
    page="Participants with active systemic bacterial, fungal, or viral infection requiring systemic treatment or clinically significant active, opportunistic, chronic or recurrent infection … Uncomplicated pharyngitis or urinary tract infection responding to routine care are excepted from this exclusion.",
    rule="Rule: boolean criterion inv_active_infection, passing on false. The investigator applies the exception for uncomplicated pharyngitis or UTI when recording it.",
)(
    boolean_criterion(
        "exc.infection",
        "inv_active_infection",
        False,
        "No exclusionary infection.",
        "Exclusionary active infection.",
    )
)


_EXCEPTED: Final = frozenset(
    ("bcc_skin_localized", "scc_skin_localized", "cis_breast", "cis_cervix", "cis_bladder")
)


@criterion(
    "exc.malignancy",
    EXCLUSION_ALL,
    title="Active malignancy within {malignancy_months_years} years",
    page="Any active malignancy within {malignancy_months_years} years prior to enrollment, except for adequately treated localized basal cell or squamous cell skin cancer, carcinoma in situ of the breast, cervix or bladder in observation.",
    rule="Excepted types: bcc_skin_localized, scc_skin_localized, cis_breast, cis_cervix, cis_bladder. An event of an excepted type with adequately_treated = true is ignored. Status of each other event. active_end = T if still_active = true; else active_until if recorded (an active_until after T means the disease is still active on T); else unknown. - active_end known: the event *counts* if active_end ≥ E − {malignancy_months} months; otherwise it does not. - active_end unknown: the event *counts* if its date ≥ E − {malignancy_months} months (diagnosed inside the window); otherwise it is *undecided* [events.malignancy.active_until]. - An excepted type with adequately_treated unrecorded that counts or is undecided is *undecided* [events.malignancy.active_until if its active_end is unknown and its date is outside the window, then events.malignancy.adequately_treated]. Absent data never decides a FAIL. Rule: parts combined by § 1.3: one per event (FAIL if it counts, MISSING with its paths if undecided, none otherwise), then PASS if malignancy is reviewed, else MISSING [reviewed.malignancy].",
    timing=True,
    reads=("malignancy_months",),
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
    parts.append(reviewed_part(ctx, "malignancy", "No exclusionary malignancy."))
    vu = None
    if fail_ends and all(e is not None for e in fail_ends):
        vu = max(e for e in fail_ends if e is not None)
    return combine(cid, parts, vu if outcome_of(parts) is FAIL else None)


@criterion(
    "exc.prior_targeted_therapy",
    EXCLUSION_ALL,
    title="Prior CD19/CD70-targeted or engineered cell therapy",
    page="Prior treatment with CD19 or CD70 targeted therapy or any prior engineered cell therapy (e.g., CAR T therapy).",
    rule="Parts: - Therapies: FAIL if any therapy entry's agent has category *CD19/CD70-targeted or engineered cell therapy* in PRIOR-THERAPIES.md, however long ago (entries starting after T are ignored, § 1.5). This includes inebilizumab, an anti-CD19 B-cell depleting antibody. Else PASS if therapies is reviewed, else MISSING [reviewed.therapies]. - boolean part inv_no_prior_cd19_cd70_or_engineered_cell_therapy, passing on true: the investigator attests that no CD19- or CD70-targeted or engineered cell therapy was ever given, including under an other entry or in another trial. Combined by § 1.3.",
)
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
        therapy_part = reviewed_part(ctx, "therapies", "No CD19/CD70-targeted or engineered cell therapy.")
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


@criterion(
    "exc.live_vaccine",
    EXCLUSION_ALL,
    title="Live vaccine within {live_vaccine_days_weeks} weeks",
    page="Received live vaccine within {live_vaccine_days_weeks} weeks prior to enrollment.",
    rule="Rule: FAIL if a live_vaccine event is dated ≥ E − {live_vaccine_days} days. Else PASS if live_vaccine is reviewed, else MISSING [reviewed.live_vaccine].",
    timing=True,
    reads=("live_vaccine_days",),
)
def exc_live_vaccine(ctx: Ctx) -> CriterionResult:
    return _event_before_enrollment(
        ctx, "exc.live_vaccine", "live_vaccine", "live vaccine", ctx.th.live_vaccine_days
    )


def _event_before_enrollment(ctx: Ctx, cid: str, kind: str, what: str, days: int) -> CriterionResult:
    """FAIL if a `kind` event is dated ≥ E − days (valid until the latest + days); else PASS once
    the area is reviewed, else MISSING."""
    since = ctx.e - timedelta(days=days)
    counting = [ev for ev in ctx.kind(kind) if ev.date >= since]
    if counting:
        last = max(ev.date for ev in counting)
        return failed(
            cid,
            f"{what.capitalize()} on {last}, within {days} days before enrollment.",
            last + timedelta(days=days),
        )
    if kind in ctx.reviewed:
        return passed(cid, f"No {what} within {days} days before enrollment.")
    return missing(cid, f"The {what} history is not reviewed.", ("reviewed." + kind,))


@criterion(
    "exc.major_surgery",
    EXCLUSION_ALL,
    title="Major surgery within {major_surgery_days_weeks} weeks",
    page="Major surgery within {major_surgery_days_weeks} weeks prior to enrollment.",
    rule="Rule: FAIL if a major_surgery event (date = the day of the operation; an operation the investigator "
    "judges major) is dated ≥ E − {major_surgery_days} days. Else PASS if major_surgery is reviewed, else "
    "MISSING [reviewed.major_surgery]. A planned operation is weighed in exc.uncontrolled_disease.",
    timing=True,
    reads=("major_surgery_days",),
    introduced_in="2025-11-14.3",
)
def exc_major_surgery(ctx: Ctx) -> CriterionResult:
    days = ctx.th.major_surgery_days
    assert days is not None  # set by every version that has this criterion
    return _event_before_enrollment(ctx, "exc.major_surgery", "major_surgery", "major surgery", days)


@criterion(
    "exc.washout",
    EXCLUSION_ALL,
    title="Washout of prior therapies before Day 0",
    page="Inability to stop or taper protocol-defined prior therapies (Table 4) before cell dosing on Day 0: 4 weeks prior to Day 0 for B-cell depleting therapies and 2 weeks or 5 half-lives (whichever is shorter) prior to Day 0 for non-B-cell depleting agents.",
    rule='Parts, one per therapy entry (start ≤ T). "Ongoing" includes a therapy read as ongoing because its last_dose is after T (§ 1.5), and an interval-dosed agent between two doses. - washout continue or excluded → no part (excluded agents fail exc.prior_targeted_therapy). - washout *N* days, not ongoing (last dose L): - D0 known: PASS if L ≤ D0 − *N* (the last dose was at least *N* days before Day 0). Otherwise FAIL, with valid_until L + *N* − 1 day; Day 0 must be on or after L + *N*. For belimumab and telitacicept the reason adds that 28 days apply while the sponsor\'s classification is pending (14 if they are not B-cell depleting; PRIOR-THERAPIES.md note 1). - D0 unknown: PASS if L ≤ E − *N* (Day 0 cannot be before enrollment), else MISSING [dates.planned_day0]. - washout *N* days, ongoing: D0 unknown → MISSING [dates.planned_day0]. Otherwise deadline = D0 − *N* (the last permitted dose). - T ≤ deadline → the stop part, whose PASS has valid_until = deadline. - T > deadline, with a last_dose recorded (≤ T) and ≤ deadline → the stop part, without valid_until (reason: no further dose may be given before Day 0). - T > deadline otherwise → FAIL (it can no longer be stopped in time). - washout taper (glucocorticoids), ongoing → the stop part, without valid_until. Not ongoing → no part. - stop part: PASS if inv_able_to_stop_or_taper_prior_therapies = true, FAIL if false, MISSING [facts.inv_able_to_stop_or_taper_prior_therapies] if unrecorded. - washout review (agent other, not in the working Table 4; plasma_exchange): REVIEW, investigator, if ongoing or if last_dose ≥ E − {unlisted_agent_lookback_days} days; otherwise no part. The REVIEW part has valid_until last_dose + {unlisted_agent_lookback_days} days when not ongoing, none when ongoing. - If therapies is not reviewed, an extra part: MISSING [reviewed.therapies]. Rule: the parts, combined by § 1.3; PASS if there is no part.',
    timing=True,
    reads=("unlisted_agent_lookback_days",),
)
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
            n = days(washout)
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
                            f" {v.agent.note[0].upper()}{v.agent.note[1:]}."
                            if v.agent.note and v.agent.key in ("belimumab", "telitacicept")
                            else ""
                        )
                        parts.append(
                            Part(
                                FAIL,
                                f"{name} last dose {last}: with a {washout}-day washout, Day 0 must be on "
                                f"or after {last + n}; planned {d0}.{note}",
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


exc_uncontrolled_disease: Rule = criterion(
    "exc.uncontrolled_disease",
    EXCLUSION_ALL,
    title="Uncontrolled other disease",
    page="Clinically significant or unstable or uncontrolled acute or chronic disease (e.g., hypothyroidism and diabetes) not due to SLE, or laboratory abnormality or planned surgical procedure which in the opinion of the Investigator could put the participant at undue risk or confounds the ability to interpret data from the study.",
    rule='Rule: boolean criterion inv_uncontrolled_other_disease, passing on false. In the IIM and SSc cohorts, "not due to SLE" reads "not due to the disease under study".',
)(
    boolean_criterion(
        "exc.uncontrolled_disease",
        "inv_uncontrolled_other_disease",
        False,
        "No uncontrolled other disease.",
        "Uncontrolled other disease or undue risk.",
    )
)


exc_transplant: Rule = criterion(
    "exc.transplant",
    EXCLUSION_ALL,
    title="Prior transplantation",
    page="History of bone marrow/hematopoietic stem cell or solid organ transplantation.",
    rule="Rule: boolean criterion history_transplant, passing on false.",
)(
    boolean_criterion(
        "exc.transplant", "history_transplant", False, "No prior transplant.", "History of transplantation."
    )
)


@criterion(
    "exc.transfusion_refractory",
    EXCLUSION_ALL,
    title="Transfusion refractory or refusing transfusion",
    page="Participants known to be refractory to platelet or red blood cell transfusions or who will refuse indicated transfusion support to manage cell counts following treatment.",
    rule="Rule: two boolean parts, each passing on false: transfusion_refractory, refuses_transfusion.",
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


def _hbv_evidence(
    hbsag: LabResult | None, anti_hbc: LabResult | None, hbv_dna: LabResult | None
) -> EvidenceEntry:
    return entry(
        "exc.hepatitis_hiv/hbv",
        [ev_lab(hbsag, "hbsag"), ev_lab(anti_hbc, "anti_hbc"), ev_lab(hbv_dna, "hbv_dna")],
    )


@criterion(
    "exc.hepatitis_hiv",
    EXCLUSION_ALL,
    title="Hepatitis B, hepatitis C or HIV",
    page="Positive serologic testing for hepatitis B, hepatitis C, and human immunodeficiency virus (HIV). Participants with positive serologic testing for hepatitis B or C, but with negative PCR may be considered.",
    rule="Parts: - HIV: positive → FAIL; negative → PASS; indeterminate → REVIEW, investigator; not usable → MISSING [labs.hiv_ag_ab]. - HBV: a usable hbv_dna detected → FAIL, whatever the serology (occult infection). Else, if hbsag or anti_hbc is positive: hbv_dna not_detected → REVIEW, investigator; not usable → MISSING [labs.hbv_dna]. Else if both are negative → PASS. Else if both are usable (one or both indeterminate) → REVIEW, investigator. Else MISSING [labs.hbsag and/or labs.anti_hbc]. - HCV: a usable hcv_rna detected → FAIL, whatever the serology. Else hcv_ab negative → PASS; indeterminate → REVIEW, investigator; positive → hcv_rna not_detected → REVIEW, investigator, not usable → MISSING [labs.hcv_rna]; hcv_ab not usable → MISSING [labs.hcv_ab]. Rule: parts combined by § 1.3.",
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


exc_immunodeficiency: Rule = criterion(
    "exc.immunodeficiency",
    EXCLUSION_ALL,
    title="Primary immunodeficiency",
    page="Any form of primary, inherited immunodeficiency.",
    rule="Rule: boolean criterion primary_immunodeficiency, passing on false.",
)(
    boolean_criterion(
        "exc.immunodeficiency",
        "primary_immunodeficiency",
        False,
        "No primary immunodeficiency.",
        "Primary immunodeficiency.",
    )
)


@criterion(
    "exc.cardiac",
    EXCLUSION_ALL,
    title="Cardiac or vascular disease within {cardiac_months} months",
    page="… Symptomatic cardiac or vascular disease requiring medical intervention (e.g. unstable angina, myocardial infarction, cerebral vascular accident/stroke, atrial or ventricular arrhythmias, or congestive heart failure [New York Heart Association Classification Class [≥] II]) within {cardiac_months} months prior to screening. Hemodynamically symptomatic pericardial effusion. Symptomatic electrocardiogram abnormality requiring medical intervention.",
    rule="Parts: - Events: FAIL if a cardiovascular_event is dated ≥ S − {cardiac_months} months (an ongoing event is read as dated T, so it always counts). heart_failure events count only with nyha_class ≥ {nyha_exclusion_min_class}. No counting event: PASS if cardiovascular_event is reviewed, else MISSING [reviewed.cardiovascular_event]. - Boolean parts, each passing on false: symptomatic_pericardial_effusion, symptomatic_ecg_abnormality.",
    timing=True,
    reads=(
        "cardiac_months",
        "nyha_exclusion_min_class",
    ),
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
        event_part = reviewed_part(
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


exc_pml: Rule = criterion(
    "exc.pml",
    EXCLUSION_ALL,
    title="History of PML",
    page="History of progressive multifocal leukoencephalopathy (PML).",
    rule="Rule: boolean criterion history_pml, passing on false.",
)(boolean_criterion("exc.pml", "history_pml", False, "No history of PML.", "History of PML."))


@criterion(
    "exc.cirrhosis",
    EXCLUSION_ALL,
    title="Child–Pugh B or C cirrhosis",
    page="… Child-Pugh Class B or C cirrhosis.",
    rule="Rule: cirrhosis unrecorded → MISSING [facts.cirrhosis]. False → PASS. True: child_pugh_score ≥ {child_pugh_min_excluded} (class B 7–9, class C 10–15) → FAIL; 5–6 (class A) → PASS; unrecorded → MISSING [facts.child_pugh_score]. The score is computed by § 10.7.",
    reads=("child_pugh_min_excluded",),
)
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


@criterion(
    "exc.pulmonary",
    EXCLUSION_ALL,
    title="Airway disease, pleural effusion or pulmonary embolism",
    page="Symptomatic airway disease requiring medical intervention (e.g. severe chronic obstructive pulmonary disease or history of bronchospasm requiring intubation). Pleural effusion Grade {pleural_effusion_min_excluded_grade} or higher (CTCAE v5: intervention indicated). History of pulmonary embolism requiring anticoagulant therapy within {pulmonary_embolism_months} months of enrollment.",
    rule="Parts: - boolean part symptomatic_airway_disease, passing on false (it includes any history of bronchospasm requiring intubation); - pleural_effusion_ctcae_grade (0–4): ≥ {pleural_effusion_min_excluded_grade} → FAIL, lower → PASS, unrecorded → MISSING [facts.pleural_effusion_ctcae_grade]; - PE: FAIL if a pulmonary_embolism event with required_anticoagulation = true is dated ≥ E − {pulmonary_embolism_months} months. No such event: PASS if pulmonary_embolism is reviewed, else MISSING [reviewed.pulmonary_embolism].",
    timing=True,
    reads=(
        "pleural_effusion_min_excluded_grade",
        "pulmonary_embolism_months",
    ),
)
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
        parts.append(reviewed_part(ctx, "pulmonary_embolism", "No pulmonary embolism within 6 months."))
    vu = None
    if counting and sum(p.outcome is FAIL for p in parts) == 1:
        vu = max(window_end_months(ev.date, months) for ev in counting)
    return combine(cid, parts, vu)


_LUNG_TESTS: Final = (("fvc_pct_pred", "FVC"), ("dlco_pct_pred", "DLCO"))


@criterion(
    "exc.lung_function",
    EXCLUSION_ALL,
    title="FVC and DLCO > {lung_function_floor_pct} % in autoimmune lung disease",
    page="Lung disease secondary to the autoimmune process should not lead to exclusion if forced vital capacity (FVC) and diffusing capacity of the lung for carbon monoxide (DLCO%) are greater than {lung_function_floor_pct}%. Borderline cases can be discussed with medical monitor and Eligibility Adjudication Committee.",
    rule="Autoimmune lung disease (ALD): yes if autoimmune_lung_disease = true or ild_progressive_raghu2022 is true (any date ≤ T; no recency needed here). No if autoimmune_lung_disease = false and the ILD fact is not true. Unknown otherwise. Rule: ALD no → PASS. ALD unknown → MISSING [facts.autoimmune_lung_disease]. ALD yes: one part per test (FVC % predicted, DLCO % predicted): value > {lung_function_floor_pct} → PASS; {lung_function_floor_pct} − {lung_function_review_margin_pct} < value ≤ {lung_function_floor_pct} → REVIEW, eac (borderline: the page allows discussion with the medical monitor and the EAC); value ≤ {lung_function_floor_pct} − {lung_function_review_margin_pct} → FAIL; not usable → MISSING [labs.<test>]. Parts combined by § 1.3.",
    reads=(
        "lung_function_floor_pct",
        "lung_function_review_margin_pct",
    ),
)
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


@criterion(
    "exc.hypertensive_crisis",
    EXCLUSION_ALL,
    title="Hypertensive crisis within {hypertensive_crisis_months} months",
    page="History of hypertension crisis or hypertensive encephalopathy within {hypertensive_crisis_months} months prior to screening.",
    rule="Rule: FAIL if a hypertensive_crisis event (hypertensive encephalopathy included) is dated ≥ S − {hypertensive_crisis_months} months. Else PASS if hypertensive_crisis is reviewed, else MISSING [reviewed.hypertensive_crisis].",
    timing=True,
    reads=("hypertensive_crisis_months",),
)
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


exc_adherence_risk: Rule = criterion(
    "exc.adherence_risk",
    EXCLUSION_ALL,
    title="Condition preventing safe treatment or adherence",
    page="Any psychiatric condition, chronic medical condition, disability, or non-medical condition that in the opinion of the Investigator would prevent safe treatment or make adherence with treatment and follow-up unlikely.",
    rule="Rule: boolean criterion inv_adherence_risk, passing on false.",
)(
    boolean_criterion(
        "exc.adherence_risk",
        "inv_adherence_risk",
        False,
        "No condition making adherence unlikely.",
        "A condition would prevent safe treatment or make adherence unlikely.",
    )
)


@criterion(
    "exc.pregnancy",
    EXCLUSION_ALL,
    title="Pregnancy, breastfeeding or pregnancy plans",
    page="Pregnant or breastfeeding or planning to become pregnant or breastfeed during the first 12 months after study treatment. Male participants must not plan for partner pregnancy for 6 months after receiving LD or ALLO-329, whichever is longer.",
    rule="Rule, female: (all females, whatever their childbearing potential): boolean parts breastfeeding and plans_pregnancy_or_breastfeeding_12m, each passing on false, plus a FAIL part if the selected pregnancy_test is usable and positive. For a woman not of childbearing potential (§ 10.2) an unrecorded plans_pregnancy_or_breastfeeding_12m counts as false (the question is moot); breastfeeding is still needed. Rule, male: boolean criterion plans_partner_pregnancy_6m, passing on false. For a man with male_sterile = true an unrecorded value counts as false.",
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


exc_long_term_followup: Rule = criterion(
    "exc.long_term_followup",
    EXCLUSION_ALL,
    title="Unwilling to take part in 15-year follow-up",
    page="Unwilling to participate in an extended safety monitoring period up to a total of 15 years after administration of ALLO-329.",
    rule="Rule: boolean criterion willing_ltfu_15y, passing on true.",
)(
    boolean_criterion(
        "exc.long_term_followup",
        "willing_ltfu_15y",
        True,
        "Willing to take part in 15-year follow-up.",
        "Unwilling to take part in 15-year follow-up.",
    )
)
