"""What the intake forms are built from: fact groups and event fields, all derived
from the case-format vocabulary; and the live preview (what an unsaved entry would change)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from django.db import models
from django.utils import timezone

from participants.case_builder import assemble, current_records, current_records_many, exact
from participants.extensions import protocol_version_in_force
from screening.criteria import CRITERIA, CaseError
from screening.criteria.loader import schema
from screening.criteria.vocabulary import (
    EVENT_KINDS,
    FACT_KEYS,
    FACT_KEYS_BY_KEY,
    LAB_TESTS_BY_KEY,
    REVIEWED_AREAS,
    THERAPY_AGENTS,
    EventKind,
    FactKey,
    unit_label,
)

from .labels import humanize, words
from .models import (
    Assessment,
    ClinicalEvent,
    ClinicalRecord,
    HistoryReview,
    LabResult,
    Participant,
    Sex,
    Therapy,
)
from .preview import preview
from .records import RECORD_KINDS

# --- Fact groups ------------------------------------------------------------------------------


class FactGroup(models.TextChoices):
    ATTESTATIONS = "attestations", "Investigator attestations"
    STATEMENTS = "statements", "Participant statements and reproductive status"
    HISTORY = "history", "Medical history"
    COHORT = "cohort", "Disease scores and classification"


# What the participant states or what documents their reproductive status; the `inv_` prefix marks
# attestations (FACTS.md § 5); cohort facts form the cohort group; every other fact is history.
STATEMENT_KEYS = frozenset(
    {
        "childbearing_exemption",
        "male_sterile",
        "willing_contraception",
        "willing_able_to_comply",
        "refuses_transfusion",
        "breastfeeding",
        "plans_pregnancy_or_breastfeeding_12m",
        "plans_partner_pregnancy_6m",
        "willing_ltfu_15y",
    }
)
# Facts asked of one sex only (FACTS.md § 5.1: "females: …", "males: …").
SEX_OF_FACT = {
    "childbearing_exemption": Sex.FEMALE,
    "breastfeeding": Sex.FEMALE,
    "plans_pregnancy_or_breastfeeding_12m": Sex.FEMALE,
    "male_sterile": Sex.MALE,
    "plans_partner_pregnancy_6m": Sex.MALE,
}


def fact_group(fact: FactKey) -> FactGroup:
    if fact.key.startswith("inv_"):
        return FactGroup.ATTESTATIONS
    if fact.cohort is not None:
        return FactGroup.COHORT
    if fact.key in STATEMENT_KEYS:
        return FactGroup.STATEMENTS
    return FactGroup.HISTORY


# Facts of the lupus nephritis stratum only (FACTS.md § 5.2: "LN: …", read by sle.exc.ln_*).
LN_FACTS = frozenset({"inv_expected_rrt_within_12m", "inv_other_kidney_disease_confounding"})


def facts_for(participant: Participant) -> list[FactKey]:
    """The facts asked of this participant: their cohort's (and stratum's) and the common ones,
    for their sex."""
    return [
        f
        for f in FACT_KEYS
        if f.cohort in (None, participant.cohort)
        and SEX_OF_FACT.get(f.key, participant.sex) == participant.sex
        and (f.key not in LN_FACTS or participant.lupus_nephritis)
    ]


def group_facts(participant: Participant, group: str) -> list[FactKey]:
    return [f for f in facts_for(participant) if fact_group(f) == group]


def group_label(group: str, participant: Participant) -> str:
    if group == FactGroup.COHORT:
        return f"{participant.cohort} disease scores and classification"
    return str(FactGroup(group).label)


# --- Event kinds and reviewed areas ---------------------------------------------------------


@dataclass(frozen=True)
class EventField:
    """One field of an event kind, as the case schema defines it."""

    name: str
    type: str  # "bool", "int", "date", "text", "enum", "classes"
    required: bool
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None


# Kinds recorded only in one cohort (FACTS.md § 6: used by SLE or IIM criteria only).
COHORT_OF_KIND = {"dialysis": "SLE", "cns_lupus": "SLE", "kidney_biopsy": "SLE", "muscle_biopsy": "IIM"}


def kinds_for(participant: Participant) -> list[EventKind]:
    """Every event kind: the cohort's own first, then those recorded mainly in another cohort
    (a coordinator may know an IIM participant's dialysis or kidney biopsy)."""
    own = [k for k in EVENT_KINDS if COHORT_OF_KIND.get(k.kind, participant.cohort) == participant.cohort]
    return own + [k for k in EVENT_KINDS if k not in own]


def areas_for(participant: Participant) -> list[str]:
    """Every history area, the cohort's own first (as `kinds_for`)."""
    own = [a for a in REVIEWED_AREAS if COHORT_OF_KIND.get(a, participant.cohort) == participant.cohort]
    return own + [a for a in REVIEWED_AREAS if a not in own]


def area_label(area: str, cohort: str = "") -> str:
    """An event kind or history area; one read mainly in another cohort than `cohort` says which."""
    of = COHORT_OF_KIND.get(area)
    return humanize(area) + (f" ({of})" if of and of != cohort else "")


@cache
def event_fields(kind: str) -> tuple[EventField, ...]:
    """The kind's fields read from the case schema (types, choices, bounds), in EVENT_KINDS order."""
    spec = next(k for k in EVENT_KINDS if k.kind == kind)
    branch: dict[str, Any] = {}
    for rule in schema()["$defs"]["event"]["allOf"]:
        if rule["if"]["properties"]["kind"].get("const") == kind:
            branch = rule["then"]
    props: dict[str, Any] = branch.get("properties", {})
    fields = []
    for name in spec.fields:
        p = props.get(name, {})
        required = name in spec.required
        if p.get("type") == "boolean":
            fields.append(EventField(name, "bool", required))
        elif p.get("type") == "integer":
            fields.append(
                EventField(name, "int", required, minimum=p.get("minimum"), maximum=p.get("maximum"))
            )
        elif p.get("type") == "array":
            fields.append(EventField(name, "classes", required, choices=tuple(p["items"]["enum"])))
        elif "enum" in p:
            fields.append(EventField(name, "enum", required, choices=tuple(p["enum"])))
        elif p.get("$ref", "").endswith("/date"):
            fields.append(EventField(name, "date", required))
        else:
            fields.append(EventField(name, "text", required, max_length=p.get("maxLength")))
    return tuple(fields)


# --- Record summaries ----------------------------------------------------------------------------

_AGENT_LABELS = {a.key: a.label for a in THERAPY_AGENTS}


def _plain(value: Any) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, dict):
        return ", ".join(f"{humanize(k)} {v}" for k, v in value.items())
    if isinstance(value, list):
        return " + ".join(str(v) for v in value)
    return humanize(str(value)) if isinstance(value, str) and "_" in value else str(value)


