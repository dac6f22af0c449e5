"""Activation of a protocol amendment against a real worker and the real Redis broker: every
participant of the site is re-evaluated under the new version with the trigger "protocol
amendment", none is left unevaluated, and the other site is untouched."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from participants.models import Participant, Role
from screening.amendments import activate_version, record_release
from screening.models import Evaluation, Trigger
from tests.factories import ParticipantFactory

from .test_worker import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

AMENDMENT = "2025-11-14.3"


def test_activation_ends_with_every_participant_of_the_site_evaluated_under_the_amendment(
    celery_worker_process, make_user, coordinator_a, coordinator_b, site_a, site_b
) -> None:
    at_a = [ParticipantFactory(site=site_a, created_by=coordinator_a) for _ in range(120)]
    at_b = [ParticipantFactory(site=site_b, created_by=coordinator_b) for _ in range(5)]
    admin = make_user(Role.ADMIN)
    record_release(admin, version=AMENDMENT, title="Amendment 3", released_on=date(2025, 11, 14))
    activate_version(admin, site=site_a, version=AMENDMENT, approved_on=timezone.localdate())

    def unevaluated() -> int:
        return Participant.objects.filter(site=site_a, screening_state__reevaluation_requested_at__isnull=False).count()

    wait_for(lambda: unevaluated() == 0, timeout=120, what="every participant of site A evaluated")
    assert unevaluated() == 0
    evaluations = Evaluation.objects.filter(participant__site=site_a)
    assert evaluations.count() == len(at_a)
    assert set(evaluations.values_list("trigger", "protocol_version")) == {
        (Trigger.PROTOCOL_AMENDMENT, AMENDMENT)
    }
    assert not Evaluation.objects.filter(participant__in=at_b).exists()
    # The worker finishes what it is doing (the escalation sync after each stored chunk) and stops
    # before the test database is emptied, so that the emptying never waits on its transactions.
    celery_worker_process.stop()
