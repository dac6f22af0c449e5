"""Import lab results (FACTS.md § 4 vocabulary, the case format's lab objects plus the participant's
screening number) for existing participants: all rows are checked before any is kept.

Each row goes through participants.services.record_lab, i.e. through the engine's loader, inside one
transaction; a row it refuses rolls the whole import back. Errors name the row and the field."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet

from participants import services
from participants.models import Participant, User
from screening.criteria import CaseError
from screening.models import Trigger
from screening.reevaluation import reevaluation_trigger

ROW_FIELDS = ("screening_number", "test", "value", "unit", "collected", "uln", "specimen")
REQUIRED = ("screening_number", "test", "value", "collected")
MAX_ROWS = 5000
# Model field names in validation errors, as the case format names them.
FIELD_NAMES = {"value_number": "value", "value_text": "value"}

Errors = dict[str, list[str]]


@dataclass
class ImportResult:
    saved: int = 0
    participants: list[str] = field(default_factory=list)
    errors: Errors = field(default_factory=dict)
    # Rows naming a participant the caller may not write: answered like a missing resource.
    not_found: bool = False


def _add(errors: Errors, path: str, message: str) -> None:
    errors.setdefault(path, []).append(message)


def _parse_row(index: int, row: Any, errors: Errors) -> dict[str, Any] | None:
    at = f"rows/{index}"
    if not isinstance(row, dict):
        _add(errors, at, "Must be an object.")
        return None
    ok = True
    for name in sorted(set(row) - set(ROW_FIELDS)):
        _add(errors, f"{at}/{name}", "Unknown field.")
        ok = False
    for name in REQUIRED:
        if row.get(name) in (None, ""):
            _add(errors, f"{at}/{name}", "This field is required.")
            ok = False
    for name in ("screening_number", "test", "unit", "specimen"):
        if name in row and not isinstance(row[name], str):
            _add(errors, f"{at}/{name}", "Must be a string.")
            ok = False
    value = row.get("value")
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, Decimal, str))):
        _add(errors, f"{at}/value", "Must be a number or a result word (e.g. negative).")
        ok = False
    uln = row.get("uln")
    if uln is not None and (isinstance(uln, bool) or not isinstance(uln, (int, Decimal))):
        _add(errors, f"{at}/uln", "Must be a number.")
        ok = False
    collected: date | None = None
    if isinstance(row.get("collected"), str):
        try:
            collected = date.fromisoformat(row["collected"])
        except ValueError:
            _add(errors, f"{at}/collected", "Must be a date, YYYY-MM-DD.")
            ok = False
    elif row.get("collected") is not None:
        _add(errors, f"{at}/collected", "Must be a date, YYYY-MM-DD.")
        ok = False
    if not ok:
        return None
    return {
        "screening_number": row["screening_number"],
        "test": row["test"],
        "value": value if isinstance(value, str) else Decimal(value),
        "unit": row.get("unit") or "",
        "uln": None if uln is None else Decimal(uln),
        "specimen": row.get("specimen") or "",
        "collected": collected,
    }


def import_labs(user: User, scope: QuerySet[Participant], rows: Any) -> ImportResult:
    """Record every row or none. `scope`: the participants the user may write (site-scoped)."""
    result = ImportResult()
    if not isinstance(rows, list) or not rows:
        _add(result.errors, "rows", "Must be a non-empty list of lab results.")
        return result
    if len(rows) > MAX_ROWS:
        _add(result.errors, "rows", f"At most {MAX_ROWS} rows per request.")
        return result
    parsed = [_parse_row(i, row, result.errors) for i, row in enumerate(rows)]
    numbers = {p["screening_number"] for p in parsed if p}
    participants = {p.screening_number: p for p in scope.filter(screening_number__in=numbers)}
    for i, p in enumerate(parsed):
        if p and p["screening_number"] not in participants:
            _add(result.errors, f"rows/{i}/screening_number", "No participant with this number at your site.")
            result.not_found = True
    if result.errors:
        return result
    with transaction.atomic(), reevaluation_trigger(Trigger.IMPORT):
        for i, p in enumerate(parsed):
            assert p is not None
            participant = participants[p.pop("screening_number")]
            try:
                services.record_lab(user, participant, **p)
            except ValidationError as exc:  # RecordInvalid included: keyed by case-format field
                found = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
                for name, messages in found.items():
                    name = FIELD_NAMES.get(name, name)
                    path = f"rows/{i}" if name == NON_FIELD_ERRORS else f"rows/{i}/{name}"
                    for message in messages:
                        _add(result.errors, path, message)
            except CaseError as exc:
                for path, message in exc.errors:
                    _add(
                        result.errors, f"rows/{i}/{path.rsplit('/', 1)[-1]}" if path else f"rows/{i}", message
                    )
            except PermissionDenied:
                _add(
                    result.errors,
                    f"rows/{i}/screening_number",
                    "No participant with this number at your site.",
                )
                result.not_found = True
        if result.errors:
            transaction.set_rollback(True)  # nothing is kept, and no re-evaluation is queued
            return result
    result.saved = len(parsed)
    result.participants = sorted(participants)
    return result
