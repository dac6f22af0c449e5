"""Triggers capture every write with its context; the history tables are append-only."""

from __future__ import annotations

from datetime import date

import pghistory
import pytest
from django.db import DatabaseError, connection, transaction

from audit.models import EVENT_MODELS, TRACKED
from labimport.services import accept_rows, record_hospital_identifier, reject_rows, stage_file
from participants import services as participant_services
from participants.models import (
    Assessment,
    ClinicalEvent,
    ConsentApproval,
    ConsentSignature,
    ConsentVersion,
    HistoryReview,
    LabResult,
    Membership,
    Participant,
    Role,
    ScreeningStatus,
    Site,
    Therapy,
    User,
)
from screening.evaluation import evaluate_participant
from screening.models import (
    Confirmation,
    CriterionResult,
    Evaluation,
    ProtocolVersion,
    ScreeningState,
    SiteApproval,
    Trigger,
)
from screening.outcomes import record_withdrawal

from ..factories import ParticipantFactory
from ..labimport.helpers import MRN_SYSTEM, ndjson_file, observation, quantity

pytestmark = pytest.mark.django_db

RECORD_MODELS = [LabResult, Assessment, Therapy, ClinicalEvent, HistoryReview]


def test_every_tracked_model_has_an_event_model() -> None:
    assert {entry.model for entry in TRACKED} == set(EVENT_MODELS)


@pytest.mark.parametrize("model", RECORD_MODELS, ids=lambda m: m.__name__)
def test_record_create_correct_and_void_leave_history_with_user_and_reason(screened, model) -> None:
    user = screened["user"]
    events = list(
        EVENT_MODELS[model].objects.filter(participant_id=screened["participant"].pk).order_by("pgh_id")
    )
    # entered; corrected (old superseded, new inserted); voided
    assert [(e.pgh_label, e.state) for e in events] == [
        ("insert", "current"),
        ("update", "superseded"),
        ("insert", "current"),
        ("update", "voided"),
    ]
    assert all(e.pgh_context["user"] == user.pk for e in events)
    reasons = [e.pgh_context["reason"] for e in events]
    assert reasons[0].endswith("recorded")
    assert reasons[1] == reasons[2] == events[2].change_reason != ""
    assert reasons[3] == events[3].void_reason != ""
    assert events[2].supersedes_id == events[0].pgh_obj_id


def test_participant_history(screened) -> None:
    p = screened["participant"]
    events = list(EVENT_MODELS[Participant].objects.filter(pgh_obj_id=p.pk).order_by("pgh_id"))
    assert [e.pgh_label for e in events] == ["insert", "update", "update"]
    assert [e.pgh_context["reason"] for e in events] == [
        "participant registered",
        "key dates recorded",
        "ICF date mistyped",
    ]
    assert str(events[2].icf_signed) == "2025-06-03"
    assert all(e.pgh_context["user"] == screened["user"].pk for e in events)
    # The status copied from the evaluation is the screening state's history.
    states = list(EVENT_MODELS[ScreeningState].objects.filter(pgh_obj_id=p.pk).order_by("pgh_id"))
    assert [e.pgh_label for e in states] == ["insert", "update"]
    assert states[0].status == ScreeningStatus.NOT_EVALUATED
    assert states[0].pgh_context["reason"] == "participant registered"
    assert states[1].status == p.screening_state.status != ScreeningStatus.NOT_EVALUATED
    assert states[1].pgh_context["reason"].startswith("evaluation:")
    assert all(e.pgh_context["user"] == screened["user"].pk for e in states)


def test_evaluation_history(screened) -> None:
    evaluation = screened["evaluation"]
    rows = EVENT_MODELS[Evaluation].objects.filter(pgh_obj_id=evaluation.pk)
    assert [(e.pgh_label, e.overall) for e in rows] == [("insert", evaluation.overall)]
    assert rows[0].pgh_context == {
        "user": screened["user"].pk,
        "reason": "evaluation: Requested by a user (test)",
    }
    results = EVENT_MODELS[CriterionResult].objects.filter(evaluation_id=evaluation.pk)
    assert results.count() == evaluation.results.count() > 0


def test_adjudication_history(adjudicated) -> None:
    from adjudication.models import Escalation, EscalationDecision, Review, Signature

    reviewer, escalation = adjudicated["reviewer"], adjudicated["escalation"]
    events = list(EVENT_MODELS[Escalation].objects.filter(pgh_obj_id=escalation.pk).order_by("pgh_id"))
    assert events[0].pgh_label == "insert" and events[0].state == "open"
    claimed = next(e for e in events if e.claimed_by_id == reviewer.pk)
    assert (
        claimed.pgh_context["user"] == reviewer.pk and claimed.pgh_context["reason"] == "escalation claimed"
    )
    assert events[-1].state == "decided"
    for model in (Review, Signature, EscalationDecision):
        (row,) = EVENT_MODELS[model].objects.all()
        assert row.pgh_label == "insert"
        assert row.pgh_context["user"] == reviewer.pk
        assert row.pgh_context["reason"].startswith("review signed")


def test_protocol_version_history() -> None:
    with pghistory.context(user=None, reason="amendment 2"):
        version = ProtocolVersion.objects.create(
            version="test-2", title="Amendment 2", effective_from="2026-01-01"
        )
        version.title = "Amendment 2 (corrected)"
        version.save()
    labels = (
        EVENT_MODELS[ProtocolVersion].objects.filter(pgh_obj_id=version.pk).values_list("pgh_label", "title")
    )
    assert list(labels.order_by("pgh_id")) == [
        ("insert", "Amendment 2"),
        ("update", "Amendment 2 (corrected)"),
    ]