def describe(record: ClinicalRecord) -> str:
    """A record as a coordinator reads it in a list."""
    if isinstance(record, LabResult):
        test = LAB_TESTS_BY_KEY.get(record.test)
        label = test.label if test else record.test
        if record.value_number is not None:
            value = f"{exact(record.value_number)} {unit_label(record.unit)}".strip()
            if record.uln is not None:
                value += f" (ULN {exact(record.uln)})"
        else:
            value = humanize(record.value_text)
        specimen = f", {record.specimen}" if record.specimen else ""
        return f"{label}: {value}{specimen}, collected {record.collected.isoformat()}"
    if isinstance(record, Assessment):
        fact = FACT_KEYS_BY_KEY.get(record.key)
        label = fact.meaning if fact else record.key
        when = f" (assessed {record.date.isoformat()})" if record.date else ""
        return f"{label}: {_plain(record.value)}{when}"
    if isinstance(record, Therapy):
        name = record.agent_name or _AGENT_LABELS.get(record.agent, record.agent)
        end = "ongoing" if record.ongoing else "stopped"
        last = f", last dose {record.last_dose.isoformat()}" if record.last_dose else ""
        extra = ", stopped for intolerance" if record.stopped_for_intolerance else ""
        return f"{name}: from {record.start.isoformat()}{last}, {end}{extra}"
    if isinstance(record, ClinicalEvent):
        details = "; ".join(f"{humanize(k)}: {_plain(v)}" for k, v in record.details.items())
        return f"{humanize(record.kind)} on {record.date.isoformat()}" + (f" ({details})" if details else "")
    if isinstance(record, HistoryReview):
        return f"History of {words(record.area)} taken in full"
    return str(record)


# --- Live preview ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionChange:
    id: str
    title: str
    before: str
    after: str
    reason: str
    missing: tuple[str, ...]


