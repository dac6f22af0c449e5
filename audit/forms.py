from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from screening.criteria import PROTOCOL_VERSIONS

from .models import SecurityEventKind
from .trail import DEFAULT_PARTICIPANT_TYPES, PARTICIPANT_SOURCES


class TrailFilterForm(forms.Form):
    types = forms.MultipleChoiceField(
        label="Record types",
        choices=[(s.key, s.label) for s in PARTICIPANT_SOURCES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    start = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(
        label="To (inclusive)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", "The end is before the start.")
        return data

    def selected_types(self) -> list[str]:
        if self.is_bound and self.is_valid() and self.cleaned_data["types"]:
            return list(self.cleaned_data["types"])
        return list(DEFAULT_PARTICIPANT_TYPES)

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """The date range chosen, [start, end) in the site's time zone; none while invalid."""
        if not (self.is_bound and self.is_valid()):
            return None, None
        return AuditExportForm.bounds(self)  # type: ignore[arg-type]


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


class SecurityEventFilterForm(forms.Form):
    """Filters of the security events page; an invalid value is named on the page and ignored."""

    kind = forms.ChoiceField(
        label="Event", required=False, choices=[("", "All events"), *SecurityEventKind.choices]
    )
    username = forms.CharField(label="User name", required=False, max_length=150)
    address = forms.GenericIPAddressField(label="Address", required=False)
    start = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(
        label="To (inclusive)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def filter(self, events: Any) -> Any:
        if not self.is_valid():
            return events.none() if self.errors else events
        data = self.cleaned_data
        if data["kind"]:
            events = events.filter(kind=data["kind"])
        if data["username"]:
            events = events.filter(username__iexact=data["username"].strip())
        if data["address"]:
            events = events.filter(address=data["address"])
        start, end = AuditExportForm.bounds(self)  # type: ignore[arg-type]
        if start:
            events = events.filter(recorded_at__gte=start)
        if end:
            events = events.filter(recorded_at__lt=end)
        return events


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
