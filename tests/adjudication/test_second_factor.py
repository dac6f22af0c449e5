"""The second factor of a signature: set-up on first use, password plus code, a code good once, and
an administrator's audited reset of a lost device."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from adjudication import services
from adjudication.models import Escalation, Signature
from audit.models import SecurityEvent, SecurityEventKind
from participants import second_factor
from participants.models import Role, Site

from ..conftest import PASSWORD, signing_code


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def current_code(device: TOTPDevice) -> str:
    """What an app holding the device's secret shows now."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def escalation(enter) -> Escalation:  # type: ignore[no-untyped-def]
    return Escalation.objects.get(participant=enter("sle-ln-no-biopsy.json"))


@pytest.fixture
def new_reviewer(make_user, site_b: Site):  # type: ignore[no-untyped-def]
    """An EAC reviewer who has not set up a second factor yet."""
    return make_user(Role.EAC_REVIEWER, site_b, "eac.new", second_factor=False)


def events(kind: SecurityEventKind) -> list[SecurityEvent]:
    return list(SecurityEvent.objects.filter(kind=kind).order_by("id"))


def test_a_signer_without_a_device_is_taken_through_set_up_before_signing(new_reviewer, escalation) -> None:  # type: ignore[no-untyped-def]
    client = client_for(new_reviewer)
    client.post(reverse("adjudication:claim", args=[escalation.pk]))
    review_url = reverse("adjudication:review", args=[escalation.pk])
    page = client.get(review_url).text
    assert 'data-testid="second-factor-needed"' in page and 'data-testid="sign-form"' not in page
    # The sign form accepts nothing until the set-up is done.
    sign = {"action": "approve", "rationale": "fine", "password": PASSWORD, "code": "123456"}
    response = client.post(reverse("adjudication:sign", args=[escalation.pk]), sign)
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("adjudication:second_factor")
    )
    assert not Signature.objects.exists()
    with pytest.raises(services.SecondFactorRequired):
        services.sign_review(
            new_reviewer, escalation.pk, action="approve", rationale="x", password=PASSWORD, code="1"
        )

    setup_url = f"{reverse('adjudication:second_factor')}?next={review_url}"
    page = client.get(setup_url).text
    device = TOTPDevice.objects.get(user=new_reviewer, confirmed=False)
    # The QR code is inline SVG: no script and no style attribute for the CSP to refuse.
    qr = page[page.index('data-testid="second-factor-qr"') : page.index("</figure>")]
    assert "<svg" in qr and "<path" in qr and "script" not in qr and "style=" not in qr
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert second_factor.secret_text(device) in page
    # The same secret is shown until it is confirmed.
    client.get(setup_url)
    assert TOTPDevice.objects.filter(user=new_reviewer).count() == 1

    wrong = client.post(setup_url, {"code": "000000" if current_code(device) != "000000" else "111111"})
    assert wrong.status_code == 400 and "The code is not correct" in wrong.text
    device.refresh_from_db()
    assert not device.confirmed
    device.throttling_failure_count = 0  # the wrong code's delay, as after waiting
    device.save()
    confirmed = client.post(setup_url, {"code": current_code(device)})
    assert confirmed.status_code == 302 and confirmed["Location"] == review_url
    assert TOTPDevice.objects.get(user=new_reviewer).confirmed
    (enrolled,) = events(SecurityEventKind.SECOND_FACTOR_ENROLLED)
    assert enrolled.user == new_reviewer and enrolled.detail["device_id"] == device.pk
    # Set up once: the page now says so and shows no secret.
    again = client.get(setup_url).text
    assert 'data-testid="second-factor-ready"' in again and second_factor.secret_text(device) not in again

    assert 'data-testid="sign-form"' in client.get(review_url).text
    sign["code"] = signing_code(new_reviewer)
    assert client.post(reverse("adjudication:sign", args=[escalation.pk]), sign).status_code == 302
    assert Signature.objects.get().signer == new_reviewer


def test_other_roles_cannot_set_up_a_signing_device(make_user, coordinator_a, site_a) -> None:  # type: ignore[no-untyped-def]
    monitor = make_user(Role.MONITOR, site_a, "monitor.x")
    for user in (coordinator_a, monitor):
        assert client_for(user).get(reverse("adjudication:second_factor")).status_code == 403
        with pytest.raises(second_factor.SecondFactorError):
            second_factor.enrolment_device(user)
    assert not TOTPDevice.objects.exists()


