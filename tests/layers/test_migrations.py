"""A database at the schema before the layers were separated, with data in it, migrates forward:
the decisions the engine reads are handed over to the evaluation layer and nothing is lost."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

# The leaf migrations of each app before the decisions moved (main at the time).
BEFORE = [
    ("participants", "0002_participant_data_version_participant_evaluated_at_and_more"),
    ("screening", "0002_protocol_2025_03_31_2"),
    ("adjudication", "0003_alter_signature_signer_name"),
    ("audit", "0003_alter_signatureevent_signer_name"),
    ("api", "0001_initial"),
]
DIGEST_A = "a" * 64
DIGEST_B = "b" * 64


def _migrate(targets: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def _leaves() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def test_decisions_reach_the_evaluation_layer_in_their_order() -> None:
    old = _migrate(BEFORE)
    User = old.get_model("participants", "User")
    Site = old.get_model("participants", "Site")
    Participant = old.get_model("participants", "Participant")
    Evaluation = old.get_model("screening", "Evaluation")
    CriterionResult = old.get_model("screening", "CriterionResult")
    Escalation = old.get_model("adjudication", "Escalation")
    EscalationDecision = old.get_model("adjudication", "EscalationDecision")

    user = User.objects.create(username="coord", full_name="A coordinator")
    site = Site.objects.create(code="M01", name="Migration site", last_screening_sequence=1)
    participant = Participant.objects.create(
        site=site,
        screening_sequence=1,
        screening_number="M01-0001",
        cohort="SLE",
        lupus_nephritis=True,
        sex="F",
        birth_date=date(1990, 1, 1),
        created_by=user,
        data_version=3,
        evaluated_version=3,
        status="ELIGIBLE",
        status_valid_until=date(2025, 7, 1),
    )
    evaluation = Evaluation.objects.create(
        participant=participant,
        sequence=1,
        as_of=date(2025, 6, 1),
        protocol_version="2025-03-31.2",
        engine_version="1",
        trigger="data_change",
        data_version=3,
        case_json="{}",
        overall="PENDING_REVIEW",
    )
    result = CriterionResult.objects.create(
        evaluation=evaluation,
        position=0,
        criterion_id="sle.ln_biopsy",
        outcome="REVIEW",
        review_by="eac",
        reason="no biopsy",
        evidence_digest=DIGEST_A,
    )
    escalation = Escalation.objects.create(
        participant=participant,
        criterion_id="sle.ln_biopsy",
        review_by="eac",
        state="decided",
        round=2,
        evidence_digest=DIGEST_B,
        latest_result=result,
        opened_at=datetime(2025, 6, 1, tzinfo=UTC),
    )
    first = EscalationDecision.objects.create(
        escalation=escalation,
        round=1,
        criterion_id="sle.ln_biopsy",
        review_by="eac",
        decision="reject",
        date=date(2025, 6, 2),
        evidence_digest=DIGEST_A,
    )
    second = EscalationDecision.objects.create(
        escalation=escalation,
        round=2,
        criterion_id="sle.ln_biopsy",
        review_by="eac",
        decision="accept",
        date=date(2025, 6, 9),
        evidence_digest=DIGEST_B,
    )
    decided = {d.pk: d.decided_at for d in EscalationDecision.objects.all()}
    assert decided[first.pk] < decided[second.pk] + timedelta(seconds=1)

    new = _migrate(_leaves())

    Adjudication = new.get_model("screening", "Adjudication")
    rows = list(Adjudication.objects.order_by("recorded_at", "pk"))
    assert [(a.source_id, a.participant_id) for a in rows] == [
        (first.pk, participant.pk),
        (second.pk, participant.pk),
    ]
    assert [
        (a.criterion_id, a.review_by, a.decision, a.date, a.evidence_digest, a.note) for a in rows
    ] == [
        ("sle.ln_biopsy", "eac", "reject", date(2025, 6, 2), DIGEST_A, ""),
        ("sle.ln_biopsy", "eac", "accept", date(2025, 6, 9), DIGEST_B, ""),
    ]
    assert [a.recorded_at for a in rows] == [decided[first.pk], decided[second.pk]]
    # The committee's records and the participant's own columns are untouched.
    assert new.get_model("adjudication", "EscalationDecision").objects.count() == 2
    moved = new.get_model("participants", "Participant").objects.get(pk=participant.pk)
    assert (moved.data_version, moved.evaluated_version, moved.status) == (3, 3, "ELIGIBLE")
    assert moved.status_valid_until == date(2025, 7, 1)
