"""The escalation sync after a sweep's chunk runs in a fixed number of queries, whatever the
number of participants, and does what the one-evaluation sync does."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from adjudication import services
from adjudication.demo import CASES_DIR, load_case_file, shift_case
from adjudication.models import Escalation, EscalationState
from participants import services as records
from participants.case_import import import_case
from participants.models import Participant, Site, User
from screening.evaluation import evaluate_marked
from screening.models import Evaluation, Trigger

pytestmark = pytest.mark.django_db


def entered(coordinator: User, site: Site, n: int) -> list[Participant]:
    """Participants whose evaluation needs an EAC review (no biopsy), entered but not evaluated."""
    return [
        import_case(coordinator, site, shift_case(load_case_file(CASES_DIR / "sle-ln-no-biopsy.json")))
        for _ in range(n)
    ]


def evaluated(participants: list[Participant], capture: Any) -> list[Evaluation]:
    with capture(execute=False):  # the sync is called by the test
        stored = evaluate_marked([p.pk for p in participants], trigger=Trigger.SWEEP)
    assert all(isinstance(e, Evaluation) for e in stored)
    return stored  # type: ignore[return-value]


@pytest.mark.parametrize("n", [1, 6])
def test_sync_of_a_chunk_opens_every_escalation_in_fixed_queries(
    n, coordinator_a, site_a, reviewer_b, django_capture_on_commit_callbacks, django_assert_max_num_queries
) -> None:
    evaluations = evaluated(entered(coordinator_a, site_a, n), django_capture_on_commit_callbacks)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True), django_assert_max_num_queries(9):
        services.sync_escalations_many(evaluations)
    opened = Escalation.objects.filter(participant_id__in=[e.participant_id for e in evaluations])
    assert opened.count() == n and {e.state for e in opened} == {EscalationState.OPEN}
    assert {e.latest_result.evaluation_id for e in opened} == {e.pk for e in evaluations}
    assert len(mail.outbox) == n  # one mail per new item to the one reviewer of another site


def test_sync_of_a_chunk_withdraws_and_skips_outdated_evaluations(
    coordinator_a, site_a, reviewer_b, django_capture_on_commit_callbacks
) -> None:
    participants = entered(coordinator_a, site_a, 2)
    first = evaluated(participants, django_capture_on_commit_callbacks)
    services.sync_escalations_many(first)
    # The first participant's ANC falls: it now fails, so its review is withdrawn.
    lab = next(x for x in load_case_file(CASES_DIR / "sle-ln-no-biopsy.json")["labs"] if x["test"] == "anc")
    with django_capture_on_commit_callbacks(execute=False):
        records.record_lab(
            coordinator_a,
            participants[0],
            test="anc",
            value=Decimal(lab["value"]) / 10,
            unit=lab["unit"],
            collected=timezone.localdate(),
        )
    second = evaluated([participants[0]], django_capture_on_commit_callbacks)
    # The outdated first evaluation of participant 0 is skipped, its newer one applied.
    services.sync_escalations_many(first + second)
    withdrawn = Escalation.objects.get(participant=participants[0])
    assert withdrawn.state == EscalationState.WITHDRAWN and "inc.heme.anc" in withdrawn.state_note
    assert withdrawn.latest_result.evaluation_id == first[0].pk
    assert Escalation.objects.get(participant=participants[1]).state == EscalationState.OPEN
