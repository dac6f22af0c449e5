"""Two sites register the same person at the same moment: one registers, the other is warned."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connections

from participants import services
from participants.models import DuplicateCheck, DuplicateOutcome, Participant

pytestmark = pytest.mark.django_db(transaction=True)


def test_simultaneous_registrations_at_two_sites_cannot_both_pass(
    coordinator_a, coordinator_b, site_a, site_b
) -> None:
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def attempt(user, site) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait(timeout=10)
            services.register_participant(
                user, site=site, cohort="IIM", sex="M", birth_date=date(1979, 2, 3), initials="RS"
            )
            outcomes[site.code] = "registered"
        except services.PossibleDuplicate:
            outcomes[site.code] = "warned"
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=attempt, args=(user, site))
        for user, site in ((coordinator_a, site_a), (coordinator_b, site_b))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes.values()) == ["registered", "warned"]
    assert Participant.objects.count() == 1
    warned = DuplicateCheck.objects.get(outcome=DuplicateOutcome.POSSIBLE)
    assert warned.other_site_match is True and warned.same_site_matches == []
