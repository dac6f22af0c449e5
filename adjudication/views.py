from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from participants.access import role_required
from participants.models import Role


@role_required(Role.EAC_REVIEWER)
def queue(request: HttpRequest) -> HttpResponse:
    # Escalations arrive with the adjudication workflow; until then the queue is empty.
    return render(request, "adjudication/queue.html", {"escalations": []})
