from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from screening.criteria import PROTOCOL_VERSIONS

from .trail import DEFAULT_PARTICIPANT_TYPES, PARTICIPANT_SOURCES


class TrailFilterForm(forms.Form):
    types = forms.MultipleChoiceField(
        label="Record types",
        choices=[(s.key, s.label) for s in PARTICIPANT_SOURCES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def selected_types(self) -> list[str]:
        if self.is_bound and self.is_valid() and self.cleaned_data["types"]:
            return list(self.cleaned_data["types"])
        return list(DEFAULT_PARTICIPANT_TYPES)


class AuditExportForm(forms.Form):
    """One participant (by screening number) or a date range, or both."""

    screening_number = forms.CharField(required=False, max_length=30)
    start = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(
        label="To (inclusive)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("screening_number") or data.get("start") or data.get("end")):
            raise forms.ValidationError("Give a screening number or a date range.")
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", "The end is before the start.")
        return data

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """[start, end) as aware datetimes in the site's time zone."""
        start, end = self.cleaned_data.get("start"), self.cleaned_data.get("end")
        tz = timezone.get_current_timezone()
        return (
            datetime.combine(start, time.min, tzinfo=tz) if start else None,
            # The last day of the calendar has no "next day": no upper bound then.
            datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
            if end and end < date.max
            else None,
        )


class FindParticipantForm(forms.Form):
    screening_number = forms.CharField(max_length=30)


class ProtocolFilterForm(forms.Form):
    """The screening log and the funnel, for the participants whose latest evaluation ran under one
    protocol version (blank: all)."""

    protocol = forms.ChoiceField(
        label="Protocol version",
        required=False,
        choices=[("", "All versions"), *((v, v) for v in sorted(PROTOCOL_VERSIONS))],
    )

    def version(self) -> str:
        return str(self.cleaned_data["protocol"]) if self.is_valid() else ""
