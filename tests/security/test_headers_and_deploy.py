"""Response headers (CSP, no-store), /healthz's exposure and cost, and `check --deploy`."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from config.health import WORKER_CHECK_KEY

from ..conftest import REPO_ROOT

pytestmark = pytest.mark.django_db


def test_pages_carry_a_strict_content_security_policy(client: Client, coordinator_a, participant_a) -> None:
    client.force_login(coordinator_a)
    for url in (
        reverse("login"),
        reverse("participants:list"),
        reverse("participants:detail", args=[participant_a.pk]),
    ):
        policy = client.get(url)["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
        assert directives["script-src"] == "'self'", url
        assert directives["style-src"] == "'self'", url
        assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"


def test_no_template_has_inline_script_handlers_or_styles() -> None:
    """What the policy would block in a browser: inline scripts, on*= handlers, style attributes."""
    offending = []
    for path in (REPO_ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son[a-z]+\s*=", text):
            offending.append(str(path))
        if re.search(r"\sstyle\s*=|<style", text):
            offending.append(str(path))
    assert offending == []


def test_participant_pages_and_downloads_are_never_cached(
    client: Client, coordinator_a, participant_a, make_user
) -> None:
    from participants.models import Role

    client.force_login(coordinator_a)
    for url in (reverse("participants:list"), reverse("participants:detail", args=[participant_a.pk])):
        assert "no-store" in client.get(url)["Cache-Control"], url
    monitor = make_user(Role.MONITOR, None, "trial.monitor")
    client.force_login(monitor)
    download = client.get(reverse("adjudication:export_log", kwargs={"fmt": "csv"}))
    assert "no-store" in download["Cache-Control"]
    b"".join(download.streaming_content)
    assert "no-store" in client.get(reverse("login"))["Cache-Control"]


def test_healthz_is_not_public(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.HEALTHZ_WORKER_TIMEOUT = 0.1
    assert client.get("/healthz", REMOTE_ADDR="203.0.113.9").status_code == 404
    # Relayed by the proxy (even from loopback): refused; the proxy also answers 404 itself.
    assert client.get("/healthz", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 404
    settings.HEALTHZ_TOKEN = "a-monitoring-token"
    assert client.get("/healthz", REMOTE_ADDR="203.0.113.9", HTTP_X_HEALTHZ_TOKEN="wrong").status_code == 404
    ok = client.get("/healthz", REMOTE_ADDR="203.0.113.9", HTTP_X_HEALTHZ_TOKEN="a-monitoring-token")
    assert ok.status_code == 200


def test_healthz_caches_the_worker_check(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.HEALTHZ_WORKER_TIMEOUT = 0.1
    cache.delete(WORKER_CHECK_KEY)
    first = client.get("/healthz").json()["checks"]["worker"]
    second = client.get("/healthz").json()["checks"]["worker"]
    assert "cached" not in first and second["cached"] is True
    assert second["ok"] == first["ok"]
    cache.delete(WORKER_CHECK_KEY)


# Warnings of `check --deploy` that docs/security.md justifies (§ Deployment checks).
JUSTIFIED = {"security.W005", "security.W021"}


@pytest.mark.slow
def test_check_deploy_under_production_settings() -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environment.update(
        DJANGO_SECRET_KEY="x7-" + "production-like-secret-key-for-the-deploy-check-0123456789",
        DJANGO_HSTS_SECONDS="31536000",
        DJANGO_SECURE_SSL_REDIRECT="true",
        DJANGO_TRUSTED_PROXIES="1",
        DJANGO_ALLOWED_HOSTS="screening.example.org",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    found = set(re.findall(r"\(([a-z_]+\.[A-Z]\d{3})\)", output))
    assert found <= JUSTIFIED, output
    security_doc = (REPO_ROOT / "docs" / "security.md").read_text()
    for check_id in JUSTIFIED:
        assert check_id in security_doc, check_id
