"""Who makes an API request: the owner of a bearer token, or the logged-in user of the session."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import HttpRequest
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone

from participants.models import Membership, Participant, User
from participants.roles import PARTICIPANT_WRITER_ROLES
from participants.selectors import editable_participants

from .models import ApiToken, hash_token
from .signals import token_used


@dataclass(frozen=True)
class Caller:
    user: User
    via_token: bool
    # The session's current membership; a token acts with all the user's memberships.
    membership: Membership | None = None
    # The token of the request (None: a session): the rate limit counts per token.
    token_id: int | None = None


class Unauthenticated(Exception):
    pass


def bearer_token(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() in ("bearer", "token") and value.strip():
        return value.strip()
    return None


def authenticate(request: HttpRequest) -> Caller:
    token = bearer_token(request)
    if token is not None:
        row = (
            ApiToken.objects.select_related("user")
            .filter(token_hash=hash_token(token), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if row is None:
            raise Unauthenticated("Invalid or revoked API token.")
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
        token_used.send(ApiToken, tokens=[row], request=request)
        return Caller(row.user, via_token=True, token_id=row.pk)
    if request.user.is_authenticated:
        return Caller(request.user, via_token=False, membership=getattr(request, "membership", None))  # type: ignore[arg-type]
    raise Unauthenticated("Authentication required: a bearer token or a session.")


def csrf_failure(request: HttpRequest) -> bool:
    """A session-authenticated POST must carry the CSRF token, as a form would."""
    return CsrfViewMiddleware(lambda r: None).process_view(request, lambda r: None, (), {}) is not None  # type: ignore[arg-type,return-value]


def writable_participants(caller: Caller) -> QuerySet[Participant] | None:
    """The participants the caller may record data for; None when its role cannot write."""
    if caller.via_token:
        roles = set(Membership.objects.filter(user=caller.user).values_list("role", flat=True))
        if not roles & set(PARTICIPANT_WRITER_ROLES):
            return None
        return editable_participants(caller.user)
    membership = caller.membership
    if membership is None or membership.role not in PARTICIPANT_WRITER_ROLES:
        return None
    return editable_participants(caller.user).filter(site_id=membership.site_id)
