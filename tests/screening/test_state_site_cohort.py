"""ScreeningState carries a copy of the participant's site and cohort (the dashboard counts
statuses from the state's index alone): the database keeps it equal to the participant's."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from participants.models import Cohort
from screening.models import ScreeningState
from tests.factories import ParticipantFactory, SiteFactory

pytestmark = pytest.mark.django_db


def test_state_copies_the_participants_site_and_cohort() -> None:
    participant = ParticipantFactory(cohort=Cohort.IIM, lupus_nephritis=None)
    state = ScreeningState.objects.get(participant=participant)
    assert (state.site_id, state.cohort) == (participant.site_id, Cohort.IIM)
    # A row made from the participant's ID alone (the sweep's marks) takes the participant's.
    ScreeningState.objects.filter(participant=participant).delete()
    ScreeningState.objects.bulk_create([ScreeningState(participant_id=participant.pk)])
    state = ScreeningState.objects.get(participant=participant)
    assert (state.site_id, state.cohort) == (participant.site_id, Cohort.IIM)
    # A change of the participant's cohort reaches the copy (the foreign key cascades it).
    type(participant).objects.filter(pk=participant.pk).update(cohort=Cohort.SSC)
    state.refresh_from_db()
    assert state.cohort == Cohort.SSC


@pytest.mark.parametrize("trigger", ["on", "off"])
def test_the_copy_cannot_differ(trigger: str) -> None:
    """The foreign key on (participant, site, cohort) refuses a copy that differs, whoever writes it."""
    participant = ParticipantFactory()
    other = SiteFactory()
    with pytest.raises(IntegrityError, match="state_site_cohort_are_participants"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's own pending checks first
            if trigger == "off":
                cursor.execute("ALTER TABLE screening_screeningstate DISABLE TRIGGER USER")
            cursor.execute(
                "UPDATE screening_screeningstate SET site_id = %s WHERE participant_id = %s",
                [other.pk, participant.pk],
            )
    with pytest.raises(IntegrityError, match="state_site_cohort_are_participants"):
        with transaction.atomic():
            ScreeningState.objects.filter(participant=participant).update(cohort=Cohort.SSC)
            connection.cursor().execute("SET CONSTRAINTS ALL IMMEDIATE")
