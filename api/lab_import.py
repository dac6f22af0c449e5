"""Import lab results (FACTS.md § 4 vocabulary, the case format's lab objects plus the participant's
screening number) for existing participants: all rows are checked before any is kept.

A row is read against the case format's JSON Schema (`$defs/lab` of screening/criteria/schema.json,
with the engine's validator): first the lab object's own fields, types and dates, for every row
before anything is looked up; then participants.services.import_labs records the rows through
`record_lab`, the browser's service, whose loader applies the test's own rules (units, ranges,
ULN) and the implausibility check. A row it refuses rolls the whole import back. Errors name the
row and the field.

A count below its implausibility floor (vocabulary.IMPLAUSIBLE_BELOW, in the canonical unit) is refused
unless the row carries "confirmed_low": true, as the web form refuses it unless "checked" is ticked."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db.models import QuerySet
from jsonschema import Draft202012Validator

from participants import services
from participants.models import Participant, User
from screening.criteria import CaseError
from screening.criteria.fastcheck import Check, compile_schema
from screening.criteria.loader import schema, validator
from screening.models import Trigger
from screening.reevaluation import reevaluation_trigger

MAX_ROWS = 5000
# Model field names in validation errors, as the case format names them.
FIELD_NAMES = {"value_number": "value", "value_text": "value"}
NOT_FOUND = "No participant with this number at your site."

# C0 controls and DEL: never legitimate in these fields, and PostgreSQL text cannot hold NUL.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
SURROGATE = re.compile(r"[\ud800-\udfff]")

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


@lru_cache(maxsize=1)
def row_validator() -> Draft202012Validator:
    """The engine's case validator, narrowed to a row: the case format's lab object (its own
    properties and required fields, with the format's `$defs`), the participant's screening number
    and the optional confirmation of a low count. The test-specific rules of `$defs/lab` (units,
    ranges, ULN) are the loader's, in record_lab, so that a row and a form are refused by the same
    check with the same message."""
    case_schema = schema()
    lab = case_schema["$defs"]["lab"]
    row_schema = {
        "$defs": case_schema["$defs"],
        "type": "object",
        "required": ["screening_number", *lab["required"]],
        "properties": {
            "screening_number": {"type": "string", "minLength": 1},
            "confirmed_low": {"type": "boolean"},
            **lab["properties"],
        },
        "additionalProperties": False,
    }
    return validator().evolve(schema=row_schema)


def _text_problems(row: dict[str, Any]) -> Errors:
    """What JSON Schema cannot say: text a database cannot hold or a person cannot see."""
    problems: Errors = {}
    for name, text in row.items():
        if not isinstance(text, str):
            continue
        if CONTROL.search(text):
            problems[name] = ["Must not contain control characters."]
        elif SURROGATE.search(text):  # JSON's "\ud800" escape: not encodable, so not storable
            problems[name] = ["Must be valid Unicode text."]
    return problems


@lru_cache(maxsize=1)
def row_is_valid() -> Check:
    """row_validator's schema compiled by the engine's fast check: True means valid; False means
    "ask jsonschema", which words the errors."""
    return compile_schema(row_validator().schema)


def _schema_problems(row: Any) -> Errors:
    """The row's errors against row_validator, by field (the row itself: "")."""
    if row_is_valid()(row):
        return {}
    problems: Errors = {}
    for error in row_validator().iter_errors(row):
        path = [str(p) for p in error.absolute_path]
        if error.validator == "additionalProperties":
            for name in sorted(set(row) - set(error.schema["properties"])):
                _add(problems, name, "Unknown field.")
        elif error.validator == "required":
            for name in error.validator_value:
                if name not in row:
                    _add(problems, name, "This field is required.")
        elif path == ["collected"]:
            problems["collected"] = ["Must be a date, YYYY-MM-DD."]
        else:
            message = error.message
            _add(problems, "/".join(path), message[0].upper() + message[1:])
    return problems


def _parse_row(index: int, row: Any, errors: Errors) -> dict[str, Any] | None:
    """The row's values for services.LabEntry, or None after adding its errors."""
    at = f"rows/{index}"
    if not isinstance(row, dict):
        _add(errors, at, "Must be an object.")
        return None
    problems = _text_problems(row)
    for name, messages in _schema_problems(row).items():
        problems.setdefault(name, messages)  # a field with unreadable text: that problem alone
    for name, messages in problems.items():
        for message in messages:
            _add(errors, f"{at}/{name}" if name else at, message)
    if problems:
        return None
    value, uln = row["value"], row.get("uln")
    return {
        "screening_number": row["screening_number"],
        "test": row["test"],
        "value": value if isinstance(value, str) else Decimal(value),
        "unit": row.get("unit", ""),
        "uln": None if uln is None else Decimal(uln),
        "specimen": row.get("specimen", ""),
        "collected": date.fromisoformat(row["collected"]),
        "confirmed_low": row.get("confirmed_low", False),
    }


def _implausibly_low(error: ValidationError) -> str:
    """record_lab's question about a low count, worded for the API."""
    p = error.params or {}
    return (
        f"{p['value']} {p['unit']} is implausibly low for {p['test']} (below {p['floor']} /µL): "
        "check the value and its unit against the report (per µL, or × 10³/µL = × 10⁹/L?). If it is "
        'right, send the row again with "confirmed_low": true.'
    )


def _refusal(errors: Errors, at: str, exc: Exception) -> None:
    """A row's refusal by the service, keyed by the case format's field names."""
    if isinstance(exc, CaseError):
        for path, message in exc.errors:
            _add(errors, f"{at}/{path.rsplit('/', 1)[-1]}" if path else at, message)
        return
    assert isinstance(exc, ValidationError)
    found = exc.error_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.error_list}
    for name, field_errors in found.items():
        name = FIELD_NAMES.get(name, name)
        path = at if name == NON_FIELD_ERRORS else f"{at}/{name}"
        for error in field_errors:
            _add(
                errors,
                path,
                _implausibly_low(error) if error.code == "implausible_low" else next(iter(error)),
            )


