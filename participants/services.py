"""Actions on participants. Each takes the acting user and runs in one transaction."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied
from django.db import transaction

from .models import Membership, Participant, Role, Site, User


@transaction.atomic
def register_participant(
    user: User,
    *,
    site: Site,
    cohort: str,
    sex: str,
    birth_date: date,
    lupus_nephritis: bool | None = None,
    screening_start: date | None = None,
    icf_signed: date | None = None,
    planned_enrollment: date | None = None,
    planned_day0: date | None = None,
) -> Participant:
    """Register a candidate at the user's site with the next screening number of that site."""
    if not Membership.objects.filter(
        user=user, site=site, role__in=[Role.COORDINATOR, Role.INVESTIGATOR]
    ).exists():
        raise PermissionDenied("Only the site's coordinators and investigators register its participants.")
    # The row lock serialises concurrent registrations at one site: numbers are never reused.
    locked = Site.objects.select_for_update().get(pk=site.pk)
    locked.last_screening_sequence += 1
    locked.save(update_fields=["last_screening_sequence"])
    sequence = locked.last_screening_sequence
    return Participant.objects.create(
        site=locked,
        screening_sequence=sequence,
        screening_number=f"{locked.code}-{sequence:04d}",
        cohort=cohort,
        lupus_nephritis=lupus_nephritis,
        sex=sex,
        birth_date=birth_date,
        screening_start=screening_start,
        icf_signed=icf_signed,
        planned_enrollment=planned_enrollment,
        planned_day0=planned_day0,
        created_by=user,
    )
