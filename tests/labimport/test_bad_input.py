"""Bad files are refused with a message, bad results are listed per row: never an exception."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from .helpers import dumps, observation, quantity, run_file

GOOD = observation("a", valueQuantity=quantity("12.9", "g/dL"))


def write(tmp_path: Path, content: bytes, name: str = "upload.json") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    "content, format, message",
    [
        (b"", None, "empty"),
        (b"  \n\t ", None, "empty"),
        (b"hello", None, "not a FHIR Bundle"),
        (b"[1, 2]", None, "not a FHIR Bundle"),
        (b'{"resourceType": "Bundle", "type": "collection", "entry": [', "fhir-ndjson", "line 1"),
        (b'{"resourceType": "Observation",\n "status": "final"}', "fhir-ndjson", "not a Bundle"),
        (b'{\n  "resourceType": "Patient"\n}\n', "fhir-ndjson", "not a Bundle"),
        (b'{"resourceType": "Bundle", "type": "document"}', "fhir-bundle", "document"),
        (b'{"resourceType": "Bundle", "type": "history", "entry": []}', "fhir-bundle", "history"),
        (
            b'{"resourceType": "Bundle", "type": "batch", "entry": [{"resource": {"id": "x"}}]}',
            "fhir-bundle",
            "entry 0",
        ),
        (
            b'{"resourceType": "Patient"}\n{"resourceType": "Bundle", "type": "batch"}\n',
            "fhir-ndjson",
            "line 2",
        ),
        (b'{"resourceType": "Patient"}\n\n[1]\n', "fhir-ndjson", "line 3"),
        (b'{"resourceType": "Patient"}\n{"id": "no type"}\n', "fhir-ndjson", "line 2"),
        (b'{"resourceType": "Patient"}\n{"resourceType": "Obs\xe9rvation"}\n', "fhir-ndjson", "line 2"),
        ('{"resourceType": "Bundle", "type": "batch", "id": "caf\u00e9"}'.encode("latin-1"), None, "UTF-8"),
    ],
)
def test_refused_files(tmp_path: Path, content: bytes, format: str | None, message: str) -> None:
    output = run_file(write(tmp_path, content))
    assert output["refused"] is not None and message in output["refused"], output["refused"]
    assert output["format"] == format
    assert output["rows"] == [] and output["ignored"] == {}


def test_a_bad_line_anywhere_refuses_the_whole_file(tmp_path: Path) -> None:
    lines = [dumps(observation(f"o{n}", valueQuantity=quantity("12.9", "g/dL"))) for n in range(50)]
    lines.insert(40, "not json")
    output = run_file(write(tmp_path, "\n".join(lines).encode(), "x.ndjson"))
    assert output["rows"] == [] and "line 41" in output["refused"]


def test_byte_order_mark_and_crlf_lines(tmp_path: Path) -> None:
    content = b"\xef\xbb\xbf" + (dumps(GOOD) + "\r\n\r\n" + '{"resourceType": "Patient"}\r\n').encode()
    output = run_file(write(tmp_path, content, "x.ndjson"))
    assert output["refused"] is None and output["format"] == "fhir-ndjson"
    assert len(output["rows"]) == 1 and output["ignored"] == {"Patient": "1"}


def test_ndjson_may_begin_with_blank_lines(tmp_path: Path) -> None:
    content = ("\n  \n" + dumps(GOOD) + "\n").encode()
    output = run_file(write(tmp_path, content, "x.ndjson"))
    assert output["format"] == "fhir-ndjson" and len(output["rows"]) == 1


def test_a_single_line_bundle(tmp_path: Path) -> None:
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": GOOD}]}
    output = run_file(write(tmp_path, dumps(bundle).encode()))
    assert output["format"] == "fhir-bundle" and len(output["rows"]) == 1


def test_a_100_mb_bundle_is_refused_by_its_size_without_being_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:
        handle.write(b'{"resourceType": "Bundle", "type": "collection", "entry": [')
        handle.truncate(100 * 1024 * 1024)  # sparse: 100 MB on paper
    tracemalloc.start()
    started = time.perf_counter()
    output = run_file(path)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "bytes" in output["refused"] and output["rows"] == []
    assert peak < 1024 * 1024 and elapsed < 1


def test_bad_results_are_rows_not_errors(tmp_path: Path) -> None:
    odd = [
        {"resourceType": "Observation"},
        {"resourceType": "Observation", "id": "x", "status": "final", "code": {"coding": "718-7"}},
        {"resourceType": "Observation", "id": "y", "status": "final", "code": {}, "subject": "Patient/1"},
        observation("z", check=False, valueQuantity={"unit": "g/dL"}, referenceRange="none", meta=[]),
        observation("w", check=False, valueCodeableConcept={"coding": [{"code": 5}, "x"]}, code="5196-1"),
        observation("v", check=False, valueQuantity=quantity("1E+2", "g/dL")),
        GOOD,
    ]
    output = run_file(write(tmp_path, "\n".join(dumps(r) for r in odd).encode(), "odd.ndjson"))
    assert output["refused"] is None
    assert [r["action"] for r in output["rows"]] == ["skip"] * 6 + ["stage"]
    assert output["rows"][0]["problems"] == ["invalid"]
    assert output["rows"][1]["problems"] == ["not-a-lab"]
    assert output["rows"][3]["problems"] == ["unmatched-patient", "unknown-value"]
    assert output["rows"][4]["problems"] == ["unmatched-patient", "unknown-value"]
    assert output["rows"][5]["problems"] == ["unmatched-patient", "implausible"]


def test_hl7_with_newlines_reads_like_carriage_returns(tmp_path: Path) -> None:
    from .helpers import LABS

    original = (LABS / "oru-r01.hl7").read_bytes()
    with_newlines = write(tmp_path, original.replace(b"\r", b"\n"), "lf.hl7")
    with_crlf = write(tmp_path, original.replace(b"\r", b"\r\n"), "crlf.hl7")
    expected = run_file(LABS / "oru-r01.hl7")
    for path in (with_newlines, with_crlf):
        output = run_file(path)
        assert output["rows"] == expected["rows"]
