"""The audit-trail export reads each history table in (time, event) order a chunk at a time and
merges them: the same events in the same order as one ordered statement over every table."""

from __future__ import annotations

from datetime import date

import pytest

from audit import trail
from participants import services
from participants.models import Participant
from tests.factories import ParticipantFactory

pytestmark = pytest.mark.django_db


def test_merged_chunks_give_the_statements_order(site_a, coordinator_a) -> None:
    for _ in range(4):
        p = ParticipantFactory(site=site_a, created_by=coordinator_a)
        services.update_participant(coordinator_a, p, reason="key dates", screening_start=date(2025, 6, 1))
    expected = list(trail.stream_trail(participants=None, one_participant=True))
    assert len(expected) > 10
    for chunk_size in (1, 3, 2000):
        merged = list(trail.stream_trail(participants=None, chunk_size=chunk_size))
        key = [(e.at, e.record_type, e.record_id, e.action) for e in merged]
        assert key == [(e.at, e.record_type, e.record_id, e.action) for e in expected]
    scoped = list(trail.stream_trail(participants=Participant.objects.filter(pk=p.pk), chunk_size=2))
    assert scoped and {e.participant_id for e in scoped} == {p.pk}
