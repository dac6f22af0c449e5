"""Helpers of the lab import tests: the shared worked examples, hand-made FHIR and HL7 files, runs."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation

from labimport.dryrun import dry_run, write_json
from labimport.mapping import History
from labimport.reading import Identifier

REPO = Path(__file__).resolve().parents[2]
LABS = REPO / ".." / "shared" / "labs"
EXAMPLES = ("synthea-transaction.json", "observations.ndjson", "oru-r01.hl7")
MRN_SYSTEM = "urn:oid:2.16.840.1.113883.3.7521.1"
LAB_CATEGORY = [
    {
        "coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}
        ]
    }
]


def exact(text: str) -> Any:
    """JSON with every number kept as the text it was written with (`2.10` is not `2.1`)."""
    return json.loads(text, parse_float=str, parse_int=str)


def observation(
    obs_id: str | None = "obs-1",
    *,
    code: str = "718-7",
    status: str = "final",
    version: str | None = "1",
    mrn: str = "H-1",
    effective: str | None = "2025-06-03T08:15:00-05:00",
    category: bool = True,
    check: bool = True,
    **value: Any,
) -> dict[str, Any]:
    """A FHIR R4 Observation as JSON (checked against the fhir.resources R4B model unless check=False)."""
    data: dict[str, Any] = {"resourceType": "Observation", "status": status}
    if obs_id is not None:
        data["id"] = obs_id
    if version is not None:
        data["meta"] = {"versionId": version}
    if category:
        data["category"] = LAB_CATEGORY
    data["code"] = {"coding": [{"system": "http://loinc.org", "code": code}]}
    data["subject"] = {"identifier": {"system": MRN_SYSTEM, "value": mrn}}
    if effective is not None:
        data["effectiveDateTime"] = effective
    data.update(value)
    if check:
        Observation.model_validate(json.loads(json.dumps(data, default=str)))
    return data


def quantity(value: str | int, unit: str, *, ucum: bool = True, **more: Any) -> dict[str, Any]:
    q: dict[str, Any] = {"value": Decimal(str(value)), "unit": unit, **more}
    if ucum:
        q.update(system="http://unitsofmeasure.org", code=unit)
    return q


def concept(system: str, code: str, text: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"coding": [{"system": system, "code": code}]}
    if text:
        data["text"] = text
    return data


def dumps(data: Any) -> str:
    """JSON text with Decimals written as sent."""
    from labimport.dryrun import to_json

    return to_json(data)


def bundle_file(
    tmp_path: Path, *resources: dict[str, Any], kind: str = "collection", check: bool = True
) -> Path:
    data = {"resourceType": "Bundle", "type": kind, "entry": [{"resource": r} for r in resources]}
    if check:
        Bundle.model_validate(json.loads(dumps(data)))
    path = tmp_path / "bundle.json"
    path.write_text(dumps(data), encoding="utf-8")
    return path


def ndjson_file(tmp_path: Path, *resources: dict[str, Any]) -> Path:
    path = tmp_path / "results.ndjson"
    path.write_text("".join(dumps(r) + "\n" for r in resources), encoding="utf-8")
    return path


MSH = "MSH|^~\\&|LAB|SLH^2.16.840.1.113883.3.7521^ISO|ALLO329|S01|{sent}||{kind}|{control}|P|2.5.1"
PID = "PID|1||{mrn}^^^SLH&2.16.840.1.113883.3.7521.1&ISO^MR||Doe^Jane"
OBR = "OBR|1|PL-{order}^ALLO329|F-{order}^SLHLAB|{code}^Panel^LN|||202506030815-0500|||||||||||||||{reported}|||F"
OBX = "OBX|{n}|{type}|{code}^Test^LN|{sub}|{value}|{unit}|{range}||||{status}|||{collected}"


def hl7_message(
    *obx: dict[str, Any],
    control: str = "MSG1",
    mrn: str = "H-1",
    order: str = "1",
    sent: str = "20250603121500-0500",
    reported: str = "20250603121000-0500",
    kind: str = "ORU^R01^ORU_R01",
) -> list[str]:
    """One ORU^R01 message as segments; each obx dict fills the OBX template."""
    code = obx[0].get("code", "718-7") if obx else "718-7"
    segments = [
        MSH.format(sent=sent, kind=kind, control=control),
        PID.format(mrn=mrn),
        OBR.format(order=order, code=code, reported=reported),
    ]
    for n, fields in enumerate(obx, start=1):
        values = {"n": n, "type": "NM", "code": "718-7", "sub": "", "value": "", "unit": "", "range": ""}
        values |= {"status": "F", "collected": "202506030815-0500"} | fields
        segments.append(OBX.format(**values))
    return segments


def hl7_file(tmp_path: Path, *messages: list[str], end: str = "\r", encoding: str = "utf-8") -> Path:
    path = tmp_path / "results.hl7"
    path.write_bytes("".join(s + end for m in messages for s in m).encode(encoding))
    return path


def run_file(
    path: Path,
    *,
    zone: str = "UTC",
    participants: dict[tuple[str, str], str] | None = None,
    history: History | None = None,
) -> dict[str, Any]:
    """The dry run of a file without the database, parsed with exact numbers."""
    known = participants or {}

    def participant_of(identifier: Identifier) -> str | None:
        return known.get((identifier.system, identifier.value))

    run = dry_run(
        str(path),
        site="S01",
        zone=ZoneInfo(zone),
        zone_name=zone,
        participant_of=participant_of,
        history=history,
    )
    out = io.StringIO()
    write_json(run, out)
    return exact(out.getvalue())


def only_row(path: Path, **kwargs: Any) -> dict[str, Any]:
    output = run_file(path, **kwargs)
    assert output["refused"] is None, output["refused"]
    assert len(output["rows"]) == 1, output["rows"]
    row: dict[str, Any] = output["rows"][0]
    return row


def rows_of(path: Path, *, zone: str = "UTC", history: History | None = None) -> list[Any]:
    """The mapping rows (with their case-format lab entries) of a file, nothing matched."""
    run = dry_run(
        str(path),
        site="S01",
        zone=ZoneInfo(zone),
        zone_name=zone,
        participant_of=lambda i: None,
        history=history,
    )
    assert run.refused is None, run.refused
    return list(run.rows)
