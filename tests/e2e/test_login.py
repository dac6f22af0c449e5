from __future__ import annotations

import pytest

from participants.models import Role

from ..conftest import PASSWORD
from ..factories import ParticipantFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_coordinator_logs_in_and_lands_on_the_site_participants(
    live_server, page, screenshot, make_user, site_a, site_b
) -> None:
    coordinator = make_user(Role.COORDINATOR, site_a, "coord.browser")
    own = ParticipantFactory(site=site_a, created_by=coordinator)
    other = ParticipantFactory(site=site_b, created_by=coordinator)

    page.goto(live_server.url + "/")
    assert page.url.endswith("/login/?next=/")
    screenshot("login")
    page.get_by_label("Username").fill("coord.browser")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("heading", name=f"Participants at {site_a}").wait_for()
    assert page.url.endswith("/participants/")
    assert page.get_by_test_id("current-role").inner_text().startswith("Site coordinator")
    table = page.get_by_test_id("participant-table")
    assert own.screening_number in table.inner_text()
    assert other.screening_number not in page.content()
    screenshot("coordinator-home")

    page.get_by_role("button", name="Log out").click()
    page.get_by_role("heading", name="Log in").wait_for()


def test_wrong_password_is_refused_in_the_browser(live_server, page, make_user, site_a) -> None:
    make_user(Role.COORDINATOR, site_a, "coord.browser2")
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill("coord.browser2")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_text("Please enter a correct username and password").is_visible()
