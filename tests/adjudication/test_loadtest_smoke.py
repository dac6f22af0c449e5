"""Smoke test of the load test's simulated users (bench/loadtest/locustfile.py): one coordinator and
one EAC reviewer, without think time, against the live server for a few seconds. Every request
succeeds, each save is stored and seen evaluated by the page, and the reviewer's signature (password
and a TOTP code computed from the device's key) is stored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings

from adjudication.models import Escalation, Signature
from participants.models import LabResult, Participant, Site, User

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

LOCUSTFILE = Path(__file__).resolve().parents[2] / "bench" / "loadtest" / "locustfile.py"


def test_the_simulated_users_work_without_errors(
    live_server: Any,
    enter: Callable[..., Participant],
    coordinator_b: User,
    site_a: Site,
    site_b: Site,
    tmp_path: Path,
) -> None:
    mine = enter("sle-eligible.json")
    enter("sle-ln-no-biopsy.json", coordinator=coordinator_b, site=site_b)
    assert Escalation.objects.filter(state="open", review_by="eac", participant__site=site_b).exists()
    with override_settings(DEBUG=True):
        call_command(
            "seed_loadtest_users",
            "--out",
            str(tmp_path / "users.json"),
            "--coordinators-per-site",
            "1",
            "--reviewers",
            "1",
        )  # the reviewer belongs to site A and reviews site B's item
    files = {name: tmp_path / f"{name}.json" for name in ("saves", "ramp", "final")}
    env = os.environ | {
        "LOADTEST_USERS": str(tmp_path / "users.json"),
        "LOADTEST_SAVES": str(files["saves"]),
        "LOADTEST_RAMP": str(files["ramp"]),
        "LOADTEST_FINAL": str(files["final"]),
        "LOADTEST_COORDINATORS": "1",
        "LOADTEST_REVIEWERS": "1",
        "LOADTEST_THINK": "0",
        "LOADTEST_POLL_SECONDS": "0.2",
    }
    locust = Path(sys.executable).parent / "locust"
    command = [str(locust), "-f", str(LOCUSTFILE), "--headless", "--users", "2", "--spawn-rate", "2",
               "--run-time", "20s", "--host", live_server.url, "--only-summary", "--stop-timeout", "10"]  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    rows = {r["name"]: r for r in json.loads(files["final"].read_text())["requests"]}
    output = result.stdout[-3000:] + result.stderr[-3000:]
    assert rows["Aggregated"]["failures"] == 0 and result.returncode == 0, output
    assert {"login", "record save", "live panel", "evaluation status", "sign"} <= set(rows), output
    saves = [json.loads(line) for line in files["saves"].read_text().splitlines()]
    assert saves and all(s["saved"] and s["evaluation_seen"] for s in saves)
    entered = LabResult.objects.filter(participant=mine, entered_by__username__startswith="lt.coord.")
    assert entered.count() == len(saves)
    assert Signature.objects.filter(signer__username="lt.eac.1").count() == rows["sign"]["requests"] == 1
