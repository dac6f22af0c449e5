"""Evidence as people read it: one row per item, and what changed between two rounds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from participants.labels import words


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