@dataclass(frozen=True)
class PreviewResult:
    before: str | None
    after: str | None
    changes: list[CriterionChange]
    errors: list[str]
    as_of: date


_TITLES = {c.id: c.title for c in CRITERIA}


def preview_change(
    participant: Participant,
    kind: str | None,
    unsaved: Iterable[ClinicalRecord] | Mapping[str, Iterable[ClinicalRecord]] = (),
    *,
    replaced: Iterable[int] = (),
    replaced_keys: Iterable[str] = (),
    changed_participant: Participant | None = None,
) -> PreviewResult:
    """Evaluate the current records, and the current records with the unsaved ones of `kind`
    (replacing the records `replaced`, or for facts the same keys) or with the participant's
    unsaved demographics and dates, as of today, and list what changes. With `kind` None,
    `unsaved` may map several kinds to their unsaved records (the visit form)."""
    as_of = timezone.localdate()
    records = current_records(participant)
    version = protocol_version_in_force(participant.site_id, as_of)
    changed = _with_unsaved(records, kind, unsaved, replaced, replaced_keys)
    return _compare(participant, changed_participant or participant, records, changed, as_of, version)


@dataclass(frozen=True)
class UnsavedRecords:
    """Records of one participant not yet saved, and the records on file they would replace."""

    participant: Participant
    unsaved: list[ClinicalRecord]
    replaced: list[int]


def preview_changes(kind: str, changes: Sequence[UnsavedRecords]) -> list[PreviewResult]:
    """preview_change for many participants at once (a lab file's review), with a constant number
    of queries: one per record kind for all of them, one per site for the protocol version."""
    as_of = timezone.localdate()
    records = current_records_many([c.participant.pk for c in changes])
    sites = {c.participant.site_id for c in changes}
    versions = {site: protocol_version_in_force(site, as_of) for site in sorted(sites)}
    shown = []
    for c in changes:
        mine = records[c.participant.pk]
        changed = _with_unsaved(mine, kind, c.unsaved, c.replaced, ())
        version = versions[c.participant.site_id]
        shown.append(_compare(c.participant, c.participant, mine, changed, as_of, version))
    return shown


def _with_unsaved(
    records: dict[str, list[Any]],
    kind: str | None,
    unsaved: Iterable[ClinicalRecord] | Mapping[str, Iterable[ClinicalRecord]],
    replaced: Iterable[int],
    replaced_keys: Iterable[str],
) -> dict[str, list[Any]]:
    changed = dict(records)
    by_kind: Mapping[str, Iterable[ClinicalRecord]] = (
        unsaved if isinstance(unsaved, Mapping) else ({kind: unsaved} if kind is not None else {})
    )
    drop_pks = set(replaced)
    drop_keys = set(replaced_keys)
    for each, new in by_kind.items():
        part = RECORD_KINDS[each].part
        changed[part] = [
            r
            for r in records[part]
            if r.pk not in drop_pks and not (isinstance(r, Assessment) and r.key in drop_keys)
        ] + list(new)
    return changed


def _compare(
    participant: Participant,
    changed_participant: Participant,
    records: dict[str, list[Any]],
    changed: dict[str, list[Any]],
    as_of: date,
    version: str,
) -> PreviewResult:
    before = preview(assemble(participant, as_of, **records, protocol_version=version))
    after = preview(assemble(changed_participant, as_of, **changed, protocol_version=version))
    errors = [f"{path}: {message}" if path else message for path, message in _errors(after.error)]
    changes: list[CriterionChange] = []
    if before.result is not None and after.result is not None:
        old = {r.id: r for r in before.result.criteria}
        for r in after.result.criteria:
            o = old.get(r.id)
            if o is None or o.outcome != r.outcome:
                changes.append(
                    CriterionChange(
                        r.id,
                        _TITLES.get(r.id, r.id),
                        str(o.outcome) if o else "—",
                        str(r.outcome),
                        r.reason,
                        r.missing,
                    )
                )
    return PreviewResult(
        before=str(before.result.overall) if before.result else None,
        after=str(after.result.overall) if after.result else None,
        changes=changes,
        errors=errors,
        as_of=as_of,
    )


def _errors(error: CaseError | None) -> list[tuple[str, str]]:
    return list(error.errors) if error is not None else []
