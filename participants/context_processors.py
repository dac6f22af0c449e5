from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .memberships import memberships_of


def membership(request: HttpRequest) -> dict[str, Any]:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {"membership": getattr(request, "membership", None), "memberships": memberships_of(request)}
