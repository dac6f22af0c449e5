"""Demo sites, people and participants for `make run`. Loading twice changes nothing."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from .demo_password import DEMO_PASSWORD  # noqa: E402,F401
from .models import Cohort, Membership, Participant, Role, Sex, Site, User

SITES = [("S01", "University Hospital North"), ("S02", "City Medical Centre South")]

# username, full name, role, site code (None: no site)
PEOPLE = [
    ("coord.s01", "Coordinator, site S01", Role.COORDINATOR, "S01"),
    ("coord.s02", "Coordinator, site S02", Role.COORDINATOR, "S02"),
    ("inv.s01", "Investigator, site S01", Role.INVESTIGATOR, "S01"),
    ("inv.s02", "Investigator, site S02", Role.INVESTIGATOR, "S02"),
    ("eac.a", "EAC reviewer A", Role.EAC_REVIEWER, "S01"),
    ("eac.b", "EAC reviewer B", Role.EAC_REVIEWER, "S02"),
    ("eac.c", "EAC reviewer C", Role.EAC_REVIEWER, None),
    ("monitor", "Trial monitor", Role.MONITOR, None),
    ("admin", "Trial administrator", Role.ADMIN, None),
]

# site code, cohort, lupus nephritis, sex, birth date
PARTICIPANTS = [
    ("S01", Cohort.SLE, False, Sex.FEMALE, date(1987, 9, 14)),
    ("S01", Cohort.SLE, True, Sex.FEMALE, date(1991, 4, 2)),
    ("S01", Cohort.SSC, None, Sex.MALE, date(1961, 1, 20)),
    ("S02", Cohort.IIM, None, Sex.FEMALE, date(1973, 5, 30)),
    ("S02", Cohort.SLE, False, Sex.FEMALE, date(1995, 11, 8)),
]


@transaction.atomic
def load_demo_data() -> dict[str, int]:
    sites = {code: Site.objects.get_or_create(code=code, defaults={"name": name})[0] for code, name in SITES}
    created_users = 0
    for username, full_name, role, site_code in PEOPLE:
        user, created = User.objects.get_or_create(
            username=username, defaults={"full_name": full_name, "email": f"{username}@example.org"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.is_staff = user.is_superuser = role == Role.ADMIN
            user.save()
            created_users += 1
        Membership.objects.get_or_create(user=user, role=role, site=sites[site_code] if site_code else None)
    created_participants = 0
    if not Participant.objects.exists():
        from .services import register_participant

        for site_code, cohort, ln, sex, birth_date in PARTICIPANTS:
            coordinator = User.objects.get(username=f"coord.{site_code.lower()}")
            register_participant(
                coordinator,
                site=sites[site_code],
                cohort=cohort,
                lupus_nephritis=ln,
                sex=sex,
                birth_date=birth_date,
            )
            created_participants += 1
    return {"users": created_users, "participants": created_participants}
