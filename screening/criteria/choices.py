"""Interpretations the engine makes where the protocol is ambiguous, as data (docs/criteria.md
prints them; a screen may show them next to a criterion). CRITERIA.md § 11 lists the open sponsor
questions; each choice names the question it answers, if any."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Choice:
    topic: str
    criteria: tuple[str, ...]
    reading: str
    question: str = ""  # CRITERIA.md § 11 question, e.g. "Q1"


CHOICES: tuple[Choice, ...] = (
    Choice(
        "Age anchor",
        ("inc.age",),
        "Age 18–69 is taken in whole years on the consent date C (the evaluation date while no consent is "
        "recorded). A 29 February birthday falls on 1 March in non-leap years.",
        "Q1",
    ),
    Choice(
        "Support-free period",
        ("inc.heme.support",),
        "No growth factor or counting transfusion (red cells, platelets, whole blood) from 6 days before the "
        "earliest usable haematology draw through the evaluation date. ESAs and TPO-receptor agonists count as "
        "growth factors; 7 days apply to every agent, pegfilgrastim included.",
        "Q2",
    ),
    Choice(
        "Cockcroft–Gault",
        ("inc.crcl",),
        "Actual body weight (the latest usable `weight` result); age in whole years on the creatinine collection "
        "date; × 0.85 for `sex` F; µmol/L ÷ 88.4. The unrounded value is compared with 50 mL/min.",
        "Q3",
    ),
    Choice(
        "Organ function",
        ("inc.organ_function",),
        "The protocol's liver, cardiac and pulmonary thresholds are not public: three investigator attestations.",
        "Q4",
    ),
    Choice(
        "SLE strata",
        ("sle.sledai", "sle.organ_involvement", "sle.ln_biopsy"),
        "The two activity definitions are alternatives, one per stratum: non-LN participants need SLEDAI-2K ≥ 6 "
        "and BILAG (one A or two B); LN participants need the biopsy criterion only. Renal BILAG A or B in the "
        "non-LN stratum goes to the investigator, who confirms the stratum.",
        "Q5",
    ),
    Choice(
        "Window anchors",
        ("sle.ln_biopsy", "sle.exc.cns", "ssc.disease_duration", "exc.cardiac", "exc.hypertensive_crisis"),
        "The 6-month LN biopsy and CNS lupus windows are counted back from planned enrollment; the SSc 7-year "
        "duration, cardiac events and hypertensive crises from the screening start (as the page says for the "
        "last two); dialysis from consent (as the page says).",
        "Q6, Q12",
    ),
    Choice(
        "NIH activity index",
        ("sle.ln_biopsy",),
        "The page's threshold is lost: a recent proliferative biopsy with activity index ≥ 2 passes, a lower index "
        "goes to the EAC instead of failing. A latest biopsy without class III or IV fails at any age; the biopsy "
        "exception covers a missing or outdated proliferative biopsy only.",
        "Q7",
    ),
    Choice(
        "Table 4",
        ("exc.washout", "sle.refractory", "iim.refractory", "ssc.refractory"),
        "The working table of PRIOR-THERAPIES.md: belimumab, telitacicept, daratumumab and ianalumab are treated "
        "as B-cell depleting (28 days); glucocorticoids are tapered with the investigator's attestation; "
        "hydroxychloroquine and antifibrotics continue; FcRn blockers, BTK inhibitors and deucravacitinib do not "
        "count as immunosuppressants; plasma exchange and unlisted agents go to the investigator when ongoing or "
        "given within 28 days before enrollment.",
        "Q8",
    ),
    Choice(
        "Refractory rule",
        ("sle.refractory", "iim.refractory", "ssc.refractory"),
        "Glucocorticoids and hydroxychloroquine never count; IVIG counts in IIM only; anifrolumab counts. Course "
        "agents need 3 months since the first dose; a stopped interval-dosed agent covers one more dosing "
        "interval after its last dose, never past the evaluation date. Any past course counts; intolerance "
        "counts at any duration. An `other` agent proposed as an immunosuppressant goes to the investigator.",
        "Q9",
    ),
    Choice(
        "IIM subtypes and involvement",
        ("iim.classification", "iim.involvement", "iim.exc.other_myositis"),
        "Amyopathic dermatomyositis counts as dermatomyositis; the investigator records the subtype and any other "
        "myositis. Aldolase > 8 is read in U/L (µkat/L × 60); a recent muscle biopsy is one within 6 months "
        "before enrollment showing active myositis; no CDASI is needed for IMNM or without a DM rash.",
        "Q10, Q11",
    ),
    Choice(
        "SSc activity",
        ("ssc.activity",),
        "Any one route suffices. CRP is read as ≥ 1.5 × ULN. Early progression with mRSS ≤ 10 is the "
        "investigator's judgement. The EAC routes (early progression, CRP) lead to REVIEW only when the three "
        "automatic routes are all negative.",
        "Q13",
    ),
    Choice(
        "Hepatitis B and C",
        ("exc.hepatitis_hiv",),
        "Isolated anti-HBc counts as positive HBV serology; HBsAg- or anti-HBc-positive participants with HBV DNA "
        "not detected go to the investigator; a detected HBV DNA or HCV RNA fails whatever the serology. "
        "Serologies must lie in the screening window.",
        "Q15",
    ),
    Choice("Heart failure", ("exc.cardiac",), "NYHA class II or higher excludes.", "Q16"),
    Choice(
        "Borderline lung function",
        ("exc.lung_function",),
        "With autoimmune lung disease: FVC or DLCO % predicted > 40 passes, 35 < value ≤ 40 goes to the EAC, "
        "≤ 35 fails. DLCO is taken as reported (Hb-corrected where the lab corrects it), within the screening "
        "window.",
        "Q17",
    ),
    Choice(
        "NIH chronicity",
        ("sle.exc.ln_chronicity",),
        "A score of 3 in any one of the four domains excludes. A recorded total decides only where it determines "
        "the components (≥ 9: some domain is 3; ≤ 2: none is); otherwise the components are asked for.",
        "Q18",
    ),
    Choice(
        "IIM damage", ("iim.exc.damage",), "Damage index > 7/10 is the MDI physician's global damage.", "Q19"
    ),
    Choice(
        "Screening window",
        ("inc.heme.anc", "inc.crcl", "sle.sledai", "exc.hepatitis_hiv"),
        "Every lab result and dated assessment must be collected within 28 days before planned enrollment "
        "(or the evaluation date when later) and on or before the evaluation date; only the latest result of a "
        "test is read. Anti-TIF1-γ has no window. Whether a result predates consent is not checked.",
        "Q20",
    ),
    Choice(
        "Contraception",
        ("inc.contraception",),
        "Only the willingness to use highly effective contraception is recorded; men are fertile unless "
        "documented sterile.",
        "Q21",
    ),
    Choice(
        "Postmenopausal status",
        ("inc.childbearing_status", "inc.pregnancy_test", "inc.contraception", "exc.pregnancy"),
        "`postmenopausal` under 50 at consent, or after any cyclophosphamide, needs the investigator's "
        "confirmation; until it is accepted, childbearing potential is unknown: a pregnancy test is required and "
        "an unwillingness to use contraception is MISSING rather than FAIL.",
        "Q23",
    ),
    Choice(
        "Malignancy exceptions",
        ("exc.malignancy",),
        '"In observation" is read as treated and under surveillance: an excepted skin cancer or carcinoma in '
        "situ is ignored only when `adequately_treated` is true. An unknown end of activity never decides a FAIL.",
    ),
    Choice(
        "Disease under study",
        ("exc.uncontrolled_disease",),
        '"Not due to SLE" reads "not due to the disease under study" in the IIM and SSc cohorts.',
    ),
    Choice(
        "Evaluation date on the command line",
        (),
        "`screen --as-of DATE` replaces `dates.as_of`: entries dated after DATE are not read, but undated facts, "
        "`ongoing` flags and `reviewed` are read as stored, so replaying an old date is exact only with the case "
        "as it was stored then.",
    ),
    Choice(
        "Directories of cases",
        (),
        "`screen DIR` reads the `*.json` files directly in DIR, in name order, not its subdirectories (such as "
        "`expected/`), and skips JSON Schema documents (a top-level `$schema` key). A file refused by the schema "
        "or the engine's checks is reported with its field path on stderr; the others are still evaluated and "
        "the exit status is 2.",
    ),
    Choice(
        "Dates the engine accepts",
        (),
        "Every date of a case must lie between 1900-01-01 and 2199-12-31, or the case is refused like a schema "
        "error, naming the field (an addition to the engine validation of cases/README.md). No participant or "
        "record is dated outside that span, and the calendar arithmetic of § 1.4 must stay inside the calendar: "
        "a birth date in year 1 or a malignancy active until 9999-12-31 is a typing slip, not a case.",
    ),
)
