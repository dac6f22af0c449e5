"""manage.py seed_loadtest_users --out FILE [--coordinators-per-site 5] [--reviewers 5]

The users of the load test (bench/loadtest): per site of the seeded population a number of
coordinators, each given its own share of the site's participants in screening (two simulated
coordinators never save the same participant, so that every save's evaluation can be traced), and
EAC reviewers with a confirmed TOTP device, as if each had set it up on first use. Writes their
username, password, TOTP key (hex) and participants to FILE for the load test's simulated users.

A development or benchmark database only: the command refuses to run unless DJANGO_DEBUG is on,
and the users it makes are named `lt.*`. Run again, it keeps the users and their devices (new
password, participants assigned again)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from participants.models import Membership, OutcomeStatus, Participant, Role, Site, User
from participants.second_factor import DEVICE_NAME


class Command(BaseCommand):
    help = "Create the load test's coordinators and EAC reviewers (with TOTP devices); development only."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, required=True, help="JSON file for the load test")
        parser.add_argument("--coordinators-per-site", type=int, default=5)
        parser.add_argument("--reviewers", type=int, default=5)

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("Load-test users are for development databases: set DJANGO_DEBUG=true.")
        sites = list(Site.objects.order_by("code"))
        if not sites:
            raise CommandError("No sites: seed a population first (manage.py seed_population N --sites K).")
        password = secrets.token_urlsafe(16)
        hashed = make_password(password)  # one hash for every account: 55 hashes would take a minute
        per_site = options["coordinators_per_site"]
        with transaction.atomic():
            coordinators = []
            in_screening = _participants_in_screening()
            for site in sites:
                ids = in_screening.get(site.pk, [])
                for i in range(1, per_site + 1):
                    user = _user(
                        f"lt.coord.{site.code.lower()}.{i}",
                        f"Load-test coordinator {i}, {site.code}",
                        hashed,
                    )
                    Membership.objects.get_or_create(user=user, role=Role.COORDINATOR, site=site)
                    coordinators.append(
                        {"username": user.username, "site": site.code, "participants": ids[i - 1 :: per_site]}
                    )
            reviewers = []
            for i in range(1, options["reviewers"] + 1):
                # A reviewer belongs to an institution (a site), whose participants they do not review.
                site = sites[(i - 1) % len(sites)]
                user = _user(f"lt.eac.{i}", f"Load-test reviewer {i}", hashed)
                Membership.objects.get_or_create(user=user, role=Role.EAC_REVIEWER, site=site)
                device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
                if device is None:
                    device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)
                reviewers.append({"username": user.username, "site": site.code, "totp_key": device.key})
        data = {"password": password, "coordinators": coordinators, "reviewers": reviewers}
        options["out"].parent.mkdir(parents=True, exist_ok=True)
        options["out"].write_text(json.dumps(data))
        options["out"].chmod(0o600)
        assigned = sum(len(c["participants"]) for c in coordinators)
        self.stdout.write(
            f"{len(coordinators)} coordinators over {len(sites)} sites ({assigned} participants in screening "
            f"assigned), {len(reviewers)} EAC reviewers with TOTP devices; written to {options['out']}"
        )


def _user(username: str, full_name: str, hashed_password: str) -> User:
    user, _ = User.objects.get_or_create(username=username, defaults={"full_name": full_name})
    user.password = hashed_password
    user.save(update_fields=["password"])
    return user


def _participants_in_screening() -> dict[int, list[int]]:
    """Per site, the IDs of participants still in screening, in screening order."""
    rows = (
        Participant.objects.filter(screening_state__outcome=OutcomeStatus.IN_SCREENING)
        .order_by("site_id", "screening_sequence")
        .values_list("site_id", "pk")
    )
    grouped: dict[int, list[int]] = {}
    for site_id, pk in rows:
        grouped.setdefault(site_id, []).append(pk)
    return grouped
