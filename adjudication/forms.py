from __future__ import annotations

from django import forms

from .models import ReviewAction


class SignForm(forms.Form):
    action = forms.ChoiceField(
        choices=[(ReviewAction.APPROVE, "Approve"), (ReviewAction.REJECT, "Reject")],
        widget=forms.RadioSelect,
    )
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    password = forms.CharField(
        label="Your password (electronic signature)",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        strip=False,
    )
    # The evidence shown with the form: a signature never lands on evidence the signer did not see.
    evidence_digest = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)


class InformationRequestForm(forms.Form):
    rationale = forms.CharField(
        label="What should the site provide?", widget=forms.Textarea(attrs={"rows": 2}), max_length=4000
    )
    evidence_digest = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)


class QueueFilterForm(forms.Form):
    criterion = forms.ChoiceField(required=False)
    cohort = forms.ChoiceField(required=False)
    site = forms.ChoiceField(required=False)

    def __init__(
        self, *args: object, criteria: list[str], cohorts: list[str], sites: list[str], **kwargs: object
    ):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["criterion"].choices = [("", "All criteria"), *((c, c) for c in criteria)]
        self.fields["cohort"].choices = [("", "All cohorts"), *((c, c) for c in cohorts)]
        self.fields["site"].choices = [("", "All sites"), *((s, s) for s in sites)]
