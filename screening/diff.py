"""What changed between two stored evaluations: the overall status, each criterion's outcome, and
the inputs of their stored cases (DESIGN.md: "ANC 900 → 1200: inc.heme.anc FAIL → PASS; overall →
ELIGIBLE"). Pure: it reads only what is passed in (for Evaluation objects, their prefetched results)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from participants.labels import (
    DATE_LABELS,
    agent_label,
    area_label,
    event_label,
    fact_label,
    humanize,
    lab_label,
    words,
)
from screening.criteria.vocabulary import unit_label

if TYPE_CHECKING:
    from screening.models import Evaluation

# The summary line names at most this many inputs and criteria; the full lists are in the diff.
SUMMARY_ITEMS = 4


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the diff reads of one evaluation."""

    overall: str
    outcomes: Mapping[str, str]  # criterion id → outcome, in catalogue order
    case: Mapping[str, Any]
    protocol_version: str = ""
    engine_version: str = ""


@dataclass(frozen=True, slots=True)
class InputChange:
    section: str  # labs, facts, therapies, events, dates, reviewed, participant, adjudications, version
    label: str
    before: str | None
    after: str | None

    @property
    def kind(self) -> str:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        return "changed"

    @property
    def text(self) -> str:
        if self.section == "reviewed":
            if self.after is not None:
                return f"history of {self.label} confirmed complete"
            return f"confirmation of the {self.label} history withdrawn"
        if self.before is None:
            return f"{self.label} {self.after} (new)"
        if self.after is None:
            return f"{self.label} {self.before} (removed)"
        return f"{self.label} {self.before} → {self.after}"


@dataclass(frozen=True, slots=True)
class OutcomeChange:
    criterion_id: str
    before: str | None  # None: the criterion did not exist in the earlier evaluation
    after: str | None

    @property
    def text(self) -> str:
        return f"{self.criterion_id} {self.before or '—'} → {self.after or '—'}"


@dataclass(frozen=True, slots=True)
class EvaluationDiff:
    overall_before: str | None  # None for the first evaluation
    overall_after: str
    inputs: tuple[InputChange, ...]
    outcomes: tuple[OutcomeChange, ...]
    as_of_before: str | None
    as_of_after: str | None

    @property
    def first(self) -> bool:
        return self.overall_before is None

    @property
    def overall_changed(self) -> bool:
        return self.overall_before != self.overall_after

    @property
    def summary(self) -> str:
        """One line: inputs, then the criteria they moved, then the overall status if it moved."""
        if self.first:
            return f"First evaluation: overall {self.overall_after}"
        if self.inputs:
            cause = _capped([c.text for c in self.inputs], "input")
        elif self.as_of_before != self.as_of_after:
            cause = f"no data change; as of {self.as_of_before} → {self.as_of_after}"
        else:
            cause = "no data change"
        effects = _capped([c.text for c in self.outcomes], "criterion", "criteria")
        line = f"{cause}: {effects}" if effects else f"{cause}: no criterion changed"
        if self.overall_changed:
            line += f"; overall → {self.overall_after}"
        return line[:1].upper() + line[1:]


def _capped(items: list[str], noun: str, plural: str | None = None) -> str:
    if len(items) <= SUMMARY_ITEMS:
        return ", ".join(items)
    rest = len(items) - SUMMARY_ITEMS + 1
    shown = items[: SUMMARY_ITEMS - 1]
    return ", ".join(shown) + f" and {rest} more {plural or noun + 's'}"


def snapshot(evaluation: Evaluation, outcomes: Mapping[str, str] | None = None) -> Snapshot:
    """A stored evaluation as the diff reads it: its outcomes as given (criterion id → outcome, in
    catalogue order), else from its results (which must be prefetched to avoid a query)."""
    if outcomes is None:
        results = sorted(evaluation.results.all(), key=lambda r: r.position)
        outcomes = {r.criterion_id: r.outcome for r in results}
    return Snapshot(
        overall=evaluation.overall,
        outcomes=outcomes,
        case=json.loads(evaluation.case_json, parse_float=Decimal),
        protocol_version=evaluation.protocol_version,
        engine_version=evaluation.engine_version,
    )


def diff_evaluations(before: Evaluation | None, after: Evaluation) -> EvaluationDiff:
    return diff_snapshots(None if before is None else snapshot(before), snapshot(after))


def diff_snapshots(before: Snapshot | None, after: Snapshot) -> EvaluationDiff:
    as_of_after = after.case.get("dates", {}).get("as_of")
    if before is None:
        return EvaluationDiff(None, after.overall, (), (), None, as_of_after)
    return EvaluationDiff(
        overall_before=before.overall,
        overall_after=after.overall,
        inputs=tuple(_version_changes(before, after)) + tuple(case_changes(before.case, after.case)),
        outcomes=tuple(outcome_changes(before.outcomes, after.outcomes)),
        as_of_before=before.case.get("dates", {}).get("as_of"),
        as_of_after=as_of_after,
    )


def outcome_changes(before: Mapping[str, str], after: Mapping[str, str]) -> Iterable[OutcomeChange]:
    for cid in [*after, *(c for c in before if c not in after)]:
        if before.get(cid) != after.get(cid):
            yield OutcomeChange(cid, before.get(cid), after.get(cid))


def _version_changes(before: Snapshot, after: Snapshot) -> Iterable[InputChange]:
    if before.protocol_version != after.protocol_version:
        yield InputChange("version", "protocol", before.protocol_version, after.protocol_version)
    if before.engine_version != after.engine_version:
        yield InputChange("version", "engine", before.engine_version, after.engine_version)


