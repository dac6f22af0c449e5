"""Sign-in throttling (by username, and by client address behind the proxy) and the security events
that sign-in, signing, exports, API tokens and role changes leave in the append-only trail."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.contrib import admin
from django.core import mail
from django.test import Client, RequestFactory
from django.urls import reverse

from adjudication.services import verify_password
from api.admin import ApiTokenAdmin
from api.models import ApiToken
from audit.models import SecurityEvent, SecurityEventKind
from participants.client import client_address
from participants.models import Membership, Role
from participants.sessions import SIGNED_IN_AT

from ..conftest import PASSWORD, signing_code

pytestmark = pytest.mark.django_db


def login(client: Client, username: str, password: str = PASSWORD, **headers: str):  # type: ignore[no-untyped-def]
    return client.post(reverse("login"), {"username": username, "password": password}, **headers)


def kinds(**filters: object) -> list[str]:
    return list(
        SecurityEvent.objects.filter(**filters).order_by("recorded_at", "id").values_list("kind", flat=True)
    )


# --- Lockout by username -------------------------------------------------------------------------


def test_a_success_from_the_same_address_does_not_wipe_another_accounts_failures(
    client: Client, coordinator_a, coordinator_b
) -> None:
    """The bypass of the review: guesses at one account, a valid login elsewhere, more guesses."""
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "coord.a", "wrong-password").status_code == 200
    assert login(Client(), "coord.b").status_code == 302
    assert login(client, "coord.a", "wrong-password").status_code == 429
    assert login(Client(), "coord.a").status_code == 429  # even the right password, while locked


def test_failures_are_kept_through_the_accounts_own_success(client: Client, coordinator_a) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "coord.a", "wrong-password")
    assert login(Client(), "coord.a").status_code == 302
    assert login(client, "coord.a", "wrong-password").status_code == 429
    assert kinds(username="coord.a").count(SecurityEventKind.LOGIN_FAILED) == settings.AXES_FAILURE_LIMIT
    assert SecurityEventKind.LOCKED_OUT in kinds(username="coord.a")


# --- Shared address behind the proxy -------------------------------------------------------------

PROXY = "172.18.0.5"


def through_proxy(client_ip: str) -> dict[str, str]:
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": client_ip}


def test_behind_the_proxy_the_client_address_is_read_from_the_proxys_header(settings) -> None:  # type: ignore[no-untyped-def]
    settings.TRUSTED_PROXIES = 1
    request = RequestFactory().get("/", **through_proxy("203.0.113.9"))
    assert client_address(request) == "203.0.113.9"
    # A client's own forged entries stand to the left of the proxy's: ignored.
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.9")
    assert client_address(request) == "203.0.113.9"
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="not-an-address")
    assert client_address(request) == PROXY


def test_without_a_trusted_proxy_forwarded_headers_are_ignored(settings) -> None:  # type: ignore[no-untyped-def]
    settings.TRUSTED_PROXIES = 0
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert client_address(request) == "198.51.100.7"


def test_one_users_failures_behind_the_proxy_do_not_lock_the_site(
    settings, client: Client, coordinator_a, coordinator_b
) -> None:  # type: ignore[no-untyped-def]
    settings.TRUSTED_PROXIES = 1
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        login(client, "coord.a", "wrong-password", **through_proxy("203.0.113.1"))
    # Another person, whose requests arrive from the same proxy address, signs in.
    assert login(Client(), "coord.b", **through_proxy("203.0.113.2")).status_code == 302
    failed = SecurityEvent.objects.filter(kind=SecurityEventKind.LOGIN_FAILED).first()
    assert failed is not None and failed.address == "203.0.113.1"


def test_the_address_throttle_stops_a_guesser_and_no_one_else(
    settings, client: Client, coordinator_b, make_user
) -> None:  # type: ignore[no-untyped-def]
    settings.TRUSTED_PROXIES = 1
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 6
    for n in range(6):  # a different username each time: the username lockout never triggers
        assert (
            login(client, f"guess-{n}", "wrong-password", **through_proxy("203.0.113.66")).status_code == 200
        )
    throttled = login(client, "coord.b", **through_proxy("203.0.113.66"))
    assert throttled.status_code == 429 and "network address" in throttled.text
    assert login(Client(), "coord.b", **through_proxy("203.0.113.2")).status_code == 302
    assert SecurityEvent.objects.filter(
        kind=SecurityEventKind.ADDRESS_THROTTLED, address="203.0.113.66"
    ).exists()


def test_a_clients_x_forwarded_proto_is_not_trusted_without_the_proxy(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    assert settings.SECURE_PROXY_SSL_HEADER is None or settings.TRUSTED_PROXIES
    request = RequestFactory().get("/", HTTP_X_FORWARDED_PROTO="https")
    assert not request.is_secure()


# --- Sign-in events -----------------------------------------------------------------------------


def test_login_logout_and_failures_are_security_events(client: Client, coordinator_a) -> None:
    login(client, "coord.a", "wrong-password")
    login(client, "coord.a")
    client.post(reverse("logout"))
    assert kinds(username="coord.a") == ["login_failed", "login", "logout"]
    signed_in = SecurityEvent.objects.get(kind=SecurityEventKind.LOGIN)
    assert signed_in.user == coordinator_a and signed_in.address == "127.0.0.1"
    logout = SecurityEvent.objects.get(kind=SecurityEventKind.LOGOUT)
    assert logout.role == Role.COORDINATOR and logout.site_id == coordinator_a.memberships.get().site_id


def test_failed_login_events_survive_the_next_success(client: Client, coordinator_a) -> None:
    login(client, "coord.a", "wrong-password")
    login(client, "coord.a")
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.LOGIN_FAILED, username="coord.a").count() == 1


# --- Session lifetime and password change ------------------------------------------------------


def test_a_session_ends_at_its_absolute_lifetime_however_active(client: Client, coordinator_a) -> None:
    login(client, "coord.a")
    assert client.get(reverse("participants:list")).status_code == 200
    session = client.session
    session[SIGNED_IN_AT] = time.time() - settings.SESSION_ABSOLUTE_LIFETIME_SECONDS - 1
    session.save()
    response = client.get(reverse("participants:list"))
    assert response.status_code == 302 and response["Location"] == reverse("login") + "?expired=1"
    assert client.get(reverse("participants:list")).status_code == 302  # signed out
    assert SecurityEventKind.SESSION_EXPIRED in kinds(username="coord.a")


def test_the_absolute_lifetime_defaults_to_twelve_hours() -> None:
    assert settings.SESSION_ABSOLUTE_LIFETIME_SECONDS == 12 * 3600
    assert 0 < settings.SESSION_WARNING_SECONDS < settings.SESSION_COOKIE_AGE


def test_pages_carry_the_idle_warning_and_keepalive(client: Client, coordinator_a) -> None:
    login(client, "coord.a")
    html = client.get(reverse("participants:list")).text
    assert f'data-session-idle-seconds="{settings.SESSION_COOKIE_AGE}"' in html
    assert 'id="session-warning"' in html and 'id="session-stay"' in html
    assert client.post(reverse("session_keepalive")).status_code == 204


def test_every_user_changes_their_password_with_the_validators(client: Client, coordinator_a) -> None:
    login(client, "coord.a")
    url = reverse("password_change")
    short = client.post(url, {"old_password": PASSWORD, "new_password1": "short1", "new_password2": "short1"})
    assert short.status_code == 200 and "too short" in short.text
    new = "a-much-longer-passphrase-42"
    done = client.post(url, {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert done.status_code == 302 and done["Location"] == reverse("password_change_done")
    coordinator_a.refresh_from_db()
    assert coordinator_a.check_password(new)
    assert SecurityEventKind.PASSWORD_CHANGED in kinds(user=coordinator_a)


# --- Exports, tokens, roles ---------------------------------------------------------------------


def test_every_export_is_recorded_with_filters_and_row_count(
    client: Client, make_user, participant_a
) -> None:
    monitor = make_user(Role.MONITOR, None, "trial.monitor")
    client.force_login(monitor)
    response = client.get(reverse("audit:screening_log", kwargs={"fmt": "csv"}), {"note": "q3"})
    body = b"".join(response.streaming_content)
    assert body.count(b"\n") == 2  # header and one participant
    event = SecurityEvent.objects.get(kind=SecurityEventKind.EXPORT)
    assert event.user == monitor and event.role == Role.MONITOR and event.address == "127.0.0.1"
    assert event.detail["file"] == "screening-log" and event.detail["format"] == "csv"
    assert event.detail["rows"] == 1 and event.detail["filters"] == {"note": ["q3"]}
    assert event.detail["complete"] is True


def test_api_token_creation_use_and_revocation_are_recorded(client: Client, coordinator_a, make_user) -> None:
    token_row, token = ApiToken.issue(coordinator_a, "lab interface")
    client.post(
        "/api/labs/", data="[]", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    admin_user = make_user(Role.ADMIN, None, "the.admin")
    request = RequestFactory().post("/admin/")
    request.user = admin_user
    model_admin = ApiTokenAdmin(ApiToken, admin.site)
    model_admin.message_user = lambda *a, **k: None  # type: ignore[method-assign]
    model_admin.revoke(request, ApiToken.objects.filter(pk=token_row.pk))
    events = list(SecurityEvent.objects.filter(kind__startswith="token_").order_by("id"))
    assert [e.kind for e in events] == ["token_created", "token_used", "token_revoked"]
    assert all(e.detail["token"] == token_row.pk for e in events)
    assert events[1].user == coordinator_a and events[1].detail["path"] == "/api/labs/"
    assert events[2].user == admin_user
    token_row.refresh_from_db()
    assert token_row.revoked_at is not None


def test_role_and_membership_changes_are_recorded(make_user, site_a, site_b) -> None:
    user = make_user(Role.COORDINATOR, site_a, "someone")
    membership = Membership.objects.get(user=user)
    membership.site = site_b
    membership.save()
    membership.delete()
    details = [
        e.detail["action"]
        for e in SecurityEvent.objects.filter(kind=SecurityEventKind.ROLE_CHANGED).order_by("id")
    ]
    assert details == ["granted", "changed", "removed"]


# --- Signing ------------------------------------------------------------------------------------


def test_repeated_failed_signing_is_reported_to_the_administrators(make_user, site_a, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ADMINS = [("Trial IT", "it@example.org")]
    admin_user = make_user(Role.ADMIN, None, "the.admin")
    admin_user.email = "admin@example.org"
    admin_user.save()
    signer = make_user(Role.EAC_REVIEWER, site_a, "a.reviewer")
    for _ in range(settings.SIGNING_FAILURE_REPORT_LIMIT):
        assert verify_password(signer, "wrong-password", "", None) is False
    assert (
        kinds(user=signer).count(SecurityEventKind.SIGNATURE_FAILED) == settings.SIGNING_FAILURE_REPORT_LIMIT
    )
    assert SecurityEventKind.SIGNING_FAILURES_REPORTED in kinds(user=signer)
    recipients = {address for message in mail.outbox for address in message.to}
    assert {"admin@example.org", "it@example.org"} <= recipients
    assert verify_password(signer, PASSWORD, signing_code(signer), None) is True
    assert kinds(user=signer)[-1] == SecurityEventKind.SIGNATURE_VERIFIED


# --- The administrators' page -------------------------------------------------------------------


def test_the_security_events_page_lists_and_filters(
    client: Client, coordinator_a, make_user, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    login(Client(), "coord.a", "wrong-password")
    login(Client(), "coord.a")
    admin_user = make_user(Role.ADMIN, None, "the.admin")
    client.force_login(admin_user)
    url = reverse("audit:security_events")
    with django_assert_max_num_queries(12):
        page = client.get(url)
    listed = page.text.count('data-testid="security-event"')
    assert page.status_code == 200 and listed == SecurityEvent.objects.count() >= 4
    only_failed = client.get(url, {"kind": "login_failed", "username": "coord.a"})
    assert only_failed.text.count('data-testid="security-event"') == 1
    assert client.get(url, {"address": "not an address"}).status_code == 200  # named, never a 500
