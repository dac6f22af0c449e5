"""Enter a whole screening case (cases/README.md format) through the record services, as a
coordinator would through the forms: demo data, tests and the case round trip use it."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from . import services
from .models import (
    Assessment,
    ClinicalEvent,
    ClinicalRecord,
    HistoryReview,
    LabResult,
    Participant,
    Site,
    Therapy,
    User,
)


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def import_case(user: User, site: Site, case: dict[str, Any], *, initials: str = "") -> Participant:
    """Register the case's participant at `site` and record everything in it. Adjudications are
    decisions, not data: they are not imported. The case format has no initials: with `initials`
    the registration's duplicate check runs (and may refuse it, `services.PossibleDuplicate`)."""
    dates = case.get("dates", {})
    participant = services.register_participant(
        user,
        site=site,
        cohort=case["cohort"],
        sex=case["sex"],
        birth_date=date.fromisoformat(case["birth_date"]),
        initials=initials,
        lupus_nephritis=case.get("lupus_nephritis"),
        screening_start=_d(dates.get("screening_start")),
        icf_signed=_d(dates.get("icf_signed")),
        planned_enrollment=_d(dates.get("planned_enrollment")),
        planned_day0=_d(dates.get("planned_day0")),
    )
    return import_records(user, participant, case)


def import_records(user: User, participant: Participant, case: dict[str, Any]) -> Participant:
    """Record the case's labs, facts, therapies, events and histories for a registered participant."""
    for lab in case.get("labs", []):
        value = lab["value"]
        services.record_lab(
            user,
            participant,
            test=lab["test"],
            value=value if isinstance(value, str) else Decimal(str(value)),
            unit=lab.get("unit", ""),
            uln=None if lab.get("uln") is None else Decimal(str(lab["uln"])),
            specimen=lab.get("specimen", ""),
            collected=date.fromisoformat(lab["collected"]),
        )
    for key, value in case.get("facts", {}).items():
        if isinstance(value, dict) and "date" in value and "value" in value:
            services.record_assessment(
                user,
                participant,
                key=key,
                value=_plain(value["value"]),
                date=date.fromisoformat(value["date"]),
            )
        else:
            services.record_assessment(user, participant, key=key, value=_plain(value))
    for t in case.get("therapies", []):
        services.record_therapy(
            user,
            participant,
            agent=t["agent"],
            agent_name=t.get("agent_name", ""),
            start=date.fromisoformat(t["start"]),
            last_dose=_d(t.get("last_dose")),
            ongoing=t["ongoing"],
            stopped_for_intolerance=t.get("stopped_for_intolerance", False),
            counts_as_immunosuppressant=t.get("counts_as_immunosuppressant"),
        )
    for e in case.get("events", []):
        details = {k: _plain(v) for k, v in e.items() if k not in ("kind", "date")}
        services.record_event(
            user, participant, kind=e["kind"], date=date.fromisoformat(e["date"]), details=details
        )
    for area in case.get("reviewed", []):
        services.confirm_history(user, participant, area=area)
    participant.refresh_from_db()
    return participant


def _plain(value: Any) -> Any:
    """JSON-storable: a Decimal stays exact as text when it has a fraction, else becomes an int."""
    if isinstance(value, float):
        raise TypeError("case numbers must be parsed as Decimal")
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    return value


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def shift_case_dates(case: dict[str, Any], days: int) -> dict[str, Any]:
    """A copy of the case with every date moved by `days` (dates, collection and event dates,
    therapy periods, dated facts, date facts, adjudications): the timeline keeps its shape, so the
    engine gives the same result relative to the new as_of. The case_id is left as it is."""

    def shift(value: Any) -> Any:
        if isinstance(value, str) and _ISO_DATE.match(value):
            return (date.fromisoformat(value) + timedelta(days=days)).isoformat()
        if isinstance(value, dict):
            return {k: shift(v) for k, v in value.items()}
        if isinstance(value, list):
            return [shift(v) for v in value]
        return value

    return {k: (v if k == "case_id" else shift(v)) for k, v in case.items()}


def records_of_case(participant: Participant, case: dict[str, Any], user: User) -> list[ClinicalRecord]:
    """The records `import_case` would enter for the case, unsaved, for a bulk load (a seeded
    population): the same mapping from the case format to the record tables."""
    records: list[ClinicalRecord] = []
    common = {"participant": participant, "entered_by": user}
    for lab in case.get("labs", []):
        value = lab["value"]
        records.append(
            LabResult(
                **common,
                test=lab["test"],
                value_text=value if isinstance(value, str) else "",
                value_number=None if isinstance(value, str) else Decimal(str(value)),
                unit=lab.get("unit", ""),
                uln=None if lab.get("uln") is None else Decimal(str(lab["uln"])),
                specimen=lab.get("specimen", ""),
                collected=date.fromisoformat(lab["collected"]),
            )
        )
    for key, value in case.get("facts", {}).items():
        if isinstance(value, dict) and "date" in value and "value" in value:
            records.append(
                Assessment(
                    **common, key=key, value=_plain(value["value"]), date=date.fromisoformat(value["date"])
                )
            )
        else:
            records.append(Assessment(**common, key=key, value=_plain(value)))
    for t in case.get("therapies", []):
        records.append(
            Therapy(
                **common,
                agent=t["agent"],
                agent_name=t.get("agent_name", ""),
                start=date.fromisoformat(t["start"]),
                last_dose=_d(t.get("last_dose")),
                ongoing=t["ongoing"],
                stopped_for_intolerance=t.get("stopped_for_intolerance", False),
                counts_as_immunosuppressant=t.get("counts_as_immunosuppressant"),
            )
        )
    for e in case.get("events", []):
        details = {k: _plain(v) for k, v in e.items() if k not in ("kind", "date")}
        records.append(
            ClinicalEvent(**common, kind=e["kind"], date=date.fromisoformat(e["date"]), details=details)
        )
    for area in case.get("reviewed", []):
        records.append(HistoryReview(**common, area=area))
    return records
