"""A minimal participant page under `participants:detail`, for the intake forms to return to
until the real participant page replaces it (drop this file and its URL line then)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from screening.models import Evaluation

from .access import role_required
from .intake import RecordKind
from .models import Role
from .selectors import get_participant


@role_required(Role.COORDINATOR, Role.INVESTIGATOR, Role.MONITOR, Role.ADMIN)
def participant_detail(request: HttpRequest, pk: int) -> HttpResponse:
    participant = get_participant(request.user, pk)  # type: ignore[arg-type]
    evaluations = list(Evaluation.objects.filter(participant=participant).order_by("-sequence")[:20])
    results = list(evaluations[0].results.all()) if evaluations else []
    context = {
        "participant": participant,
        "evaluations": evaluations,
        "results": results,
        "kinds": RecordKind,
    }
    return render(request, "participants/detail_placeholder.html", context)
