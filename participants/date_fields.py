"""Dates as every page shows them: ISO YYYY-MM-DD, typed into a text input.

The browser's date picker shows the user's locale (mm/dd/yyyy) and blanks an impossible date
before it is sent, so the server can only answer "required" and the typed text is lost. A text
input with a pattern keeps what was typed; the field names the problem."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


class IsoDateInput(forms.TextInput):
    """A text input for YYYY-MM-DD: numeric keyboard, the pattern as a hint, no picker."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(
            attrs={
                "inputmode": "numeric",
                "pattern": r"\d{4}-\d{2}-\d{2}",
                "placeholder": "YYYY-MM-DD",
                "autocomplete": "off",
                "maxlength": 10,
                "class": "iso-date",
                **(attrs or {}),
            }
        )

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, date):
            return value.isoformat()
        return super().format_value(value)


class IsoDateField(forms.DateField):
    """YYYY-MM-DD only; a well-formed but impossible date (2025-02-30) is "not a real calendar date"."""

    widget = IsoDateInput

    def to_python(self, value: Any) -> date | None:
        if value in self.empty_values:
            return None
        if isinstance(value, date):
            return value
        text = str(value).strip()
        match = ISO_DATE.fullmatch(text)
        if match is None:
            raise ValidationError("Enter the date as YYYY-MM-DD, for example 2025-06-03.", code="invalid")
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            raise ValidationError(
                "%(value)s is not a real calendar date.", code="not_a_date", params={"value": text}
            ) from None
