"""The pages that end a screening: enrollment (the investigator signs the eligibility checklist),
screen failure, withdrawal, re-screening; and the signed checklist, on screen and as PDF."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.contrib.staticfiles import finders
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from weasyprint import CSS, HTML

from participants import second_factor
from participants.access import role_required
from participants.models import OutcomeStatus, Participant, Role, User
from participants.roles import PARTICIPANT_READER_ROLES, PARTICIPANT_WRITER_ROLES
from participants.selectors import get_participant
from participants.services import undated_history
from screening import outcomes
from screening.forms import EnrollForm, RescreenForm, ScreenFailureForm, WithdrawalForm
from screening.models import ScreeningOutcome
from screening.selectors import screening_state

# The checklist's own styles, and the page layout of its PDF.
PDF_STYLESHEETS = ("css/checklist.css", "css/checklist-print.css")


def _writable(request: HttpRequest, pk: int) -> Participant:
    return get_participant(request.user, pk, for_update=True)  # type: ignore[arg-type]


def _ended(request: HttpRequest, participant: Participant) -> HttpResponse | None:
    """The participant page with a message when screening has already ended."""
    if screening_state(participant).outcome != OutcomeStatus.IN_SCREENING:
        messages.info(request, "This participant's screening has already ended.")
        return redirect("participants:detail", pk=participant.pk)
    return None


@role_required(Role.INVESTIGATOR)
def enroll(request: HttpRequest, pk: int) -> HttpResponse:
    """The eligibility checklist on today's date, and the investigator's signature under it."""
    participant = _writable(request, pk)
    user: User = request.user  # type: ignore[assignment]
    if (ended := _ended(request, participant)) is not None:
        return ended
    if not second_factor.has_second_factor(user):
        messages.error(request, "Set up your second factor before signing. Nothing was signed.")
        return redirect(
            f"{reverse('adjudication:second_factor')}?next={reverse('screening:enroll', args=[pk])}"
        )
    today = timezone.localdate()
    form = EnrollForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                outcomes.enroll(
                    user,
                    pk,
                    password=form.cleaned_data["password"],
                    code=form.cleaned_data["code"],
                    shown_digest=form.cleaned_data["checklist_digest"],
                    request=request,
                    on_date=today,
                )
            except outcomes.OutcomeRefused as exc:
                form.add_error("password" if isinstance(exc, outcomes.SignatureRefused) else None, str(exc))
            else:
                messages.success(
                    request, f"{participant.screening_number} is enrolled; the checklist is signed."
                )
                return redirect("participants:detail", pk=pk)
    checklist = outcomes.checklist_on(participant, today)
    blocks = outcomes.enrollment_blocks(participant, today)
    return render(
        request,
        "screening/enroll.html",
        {
            "participant": participant,
            "checklist": checklist,
            "checklist_html": _checklist_html(checklist),
            "meaning": outcomes.signature_meaning(checklist),
            "blocks": blocks,
            "form": form,
        },
        status=status,
    )


def _checklist_html(checklist: outcomes.Checklist) -> str:
    return render_to_string("screening/_checklist.html", {"checklist": checklist, "digest": checklist.digest})


def _end_screening(
    request: HttpRequest,
    pk: int,
    form_class: type[forms.Form],
    record: Callable[..., object],
    *,
    title: str,
    action: str,
    done: str,
) -> HttpResponse:
    """A screen failure or a withdrawal: the form, then the service with the form's fields."""
    participant = _writable(request, pk)
    if (ended := _ended(request, participant)) is not None:
        return ended
    form = form_class(request.POST or None, initial={"on_date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            record(request.user, pk, **form.cleaned_data)
        except outcomes.OutcomeRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{participant.screening_number}: {done}.")
            return redirect("participants:detail", pk=pk)
    return render(
        request,
        "screening/outcome_form.html",
        {"participant": participant, "form": form, "title": title, "action": action},
        status=400 if request.method == "POST" else 200,
    )


@role_required(*PARTICIPANT_WRITER_ROLES)
def screen_failure(request: HttpRequest, pk: int) -> HttpResponse:
    return _end_screening(
        request,
        pk,
        ScreenFailureForm,
        outcomes.record_screen_failure,
        title="Record a screen failure",
        action="screen-failure",
        done="screen failure recorded",
    )


@role_required(*PARTICIPANT_WRITER_ROLES)
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    return _end_screening(
        request,
        pk,
        WithdrawalForm,
        outcomes.record_withdrawal,
        title="Record a withdrawal before enrollment",
        action="withdraw",
        done="withdrawal recorded",
    )


@role_required(*PARTICIPANT_WRITER_ROLES)
def rescreen(request: HttpRequest, pk: int) -> HttpResponse:
    participant = _writable(request, pk)
    refusal = outcomes.rescreen_refusal(participant)
    items = [] if refusal else undated_history(participant)
    form = RescreenForm(request.POST or None, items=items)
    if request.method == "POST" and refusal is None and form.is_valid():
        try:
            new = outcomes.rescreen(request.user, pk, copy=form.chosen())  # type: ignore[arg-type]
        except outcomes.OutcomeRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"{new.screening_number} is the new screening attempt of {participant.screening_number}.",
            )
            return redirect("participants:detail", pk=new.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "screening/rescreen.html",
        {
            "participant": participant,
            "form": form,
            "refusal": refusal,
            "cap": outcomes.rescreens_allowed(participant),
        },
        status=status,
    )


def _enrollment(request: HttpRequest, pk: int) -> ScreeningOutcome:
    participant = get_participant(request.user, pk)  # type: ignore[arg-type]
    outcome = ScreeningOutcome.objects.filter(participant=participant, kind=OutcomeStatus.ENROLLED).first()
    if outcome is None:
        raise Http404("No signed checklist")
    outcome.participant = participant
    return outcome


@role_required(*PARTICIPANT_READER_ROLES)
def checklist(request: HttpRequest, pk: int) -> HttpResponse:
    """The signed checklist exactly as stored."""
    outcome = _enrollment(request, pk)
    return render(
        request,
        "screening/checklist.html",
        # Our own template's output, escaped when it was rendered and stored at signing.
        {
            "participant": outcome.participant,
            "outcome": outcome,
            "stored_html": mark_safe(outcome.checklist_html),
        },  # noqa: S308
    )


@role_required(*PARTICIPANT_READER_ROLES)
def checklist_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The signed checklist as PDF, printed from the stored HTML (nothing re-derived)."""
    outcome = _enrollment(request, pk)
    title = escape(f"Eligibility checklist {outcome.participant.screening_number}")
    document = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body>{outcome.checklist_html}</body></html>"
    )
    pdf = HTML(string=document).write_pdf(
        stylesheets=[CSS(filename=finders.find(name)) for name in PDF_STYLESHEETS]  # type: ignore[arg-type]
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="eligibility-checklist-{outcome.participant.screening_number}.pdf"'
    )
    return response
