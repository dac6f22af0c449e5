"""/healthz and the environment-driven settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.test import Client, override_settings

from ..conftest import REPO_ROOT

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_redis_and_worker(client: Client, settings) -> None:
    settings.HEALTHZ_WORKER_TIMEOUT = 0.3
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is True
    # No worker runs during this test: the web tier is up, the status says degraded.
    assert body["checks"]["worker"]["ok"] is False
    assert body["status"] == "degraded"


def test_healthz_fails_when_redis_is_unreachable(client: Client) -> None:
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["checks"]["redis"]["ok"] is False
    assert "ConnectionError" in body["checks"]["redis"]["error"]


def _settings_in_subprocess(env: dict[str, str], expression: str) -> subprocess.CompletedProcess[str]:
    code = (
        f"import json, django; from django.conf import settings; print(json.dumps({expression}, default=str))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    clean.update(env)
    clean["DJANGO_SETTINGS_MODULE"] = "config.settings"
    return subprocess.run(
        [sys.executable, "-c", code], env=clean, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )


def test_production_defaults_are_safe() -> None:
    result = _settings_in_subprocess(
        {"DJANGO_SECRET_KEY": "x" * 50},
        "[settings.DEBUG, settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, settings.ALLOWED_HOSTS]",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [False, True, True, ["localhost", "127.0.0.1"]]


def test_secret_key_is_required_without_debug() -> None:
    result = _settings_in_subprocess({}, "settings.SECRET_KEY")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_settings_follow_the_environment() -> None:
    result = _settings_in_subprocess(
        {
            "DJANGO_DEBUG": "true",
            "DJANGO_ALLOWED_HOSTS": "screening.example.org,other.example.org",
            "DATABASE_URL": "postgres://u:p@%2Ftmp%2Fpg/trialdb",
            "REDIS_URL": "redis://cache.internal:6380/2",
            "SESSION_IDLE_TIMEOUT_SECONDS": "600",
            "LOGIN_FAILURE_LIMIT": "3",
        },
        "[settings.DEBUG, settings.ALLOWED_HOSTS, settings.DATABASES['default']['HOST'],"
        " settings.DATABASES['default']['NAME'], settings.CELERY_BROKER_URL, settings.SESSION_COOKIE_AGE,"
        " settings.AXES_FAILURE_LIMIT, settings.SESSION_COOKIE_SECURE]",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        True,
        ["screening.example.org", "other.example.org"],
        "/tmp/pg",
        "trialdb",
        "redis://cache.internal:6380/2",
        600,
        3,
        False,
    ]


def test_only_postgresql_is_accepted() -> None:
    result = _settings_in_subprocess(
        {"DJANGO_DEBUG": "1", "DATABASE_URL": "sqlite:///db.sqlite3"}, "settings.DEBUG"
    )
    assert result.returncode != 0
    assert "must point to PostgreSQL" in result.stderr
