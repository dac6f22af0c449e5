"""In the browser: the idle warning with its one-click "stay signed in" (WCAG 2.2.1), the role
switch without inline handlers, and no Content-Security-Policy violation on the pages."""

from __future__ import annotations

import pytest

from participants.models import Role

from ..conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_idle_warning_keeps_the_user_signed_in_with_one_action(
    live_server, page, make_user, site_a, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.SESSION_COOKIE_AGE = 6
    settings.SESSION_WARNING_SECONDS = 5
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    make_user(Role.COORDINATOR, site_a, "coord.idle")
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill("coord.idle")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name=f"Participants at {site_a}").wait_for()
    warning = page.locator("#session-warning")
    warning.wait_for(state="visible", timeout=5000)
    with page.expect_response(lambda r: r.url.endswith("/session/keepalive/")) as keepalive:
        page.get_by_role("button", name="Stay signed in").click()
    assert keepalive.value.status == 204
    assert warning.is_hidden()
    assert violations == []


def test_the_role_switch_submits_without_inline_script(live_server, page, make_user, site_a, site_b) -> None:  # type: ignore[no-untyped-def]
    from participants.models import Membership

    user = make_user(Role.COORDINATOR, site_a, "coord.two")
    Membership.objects.create(user=user, role=Role.COORDINATOR, site=site_b)
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill("coord.two")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name=f"Participants at {site_a}").wait_for()
    page.get_by_label("Role").select_option(label=f"Site coordinator · {site_b.code}")
    page.get_by_role("heading", name=f"Participants at {site_b}").wait_for()
