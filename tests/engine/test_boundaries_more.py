"""More boundaries (the "just after" side of each window, scores and grades), the childbearing
potential derivation (CRITERIA.md § 10.2) and Cockcroft–Gault (§ 10.1).

Base timeline as in test_boundaries: T = 2025-06-16, S = C = 2025-06-02, E = 2025-06-23,
D0 = 2025-06-30, screening window from 2025-05-26, labs 2025-06-03.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from screening.criteria import evaluate, load_case

from .helpers import D, base, crit, set_lab
from .test_boundaries import (
    HCQ,
    MMF,
    Mut,
    all_of,
    dated,
    dates,
    event,
    fact,
    iim_only_route,
    lab,
    ssc_no_route,
    therapies,
    top,
)


def bilag(**grades: str) -> Mut:
    value = {
        d: "E"
        for d in (
            "constitutional",
            "mucocutaneous",
            "neuropsychiatric",
            "musculoskeletal",
            "cardiorespiratory",
            "gastrointestinal",
            "ophthalmic",
            "renal",
            "haematological",
        )
    }
    value.update(grades)
    return dated("bilag2004", value)


def antibodies_negative(c: dict[str, Any]) -> None:
    set_lab(c, "anti_sm", value="negative")
    set_lab(c, "anti_rnp", value="negative", unit=None, uln=None)


ROWS: list[tuple[str, str, Mut, str, str, dict[str, Any]]] = [
    # Thresholds: below, on, above
    ("anc at 1000", "sle-eligible", lab("anc", value=1000), "inc.heme.anc", "PASS", {}),
    ("anc just above", "sle-eligible", lab("anc", value=D("1000.001")), "inc.heme.anc", "PASS", {}),
    ("alc just below", "sle-eligible", lab("alc", value=D("999.999")), "inc.heme.alc", "FAIL", {}),
    ("alc at 1000", "sle-eligible", lab("alc", value=1000), "inc.heme.alc", "PASS", {}),
    ("alc 1.0 10^9/L", "sle-eligible", lab("alc", value=D("1.0"), unit="10^9/L"), "inc.heme.alc", "PASS", {}),
    ("alc just above", "sle-eligible", lab("alc", value=D("1000.001")), "inc.heme.alc", "PASS", {}),
    (
        "platelets just above",
        "sle-eligible",
        lab("platelets", value=D("75000.01"), unit="/uL"),
        "inc.heme.platelets",
        "PASS",
        {},
    ),
    ("hb just above", "sle-eligible", lab("hemoglobin", value=D("8.001")), "inc.heme.hemoglobin", "PASS", {}),
    (
        "SLICC 1 + 3",
        "sle-eligible",
        fact(slicc_clinical_count=1, slicc_immunologic_count=3),
        "sle.slicc",
        "PASS",
        {},
    ),
    (
        "SLICC 1 + 2",
        "sle-eligible",
        fact(slicc_clinical_count=1, slicc_immunologic_count=2),
        "sle.slicc",
        "FAIL",
        {},
    ),
    (
        "SLICC 0 + 6",
        "sle-eligible",
        fact(slicc_clinical_count=0, slicc_immunologic_count=6),
        "sle.slicc",
        "FAIL",
        {},
    ),
    (
        "SLICC biopsy-proven LN",
        "sle-eligible",
        fact(slicc_clinical_count=0, slicc_immunologic_count=0, slicc_biopsy_proven_ln=True),
        "sle.slicc",
        "PASS",
        {},
    ),
    (
        "SLICC zero count decides without the other",
        "sle-eligible",
        all_of(fact(slicc_immunologic_count=0), lambda c: c["facts"].pop("slicc_clinical_count")),
        "sle.slicc",
        "FAIL",
        {},
    ),
    (
        "SLICC count unrecorded",
        "sle-eligible",
        lambda c: c["facts"].pop("slicc_clinical_count"),
        "sle.slicc",
        "MISSING",
        {"missing": ("facts.slicc_clinical_count",)},
    ),
    (
        "SLEDAI 5",
        "sle-eligible",
        dated("sledai2k", 5),
        "sle.sledai",
        "FAIL",
        {"valid_until": date(2025, 7, 1)},
    ),
    (
        "SLEDAI 6",
        "sle-eligible",
        dated("sledai2k", 6),
        "sle.sledai",
        "PASS",
        {"valid_until": date(2025, 7, 1)},
    ),
    ("SLEDAI 7", "sle-eligible", dated("sledai2k", 7), "sle.sledai", "PASS", {}),
    ("BILAG one A", "sle-eligible", bilag(mucocutaneous="A"), "sle.organ_involvement", "PASS", {}),
    (
        "BILAG two B",
        "sle-eligible",
        bilag(mucocutaneous="B", haematological="B"),
        "sle.organ_involvement",
        "PASS",
        {},
    ),
    (
        "BILAG one B",
        "sle-eligible",
        bilag(mucocutaneous="B", haematological="C", constitutional="C"),
        "sle.organ_involvement",
        "FAIL",
        {},
    ),
    (
        "BILAG renal B",
        "sle-eligible",
        bilag(mucocutaneous="A", renal="B"),
        "sle.organ_involvement",
        "REVIEW",
        {"review_by": "investigator"},
    ),
    (
        "anti-dsDNA at ULN",
        "sle-eligible",
        all_of(lab("anti_dsdna", value=10, uln=10), antibodies_negative),
        "sle.autoantibody",
        "FAIL",
        {},
    ),
    (
        "anti-dsDNA just above ULN",
        "sle-eligible",
        all_of(lab("anti_dsdna", value=D("10.001"), uln=10), antibodies_negative),
        "sle.autoantibody",
        "PASS",
        {},
    ),
    (
        "CK below 3 × ULN",
        "iim-eligible",
        all_of(iim_only_route, lab("ck", value=D("509.99"), uln=170)),
        "iim.involvement",
        "FAIL",
        {},
    ),
    (
        "SSc score 10",
        "ssc-male-eligible",
        fact(ssc_acr_eular_2013_score=10),
        "ssc.classification",
        "PASS",
        {},
    ),
    ("Child–Pugh 5", "sle-eligible", fact(cirrhosis=True, child_pugh_score=5), "exc.cirrhosis", "PASS", {}),
    ("SSc score 8", "ssc-male-eligible", fact(ssc_acr_eular_2013_score=8), "ssc.classification", "FAIL", {}),
    ("SSc score 9", "ssc-male-eligible", fact(ssc_acr_eular_2013_score=9), "ssc.classification", "PASS", {}),
    ("mRSS 10", "ssc-male-eligible", all_of(ssc_no_route, dated("mrss", 10)), "ssc.activity", "FAIL", {}),
    ("mRSS 11", "ssc-male-eligible", all_of(ssc_no_route, dated("mrss", 11)), "ssc.activity", "PASS", {}),
    (
        "CRP just above 1.5 × ULN",
        "ssc-male-eligible",
        all_of(ssc_no_route, lab("crp", value=D("7.51"), uln=5)),
        "ssc.activity",
        "REVIEW",
        {"review_by": "eac"},
    ),
    ("Child–Pugh 6", "sle-eligible", fact(cirrhosis=True, child_pugh_score=6), "exc.cirrhosis", "PASS", {}),
    ("Child–Pugh 7", "sle-eligible", fact(cirrhosis=True, child_pugh_score=7), "exc.cirrhosis", "FAIL", {}),
    (
        "cirrhosis, score unrecorded",
        "sle-eligible",
        fact(cirrhosis=True),
        "exc.cirrhosis",
        "MISSING",
        {"missing": ("facts.child_pugh_score",)},
    ),
    ("pleural effusion 1", "sle-eligible", fact(pleural_effusion_ctcae_grade=1), "exc.pulmonary", "PASS", {}),
    ("pleural effusion 3", "sle-eligible", fact(pleural_effusion_ctcae_grade=3), "exc.pulmonary", "FAIL", {}),
    (
        "heart failure NYHA 3",
        "sle-eligible",
        event(kind="cardiovascular_event", date="2025-03-01", condition="heart_failure", nyha_class=3),
        "exc.cardiac",
        "FAIL",
        {},
    ),
    ("DLCO 35", "ssc-male-eligible", lab("dlco_pct_pred", value=35), "exc.lung_function", "FAIL", {}),
    (
        "DLCO just above 35",
        "ssc-male-eligible",
        lab("dlco_pct_pred", value=D("35.001")),
        "exc.lung_function",
        "REVIEW",
        {"review_by": "eac"},
    ),
    ("DLCO 40", "ssc-male-eligible", lab("dlco_pct_pred", value=40), "exc.lung_function", "REVIEW", {}),
    (
        "DLCO just above 40",
        "ssc-male-eligible",
        lab("dlco_pct_pred", value=D("40.001")),
        "exc.lung_function",
        "PASS",
        {},
    ),
    (
        "no autoimmune lung disease, FVC 30",
        "ssc-male-eligible",
        all_of(
            fact(autoimmune_lung_disease=False),
            dated("ild_progressive_raghu2022", False),
            lab("fvc_pct_pred", value=30),
        ),
        "exc.lung_function",
        "PASS",
        {},
    ),
    ("MDI 6.9", "iim-eligible", dated("mdi_global_damage", D("6.9")), "iim.exc.damage", "PASS", {}),
    (
        "CDASI 16",
        "iim-eligible",
        all_of(iim_only_route, dated("cdasi_activity", 16)),
        "iim.involvement",
        "PASS",
        {},
    ),
    (
        "IIM score 6.7 without biopsy",
        "iim-eligible",
        fact(iim_eular_acr_2017_score=D("6.7")),
        "iim.classification",
        "PASS",
        {},
    ),
    (
        "CK just above 3 × ULN",
        "iim-eligible",
        all_of(iim_only_route, lab("ck", value=D("510.01"), uln=170)),
        "iim.involvement",
        "PASS",
        {},
    ),
    # Windows: the day after each boundary is still inside
    (
        "lab a day after the window start",
        "sle-eligible",
        lab("anc", collected="2025-05-27"),
        "inc.heme.anc",
        "PASS",
        {"valid_until": date(2025, 6, 24)},
    ),
    (
        "dated fact a day after the window start",
        "sle-eligible",
        dated("sledai2k", 10, "2025-05-27"),
        "sle.sledai",
        "PASS",
        {},
    ),
    (
        "lab before the window gives repeat_from",
        "sle-eligible",
        lab("anc", collected="2025-05-25"),
        "inc.heme.anc",
        "MISSING",
        {"missing": ("labs.anc",)},
    ),
    (
        "transfusion H−8",
        "sle-eligible",
        event(kind="transfusion", date="2025-05-26", product="platelets"),
        "inc.heme.support",
        "PASS",
        {},
    ),
    (
        "transfusion H−5",
        "sle-eligible",
        event(kind="transfusion", date="2025-05-29", product="whole_blood"),
        "inc.heme.support",
        "FAIL",
        {"valid_until": date(2025, 7, 1)},
    ),
    (
        "growth factor H−7",
        "sle-eligible",
        event(kind="growth_factor", date="2025-05-27"),
        "inc.heme.support",
        "PASS",
        {},
    ),
    (
        "live vaccine E−27",
        "sle-eligible",
        event(kind="live_vaccine", date="2025-05-27"),
        "exc.live_vaccine",
        "FAIL",
        {"valid_until": date(2025, 6, 24), "eligible_from": date(2025, 6, 25)},
    ),
    (
        "malignancy active until a day after E−36m",
        "sle-eligible",
        event(kind="malignancy", date="2020-01-10", type="other", active_until="2022-06-24"),
        "exc.malignancy",
        "FAIL",
        {"valid_until": date(2025, 6, 24), "eligible_from": date(2025, 6, 25)},
    ),
    (
        "MI a day after S−6m",
        "sle-eligible",
        event(kind="cardiovascular_event", date="2024-12-03", condition="myocardial_infarction"),
        "exc.cardiac",
        "FAIL",
        {"valid_until": None},
    ),
    (
        "PE a day after E−6m",
        "sle-eligible",
        event(kind="pulmonary_embolism", date="2024-12-24", required_anticoagulation=True),
        "exc.pulmonary",
        "FAIL",
        {"valid_until": date(2025, 6, 24), "eligible_from": date(2025, 6, 25)},
    ),
    (
        "hypertensive crisis a day after S−6m",
        "sle-eligible",
        event(kind="hypertensive_crisis", date="2024-12-03"),
        "exc.hypertensive_crisis",
        "FAIL",
        {"valid_until": None},
    ),
    (
        "CNS a day after E−6m",
        "sle-eligible",
        event(kind="cns_lupus", date="2024-12-24"),
        "sle.exc.cns",
        "FAIL",
        {"valid_until": date(2025, 6, 24), "eligible_from": date(2025, 6, 25)},
    ),
    (
        "dialysis a day after C−12m",
        "sle-ln-eligible",
        event(kind="dialysis", date="2024-06-03"),
        "sle.exc.ln_dialysis",
        "FAIL",
        {"valid_until": None},
    ),
    (
        "LN biopsy a day after E−6m",
        "sle-ln-eligible",
        lambda c: c["events"][0].update(date="2024-12-24"),
        "sle.ln_biopsy",
        "PASS",
        {"valid_until": date(2025, 6, 24)},
    ),
    (
        "SSc onset a day after S−84m",
        "ssc-male-eligible",
        fact(ssc_first_non_raynaud_date="2018-06-03"),
        "ssc.disease_duration",
        "PASS",
        {},
    ),
    (
        "SSc onset S−84m, S = T",
        "ssc-male-eligible",
        all_of(fact(ssc_first_non_raynaud_date="2018-06-16"), dates(screening_start=None)),
        "ssc.disease_duration",
        "PASS",
        {"valid_until": date(2025, 6, 16)},
    ),
    (
        "muscle biopsy a day after E−6m",
        "iim-eligible",
        all_of(iim_only_route, event(kind="muscle_biopsy", date="2024-12-24", active_myositis=True)),
        "iim.involvement",
        "PASS",
        {"valid_until": date(2025, 6, 24)},
    ),
    (
        "rituximab a day before D0 − 28",
        "sle-eligible",
        therapies(
            HCQ, {"agent": "rituximab", "start": "2025-05-20", "last_dose": "2025-06-01", "ongoing": False}
        ),
        "exc.washout",
        "PASS",
        {},
    ),
    (
        "MMF started a day before T − 3 months",
        "sle-eligible",
        therapies(HCQ, {"agent": "mycophenolate_mofetil", "start": "2025-03-15", "ongoing": True}),
        "sle.refractory",
        "PASS",
        {"valid_until": None},
    ),
    (
        "unlisted agent last given E − 27",
        "sle-eligible",
        therapies(
            HCQ,
            MMF,
            {
                "agent": "other",
                "agent_name": "x",
                "start": "2025-01-01",
                "last_dose": "2025-05-27",
                "ongoing": False,
            },
        ),
        "exc.washout",
        "REVIEW",
        {"review_by": "investigator"},
    ),
    (
        "age a day after the 70th birthday",
        "sle-eligible",
        top(birth_date="1955-06-01"),
        "inc.age",
        "FAIL",
        {"valid_until": None},
    ),
]


@pytest.mark.parametrize(
    ("label", "name", "change", "cid", "outcome", "extra"), ROWS, ids=[r[0] for r in ROWS]
)
def test_boundary(label: str, name: str, change: Mut, cid: str, outcome: str, extra: dict[str, Any]) -> None:
    data = base(name)
    change(data)
    r = crit(data, cid)
    assert r.outcome == outcome, r.reason
    for key, want in extra.items():
        got = getattr(r, key)
        if key == "missing":
            assert set(got) == set(want), r.reason
        else:
            assert got == want, (key, r.reason)


# Childbearing potential (§ 10.2) and the four criteria that use it.
# (label, change, childbearing_status, pregnancy_test, contraception, exc.pregnancy)
def female(exemption: str | None, birth: str = "1987-09-14", **facts: Any) -> Mut:
    def apply(c: dict[str, Any]) -> None:
        c["birth_date"] = birth
        if exemption is None:
            c["facts"].pop("childbearing_exemption", None)
        else:
            c["facts"]["childbearing_exemption"] = exemption
        for key, value in facts.items():
            if value is None:
                c["facts"].pop(key, None)
            else:
                c["facts"][key] = value

    return apply


CYCLOPHOSPHAMIDE = {
    "agent": "cyclophosphamide",
    "start": "2022-01-10",
    "last_dose": "2022-06-10",
    "ongoing": False,
}
NOT_CBP = ("PASS", "NOT_APPLICABLE", "NOT_APPLICABLE", "PASS")
CHILDBEARING: list[tuple[str, Mut, tuple[str, str, str, str], dict[str, tuple[str, ...]]]] = [
    ("none: of childbearing potential", female("none"), ("PASS", "PASS", "PASS", "PASS"), {}),
    ("none, unwilling", female("none", willing_contraception=False), ("PASS", "PASS", "FAIL", "PASS"), {}),
    ("hysterectomy", female("hysterectomy", plans_pregnancy_or_breastfeeding_12m=None), NOT_CBP, {}),
    ("bilateral oophorectomy", female("bilateral_oophorectomy", willing_contraception=False), NOT_CBP, {}),
    ("ovarian failure", female("ovarian_failure"), NOT_CBP, {}),
    ("postmenopausal at 55", female("postmenopausal", "1970-01-01"), NOT_CBP, {}),
    (
        "postmenopausal at 37: confirmation needed",
        female("postmenopausal", willing_contraception=False, plans_pregnancy_or_breastfeeding_12m=None),
        ("REVIEW", "PASS", "MISSING", "MISSING"),
        {
            "inc.contraception": ("facts.childbearing_exemption",),
            "exc.pregnancy": ("facts.plans_pregnancy_or_breastfeeding_12m",),
        },
    ),
    (
        "postmenopausal at 55 after cyclophosphamide",
        all_of(female("postmenopausal", "1970-01-01"), lambda c: c["therapies"].append(CYCLOPHOSPHAMIDE)),
        ("REVIEW", "PASS", "PASS", "PASS"),
        {},
    ),
    (
        "exemption unrecorded, contraception unrecorded",
        female(None, willing_contraception=None),
        ("MISSING", "PASS", "MISSING", "PASS"),
        {
            "inc.childbearing_status": ("facts.childbearing_exemption",),
            "inc.contraception": ("facts.willing_contraception", "facts.childbearing_exemption"),
        },
    ),
    (
        "not of childbearing potential, breastfeeding",
        female("hysterectomy", breastfeeding=True),
        ("PASS", "NOT_APPLICABLE", "NOT_APPLICABLE", "FAIL"),
        {},
    ),
]


@pytest.mark.parametrize(
    ("label", "change", "outcomes", "missing"), CHILDBEARING, ids=[r[0] for r in CHILDBEARING]
)
def test_childbearing_potential(
    label: str, change: Mut, outcomes: tuple[str, str, str, str], missing: dict[str, tuple[str, ...]]
) -> None:
    data = base("sle-eligible")
    change(data)
    ev = evaluate(load_case(data))
    ids = ("inc.childbearing_status", "inc.pregnancy_test", "inc.contraception", "exc.pregnancy")
    assert tuple(str(ev.result(i).outcome) for i in ids) == outcomes, [ev.result(i).reason for i in ids]
    for cid, paths in missing.items():
        assert set(ev.result(cid).missing) == set(paths)
    if outcomes[0] == "REVIEW":
        assert ev.result("inc.childbearing_status").review_by == "investigator"


@pytest.mark.parametrize(
    ("decision", "status", "contraception"),
    [("accept", "PASS", "NOT_APPLICABLE"), ("reject", "FAIL", "MISSING")],
)
# A reject leaves childbearing potential unknown (§ 10.2: unknown while the status is not PASS).
def test_confirmed_postmenopausal_state_settles_childbearing_potential(
    decision: str, status: str, contraception: str
) -> None:
    data = base("sle-eligible")
    female("postmenopausal", willing_contraception=False)(data)
    digest = evaluate(load_case(data)).result("inc.childbearing_status").evidence_digest
    assert digest is not None
    data["adjudications"] = [
        {
            "criterion": "inc.childbearing_status",
            "review_by": "investigator",
            "decision": decision,
            "date": "2025-06-10",
            "evidence_digest": digest,
        }
    ]
    ev = evaluate(load_case(data))
    assert ev.result("inc.childbearing_status").outcome == status
    assert ev.result("inc.childbearing_status").evidence_digest == digest
    assert ev.result("inc.contraception").outcome == contraception


def test_postmenopausal_review_by_age_holds_until_the_day_before_50_when_c_is_t() -> None:
    data = base("sle-eligible")
    female("postmenopausal", "1975-07-01")(data)
    data["dates"].pop("icf_signed")
    r = crit(data, "inc.childbearing_status")
    assert (r.outcome, r.valid_until) == ("REVIEW", date(2025, 6, 30))


@pytest.mark.parametrize(
    ("sex", "sterile", "willing", "plans", "contraception", "pregnancy"),
    [
        ("M", True, None, None, "NOT_APPLICABLE", "PASS"),
        ("M", False, False, False, "FAIL", "PASS"),
        ("M", None, False, False, "MISSING", "PASS"),
        ("M", False, True, None, "PASS", "MISSING"),
        ("M", False, True, True, "PASS", "FAIL"),
    ],
)
def test_men(
    sex: str,
    sterile: bool | None,
    willing: bool | None,
    plans: bool | None,
    contraception: str,
    pregnancy: str,
) -> None:
    data = base("ssc-male-eligible")
    for key, value in (
        ("male_sterile", sterile),
        ("willing_contraception", willing),
        ("plans_partner_pregnancy_6m", plans),
    ):
        if value is None:
            data["facts"].pop(key, None)
        else:
            data["facts"][key] = value
    ev = evaluate(load_case(data))
    assert ev.result("inc.childbearing_status").outcome == "NOT_APPLICABLE"
    assert ev.result("inc.pregnancy_test").outcome == "NOT_APPLICABLE"
    assert ev.result("inc.contraception").outcome == contraception
    assert ev.result("exc.pregnancy").outcome == pregnancy


# Cockcroft–Gault (§ 10.1)


def crcl_case(sex: str, birth: str, weight: Any, creatinine: Any, unit: str = "mg/dL") -> dict[str, Any]:
    data = base("ssc-male-eligible")
    data["sex"] = sex
    data["birth_date"] = birth
    if sex == "F":
        data["facts"]["childbearing_exemption"] = "hysterectomy"
        data["facts"]["breastfeeding"] = False
    set_lab(data, "weight", value=weight, unit="kg")
    set_lab(data, "creatinine", value=creatinine, unit=unit)
    return data


def test_the_worked_example_is_49_3() -> None:
    r = crit(crcl_case("F", "1973-06-01", 58, 108, "umol/L"), "inc.crcl")
    assert r.outcome == "FAIL"
    assert "49.3" in r.reason


@pytest.mark.parametrize(
    ("sex", "weight", "creatinine", "outcome"),
    [
        # Man, 40 on the creatinine date: (140 − 40) × w / (72 × 1) = 50 at w = 36
        ("M", 36, 1, "PASS"),
        ("M", D("35.99"), 1, "FAIL"),
        # Woman: × 0.85, so 50 at w = 36 / 0.85 = 42.3529…
        ("F", D("42.3530"), 1, "PASS"),
        ("F", D("42.3529"), 1, "FAIL"),
    ],
)
def test_cockcroft_gault_threshold(sex: str, weight: Any, creatinine: Any, outcome: str) -> None:
    data = crcl_case(sex, "1985-06-01", weight, creatinine)
    assert crit(data, "inc.crcl").outcome == outcome


def test_age_is_taken_on_the_creatinine_date() -> None:
    # 40 on 2025-06-03 (creatinine date), 41 from 2025-06-10: CrCl 50.0 at 40, 49.5 at 41.
    data = crcl_case("M", "1984-06-10", 36, 1)
    assert crit(data, "inc.crcl").outcome == "PASS"
    set_lab(data, "creatinine", collected="2025-06-12")
    assert crit(data, "inc.crcl").outcome == "FAIL"
