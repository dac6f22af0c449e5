"""Receivers that put authentication, role and API-token events into the security trail."""

from __future__ import annotations

import time
from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest

from api.models import ApiToken
from api.signals import token_created, token_revoked, token_used
from participants.models import Membership
from participants.sessions import SIGNED_IN_AT
from participants.signals import second_factor_changed, signing_attempted

from .models import SecurityEventKind
from .security import record, record_signing_attempt


@receiver(user_logged_in)
def _logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT] = time.time()
    record(SecurityEventKind.LOGIN, request=request, user=user)


@receiver(user_logged_out)
def _logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is not None:
        kind = SecurityEventKind.SESSION_EXPIRED if getattr(request, "session_expired", False) else None
        record(kind or SecurityEventKind.LOGOUT, request=request, user=user)


@receiver(user_login_failed)
def _login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    record(SecurityEventKind.LOGIN_FAILED, request=request, username=str(credentials.get("username") or ""))


@receiver(user_locked_out)
def _locked_out(sender: Any, request: HttpRequest | None, username: str | None, **kwargs: Any) -> None:
    record(SecurityEventKind.LOCKED_OUT, request=request, username=username or "")


def _membership_detail(membership: Membership, action: str) -> dict[str, Any]:
    return {
        "action": action,
        "member": membership.user_id,
        "member_role": membership.role,
        "member_site": membership.site_id,
    }


@receiver(post_save, sender=Membership)
def _membership_saved(sender: Any, instance: Membership, created: bool, **kwargs: Any) -> None:
    record(
        SecurityEventKind.ROLE_CHANGED,
        detail=_membership_detail(instance, "granted" if created else "changed"),
    )


@receiver(post_delete, sender=Membership)
def _membership_deleted(sender: Any, instance: Membership, **kwargs: Any) -> None:
    record(SecurityEventKind.ROLE_CHANGED, detail=_membership_detail(instance, "removed"))


def _token_detail(token: ApiToken) -> dict[str, Any]:
    return {"token": token.pk, "hint": token.hint, "name": token.name, "owner": token.user_id}


@receiver(token_created)
def _token_created(
    sender: Any, tokens: list[ApiToken], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    for token in tokens:
        record(SecurityEventKind.TOKEN_CREATED, request=request, user=token.user, detail=_token_detail(token))


@receiver(token_used)
def _token_used(
    sender: Any, tokens: list[ApiToken], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    for token in tokens:
        detail = {**_token_detail(token), "path": request.path if request is not None else ""}
        record(SecurityEventKind.TOKEN_USED, request=request, user=token.user, detail=detail)


@receiver(token_revoked)
def _token_revoked(
    sender: Any, tokens: list[ApiToken], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    for token in tokens:
        record(SecurityEventKind.TOKEN_REVOKED, request=request, detail=_token_detail(token))


@receiver(signing_attempted)
def _signing_attempted(
    sender: Any,
    user: Any,
    request: HttpRequest | None,
    ok: bool,
    meaning: str = "",
    failed: str = "",
    **kwargs: Any,
) -> None:
    record_signing_attempt(user, ok, request, meaning, failed)


_SECOND_FACTOR_KINDS = {
    "enrolled": SecurityEventKind.SECOND_FACTOR_ENROLLED,
    "reset": SecurityEventKind.SECOND_FACTOR_RESET,
}


@receiver(second_factor_changed)
def _second_factor_changed(
    sender: Any, user: Any, request: HttpRequest | None, change: str, detail: dict[str, Any], **kwargs: Any
) -> None:
    record(_SECOND_FACTOR_KINDS[change], request=request, user=user, detail=detail)
