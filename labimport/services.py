"""Actions of the lab import, each by an acting user in one transaction with its audit context."""

from __future__ import annotations

import pghistory
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from participants.models import Participant, User
from participants.selectors import editable_participants

from .models import HospitalIdentifier


@transaction.atomic
def record_hospital_identifier(
    user: User, participant: Participant, *, system: str, value: str
) -> HospitalIdentifier:
    """Record an identifier of the site's hospital systems for a participant the user may change."""
    locked = editable_participants(user).select_for_update(of=("self",)).filter(pk=participant.pk).first()
    if locked is None:
        raise PermissionDenied("You may not change this participant's data.")
    system, value = system.strip(), value.strip()
    if not system or not value:
        raise ValidationError("An identifier needs both a system and a value.")
    identifier = HospitalIdentifier(
        site_id=locked.site_id, participant=locked, system=system, value=value, recorded_by=user
    )
    with pghistory.context(user=user.pk, reason="hospital identifier recorded"):
        try:
            with transaction.atomic():
                identifier.save()
        except IntegrityError:
            raise ValidationError(
                f"{system}|{value} is already recorded for a participant of this site."
            ) from None
    return identifier
