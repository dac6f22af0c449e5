"""`seed_population`: the seeded participants' stored evaluations are what the engine gives on
their records, copies included; the history holds every copied row; escalations point at the
participant's own results."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from adjudication.models import Escalation
from audit.models import EVENT_MODELS
from participants.case_builder import build_case
from participants.models import Participant, ScreeningStatus
from screening import criteria
from screening.evaluation import case_adjudications, run_engine
from screening.models import CriterionResult, Evaluation, Outcome, ScreeningState

pytestmark = pytest.mark.django_db(transaction=True)


def _indexes() -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'public'")
        return set(cursor.fetchall())


def test_seeded_evaluations_are_the_engines(capsys: pytest.CaptureFixture[str]) -> None:
    indexes = _indexes()
    call_command("seed_population", "60", "--sites", "3", "--seed", "7", "--profiles", "12")
    # A fresh database: the copies' indexes and unique constraints were dropped and built again.
    assert _indexes() == indexes
    assert "60 participants over 3 sites from 12 profiles" in capsys.readouterr().out
    participants = list(Participant.objects.select_related("site").order_by("pk"))
    assert len(participants) == 60
    assert {p.site.code for p in participants} == {"S01", "S02", "S03"}
    assert len({p.screening_number for p in participants}) == 60
    statuses = set(ScreeningState.objects.values_list("status", flat=True))
    assert len(statuses) >= 3, statuses

    evaluated = [p for p in participants if p.evaluations.exists()]
    copies = evaluated[12:]  # the first participants are the profiles' templates
    assert len(copies) >= 20
    for participant in evaluated[:4] + copies[::3]:
        stored = participant.evaluations.get()
        case = build_case(
            participant,
            stored.as_of,
            adjudications=case_adjudications(participant),
            protocol_version=stored.protocol_version,
        )
        assert criteria.dumps(case) == stored.case_json
        result = run_engine(case)
        assert (str(result.overall), result.valid_until) == (stored.overall, stored.valid_until)
        rows = list(stored.results.order_by("position"))
        assert [(r.criterion_id, r.outcome, r.reason, r.evidence_digest, r.valid_until) for r in rows] == [
            (c.id, str(c.outcome), c.reason, c.evidence_digest or "", c.valid_until) for c in result.criteria
        ]
        state = ScreeningState.objects.get(participant=participant)
        assert (state.status, state.evaluated_version) == (stored.overall, participant.data_version)

    # Registered-only participants are evaluated too (INCOMPLETE), as registration leads to in the app.
    assert not [p for p in participants if not p.evaluations.exists()]
    assert not ScreeningState.objects.filter(status=ScreeningStatus.NOT_EVALUATED).exists()

    # Escalations of copies point at the copy's own REVIEW result.
    for e in Escalation.objects.select_related("latest_result__evaluation"):
        assert e.latest_result.evaluation.participant_id == e.participant_id
        assert (e.latest_result.outcome, e.latest_result.criterion_id) == (Outcome.REVIEW, e.criterion_id)

    # Every copied row has its insert event, with the seeding's reason.
    for model in (Participant, Evaluation, CriterionResult, ScreeningState):
        events = EVENT_MODELS[model].objects.filter(pgh_label="insert")
        assert events.count() == model.objects.count(), model
    # The copies written on the second connection carry the seeding's history context too.
    templates = [p.pk for p in participants[:12]]
    for model, path in (
        (CriterionResult, "evaluation__participant_id__in"),
        (Escalation, "participant_id__in"),
    ):
        copied = set(model.objects.exclude(**{path: templates}).values_list("pk", flat=True))
        seeded = EVENT_MODELS[model].objects.filter(
            pgh_label="insert", pgh_context__reason="seeded population"
        )
        assert copied <= set(seeded.values_list("pgh_obj_id", flat=True)), model
    assert CriterionResult.objects.exclude(evaluation__participant_id__in=templates).exists()


def test_the_same_seed_gives_the_same_population() -> None:
    call_command("seed_population", "15", "--sites", "2", "--seed", "3", "--profiles", "5")
    first = list(
        Participant.objects.order_by("pk").values_list("cohort", "birth_date", "screening_state__status")
    )
    call_command("seed_population", "15", "--sites", "2", "--seed", "3", "--profiles", "5")
    second = list(
        Participant.objects.order_by("pk").values_list("cohort", "birth_date", "screening_state__status")
    )
    assert second[15:] == first
