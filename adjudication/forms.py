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
