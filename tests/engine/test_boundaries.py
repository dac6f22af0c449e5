"""Every threshold and window just below, at and just above its boundary (one change from a base case).

Base timeline (sle-eligible): T = 2025-06-16, S = C = 2025-06-02, E = 2025-06-23, D0 = 2025-06-30,
screening window from E − 28 = 2025-05-26, labs collected 2025-06-03.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from .helpers import D, base, crit, drop_lab, set_lab

Case = dict[str, Any]
Mut = Callable[[Case], Any]


def lab(test: str, **fields: Any) -> Mut:
    return lambda c: set_lab(c, test, **fields)


def fact(**facts: Any) -> Mut:
    return lambda c: c["facts"].update(facts)


def dated(key: str, value: Any, when: str = "2025-06-03") -> Mut:
    return lambda c: c["facts"].update({key: {"value": value, "date": when}})


def event(**ev: Any) -> Mut:
    return lambda c: c["events"].append(ev)


def dates(**d: Any) -> Mut:
    def apply(c: Case) -> None:
        for k, v in d.items():
            if v is None:
                c["dates"].pop(k, None)
            else:
                c["dates"][k] = v

    return apply


def top(**fields: Any) -> Mut:
    return lambda c: c.update(fields)


def therapies(*entries: dict[str, Any]) -> Mut:
    return lambda c: c.__setitem__("therapies", list(entries))


def all_of(*muts: Mut) -> Mut:
    def apply(c: Case) -> None:
        for m in muts:
            m(c)

    return apply


def iim_only_route(c: Case) -> None:
    """IIM base with every involvement route negative, so one route decides."""
    set_lab(c, "ck", value=170, uln=170)
    set_lab(c, "aldolase", value=5, unit="U/L")
    c["facts"]["cdasi_activity"] = {"value": 10, "date": "2025-06-03"}
    c["facts"]["ild_progressive_raghu2022"] = {"value": False, "date": "2025-06-03"}


def ssc_no_route(c: Case) -> None:
    """SSc base with mRSS ≤ 10 and no early progression, no ILD progression, no myositis, normal CRP."""
    c["facts"]["mrss"] = {"value": 8, "date": "2025-06-03"}
    c["facts"]["ssc_early_progression"] = False
    c["facts"]["ild_progressive_raghu2022"] = {"value": False, "date": "2025-06-03"}
    c["facts"]["ssc_myositis"] = False
    set_lab(c, "crp", value=3, unit="mg/L", uln=5)


MMF = {"agent": "mycophenolate_mofetil", "start": "2024-01-15", "ongoing": True}
HCQ = {"agent": "hydroxychloroquine", "start": "2019-05-01", "ongoing": True}

# (label, base case, change, criterion, outcome, other expected fields)
ROWS: list[tuple[str, str, Mut, str, str, dict[str, Any]]] = [
    # Haematology, every accepted count unit
    (
        "anc just below",
        "sle-eligible",
        lab("anc", value=D("999.99999999999999999")),
        "inc.heme.anc",
        "FAIL",
        {},
    ),
    ("anc at", "sle-eligible", lab("anc", value=1000), "inc.heme.anc", "PASS", {}),
    ("anc above", "sle-eligible", lab("anc", value=D("1000.00001")), "inc.heme.anc", "PASS", {}),
    (
        "anc 10^9/L below",
        "sle-eligible",
        lab("anc", value=D("0.99999"), unit="10^9/L"),
        "inc.heme.anc",
        "FAIL",
        {},
    ),
    ("anc 10^9/L at", "sle-eligible", lab("anc", value=1, unit="10^9/L"), "inc.heme.anc", "PASS", {}),
    ("anc K/uL at", "sle-eligible", lab("anc", value=D("1.0"), unit="K/uL"), "inc.heme.anc", "PASS", {}),
    (
        "platelets below",
        "sle-eligible",
        lab("platelets", value=D("74999.99"), unit="/uL"),
        "inc.heme.platelets",
        "FAIL",
        {},
    ),
    (
        "platelets at",
        "sle-eligible",
        lab("platelets", value=75000, unit="/uL"),
        "inc.heme.platelets",
        "PASS",
        {},
    ),
    (
        "platelets 10^3 below",
        "sle-eligible",
        lab("platelets", value=D("74.999")),
        "inc.heme.platelets",
        "FAIL",
        {},
    ),
    (
        "platelets 10*9/L at",
        "sle-eligible",
        lab("platelets", value=75, unit="10*9/L"),
        "inc.heme.platelets",
        "PASS",
        {},
    ),
    (
        "hb g/dL below",
        "sle-eligible",
        lab("hemoglobin", value=D("7.99999")),
        "inc.heme.hemoglobin",
        "FAIL",
        {},
    ),
    ("hb g/dL at", "sle-eligible", lab("hemoglobin", value=8), "inc.heme.hemoglobin", "PASS", {}),
    (
        "hb g/L below",
        "sle-eligible",
        lab("hemoglobin", value=D("79.999"), unit="g/L"),
        "inc.heme.hemoglobin",
        "FAIL",
        {},
    ),
    ("hb g/L at", "sle-eligible", lab("hemoglobin", value=80, unit="g/L"), "inc.heme.hemoglobin", "PASS", {}),
    (
        "hb mmol/L below",
        "sle-eligible",
        lab("hemoglobin", value=D("4.9646"), unit="mmol/L"),
        "inc.heme.hemoglobin",
        "FAIL",
        {},
    ),
    (
        "hb mmol/L above",
        "sle-eligible",
        lab("hemoglobin", value=D("4.9647"), unit="mmol/L"),
        "inc.heme.hemoglobin",
        "PASS",
        {},
    ),
    ("alc below", "sle-eligible", lab("alc", value=D("999.999")), "inc.heme.alc", "FAIL", {}),
    ("alc at", "sle-eligible", lab("alc", value=1000), "inc.heme.alc", "PASS", {}),
    ("alc x10E3/uL at", "sle-eligible", lab("alc", value=1, unit="x10E3/uL"), "inc.heme.alc", "PASS", {}),
    # CrCl: woman aged 37 on the creatinine date: 103 × 36 × 0.85 / (72 × 0.8755) = 50 exactly
    (
        "crcl at 50",
        "sle-eligible",
        all_of(lab("weight", value=36), lab("creatinine", value=D("0.8755"))),
        "inc.crcl",
        "PASS",
        {},
    ),
    (
        "crcl just below",
        "sle-eligible",
        all_of(lab("weight", value=36), lab("creatinine", value=D("0.87551"))),
        "inc.crcl",
        "FAIL",
        {},
    ),
    (
        "crcl just above",
        "sle-eligible",
        all_of(lab("weight", value=36), lab("creatinine", value=D("0.87549"))),
        "inc.crcl",
        "PASS",
        {},
    ),
    (
        "crcl umol/L at 50",
        "sle-eligible",
        all_of(lab("weight", value=36), lab("creatinine", value=D("77.3942"), unit="umol/L")),
        "inc.crcl",
        "PASS",
        {},
    ),
    (
        "crcl umol/L below",
        "sle-eligible",
        all_of(lab("weight", value=36), lab("creatinine", value=D("77.3943"), unit="umol/L")),
        "inc.crcl",
        "FAIL",
        {},
    ),
    # 100 lb = 45.359237 kg: CrCl = 50 at creatinine 1.10311144426388… mg/dL
    (
        "crcl lb just above",
        "sle-eligible",
        all_of(lab("weight", value=100, unit="lb"), lab("creatinine", value=D("1.1031114442"))),
        "inc.crcl",
        "PASS",
        {},
    ),
    (
        "crcl [lb_av] just below",
        "sle-eligible",
        all_of(lab("weight", value=100, unit="[lb_av]"), lab("creatinine", value=D("1.1031114443"))),
        "inc.crcl",
        "FAIL",
        {},
    ),
    # Age at consent C = 2025-06-02
    (
        "age day before 18th birthday",
        "sle-eligible",
        top(birth_date="2007-06-03"),
        "inc.age",
        "FAIL",
        {"valid_until": None, "eligible_from": None},
    ),
    ("age on 18th birthday", "sle-eligible", top(birth_date="2007-06-02"), "inc.age", "PASS", {}),
    ("age after 18th birthday", "sle-eligible", top(birth_date="2007-06-01"), "inc.age", "PASS", {}),
    (
        "age day before 70th birthday",
        "sle-eligible",
        top(birth_date="1955-06-03"),
        "inc.age",
        "PASS",
        {"valid_until": None},
    ),
    ("age on 70th birthday", "sle-eligible", top(birth_date="1955-06-02"), "inc.age", "FAIL", {}),
    (
        "age 29 Feb, 1 March non-leap",
        "sle-eligible",
        all_of(top(birth_date="2004-02-29"), dates(icf_signed="2022-03-01")),
        "inc.age",
        "PASS",
        {},
    ),
    (
        "age 29 Feb, 28 February non-leap",
        "sle-eligible",
        all_of(top(birth_date="2004-02-29"), dates(icf_signed="2022-02-28")),
        "inc.age",
        "FAIL",
        {},
    ),
    (
        "age 29 Feb, leap year",
        "sle-eligible",
        all_of(
            top(birth_date="2008-02-29"),
            dates(
                icf_signed="2026-02-28",
                as_of="2026-03-02",
                screening_start="2026-03-01",
                planned_enrollment=None,
                planned_day0=None,
            ),
        ),
        "inc.age",
        "FAIL",
        {},
    ),
    (
        "age C = T, under 18",
        "sle-eligible",
        all_of(top(birth_date="2007-06-20"), dates(icf_signed=None)),
        "inc.age",
        "FAIL",
        {"valid_until": date(2025, 6, 19), "eligible_from": date(2025, 6, 20)},
    ),
    (
        "age C = T, 69",
        "sle-eligible",
        all_of(top(birth_date="1955-06-17"), dates(icf_signed=None)),
        "inc.age",
        "PASS",
        {"valid_until": date(2025, 6, 16)},
    ),
    (
        "age C = T, born 29 Feb, 70th in non-leap year",
        "sle-eligible",
        all_of(top(birth_date="1956-02-29"), dates(icf_signed=None)),
        "inc.age",
        "PASS",
        {"valid_until": date(2026, 2, 28)},
    ),
    # Screening window E − W for labs and dated facts
    (
        "lab one day before window",
        "sle-eligible",
        lab("anc", collected="2025-05-25"),
        "inc.heme.anc",
        "MISSING",
        {"missing": ("labs.anc",), "repeat_from": date(2025, 5, 26)},
    ),
    (
        "lab on window start",
        "sle-eligible",
        lab("anc", collected="2025-05-26"),
        "inc.heme.anc",
        "PASS",
        {"valid_until": date(2025, 6, 23)},
    ),
    (
        "lab after T ignored",
        "sle-eligible",
        lab("anc", collected="2025-06-17"),
        "inc.heme.anc",
        "MISSING",
        {"repeat_from": None},
    ),
    (
        "dated fact before window",
        "sle-eligible",
        dated("sledai2k", 10, "2025-05-25"),
        "sle.sledai",
        "MISSING",
        {"missing": ("facts.sledai2k",), "repeat_from": date(2025, 5, 26)},
    ),
    (
        "dated fact on window start",
        "sle-eligible",
        dated("sledai2k", 10, "2025-05-26"),
        "sle.sledai",
        "PASS",
        {"valid_until": date(2025, 6, 23)},
    ),
    ("sledai 5", "sle-eligible", dated("sledai2k", 5), "sle.sledai", "FAIL", {}),
    ("sledai 6", "sle-eligible", dated("sledai2k", 6), "sle.sledai", "PASS", {}),
    # Support-free period: H = 2025-06-03
    (
        "transfusion H−7",
        "sle-eligible",
        event(kind="transfusion", date="2025-05-27", product="red_cells"),
        "inc.heme.support",
        "PASS",
        {},
    ),
    (
        "transfusion H−6",
        "sle-eligible",
        event(kind="transfusion", date="2025-05-28", product="platelets"),
        "inc.heme.support",
        "FAIL",
        {"valid_until": date(2025, 7, 1), "eligible_from": None},
    ),
    (
        "transfusion after the draw",
        "sle-eligible",
        event(kind="transfusion", date="2025-06-10", product="whole_blood"),
        "inc.heme.support",
        "FAIL",
        {},
    ),
    (
        "plasma does not count",
        "sle-eligible",
        event(kind="transfusion", date="2025-05-30", product="plasma"),
        "inc.heme.support",
        "PASS",
        {},
    ),
    (
        "growth factor H−6",
        "sle-eligible",
        event(kind="growth_factor", date="2025-05-28"),
        "inc.heme.support",
        "FAIL",
        {},
    ),
    (
        "growth factor ongoing",
        "sle-eligible",
        event(kind="growth_factor", date="2024-01-01", ongoing=True),
        "inc.heme.support",
        "FAIL",
        {},
    ),
    (
        "support after T ignored",
        "sle-eligible",
        event(kind="transfusion", date="2025-06-17", product="red_cells"),
        "inc.heme.support",
        "PASS",
        {},
    ),
    # Live vaccine E − 28 days = 2025-05-26
    (
        "live vaccine E−28",
        "sle-eligible",
        event(kind="live_vaccine", date="2025-05-26"),
        "exc.live_vaccine",
        "FAIL",
        {"valid_until": date(2025, 6, 23), "eligible_from": date(2025, 6, 24)},
    ),
    (
        "live vaccine E−29",
        "sle-eligible",
        event(kind="live_vaccine", date="2025-05-25"),
        "exc.live_vaccine",
        "PASS",
        {},
    ),
    # Malignancy E − 36 months = 2022-06-23
    (
        "malignancy active until E−36m",
        "sle-eligible",
        event(
            kind="malignancy",
            date="2020-01-10",
            type="other",
            adequately_treated=True,
            active_until="2022-06-23",
        ),
        "exc.malignancy",
        "FAIL",
        {"valid_until": date(2025, 6, 23), "eligible_from": date(2025, 6, 24)},
    ),
    (
        "malignancy active until a day earlier",
        "sle-eligible",
        event(
            kind="malignancy",
            date="2020-01-10",
            type="other",
            adequately_treated=True,
            active_until="2022-06-22",
        ),
        "exc.malignancy",
        "PASS",
        {},
    ),
    (
        "malignancy month-end",
        "sle-eligible",
        all_of(
            dates(planned_enrollment="2025-06-30"),
            event(kind="malignancy", date="2020-01-10", type="other", active_until="2022-06-30"),
        ),
        "exc.malignancy",
        "FAIL",
        {"valid_until": date(2025, 6, 30), "eligible_from": date(2025, 7, 1)},
    ),
    (
        "malignancy Feb month-end",
        "sle-eligible",
        event(kind="malignancy", date="2020-01-10", type="other", active_until="2022-02-28"),
        "exc.malignancy",
        "PASS",
        {},
    ),
    (
        "malignancy end unknown, diagnosed in window",
        "sle-eligible",
        event(kind="malignancy", date="2022-06-23", type="other"),
        "exc.malignancy",
        "FAIL",
        {"valid_until": date(2025, 6, 23), "eligible_from": None},
    ),
    (
        "malignancy end unknown, diagnosed before",
        "sle-eligible",
        event(kind="malignancy", date="2022-06-22", type="other"),
        "exc.malignancy",
        "MISSING",
        {"missing": ("events.malignancy.active_until",)},
    ),
    (
        "malignancy still active",
        "sle-eligible",
        event(kind="malignancy", date="2010-06-22", type="other", still_active=True),
        "exc.malignancy",
        "FAIL",
        {"valid_until": None},
    ),
    (
        "excepted type adequately treated",
        "sle-eligible",
        event(kind="malignancy", date="2025-01-10", type="bcc_skin_localized", adequately_treated=True),
        "exc.malignancy",
        "PASS",
        {},
    ),
    (
        "excepted type, treatment unknown",
        "sle-eligible",
        event(kind="malignancy", date="2025-01-10", type="cis_cervix"),
        "exc.malignancy",
        "MISSING",
        {"missing": ("events.malignancy.adequately_treated",)},
    ),
    # Cardiac S − 6 months = 2024-12-02
    (
        "MI on S−6m",
        "sle-eligible",
        event(kind="cardiovascular_event", date="2024-12-02", condition="myocardial_infarction"),
        "exc.cardiac",
        "FAIL",
        {"valid_until": None},
    ),
    (
        "MI a day before",
        "sle-eligible",
        event(kind="cardiovascular_event", date="2024-12-01", condition="myocardial_infarction"),
        "exc.cardiac",
        "PASS",
        {},
    ),
    (
        "MI, S = T",
        "sle-eligible",
        all_of(
            dates(screening_start=None),
            event(kind="cardiovascular_event", date="2024-12-16", condition="stroke"),
        ),
        "exc.cardiac",
        "FAIL",
        {"valid_until": date(2025, 6, 16), "eligible_from": date(2025, 6, 17)},
    ),
    (
        "heart failure NYHA 1",
        "sle-eligible",
        event(kind="cardiovascular_event", date="2025-01-01", condition="heart_failure", nyha_class=1),
        "exc.cardiac",
        "PASS",
        {},
    ),
    (
        "heart failure NYHA 2",
        "sle-eligible",
        event(kind="cardiovascular_event", date="2025-01-01", condition="heart_failure", nyha_class=2),
        "exc.cardiac",
        "FAIL",
        {},
    ),
    (
        "arrhythmia ongoing",
        "sle-eligible",
        event(kind="cardiovascular_event", date="2019-01-01", condition="arrhythmia", ongoing=True),
        "exc.cardiac",
        "FAIL",
        {"valid_until": None},
    ),
    # Pulmonary embolism E − 6 months = 2024-12-23
    (
        "PE on E−6m",
        "sle-eligible",
        event(kind="pulmonary_embolism", date="2024-12-23", required_anticoagulation=True),
        "exc.pulmonary",
        "FAIL",
        {"valid_until": date(2025, 6, 23), "eligible_from": date(2025, 6, 24)},
    ),
    (
        "PE a day before",
        "sle-eligible",
        event(kind="pulmonary_embolism", date="2024-12-22", required_anticoagulation=True),
        "exc.pulmonary",
        "PASS",
        {},
    ),
    (
        "PE without anticoagulation",
        "sle-eligible",
        event(kind="pulmonary_embolism", date="2025-05-01", required_anticoagulation=False),
        "exc.pulmonary",
        "PASS",
        {},
    ),
    ("pleural effusion 1", "sle-eligible", fact(pleural_effusion_ctcae_grade=1), "exc.pulmonary", "PASS", {}),
    (
        "pleural effusion 2",
        "sle-eligible",
        fact(pleural_effusion_ctcae_grade=2),
        "exc.pulmonary",
        "FAIL",
        {"valid_until": None},
    ),
    # Hypertensive crisis S − 6 months = 2024-12-02
    (
        "hypertensive crisis on S−6m",
        "sle-eligible",
        event(kind="hypertensive_crisis", date="2024-12-02"),
        "exc.hypertensive_crisis",
        "FAIL",
        {"valid_until": None},
    ),
    (
        "hypertensive crisis a day before",
        "sle-eligible",
        event(kind="hypertensive_crisis", date="2024-12-01"),
        "exc.hypertensive_crisis",
        "PASS",
        {},
    ),
    (
        "hypertensive crisis S = T",
        "sle-eligible",
        all_of(dates(screening_start=None), event(kind="hypertensive_crisis", date="2025-02-28")),
        "exc.hypertensive_crisis",
        "FAIL",
        {"valid_until": date(2025, 8, 31), "eligible_from": date(2025, 9, 1)},
    ),
    # CNS lupus E − 6 months = 2024-12-23
    (
        "CNS on E−6m",
        "sle-eligible",
        event(kind="cns_lupus", date="2024-12-23"),
        "sle.exc.cns",
        "FAIL",
        {"valid_until": date(2025, 6, 23), "eligible_from": date(2025, 6, 24)},
    ),
    (
        "CNS a day before",
        "sle-eligible",
        event(kind="cns_lupus", date="2024-12-22"),
        "sle.exc.cns",
        "PASS",
        {},
    ),
    # Dialysis C − 12 months = 2024-06-02 (LN)
    (
        "dialysis on C−12m",
        "sle-ln-eligible",
        event(kind="dialysis", date="2024-06-02"),
        "sle.exc.ln_dialysis",
        "FAIL",
        {"valid_until": None},
    ),
    (
        "dialysis a day before",
        "sle-ln-eligible",
        event(kind="dialysis", date="2024-06-01"),
        "sle.exc.ln_dialysis",
        "PASS",
        {},
    ),
    (
        "dialysis C = T",
        "sle-ln-eligible",
        all_of(dates(icf_signed=None), event(kind="dialysis", date="2024-07-31")),
        "sle.exc.ln_dialysis",
        "FAIL",
        {"valid_until": date(2025, 7, 31), "eligible_from": date(2025, 8, 1)},
    ),
    # LN biopsy: E − 6 months = 2024-12-23
    (
        "LN biopsy on E−6m",
        "sle-ln-eligible",
        lambda c: c["events"][0].update(date="2024-12-23"),
        "sle.ln_biopsy",
        "PASS",
        {"valid_until": date(2025, 6, 23)},
    ),
    (
        "LN biopsy a day before",
        "sle-ln-eligible",
        lambda c: c["events"][0].update(date="2024-12-22"),
        "sle.ln_biopsy",
        "REVIEW",
        {"review_by": "eac"},
    ),
    (
        "LN biopsy month-end window",
        "sle-ln-eligible",
        all_of(
            dates(planned_enrollment="2025-08-31", planned_day0="2025-09-07"),
            lambda c: c["events"][0].update(date="2025-02-28"),
        ),
        "sle.ln_biopsy",
        "PASS",
        {"valid_until": date(2025, 8, 31)},
    ),
    (
        "LN biopsy month-end, day before",
        "sle-ln-eligible",
        all_of(
            dates(planned_enrollment="2025-08-31", planned_day0="2025-09-07"),
            lambda c: c["events"][0].update(date="2025-02-27"),
        ),
        "sle.ln_biopsy",
        "REVIEW",
        {},
    ),
    (
        "NIH activity 2",
        "sle-ln-eligible",
        lambda c: c["events"][0].update(nih_activity_index=2),
        "sle.ln_biopsy",
        "PASS",
        {},
    ),
    (
        "NIH activity 1",
        "sle-ln-eligible",
        lambda c: c["events"][0].update(nih_activity_index=1),
        "sle.ln_biopsy",
        "REVIEW",
        {"valid_until": date(2025, 9, 10)},
    ),
    (
        "class V only",
        "sle-ln-eligible",
        lambda c: c["events"][0].update(isn_rps_classes=["V"]),
        "sle.ln_biopsy",
        "FAIL",
        {"valid_until": None},
    ),
    # Chronicity
    (
        "chronicity component 3",
        "sle-ln-eligible",
        lambda c: c["events"][0].update(tubular_atrophy=3),
        "sle.exc.ln_chronicity",
        "FAIL",
        {},
    ),
    (
        "chronicity components 2",
        "sle-ln-eligible",
        lambda c: c["events"][0].update(
            glomerular_sclerosis=2, fibrous_crescents=2, tubular_atrophy=2, interstitial_fibrosis=2
        ),
        "sle.exc.ln_chronicity",
        "PASS",
        {},
    ),
    (
        "chronicity total 9 only",
        "sle-ln-eligible",
        lambda c: c["events"].__setitem__(
            0,
            {
                "kind": "kidney_biopsy",
                "date": "2025-03-10",
                "isn_rps_classes": ["IV"],
                "nih_activity_index": 9,
                "nih_chronicity_index": 9,
            },
        ),
        "sle.exc.ln_chronicity",
        "FAIL",
        {},
    ),
    (
        "chronicity total 8 only",
        "sle-ln-eligible",
        lambda c: c["events"].__setitem__(
            0,
            {
                "kind": "kidney_biopsy",
                "date": "2025-03-10",
                "isn_rps_classes": ["IV"],
                "nih_activity_index": 9,
                "nih_chronicity_index": 8,
            },
        ),
        "sle.exc.ln_chronicity",
        "MISSING",
        {
            "missing": (
                "events.kidney_biopsy.glomerular_sclerosis",
                "events.kidney_biopsy.fibrous_crescents",
                "events.kidney_biopsy.tubular_atrophy",
                "events.kidney_biopsy.interstitial_fibrosis",
            )
        },
    ),
    (
        "chronicity total 2 only",
        "sle-ln-eligible",
        lambda c: c["events"].__setitem__(
            0,
            {
                "kind": "kidney_biopsy",
                "date": "2025-03-10",
                "isn_rps_classes": ["IV"],
                "nih_activity_index": 9,
                "nih_chronicity_index": 2,
            },
        ),
        "sle.exc.ln_chronicity",
        "PASS",
        {},
    ),
    (
        "chronicity total 3 only",
        "sle-ln-eligible",
        lambda c: c["events"].__setitem__(
            0,
            {
                "kind": "kidney_biopsy",
                "date": "2025-03-10",
                "isn_rps_classes": ["IV"],
                "nih_activity_index": 9,
                "nih_chronicity_index": 3,
            },
        ),
        "sle.exc.ln_chronicity",
        "MISSING",
        {},
    ),
    # SSc duration: S − 84 months = 2018-06-02
    (
        "SSc onset on S−84m",
        "ssc-male-eligible",
        fact(ssc_first_non_raynaud_date="2018-06-02"),
        "ssc.disease_duration",
        "PASS",
        {"valid_until": None},
    ),
    (
        "SSc onset a day before, no progression",
        "ssc-male-eligible",
        all_of(
            fact(ssc_first_non_raynaud_date="2018-06-01", ssc_skin_or_lung_progression=False),
            dated("ild_progressive_raghu2022", False),
        ),
        "ssc.disease_duration",
        "FAIL",
        {},
    ),
    (
        "SSc onset a day before, ILD progression",
        "ssc-male-eligible",
        all_of(fact(ssc_first_non_raynaud_date="2018-06-01", ssc_skin_or_lung_progression=False)),
        "ssc.disease_duration",
        "REVIEW",
        {"review_by": "eac", "valid_until": date(2025, 7, 1)},
    ),
    ("SSc score 8", "ssc-male-eligible", fact(ssc_acr_eular_2013_score=8), "ssc.classification", "FAIL", {}),
    ("SSc score 9", "ssc-male-eligible", fact(ssc_acr_eular_2013_score=9), "ssc.classification", "PASS", {}),
    # SSc activity routes
    ("mRSS 10", "ssc-male-eligible", all_of(ssc_no_route, dated("mrss", 10)), "ssc.activity", "FAIL", {}),
    ("mRSS 11", "ssc-male-eligible", all_of(ssc_no_route, dated("mrss", 11)), "ssc.activity", "PASS", {}),
    (
        "SSc CK 1.5 × ULN",
        "ssc-male-eligible",
        all_of(ssc_no_route, fact(ssc_myositis=True), lab("ck", value=255, unit="U/L", uln=170)),
        "ssc.activity",
        "FAIL",
        {},
    ),
    (
        "SSc CK above 1.5 × ULN",
        "ssc-male-eligible",
        all_of(ssc_no_route, fact(ssc_myositis=True), lab("ck", value=D("255.01"), unit="U/L", uln=170)),
        "ssc.activity",
        "PASS",
        {},
    ),
    (
        "CRP below 1.5 × ULN",
        "ssc-male-eligible",
        all_of(ssc_no_route, lab("crp", value=D("7.49"))),
        "ssc.activity",
        "FAIL",
        {},
    ),
    (
        "CRP at 1.5 × ULN",
        "ssc-male-eligible",
        all_of(ssc_no_route, lab("crp", value=D("7.5"))),
        "ssc.activity",
        "REVIEW",
        {"review_by": "eac"},
    ),
    # IIM
    (
        "IIM score 5.4999",
        "iim-eligible",
        fact(iim_eular_acr_2017_score=D("5.4999")),
        "iim.classification",
        "FAIL",
        {},
    ),
    (
        "IIM score 5.5 without biopsy",
        "iim-eligible",
        fact(iim_eular_acr_2017_score=D("5.5"), iim_eular_acr_2017_with_biopsy=False),
        "iim.classification",
        "PASS",
        {},
    ),
    (
        "IIM score 5.5 with biopsy",
        "iim-eligible",
        fact(iim_eular_acr_2017_score=D("5.5"), iim_eular_acr_2017_with_biopsy=True),
        "iim.classification",
        "FAIL",
        {},
    ),
    (
        "IIM score 6.6999 with biopsy",
        "iim-eligible",
        fact(iim_eular_acr_2017_score=D("6.6999"), iim_eular_acr_2017_with_biopsy=True),
        "iim.classification",
        "FAIL",
        {},
    ),
    (
        "IIM score 6.7 with biopsy",
        "iim-eligible",
        fact(iim_eular_acr_2017_score=D("6.7"), iim_eular_acr_2017_with_biopsy=True),
        "iim.classification",
        "PASS",
        {},
    ),
    (
        "IIM score 5.6 unknown biopsy",
        "iim-eligible",
        all_of(
            fact(iim_eular_acr_2017_score=D("5.6")),
            lambda c: c["facts"].pop("iim_eular_acr_2017_with_biopsy"),
        ),
        "iim.classification",
        "MISSING",
        {"missing": ("facts.iim_eular_acr_2017_with_biopsy",)},
    ),
    (
        "CK 3 × ULN",
        "iim-eligible",
        all_of(iim_only_route, lab("ck", value=510)),
        "iim.involvement",
        "FAIL",
        {"valid_until": date(2025, 7, 1)},
    ),
    (
        "CK above 3 × ULN",
        "iim-eligible",
        all_of(iim_only_route, lab("ck", value=D("510.01"))),
        "iim.involvement",
        "PASS",
        {},
    ),
    (
        "aldolase 8 U/L",
        "iim-eligible",
        all_of(iim_only_route, lab("aldolase", value=8)),
        "iim.involvement",
        "FAIL",
        {},
    ),
    (
        "aldolase 8.001 U/L",
        "iim-eligible",
        all_of(iim_only_route, lab("aldolase", value=D("8.001"))),
        "iim.involvement",
        "PASS",
        {},
    ),
    (
        "aldolase ukat/L below",
        "iim-eligible",
        all_of(iim_only_route, lab("aldolase", value=D("0.13333"), unit="ukat/L")),
        "iim.involvement",
        "FAIL",
        {},
    ),
    (
        "aldolase ukat/L above",
        "iim-eligible",
        all_of(iim_only_route, lab("aldolase", value=D("0.13334"), unit="ukat/L")),
        "iim.involvement",
        "PASS",
        {},
    ),
    (
        "CDASI 14",
        "iim-eligible",
        all_of(iim_only_route, dated("cdasi_activity", 14)),
        "iim.involvement",
        "FAIL",
        {},
    ),
    (
        "CDASI 15",
        "iim-eligible",
        all_of(iim_only_route, dated("cdasi_activity", 15)),
        "iim.involvement",
        "PASS",
        {},
    ),
    (
        "muscle biopsy on E−6m",
        "iim-eligible",
        all_of(iim_only_route, event(kind="muscle_biopsy", date="2024-12-23", active_myositis=True)),
        "iim.involvement",
        "PASS",
        {"valid_until": date(2025, 6, 23)},
    ),
    (
        "muscle biopsy a day before",
        "iim-eligible",
        all_of(iim_only_route, event(kind="muscle_biopsy", date="2024-12-22", active_myositis=True)),
        "iim.involvement",
        "FAIL",
        {},
    ),
    (
        "aldolase missing with CK ≤ 3 × ULN",
        "iim-eligible",
        all_of(iim_only_route, lambda c: drop_lab(c, "aldolase")),
        "iim.involvement",
        "MISSING",
        {"missing": ("labs.aldolase",)},
    ),
    (
        "MDI 7",
        "iim-eligible",
        dated("mdi_global_damage", 7),
        "iim.exc.damage",
        "PASS",
        {"valid_until": date(2025, 7, 1)},
    ),
    (
        "MDI 7.01",
        "iim-eligible",
        dated("mdi_global_damage", D("7.01")),
        "iim.exc.damage",
        "FAIL",
        {"valid_until": date(2025, 7, 1)},
    ),
    # Refractory: 3 months (T = 2025-06-16)
    (
        "MMF start T − 3 months",
        "sle-eligible",
        therapies(HCQ, {"agent": "mycophenolate_mofetil", "start": "2025-03-16", "ongoing": True}),
        "sle.refractory",
        "PASS",
        {},
    ),
    (
        "MMF start a day later",
        "sle-eligible",
        therapies(HCQ, {"agent": "mycophenolate_mofetil", "start": "2025-03-17", "ongoing": True}),
        "sle.refractory",
        "FAIL",
        {"valid_until": date(2025, 6, 16), "eligible_from": date(2025, 6, 17)},
    ),
    (
        "interval-dosed agent covers one more interval",
        "sle-eligible",
        therapies(
            HCQ, {"agent": "belimumab", "start": "2024-01-10", "last_dose": "2024-03-13", "ongoing": False}
        ),
        "sle.refractory",
        "PASS",
        {},
    ),
    (
        "interval-dosed agent a day short",
        "sle-eligible",
        therapies(
            HCQ, {"agent": "belimumab", "start": "2024-01-10", "last_dose": "2024-03-12", "ongoing": False}
        ),
        "sle.refractory",
        "FAIL",
        {"valid_until": None},
    ),
    (
        "course agent 3 months since first dose",
        "sle-eligible",
        therapies(
            HCQ, {"agent": "rituximab", "start": "2025-03-16", "last_dose": "2025-03-30", "ongoing": False}
        ),
        "sle.refractory",
        "PASS",
        {},
    ),
    (
        "stopped for intolerance",
        "sle-eligible",
        therapies(
            HCQ,
            {
                "agent": "azathioprine",
                "start": "2025-05-01",
                "last_dose": "2025-05-10",
                "ongoing": False,
                "stopped_for_intolerance": True,
            },
        ),
        "sle.refractory",
        "PASS",
        {},
    ),
    (
        "IVIG does not count in SLE",
        "sle-eligible",
        therapies(HCQ, {"agent": "ivig", "start": "2024-01-01", "ongoing": True}),
        "sle.refractory",
        "FAIL",
        {},
    ),
    # Washout: D0 = 2025-06-30
    (
        "rituximab L = D0 − 28",
        "sle-eligible",
        therapies(
            HCQ, {"agent": "rituximab", "start": "2025-05-20", "last_dose": "2025-06-02", "ongoing": False}
        ),
        "exc.washout",
        "PASS",
        {},
    ),
    (
        "rituximab a day later",
        "sle-eligible",
        therapies(
            HCQ, {"agent": "rituximab", "start": "2025-05-20", "last_dose": "2025-06-03", "ongoing": False}
        ),
        "exc.washout",
        "FAIL",
        {"valid_until": date(2025, 6, 30), "eligible_from": date(2025, 7, 1)},
    ),
    (
        "ongoing MMF before the deadline",
        "sle-eligible",
        therapies(HCQ, MMF),
        "exc.washout",
        "PASS",
        {"valid_until": date(2025, 6, 26)},
    ),
    (
        "ongoing MMF after the deadline",
        "sle-eligible",
        all_of(therapies(HCQ, MMF), dates(as_of="2025-06-27")),
        "exc.washout",
        "FAIL",
        {"valid_until": None},
    ),
    (
        "unlisted agent last given E − 28",
        "sle-eligible",
        therapies(
            HCQ,
            MMF,
            {
                "agent": "other",
                "agent_name": "x",
                "start": "2025-01-01",
                "last_dose": "2025-05-26",
                "ongoing": False,
            },
        ),
        "exc.washout",
        "REVIEW",
        {"review_by": "investigator", "valid_until": date(2025, 6, 23)},
    ),
    (
        "unlisted agent a day earlier",
        "sle-eligible",
        therapies(
            HCQ,
            MMF,
            {
                "agent": "other",
                "agent_name": "x",
                "start": "2025-01-01",
                "last_dose": "2025-05-25",
                "ongoing": False,
            },
        ),
        "exc.washout",
        "PASS",
        {},
    ),
    # Lung function band (ALD yes)
    (
        "FVC above 40",
        "ssc-male-eligible",
        lab("fvc_pct_pred", value=D("40.00001")),
        "exc.lung_function",
        "PASS",
        {},
    ),
    (
        "FVC 40",
        "ssc-male-eligible",
        lab("fvc_pct_pred", value=40),
        "exc.lung_function",
        "REVIEW",
        {"review_by": "eac"},
    ),
    (
        "FVC just above 35",
        "ssc-male-eligible",
        lab("fvc_pct_pred", value=D("35.00001")),
        "exc.lung_function",
        "REVIEW",
        {},
    ),
    ("FVC 35", "ssc-male-eligible", lab("fvc_pct_pred", value=35), "exc.lung_function", "FAIL", {}),
    ("DLCO 35", "ssc-male-eligible", lab("dlco_pct_pred", value=35), "exc.lung_function", "FAIL", {}),
    # Child–Pugh
    ("Child–Pugh 6", "sle-eligible", fact(cirrhosis=True, child_pugh_score=6), "exc.cirrhosis", "PASS", {}),
    ("Child–Pugh 7", "sle-eligible", fact(cirrhosis=True, child_pugh_score=7), "exc.cirrhosis", "FAIL", {}),
]


@pytest.mark.parametrize("label,name,change,cid,outcome,extra", ROWS, ids=[r[0] for r in ROWS])
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
