"""The demo data register with initials and carry consent versions: S01 needs re-consent to 2.0
(but its first participant re-consented), S02 changes over in two weeks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from adjudication.demo import load_demo_escalations
from participants.consent import consent_status, enrollment_block
from participants.models import DuplicateCheck, DuplicateOutcome, Participant
from screening.demo import CASES_DIR, load_demo_data

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(not CASES_DIR.is_dir(), reason="the protocol package's example cases are not here")
def test_demo_participants_have_initials_and_consent() -> None:
    load_demo_data()
    load_demo_escalations()
    today = timezone.localdate()
    participants = list(Participant.objects.select_related("site").order_by("screening_number"))
    # Distinct candidates have distinct initials; a re-screening attempt keeps its candidate's.
    assert all(p.initials for p in participants)
    first_attempts = [p.initials for p in participants if p.previous_attempt_id is None]
    assert len(set(first_attempts)) == len(first_attempts)
    assert all(p.initials == p.previous_attempt.initials for p in participants if p.previous_attempt_id)
    assert set(DuplicateCheck.objects.values_list("outcome", flat=True)) == {DuplicateOutcome.CLEAR}
    consented = [p for p in participants if p.icf_signed is not None]
    assert consented
    for p in consented:
        status = consent_status(p, today)
        if p.screening_number == "S01-0001":
            assert status.latest is not None and status.latest.version.label == "2.0"
            assert enrollment_block(p, today) is None
        elif p.site.code == "S01":
            assert status.reconsent_needed, p.screening_number
        else:
            assert enrollment_block(p, today) is None, p.screening_number
            assert (enrollment_block(p, today + timedelta(days=14)) or "").startswith("Re-consent needed")
