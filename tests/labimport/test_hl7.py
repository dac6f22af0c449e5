"""HL7 v2.5.1 ORU^R01 messages written from the specification (README § 4 to 10)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import MRN_SYSTEM, hl7_file, hl7_message, only_row, rows_of, run_file

HB = {"code": "718-7", "value": "11.8", "unit": "g/dL^^UCUM"}


@pytest.mark.parametrize(
    "status, action, problems",
    [
        ("F", "stage", []),
        ("C", "stage", []),
        ("U", "stage", []),
        ("P", "wait", []),
        ("I", "wait", []),
        ("R", "wait", []),
        ("S", "wait", []),
        ("D", "skip", ["nothing-to-void"]),
        ("W", "skip", ["nothing-to-void"]),
        ("X", "skip", ["unsupported-status"]),
        ("N", "skip", ["unsupported-status"]),
        ("O", "skip", ["unsupported-status"]),
        ("", "skip", ["unsupported-status"]),
        ("final", "skip", ["unsupported-status"]),  # a FHIR status is not an HL7 one
    ],
)
def test_every_status(tmp_path: Path, status: str, action: str, problems: list[str]) -> None:
    row = only_row(hl7_file(tmp_path, hl7_message(HB | {"status": status})))
    assert (row["action"], row["problems"]) == (action, ["unmatched-patient", *problems])
    assert row["status"] == (status or None)
    assert row["source"] == "SLH|MSG1/1"
    assert row["patient"] == {"system": MRN_SYSTEM, "value": "H-1"}


EVERY_TEST = [
    (
        {"code": "751-8", "value": "2.4", "unit": "10*3/uL"},
        {"test": "anc", "value": "2.4", "unit": "10*3/uL"},
    ),
    ({"code": "753-4", "value": "2.4", "unit": "x10E3/uL"}, {"test": "anc", "unit": "x10E3/uL"}),
    ({"code": "26499-4", "value": "2400", "unit": "cells/uL"}, {"test": "anc", "unit": "cells/uL"}),
    ({"code": "731-0", "value": "0.9", "unit": "10*3/uL"}, {"test": "alc"}),
    (
        {"code": "732-8", "value": "1.0", "unit": "10\\S\\3/uL"},
        {"test": "alc", "value": "1.0", "unit": "10^3/uL"},
    ),
    ({"code": "26474-7", "value": "1000", "unit": "^cells/mm3"}, {"test": "alc", "unit_sent": "cells/mm3"}),
    ({"code": "777-3", "value": "210", "unit": "10*3/uL"}, {"test": "platelets"}),
    (
        {"code": "26515-7", "type": "SN", "value": "^210", "unit": "10E3/uL"},
        {"test": "platelets", "unit": "10^3/uL"},
    ),
    ({"code": "718-7", "value": "118", "unit": "g/L"}, {"test": "hemoglobin", "unit": "g/L"}),
    ({"code": "59260-0", "value": "7.3", "unit": "mmol/L"}, {"test": "hemoglobin", "unit": "mmol/L"}),
    ({"code": "2160-0", "value": "1.02", "unit": "mg/dL"}, {"test": "creatinine", "value": "1.02"}),
    ({"code": "14682-9", "value": "90", "unit": "\u00b5mol/L"}, {"test": "creatinine", "unit": "umol/L"}),
    ({"code": "29463-7", "value": "132", "unit": "lbs"}, {"test": "weight", "unit": "lb"}),
    ({"code": "2157-6", "value": "512", "unit": "U/L", "range": "39-308"}, {"test": "ck", "uln": "308"}),
    (
        {"code": "1761-6", "value": "0.1", "unit": "ukat/L", "range": "<= 0.13"},
        {"test": "aldolase", "uln": "0.13"},
    ),
    ({"code": "1988-5", "value": "12", "unit": "mg/L", "range": "<5"}, {"test": "crp", "uln": "5"}),
    ({"code": "30522-7", "value": "3.1", "unit": "mg/L", "range": "0 - 3"}, {"test": "crp", "uln": "3"}),
    ({"code": "19872-1", "value": "78", "unit": "%"}, {"test": "fvc_pct_pred"}),
    (
        {"code": "5130-0", "value": "45", "unit": "[IU]/mL", "range": "<30"},
        {"test": "anti_dsdna", "uln": "30"},
    ),
    ({"code": "31348-6", "type": "ST", "value": "POSITIVE"}, {"test": "anti_dsdna", "value": "positive"}),
    (
        {"code": "11090-8", "type": "CWE", "value": "10828004^Positive^SCT"},
        {"test": "anti_sm", "value": "positive"},
    ),
    ({"code": "29374-6", "type": "CE", "value": "X^Negative^L"}, {"test": "anti_rnp", "value": "negative"}),
    (
        {"code": "105555-7", "value": "8", "unit": "AU/mL", "range": "0-20"},
        {"test": "anti_tif1g", "uln": "20"},
    ),
    (
        {"code": "107562-1", "type": "TX", "value": "Borderline"},
        {"test": "anti_tif1g", "value": "indeterminate"},
    ),
    (
        {"code": "2106-3", "type": "CNE", "value": "LA6577-6^Negative^LN"},
        {"test": "pregnancy_test", "specimen": "urine", "value": "negative"},
    ),
    (
        {"code": "2118-8", "type": "CWE", "value": "N^Neg^L^260385009^Negative^SCT"},
        {"test": "pregnancy_test", "specimen": "serum", "value": "negative"},
    ),
    (
        {"code": "5196-1", "type": "CWE", "value": "260385009^Negative^SCT"},
        {"test": "hbsag", "value": "negative"},
    ),
    ({"code": "5195-3", "type": "ST", "value": "Non-reactive"}, {"test": "hbsag", "value": "negative"}),
    ({"code": "16933-4", "type": "CWE", "value": "131194007^Non-reactive^SCT"}, {"test": "anti_hbc"}),
    ({"code": "13952-7", "type": "FT", "value": "non reactive"}, {"test": "anti_hbc", "value": "negative"}),
    ({"code": "29610-3", "type": "CWE", "value": "260415000^Not detected^SCT"}, {"test": "hbv_dna"}),
    (
        {"code": "29615-2", "type": "NM", "value": "180", "unit": "[IU]/mL"},
        {"test": "hbv_dna", "value": "detected"},
    ),
    (
        {"code": "42595-9", "type": "SN", "value": "=^180", "unit": "[IU]/mL"},
        {"test": "hbv_dna", "value": "detected"},
    ),
    (
        {"code": "16128-1", "type": "CWE", "value": "LA15255-5^Reactive^LN"},
        {"test": "hcv_ab", "value": "positive"},
    ),
    ({"code": "13955-0", "type": "ST", "value": "negative"}, {"test": "hcv_ab", "value": "negative"}),
    (
        {"code": "11259-9", "type": "ST", "value": "Not  Detected"},
        {"test": "hcv_rna", "value": "not_detected"},
    ),
    (
        {"code": "11011-4", "type": "CWE", "value": "260373001^Detected^SCT"},
        {"test": "hcv_rna", "value": "detected"},
    ),
    (
        {"code": "20416-4", "type": "CWE", "value": "LA11882-0^Detected^LN"},
        {"test": "hcv_rna", "value": "detected"},
    ),
    ({"code": "56888-1", "type": "ST", "value": "Nonreactive"}, {"test": "hiv_ag_ab", "value": "negative"}),
]


@pytest.mark.parametrize("obx, expected", EVERY_TEST, ids=[o["code"] for o, _ in EVERY_TEST])
def test_every_lab_test_stages(tmp_path: Path, obx: dict[str, str], expected: dict[str, str]) -> None:
    row = only_row(hl7_file(tmp_path, hl7_message(obx)))
    assert (row["action"], row["problems"]) == ("stage", ["unmatched-patient"]), row
    for key, wanted in expected.items():
        assert row[key] == wanted, (key, row)


def test_every_staged_row_gives_a_lab_entry_valid_for_the_engine(tmp_path: Path) -> None:
    from screening.criteria import load_case
    from tests.engine.helpers import base

    messages = [hl7_message(obx, control=f"M{n}", order=str(n)) for n, (obx, _) in enumerate(EVERY_TEST)]
    rows = rows_of(hl7_file(tmp_path, *messages))
    assert [row.action for row in rows] == ["stage"] * len(EVERY_TEST)
    case = base("sle-eligible")
    case["labs"] = [row.lab_entry() for row in rows]
    load_case(case)


@pytest.mark.parametrize("end", ["\r", "\n", "\r\n", "\r\n\r\n"])
def test_segment_ends(tmp_path: Path, end: str) -> None:
    message = hl7_message(HB, HB | {"code": "2160-0", "value": "1.05", "unit": "mg/dL"})
    output = run_file(hl7_file(tmp_path, message, end=end))
    assert output["refused"] is None
    assert [r["test"] for r in output["rows"]] == ["hemoglobin", "creatinine"]


def test_latin1_when_declared_and_refused_otherwise(tmp_path: Path) -> None:
    message = hl7_message(HB | {"type": "ST", "code": "5196-1", "value": "n\u00e9gatif"})
    message[0] += "|||AL|NE||8859/1"
    row = only_row(hl7_file(tmp_path, message, encoding="latin-1"))
    assert row["value_sent"] == "n\u00e9gatif"
    message[0] = message[0].removesuffix("8859/1")
    output = run_file(hl7_file(tmp_path, message, encoding="latin-1"))
    assert output["rows"] == [] and "UTF-8" in output["refused"]


def test_other_messages_are_counted_and_envelopes_skipped(tmp_path: Path) -> None:
    adt = hl7_message(kind="ADT^A08^ADT_A01", control="A1")
    path = hl7_file(tmp_path, ["FHS|^~\\&", "BHS|^~\\&"], adt, hl7_message(HB), adt, ["BTS|3", "FTS|1"])
    output = run_file(path)
    assert output["ignored"] == {"ADT^A08": "2"}
    assert len(output["rows"]) == 1


@pytest.mark.parametrize(
    "segments, message",
    [
        (["BHS|^~\\&", "PID|1||H-1", *hl7_message(HB)], "before the first MSH"),
        (["MSH|^"], "too short"),
    ],
)
def test_refused_hl7(tmp_path: Path, segments: list[str], message: str) -> None:
    output = run_file(hl7_file(tmp_path, segments))
    assert output["format"] == "hl7v2" and output["rows"] == []
    assert message in output["refused"]


def test_correction_deletion_and_final_of_a_preliminary_across_messages(tmp_path: Path) -> None:
    first = hl7_message(
        HB,
        {"code": "2160-0", "value": "1.05", "unit": "mg/dL", "range": "0.59-1.04", "status": "P"},
        control="M1",
    )
    second = hl7_message(
        HB | {"value": "11.9", "status": "C"},
        {"code": "2160-0", "value": "", "unit": "", "status": "U"},
        HB | {"status": "D", "sub": "2"},
        control="M2",
        reported="20250604090000-0500",
    )
    rows = run_file(hl7_file(tmp_path, first, second))["rows"]
    assert [r["action"] for r in rows] == ["stage", "wait", "supersede", "stage", "skip"]
    # The U row takes the preliminary value, and keeps its own status and source.
    assert (rows[3]["value_sent"], rows[3]["value"], rows[3]["unit"]) == ("1.05", "1.05", "mg/dL")
    assert (rows[3]["status"], rows[3]["source"]) == ("U", "SLH|M2/2")
    # OBX-4 names another result of the order: nothing to delete.
    assert rows[4]["problems"] == ["unmatched-patient", "nothing-to-void"]


def test_an_older_message_arriving_late_is_outdated(tmp_path: Path) -> None:
    new = hl7_message(HB | {"status": "C"}, control="M2", reported="20250604090000-0500")
    old = hl7_message(HB, control="M1", reported="20250603090000-0500")
    rows = run_file(hl7_file(tmp_path, new, old))["rows"]
    assert [r["action"] for r in rows] == ["stage", "skip"]
    assert rows[1]["problems"] == ["unmatched-patient", "outdated"]


@pytest.mark.parametrize(
    "obx, values",
    [
        (HB | {"value": "1,8"}, {"value_sent": "1,8", "value": None, "problems": ["unknown-value"]}),
        (HB | {"value": ".5"}, {"value": None, "problems": ["unknown-value"]}),
        (HB | {"value": "+11."}, {"value_sent": "+11.", "value": "11", "problems": []}),
        (HB | {"type": "SN", "value": "<^0.5"}, {"value_sent": "<^0.5", "problems": ["unknown-value"]}),
        (HB | {"type": "SN", "value": "^10^-^12"}, {"value": None, "problems": ["unknown-value"]}),
        (HB | {"value": "11~12"}, {"value_sent": None, "problems": ["unknown-value"]}),
        (HB | {"value": "11.8", "unit": ""}, {"unit": None, "unit_sent": None, "problems": ["unknown-unit"]}),
        (HB | {"unit": "^g/dL"}, {"unit_sent": "g/dL", "unit": "g/dL", "problems": []}),
        (HB | {"collected": ""}, {"collected": "2025-06-03", "problems": []}),
        (HB | {"collected": "2025"}, {"collected": "2025-06-03", "problems": []}),
        (HB | {"collected": "202506032345"}, {"collected": "2025-06-03", "problems": []}),
        (HB | {"collected": "202506032030-0500"}, {"collected": "2025-06-04", "problems": []}),
        (
            {"code": "2157-6", "value": "512", "unit": "U/L", "range": ">5"},
            {"uln": None, "problems": ["no-uln"]},
        ),
        ({"code": "2157-6", "value": "512", "unit": "U/L", "range": "0-0"}, {"problems": ["no-uln"]}),
        ({"code": "57022-6", "value": "1"}, {"test": None, "problems": ["unknown-code"]}),
    ],
)
def test_values_units_ranges_and_dates(
    tmp_path: Path, obx: dict[str, str], values: dict[str, object]
) -> None:
    row = only_row(hl7_file(tmp_path, hl7_message(obx)))
    problems = values.pop("problems")
    assert [p for p in row["problems"] if p != "unmatched-patient"] == problems
    for key, wanted in values.items():
        assert row[key] == wanted, (key, row)


def test_codes_escapes_identifiers_and_sources(tmp_path: Path) -> None:
    message = hl7_message(
        {"code": "L123^Haemoglobin^99LAB^718-7^Hgb^LN", "value": "11.8", "unit": "g/dL"},
        {"code": "9999-9^Other^LN^718-7^Hgb^LN", "value": "11.8", "unit": "g/dL"},
        {"code": "5196-1", "type": "ST", "value": "Non\\T\\reactive"},
    )
    message[0] = message[0].replace("SLH^2.16.840.1.113883.3.7521^ISO", "^LABNET")
    message[1] = "PID|1||X\\S\\9^^^&urn:x&URI~H-3^^^&1.2.3&ISO^MR~7^^^HOSP||Doe"
    rows = run_file(hl7_file(tmp_path, message))["rows"]
    assert rows[0]["source"] == "LABNET|MSG1/1"
    assert rows[0]["test"] == "hemoglobin"
    assert rows[1]["test"] is None  # component 3 is not LN: component 4 is not tried
    assert rows[2]["value_sent"] == "Non\\T\\reactive" and rows[2]["value"] is None
    assert rows[0]["patient"] == {"system": "urn:oid:1.2.3", "value": "H-3"}
    matched = run_file(hl7_file(tmp_path, message), participants={("urn:x", "X^9"): "S01-0002"})["rows"]
    assert matched[0]["participant"] == "S01-0002"
    assert (
        run_file(hl7_file(tmp_path, message), participants={("HOSP", "7"): "S01-0003"})["rows"][0][
            "participant"
        ]
        == "S01-0003"
    )


def test_message_without_control_id_has_no_source(tmp_path: Path) -> None:
    message = hl7_message(HB, control="")
    row = only_row(hl7_file(tmp_path, message))
    assert row["source"] is None and row["problems"] == ["no-id", "unmatched-patient"]
