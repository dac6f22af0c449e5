"""Protocol amendments: an administrator records a version's release and, per site, the date its
ethics board approved it (docs/amendments.md). Activation marks the site's participants once the
date has come; the existing re-evaluation pipeline evaluates them with the trigger "protocol
amendment" (screening.tasks)."""

from __future__ import annotations

from datetime import date

import pghistory
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from participants.models import Site, User
from participants.roles import Role
from screening.models import ProtocolVersion, SiteApproval, Trigger
from screening.protocols import known_version
from screening.reevaluation import mark_amended
from screening.tasks import enqueue_batches


def _require_admin(user: User) -> None:
    if not (user.is_superuser or user.memberships.filter(role=Role.ADMIN).exists()):
        raise PermissionDenied("only an administrator records protocol versions and approvals")


def record_release(user: User, *, version: str, title: str, released_on: date) -> ProtocolVersion:
    """Record that `version` (one the engine implements) was released on `released_on`."""
    _require_admin(user)
    if not known_version(version):
        raise ValidationError({"version": f"the engine does not implement protocol version {version!r}"})
    with transaction.atomic(), pghistory.context(user=user.pk, reason=f"protocol {version} released"):
        protocol, _ = ProtocolVersion.objects.get_or_create(
            version=version, defaults={"title": title, "effective_from": released_on}
        )
    return protocol


def check_activation(site: Site, protocol: ProtocolVersion | None, approved_on: date) -> ProtocolVersion:
    """The rules of an approval (the admin's form checks them too): a released version, not
    approved before its release, once per site."""
    if protocol is None:
        raise ValidationError({"version": "this protocol version has not been released"})
    if approved_on < protocol.effective_from:
        raise ValidationError({"approved_on": "an approval cannot precede the version's release"})
    if SiteApproval.objects.filter(site=site, protocol=protocol).exists():
        raise ValidationError({"version": f"site {site.code} already has an approval of {protocol.version}"})
    return protocol


def activate_version(user: User, *, site: Site, version: str, approved_on: date) -> SiteApproval:
    """Record the site's ethics approval of a released version. From `approved_on` the site's
    participants are evaluated under it; if that day has come, they are marked now and queued for
    re-evaluation after commit, else the sweep does it on that day."""
    _require_admin(user)
    reason = f"protocol {version} approved at site {site.code} on {approved_on.isoformat()}"
    with transaction.atomic(), pghistory.context(user=user.pk, reason=reason):
        # The site row is locked so that two activations for one site are checked one at a time.
        Site.objects.select_for_update().filter(pk=site.pk).first()
        protocol = check_activation(
            site, ProtocolVersion.objects.filter(version=version).first(), approved_on
        )
        approval = SiteApproval.objects.create(
            site=site, protocol=protocol, approved_on=approved_on, recorded_by=user
        )
        marked = mark_amended(timezone.now())
        if marked:
            transaction.on_commit(lambda: enqueue_batches(marked, Trigger.PROTOCOL_AMENDMENT))
    return approval
