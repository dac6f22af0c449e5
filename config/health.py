"""/healthz: is the database, Redis and a Celery worker reachable? JSON, no login, not public.

It answers a caller on this host that no proxy relayed (the container's own health check) or one
sending HEALTHZ_TOKEN; anyone else gets 404 (the TLS proxy also refuses the path). The worker
check (a Celery ping, up to HEALTHZ_WORKER_TIMEOUT) is cached, so polling stays cheap."""

from __future__ import annotations

import hmac
import time
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from participants.client import is_loopback_without_proxy

from .celery import app as celery_app

WORKER_CHECK_KEY = "healthz:worker"


def _check(fn: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        detail = fn()
    except Exception as exc:  # noqa: BLE001 - any failure means "unreachable"; say which
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    result: dict[str, Any] = {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}
    if detail:
        result.update(detail)
    return result


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _redis() -> None:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    finally:
        client.close()


def _worker() -> dict[str, Any]:
    replies = celery_app.control.ping(timeout=settings.HEALTHZ_WORKER_TIMEOUT)
    if not replies:
        raise RuntimeError("no Celery worker answered")
    return {"workers": sorted(name for reply in replies for name in reply)}


def _cached_worker_check() -> dict[str, Any]:
    try:
        cached: dict[str, Any] | None = cache.get(WORKER_CHECK_KEY)
    except Exception:  # noqa: BLE001 - the cache is Redis, checked separately
        cached = None
    if cached is not None:
        return {**cached, "cached": True}
    result = _check(_worker)
    try:
        cache.set(WORKER_CHECK_KEY, result, settings.HEALTHZ_WORKER_CACHE_SECONDS)
    except Exception:  # noqa: BLE001
        pass
    return result


def _allowed(request: HttpRequest) -> bool:
    token = settings.HEALTHZ_TOKEN
    sent = request.headers.get("X-Healthz-Token", "")
    if token and sent and hmac.compare_digest(token.encode(), sent.encode()):
        return True
    return is_loopback_without_proxy(request)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    if not _allowed(request):
        raise Http404
    checks = {"database": _check(_database), "redis": _check(_redis)}
    # A worker is only asked when the broker answers; otherwise the ping would hang on retries.
    checks["worker"] = (
        _cached_worker_check() if checks["redis"]["ok"] else {"ok": False, "error": "broker unreachable"}
    )
    serving = checks["database"]["ok"] and checks["redis"]["ok"]
    status = "ok" if serving and checks["worker"]["ok"] else ("degraded" if serving else "down")
    # The web tier can serve without a worker (re-evaluation waits for it), not without DB or Redis.
    return JsonResponse({"status": status, "checks": checks}, status=200 if serving else 503)
