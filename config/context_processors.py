from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def session_timing(request: HttpRequest) -> dict[str, Any]:
    """The idle timeout and its warning, for static/js/app.js (through <body data-*>)."""
    return {
        "session_timing": {
            "idle_seconds": settings.SESSION_COOKIE_AGE,
            "warning_seconds": settings.SESSION_WARNING_SECONDS,
        }
    }