def check_rows(scope: QuerySet[Participant], rows: Any) -> tuple[ImportResult, list[services.LabEntry]]:
    """The rows' shape and participants (one query): the errors, or the entries to record."""
    result = ImportResult()
    if not isinstance(rows, list) or not rows:
        _add(result.errors, "rows", "Must be a non-empty list of lab results.")
        return result, []
    if len(rows) > MAX_ROWS:
        _add(result.errors, "rows", f"At most {MAX_ROWS} rows per request.")
        return result, []
    parsed = [_parse_row(i, row, result.errors) for i, row in enumerate(rows)]
    numbers = {p["screening_number"] for p in parsed if p}
    participants = {p.screening_number: p for p in scope.filter(screening_number__in=numbers)}
    for i, p in enumerate(parsed):
        if p and p["screening_number"] not in participants:
            _add(result.errors, f"rows/{i}/screening_number", NOT_FOUND)
            result.not_found = True
    if result.errors:
        return result, []
    entries = []
    for p in parsed:
        assert p is not None
        entries.append(services.LabEntry(participant=participants[p.pop("screening_number")], **p))
    return result, entries


def import_labs(user: User, scope: QuerySet[Participant], rows: Any) -> ImportResult:
    """Record every row or none. `scope`: the participants the user may write (site-scoped)."""
    result, entries = check_rows(scope, rows)
    if result.errors:
        return result
    try:
        with reevaluation_trigger(Trigger.IMPORT):
            services.import_labs(user, entries)
    except services.LabsRefused as refused:
        for i, exc in sorted(refused.refused.items()):
            if isinstance(exc, PermissionDenied):
                _add(result.errors, f"rows/{i}/screening_number", NOT_FOUND)
                result.not_found = True
            else:
                _refusal(result.errors, f"rows/{i}", exc)
        return result
    result.saved = len(entries)
    result.participants = sorted({e.participant.screening_number for e in entries})
    return result


def answer(result: ImportResult) -> tuple[int, dict[str, Any]]:
    """The HTTP status and body of an import's result."""
    if result.errors:
        return (404 if result.not_found else 400), {"error": "Nothing was saved.", "errors": result.errors}
    return 201, {"saved": result.saved, "participants": result.participants}
