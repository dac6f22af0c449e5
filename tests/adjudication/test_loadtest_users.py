"""`manage.py seed_loadtest_users`: refused outside development settings; coordinators share their
site's participants without overlap; a reviewer's code computed from the written key, as the load
test's simulated reviewer computes it, signs once (the same code again is refused)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django_otp.oath import totp

from participants.models import Membership, Role, Site, User
from participants.second_factor import verify_code

from ..factories import ParticipantFactory

pytestmark = pytest.mark.django_db


def test_refused_unless_debug(tmp_path: Path, site_a: Site) -> None:
    with override_settings(DEBUG=False), pytest.raises(CommandError, match="DJANGO_DEBUG"):
        call_command("seed_loadtest_users", "--out", str(tmp_path / "users.json"))
    assert not User.objects.filter(username__startswith="lt.").exists()


def test_users_their_participants_and_codes(tmp_path: Path, site_a: Site, site_b: Site) -> None:
    owner = User.objects.create(username="owner")
    ids = {
        site: [ParticipantFactory(site=site, created_by=owner).pk for _ in range(5)]
        for site in (site_a, site_b)
    }
    out = tmp_path / "users.json"
    with override_settings(DEBUG=True):
        call_command(
            "seed_loadtest_users", "--out", str(out), "--coordinators-per-site", "2", "--reviewers", "2"
        )
        call_command(
            "seed_loadtest_users", "--out", str(out), "--coordinators-per-site", "2", "--reviewers", "2"
        )
    data = json.loads(out.read_text())
    assert len(data["coordinators"]) == 4 and len(data["reviewers"]) == 2
    for site in (site_a, site_b):
        shares = [c["participants"] for c in data["coordinators"] if c["site"] == site.code]
        assert sorted(pk for share in shares for pk in share) == sorted(ids[site])
    assert Membership.objects.filter(user__username__startswith="lt.", role=Role.EAC_REVIEWER).count() == 2
    reviewer = data["reviewers"][0]
    user = User.objects.get(username=reviewer["username"])
    assert user.check_password(data["password"])
    code = f"{totp(bytes.fromhex(reviewer['totp_key']), step=30, t0=0, digits=6, drift=0):06d}"
    assert verify_code(user, code)
    assert not verify_code(user, code), "a code signs once"
