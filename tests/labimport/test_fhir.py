"""FHIR R4 Observations written from the specification: every lab test of FACTS.md, every status."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from screening.criteria import load_case
from tests.engine.helpers import base

from .helpers import (
    MRN_SYSTEM,
    bundle_file,
    concept,
    ndjson_file,
    observation,
    only_row,
    quantity,
    rows_of,
    run_file,
)

SCT = "http://snomed.info/sct"
LOINC = "http://loinc.org"


def high(value: str, unit: str) -> list[dict[str, Any]]:
    return [{"high": quantity(value, unit)}]


# One result of each lab test of FACTS.md § 4.1 (dlco_pct_pred has no code), with the row it gives.
EVERY_TEST: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "751-8",
        {"valueQuantity": quantity("2.4", "10*3/uL")},
        {"test": "anc", "value": "2.4", "unit": "10*3/uL"},
    ),
    ("753-4", {"valueQuantity": quantity(1900, "/uL")}, {"test": "anc", "value": "1900", "unit": "/uL"}),
    ("26499-4", {"valueQuantity": quantity("2.0", "K/uL", ucum=False)}, {"test": "anc", "unit": "K/uL"}),
    ("731-0", {"valueQuantity": quantity("1.20", "10^9/L", ucum=False)}, {"test": "alc", "value": "1.20"}),
    ("732-8", {"valueQuantity": quantity("1.1", "x10^9/L", ucum=False)}, {"test": "alc", "unit": "10^9/L"}),
    (
        "26474-7",
        {"valueQuantity": quantity(900, "cells/mm3", ucum=False)},
        {"test": "alc", "unit": "cells/mm3"},
    ),
    ("777-3", {"valueQuantity": quantity(210, "10*9/L")}, {"test": "platelets", "unit": "10*9/L"}),
    (
        "26515-7",
        {"valueQuantity": quantity(210, "10E9/L", ucum=False)},
        {"test": "platelets", "unit": "10^9/L"},
    ),
    (
        "718-7",
        {"valueQuantity": quantity("12.9", "G/DL", ucum=False)},
        {"test": "hemoglobin", "unit": "g/dL"},
    ),
    ("59260-0", {"valueQuantity": quantity("12.9", "g/dL")}, {"test": "hemoglobin", "unit": "g/dL"}),
    ("2160-0", {"valueQuantity": quantity("0.82", "mg/dL")}, {"test": "creatinine", "unit": "mg/dL"}),
    (
        "14682-9",
        {"valueQuantity": quantity(72, "\u03bcmol/L", ucum=False)},
        {"test": "creatinine", "unit": "umol/L"},
    ),
    ("29463-7", {"valueQuantity": quantity(150, "[lb_av]")}, {"test": "weight", "unit": "[lb_av]"}),
    (
        "2157-6",
        {"valueQuantity": quantity(512, "U/L"), "referenceRange": high("308", "U/L")},
        {"test": "ck", "value": "512", "unit": "U/L", "uln": "308"},
    ),
    ("1761-6", {"valueQuantity": quantity("9.1", "U/L")}, {"test": "aldolase", "uln": None}),
    (
        "1988-5",
        {"valueQuantity": quantity(12, "mg/L"), "referenceRange": high("5", "mg/L")},
        {"test": "crp", "uln": "5"},
    ),
    (
        "30522-7",
        {"valueQuantity": quantity("0.9", "mg/dL"), "referenceRange": high("0.5", "mg/dL")},
        {"test": "crp", "uln": "0.5"},
    ),
    ("19872-1", {"valueQuantity": quantity(78, "%")}, {"test": "fvc_pct_pred", "unit": "%"}),
    (
        "5130-0",
        {"valueQuantity": quantity(45, "[IU]/mL"), "referenceRange": high("30", "[IU]/mL")},
        {"test": "anti_dsdna", "uln": "30"},
    ),
    ("31348-6", {"valueString": " Positive "}, {"test": "anti_dsdna", "value": "positive", "unit": None}),
    ("11090-8", {"valueCodeableConcept": concept(SCT, "10828004")}, {"test": "anti_sm", "value": "positive"}),
    ("29374-6", {"valueString": "negative"}, {"test": "anti_rnp", "value": "negative"}),
    (
        "105555-7",
        {"valueQuantity": quantity(12, "AU/mL"), "referenceRange": high("20", "AU/mL")},
        {"test": "anti_tif1g", "uln": "20"},
    ),
    (
        "107562-1",
        {"valueCodeableConcept": concept(LOINC, "LA11884-6")},
        {"test": "anti_tif1g", "value": "indeterminate"},
    ),
    (
        "2106-3",
        {"valueCodeableConcept": concept(SCT, "260385009")},
        {"test": "pregnancy_test", "specimen": "urine", "value": "negative"},
    ),
    (
        "2118-8",
        {"valueCodeableConcept": concept("urn:local", "NEG", "Negative")},
        {"test": "pregnancy_test", "specimen": "serum", "value": "negative", "value_sent": "urn:local|NEG"},
    ),
    ("5196-1", {"valueString": "Non  reactive"}, {"test": "hbsag", "value": "negative"}),
    ("5195-3", {"valueCodeableConcept": concept(SCT, "131194007")}, {"test": "hbsag", "value": "negative"}),
    (
        "16933-4",
        {"valueCodeableConcept": concept(LOINC, "LA6577-6")},
        {"test": "anti_hbc", "value": "negative"},
    ),
    ("13952-7", {"valueString": "equivocal"}, {"test": "anti_hbc", "value": "indeterminate"}),
    (
        "29610-3",
        {"valueCodeableConcept": concept(SCT, "260373001")},
        {"test": "hbv_dna", "value": "detected"},
    ),
    ("29615-2", {"valueQuantity": quantity(180, "{copies}/mL")}, {"test": "hbv_dna", "value": "detected"}),
    ("42595-9", {"valueString": "Not detected"}, {"test": "hbv_dna", "value": "not_detected"}),
    ("16128-1", {"valueCodeableConcept": concept(SCT, "11214006")}, {"test": "hcv_ab", "value": "positive"}),
    ("13955-0", {"valueString": "nonreactive"}, {"test": "hcv_ab", "value": "negative"}),
    (
        "11259-9",
        {"valueCodeableConcept": concept(LOINC, "LA11883-8")},
        {"test": "hcv_rna", "value": "not_detected"},
    ),
    ("11011-4", {"valueQuantity": quantity(25, "[IU]/mL")}, {"test": "hcv_rna", "value": "detected"}),
    ("20416-4", {"valueString": "detected"}, {"test": "hcv_rna", "value": "detected"}),
    (
        "56888-1",
        {"valueCodeableConcept": concept(LOINC, "LA6576-8")},
        {"test": "hiv_ag_ab", "value": "positive"},
    ),
]


@pytest.mark.parametrize("code, value, expected", EVERY_TEST, ids=[f"{c}" for c, _, _ in EVERY_TEST])
def test_every_lab_test_stages(
    tmp_path: Path, code: str, value: dict[str, Any], expected: dict[str, Any]
) -> None:
    path = bundle_file(tmp_path, observation(code=code, **value))
    row = only_row(path)
    assert row["action"] == "stage", row
    assert row["problems"] == ["unmatched-patient"]
    assert row["collected"] == "2025-06-03"
    assert row["patient"] == {"system": MRN_SYSTEM, "value": "H-1"}
    for key, wanted in expected.items():
        assert row[key] == wanted, (key, row)


def test_every_staged_row_gives_a_lab_entry_valid_for_the_engine(tmp_path: Path) -> None:
    resources = [observation(f"obs-{n}", code=code, **value) for n, (code, value, _) in enumerate(EVERY_TEST)]
    rows = rows_of(bundle_file(tmp_path, *resources))
    assert [row.action for row in rows] == ["stage"] * len(EVERY_TEST)
    case = base("sle-eligible")
    case["labs"] = [row.lab_entry() for row in rows]
    load_case(case)  # raises CaseError when an entry is not valid
    assert case["labs"][0] == {
        "test": "anc",
        "value": Decimal("2.4"),
        "unit": "10*3/uL",
        "collected": "2025-06-03",
    }


@pytest.mark.parametrize(
    "status, action, problems",
    [
        ("final", "stage", []),
        ("amended", "stage", []),
        ("corrected", "stage", []),
        ("preliminary", "wait", []),
        ("registered", "wait", []),
        ("entered-in-error", "skip", ["nothing-to-void"]),
        ("cancelled", "skip", ["unsupported-status"]),
        ("unknown", "skip", ["unsupported-status"]),
        ("withdrawn", "skip", ["unsupported-status"]),
        ("F", "skip", ["unsupported-status"]),  # an HL7 status is not a FHIR one
    ],
)
def test_every_status(tmp_path: Path, status: str, action: str, problems: list[str]) -> None:
    obs = observation(status=status, check=False, valueQuantity=quantity("12.9", "g/dL"))
    row = only_row(ndjson_file(tmp_path, obs))
    assert (row["action"], row["problems"]) == (action, ["unmatched-patient", *problems])
    assert row["value"] == "12.9"  # computed whatever the status


def test_versions_supersede_void_and_wait_within_a_file(tmp_path: Path) -> None:
    value = {"valueQuantity": quantity("12.9", "g/dL")}
    rows = run_file(
        ndjson_file(
            tmp_path,
            observation("a", version="1", status="preliminary", **value),
            observation("a", version="2", **value),
            observation("a", version="3", status="amended", **value),
            observation("a", version="3", status="amended", **value),
            observation("a", version="0", **value),  # an older version arriving late
            observation("a", version="4", status="entered-in-error", **value),
            observation("a", version="5", status="corrected", **value),
        )
    )["rows"]
    assert [(r["action"], [p for p in r["problems"] if p != "unmatched-patient"]) for r in rows] == [
        ("wait", []),
        ("stage", []),
        ("supersede", []),
        ("skip", ["duplicate"]),
        ("skip", ["outdated"]),
        ("void", []),
        ("stage", []),  # the earlier import was voided
    ]


def test_a_voided_result_of_another_patient_is_a_mismatch(tmp_path: Path) -> None:
    value = {"valueQuantity": quantity("12.9", "g/dL")}
    rows = run_file(
        ndjson_file(
            tmp_path,
            observation("a", version="1", mrn="H-1", **value),
            observation("a", version="2", mrn="H-2", status="amended", **value),
            observation("a", version="3", mrn="H-2", status="entered-in-error", **value),
        )
    )["rows"]
    assert [r["action"] for r in rows] == ["stage", "skip", "skip"]
    assert rows[1]["problems"] == ["unmatched-patient", "patient-mismatch"]
    assert rows[2]["problems"] == ["unmatched-patient", "patient-mismatch"]


def test_version_from_last_updated_and_from_content(tmp_path: Path) -> None:
    value = {"valueQuantity": quantity("12.90", "g/dL")}
    first = observation("a", version=None, meta={"lastUpdated": "2025-06-03T09:00:00+02:00"}, **value)
    earlier = observation(
        "a", version=None, meta={"lastUpdated": "2025-06-03T08:00:00Z"}, status="amended", **value
    )
    no_meta = observation("b", version=None, **value)
    changed = observation("b", version=None, status="amended", valueQuantity=quantity("12.8", "g/dL"))
    rows = run_file(ndjson_file(tmp_path, first, earlier, no_meta, dict(no_meta), changed))["rows"]
    assert rows[0]["source"] == "Observation/a/_history/2025-06-03T09:00:00+02:00"
    assert rows[0]["value_sent"] == "12.90" and rows[0]["value"] == "12.90"
    # 08:00Z is 1 hour after 09:00+02:00: not older, a correction.
    assert rows[1]["action"] == "supersede"
    assert rows[2]["source"].startswith("Observation/b/_history/sha256:") and len(rows[2]["source"]) == 42
    assert (rows[3]["source"], rows[3]["problems"][0]) == (rows[2]["source"], "duplicate")
    assert rows[4]["source"] != rows[2]["source"] and rows[4]["action"] == "supersede"


def test_content_hash_ignores_number_spelling_and_key_order(tmp_path: Path) -> None:
    a = observation("a", version=None, valueQuantity={"value": Decimal("8.10"), "unit": "g/dL"})
    b = observation("a", version=None, valueQuantity={"unit": "g/dL", "value": Decimal("8.1")})
    rows = run_file(ndjson_file(tmp_path, a, b))["rows"]
    assert rows[0]["source"] == rows[1]["source"]
    assert rows[1]["problems"][0] == "duplicate"


@pytest.mark.parametrize(
    "change",
    [
        {"status": None},
        {"status": 3},
        {"code": "718-7"},
        {"valueQuantity": "12.9 g/dL"},
        {"valueQuantity": None},
        {"valueQuantity": {"value": "1.2", "unit": "g/dL"}},
        {"valueQuantity": {"value": True, "unit": "g/dL"}},
    ],
)
def test_invalid_observation(tmp_path: Path, change: dict[str, Any]) -> None:
    obs = observation("x", check=False, valueQuantity=quantity("12.9", "g/dL"))
    obs.update(change)
    if change.get("status", "") is None:
        del obs["status"]
    row = only_row(ndjson_file(tmp_path, obs))
    assert row["source"] == "Observation/x/_history/1"
    assert row["action"] == "skip" and row["problems"] == ["invalid"]
    assert all(row[key] is None for key in row if key not in ("source", "action", "problems"))


def test_mistyped_elements_are_read_as_absent(tmp_path: Path) -> None:
    obs = observation(None, check=False, valueQuantity=quantity("12.9", "g/dL"))
    obs |= {"id": 17, "category": {"coding": []}, "effectiveDateTime": 20250603}
    row = only_row(ndjson_file(tmp_path, obs))
    assert row["source"] is None
    assert row["problems"] == ["no-id", "unmatched-patient", "no-date"]


def test_code_decides_not_the_category(tmp_path: Path) -> None:
    height = observation("h", code="8302-2", category=False, valueQuantity=quantity(165, "cm"))
    glucose = observation("g", code="2339-0", valueQuantity=quantity(94, "mg/dL"))
    oid = observation("o", check=False, valueQuantity=quantity(94, "mg/dL"))
    oid["code"] = {"coding": [{"system": "urn:oid:2.16.840.1.113883.6.1", "code": "718-7"}]}
    blood = observation("c", code="38483-4", valueQuantity=quantity(1, "mg/dL"))
    second = observation("s", valueQuantity=quantity(12, "g/dL"))
    second["code"]["coding"].insert(0, {"system": "http://loinc.org", "code": "0000-0"})
    rows = run_file(ndjson_file(tmp_path, height, glucose, oid, blood, second))["rows"]
    assert rows[0]["problems"] == ["not-a-lab"] and rows[0]["test"] is None and rows[0]["value_sent"] == "165"
    assert [r["problems"][0] for r in rows[1:4]] == ["unknown-code"] * 3
    assert rows[4]["test"] == "hemoglobin"


@pytest.mark.parametrize(
    "code, value, problems, shown",
    [
        ("718-7", {"valueQuantity": quantity(12, "g/dL", comparator="<")}, ["unknown-value"], "<12"),
        ("718-7", {"valueString": "12.9"}, ["unknown-value"], "12.9"),
        ("718-7", {"valueInteger": 12}, ["unknown-value"], None),
        ("718-7", {"dataAbsentReason": concept("urn:x", "not-performed")}, ["unknown-value"], None),
        ("718-7", {"valueQuantity": quantity(120, "/nL", ucum=False)}, ["unknown-unit"], "120"),
        ("2160-0", {"valueQuantity": quantity("0.072", "mmol/L")}, ["unknown-unit"], "0.072"),
        ("718-7", {"valueQuantity": quantity(129, "g/dL")}, ["implausible"], "129"),
        ("2160-0", {"valueQuantity": quantity(0, "mg/dL")}, ["implausible"], "0"),
        ("14682-9", {"valueQuantity": quantity(2653, "umol/L")}, ["implausible"], "2653"),
        ("29463-7", {"valueQuantity": quantity(19, "kg")}, ["implausible"], "19"),
        ("19872-1", {"valueQuantity": quantity(251, "%")}, ["implausible"], "251"),
        (
            "2157-6",
            {"valueQuantity": quantity(-1, "U/L"), "referenceRange": high("308", "U/L")},
            ["implausible"],
            "-1",
        ),
        ("2157-6", {"valueQuantity": quantity(512, "U/L")}, ["no-uln"], "512"),
        (
            "2157-6",
            {
                "valueQuantity": quantity(512, "U/L"),
                "referenceRange": high("308", "U/L") + high("200", "U/L"),
            },
            ["no-uln"],
            "512",
        ),
        (
            "2157-6",
            {"valueQuantity": quantity(512, "U/L"), "referenceRange": high("0.3", "ukat/L")},
            ["no-uln"],
            "512",
        ),
        ("2157-6", {"valueQuantity": quantity(512, "a very long unit text!")}, ["unknown-unit"], "512"),
        ("5196-1", {"valueQuantity": quantity("0.2", "{index}")}, ["unknown-value"], "0.2"),
        ("5196-1", {"valueString": "clumped"}, ["unknown-value"], "clumped"),
        (
            "5196-1",
            {"valueCodeableConcept": concept(SCT, "260373001")},
            ["unknown-value"],
            f"{SCT}|260373001",
        ),
        ("29615-2", {"valueQuantity": quantity(15, "[IU]/mL", comparator="<")}, ["unknown-value"], "<15"),
        ("29615-2", {"valueQuantity": quantity(0, "[IU]/mL")}, ["unknown-value"], "0"),
        ("29610-3", {"valueString": "<20 IU/mL detected"}, ["unknown-value"], "<20 IU/mL detected"),
        ("11259-9", {"valueCodeableConcept": concept(SCT, "10828004")}, ["unknown-value"], f"{SCT}|10828004"),
    ],
)
def test_values_that_cannot_be_recorded(
    tmp_path: Path, code: str, value: dict[str, Any], problems: list[str], shown: str | None
) -> None:
    row = only_row(ndjson_file(tmp_path, observation(code=code, check=False, **value)))
    assert row["problems"] == ["unmatched-patient", *problems]
    assert row["action"] == "skip"
    assert row["value_sent"] == shown
    if problems == ["unknown-value"]:
        assert (row["value"], row["unit"], row["uln"]) == (None, None, None)
    if problems == ["implausible"]:
        assert row["value"] is not None and row["unit"] is not None


def test_value_problems_only_for_accepted_statuses(tmp_path: Path) -> None:
    obs = observation(status="preliminary", effective=None, valueQuantity=quantity(129, "g/dL"))
    row = only_row(ndjson_file(tmp_path, obs))
    assert (row["action"], row["problems"]) == ("wait", ["unmatched-patient"])


@pytest.mark.parametrize(
    "effective, zone, collected",
    [
        ({"effectiveDateTime": "2025-06-02T20:30:00-05:00"}, "UTC", "2025-06-03"),
        ({"effectiveDateTime": "2025-06-02T20:30:00-05:00"}, "America/Chicago", "2025-06-02"),
        ({"effectiveDateTime": "2025-06-02T23:30:00Z"}, "Europe/Paris", "2025-06-03"),
        ({"effectiveDateTime": "2025-06-02T23:30:00"}, "Europe/Paris", "2025-06-02"),
        ({"effectiveDateTime": "2025-06-03"}, "Pacific/Kiritimati", "2025-06-03"),
        ({"effectiveInstant": "2025-06-02T22:00:00.123+00:00"}, "Asia/Tokyo", "2025-06-03"),
        ({"effectivePeriod": {"start": "2025-06-01T10:00:00Z", "end": "2025-06-05"}}, "UTC", "2025-06-01"),
        ({"effectivePeriod": {"end": "2025-06-05"}}, "UTC", None),
        ({"effectiveDateTime": "2025-06"}, "UTC", None),
        ({"effectiveDateTime": "2025-02-30"}, "UTC", None),
        ({"effectiveDateTime": "2025-06-03T24:00:00Z"}, "UTC", None),
        ({"effectiveDateTime": "2025-06-03T10:00:00+05:60"}, "UTC", None),
        ({"issued": "2025-06-03T11:42:10.513-05:00"}, "UTC", None),
    ],
)
def test_collection_dates(
    tmp_path: Path, effective: dict[str, Any], zone: str, collected: str | None
) -> None:
    obs = observation(effective=None, check=False, valueQuantity=quantity("12.9", "g/dL"), **effective)
    row = only_row(ndjson_file(tmp_path, obs), zone=zone)
    assert row["collected"] == collected
    assert ("no-date" in row["problems"]) == (collected is None)


def test_patients_from_references(tmp_path: Path) -> None:
    patient = {
        "resourceType": "Patient",
        "id": "p1",
        "identifier": [
            {"system": "urn:other", "value": "X-9"},
            {
                "type": {
                    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]
                },
                "system": MRN_SYSTEM,
                "value": "H-7",
            },
        ],
    }
    value = {"valueQuantity": quantity("12.9", "g/dL")}
    by_id = observation("a", **value)
    by_id["subject"] = {"reference": "Patient/p1"}
    absolute = observation("b", **value)
    absolute["subject"] = {"reference": "https://fhir.example.org/r4/Patient/p1"}
    conditional = observation("c", **value)
    conditional["subject"] = {"reference": "Patient?identifier=urn%3Aoid%3A1.2.3|H%2D8"}
    contained = observation("d", **value)
    contained["subject"] = {"reference": "#p1"}
    path = ndjson_file(tmp_path, by_id, absolute, conditional, contained, patient)
    rows = run_file(path)["rows"]
    assert [r["patient"] for r in rows] == [
        {"system": MRN_SYSTEM, "value": "H-7"},
        {"system": MRN_SYSTEM, "value": "H-7"},
        {"system": "urn:oid:1.2.3", "value": "H-8"},
        None,
    ]
    matched = run_file(path, participants={("urn:other", "X-9"): "S01-0001"})["rows"]
    assert matched[0]["participant"] == "S01-0001"
    assert matched[0]["patient"] == {"system": "urn:other", "value": "X-9"}
    assert matched[0]["problems"] == []


def test_bundle_patient_by_full_url_and_ignored_counts(tmp_path: Path) -> None:
    obs = observation("a", valueQuantity=quantity("12.9", "g/dL"))
    obs["subject"] = {"reference": "urn:uuid:1234"}
    data = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:1234",
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [{"system": MRN_SYSTEM, "value": "H-5"}],
                },
                "request": {"method": "POST", "url": "Patient"},
            },
            {"resource": obs},
            {"resource": {"resourceType": "OperationOutcome"}},
            {"resource": {"resourceType": "OperationOutcome"}},
            {"request": {"method": "DELETE", "url": "Observation/9"}},
        ],
    }
    from .helpers import dumps

    path = tmp_path / "b.json"
    path.write_text(dumps(data), encoding="utf-8")
    output = run_file(path)
    assert output["format"] == "fhir-bundle"
    assert output["rows"][0]["patient"] == {"system": MRN_SYSTEM, "value": "H-5"}
    assert output["ignored"] == {"(no resource)": "1", "OperationOutcome": "2", "Patient": "1"}
