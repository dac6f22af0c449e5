"""/healthz: is the database, Redis and a Celery worker reachable? JSON, no login."""

from __future__ import annotations

import time
from typing import Any

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from .celery import app as celery_app


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


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check(_database), "redis": _check(_redis)}
    # A worker is only asked when the broker answers; otherwise the ping would hang on retries.
    checks["worker"] = (
        _check(_worker) if checks["redis"]["ok"] else {"ok": False, "error": "broker unreachable"}
    )
    serving = checks["database"]["ok"] and checks["redis"]["ok"]
    status = "ok" if serving and checks["worker"]["ok"] else ("degraded" if serving else "down")
    # The web tier can serve without a worker (re-evaluation waits for it), not without DB or Redis.
    return JsonResponse({"status": status, "checks": checks}, status=200 if serving else 503)
