"""A coordinator registers a candidate who may already be screened at another site: the page warns
without naming that site or its participant; the coordinator first stops, then registers with the
reason it is not the same person, and the participant page opens."""

from __future__ import annotations

import re
from datetime import date

import pytest

from participants.models import DuplicateCheck, DuplicateOutcome, Participant, Role

from ..conftest import PASSWORD
from ..factories import ParticipantFactory

pytestmark = pytest.mark.django_db(transaction=True)


def fill_registration(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("IIM").check()
    page.get_by_label("Initials").fill("jd")
    page.get_by_label("Female").check()
    page.get_by_label("Date of birth").fill("1984-03-09")
    page.get_by_role("button", name="Register", exact=True).click()
    page.get_by_test_id("duplicate-warning").wait_for()


def test_duplicate_warning_at_registration(live_server, page, screenshot, make_user, site_a, site_b) -> None:
    other_coordinator = make_user(Role.COORDINATOR, site_a, "coord.elsewhere")
    elsewhere = ParticipantFactory(
        site=site_a,
        created_by=other_coordinator,
        cohort="IIM",
        lupus_nephritis=None,
        sex="F",
        birth_date=date(1984, 3, 9),
        initials="JD",
    )
    make_user(Role.COORDINATOR, site_b, "coord.dup")
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill("coord.dup")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/participants/$"))

    # The warning says that a possible duplicate exists elsewhere, and nothing about it.
    page.goto(live_server.url + "/participants/register/")
    fill_registration(page)
    warning = page.get_by_test_id("duplicate-warning")
    assert "A possible duplicate exists at another site." in warning.inner_text()
    html = page.content()
    assert elsewhere.screening_number not in html and site_a.code not in html and site_a.name not in html
    screenshot("registration-duplicate-warning")

    # Stop: nothing registered, the check closed.
    page.get_by_test_id("stop-registration").click()
    page.wait_for_url(re.compile(r"/participants/$"))
    assert "nothing was registered" in page.content()
    assert DuplicateCheck.objects.get(site=site_b).outcome == DuplicateOutcome.STOPPED

    # Again, now answering: a reason is required, then the participant is registered.
    page.goto(live_server.url + "/participants/register/")
    fill_registration(page)
    page.get_by_test_id("not-same-person").click()
    page.get_by_text("Say why this is not the same person.").wait_for()
    assert page.get_by_test_id("duplicate-warning").is_visible()
    page.get_by_label("Why this is not the same person").fill(
        "Checked with the other hospital: different person"
    )
    page.get_by_test_id("not-same-person").click()
    page.wait_for_url(re.compile(r"/participants/\d+/$"))
    registered = Participant.objects.get(site=site_b)
    assert registered.initials == "JD" and registered.screening_number in page.content()
    answered = DuplicateCheck.objects.get(site=site_b, outcome=DuplicateOutcome.NOT_SAME)
    assert answered.participant == registered and answered.reason.startswith("Checked with")
    screenshot("registration-after-duplicate-answer")
