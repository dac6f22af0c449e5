"""Log-in, throttling, sessions, role navigation and the site-scoped selector."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.http import Http404
from django.test import Client
from django.urls import reverse

from participants.models import Role
from participants.selectors import get_participant, visible_participants
from participants.services import register_participant

from ..conftest import PASSWORD

pytestmark = pytest.mark.django_db


def login(client: Client, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post(reverse("login"), {"username": username, "password": password})


def test_login_page_renders_with_local_assets(client: Client) -> None:
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Log in" in html
    assert "/static/vendor/bootstrap/bootstrap.min.css" in html
    assert "/static/vendor/htmx/htmx.min.js" in html
    assert "cdn" not in html.lower()


def test_static_assets_are_served(client: Client) -> None:
    for path in ("/static/vendor/bootstrap/bootstrap.min.css", "/static/vendor/htmx/htmx.min.js"):
        response = client.get(path)
        assert response.status_code == 200, path


def test_coordinator_logs_in_and_lands_on_site_participants(
    client: Client, coordinator_a, participant_a
) -> None:
    response = login(client, "coord.a")
    assert response.status_code == 302
    response = client.get(reverse("home"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("participants:list")
    assert participant_a.screening_number in response.content.decode()


def test_wrong_password_shows_error_and_does_not_log_in(client: Client, coordinator_a) -> None:
    response = login(client, "coord.a", "wrong-password")
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()
    assert client.get(reverse("home")).status_code == 302  # still sent to the login page


def test_failed_logins_are_throttled(client: Client, coordinator_a) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "coord.a", "wrong-password").status_code == 200
    locked = login(client, "coord.a", "wrong-password")
    assert locked.status_code == 429
    assert "Too many failed log-in attempts" in locked.content.decode()
    # Even the right password is refused while the lock lasts.
    assert login(client, "coord.a").status_code == 429


def test_logout_requires_post_and_ends_the_session(client: Client, coordinator_a) -> None:
    login(client, "coord.a")
    assert client.get(reverse("participants:list")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("participants:list")).status_code == 302


def test_session_expires_after_inactivity(client: Client, coordinator_a) -> None:
    login(client, "coord.a")
    response = client.get(reverse("participants:list"))
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    # Each request renews an idle timeout rather than a fixed lifetime.
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert cookie["max-age"] == "" or int(cookie["max-age"]) <= 30 * 60
    session = client.session
    session.set_expiry(-1)  # as if the idle period had passed
    session.save()
    assert client.get(reverse("participants:list")).status_code == 302


def test_passwords_are_validated() -> None:
    with pytest.raises(ValidationError):
        validate_password("password123")
    with pytest.raises(ValidationError):
        validate_password("short1!")
    validate_password("a-much-longer-passphrase-77")


@pytest.mark.parametrize(
    ("role", "with_site", "landing", "nav_text"),
    [
        (Role.COORDINATOR, True, "participants:list", "Participants"),
        (Role.INVESTIGATOR, True, "participants:list", "Participants"),
        (Role.EAC_REVIEWER, True, "adjudication:queue", "EAC queue"),
        (Role.MONITOR, False, "audit:exports", "Exports"),
        (Role.ADMIN, False, "audit:exports", "Administration"),
    ],
)
def test_each_role_lands_on_its_home_with_its_navigation(
    client: Client, make_user, site_a, role, with_site, landing, nav_text
) -> None:
    user = make_user(role, site_a if with_site else None)
    client.force_login(user)
    response = client.get(reverse("home"), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse(landing)
    assert nav_text in response.content.decode()


@pytest.mark.parametrize(
    ("role", "url", "status"),
    [
        (Role.EAC_REVIEWER, "participants:list", 403),
        (Role.MONITOR, "adjudication:queue", 403),
        (Role.COORDINATOR, "audit:exports", 403),
        (Role.COORDINATOR, "adjudication:queue", 403),
    ],
)
def test_pages_of_other_roles_are_forbidden(client: Client, make_user, site_a, role, url, status) -> None:
    client.force_login(make_user(role, site_a if role != Role.MONITOR else None))
    assert client.get(reverse(url)).status_code == status


def test_user_without_role_is_told_so(client: Client, db) -> None:
    from ..factories import UserFactory

    client.force_login(UserFactory())
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert "no role" in response.content.decode()


def test_role_switch_changes_the_home_page(client: Client, make_user, site_a) -> None:
    from ..factories import MembershipFactory

    user = make_user(Role.COORDINATOR, site_a)
    reviewer = MembershipFactory(user=user, role=Role.EAC_REVIEWER, site=site_a)
    client.force_login(user)
    assert client.get(reverse("home")).url == reverse("adjudication:queue")  # reviewer comes first
    coordinator = user.memberships.get(role=Role.COORDINATOR)
    client.post(reverse("switch_role"), {"membership": coordinator.pk})
    assert client.get(reverse("home")).url == reverse("participants:list")
    # Someone else's membership cannot be chosen.
    other = MembershipFactory(role=Role.ADMIN, site=None)
    client.post(reverse("switch_role"), {"membership": other.pk})
    assert client.get(reverse("home")).url == reverse("participants:list")
    assert reviewer.pk != other.pk


def test_selector_refuses_another_sites_participant(coordinator_a, participant_a, participant_b) -> None:
    assert get_participant(coordinator_a, participant_a.pk) == participant_a
    with pytest.raises(Http404):
        get_participant(coordinator_a, participant_b.pk)
    with pytest.raises(Http404):
        get_participant(coordinator_a, participant_b.pk, for_update=True)
    assert list(visible_participants(coordinator_a)) == [participant_a]


def test_selector_scope_by_role(make_user, site_a, site_b, participant_a, participant_b) -> None:
    site_monitor = make_user(Role.MONITOR, site_b)
    trial_monitor = make_user(Role.MONITOR, None)
    admin = make_user(Role.ADMIN, None)
    reviewer = make_user(Role.EAC_REVIEWER, site_a)
    assert list(visible_participants(site_monitor)) == [participant_b]
    assert set(visible_participants(trial_monitor)) == {participant_a, participant_b}
    assert set(visible_participants(admin)) == {participant_a, participant_b}
    assert list(visible_participants(reviewer)) == []  # reviewers reach cases through escalations only
    with pytest.raises(Http404):
        get_participant(trial_monitor, participant_a.pk, for_update=True)  # monitors only read


def test_other_sites_participants_are_not_listed(
    client: Client, coordinator_a, participant_a, participant_b
) -> None:
    client.force_login(coordinator_a)
    html = client.get(reverse("participants:list")).content.decode()
    assert participant_a.screening_number in html
    assert participant_b.screening_number not in html


def test_participant_list_query_count_is_constant(client: Client, coordinator_a, site_a) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ..factories import ParticipantFactory

    client.force_login(coordinator_a)
    ParticipantFactory(site=site_a, created_by=coordinator_a)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("participants:list"))
    ParticipantFactory.create_batch(20, site=site_a, created_by=coordinator_a)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("participants:list"))
    assert len(many.captured_queries) == len(one.captured_queries)


def test_registration_numbers_per_site(coordinator_a, coordinator_b, site_a, site_b) -> None:
    from datetime import date

    first = register_participant(
        coordinator_a, site=site_a, cohort="SSc", sex="M", birth_date=date(1960, 1, 1)
    )
    second = register_participant(
        coordinator_a, site=site_a, cohort="SLE", lupus_nephritis=True, sex="F", birth_date=date(1990, 1, 1)
    )
    other = register_participant(
        coordinator_b, site=site_b, cohort="IIM", sex="F", birth_date=date(1970, 1, 1)
    )
    assert (first.screening_number, second.screening_number) == ("A01-0001", "A01-0002")
    assert other.screening_number == "B02-0001"
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        register_participant(coordinator_a, site=site_b, cohort="IIM", sex="F", birth_date=date(1970, 1, 1))
