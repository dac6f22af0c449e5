"""The pages that end a screening: the investigator signs the checklist shown, the signed checklist
on screen and as PDF, screen failure and withdrawal forms, re-screening with a confirmation per
copied item, and the participant page's outcome panel."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from participants.case_import import import_case, shift_case_dates
from participants.models import Assessment, OutcomeStatus, Participant, Role, Site, User
from screening import outcomes
from screening.evaluation import evaluate_participant
from screening.models import ScreeningOutcome, Trigger
from tests.conftest import PASSWORD, signing_code
from tests.factories import sign_current_consent

pytestmark = pytest.mark.django_db

CASES = Path(__file__).resolve().parents[2] / ".." / "shared" / "cases"


def _case_today(name: str) -> dict[str, Any]:
    case = json.loads((CASES / f"{name}.json").read_text(encoding="utf-8"), parse_float=Decimal)
    as_of = timezone.datetime.fromisoformat(case["dates"]["as_of"]).date()
    return shift_case_dates(case, (timezone.localdate() - as_of).days)


@pytest.fixture
def investigator_a(make_user: Callable[..., User], site_a: Site) -> User:
    return make_user(Role.INVESTIGATOR, site_a, "inv.a")


@pytest.fixture
def eligible(coordinator_a: User, site_a: Site) -> Participant:
    participant = import_case(coordinator_a, site_a, _case_today("sle-eligible"))
    sign_current_consent(participant, coordinator_a)
    evaluate_participant(participant.pk, trigger=Trigger.MANUAL)
    return participant


@pytest.fixture
def failing(coordinator_a: User, site_a: Site) -> Participant:
    participant = import_case(coordinator_a, site_a, _case_today("sle-anc-low"))
    evaluate_participant(participant.pk, trigger=Trigger.MANUAL)
    return participant


def _login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_investigator_signs_the_checklist_shown_and_the_participant_is_enrolled(
    eligible: Participant, investigator_a: User
) -> None:
    client = _login(investigator_a)
    detail = client.get(reverse("participants:detail", args=[eligible.pk])).content.decode()
    assert 'data-testid="enroll-link"' in detail
    url = reverse("screening:enroll", args=[eligible.pk])
    page = client.get(url).content.decode()
    shown = outcomes.checklist_on(eligible, timezone.localdate())
    assert shown.digest in page and 'data-criterion="inc.heme.anc"' in page
    assert outcomes.signature_meaning(shown) in page

    wrong = client.post(url, {"password": "nope", "code": "123456", "checklist_digest": shown.digest})
    assert wrong.status_code == 400 and 'data-testid="password-error"' in wrong.content.decode()
    assert not ScreeningOutcome.objects.exists()

    done = client.post(
        url, {"password": PASSWORD, "code": signing_code(investigator_a), "checklist_digest": shown.digest}
    )
    assert done.status_code == 302
    outcome = ScreeningOutcome.objects.get(participant=eligible)
    assert outcome.checklist_digest == shown.digest
    page = client.get(reverse("participants:detail", args=[eligible.pk])).content.decode()
    assert "Enrolled" in page and investigator_a.display_name() in page
    assert 'data-testid="enroll-link"' not in page
    # The signed checklist as stored, and as PDF.
    stored = client.get(reverse("screening:checklist", args=[eligible.pk])).content.decode()
    assert outcome.checklist_html in stored
    pdf = client.get(reverse("screening:checklist_pdf", args=[eligible.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert eligible.screening_number in pdf["Content-Disposition"]
    # The enrollment page now only says that screening has ended.
    assert client.get(url).status_code == 302


def test_an_ineligible_participant_shows_the_checklist_without_a_signature_form(
    failing: Participant, investigator_a: User
) -> None:
    page = _login(investigator_a).get(reverse("screening:enroll", args=[failing.pk])).content.decode()
    assert 'data-testid="enroll-not-eligible"' in page and 'data-testid="enroll-form"' not in page


def test_a_coordinator_sees_no_enroll_action(eligible: Participant, coordinator_a: User) -> None:
    client = _login(coordinator_a)
    page = client.get(reverse("participants:detail", args=[eligible.pk])).content.decode()
    assert 'data-testid="enroll-link"' not in page and 'data-testid="screen-failure-link"' in page
    assert client.get(reverse("screening:enroll", args=[eligible.pk])).status_code == 403


def test_screen_failure_form_checks_the_other_text_by_its_field(
    failing: Participant, coordinator_a: User
) -> None:
    client = _login(coordinator_a)
    url = reverse("screening:screen_failure", args=[failing.pk])
    today = timezone.localdate().isoformat()
    refused = client.post(url, {"category": "other", "detail": "", "on_date": today, "reason": "x"})
    assert refused.status_code == 400 and "Describe the reason" in refused.content.decode()
    assert not ScreeningOutcome.objects.exists()
    done = client.post(url, {"category": "criteria_not_met", "on_date": today, "reason": "ANC too low"})
    assert done.status_code == 302
    page = client.get(reverse("participants:detail", args=[failing.pk])).content.decode()
    assert "Screen failed" in page and "inc.heme.anc" in page and 'data-testid="rescreen-link"' in page
    # Nothing more is asked once screening has ended: no worklist, no visit to enter.
    assert 'data-testid="screening-ended"' in page and 'data-testid="enter-visit"' not in page
    assert 'data-testid="missing-worklist"' not in page


def test_withdrawal_form(eligible: Participant, coordinator_a: User) -> None:
    client = _login(coordinator_a)
    url = reverse("screening:withdraw", args=[eligible.pk])
    assert client.post(url, {"on_date": "not a date", "reason": ""}).status_code == 400
    assert client.post(url, {"on_date": timezone.localdate().isoformat(), "reason": "moved"}).status_code == 302
    assert ScreeningOutcome.objects.get(participant=eligible).kind == OutcomeStatus.WITHDRAWN


def test_rescreen_copies_only_the_items_confirmed_one_by_one(failing: Participant, coordinator_a: User) -> None:
    outcomes.record_screen_failure(coordinator_a, failing.pk, category="lost_to_follow_up", reason="x")
    client = _login(coordinator_a)
    url = reverse("screening:rescreen", args=[failing.pk])
    page = client.get(url).content.decode()
    undated = list(Assessment.objects.filter(participant=failing, date__isnull=True, state="current"))
    assert all(f'name="copy_{a.pk}"' in page for a in undated)
    # The start of a new attempt is itself confirmed.
    assert client.post(url, {f"copy_{undated[0].pk}": "on"}).status_code == 400
    done = client.post(url, {"confirm": "on", f"copy_{undated[0].pk}": "on", f"copy_{undated[1].pk}": ""})
    again = Participant.objects.get(previous_attempt=failing)
    assert done.status_code == 302 and done["Location"] == reverse("participants:detail", args=[again.pk])
    assert list(Assessment.objects.filter(participant=again).values_list("key", flat=True)) == [undated[0].key]
    earlier = client.get(reverse("participants:detail", args=[failing.pk])).content.decode()
    assert again.screening_number in earlier and 'data-testid="rescreen-link"' not in earlier
    later = client.get(reverse("participants:detail", args=[again.pk])).content.decode()
    assert 'data-testid="earlier-attempt"' in later


def test_a_change_after_enrollment_is_flagged_on_the_participant_page(
    eligible: Participant, investigator_a: User, coordinator_a: User
) -> None:
    client = _login(investigator_a)
    shown = outcomes.checklist_on(eligible, timezone.localdate())
    client.post(
        reverse("screening:enroll", args=[eligible.pk]),
        {"password": PASSWORD, "code": signing_code(investigator_a), "checklist_digest": shown.digest},
    )
    page = client.get(reverse("participants:detail", args=[eligible.pk])).content.decode()
    assert 'data-testid="changed-after-outcome"' not in page
    Participant.objects.filter(pk=eligible.pk).update(data_version=eligible.data_version + 5)
    page = client.get(reverse("participants:detail", args=[eligible.pk])).content.decode()
    assert 'data-testid="changed-after-outcome"' in page
