"""Number form fields that accept ASCII digits only, as the API does.

Django's IntegerField and DecimalField accept any Unicode decimal digit ("٣", "３"), which Python's
int() and Decimal() read; a value typed that way would not be what a monitor reading the record
sees, and the lab API refuses it. Surrounding spaces are still allowed."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

# Sign, ASCII digits, an optional decimal point and exponent: nothing else reaches the conversion.
ASCII_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _check_ascii(value: Any) -> None:
    if isinstance(value, str) and value.strip() and not ASCII_NUMBER.fullmatch(value.strip()):
        raise ValidationError("Enter a number with the digits 0-9.", code="invalid")


class AsciiIntegerField(forms.IntegerField):
    def to_python(self, value: Any) -> int | None:
        _check_ascii(value)
        return super().to_python(value)


class AsciiDecimalField(forms.DecimalField):
    def to_python(self, value: Any) -> Any:
        _check_ascii(value)
        return super().to_python(value)


def range_messages(minimum: Any, maximum: Any) -> dict[str, str]:
    """Bound errors that name the whole allowed range (e.g. "SLICC: from 0 to 11")."""
    if minimum is not None and maximum is not None:
        text = f"Enter a value from {minimum} to {maximum}."
    elif minimum is not None:
        text = f"Enter a value of {minimum} or more."
    elif maximum is not None:
        text = f"Enter a value of {maximum} or less."
    else:
        return {}
    return {"min_value": text, "max_value": text}
