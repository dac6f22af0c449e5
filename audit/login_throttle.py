"""Per-address throttle of sign-in attempts.

The lockout of a username is django-axes's (settings.AXES_*). This throttle counts failed sign-ins
per client address (participants.client.client_address: the real client behind the trusted proxy, never
the proxy's own address) in Redis, with a higher limit than the username lockout, since a
hospital's users may share one outgoing address. Past the limit, sign-in attempts from that
address get 429 until the window has passed; signed-in users from it are not affected, so neither
a guesser nor a shared address can turn it into a site-wide lockout.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from participants.client import client_address

from .models import SecurityEventKind
from .security import record


def _key(address: str) -> str:
    return f"login-failures:{address}"


def _window_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def address_failures(address: str) -> int:
    try:
        return int(cache.get(_key(address)) or 0)
    except Exception:  # noqa: BLE001 - Redis down: the username lockout still holds
        return 0


@receiver(user_login_failed)
def _count_failure(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    if request is None:
        return
    key = _key(client_address(request))
    try:
        if cache.add(key, 1, _window_seconds()):
            return
        cache.incr(key)
    except Exception:  # noqa: BLE001
        pass


class AddressThrottleMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path == reverse("login"):
            address = client_address(request)
            if address_failures(address) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
                record(
                    SecurityEventKind.ADDRESS_THROTTLED,
                    request=request,
                    username=request.POST.get("username", ""),
                )
                return render(request, "registration/lockout.html", {"by_address": True}, status=429)
        return self.get_response(request)
