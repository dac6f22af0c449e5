"""The kinds of clinical record, in one registry: every table and dispatch about record kinds
(the intake forms, their services, the case parts, the record lists and counts) is derived from
`RECORD_KINDS`, so a kind is added or changed in one place.

Only models are imported here: the forms and the services import this registry, and each looks up
its own members by the names kept here (`forms.record_form`, `services.record_service`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models

from .models import (
    Assessment,
    ClinicalEvent,
    ClinicalRecord,
    ConsentSignature,
    HistoryReview,
    LabResult,
    Therapy,
)


@dataclass(frozen=True)
class RecordType:
    """One kind of clinical record."""

    kind: str  # the URL segment and `RecordKind` value
    member: str  # the `RecordKind` member name
    model: type[ClinicalRecord]
    part: str  # the part of `case_builder.current_records` / `assemble` it feeds
    label: str  # one record, as the form and the record list name it
    list_label: str  # the kind's records, as the participant page counts them
    form_name: str  # the intake form in participants.forms
    service_name: str  # the service in participants.services that records the form's entry
    correctable_fields: tuple[str, ...]  # what services.correct_record may change
    # False: the browser withdraws such a record by voiding it, never by a correction form.
    corrected_in_browser: bool = True


RECORD_KINDS: dict[str, RecordType] = {
    t.kind: t
    for t in (
        RecordType(
            "lab",
            "LAB",
            LabResult,
            "labs",
            "Lab result",
            "Lab results",
            "LabForm",
            "record_lab",
            ("test", "value_number", "value_text", "unit", "uln", "specimen", "collected"),
        ),
        RecordType(
            "fact",
            "FACT",
            Assessment,
            "assessments",
            "Assessment",
            "Scores and attestations",
            "FactForm",
            "record_facts",
            ("key", "value", "date"),
        ),
        RecordType(
            "therapy",
            "THERAPY",
            Therapy,
            "therapies",
            "Therapy",
            "Prior therapies",
            "TherapyForm",
            "record_therapy",
            (
                "agent",
                "agent_name",
                "start",
                "last_dose",
                "ongoing",
                "stopped_for_intolerance",
                "counts_as_immunosuppressant",
            ),
        ),
        RecordType(
            "event",
            "EVENT",
            ClinicalEvent,
            "events",
            "Clinical event",
            "Clinical events",
            "EventForm",
            "record_event",
            ("kind", "date", "details"),
        ),
        RecordType(
            "history",
            "HISTORY",
            HistoryReview,
            "reviews",
            "History taken in full",
            "Histories confirmed complete",
            "HistoryForm",
            "confirm_histories",
            ("area",),
            corrected_in_browser=False,
        ),
    )
}

BY_MODEL: dict[type[ClinicalRecord], RecordType] = {t.model: t for t in RECORD_KINDS.values()}

# Clinical records kept like the others (voided with a reason, never deleted) that are no part of
# the screening case: the engine never reads them, and they have pages of their own (the consent
# page, docs/registration.md). A mistake is voided and entered again, never corrected.
OUTSIDE_THE_CASE: tuple[type[ClinicalRecord], ...] = (ConsentSignature,)

# The URL's record kind as choices (the pages' tabs list `RecordKind.choices`).
RecordKind = models.TextChoices(  # type: ignore[misc]
    "RecordKind", [(t.member, (t.kind, t.label)) for t in RECORD_KINDS.values()]
)


def of(record: ClinicalRecord) -> RecordType:
    """The kind of a record."""
    return BY_MODEL[type(record)]


def no_records() -> dict[str, list[Any]]:
    """An empty list for every case part."""
    return {t.part: [] for t in RECORD_KINDS.values()}