def test_signing_takes_password_and_code_and_a_wrong_code_is_a_failed_signature(
    escalation, reviewer_b
) -> None:  # type: ignore[no-untyped-def]
    from axes.models import AccessAttempt

    client = client_for(reviewer_b)
    client.post(reverse("adjudication:claim", args=[escalation.pk]))
    url = reverse("adjudication:sign", args=[escalation.pk])
    form = {"action": "approve", "rationale": "fine", "password": PASSWORD}
    page = client.get(reverse("adjudication:review", args=[escalation.pk])).text
    assert 'name="code"' in page and 'autocomplete="one-time-code"' in page
    # No code: the form refuses it, nothing is tried.
    assert client.post(url, form).status_code == 400
    good = signing_code(reviewer_b)
    wrong = client.post(url, {**form, "code": f"{(int(good) + 1) % 1_000_000:06d}"})
    assert wrong.status_code == 400 and "Nothing was signed" in wrong.text
    assert not Signature.objects.exists()
    (failed,) = events(SecurityEventKind.SIGNATURE_FAILED)
    assert failed.user == reviewer_b and failed.detail["failed"] == "code"
    assert not AccessAttempt.objects.filter(username=reviewer_b.username).exists()  # not a failed login
    # A wrong password does not use up the code.
    client.post(url, {**form, "password": "wrong-password", "code": good})
    assert events(SecurityEventKind.SIGNATURE_FAILED)[-1].detail["failed"] == "password"
    TOTPDevice.objects.filter(user=reviewer_b).update(throttling_failure_count=0)  # after the delay
    assert client.post(url, {**form, "code": good}).status_code == 302
    assert Signature.objects.get().signer == reviewer_b
    assert len(events(SecurityEventKind.SIGNATURE_VERIFIED)) == 1


def test_a_code_signs_once(enter, reviewer_b, django_capture_on_commit_callbacks, settings) -> None:  # type: ignore[no-untyped-def]
    settings.EAC_QUORUM = 2
    first = Escalation.objects.get(participant=enter("sle-ln-no-biopsy.json"))
    second = Escalation.objects.get(participant=enter("sle-ln-no-biopsy.json"))
    code = signing_code(reviewer_b)
    for e in (first, second):
        services.claim(reviewer_b, e.pk)
    services.sign_review(reviewer_b, first.pk, action="approve", rationale="ok", password=PASSWORD, code=code)
    with pytest.raises(services.SignatureRefused):
        services.sign_review(
            reviewer_b, second.pk, action="approve", rationale="ok", password=PASSWORD, code=code
        )
    assert Signature.objects.count() == 1
    assert events(SecurityEventKind.SIGNATURE_FAILED)[-1].detail["failed"] == "code"


def test_an_administrator_resets_a_lost_device_with_a_reason(
    make_user, reviewer_b, investigator_a, escalation
) -> None:  # type: ignore[no-untyped-def]
    admin = make_user(Role.ADMIN, None, "admin.x")
    device = TOTPDevice.objects.get(user=reviewer_b)
    client = client_for(admin)
    url = reverse("adjudication:second_factor_reset")
    page = client.get(url).text
    assert reviewer_b.username in page and investigator_a.username in page
    assert client.post(url, {"signer": reviewer_b.pk, "reason": " "}).status_code == 400
    assert TOTPDevice.objects.filter(user=reviewer_b).exists()
    response = client.post(url, {"signer": reviewer_b.pk, "reason": "Phone lost, call of 6 Dec"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=reviewer_b).exists()
    assert TOTPDevice.objects.filter(user=investigator_a).exists()
    (reset,) = events(SecurityEventKind.SECOND_FACTOR_RESET)
    assert reset.user == admin and reset.role == "admin"
    assert (
        reset.detail["signer"] == reviewer_b.username
        and reset.detail["reason"] == "Phone lost, call of 6 Dec"
    )
    assert [d["device_id"] for d in reset.detail["devices"]] == [device.pk]
    # The signer sets up a new device before signing again.
    services.claim(reviewer_b, escalation.pk)
    with pytest.raises(services.SecondFactorRequired):
        services.sign_review(
            reviewer_b, escalation.pk, action="approve", rationale="x", password=PASSWORD, code="123456"
        )
    assert (
        'data-testid="second-factor-needed"'
        in client_for(reviewer_b).get(reverse("adjudication:review", args=[escalation.pk])).text
    )


def test_only_an_administrator_resets(reviewer_b, investigator_a, coordinator_a, make_user, site_a) -> None:  # type: ignore[no-untyped-def]
    monitor = make_user(Role.MONITOR, site_a, "monitor.x")
    url = reverse("adjudication:second_factor_reset")
    for user in (reviewer_b, investigator_a, coordinator_a, monitor):
        response = client_for(user).post(url, {"signer": reviewer_b.pk, "reason": "x"})
        assert response.status_code == 403
        with pytest.raises(second_factor.SecondFactorError):
            second_factor.reset_second_factor(user, reviewer_b.pk, reason="x")
    assert TOTPDevice.objects.filter(user=reviewer_b).exists()
    assert not events(SecurityEventKind.SECOND_FACTOR_RESET)


def test_devices_are_not_edited_in_the_django_admin() -> None:
    from django.contrib import admin

    assert not admin.site.is_registered(TOTPDevice)
