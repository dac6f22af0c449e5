"""The credentials of an electronic signature (21 CFR 11.200(a)(1)): the password again plus a TOTP
device per signer. It lives with the users (participants) so that every layer that signs uses the
same check: the EAC's reviews and sign-offs (adjudication) and the investigator's enrollment
checklist (screening).

EAC reviewers and investigators sign with their password plus a code from an authenticator app.
The device is set up by its signer on first use (confirmed with a code) and can only be replaced
after an administrator's reset, which names a reason and is a security event. A code is good once:
django-otp's TOTP device keeps the last time step used and refuses it and earlier ones.
"""

from __future__ import annotations

from base64 import b32encode
from typing import Any

import pghistory
import qrcode
import qrcode.image.svg
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import Membership, User
from .roles import REVIEWER_ROLES, Role
from .signals import second_factor_changed, signing_attempted

DEVICE_NAME = "Signing"


class SecondFactorError(Exception):
    """A set-up or reset that cannot be done; the message says why, for the user."""


def is_signer(user: User) -> bool:
    return Membership.objects.filter(user=user, role__in=REVIEWER_ROLES).exists()


def has_second_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def verify_code(user: User, code: str) -> bool:
    """True once for a current code of the signer's confirmed device. The device row is locked so
    that two requests with the same code cannot both pass before the used step is saved."""
    code = (code or "").strip()
    if not code.isascii() or not code.isdigit():
        return False
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        return device is not None and bool(device.verify_token(code))


def verify_signature(user: User, password: str, code: str, request: HttpRequest | None) -> bool:
    """Re-authentication for a signature: the password plus the current code of the signer's
    second factor. Not a login: it never counts toward the login lockout. Every attempt is
    announced (`signing_attempted`, with the factor that failed): the audit trail records it and
    reports repeated failures (audit/security.py). The code is only tried after a right password,
    so a wrong password does not use it up."""
    password_ok = bool(password) and user.check_password(password)
    ok = password_ok and verify_code(user, code)
    failed = "" if ok else ("code" if password_ok else "password")
    signing_attempted.send(sender=User, user=user, request=request, ok=ok, meaning="", failed=failed)
    return ok


# --- Set-up on first use --------------------------------------------------------------------------


def enrolment_device(user: User) -> TOTPDevice:
    """The unconfirmed device a signer is setting up, made on first call (the same secret is shown
    until it is confirmed)."""
    if not is_signer(user):
        raise SecondFactorError("Only EAC reviewers and investigators sign.")
    if has_second_factor(user):
        raise SecondFactorError("Your second factor is already set up.")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def secret_text(device: TOTPDevice) -> str:
    """The secret as an authenticator app takes it when typed: base32, in groups of four."""
    text = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// address as an SVG QR code (no script, no style attribute)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    return str(image.to_string(encoding="unicode"))


def confirm_enrolment(user: User, code: str, request: HttpRequest | None = None) -> TOTPDevice:
    """The signer proves the app holds the secret by typing its current code."""
    code = (code or "").strip()
    with transaction.atomic(), pghistory.context(user=user.pk, reason="second factor set up"):
        device = (
            TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("pk").first()
        )
        if device is None:
            raise SecondFactorError("Open the set-up page again to get a new secret.")
        ok = code.isascii() and code.isdigit() and bool(device.verify_token(code))
        if ok:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            second_factor_changed.send(
                sender=TOTPDevice, user=user, request=request, change="enrolled", detail=_describe(device)
            )
    # Outside the block on purpose: a wrong code's throttling, saved by django-otp, is kept.
    if not ok:
        raise SecondFactorError("The code is not correct. Type the code your app shows now.")
    return device


# --- Reset by an administrator --------------------------------------------------------------------


def signers_for_reset(admin: User) -> QuerySet[User]:
    """Every signer, with `has_device` (any device, confirmed or being set up)."""
    _require_admin(admin)
    return (
        User.objects.filter(memberships__role__in=REVIEWER_ROLES)
        .distinct()
        .annotate(has_device=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"))))
        .order_by("username")
    )


def reset_second_factor(
    admin: User, signer_id: int, *, reason: str, request: HttpRequest | None = None
) -> int:
    """Remove a signer's devices (lost or replaced phone): the signer sets up a new one before the
    next signature. The security event keeps who reset whose device, why, and the devices removed.
    Returns the number of devices removed."""
    _require_admin(admin)
    reason = reason.strip()
    if not reason:
        raise SecondFactorError("Give the reason for the reset.")
    signer = signers_for_reset(admin).filter(pk=signer_id).first()
    if signer is None:
        raise SecondFactorError("No such signer.")
    with transaction.atomic(), pghistory.context(user=admin.pk, reason="second factor reset"):
        devices = list(TOTPDevice.objects.select_for_update().filter(user=signer).order_by("pk"))
        if not devices:
            raise SecondFactorError(f"{signer.get_username()} has no second factor to reset.")
        TOTPDevice.objects.filter(pk__in=[d.pk for d in devices]).delete()
        second_factor_changed.send(
            sender=TOTPDevice,
            user=admin,
            request=request,
            change="reset",
            detail={
                "signer": signer.get_username(),
                "signer_id": signer.pk,
                "reason": reason[:1000],
                "devices": [_describe(d) for d in devices],
            },
        )
    return len(devices)


def _require_admin(user: User) -> None:
    if not Membership.objects.filter(user=user, role=Role.ADMIN).exists():
        raise SecondFactorError("Only an administrator resets a second factor.")


def _describe(device: TOTPDevice) -> dict[str, Any]:
    created = getattr(device, "created_at", None)
    return {
        "device_id": device.pk,
        "name": device.name,
        "confirmed": device.confirmed,
        "created_at": created.isoformat() if created else None,
        "last_step_used": device.last_t,
    }
