"""Screening pages. The exports page (URL name screening:exports) is served by audit.views."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseClientRedirect, HttpResponseClientRefresh

from participants.selectors import get_participant


@require_GET
def evaluation_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Polled by the re-evaluation notice: the notice again while pending; once the evaluation is
    stored, HX-Refresh so that the page shows it."""
    if not request.user.is_authenticated:
        if request.htmx:  # type: ignore[attr-defined]
            return HttpResponseClientRedirect(reverse("login"))  # the session ended: a full page
        return redirect_to_login(request.get_full_path())
    participant = get_participant(request.user, pk)  # type: ignore[arg-type]
    if participant.reevaluation_requested_at is None:
        return HttpResponseClientRefresh()
    return render(request, "screening/_reevaluation_notice.html", {"participant": participant})
