from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .memberships import current_membership


class CurrentMembershipMiddleware:
    """Sets request.membership: the role (and site) the user is working in now."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.membership = current_membership(request)  # type: ignore[attr-defined]
        return self.get_response(request)
