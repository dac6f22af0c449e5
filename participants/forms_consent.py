"""Forms of the consent form versions: the administrator's register and the participant's signature.
They check shape; the rules (in effect at the site, not before the form's date) are the services'."""

from __future__ import annotations

from typing import Any

from django import forms

from .forms import date_field
from .models import ConsentVersion, Participant, Site


class ConsentVersionForm(forms.Form):
    label = forms.CharField(label="Version", max_length=30, help_text="As printed on the form, e.g. 2.0.")
    document_date = date_field("Document date", help_text="The date printed on the form.")


class ConsentApprovalForm(forms.Form):
    version = forms.ModelChoiceField(ConsentVersion.objects.order_by("document_date", "label"))
    site = forms.ModelChoiceField(Site.objects.order_by("code"))
    effective_on = date_field(
        "Effective from", help_text="The site's ethics approval, or a later date from which the form is used."
    )


class ConsentSignatureForm(forms.Form):
    version = forms.ModelChoiceField(ConsentVersion.objects.none(), label="Version signed")
    signed_on = date_field("Signed on")

    def __init__(self, participant: Participant, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The versions approved at the participant's site, newest first.
        field = self.fields["version"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = ConsentVersion.objects.filter(approvals__site_id=participant.site_id).order_by(
            "-approvals__effective_on"
        )


class VoidConsentForm(forms.Form):
    reason = forms.CharField(label="Reason for voiding", max_length=500)
