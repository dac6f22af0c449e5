"""Consent form versions: the administrator's register (versions and their approval per site) and
a participant's consent page (signatures, what is in effect, recording and voiding). The work is in
participants.consent and participants.services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from . import services
from .access import role_required
from .changes import announce_saved
from .consent import approve_consent_version, consent_status, record_consent, register_consent_version
from .forms import add_service_errors
from .forms_consent import ConsentApprovalForm, ConsentSignatureForm, ConsentVersionForm, VoidConsentForm
from .models import ConsentApproval, ConsentSignature, ConsentVersion, Participant, Role, User
from .roles import PARTICIPANT_READER_ROLES, PARTICIPANT_WRITER_ROLES
from .selectors import get_participant


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


# --- The administrator's register -----------------------------------------------------------------


@role_required(Role.ADMIN)
def consent_versions(request: HttpRequest) -> HttpResponse:
    """GET: the versions and their approvals per site. POST `action=version` registers a version,
    `action=approval` records a site's approval."""
    version_form = ConsentVersionForm(request.POST if request.POST.get("action") == "version" else None)
    approval_form = ConsentApprovalForm(request.POST if request.POST.get("action") == "approval" else None)
    if request.method == "POST":
        try:
            if version_form.is_bound and version_form.is_valid():
                version = register_consent_version(_user(request), **version_form.cleaned_data)
                messages.success(request, f"Consent form {version} registered.")
                return redirect("participants:consent_versions")
            if approval_form.is_bound and approval_form.is_valid():
                approval = approve_consent_version(_user(request), **approval_form.cleaned_data)
                messages.success(request, f"Consent form {approval} recorded.")
                return redirect("participants:consent_versions")
        except ValidationError as exc:
            add_service_errors(version_form if version_form.is_bound else approval_form, exc)
    today = timezone.localdate()
    context = {
        "versions": ConsentVersion.objects.select_related("created_by").order_by("document_date", "label"),
        "approvals": ConsentApproval.objects.select_related("site", "version", "recorded_by").order_by(
            "site__code", "effective_on"
        ),
        "version_form": version_form,
        "approval_form": approval_form,
        "today": today,
    }
    return render(request, "participants/consent_versions.html", context)


# --- A participant's consent ----------------------------------------------------------------------------


def _page(
    request: HttpRequest, participant: Participant, form: ConsentSignatureForm, **extra: Any
) -> HttpResponse:
    today = timezone.localdate()
    context = {
        "participant": participant,
        "status": consent_status(participant, today),
        "signatures": ConsentSignature.objects.filter(participant=participant)
        .select_related("version", "entered_by", "voided_by")
        .order_by("-signed_on", "-pk"),
        "form": form,
        "void_form": extra.pop("void_form", None) or VoidConsentForm(),
        "read_only": request.membership.role not in PARTICIPANT_WRITER_ROLES,  # type: ignore[attr-defined]
        **extra,
    }
    return render(request, "participants/consent.html", context)


@role_required(*PARTICIPANT_READER_ROLES)
def participant_consent(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the participant's consent (readers). POST: record a signature (the site's writers)."""
    if request.method != "POST":
        participant = get_participant(_user(request), pk)
        return _page(request, participant, ConsentSignatureForm(participant))
    if request.membership.role not in PARTICIPANT_WRITER_ROLES:  # type: ignore[attr-defined]
        raise PermissionDenied
    participant = get_participant(_user(request), pk, for_update=True)
    form = ConsentSignatureForm(participant, request.POST)
    if form.is_valid():
        try:
            signature = record_consent(_user(request), participant, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc, {"icf_signed": "signed_on"})
        else:
            if participant.icf_signed is None:  # the first signature filled the ICF date: evaluate now
                announce_saved(participant, _user(request), "consent recorded")
            messages.success(request, f"Recorded: {signature}.")
            return redirect("participants:consent", pk=participant.pk)
    return _page(request, participant, form)


@require_POST
@role_required(*PARTICIPANT_WRITER_ROLES)
def void_consent(request: HttpRequest, pk: int, signature_pk: int) -> HttpResponse:
    participant = get_participant(_user(request), pk, for_update=True)
    signature = get_object_or_404(ConsentSignature, participant=participant, pk=signature_pk)
    form = VoidConsentForm(request.POST)
    if form.is_valid():
        try:
            services.void_record(_user(request), signature, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            announce_saved(participant, _user(request), "consent voided")
            messages.success(request, f"Voided: {signature}.")
            return redirect("participants:consent", pk=participant.pk)
    return _page(
        request, participant, ConsentSignatureForm(participant), void_form=form, voiding=signature.pk
    )
