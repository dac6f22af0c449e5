"""The API's rate limit: LAB_API_RATE requests per token (a session: per user), counted in the Redis
cache by django-ratelimit in fixed windows. Beyond it the answer is 429 with Retry-After."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage

from .auth import Caller

log = logging.getLogger(__name__)


def retry_after(request: HttpRequest, caller: Caller) -> int | None:
    """Count this request; the seconds until the caller's window ends if it is over the limit,
    else None. Redis away: not limited (the import's own checks do not depend on the count)."""
    who = f"token:{caller.token_id}" if caller.token_id is not None else f"user:{caller.user.pk}"
    try:
        usage = get_usage(
            request, group="api", key=lambda group, request: who, rate=settings.LAB_API_RATE, increment=True
        )
    except Exception:  # noqa: BLE001 - a cache error must not refuse an import
        log.warning("API rate limit not counted: the cache did not answer", exc_info=True)
        return None
    if usage is None or not usage["should_limit"]:
        return None
    return max(1, int(usage["time_left"]))
