"""`manage.py verify_evaluations`: every participant's stored evaluation is re-run on its current
data; a tampered criterion row, a change never evaluated and a pending re-evaluation are reported
(exit status 1), and the queries per chunk do not grow with the chunk."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from participants.case_import import import_case
from participants.models import Participant, Site, User
from screening.evaluation import evaluate_participant
from screening.models import CriterionResult, ScreeningState, Trigger
from screening.verification import verify_evaluations

pytestmark = pytest.mark.django_db

CASES = Path(__file__).resolve().parents[2] / ".." / "shared" / "cases"
AS_OF = date(2025, 6, 16)
NAMES = ("sle-eligible", "iim-eligible", "sle-anc-low")


def load(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((CASES / f"{name}.json").read_text(encoding="utf-8"), parse_float=Decimal)


@pytest.fixture
def evaluated(coordinator_a: User, site_a: Site) -> list[Participant]:
    participants = []
    for name in NAMES:
        participant = import_case(coordinator_a, site_a, load(name))
        assert evaluate_participant(participant.pk, trigger=Trigger.MANUAL, as_of=AS_OF) is not None
        participants.append(participant)
    return participants


def run(*args: str) -> tuple[int, str]:
    from io import StringIO

    out = StringIO()
    try:
        call_command("verify_evaluations", *args, stdout=out)
    except SystemExit as exit:
        return int(exit.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_stored_evaluations_match_their_data(evaluated: list[Participant]) -> None:
    code, out = run()
    assert code == 0, out
    assert f"{len(NAMES)} participants checked" in out and f"{len(NAMES)} match their data" in out


def test_a_changed_criterion_row_is_reported(evaluated: list[Participant]) -> None:
    first = evaluated[0]
    row = CriterionResult.objects.filter(evaluation__participant=first, outcome="PASS").order_by("position")[
        0
    ]
    CriterionResult.objects.filter(pk=row.pk).update(outcome="FAIL")
    code, out = run()
    assert code == 1
    assert f"{first.screening_number}: criteria {row.criterion_id}" in out
    assert "1 not matching" in out


def test_a_change_never_evaluated_and_a_pending_one_are_reported(evaluated: list[Participant]) -> None:
    stale, pending = evaluated[0], evaluated[1]
    Participant.objects.filter(pk=stale.pk).update(data_version=F("data_version") + 1)
    ScreeningState.objects.filter(participant=pending).update(reevaluation_requested_at=timezone.now())
    report = verify_evaluations()
    assert (report.stale, report.pending, report.matched, report.ok) == (1, 1, 1, False)
    assert any(
        p.startswith(stale.screening_number) and "no re-evaluation pending" in p for p in report.problems
    )


def test_queries_per_chunk_do_not_grow_with_the_chunk(evaluated: list[Participant]) -> None:
    one = ScreeningState.objects.filter(participant=evaluated[0])
    with CaptureQueriesContext(connection) as single:
        assert verify_evaluations(one).matched == 1
    with CaptureQueriesContext(connection) as three:
        assert verify_evaluations(ScreeningState.objects.all(), chunk_size=10).matched == 3
    assert len(three) == len(single) <= 10
