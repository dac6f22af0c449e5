"""Forms of the lab import pages: they read input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from participants.models import Site

MAX_UPLOAD_MB = 100


class UploadForm(forms.Form):
    site = forms.ModelChoiceField(queryset=Site.objects.none(), empty_label=None)
    file = forms.FileField(
        help_text="A FHIR R4 Bundle (JSON), FHIR NDJSON of Observations, or HL7 v2.5.1 ORU^R01 messages."
    )

    def __init__(self, *args: Any, sites: QuerySet[Site], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites.order_by("code")  # type: ignore[attr-defined]


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", "Accept"), ("reject", "Reject")])
    rows = forms.TypedMultipleChoiceField(coerce=int, choices=[], required=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        data = self.data.getlist("rows") if hasattr(self.data, "getlist") else []
        # Any row ID is offered: the service reviews only the batch's own pending rows.
        self.fields["rows"].choices = [(v, v) for v in data if str(v).isdigit()]  # type: ignore[attr-defined]
