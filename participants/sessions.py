"""Project-wide response headers and the absolute session lifetime."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control

SIGNED_IN_AT = "signed_in_at"


class NoStoreMiddleware:
    """Every page and download may hold participant data: no browser or proxy keeps a copy.
    Static files are served by WhiteNoise before this runs and keep their own caching."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        add_never_cache_headers(response)
        patch_cache_control(response, no_store=True, private=True)
        return response


class SessionLifetimeMiddleware:
    """A session ends SESSION_ABSOLUTE_LIFETIME_SECONDS after sign-in, however active it is (the
    idle timeout is the session cookie's age, renewed on every request)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            started = request.session.get(SIGNED_IN_AT)
            now = time.time()
            if started is None:
                request.session[SIGNED_IN_AT] = now
            elif now - float(started) > settings.SESSION_ABSOLUTE_LIFETIME_SECONDS:
                request.session_expired = True  # type: ignore[attr-defined]
                logout(request)
                return redirect(reverse(settings.LOGIN_URL) + "?expired=1")
        return self.get_response(request)
