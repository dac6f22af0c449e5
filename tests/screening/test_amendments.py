"""Protocol versions activated site by site: the boundary day, activation marking the site's
participants for re-evaluation with the trigger "protocol amendment", approvals that take effect
later, and the history's difference between the two versions."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from participants.case_import import import_case
from participants.models import Participant, Role, Site, User
from screening import tasks
from screening.amendments import activate_version, record_release
from screening.diff import diff_evaluations
from screening.evaluation import evaluate_marked, evaluate_participant
from screening.models import Evaluation, SiteApproval, Trigger
from screening.protocols import FIRST_VERSION, version_in_force, versions_in_force
from screening.reevaluation import mark_amended
from tests.audit.test_exports import read_csv

pytestmark = pytest.mark.django_db

AMENDMENT = "2025-11-14.3"
CASES = Path(__file__).resolve().parents[2] / ".." / "shared" / "cases"
APPROVED = date(2025, 12, 1)


def _case(name: str) -> dict[str, Any]:
    return json.loads((CASES / f"{name}.json").read_text(encoding="utf-8"), parse_float=Decimal)  # type: ignore[no-any-return]


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    user = make_user(Role.ADMIN)
    # Released before the examples' as-of date (2025-06-16), so that they can be evaluated under it.
    record_release(user, version=AMENDMENT, title="Amendment 3", released_on=date(2025, 6, 1))
    return user


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        tasks.reevaluate_participants, "apply_async", lambda args, **kw: calls.append(tuple(args))
    )
    return calls


def test_the_site_changes_version_on_the_day_of_its_approval(admin: User, site_a: Site, site_b: Site) -> None:
    activate_version(admin, site=site_a, version=AMENDMENT, approved_on=APPROVED)
    assert version_in_force(site_a.pk, APPROVED - timedelta(days=1)) == FIRST_VERSION
    assert version_in_force(site_a.pk, APPROVED) == AMENDMENT
    assert versions_in_force([site_a.pk, site_b.pk], APPROVED) == {
        site_a.pk: AMENDMENT,
        site_b.pk: FIRST_VERSION,
    }


def test_an_evaluation_names_the_version_in_force_on_its_day(
    admin: User, coordinator_a: User, site_a: Site
) -> None:
    participant = import_case(coordinator_a, site_a, _case("sle-eligible"))
    activate_version(admin, site=site_a, version=AMENDMENT, approved_on=APPROVED)
    before = evaluate_participant(participant.pk, trigger=Trigger.MANUAL, as_of=APPROVED - timedelta(days=1))
    on_the_day = evaluate_participant(participant.pk, trigger=Trigger.MANUAL, as_of=APPROVED)
    assert before is not None and on_the_day is not None
    assert before.protocol_version == FIRST_VERSION
    assert json.loads(before.case_json)["protocol_version"] == FIRST_VERSION
    assert on_the_day.protocol_version == AMENDMENT
    assert on_the_day.results.filter(criterion_id="exc.major_surgery").exists()
    assert not before.results.filter(criterion_id="exc.major_surgery").exists()


def test_activation_marks_the_sites_participants_and_queues_them_as_an_amendment(
    admin: User,
    coordinator_a: User,
    coordinator_b: User,
    site_a: Site,
    site_b: Site,
    sent: list[tuple[Any, ...]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    a = import_case(coordinator_a, site_a, _case("sle-crcl-umol-low"))
    b = import_case(coordinator_b, site_b, _case("sle-eligible"))
    as_of = date.fromisoformat(_case("sle-crcl-umol-low")["dates"]["as_of"])
    old = evaluate_participant(a.pk, trigger=Trigger.MANUAL, as_of=as_of)
    evaluate_participant(b.pk, trigger=Trigger.MANUAL)
    with django_capture_on_commit_callbacks(execute=True):
        approval = activate_version(admin, site=site_a, version=AMENDMENT, approved_on=as_of)
    approval.refresh_from_db()
    assert approval.applied_at is not None
    assert Participant.objects.get(pk=a.pk).screening_state.reevaluation_requested_at is not None
    assert Participant.objects.get(pk=b.pk).screening_state.reevaluation_requested_at is None
    assert sent == [([a.pk], str(Trigger.PROTOCOL_AMENDMENT))]

    # The worker's batch, as of the same day: the evaluation under the amendment.
    (new,) = evaluate_marked([a.pk], trigger=Trigger.PROTOCOL_AMENDMENT, as_of=as_of)
    assert new.trigger == Trigger.PROTOCOL_AMENDMENT
    assert new.protocol_version == AMENDMENT
    assert Participant.objects.get(pk=a.pk).screening_state.reevaluation_requested_at is None
    summary = diff_evaluations(old, Evaluation.objects.prefetch_related("results").get(pk=new.pk)).summary
    assert summary.startswith(f"Protocol {FIRST_VERSION} → {AMENDMENT}")
    assert "inc.crcl FAIL → PASS" in summary


def test_an_approval_dated_later_is_applied_by_the_sweep_on_its_day(
    admin: User, participant_a: Participant, site_a: Site, sent: list[tuple[Any, ...]]
) -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)
    approval = activate_version(admin, site=site_a, version=AMENDMENT, approved_on=tomorrow)
    assert SiteApproval.objects.get(pk=approval.pk).applied_at is None
    assert Participant.objects.get(pk=participant_a.pk).screening_state.reevaluation_requested_at is None
    assert tasks.sweep().amended == 0
    the_day = timezone.now() + timedelta(days=1)
    assert mark_amended(the_day) == [participant_a.pk]
    assert mark_amended(the_day) == []  # applied once


def test_only_an_administrator_activates_a_released_version_once(
    admin: User, coordinator_a: User, site_a: Site
) -> None:
    with pytest.raises(PermissionDenied):
        activate_version(coordinator_a, site=site_a, version=AMENDMENT, approved_on=APPROVED)
    with pytest.raises(ValidationError):
        activate_version(admin, site=site_a, version="2099-01-01.1", approved_on=APPROVED)
    with pytest.raises(ValidationError):
        activate_version(admin, site=site_a, version=AMENDMENT, approved_on=date(2025, 5, 31))
    activate_version(admin, site=site_a, version=AMENDMENT, approved_on=APPROVED)
    with pytest.raises(ValidationError):
        activate_version(admin, site=site_a, version=AMENDMENT, approved_on=APPROVED)
    with pytest.raises(ValidationError):
        record_release(admin, version="2099-01-01.1", title="unknown", released_on=APPROVED)


def test_the_screening_log_and_the_funnel_filter_by_version(
    admin: User, coordinator_a: User, coordinator_b: User, site_a: Site, site_b: Site, client: Any
) -> None:
    a = import_case(coordinator_a, site_a, _case("sle-eligible"))
    b = import_case(coordinator_b, site_b, _case("sle-eligible"))
    activate_version(admin, site=site_a, version=AMENDMENT, approved_on=APPROVED)
    evaluate_participant(a.pk, trigger=Trigger.MANUAL)
    evaluate_participant(b.pk, trigger=Trigger.MANUAL)
    client.force_login(admin)
    url = reverse("audit:screening_log", args=["csv"])
    log = read_csv(client.get(url, {"protocol": AMENDMENT}))
    version_column = log[0].index("Protocol version")
    assert [(r[1], r[version_column]) for r in log[1:]] == [(a.screening_number, AMENDMENT)]
    response = client.get(url, {"protocol": FIRST_VERSION})
    assert f"screening-log-protocol-{FIRST_VERSION}-" in response["Content-Disposition"]
    assert [r[1] for r in read_csv(response)[1:]] == [b.screening_number]
    assert len(read_csv(client.get(url))) == 3  # no filter: both
    funnel = read_csv(client.get(reverse("audit:funnel", args=["csv"]), {"protocol": AMENDMENT}))
    counts = {(r[0], r[1]): int(r[3]) for r in funnel[1:]}
    assert counts[("Total", "")] == 1
    assert counts[("Protocol version", AMENDMENT)] == 1
    assert ("Protocol version", FIRST_VERSION) not in counts
    page = client.get(reverse("audit:exports"), {"protocol": AMENDMENT}).content.decode()
    assert f"?protocol={AMENDMENT}" in page