def test_raw_sql_outside_the_application_is_captured(participant_a) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE participants_participant SET planned_day0 = '2025-09-01' WHERE id = %s",
            [participant_a.pk],
        )
        # Its screening state row goes first (it references the participant).
        cursor.execute("DELETE FROM screening_screeningstate WHERE participant_id = %s", [participant_a.pk])
        cursor.execute("DELETE FROM participants_participant WHERE id = %s", [participant_a.pk])
    events = EVENT_MODELS[Participant].objects.filter(pgh_obj_id=participant_a.pk).order_by("pgh_id")
    assert [e.pgh_label for e in events] == ["insert", "update", "delete"]
    assert str(events[1].planned_day0) == "2025-09-01"
    assert events[1].pgh_context is None  # no application context: the change came from outside


def test_raw_sql_on_a_record_is_captured(participant_a, coordinator_a) -> None:
    # Created without any application context, in raw SQL: as a database session outside the app.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO participants_labresult (participant_id, state, entered_by_id, entered_at,"
            " change_reason, void_reason, test, value_number, value_text, unit, specimen, collected)"
            " VALUES (%s, 'current', %s, now(), '', '', 'anc', 900, '', '/uL', '', '2025-06-03') RETURNING id",
            [participant_a.pk, coordinator_a.pk],
        )
        (lab_id,) = cursor.fetchone()
        cursor.execute("UPDATE participants_labresult SET value_number = 1000 WHERE id = %s", [lab_id])
    events = EVENT_MODELS[LabResult].objects.filter(pgh_obj_id=lab_id).order_by("pgh_id")
    assert [(e.pgh_label, e.value_number, e.pgh_context) for e in events] == [
        ("insert", 900, None),
        ("update", 1000, None),
    ]


def test_request_context_records_user_url_role_and_address(coordinator_a, site_a) -> None:
    from django.http import HttpResponse
    from django.test import RequestFactory

    from audit.middleware import AuditContextMiddleware

    request = RequestFactory().post("/participants/new/")
    request.user = coordinator_a
    request.membership = Membership.objects.get(user=coordinator_a)  # type: ignore[attr-defined]

    def view(_request):  # type: ignore[no-untyped-def]
        ParticipantFactory(site=site_a, created_by=coordinator_a, screening_number="A01-0099")
        return HttpResponse()

    AuditContextMiddleware(view)(request)
    event = EVENT_MODELS[Participant].objects.get(screening_number="A01-0099")
    assert event.pgh_context == {
        "user": coordinator_a.pk,
        "url": "/participants/new/",
        "method": "POST",
        "role": Role.COORDINATOR,
        "address": "127.0.0.1",
    }


def test_access_control_changes_are_tracked_without_secrets(make_user, site_a) -> None:
    with pghistory.context(user=None, reason="new staff"):
        user = make_user(Role.INVESTIGATOR, site_a)
    user.set_password("another-long-password-1")
    user.save()  # a password change alone leaves no history row: hashes are not kept
    user.full_name = "Renamed Person"
    user.save()
    user_events = EVENT_MODELS[User].objects.filter(pgh_obj_id=user.pk).order_by("pgh_id")
    assert [e.pgh_label for e in user_events] == ["insert", "update"]
    assert not hasattr(user_events[0], "password")
    assert EVENT_MODELS[Membership].objects.filter(user_id=user.pk).count() == 1
    assert EVENT_MODELS[Site].objects.filter(pgh_obj_id=site_a.pk).count() == 1


@pytest.mark.parametrize("statement", ["UPDATE {table} SET pgh_label = 'forged'", "DELETE FROM {table}"])
def test_history_tables_refuse_update_and_delete(screened, adjudicated, statement, tmp_path) -> None:
    ProtocolVersion.objects.update(title="touched")
    user = screened["user"]
    record_hospital_identifier(user, screened["participant"], system=MRN_SYSTEM, value="H-1")
    # A lab file staged and reviewed: its batch, one row accepted and one rejected.
    hb = [observation(f"hb-{n}", valueQuantity=quantity("12.9", "g/dL")) for n in (1, 2)]
    site = screened["participant"].site
    batch = stage_file(user, site, str(ndjson_file(tmp_path, *hb)), file_name="labs", origin="upload")
    first, second = batch.rows.order_by("position")
    accept_rows(user, batch, [first.pk])
    reject_rows(user, batch, [second.pk])
    SiteApproval.objects.create(
        site=Site.objects.first(), protocol=ProtocolVersion.objects.first(), approved_on=date(2025, 3, 31)
    )
    # A run that repeats the latest evaluation: a confirmation, before screening ends.
    for _ in range(2):  # the first reads the accepted lab row; the second repeats it
        evaluate_participant(screened["participant"].pk, trigger=Trigger.SWEEP)
    assert Confirmation.objects.exists()
    record_withdrawal(screened["user"], screened["participant"].pk, reason="moved away")
    user, participant = screened["user"], screened["participant"]
    version = ConsentVersion.objects.create(label="1.0", document_date=date(2025, 1, 1), created_by=user)
    ConsentApproval.objects.create(
        version=version, site=participant.site, effective_on=date(2025, 1, 1), recorded_by=user
    )
    ConsentSignature.objects.create(
        participant=participant, version=version, signed_on=date(2025, 6, 3), entered_by=user
    )
    participant_services.register_participant(  # with initials: a duplicate check is recorded
        user, site=participant.site, cohort="IIM", sex="M", birth_date=date(1970, 1, 1), initials="AB"
    )
    for entry in TRACKED:
        event_model = EVENT_MODELS[entry.model]
        before = event_model.objects.count()
        assert before > 0, entry.model
        with pytest.raises(DatabaseError, match="Cannot"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement.format(table=event_model._meta.db_table))
        assert event_model.objects.count() == before
