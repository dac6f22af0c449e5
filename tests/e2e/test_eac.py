"""The EAC in a real browser: a lupus nephritis participant without a biopsy goes to the committee,
two reviewers of other sites claim and approve with their password and a one-time code (one sets up
the second factor on the way), the site sees it eligible."""

from __future__ import annotations

from base64 import b32decode

import pytest
from django.urls import NoReverseMatch, reverse
from django_otp.oath import TOTP

from adjudication.demo import CASES_DIR, enter_case, load_case_file, shift_case
from adjudication.models import Escalation, Signature
from participants.models import Role

from ..conftest import PASSWORD, signing_code
from ..factories import SiteFactory

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page, base_url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base_url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def log_out(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("heading", name="Log in").wait_for()


def participant_url(pk: int) -> str:
    """The participant page if it exists, else the site's escalation page of the adjudication app."""
    try:
        return reverse("participants:detail", args=[pk])
    except NoReverseMatch:
        return reverse("adjudication:participant_escalations", args=[pk])


def set_up_second_factor(page, screenshot) -> None:  # type: ignore[no-untyped-def]
    """From the review page: open the set-up, read the secret as a person typing it into an
    authenticator app would, and confirm with the app's code."""
    page.get_by_test_id("set-up-second-factor").click()
    page.get_by_test_id("second-factor-qr").locator("svg").wait_for()
    secret = page.get_by_test_id("second-factor-secret").inner_text().replace(" ", "")
    screenshot("second-factor-set-up")
    key = b32decode(secret + "=" * (-len(secret) % 8))
    page.get_by_label("Code your app shows now").fill(f"{TOTP(key).token():06d}")
    page.get_by_test_id("confirm-second-factor").click()
    page.get_by_test_id("sign-form").wait_for()


def test_two_reviewers_approve_the_biopsy_exception(
    live_server, page, screenshot, make_user, site_a, coordinator_a
) -> None:
    site_b, site_c = SiteFactory(code="B02", name="Site B"), SiteFactory(code="C03", name="Site C")
    reviewers = {
        "eac.b": make_user(Role.EAC_REVIEWER, site_b, "eac.b"),
        # Has not set up a second factor: the review page takes them through it first.
        "eac.c": make_user(Role.EAC_REVIEWER, site_c, "eac.c", second_factor=False),
    }
    make_user(Role.EAC_REVIEWER, site_a, "eac.a")
    participant = enter_case(
        coordinator_a, site_a, shift_case(load_case_file(CASES_DIR / "sle-ln-no-biopsy.json"))
    )
    # more of the queue: a CRP-route SSc participant at site A, and one at site B (not for eac.b)
    enter_case(coordinator_a, site_a, shift_case(load_case_file(CASES_DIR / "ssc-crp-only.json")))
    coordinator_b = make_user(Role.COORDINATOR, site_b, "coord.b")
    enter_case(coordinator_b, site_b, shift_case(load_case_file(CASES_DIR / "ssc-early-progression.json")))
    escalation = Escalation.objects.get(participant=participant)
    url = live_server.url + participant_url(participant.pk)

    # the site sees the participant waiting for the committee
    log_in(page, live_server.url, "coord.a")
    page.goto(url)
    assert page.get_by_test_id("overall-status").inner_text().split()[0] == "PENDING_REVIEW"
    log_out(page)

    # a reviewer of the participant's own site does not see it
    log_in(page, live_server.url, "eac.a")
    assert participant.screening_number not in page.content()
    response = page.goto(live_server.url + reverse("adjudication:review", args=[escalation.pk]))
    assert response is not None and response.status == 404
    page.goto(live_server.url + "/")
    log_out(page)

    for n, reviewer in enumerate(("eac.b", "eac.c")):
        log_in(page, live_server.url, reviewer)
        page.get_by_role("heading", name="EAC queue").wait_for()
        row = page.get_by_test_id("queue-row").filter(has_text=participant.screening_number)
        assert "sle.ln_biopsy" in row.inner_text()
        if n == 0:
            screenshot("eac-queue")
        row.get_by_role("button", name="Claim").click()
        page.get_by_test_id("claimed-by-you").wait_for()
        assert "sle.ln_biopsy/no_recent_biopsy" in page.get_by_test_id("evidence").inner_text()
        if reviewer == "eac.c":
            set_up_second_factor(page, screenshot)
            page.get_by_test_id("claimed-by-you").wait_for()
        page.get_by_label("Approve").check()
        page.get_by_label("Rationale").fill(
            "Biopsy contraindicated; the clinical picture supports active lupus nephritis."
        )
        page.get_by_label("Password (electronic signature)").fill(PASSWORD)
        page.get_by_label("Code from your authenticator app").fill(signing_code(reviewers[reviewer]))
        if n == 0:
            screenshot("eac-review")
        page.get_by_test_id("sign").click()
        page.get_by_role("heading", name="EAC queue").wait_for()
        log_out(page)

    assert Signature.objects.filter(review__escalation=escalation).count() == 2

    log_in(page, live_server.url, "coord.a")
    page.goto(url)
    assert page.get_by_test_id("overall-status").inner_text().split()[0] == "ELIGIBLE"
    reason = page.locator('[data-criterion="sle.ln_biopsy"]').first.inner_text()
    assert "The EAC accepted this on" in reason
    screenshot("eac-site-decided")


def test_reviewer_sees_what_changed_when_the_evidence_changes(
    live_server, page, screenshot, make_user, site_a, coordinator_a
) -> None:
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from participants import services as records
    from screening.evaluation import evaluate_participant
    from screening.models import Trigger

    make_user(Role.EAC_REVIEWER, SiteFactory(code="B02", name="Site B"), "eac.b")
    participant = enter_case(
        coordinator_a, site_a, shift_case(load_case_file(CASES_DIR / "ssc-crp-only.json"))
    )
    records.record_lab(
        coordinator_a,
        participant,
        test="crp",
        value=Decimal("9.5"),
        unit="mg/L",
        uln=Decimal("5"),
        specimen="",
        collected=timezone.localdate() - timedelta(days=1),
    )
    evaluate_participant(participant.pk, trigger=Trigger.DATA_CHANGE, user=coordinator_a)
    escalation = Escalation.objects.get(participant=participant)
    assert escalation.round == 2

    log_in(page, live_server.url, "eac.b")
    page.goto(live_server.url + reverse("adjudication:review", args=[escalation.pk]))
    changes = page.get_by_test_id("evidence-changes").inner_text()
    assert "labs.crp" in changes and "12" in changes and "9.5" in changes
    assert "mg/L" in page.get_by_test_id("evidence").inner_text()
    screenshot("eac-review-evidence-changed")
