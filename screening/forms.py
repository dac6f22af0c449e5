"""Forms of the screening outcome pages: they check shape; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms

from participants.forms import SignatureFields, date_field
from participants.models import Assessment
from screening.models import FailureCategory


class EnrollForm(SignatureFields):
    # The checklist shown with the form: a signature never lands on a checklist the signer did not see.
    checklist_digest = forms.CharField(widget=forms.HiddenInput, max_length=64)


class ScreenFailureForm(forms.Form):
    category = forms.ChoiceField(
        label="Reason category", choices=FailureCategory.choices, widget=forms.RadioSelect
    )
    detail = forms.CharField(
        label="Describe the reason (required for Other)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    on_date = date_field("Date of screen failure")
    reason = forms.CharField(
        label="Reason for change", max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("category") == FailureCategory.OTHER and not (data.get("detail") or "").strip():
            self.add_error("detail", "Describe the reason when the category is Other.")
        return data


class WithdrawalForm(forms.Form):
    on_date = date_field("Date of withdrawal")
    reason = forms.CharField(
        label="Reason for change", max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class RescreenForm(forms.Form):
    """One confirmation box per undated item of the earlier attempt: nothing is copied unticked."""

    confirm = forms.BooleanField(label="I start a new screening attempt for this candidate", required=True)

    def __init__(self, *args: Any, items: list[Assessment], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            self.fields[f"copy_{item.pk}"] = forms.BooleanField(
                label=f"Copy {item.key} = {item.value}: still true today (confirmed)", required=False
            )

    def chosen(self) -> list[int]:
        return [item.pk for item in self.items if self.cleaned_data.get(f"copy_{item.pk}")]
