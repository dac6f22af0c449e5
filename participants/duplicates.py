"""The duplicate check's search: who might already be registered as this candidate.

A possible duplicate has the same birth date and sex, and the same initials or none on record
(participants registered before initials were asked cannot be told apart by them). At the
registering site the matches are named, since its coordinators see those participants anyway; of
every other site only whether one exists is read, so that nothing about it can reach the page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.db.models import Q

from .models import Participant, Site

# The first key of the advisory lock of `lock_identity`: its own space among the application's locks.
DUPLICATE_LOCK_SPACE = 329_001


@dataclass(frozen=True)
class DuplicateFindings:
    same_site: tuple[str, ...]  # screening numbers at the registering site
    other_site: bool  # a possible duplicate exists at another site

    def __bool__(self) -> bool:
        return bool(self.same_site) or self.other_site


def find_duplicates(*, site: Site, birth_date: date, sex: str, initials: str) -> DuplicateFindings:
    """Two queries, whatever the number of participants (both use the birth date and sex index)."""
    candidates = Participant.objects.filter(birth_date=birth_date, sex=sex).filter(
        Q(initials=initials.upper()) | Q(initials="")
    )
    same_site = tuple(
        candidates.filter(site=site).order_by("screening_sequence").values_list("screening_number", flat=True)
    )
    other_site = candidates.exclude(site=site).exists()
    return DuplicateFindings(same_site, other_site)


def lock_identity(birth_date: date, sex: str) -> None:
    """Serialise, until the transaction ends, the registrations of one birth date and sex across
    all sites (the site's row lock covers only its own), so that two sites registering the same
    person at the same moment cannot both find nothing. Taken after the site's lock, always."""
    key = birth_date.toordinal() * 4 + (1 if sex == "F" else 2)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [DUPLICATE_LOCK_SPACE, key])
