"""The result JSON of cases/README.md and a readable text report for coordinators."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from .canonical import c_encode, format_decimal
from .catalogue import REGISTRY
from .results import CriterionResult, Evaluation, Outcome

# Every criterion of every version (the catalogue module has registered them all).
_SECTION = {r.id: r.section for r in REGISTRY}


def _d(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


def criterion_to_json(r: CriterionResult) -> dict[str, Any]:
    return {
        "id": r.id,
        "outcome": str(r.outcome),
        "review_by": None if r.review_by is None else str(r.review_by),
        "reason": r.reason,
        "missing": list(r.missing),
        "valid_until": _d(r.valid_until),
        "eligible_from": _d(r.eligible_from),
        "repeat_from": _d(r.repeat_from),
        "evidence_digest": r.evidence_digest,
        "evidence": None if r.evidence is None else [dict(e) for e in r.evidence],
    }


def evaluation_to_json(ev: Evaluation) -> dict[str, Any]:
    """The result object of cases/README.md. Evidence values stay as recorded (Decimal numbers)."""
    return {
        "case_id": ev.case_id,
        "protocol_version": ev.protocol_version,
        "as_of": ev.as_of.isoformat(),
        "overall": str(ev.overall),
        "valid_until": _d(ev.valid_until),
        "eligible_from": _d(ev.eligible_from),
        "criteria": [criterion_to_json(r) for r in ev.criteria],
    }


def dumps(value: Any, indent: int | None = None) -> str:
    """JSON text with Decimal numbers written exactly (json.dumps cannot), non-ASCII kept as is.
    Compact text (no indent) comes from the C encoder, as `dumps_reference` writes it: every
    stored evaluation writes its case this way."""
    if indent is None:
        return c_encode(value, sort_keys=False, separators=(", ", ": "))
    return dumps_reference(value, indent)


def dumps_reference(value: Any, indent: int | None = None) -> str:
    """The writer by hand: indented text, and the definition the compact text is tested against."""
    out: list[str] = []
    _write(value, out, indent, 0)
    return "".join(out)


def _write(value: Any, out: list[str], indent: int | None, level: int) -> None:
    import json

    if value is None or isinstance(value, (bool, str, int)):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, Decimal):
        out.append(format_decimal(value))
    elif isinstance(value, date):
        out.append('"' + value.isoformat() + '"')
    elif isinstance(value, (dict, list, tuple)):
        is_dict = isinstance(value, dict)
        items: list[Any] = list(value.items()) if isinstance(value, dict) else list(value)
        open_, close = ("{", "}") if is_dict else ("[", "]")
        if not items:
            out.append(open_ + close)
            return
        pad = "" if indent is None else "\n" + " " * (indent * (level + 1))
        end = "" if indent is None else "\n" + " " * (indent * level)
        sep = "," if indent is not None else ", "
        out.append(open_)
        for i, item in enumerate(items):
            if i:
                out.append(sep)
            out.append(pad)
            if is_dict:
                key, val = item
                out.append(json.dumps(str(key), ensure_ascii=False) + ": ")
                _write(val, out, indent, level + 1)
            else:
                _write(item, out, indent, level + 1)
        out.append(end + close)
    else:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _group(cid: str) -> str:
    section = _SECTION.get(cid, "")
    if section.startswith("Exclusion"):
        return "Exclusion"
    if section == "Inclusion — all cohorts":
        return "Inclusion"
    return "Cohort"


def format_text(ev: Evaluation) -> str:
    """A per-criterion report: overall line, then inclusion, cohort and exclusion criteria."""
    head = f"{ev.case_id}: {ev.overall}"
    if ev.overall == "INELIGIBLE" and ev.eligible_from is not None:
        head += f" until {ev.eligible_from} (timing)"
    head += f" (as of {ev.as_of}, protocol {ev.protocol_version}"
    if ev.valid_until is not None:
        head += f", valid until {ev.valid_until}"
    head += ")"
    lines = [head]
    for group in ("Inclusion", "Cohort", "Exclusion"):
        rows = [r for r in ev.criteria if _group(r.id) == group]
        lines.append(f"  {group}:")
        for r in rows:
            outcome = str(r.outcome)
            if r.outcome is Outcome.REVIEW and r.review_by is not None:
                outcome += f" ({r.review_by})"
            line = f"    {outcome:<22} {r.id:<28} {r.reason}"
            extras = []
            if r.missing:
                extras.append("missing: " + ", ".join(r.missing))
            if r.valid_until is not None:
                extras.append(f"valid until {r.valid_until}")
            if r.eligible_from is not None:
                extras.append(f"eligible from {r.eligible_from}")
            if r.repeat_from is not None:
                extras.append(f"repeat from {r.repeat_from}")
            if r.evidence_digest is not None:
                extras.append(f"evidence digest {r.evidence_digest[:12]}…")
            if extras:
                line += " [" + "; ".join(extras) + "]"
            lines.append(line)
    return "\n".join(lines) + "\n"
