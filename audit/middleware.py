"""Puts the acting user, the request URL and the current role into the history context."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from pghistory.middleware import HistoryMiddleware


class AuditContextMiddleware(HistoryMiddleware):
    def get_context(self, request: HttpRequest) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context(request)
        context["method"] = request.method
        membership = getattr(request, "membership", None)
        if membership is not None:
            context["role"] = membership.role
        return context
