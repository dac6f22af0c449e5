"""A database at the schema before the layers were separated, with data in it, migrates forward:
the decisions the engine reads are handed over to the evaluation layer and nothing is lost."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pghistory
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
    assert [(a.criterion_id, a.review_by, a.decision, a.date, a.evidence_digest, a.note) for a in rows] == [
        ("sle.ln_biopsy", "eac", "reject", date(2025, 6, 2), DIGEST_A, ""),
        ("sle.ln_biopsy", "eac", "accept", date(2025, 6, 9), DIGEST_B, ""),
    ]
    assert [a.recorded_at for a in rows] == [decided[first.pk], decided[second.pk]]
    # The committee's records and the participant's own columns are untouched.
    assert new.get_model("adjudication", "EscalationDecision").objects.count() == 2
    moved = new.get_model("participants", "Participant").objects.get(pk=participant.pk)
    assert moved.data_version == 3
    # The evaluation's columns are the screening state's now (below).
    assert (
        new.get_model("screening", "ScreeningState").objects.get(participant=participant.pk).status
        == "ELIGIBLE"
    )


def test_evaluation_columns_reach_the_screening_state_with_their_history() -> None:
    old = _migrate(BEFORE)
    User = old.get_model("participants", "User")
    Site = old.get_model("participants", "Site")
    Participant = old.get_model("participants", "Participant")
    user = User.objects.create(username="coord", full_name="A coordinator")
    site = Site.objects.create(code="M02", name="Migration site", last_screening_sequence=2)
    person = {"site": site, "cohort": "SSc", "sex": "F", "birth_date": date(1980, 1, 1), "created_by": user}
    marked_at = datetime(2025, 6, 3, 9, 30, tzinfo=UTC)
    evaluated_at = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
    with pghistory.context(reason="participant registered"):
        evaluated = Participant.objects.create(
            screening_sequence=1, screening_number="M02-0001", data_version=5, **person
        )
    with pghistory.context(reason="evaluation: Data changed"):
        evaluated.evaluated_version = 4
        evaluated.status = "INELIGIBLE"
        evaluated.status_valid_until = date(2025, 8, 1)
        evaluated.evaluated_at = evaluated_at
        evaluated.reevaluation_requested_at = marked_at
        evaluated.save()
    with pghistory.context(reason="key dates recorded"):
        evaluated.icf_signed = date(2025, 6, 1)
        evaluated.save()
    never = Participant.objects.create(screening_sequence=2, screening_number="M02-0002", **person)

    new = _migrate(_leaves())

    State = new.get_model("screening", "ScreeningState")
    columns = (
        "evaluated_version",
        "reevaluation_requested_at",
        "status",
        "status_valid_until",
        "evaluated_at",
    )
    assert {s.participant_id: tuple(getattr(s, c) for c in columns) for s in State.objects.all()} == {
        evaluated.pk: (4, marked_at, "INELIGIBLE", date(2025, 8, 1), evaluated_at),
        never.pk: (0, None, "NOT_EVALUATED", None, None),
    }
    moved = new.get_model("participants", "Participant").objects.get(pk=evaluated.pk)
    assert (moved.data_version, moved.icf_signed) == (5, date(2025, 6, 1))
    assert not {f.name for f in moved._meta.get_fields()} & set(columns)
    # The status history recorded on the participant's events is the state's history now: the
    # first event and the one that changed the status (not the key-date change).
    Event = new.get_model("audit", "ScreeningStateEvent")
    history = Event.objects.filter(pgh_obj_id=evaluated.pk).order_by("pgh_id")
    assert [(e.pgh_label, e.status, e.status_valid_until, e.pgh_context["reason"]) for e in history] == [
        ("insert", "NOT_EVALUATED", None, "participant registered"),
        ("update", "INELIGIBLE", date(2025, 8, 1), "evaluation: Data changed"),
    ]
    assert [e.pgh_label for e in Event.objects.filter(pgh_obj_id=never.pk)] == ["insert"]
    # The new table is tracked from now on.
    State.objects.filter(pk=never.pk).update(status="INCOMPLETE")
    assert Event.objects.filter(pgh_obj_id=never.pk).count() == 2
