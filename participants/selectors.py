"""The one way views reach participants: scoped to the sites the user may see.

A participant of another site is simply not in the queryset, so a URL with its ID gives 404.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from .models import Membership, Participant, Role, User

# Roles that read participants of their site(s) through this selector. EAC reviewers reach
# participants only through their escalations (adjudication), never through this list.
PARTICIPANT_READER_ROLES = (Role.COORDINATOR, Role.INVESTIGATOR, Role.MONITOR, Role.ADMIN)
PARTICIPANT_WRITER_ROLES = (Role.COORDINATOR, Role.INVESTIGATOR)


def _site_filter(user: User, roles: tuple[Role, ...]) -> Q | None:
    """A filter on participant sites for the user's memberships in `roles`; None means every site."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    memberships = [m for m in Membership.objects.filter(user=user) if m.role in roles]
    if any(m.role in (Role.ADMIN, Role.MONITOR) and m.site_id is None for m in memberships):
        return None
    return Q(site_id__in={m.site_id for m in memberships if m.site_id is not None})


def visible_participants(user: User) -> QuerySet[Participant]:
    condition = _site_filter(user, PARTICIPANT_READER_ROLES)
    qs = Participant.objects.select_related("site")
    return qs if condition is None else qs.filter(condition)


def editable_participants(user: User) -> QuerySet[Participant]:
    condition = _site_filter(user, PARTICIPANT_WRITER_ROLES)
    qs = Participant.objects.select_related("site")
    return qs if condition is None else qs.filter(condition)


def get_participant(user: User, pk: int, *, for_update: bool = False) -> Participant:
    """The participant `pk` if the user may see it (or change it, with for_update), else 404."""
    qs = editable_participants(user) if for_update else visible_participants(user)
    return get_object_or_404(qs, pk=pk)
