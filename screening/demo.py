"""Demo sites, people and participants for `make run`. Loading twice changes nothing.

Participants come from the worked example cases of the protocol package (REPO/../shared/cases),
entered record by record through the services with every date shifted so that the case's as_of
is today, then evaluated; without the cases, plain registrations stand in."""

from __future__ import annotations

import copy
import json
import logging
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from participants.case_import import import_case, shift_case_dates
from participants.consent import approve_consent_version, record_consent, register_consent_version
from participants.demo_password import DEMO_PASSWORD
from participants.models import (
    Cohort,
    ConsentVersion,
    Membership,
    Participant,
    Role,
    Sex,
    Site,
    SiteLabUnit,
    User,
)
from participants.services import record_lab, register_participant, update_participant
from screening.evaluation import evaluate_participant
from screening.models import FailureCategory, Trigger
from screening.outcomes import record_screen_failure, rescreen

SITES = [("S01", "University Hospital North"), ("S02", "City Medical Centre South")]
# Each site's usual units, which the screening visit form pre-selects: S01 reports as US
# laboratories do, S02 in SI units.
SITE_UNITS = {
    "S01": {
        "anc": "/uL",
        "alc": "/uL",
        "platelets": "10^3/uL",
        "hemoglobin": "g/dL",
        "creatinine": "mg/dL",
        "weight": "kg",
    },
    "S02": {
        "anc": "10^9/L",
        "alc": "10^9/L",
        "platelets": "10^9/L",
        "hemoglobin": "g/L",
        "creatinine": "umol/L",
        "weight": "kg",
    },
}

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

log = logging.getLogger(__name__)

CASES_DIR = Path(settings.BASE_DIR).parent / "shared" / "cases"

# Per site: (example case, days its data are older than today). Together they give every site
# participants in each status; an age of a few days puts results into the "expiring soon" list.
DEMO_CASES: dict[str, tuple[tuple[str, int], ...]] = {
    "S01": (
        ("sle-eligible", 5),  # the story below: three evaluations
        ("sle-rituximab-washout", 0),
        ("sle-washout-no-day0", 0),
        ("sle-ln-no-biopsy", 0),
        ("sle-anc-low", 0),
        ("ssc-male-eligible", 4),
        ("sle-stale-labs", 0),
    ),
    "S02": (
        ("iim-eligible", 0),
        ("iim-anti-tif1g-positive", 0),
        ("iim-asyn-aldolase-missing", 0),
        ("ssc-crp-only", 0),
        ("sle-malignancy-live-vaccine", 0),
        ("ssc-lung-borderline", 3),
    ),
}
# Cases whose screening ends in the demo: a screen failure for the criteria it fails, then a
# re-screening as a linked new attempt (enrollment is left to the demo investigator, who signs).
SCREEN_FAILED_THEN_RESCREENED = ("sle-anc-low",)

# The case whose participant gets a history: entered with a low ANC and no planned Day 0, then
# the Day 0 is set and the ANC redrawn, each step evaluated.
STORY_CASE = "sle-eligible"

# Without the example cases: site code, cohort, lupus nephritis, sex, birth date
PARTICIPANTS = [
    ("S01", Cohort.SLE, False, Sex.FEMALE, date(1987, 9, 14)),
    ("S01", Cohort.SLE, True, Sex.FEMALE, date(1991, 4, 2)),
    ("S01", Cohort.SSC, None, Sex.MALE, date(1961, 1, 20)),
    ("S02", Cohort.IIM, None, Sex.FEMALE, date(1973, 5, 30)),
    ("S02", Cohort.SLE, False, Sex.FEMALE, date(1995, 11, 8)),
]


@transaction.atomic
def load_demo_data(cases_dir: Path | None = None) -> dict[str, int]:
    sites = {code: Site.objects.get_or_create(code=code, defaults={"name": name})[0] for code, name in SITES}
    for code, units in SITE_UNITS.items():
        for test, unit in units.items():
            SiteLabUnit.objects.get_or_create(site=sites[code], test=test, defaults={"unit": unit})
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
    directory = CASES_DIR if cases_dir is None else cases_dir
    for code, site in sites.items():
        if Participant.objects.filter(site=site).exists():
            continue  # loaded before
        coordinator = User.objects.get(username=f"coord.{code.lower()}")
        if directory.is_dir():
            created_participants += _load_cases(coordinator, site, directory, DEMO_CASES.get(code, ()))
        else:
            created_participants += _register_plain(coordinator, site)
    if not ConsentVersion.objects.exists():
        _load_consent(sites)
    return {"users": created_users, "participants": created_participants}


# Initials of the demo participants, one pair each in order of registration: none repeats, so the
# duplicate check lets every demo registration through.
DEMO_INITIALS = ("AK", "BL", "CM", "DN", "EO", "FP", "GQ", "HR", "IS", "JT", "KU", "LV", "MW", "NX")


