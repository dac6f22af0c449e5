"""A database of participants registered before initials and consent versions were kept migrates
forward: their initials stay blank (nothing guessed), their history continues, and the duplicate
check treats them as "could be anyone" with that birth date and sex."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from audit.models import EVENT_MODELS
from participants.duplicates import find_duplicates
from participants.models import Participant as CurrentParticipant
from participants.models import Site as CurrentSite

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("participants", "0003_evaluation_columns_to_screening"),
    ("audit", "0012_site_approval_history_refuses_truncate"),
]


def _migrate(targets: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def test_earlier_participants_keep_blank_initials_and_are_found_by_the_check() -> None:
    old = _migrate(BEFORE)
    User = old.get_model("participants", "User")
    Site = old.get_model("participants", "Site")
    Participant = old.get_model("participants", "Participant")
    user = User.objects.create(username="coord.m", full_name="A coordinator")
    site = Site.objects.create(code="M01", name="Migration site", last_screening_sequence=1)
    Participant.objects.create(
        site=site,
        screening_sequence=1,
        screening_number="M01-0001",
        cohort="IIM",
        sex="F",
        birth_date=date(1980, 5, 6),
        icf_signed=date(2025, 1, 2),
        created_by=user,
    )

    new = _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    migrated = new.get_model("participants", "Participant").objects.get(screening_number="M01-0001")
    assert migrated.initials == ""
    assert new.get_model("participants", "ConsentSignature").objects.count() == 0  # no version guessed

    found = find_duplicates(
        site=CurrentSite.objects.get(code="M01"), birth_date=date(1980, 5, 6), sex="F", initials="QZ"
    )
    assert found.same_site == ("M01-0001",)
    # The participant's history goes on, with the new column.
    CurrentParticipant.objects.filter(screening_number="M01-0001").update(initials="QZ")
    events = EVENT_MODELS[CurrentParticipant].objects.filter(pgh_obj_id=migrated.pk).order_by("pgh_id")
    assert [e.initials for e in events if e.pgh_label == "update"] == ["QZ"]
