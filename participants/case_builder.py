"""The screening case of a participant, built from its current records (cases/README.md format).

The same document that `manage.py screen` reads: the web app, the JSON import and the command
line meet in one loader, so the engine sees the same thing whichever way the data came in."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from participants.extensions import protocol_version_in_force
from participants.models import (
    Assessment,
    ClinicalEvent,
    HistoryReview,
    LabResult,
    Participant,
    RecordState,
    Therapy,
)
from participants.records import RECORD_KINDS, no_records
from screening.criteria.vocabulary import FACT_KEYS_BY_KEY, FactType

Case = dict[str, Any]


def exact(value: Decimal) -> Decimal:
    """2100.00000000 → 2100: the stored scale is not part of the measurement."""
    text = format(value.normalize(), "f")
    return Decimal(text)


def lab_entry(lab: LabResult) -> dict[str, Any]:
    entry: dict[str, Any] = {"test": lab.test}
    entry["value"] = exact(lab.value_number) if lab.value_number is not None else lab.value_text
    if lab.unit:
        entry["unit"] = lab.unit
    if lab.uln is not None:
        entry["uln"] = exact(lab.uln)
    if lab.specimen:
        entry["specimen"] = lab.specimen
    entry["collected"] = lab.collected.isoformat()
    return entry


def fact_value(key: str, value: Any) -> Any:
    """Decimal facts are stored as strings (JSON floats would lose the exact value)."""
    spec = FACT_KEYS_BY_KEY.get(key)
    if spec is not None and spec.type is FactType.DECIMAL and isinstance(value, (str, int)):
        return Decimal(str(value))
    return value


def assessment_entry(a: Assessment) -> Any:
    value = fact_value(a.key, a.value)
    if a.date is not None:
        return {"value": value, "date": a.date.isoformat()}
    return value


def therapy_entry(t: Therapy) -> dict[str, Any]:
    entry: dict[str, Any] = {"agent": t.agent}
    if t.agent_name:
        entry["agent_name"] = t.agent_name
    entry["start"] = t.start.isoformat()
    if t.last_dose is not None:
        entry["last_dose"] = t.last_dose.isoformat()
    entry["ongoing"] = t.ongoing
    if t.stopped_for_intolerance:
        entry["stopped_for_intolerance"] = True
    if t.counts_as_immunosuppressant is not None:
        entry["counts_as_immunosuppressant"] = t.counts_as_immunosuppressant
    return entry


def event_entry(e: ClinicalEvent) -> dict[str, Any]:
    return {"kind": e.kind, "date": e.date.isoformat(), **e.details}


def header(participant: Participant, as_of: date, protocol_version: str | None = None) -> Case:
    case: Case = {
        "case_id": participant.screening_number,
        # Always named: the version the participant's site uses that day (decided by the
        # evaluation layer), never the engine's latest.
        "protocol_version": protocol_version or protocol_version_in_force(participant.site_id, as_of),
        "cohort": participant.cohort,
    }
    if participant.lupus_nephritis is not None:
        case["lupus_nephritis"] = participant.lupus_nephritis
    case["sex"] = participant.sex
    case["birth_date"] = participant.birth_date.isoformat()
    dates = {"as_of": as_of.isoformat()}
    for name in ("screening_start", "icf_signed", "planned_enrollment", "planned_day0"):
        value = getattr(participant, name)
        if value is not None:
            dates[name] = value.isoformat()
    case["dates"] = dates
    return case


def assemble(
    participant: Participant,
    as_of: date,
    *,
    labs: Iterable[LabResult],
    assessments: Iterable[Assessment],
    therapies: Iterable[Therapy],
    events: Iterable[ClinicalEvent],
    reviews: Iterable[HistoryReview],
    adjudications: Iterable[dict[str, Any]] = (),
    protocol_version: str | None = None,
) -> Case:
    """A case from records already in memory (the live preview adds the unsaved one). Without
    `protocol_version`, the one the participant's site uses on `as_of` (one query)."""
    case = header(participant, as_of, protocol_version)
    case["labs"] = [lab_entry(x) for x in sorted(labs, key=lambda x: (x.collected, x.pk or 0))]
    case["facts"] = {a.key: assessment_entry(a) for a in sorted(assessments, key=lambda a: a.key)}
    case["therapies"] = [therapy_entry(t) for t in sorted(therapies, key=lambda t: (t.start, t.pk or 0))]
    case["events"] = [event_entry(e) for e in sorted(events, key=lambda e: (e.date, e.pk or 0))]
    case["reviewed"] = sorted({r.area for r in reviews})
    case["adjudications"] = list(adjudications)
    return case


def current_records(participant: Participant) -> dict[str, list[Any]]:
    """The participant's current records, one query per record kind."""
    current = {"participant": participant, "state": RecordState.CURRENT}
    return {t.part: list(t.model.objects.filter(**current)) for t in RECORD_KINDS.values()}


def build_case(
    participant: Participant,
    as_of: date,
    *,
    adjudications: Iterable[dict[str, Any]] = (),
    protocol_version: str | None = None,
) -> Case:
    """The case from the participant's current records; the evaluation layer supplies the
    committee's decisions (`adjudications`), which are not records of the site."""
    return assemble(
        participant,
        as_of,
        **current_records(participant),
        adjudications=adjudications,
        protocol_version=protocol_version,
    )


def current_records_many(participant_ids: list[int]) -> dict[int, dict[str, list[Any]]]:
    """current_records for many participants: one query per record type for all of them. The
    records are read as named tuples of the fields the case reads (a kind's correctable fields,
    its own data, and `pk` for the order), not as model instances: the batch paths (the sweep,
    the impact report) build thousands of cases, and `assemble` reads only these attributes."""
    grouped = {pk: no_records() for pk in participant_ids}
    current = {"participant_id__in": participant_ids, "state": RecordState.CURRENT}
    for t in RECORD_KINDS.values():
        rows = t.model.objects.filter(**current).values_list(
            "pk", "participant_id", *t.correctable_fields, named=True
        )
        for row in rows:
            grouped[row.participant_id][t.part].append(row)
    return grouped
