"""Triggers capture every write with its context; the history tables are append-only."""

from __future__ import annotations

import pghistory
import pytest
from django.db import DatabaseError, connection, transaction

from audit.models import EVENT_MODELS, TRACKED
from participants.models import Membership, Participant, Role, Site, User

from ..factories import ParticipantFactory

pytestmark = pytest.mark.django_db


def test_every_tracked_model_has_an_event_model() -> None:
    assert {entry.model for entry in TRACKED} == set(EVENT_MODELS)


def test_participant_insert_and_update_carry_user_and_reason(coordinator_a, site_a) -> None:
    with pghistory.context(user=coordinator_a.pk, reason="registration"):
        participant = ParticipantFactory(site=site_a, created_by=coordinator_a)
    with pghistory.context(user=coordinator_a.pk, reason="ICF date was mistyped"):
        participant.icf_signed = "2025-05-02"
        participant.save()
    events = list(EVENT_MODELS[Participant].objects.filter(pgh_obj_id=participant.pk).order_by("pgh_id"))
    assert [e.pgh_label for e in events] == ["insert", "update"]
    assert events[0].pgh_context["user"] == coordinator_a.pk
    assert events[0].pgh_context["reason"] == "registration"
    assert events[1].pgh_context == {"user": coordinator_a.pk, "reason": "ICF date was mistyped"}
    assert str(events[1].icf_signed) == "2025-05-02"
    assert events[0].pgh_context_id != events[1].pgh_context_id


def test_raw_sql_outside_the_application_is_captured(participant_a) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE participants_participant SET planned_day0 = '2025-09-01' WHERE id = %s",
            [participant_a.pk],
        )
        cursor.execute("DELETE FROM participants_participant WHERE id = %s", [participant_a.pk])
    events = EVENT_MODELS[Participant].objects.filter(pgh_obj_id=participant_a.pk).order_by("pgh_id")
    assert [e.pgh_label for e in events] == ["insert", "update", "delete"]
    update = events[1]
    assert str(update.planned_day0) == "2025-09-01"
    assert update.pgh_context is None  # no application context: the change came from outside


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
@pytest.mark.parametrize("model", [entry.model for entry in TRACKED], ids=lambda m: m.__name__)
def test_history_tables_refuse_update_and_delete(participant_a, model, statement) -> None:
    table = EVENT_MODELS[model]._meta.db_table
    before = EVENT_MODELS[model].objects.count()
    assert before > 0
    with pytest.raises(DatabaseError, match="Cannot"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement.format(table=table))
    assert EVENT_MODELS[model].objects.count() == before
