"""Move a screening case in time: every date shifted by the same number of days, so that a worked
example dated in 2025 can be entered and evaluated as of today with the same meaning."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

_DATE_FIELDS = {"birth_date", "collected", "date", "start", "last_dose", "active_until"}


def _shift(value: str, days: int) -> str:
    return (date.fromisoformat(value) + timedelta(days=days)).isoformat()


def shift_case(case: dict[str, Any], days: int) -> dict[str, Any]:
    out = copy.deepcopy(case)
    out["birth_date"] = _shift(out["birth_date"], days)
    out["dates"] = {k: _shift(v, days) for k, v in out["dates"].items()}
    for section in ("labs", "therapies", "events", "adjudications"):
        for item in out.get(section, []):
            for k in _DATE_FIELDS & item.keys():
                item[k] = _shift(item[k], days)
    for key, value in out.get("facts", {}).items():
        if isinstance(value, dict) and "date" in value:
            value["date"] = _shift(value["date"], days)
        elif key.endswith("_date") and isinstance(value, str):
            out["facts"][key] = _shift(value, days)
    return out


def as_of_today(case: dict[str, Any], today: date) -> dict[str, Any]:
    """The case shifted so that its `as_of` is `today`."""
    return shift_case(case, (today - date.fromisoformat(case["dates"]["as_of"])).days)
