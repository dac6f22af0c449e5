from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from adjudication.selectors import escalations_for_participant
from screening.selectors import arrange, evaluation_history, latest_evaluation

from .access import role_required
from .models import Cohort, Role, ScreeningStatus
from .roles import choose_membership
from .selectors import (
    PARTICIPANT_READER_ROLES,
    PARTICIPANT_WRITER_ROLES,
    age_on,
    get_participant_with_counts,
    site_dashboard,
)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each role lands on its own work list."""
    membership = request.membership  # type: ignore[attr-defined]
    if membership is None:
        return render(request, "participants/no_role.html", status=403)
    destination = {
        Role.COORDINATOR: "participants:list",
        Role.INVESTIGATOR: "participants:list",
        Role.EAC_REVIEWER: "adjudication:queue",
        Role.MONITOR: "screening:exports",
        Role.ADMIN: "screening:exports",
    }[Role(membership.role)]
    return redirect(destination)


def _page_number(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


@role_required(*PARTICIPANT_READER_ROLES)
def participant_list(request: HttpRequest) -> HttpResponse:
    """The site dashboard: participants with their status, filters, counts and expiring results."""
    membership = request.membership  # type: ignore[attr-defined]
    dashboard = site_dashboard(
        request.user,  # type: ignore[arg-type]
        membership,
        request.GET,
        page=_page_number(request.GET.get("page")),
    )
    context = {
        "dashboard": dashboard,
        "filters": dashboard.filters.chosen,
        "ignored_filters": dashboard.filters.ignored,
        "site": membership.site,
        "statuses": ScreeningStatus.choices,
        "cohorts": Cohort.choices,
        "read_only": membership.role not in PARTICIPANT_WRITER_ROLES,
    }
    return render(request, "participants/list.html", context)


@role_required(*PARTICIPANT_READER_ROLES)
def participant_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A participant's status, what to do next, every criterion, records and evaluation history."""
    participant = get_participant_with_counts(request.user, pk)  # type: ignore[arg-type]
    latest = latest_evaluation(participant)
    today = timezone.localdate()
    context = {
        "participant": participant,
        "age": age_on(participant.birth_date, today),
        "today": today,
        "current": arrange(latest, today) if latest else None,
        "history": evaluation_history(participant, _page_number(request.GET.get("history"))),
        "read_only": request.membership.role not in PARTICIPANT_WRITER_ROLES,  # type: ignore[attr-defined]
        "escalations": escalations_for_participant(request.user, participant),  # type: ignore[arg-type]
    }
    return render(request, "participants/detail.html", context)


@login_required
@require_POST
def switch_role(request: HttpRequest) -> HttpResponse:
    try:
        membership_id = int(request.POST.get("membership", ""))
    except ValueError:
        membership_id = -1
    if not choose_membership(request, membership_id):
        messages.error(request, "That role is not one of yours.")
    return redirect(reverse("home"))
