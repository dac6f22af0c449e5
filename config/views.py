"""Account pages every signed-in user has: password change, and staying signed in."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from audit.models import SecurityEventKind
from audit.security import record


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change (old password, then the new one twice, checked by every validator
    of AUTH_PASSWORD_VALIDATORS); the change is a security event."""

    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        record(SecurityEventKind.PASSWORD_CHANGED, request=self.request, user=self.request.user)
        return response


@login_required
@require_POST
def session_keepalive(request: HttpRequest) -> HttpResponse:
    """The "stay signed in" button: any request renews the idle timeout (SESSION_SAVE_EVERY_REQUEST)."""
    return HttpResponse(status=204)
