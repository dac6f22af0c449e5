"""Screening pages: the participant page (records and evaluations, with the panels the layers
above add) and the re-evaluation notice it polls."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseClientRedirect, HttpResponseClientRefresh

from participants import links
from participants.access import role_required
from participants.consent import consent_status, in_effect_column
from participants.models import OutcomeStatus, Participant, Role
from participants.roles import PARTICIPANT_READER_ROLES, PARTICIPANT_WRITER_ROLES
from participants.selectors import get_participant, get_participant_with_counts
from screening.criteria.calendar_math import age_on
from screening.outcomes import rescreen_refusal
from screening.pages import participant_panels
from screening.selectors import (
    arrange,
    later_attempt,
    latest_evaluation,
    outcome_of,
    participant_evaluations,
    screening_state,
)

# Read with the participant, in its statement: the state (the re-evaluation notice) and how
# screening ended, without the signed checklist, which the page does not show.
PAGE_RELATED = ("screening_state", "screening_outcome__recorded_by")
PAGE_DEFERRED = ("screening_outcome__checklist_html", "screening_outcome__checklist_json")


def _history_page(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


@role_required(*PARTICIPANT_READER_ROLES)
def participant_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A participant's status, what to do next, every criterion, records and evaluation history."""
    today = timezone.localdate()
    participant = get_participant_with_counts(
        request.user,  # type: ignore[arg-type]
        pk,
        related=PAGE_RELATED,
        deferred=PAGE_DEFERRED,
        columns=in_effect_column(today),
    )
    evaluations = participant_evaluations(participant, _history_page(request.GET.get("history")))
    latest = evaluations.latest
    outcome_panel = _outcome_panel(request, participant)
    consent = consent_status(participant, today)
    context = {
        "participant": participant,
        "age": age_on(participant.birth_date, today),
        "today": today,
        "current": arrange(latest, today, evaluations.latest_results) if latest else None,
        "consent": consent,
        # A newer consent form concerns only participants still in screening.
        "consent_to_do": outcome_panel["outcome"] is None
        and (consent.reconsent_needed or consent.version_not_recorded),
        "history": evaluations.history,
        "read_only": request.membership.role not in PARTICIPANT_WRITER_ROLES,  # type: ignore[attr-defined]
        **outcome_panel,
        **participant_panels(request.user, participant),  # type: ignore[arg-type]
    }
    return render(request, "participants/detail.html", context)


def _outcome_panel(request: HttpRequest, participant: Participant) -> dict[str, Any]:
    """How screening ended (or the actions that end it), the linked attempts, and the flag of a
    data change after the outcome."""
    role = request.membership.role  # type: ignore[attr-defined]
    outcome = outcome_of(participant)
    in_screening = outcome is None
    return {
        "outcome": outcome,
        "can_enroll": in_screening and role == Role.INVESTIGATOR,
        "can_end": in_screening and role in PARTICIPANT_WRITER_ROLES,
        "can_rescreen": (
            outcome is not None
            and outcome.kind == OutcomeStatus.SCREEN_FAILED
            and role in PARTICIPANT_WRITER_ROLES
            and rescreen_refusal(participant) is None
        ),
        "later_attempt": later_attempt(participant, outcome),
    }


@require_GET
@role_required(*PARTICIPANT_WRITER_ROLES)
def next_missing(request: HttpRequest, pk: int) -> HttpResponse:
    """"Save and go to the next missing item": the form that supplies the first item of the
    worklist of the latest evaluation, or the participant page when nothing is missing."""
    participant = get_participant(request.user, pk)  # type: ignore[arg-type]
    latest = latest_evaluation(participant)
    if latest is not None:
        current = arrange(latest, timezone.localdate())
        for item in [*current.missing_now, *current.missing]:
            url = links.missing_path_url(participant.pk, item.path)
            if url is not None:
                return redirect(url)
    return redirect("participants:detail", pk=participant.pk)


@require_GET
def evaluation_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Polled by the re-evaluation notice: the notice again while pending; once the evaluation is
    stored, HX-Refresh so that the page shows it."""
    if not request.user.is_authenticated:
        if request.htmx:  # type: ignore[attr-defined]
            return HttpResponseClientRedirect(reverse("login"))  # the session ended: a full page
        return redirect_to_login(request.get_full_path())
    participant = get_participant(request.user, pk)  # type: ignore[arg-type]
    if screening_state(participant).reevaluation_requested_at is None:
        return HttpResponseClientRefresh()
    return render(request, "screening/_reevaluation_notice.html", {"participant": participant})
