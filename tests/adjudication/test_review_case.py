"""The EAC review page shows the whole case: every criterion, the records the criterion reads, the
open questions, the signed evidence marked, and only the evaluations that changed the criterion."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from adjudication.demo import CASES_DIR, enter_case, load_case_file, shift_case
from adjudication.models import Escalation
from participants import services
from screening.criteria import named_inputs
from screening.evaluation import evaluate_participant
from screening.models import Trigger

pytestmark = pytest.mark.django_db


@pytest.fixture
def crp_only(coordinator_a, site_a, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """ssc.activity under EAC review by the CRP route, with mRSS 8 and early progression unanswered."""
    case = shift_case(load_case_file(CASES_DIR / "ssc-crp-only.json"))
    del case["facts"]["ssc_early_progression"]
    with django_capture_on_commit_callbacks(execute=True):
        participant = enter_case(coordinator_a, site_a, case)
    return Escalation.objects.get(participant=participant, criterion_id="ssc.activity")


def test_named_inputs_come_from_the_rule_text() -> None:
    assert set(named_inputs("ssc.activity")) >= {"facts.mrss", "facts.ssc_early_progression", "labs.crp"}
    assert named_inputs("no.such.criterion") == ()


def test_review_page_shows_the_whole_case_read_only(client, crp_only, reviewer_b) -> None:  # type: ignore[no-untyped-def]
    client.force_login(reviewer_b)
    response = client.get(reverse("adjudication:review", args=[crp_only.pk]))
    assert response.status_code == 200
    text = response.text
    page = response.context["page"]
    # Every criterion of the current evaluation, with its title and outcome.
    assert text.count("<tr", text.index('data-testid="all-criteria"'), text.index('id="case-heading"')) == (
        len(page.results) + 1
    )
    assert "Active disease" in text and "(under review)" in text
    # The records the criterion reads, mRSS 8 among them; the CRP marked as the signed evidence.
    case = response.context["case"]
    read = {r.path: r for s in case.sections for r in s.rows if r.read}
    assert read["facts.mrss"].value == "8" and "labs.crp" in read
    assert "signed evidence" in text and "Evidence under review — what your signature covers" in text
    # The open questions: early progression not answered (and the CK, which no route needs here).
    assert [q.path for q in case.open_questions][0] == "facts.ssc_early_progression"
    assert 'data-testid="open-questions"' in text and "not answered" in text
    # Identified by the screening number only: the age, not the date of birth.
    assert crp_only.participant.screening_number in text
    assert crp_only.participant.birth_date.isoformat() not in text
    assert "Age at the as-of date" in text
    # Read-only: no form but the review's own (claim) on the page.
    assert text.count("<form") == text.count('action="/eac/') + text.count('action="/logout/') + text.count(
        "role/"
    )


def test_history_shows_only_evaluations_that_changed_the_criterion(  # type: ignore[no-untyped-def]
    client, crp_only, reviewer_b, coordinator_a
) -> None:
    participant = crp_only.participant
    # Data this criterion does not read: three evaluations that leave ssc.activity as it was.
    for n in range(3):
        services.record_lab(
            coordinator_a,
            participant,
            test="anc",
            value=Decimal(2000 + n),
            unit="/uL",
            collected=participant.screening_start,
        )
        evaluate_participant(participant.pk, trigger=Trigger.MANUAL, detail="test", user=coordinator_a)
    client.force_login(reviewer_b)
    client.get(reverse("adjudication:review", args=[crp_only.pk]))  # warm the session
    with CaptureQueriesContext(connection) as few:
        response = client.get(reverse("adjudication:review", args=[crp_only.pk]))
    history = response.context["page"].history
    assert [r.outcome for r in history] == ["REVIEW"]
    assert participant.evaluations.count() >= 4
    # More evaluations do not add queries.
    for n in range(3):
        services.record_lab(
            coordinator_a,
            participant,
            test="anc",
            value=Decimal(3000 + n),
            unit="/uL",
            collected=participant.screening_start,
        )
        evaluate_participant(participant.pk, trigger=Trigger.MANUAL, detail="test", user=coordinator_a)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("adjudication:review", args=[crp_only.pk]))
    assert len(many) == len(few)
