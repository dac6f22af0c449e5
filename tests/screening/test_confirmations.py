"""A run that repeats the latest evaluation (same case but for the as-of date, same data version,
same results) stores a confirmation, not another evaluation with the same criterion rows; the
history page and the audit trail show it, and the run can be re-derived from what is stored."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from audit.models import EVENT_MODELS
from participants import services
from participants.case_import import import_case
from participants.models import Participant, Role, Site, User
from screening import criteria
from screening.evaluation import evaluate_marked, evaluate_participant
from screening.models import Confirmation, CriterionResult, Evaluation, ScreeningState, Trigger

pytestmark = pytest.mark.django_db

CASES = Path(__file__).resolve().parents[2] / ".." / "shared" / "cases"
AS_OF = date(2025, 6, 16)


def load(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((CASES / f"{name}.json").read_text(encoding="utf-8"), parse_float=Decimal)


def mark(participant: Participant) -> None:
    ScreeningState.objects.filter(participant=participant).update(reevaluation_requested_at=timezone.now())


@pytest.fixture
def evaluated(coordinator_a: User, site_a: Site) -> tuple[Participant, Evaluation]:
    participant = import_case(coordinator_a, site_a, load("sle-eligible"))
    first = evaluate_participant(participant.pk, trigger=Trigger.MANUAL, as_of=AS_OF)
    assert first is not None and first.sequence == 1 and first.result_digest
    return participant, first


def test_the_next_days_run_on_the_same_data_confirms_and_stores_no_rows(evaluated) -> None:
    participant, first = evaluated
    rows = CriterionResult.objects.count()
    mark(participant)
    later = AS_OF + timedelta(days=1)
    returned = evaluate_participant(participant.pk, trigger=Trigger.EXPIRY, as_of=later, only_if_marked=True)
    assert returned is not None and returned.pk == first.pk
    assert Evaluation.objects.filter(participant=participant).count() == 1
    assert CriterionResult.objects.count() == rows
    confirmation = Confirmation.objects.get(evaluation=first)
    assert (confirmation.as_of, confirmation.trigger) == (later, Trigger.EXPIRY)
    assert confirmation.data_version == participant.data_version
    state = ScreeningState.objects.get(participant=participant)
    assert state.reevaluation_requested_at is None
    assert state.evaluated_at == confirmation.confirmed_at and state.status == first.overall
    # The run is re-derived from the evaluation's case with the confirmation's as-of date.
    case = json.loads(first.case_json, parse_float=Decimal)
    case["dates"]["as_of"] = confirmation.as_of.isoformat()
    result = criteria.evaluate(criteria.load_case(case))
    stored = list(first.results.order_by("position").values_list("criterion_id", "outcome", "reason"))
    assert [(r.id, str(r.outcome), r.reason) for r in result.criteria] == stored
    # The audit trail holds the confirmation with the run's reason.
    event = EVENT_MODELS[Confirmation].objects.get(pgh_obj_id=confirmation.pk)
    assert (
        event.pgh_label == "insert" and "A result reached its valid-until date" in event.pgh_context["reason"]
    )


def test_a_change_of_data_stores_a_new_evaluation_even_with_the_same_outcome(
    evaluated, coordinator_a
) -> None:
    participant, first = evaluated
    # The same value again on the same day: a new record, so a new data version.
    lab = next(x for x in load("sle-eligible")["labs"] if x["test"] == "anc")
    services.record_lab(
        coordinator_a,
        participant,
        test="anc",
        value=Decimal(lab["value"]),
        unit=lab["unit"],
        collected=AS_OF,
    )
    second = evaluate_participant(participant.pk, trigger=Trigger.DATA_CHANGE, as_of=AS_OF)
    assert second is not None and second.sequence == 2 and second.pk != first.pk
    assert second.results.count() == first.results.count()
    assert not Confirmation.objects.exists()


def test_a_changed_result_on_a_later_day_stores_a_new_evaluation(evaluated) -> None:
    participant, first = evaluated
    assert first.valid_until is not None
    later = first.valid_until + timedelta(days=1)  # a result has expired
    second = evaluate_participant(participant.pk, trigger=Trigger.EXPIRY, as_of=later)
    assert second is not None and second.sequence == 2 and second.overall != first.overall
    assert not Confirmation.objects.exists()


def test_the_batch_path_confirms_too(evaluated, coordinator_a, site_a, django_assert_max_num_queries) -> None:
    participant, first = evaluated
    other = import_case(coordinator_a, site_a, load("iim-eligible"))  # marked, never evaluated
    mark(participant)
    rows = CriterionResult.objects.count()
    with django_assert_max_num_queries(15):  # the sweep's 14, plus the confirmations' insert
        stored = evaluate_marked(
            [participant.pk, other.pk], trigger=Trigger.SWEEP, as_of=AS_OF + timedelta(days=1)
        )
    kinds = sorted(type(s).__name__ for s in stored)
    assert kinds == ["Confirmation", "Evaluation"]
    new = Evaluation.objects.get(participant=other)
    assert CriterionResult.objects.count() == rows + new.results.count()
    assert Confirmation.objects.get().evaluation_id == first.pk
    assert not ScreeningState.objects.filter(reevaluation_requested_at__isnull=False).exists()


def test_confirmations_are_append_only(evaluated) -> None:
    participant, first = evaluated
    mark(participant)
    evaluate_participant(participant.pk, trigger=Trigger.SWEEP, as_of=AS_OF, only_if_marked=True)
    with pytest.raises(DatabaseError), transaction.atomic():
        Confirmation.objects.update(as_of=AS_OF - timedelta(days=1))
    with pytest.raises(DatabaseError), transaction.atomic():
        Confirmation.objects.all().delete()


def test_history_and_audit_pages_show_the_confirmation(evaluated, client, make_user, site_a) -> None:
    participant, first = evaluated
    for day in (1, 2):
        mark(participant)
        evaluate_participant(participant.pk, trigger=Trigger.SWEEP, as_of=AS_OF + timedelta(days=day))
    coordinator = make_user(Role.COORDINATOR, site_a, "coord.confirm")
    client.force_login(coordinator)
    page = client.get(reverse("participants:detail", args=[participant.pk])).content.decode()
    assert 'data-testid="confirmations"' in page
    assert "Confirmed unchanged by 2 later runs on the same data, the last as of 2025-06-18" in page
    admin = make_user(Role.ADMIN, None, "admin.confirm")
    client.force_login(admin)
    trail = client.get(reverse("audit:participant", args=[participant.pk]))
    assert trail.status_code == 200 and "Evaluation confirmation" in trail.content.decode()
