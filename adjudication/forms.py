from __future__ import annotations

from django import forms

from participants.forms import SignatureFields

from .models import ReviewAction


class SignForm(SignatureFields):
    field_order = ["action", "rationale", "password", "code", "evidence_digest"]

    action = forms.ChoiceField(
        choices=[(ReviewAction.APPROVE, "Approve"), (ReviewAction.REJECT, "Reject")],
        widget=forms.RadioSelect,
    )
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    # The evidence shown with the form: a signature never lands on evidence the signer did not see.
    evidence_digest = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)


class SecondFactorConfirmForm(forms.Form):
    code = forms.CharField(
        label="Code your app shows now",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        max_length=8,
    )


class SecondFactorResetForm(forms.Form):
    signer = forms.TypedChoiceField(coerce=int, label="Signer")
    reason = forms.CharField(
        label="Reason (recorded)", widget=forms.Textarea(attrs={"rows": 2}), max_length=1000
    )

    def __init__(self, *args: object, signers: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["signer"].choices = signers  # type: ignore[attr-defined]


class InformationRequestForm(forms.Form):
    rationale = forms.CharField(
        label="What should the site provide?", widget=forms.Textarea(attrs={"rows": 2}), max_length=4000
    )
    evidence_digest = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
