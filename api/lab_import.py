"""Import lab results (FACTS.md § 4 vocabulary, the case format's lab objects plus the participant's
screening number) for existing participants: all rows are checked before any is kept.

Each row goes through participants.services.record_lab, i.e. through the engine's loader, inside one
transaction; a row it refuses rolls the whole import back. Errors name the row and the field.

A count below its implausibility floor (vocabulary.IMPLAUSIBLE_BELOW, in the canonical unit) is refused
unless the row carries "confirmed_low": true, as the web form refuses it unless "checked" is ticked."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet

from participants import services
from participants.forms import implausible
from participants.models import Participant, User
from screening.criteria import CaseError
from screening.criteria.vocabulary import IMPLAUSIBLE_BELOW, LAB_TESTS_BY_KEY
from screening.models import Trigger
from screening.reevaluation import reevaluation_trigger

ROW_FIELDS = ("screening_number", "test", "value", "unit", "collected", "uln", "specimen", "confirmed_low")
REQUIRED = ("screening_number", "test", "value", "collected")
MAX_ROWS = 5000
# Model field names in validation errors, as the case format names them.
FIELD_NAMES = {"value_number": "value", "value_text": "value"}

# C0 controls and DEL: never legitimate in these fields, and PostgreSQL text cannot hold NUL.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
SURROGATE = re.compile(r"[\ud800-\udfff]")
# Exactly YYYY-MM-DD (date.fromisoformat also takes 20250603 and 2025-W23-2); ASCII digits only.
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

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
    for name in ("screening_number", "test", "value", "unit", "collected", "specimen"):
        text = row.get(name)
        if not isinstance(text, str):
            continue
        if CONTROL.search(text):
            _add(errors, f"{at}/{name}", "Must not contain control characters.")
            ok = False
        elif SURROGATE.search(text):  # JSON's "\ud800" escape: not encodable, so not storable
            _add(errors, f"{at}/{name}", "Must be valid Unicode text.")
            ok = False
    value = row.get("value")
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, Decimal, str))):
        _add(errors, f"{at}/value", "Must be a number or a result word (e.g. negative).")
        ok = False
    uln = row.get("uln")
    if uln is not None and (isinstance(uln, bool) or not isinstance(uln, (int, Decimal))):
        _add(errors, f"{at}/uln", "Must be a number.")
        ok = False
    confirmed_low = row.get("confirmed_low")
    if confirmed_low is not None and not isinstance(confirmed_low, bool):
        _add(errors, f"{at}/confirmed_low", "Must be true or false.")
        ok = False
    collected: date | None = None
    raw_date = row.get("collected")
    if isinstance(raw_date, str) and ISO_DATE.fullmatch(raw_date):
        try:
            collected = date.fromisoformat(raw_date)
        except ValueError:  # e.g. 2025-13-01, 2025-02-30
            pass
    if raw_date not in (None, "") and collected is None and f"{at}/collected" not in errors:
        _add(errors, f"{at}/collected", "Must be a date, YYYY-MM-DD.")
        ok = False
    if ok and not confirmed_low:
        low = _implausibly_low(row["test"], value, row.get("unit") or "")
        if low:
            _add(errors, f"{at}/value", low)
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


def _implausibly_low(test_key: str, value: Any, unit: str) -> str:
    """The web form's question (participants.forms.implausible: IMPLAUSIBLE_BELOW, compared after the
    form's own conversion to the canonical unit), worded for the API. "" when plausible, or when the
    row is not a non-negative count in a known unit (the loader refuses those)."""
    test = LAB_TESTS_BY_KEY.get(test_key)
    if test is None or test_key not in IMPLAUSIBLE_BELOW or isinstance(value, (str, bool)):
        return ""
    number = Decimal(value)
    try:
        if number < 0 or not implausible(test, number, unit):  # a negative value is the loader's error
            return ""
    except ArithmeticError:  # 1e1000000 overflows the conversion: the loader refuses its size
        return ""
    return (
        f"{number} {unit} is implausibly low for {test.label} (below {IMPLAUSIBLE_BELOW[test_key]} /µL): "
        "check the value and its unit against the report (per µL, or × 10³/µL = × 10⁹/L?). If it is "
        'right, send the row again with "confirmed_low": true.'
    )


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
