"""Evidence as people read it: one row per item, and what changed between two rounds."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from participants.labels import (
    DATE_LABELS,
    agent_label,
    area_label,
    event_label,
    fact_label,
    lab_long_label,
    path_label,
    words,
)


@dataclass(frozen=True)
class EvidenceRow:
    review_key: str
    path: str
    date: str
    value: str
    unit: str
    uln: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.review_key, self.path)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return ", ".join(f"{words(k)}: {_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return " + ".join(_text(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def evidence_rows(evidence: list[dict[str, Any]] | None) -> list[EvidenceRow]:
    """Flatten the engine's [{"review_key", "evidence": [items]}] list; a review key with no items
    gets one row saying so (the biopsy exception with no biopsy on record)."""
    rows: list[EvidenceRow] = []
    for part in evidence or []:
        items = part.get("evidence") or []
        if not items:
            rows.append(EvidenceRow(part.get("review_key", ""), "(nothing on record)", "", "", "", ""))
        for item in items:
            rows.append(
                EvidenceRow(
                    review_key=part.get("review_key", ""),
                    path=str(item.get("path", "")),
                    date=_text(item.get("date")) or "undated",
                    value=_text(item.get("value")) or "not recorded",
                    unit=_text(item.get("unit")),
                    uln=_text(item.get("uln")),
                )
            )
    return rows


@dataclass(frozen=True)
class EvidenceChange:
    review_key: str
    path: str
    before: EvidenceRow | None
    after: EvidenceRow | None

    @property
    def kind(self) -> str:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        return "changed"


def evidence_changes(
    old: list[dict[str, Any]] | None, new: list[dict[str, Any]] | None
) -> list[EvidenceChange]:
    before = {r.key: r for r in evidence_rows(old)}
    after = {r.key: r for r in evidence_rows(new)}
    changes = []
    for key in [*before, *(k for k in after if k not in before)]:
        b, a = before.get(key), after.get(key)
        if b != a:
            changes.append(EvidenceChange(key[0], key[1], b, a))
    return changes


# --- The whole case, as the reviewer reads it ---


@dataclass(frozen=True)
class CaseRow:
    path: str  # the case path (labs.crp, facts.mrss): what a criterion names
    label: str
    value: str
    date: str
    read: bool  # the criterion under review reads it


@dataclass(frozen=True)
class CaseSection:
    title: str
    rows: list[CaseRow]


@dataclass(frozen=True)
class CaseView:
    """The screening case of the current evaluation, read-only and identified only by the
    screening number (age instead of the date of birth), with the records the criterion under
    review reads marked and the inputs it names that are not on record as open questions."""

    sections: list[CaseSection]
    open_questions: list[CaseRow]


def _age(birth: str | None, as_of: str | None) -> str:
    if not birth or not as_of:
        return ""
    b, a = date.fromisoformat(birth), date.fromisoformat(as_of)
    return str(a.year - b.year - ((a.month, a.day) < (b.month, b.day)))


def _lab_text(lab: dict[str, Any]) -> str:
    text = _text(lab.get("value"))
    if lab.get("unit"):
        text += f" {lab['unit']}"
    if lab.get("uln") is not None:
        text += f" (ULN {_text(lab['uln'])})"
    if lab.get("specimen"):
        text += f", {lab['specimen']}"
    return text


def case_view(case: dict[str, Any], reads: Iterable[str]) -> CaseView:
    read = set(reads)

    def row(path: str, label: str, value: str, when: str = "") -> CaseRow:
        return CaseRow(path, label, value, when, path in read)

    dates = case.get("dates", {})
    people = [
        row("cohort", "Cohort", _text(case.get("cohort"))),
        row("lupus_nephritis", "Lupus nephritis", _text(case.get("lupus_nephritis"))),
        row("sex", "Sex assigned at birth", _text(case.get("sex"))),
        row("birth_date", "Age at the as-of date", _age(case.get("birth_date"), dates.get("as_of"))),
    ]
    people = [r for r in people if r.value]
    date_rows = [
        row(f"dates.{k}", label, _text(dates.get(k))) for k, label in DATE_LABELS.items() if dates.get(k)
    ]
    labs = [
        row(f"labs.{lab['test']}", lab_long_label(lab["test"]), _lab_text(lab), _text(lab.get("collected")))
        for lab in case.get("labs", [])
    ]
    facts = []
    for key, value in case.get("facts", {}).items():
        dated = isinstance(value, dict) and "value" in value
        facts.append(
            row(
                f"facts.{key}",
                fact_label(key),
                _text(value["value"] if dated else value),
                _text(value.get("date")) if dated else "",
            )
        )
    therapies = [
        row(
            f"therapies.{t.get('agent', '')}",
            agent_label(t.get("agent", ""), t.get("name", "")),
            "ongoing" if t.get("ongoing") else f"last dose {_text(t.get('last_dose')) or 'not recorded'}",
            f"from {_text(t.get('start'))}" if t.get("start") else "",
        )
        for t in case.get("therapies", [])
    ]
    events = [
        row(
            f"events.{e.get('kind', '')}",
            event_label(e.get("kind", "")),
            _text({k: v for k, v in e.items() if k not in ("kind", "date")}) or "recorded",
            _text(e.get("date")),
        )
        for e in case.get("events", [])
    ]
    reviewed = [row(f"reviewed.{a}", area_label(a), "taken in full") for a in case.get("reviewed", [])]
    sections = [
        CaseSection(title, rows)
        for title, rows in (
            ("Participant", people),
            ("Dates", date_rows),
            ("Lab results", labs),
            ("Scores, findings and attestations", facts),
            ("Therapies", therapies),
            ("Events", events),
            ("Histories taken in full", reviewed),
        )
    ]
    on_record = {r.path for s in sections for r in s.rows if r.value not in ("", "not recorded")}
    # An input the criterion names that nobody has answered (events: absence is an answer once
    # the history is taken, so only labs, facts and dates count).
    open_questions = [
        CaseRow(path, path_label(path), "not answered", "", True)
        for path in sorted(read, key=lambda p: (p.split(".")[0], p))
        if path.split(".")[0] in ("labs", "facts", "dates") and path not in on_record
    ]
    return CaseView(sections, open_questions)
