"""The sweep's batch evaluation stores exactly what evaluate_participant would, in a fixed number of
queries whatever the batch size."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from participants import services
from participants.case_import import import_case
from participants.models import Participant
from screening import criteria
from screening.evaluation import evaluate_marked, evaluate_participant
from screening.models import Confirmation, Evaluation, ScreeningState, Trigger
from tests.factories import ParticipantFactory

pytestmark = pytest.mark.django_db

CASES = Path(__file__).resolve().parents[2] / ".." / "shared" / "cases"
NAMES = ["sle-eligible", "iim-eligible", "ssc-crp-only"]
AS_OF = date(2025, 6, 16)


def load(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((CASES / f"{name}.json").read_text(encoding="utf-8"), parse_float=Decimal)


def rows(evaluation: Evaluation) -> list[tuple[object, ...]]:
    return list(
        evaluation.results.order_by("position").values_list(
            "criterion_id",
            "outcome",
            "review_by",
            "missing",
            "valid_until",
            "eligible_from",
            "repeat_from",
            "evidence_digest",
            "reason",
        )
    )


def test_batch_matches_single_evaluation_and_the_engine(coordinator_a, site_a) -> None:
    participants = [import_case(coordinator_a, site_a, load(name)) for name in NAMES]
    ids = [p.pk for p in participants]
    stored = evaluate_marked(ids + [10**9], trigger=Trigger.EXPIRY, as_of=AS_OF)
    assert sorted(e.participant_id for e in stored) == ids
    for name, participant in zip(NAMES, participants, strict=True):
        batch = Evaluation.objects.get(participant=participant)
        expected = criteria.evaluate(criteria.load_case(load(name)))
        assert batch.overall == str(expected.overall), name
        assert (batch.trigger, batch.sequence, batch.as_of) == (Trigger.EXPIRY, 1, AS_OF)
        p = Participant.objects.get(pk=participant.pk)
        assert (
            p.screening_state.reevaluation_requested_at is None and p.screening_state.status == batch.overall
        )
        assert p.screening_state.evaluated_version == p.data_version == batch.data_version
        assert p.screening_state.status_valid_until == batch.valid_until == expected.valid_until
        # The single path on the same data computes the same digest: it confirms the batch's evaluation.
        ScreeningState.objects.filter(participant_id=p.pk).update(
            reevaluation_requested_at=p.screening_state.evaluated_at
        )
        confirmed = evaluate_participant(p.pk, trigger=Trigger.EXPIRY, as_of=AS_OF, only_if_marked=True)
        assert confirmed is not None and confirmed.pk == batch.pk
        assert Confirmation.objects.filter(evaluation=batch).count() == 1
        # With the digest forgotten, the single path stores the same case and rows as the batch.
        digest = batch.result_digest
        Evaluation.objects.filter(pk=batch.pk).update(result_digest="")
        ScreeningState.objects.filter(participant_id=p.pk).update(reevaluation_requested_at=batch.created_at)
        single = evaluate_participant(p.pk, trigger=Trigger.EXPIRY, as_of=AS_OF, only_if_marked=True)
        assert single is not None and single.sequence == 2 and single.result_digest == digest
        assert single.case_json == batch.case_json
        assert rows(single) == rows(batch)
    assert evaluate_marked(ids, trigger=Trigger.EXPIRY, as_of=AS_OF) == []  # nothing marked now


def test_batch_queries_do_not_grow_with_the_batch(
    coordinator_a, site_a, django_assert_max_num_queries
) -> None:
    participants = [import_case(coordinator_a, site_a, load("sle-eligible"))]
    for n in range(9):
        p = ParticipantFactory(site=site_a, created_by=coordinator_a, screening_sequence=100 + n)
        services.record_lab(coordinator_a, p, test="anc", value=Decimal(900), unit="/uL", collected=AS_OF)
        participants.append(p)
    # 14, and the statement clearing the marks of participants whose screening has ended.
    with django_assert_max_num_queries(15):
        assert len(evaluate_marked([p.pk for p in participants], trigger=Trigger.SWEEP, as_of=AS_OF)) == 10
