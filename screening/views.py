from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from participants.access import role_required
from participants.models import Role

# The exports sponsors and monitors need; each becomes a download as it is built.
EXPORTS = [
    ("Screening log", "One row per participant: site, screening number, cohort, dates, overall status."),
    ("EAC log", "Every escalation with its criterion, reviews, signatures and decision."),
    ("Audit trail", "Every change to clinical data: who, when, old and new values, reason."),
    ("Screening funnel", "Participants by overall status and by failing criterion."),
]


@role_required(Role.MONITOR, Role.ADMIN)
def exports(request: HttpRequest) -> HttpResponse:
    return render(request, "screening/exports.html", {"exports": EXPORTS})