def _initials() -> str:
    """The next unused pair, the same on every load of an empty database."""
    return DEMO_INITIALS[Participant.objects.count() % len(DEMO_INITIALS)]


def _load_consent(sites: dict[str, Site]) -> None:
    """Two consent form versions: 1.0 in use at both sites for a year; 2.0 in effect at S01 since a
    week ago (its participants who signed 1.0 show "re-consent needed"; one has re-consented) and
    approved at S02 to take effect in two weeks. Every participant with an ICF date signed 1.0 then."""
    today = timezone.localdate()
    admin = User.objects.get(username="admin")
    v1 = register_consent_version(admin, label="1.0", document_date=today - timedelta(days=400))
    v2 = register_consent_version(admin, label="2.0", document_date=today - timedelta(days=30))
    for site in sites.values():
        approve_consent_version(admin, version=v1, site=site, effective_on=today - timedelta(days=365))
    approve_consent_version(admin, version=v2, site=sites["S01"], effective_on=today - timedelta(days=7))
    approve_consent_version(admin, version=v2, site=sites["S02"], effective_on=today + timedelta(days=14))
    participants = Participant.objects.filter(icf_signed__isnull=False).select_related("site")
    for participant in participants.order_by("site__code", "screening_sequence"):
        coordinator = User.objects.get(username=f"coord.{participant.site.code.lower()}")
        assert participant.icf_signed is not None
        record_consent(coordinator, participant, version=v1, signed_on=participant.icf_signed)
    story = participants.filter(site=sites["S01"]).order_by("screening_sequence").first()
    if story is not None:
        record_consent(
            User.objects.get(username="coord.s01"), story, version=v2, signed_on=today - timedelta(days=1)
        )


def _read_case(path: Path) -> dict[str, Any]:
    case: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    return case


def _load_cases(coordinator: User, site: Site, directory: Path, names: tuple[tuple[str, int], ...]) -> int:
    today = timezone.localdate()
    created = 0
    for name, age_days in names:
        path = directory / f"{name}.json"
        if not path.is_file():
            log.warning("demo case %s not found in %s", name, directory)
            continue
        case = _read_case(path)
        offset = (today - timedelta(days=age_days) - date.fromisoformat(case["dates"]["as_of"])).days
        case = shift_case_dates(case, offset)
        try:
            with transaction.atomic():
                if name == STORY_CASE:
                    _story(coordinator, site, case)
                else:
                    participant = import_case(coordinator, site, case, initials=_initials())
                    evaluate_participant(
                        participant.pk,
                        trigger=Trigger.DATA_CHANGE,
                        detail="screening data entered",
                        user=coordinator,
                    )
                    if name in SCREEN_FAILED_THEN_RESCREENED:
                        record_screen_failure(
                            coordinator,
                            participant.pk,
                            category=FailureCategory.CRITERIA_NOT_MET,
                            reason="Failing criteria at screening",
                        )
                        again = rescreen(coordinator, participant.pk)
                        evaluate_participant(
                            again.pk, trigger=Trigger.DATA_CHANGE, detail="re-screening", user=coordinator
                        )
        except Exception:  # a case the services refuse: the rest of the demo still loads
            log.warning("demo case %s could not be entered", name, exc_info=True)
            continue
        created += 1
    return created


def _story(coordinator: User, site: Site, case: dict[str, Any]) -> None:
    """Three evaluations: low ANC and no Day 0; Day 0 planned; ANC redrawn."""
    first = copy.deepcopy(case)
    day0 = date.fromisoformat(first["dates"].pop("planned_day0"))
    anc = next(lab for lab in first["labs"] if lab["test"] == "anc")
    anc["value"] = Decimal(900)
    participant = import_case(coordinator, site, first, initials=_initials())
    evaluate_participant(
        participant.pk, trigger=Trigger.DATA_CHANGE, detail="screening data entered", user=coordinator
    )
    update_participant(coordinator, participant, reason="", planned_day0=day0)
    evaluate_participant(
        participant.pk, trigger=Trigger.DATA_CHANGE, detail="key dates recorded", user=coordinator
    )
    redrawn = date.fromisoformat(anc["collected"]) + timedelta(days=1)
    record_lab(coordinator, participant, test="anc", value=Decimal(1200), unit=anc["unit"], collected=redrawn)
    evaluate_participant(participant.pk, trigger=Trigger.DATA_CHANGE, detail="lab recorded", user=coordinator)


def _register_plain(coordinator: User, site: Site) -> int:
    created = 0
    for site_code, cohort, ln, sex, birth_date in PARTICIPANTS:
        if site_code != site.code:
            continue
        participant = register_participant(
            coordinator,
            site=site,
            cohort=cohort,
            lupus_nephritis=ln,
            sex=sex,
            birth_date=birth_date,
            initials=_initials(),
        )
        evaluate_participant(
            participant.pk, trigger=Trigger.DATA_CHANGE, detail="registered", user=coordinator
        )
        created += 1
    return created
