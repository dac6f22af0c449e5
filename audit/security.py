"""Security events (audit.SecurityEvent): who, in which role, from which address, when.

`record` writes one event. The request being served is remembered for the duration of the
request (`serving`, set by audit.middleware), so that receivers of model signals (membership
changes) and code without a request at hand still record the address and role. Events are
written in their own transaction when none is open (a failed attempt is kept even when the
action it belonged to is rolled back, since it is checked before that action's transaction).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.mail import mail_admins, send_mail
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone

from participants.client import client_address
from participants.models import Membership, Role, User

from .models import SecurityEvent, SecurityEventKind

log = logging.getLogger(__name__)

_current_request: ContextVar[HttpRequest | None] = ContextVar("security_request", default=None)


@contextmanager
def serving(request: HttpRequest) -> Iterator[None]:
    token = _current_request.set(request)
    try:
        yield
    finally:
        _current_request.reset(token)


def record(
    kind: SecurityEventKind,
    *,
    request: HttpRequest | None = None,
    user: Any = None,
    username: str = "",
    detail: dict[str, Any] | None = None,
) -> SecurityEvent:
    request = request if request is not None else _current_request.get()
    if user is None and request is not None:
        request_user = getattr(request, "user", None)
        if request_user is not None and request_user.is_authenticated:
            user = request_user
    membership = getattr(request, "membership", None) if request is not None else None
    return SecurityEvent.objects.create(
        kind=kind,
        user=user if isinstance(user, User) else None,
        username=(username or (user.get_username() if isinstance(user, User) else ""))[:150],
        role=membership.role if membership is not None else "",
        site_id=membership.site_id if membership is not None else None,
        address=(client_address(request) or None) if request is not None else None,
        detail=detail or {},
    )


# --- Signing (21 CFR 11.200, 11.300(d)) --------------------------------------------------------


def record_signing_attempt(
    user: User, ok: bool, request: HttpRequest | None, meaning: str = "", failed: str = ""
) -> None:
    """An electronic signature's password re-entry, recorded.

    This is not a login: a wrong password here never counts toward the login lockout (a reviewer
    mistyping while signing must not lock themself out of the application). Repeated failures
    within the lockout window are reported to the administrators by e-mail and recorded. `failed`
    names the factor refused ("password" or "code" of the second factor)."""
    detail = {"meaning": meaning[:300]} if meaning else {}
    if failed:
        detail["failed"] = failed
    if ok:
        record(SecurityEventKind.SIGNATURE_VERIFIED, request=request, user=user, detail=detail)
        return
    record(SecurityEventKind.SIGNATURE_FAILED, request=request, user=user, detail=detail)
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    failures = SecurityEvent.objects.filter(
        kind=SecurityEventKind.SIGNATURE_FAILED, user=user, recorded_at__gte=since
    ).count()
    if failures == settings.SIGNING_FAILURE_REPORT_LIMIT:
        _report_signing_failures(user, failures, request)


def _report_signing_failures(user: User, failures: int, request: HttpRequest | None) -> None:
    record(
        SecurityEventKind.SIGNING_FAILURES_REPORTED,
        request=request,
        user=user,
        detail={"failures": failures},
    )
    subject = f"Repeated failed signing attempts by {user.get_username()}"
    body = (
        f"{failures} signing attempts with a wrong password or code by {user.get_username()} "
        f"({user.display_name()}) within {settings.AXES_COOLOFF_TIME}. "
        "See the security events page of the administration."
    )
    recipients = list(
        Membership.objects.filter(role=Role.ADMIN, user__is_active=True)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
        .distinct()
    )
    try:
        if recipients:
            send_mail(subject, body, None, recipients)
        mail_admins(subject, body)
    except Exception:  # noqa: BLE001 - the event is recorded; a mail server down must not block
        log.warning("could not mail the report of repeated signing failures", exc_info=True)


# --- Exports -----------------------------------------------------------------------------------


def trace_export(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Record every download built by the export pipeline (exports.download marks its responses):
    who, which file, the filters, and the number of rows, once the last row has been sent."""
    export = getattr(response, "export", None)
    if export is None or not isinstance(response, StreamingHttpResponse):
        return response
    user = request.user if request.user.is_authenticated else None
    membership = getattr(request, "membership", None)
    filters = (
        export.filters
        if export.filters is not None
        else {key: request.GET.getlist(key) for key in request.GET}
    )
    content = response.streaming_content

    def traced() -> Iterator[Any]:
        complete = False
        try:
            yield from content
            complete = True
        finally:
            # The request has ended by now: its user, role and address are passed on explicitly.
            with serving(request):
                record(
                    SecurityEventKind.EXPORT,
                    request=request,
                    user=user,
                    detail={
                        "file": export.basename,
                        "format": export.fmt,
                        "path": request.path,
                        "filters": filters,
                        "rows": export.rows,
                        "complete": complete,
                        "role": membership.role if membership is not None else "",
                        **({"job": export.job} if export.job is not None else {}),
                    },
                )

    response.streaming_content = traced()
    return response
