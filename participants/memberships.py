"""The role a user works in: one of their memberships, chosen in the navigation bar."""

from __future__ import annotations

from django.http import HttpRequest

from .models import Membership
from .roles import ROLE_PRIORITY, Role

SESSION_KEY = "current_membership_id"
# The attribute of a request's user holding the memberships read for that request.
REQUEST_MEMBERSHIPS = "_request_memberships"


def memberships_of(request: HttpRequest) -> list[Membership]:
    cached: list[Membership] | None = getattr(request, "_memberships", None)
    if cached is None:
        user = request.user
        if not user.is_authenticated:
            cached = []
        else:
            cached = list(Membership.objects.filter(user=user).select_related("site"))
            cached.sort(key=lambda m: (ROLE_PRIORITY.index(Role(m.role)), m.site.code if m.site else ""))
            # The request's user carries them for the site scoping of the request's selectors
            # (selectors.visible_participants), which would otherwise read them again.
            setattr(user, REQUEST_MEMBERSHIPS, cached)
        request._memberships = cached  # type: ignore[attr-defined]
    return cached


def current_membership(request: HttpRequest) -> Membership | None:
    memberships = memberships_of(request)
    if not memberships:
        return None
    chosen = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    for m in memberships:
        if m.pk == chosen:
            return m
    return memberships[0]


def choose_membership(request: HttpRequest, membership_id: int) -> bool:
    if any(m.pk == membership_id for m in memberships_of(request)):
        request.session[SESSION_KEY] = membership_id
        return True
    return False
