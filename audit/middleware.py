"""Puts the acting user, the request URL, the current role and the client's address into the history
context, and makes the request known to the security-event recorder (audit/security.py)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from pghistory.middleware import HistoryMiddleware

from participants.client import client_address

from . import security


class AuditContextMiddleware(HistoryMiddleware):
    def get_context(self, request: HttpRequest) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context(request)
        context["method"] = request.method
        context["address"] = client_address(request)
        membership = getattr(request, "membership", None)
        if membership is not None:
            context["role"] = membership.role
        return context

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with security.serving(request):
            response: HttpResponse = super().__call__(request)
        return security.trace_export(request, response)
