"""Unit conversions at the edge, the vocabulary against the schema, and loader errors naming the field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from screening.criteria import (
    FACT_KEYS,
    LAB_TESTS,
    REVIEWED_AREAS,
    THERAPY_AGENTS,
    CaseError,
    dumps,
    evaluate,
    load_case,
)
from screening.criteria import parse_case_text as parse
from screening.criteria.loader import schema
from screening.criteria.vocabulary import LAB_TESTS_BY_KEY

from .helpers import D, base, set_lab


def canonical(test: str, value: Any, unit: str) -> Decimal:
    data = base("sle-eligible")
    set_lab(data, test, value=value, unit=unit)
    case = load_case(data)
    lab = next(lab for lab in case.labs if lab.test == test)
    assert lab.canonical is not None
    return lab.canonical


# (test, value, unit, canonical value)
CONVERSIONS = [
    ("anc", 2100, "/uL", D("2100")),
    ("anc", 2100, "cells/uL", D("2100")),
    ("anc", 2100, "{cells}/uL", D("2100")),
    ("anc", 2100, "/mm3", D("2100")),
    ("anc", 2100, "cells/mm3", D("2100")),
    ("anc", D("2.1"), "10^3/uL", D("2100")),
    ("anc", D("2.1"), "10*3/uL", D("2100")),
    ("anc", D("2.1"), "K/uL", D("2100")),
    ("anc", D("2.1"), "x10E3/uL", D("2100")),
    ("anc", D("2.1"), "10^9/L", D("2100")),
    ("anc", D("2.1"), "10*9/L", D("2100")),
    ("anc", D("2.1"), "x10E9/L", D("2100")),
    ("platelets", 75, "10^9/L", D("75000")),
    ("alc", D("0.999"), "10^9/L", D("999")),
    ("hemoglobin", D("11.2"), "g/dL", D("11.2")),
    ("hemoglobin", 80, "g/L", D("8")),
    ("hemoglobin", 5, "mmol/L", D("8.0570")),
    ("creatinine", D("0.78"), "mg/dL", D("0.78")),
    ("creatinine", D("88.4"), "umol/L", D("1")),
    ("creatinine", 442, "umol/L", D("5")),
    ("weight", 70, "kg", D("70")),
    ("weight", 100, "lb", D("45.359237")),
    ("weight", 100, "[lb_av]", D("45.359237")),
]


@pytest.mark.parametrize(("test", "value", "unit", "want"), CONVERSIONS)
def test_conversion_to_the_canonical_unit(test: str, value: Any, unit: str, want: Decimal) -> None:
    assert canonical(test, value, unit) == want


def test_aldolase_ukat_per_litre_is_times_60() -> None:
    data = base("iim-eligible")
    set_lab(data, "aldolase", value=D("0.15"), unit="ukat/L")
    lab = next(lab for lab in load_case(data).labs if lab.test == "aldolase")
    assert lab.canonical == D("9")


def test_conversion_is_exact_decimal_arithmetic() -> None:
    # 999.99999999999999999 /uL stays below 1000 (a float would round it to 1000).
    data = base("sle-eligible")
    set_lab(data, "anc", value=D("999.99999999999999999"), unit="/uL")
    from .helpers import crit

    assert crit(data, "inc.heme.anc").outcome == "FAIL"
    text = dumps(base("sle-eligible")).replace('"value": 2100', '"value": 999.99999999999999999')
    ev_case = parse(text)
    anc = next(lab for lab in ev_case.labs if lab.test == "anc")
    assert anc.value == D("999.99999999999999999")


def _schema_units(test: str) -> set[str] | None:
    for clause in schema()["$defs"]["lab"]["allOf"]:
        tests = clause["if"]["properties"]["test"].get("enum") or [
            clause["if"]["properties"]["test"].get("const")
        ]
        if test in tests:
            unit = clause["then"].get("properties", {}).get("unit")
            if isinstance(unit, dict) and "enum" in unit:
                return set(unit["enum"])
    return None


@pytest.mark.parametrize("test", [t.key for t in LAB_TESTS if t.units and not t.any_unit])
def test_vocabulary_units_are_the_schema_units(test: str) -> None:
    assert set(LAB_TESTS_BY_KEY[test].unit_names) == _schema_units(test)


def test_vocabulary_keys_are_the_schema_keys() -> None:
    s = schema()
    assert {t.key for t in LAB_TESTS} == set(s["$defs"]["lab"]["properties"]["test"]["enum"])
    assert {f.key for f in FACT_KEYS} == set(s["properties"]["facts"]["properties"])
    assert set(REVIEWED_AREAS) == set(s["properties"]["reviewed"]["items"]["enum"])
    assert {a.key for a in THERAPY_AGENTS} | {"other"} == set(
        s["$defs"]["therapy"]["properties"]["agent"]["enum"]
    )


def refused(data: dict[str, Any]) -> str:
    with pytest.raises(CaseError) as info:
        load_case(data)
    return str(info.value)


def test_unknown_unit_names_the_field() -> None:
    data = base()
    set_lab(data, "anc", unit="mg/dL")
    assert refused(data).startswith("labs/0/unit: 'mg/dL' is not one of")


def test_impossible_value_names_the_field_and_the_bound() -> None:
    data = base()
    set_lab(data, "anc", value=2100, unit="10^9/L")
    assert refused(data) == (
        "labs/0/value: anc 2100 10⁹/L = 2100000 /µL is not plausible (at most 200000 /µL); check the unit"
    )


@pytest.mark.parametrize(
    ("test", "value", "unit", "ok"),
    [
        ("anc", 200000, "/uL", True),
        ("anc", D("200000.001"), "/uL", False),
        ("alc", 200, "10^9/L", True),
        ("alc", D("200.001"), "10^9/L", False),
        ("platelets", 5000000, "/uL", True),
        ("platelets", D("5000.001"), "10^9/L", False),
        ("hemoglobin", 25, "g/dL", True),
        ("hemoglobin", D("250.01"), "g/L", False),
        ("hemoglobin", D("15.5"), "mmol/L", True),  # 24.9767 g/dL
        ("hemoglobin", D("15.6"), "mmol/L", False),  # 25.13784 g/dL
        ("creatinine", 30, "mg/dL", True),
        ("creatinine", D("2652.1"), "umol/L", False),
        ("weight", 20, "kg", True),
        ("weight", D("19.99"), "kg", False),
        ("weight", 400, "kg", True),
        ("weight", D("881.85"), "lb", False),  # 400.0006 kg
        ("weight", D("44.09"), "lb", False),  # 19.999 kg
    ],
)
def test_plausibility_bounds_are_inclusive_in_the_canonical_unit(
    test: str, value: Any, unit: str, ok: bool
) -> None:
    data = base()
    set_lab(data, test, value=value, unit=unit)
    if ok:
        load_case(data)
    else:
        index = next(i for i, lab in enumerate(data["labs"]) if lab["test"] == test)
        assert refused(data).startswith(f"labs/{index}/value: {test} ")


def test_zero_creatinine_is_refused_by_the_schema() -> None:
    data = base()
    set_lab(data, "creatinine", value=0)
    assert refused(data).startswith("labs/4/value: 0 is less than or equal to the minimum of 0")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["dates"].pop("as_of"), "dates: 'as_of' is a required property"),
        (lambda c: c["dates"].update(as_of="2025-02-30"), "dates/as_of: '2025-02-30' is not a 'date'"),
        (lambda c: c.update(cohort="IIM"), "cohort: 'SLE' was expected"),
        (lambda c: c["facts"].update(unknown_fact=True), "facts: Additional properties are not allowed"),
        (lambda c: c["facts"].update(child_pugh_score=6), "facts/cirrhosis: True was expected"),
        (
            lambda c: c["therapies"].append({"agent": "rituximab", "start": "2024-01-01", "ongoing": False}),
            "therapies/4: 'last_dose' is a required property",
        ),
        (
            lambda c: c["therapies"].append(
                {"agent": "rituximab", "start": "2024-02-01", "last_dose": "2024-01-01", "ongoing": False}
            ),
            "therapies/4/last_dose: 2024-01-01 is before start 2024-02-01",
        ),
        (
            lambda c: c["events"].append(
                {"kind": "malignancy", "date": "2019-06-12", "type": "other", "active_until": "2019-05-01"}
            ),
            "events/0/active_until: 2019-05-01 is before the diagnosis date 2019-06-12",
        ),
        (
            lambda c: c["events"].append(
                {
                    "kind": "kidney_biopsy",
                    "date": "2025-03-10",
                    "isn_rps_classes": ["IV"],
                    "glomerular_sclerosis": 2,
                    "tubular_atrophy": 2,
                    "nih_chronicity_index": 2,
                }
            ),
            "events/0/nih_chronicity_index: 2 does not match the chronicity components (sum 4)",
        ),
        (
            lambda c: c["events"].append(
                {
                    "kind": "kidney_biopsy",
                    "date": "2025-03-10",
                    "isn_rps_classes": ["IV"],
                    "glomerular_sclerosis": 1,
                    "fibrous_crescents": 1,
                    "tubular_atrophy": 1,
                    "interstitial_fibrosis": 1,
                    "nih_chronicity_index": 5,
                }
            ),
            "events/0/nih_chronicity_index: 5 does not match the chronicity components (sum 4)",
        ),
    ],
)
def test_loader_errors_start_with_the_field_path(change: Any, message: str) -> None:
    data = base()
    change(data)
    assert refused(data).startswith(message)


def test_a_binary_float_is_refused() -> None:
    data = base()
    data["labs"][2]["value"] = 11.2
    assert refused(data).startswith("labs/2/value: binary floating-point number")


def test_invalid_json_text() -> None:
    with pytest.raises(CaseError) as info:
        parse('{"case_id": ')
    assert str(info.value).startswith("invalid JSON")


def _with_malignancy(active_until: str) -> dict[str, Any]:
    data = base()
    data["events"] = [
        {"kind": "malignancy", "date": "2001-02-03", "type": "other", "active_until": active_until}
    ]
    return data


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d.update(birth_date="1899-12-31"), "birth_date"),
        (lambda d: d["dates"].update(planned_day0="2200-01-01"), "dates/planned_day0"),
        (lambda d: set_lab(d, "anc", collected="0001-01-01"), "labs/0/collected"),
        (lambda d: d["therapies"][1].update(start="1000-01-01"), "therapies/1/start"),
        (lambda d: d.update(_with_malignancy("9999-12-31")), "events/0/active_until"),
    ],
)
def test_dates_outside_the_accepted_span_name_the_field(change: Any, path: str) -> None:
    data = base()
    change(data)
    with pytest.raises(CaseError) as err:
        load_case(data)
    ((where, message),) = err.value.errors
    assert where == path
    assert message.endswith(" is outside the dates the engine accepts (1900-01-01 to 2199-12-31)")


def test_dates_at_the_ends_of_the_span_evaluate() -> None:
    """The calendar arithmetic stays inside the calendar at both ends of the accepted span."""
    late = _with_malignancy("2199-12-31")
    late["dates"].update(planned_enrollment="2199-12-31", planned_day0="2199-12-31")
    # Read on T, the cancer is active until T, more than 3 years before an enrollment in 2199.
    assert evaluate(load_case(late)).result("exc.malignancy").outcome == "PASS"
    early = base()
    early["birth_date"] = "1900-01-01"
    assert evaluate(load_case(early)).result("inc.age").outcome == "FAIL"