def case_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> Iterable[InputChange]:
    """The changed inputs of two screening cases (cases/README.md format), section by section."""
    for key in ("cohort", "lupus_nephritis", "sex", "birth_date"):
        yield from _compare("participant", humanize(key), _fmt(before.get(key)), _fmt(after.get(key)))
    b_dates, a_dates = before.get("dates", {}), after.get("dates", {})
    for key in DATE_LABELS:
        if key != "as_of":
            yield from _compare("dates", DATE_LABELS[key], b_dates.get(key), a_dates.get(key))
    yield from _labs(before.get("labs", []), after.get("labs", []))
    b_facts, a_facts = before.get("facts", {}), after.get("facts", {})
    for key in sorted(set(b_facts) | set(a_facts)):
        yield from _compare("facts", fact_label(key), _fact(b_facts.get(key)), _fact(a_facts.get(key)))
    yield from _keyed("therapies", before.get("therapies", []), after.get("therapies", []), _therapy)
    yield from _keyed("events", before.get("events", []), after.get("events", []), _event)
    b_rev, a_rev = set(before.get("reviewed", [])), set(after.get("reviewed", []))
    for area in sorted(b_rev ^ a_rev):
        yield InputChange(
            "reviewed",
            area_label(area),
            "complete" if area in b_rev else None,
            "complete" if area in a_rev else None,
        )
    yield from _keyed(
        "adjudications", before.get("adjudications", []), after.get("adjudications", []), _adjudication
    )


def _compare(section: str, label: str, before: str | None, after: str | None) -> Iterable[InputChange]:
    if before != after:
        yield InputChange(section, label, before, after)


def _labs(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> Iterable[InputChange]:
    """Compare the latest result of each test: the one the engine reads (CRITERIA.md § 1.5)."""
    b, a = _latest(before), _latest(after)
    for test in sorted(set(b) | set(a), key=_lab_order):
        old, new = b.get(test), a.get(test)
        if old == new:
            continue
        label = lab_label(test)
        if old is None or new is None:
            entry = new or old
            assert entry is not None
            text = f"{_lab_value(entry, True)} ({entry['collected']})"
            yield InputChange("labs", label, None if old is None else text, None if new is None else text)
            continue
        same_unit = (old.get("unit"), old.get("uln")) == (new.get("unit"), new.get("uln"))
        old_text, new_text = _lab_value(old, not same_unit), _lab_value(new, not same_unit)
        if old_text == new_text:  # same value, redrawn or re-dated
            old_text, new_text = f"{old_text} ({old['collected']})", f"{new_text} ({new['collected']})"
        yield InputChange("labs", label, old_text, new_text)


_LAB_ORDER = ("anc", "platelets", "hemoglobin", "alc", "creatinine", "weight")


def _lab_order(test: str) -> tuple[int, str]:
    return (_LAB_ORDER.index(test) if test in _LAB_ORDER else len(_LAB_ORDER), test)


def _latest(labs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for lab in labs:  # listed by collection date; a later entry of the same date wins
        current = latest.get(lab["test"])
        if current is None or lab["collected"] >= current["collected"]:
            latest[lab["test"]] = lab
    return latest


def _lab_value(lab: Mapping[str, Any], with_unit: bool) -> str:
    text = _fmt(lab.get("value")) or ""
    if with_unit and lab.get("unit"):
        text += f" {unit_label(lab['unit'])}"
    if with_unit and lab.get("uln") is not None:
        text += f" (ULN {_fmt(lab['uln'])})"
    return text


def _fact(value: Any) -> str | None:
    if isinstance(value, dict) and "value" in value and "date" in value:
        return f"{_fmt(value['value'])} ({value['date']})"
    return _fmt(value)


def _therapy(t: Mapping[str, Any]) -> tuple[str, str]:
    label = f"{agent_label(t['agent'], t.get('agent_name', ''))} from {t['start']}"
    parts = ["ongoing" if t.get("ongoing") else "stopped"]
    if t.get("last_dose"):
        parts.append(f"last dose {t['last_dose']}")
    if t.get("stopped_for_intolerance"):
        parts.append("stopped for intolerance")
    if t.get("counts_as_immunosuppressant"):
        parts.append("proposed as immunosuppressant")
    return label, ", ".join(parts)


def _event(e: Mapping[str, Any]) -> tuple[str, str]:
    details = [f"{words(k)} {_fmt(v)}" for k, v in sorted(e.items()) if k not in ("kind", "date")]
    return f"{event_label(e['kind'])} on {e['date']}", ", ".join(details) or "recorded"


def _adjudication(a: Mapping[str, Any]) -> tuple[str, str]:
    return (
        f"{a['review_by'].upper() if a['review_by'] == 'eac' else 'Investigator'} decision on "
        f"{a['criterion']} ({a['date']})",
        str(a["decision"]),
    )


def _keyed(section: str, before: list[Any], after: list[Any], describe: Any) -> Iterable[InputChange]:
    """Entries matched by their label (agent and start, kind and date, ...): added, removed or changed."""
    b = _by_label(describe, before)
    a = _by_label(describe, after)
    for label in [*a, *(x for x in b if x not in a)]:
        yield from _compare(section, label, b.get(label), a.get(label))


def _by_label(describe: Any, entries: list[Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for entry in entries:
        label, value = describe(entry)
        n, unique = 2, label
        while unique in out:  # the same agent restarted on the same day, two events of one kind a day
            unique, n = f"{label} #{n}", n + 1
        out[unique] = value
    return out


def _fmt(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, float):
        return _fmt(Decimal(str(value)))
    if isinstance(value, dict):
        return ", ".join(f"{k} {_fmt(v)}" for k, v in value.items())
    if isinstance(value, list):
        return " + ".join(str(_fmt(v)) for v in value)
    return str(value)
