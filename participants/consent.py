"""Consent form versions: the administrator's register of versions and of their approval at each
site, the participant's signatures, and what follows from them: the version in effect at a site on
a day, "re-consent needed" on the participant's worklist, and the block on enrollment
(`enrollment_block`) until the version in effect has been signed. docs/registration.md, "Consent form versions"."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pghistory
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery, TextField
from django.db.models.expressions import RawSQL
from django.utils import timezone

from .changes import announce_change
from .models import (
    ConsentApproval,
    ConsentSignature,
    ConsentVersion,
    Membership,
    Participant,
    RecordState,
    Role,
    Site,
    User,
)
from .services import RecordInvalid, check_key_dates, lock_participant

# --- The administrator's register -----------------------------------------------------------------


def _require_admin(user: User) -> None:
    if not Membership.objects.filter(user=user, role=Role.ADMIN).exists():
        raise PermissionDenied("Only an administrator registers consent form versions.")


@transaction.atomic
def register_consent_version(user: User, *, label: str, document_date: date) -> ConsentVersion:
    _require_admin(user)
    label = label.strip()
    if not label:
        raise RecordInvalid({"label": "Give the version as printed on the form."})
    if ConsentVersion.objects.filter(label__iexact=label).exists():
        raise RecordInvalid({"label": f"Version {label} is already registered."})
    if document_date > timezone.localdate():
        raise RecordInvalid({"document_date": "The form's date cannot be in the future."})
    with pghistory.context(user=user.pk, reason="consent form version registered"):
        return ConsentVersion.objects.create(label=label, document_date=document_date, created_by=user)


@transaction.atomic
def approve_consent_version(
    user: User, *, version: ConsentVersion, site: Site, effective_on: date
) -> ConsentApproval:
    """Record that the site's ethics board approved `version` for use from `effective_on` (which
    may be ahead: from that day the site's participants in screening need to re-consent)."""
    _require_admin(user)
    errors: dict[str, str] = {}
    if effective_on < version.document_date:
        errors["effective_on"] = "A version cannot take effect before the date printed on it."
    existing = ConsentApproval.objects.filter(site=site)
    if existing.filter(version=version).exists():
        errors["version"] = f"Version {version.label} is already approved at {site.code}."
    elif existing.filter(effective_on=effective_on).exists():
        errors["effective_on"] = f"Another version takes effect at {site.code} on that day."
    if errors:
        raise RecordInvalid(errors)
    try:
        with (
            transaction.atomic(),
            pghistory.context(user=user.pk, reason="consent form version approved at site"),
        ):
            return ConsentApproval.objects.create(
                version=version, site=site, effective_on=effective_on, recorded_by=user
            )
    except IntegrityError as exc:  # a concurrent approval of the same version or day
        raise RecordInvalid({NON_FIELD_ERRORS: "Another approval was just recorded: look again."}) from exc


# --- What is in effect, and what the participant signed --------------------------------------------


def approvals_in_effect(on_date: date) -> QuerySet[ConsentApproval]:
    """Per site, the approval in effect on `on_date` (the latest to have taken effect)."""
    latest = (
        ConsentApproval.objects.filter(site_id=OuterRef("site_id"), effective_on__lte=on_date)
        .order_by("-effective_on")
        .values("pk")[:1]
    )
    return ConsentApproval.objects.filter(pk=Subquery(latest)).select_related("version")


def version_in_effect(site_id: int, on_date: date) -> ConsentApproval | None:
    return (
        ConsentApproval.objects.filter(site_id=site_id, effective_on__lte=on_date)
        .select_related("version")
        .order_by("-effective_on")
        .first()
    )


@dataclass(frozen=True)
class ConsentStatus:
    """The participant's consent on a day, as the worklist and the enrollment block read it."""

    on_date: date
    in_effect: ConsentApproval | None  # the site's form on that day
    signatures: Sequence[ConsentSignature]  # current signatures, latest first

    @property
    def latest(self) -> ConsentSignature | None:
        return self.signatures[0] if self.signatures else None

    @property
    def signed_in_effect(self) -> bool:
        return self.in_effect is not None and any(
            s.version_id == self.in_effect.version_id and s.signed_on <= self.on_date for s in self.signatures
        )

    @property
    def reconsent_needed(self) -> bool:
        """The participant signed an earlier version, and a newer one is now in effect."""
        return bool(self.signatures) and self.in_effect is not None and not self.signed_in_effect

    @property
    def version_not_recorded(self) -> bool:
        """No version on record (e.g. registered before versions were kept) though a form is in effect."""
        return not self.signatures and self.in_effect is not None

    def block_reason(self, site_code: str) -> str | None:
        day = self.on_date.isoformat()
        if self.in_effect is None:
            return (
                f"No consent form version is approved at {site_code} on {day}: an administrator "
                "records the site's approval first."
            )
        current = self.in_effect.version
        if self.signed_in_effect:
            return None
        if self.latest is None:
            return f"No signed consent is recorded; version {current.label} is in effect at {site_code} on {day}."
        return (
            f"Re-consent needed: the participant signed version {self.latest.version.label} on "
            f"{self.latest.signed_on.isoformat()}, and version {current.label} is in effect at "
            f"{site_code} since {self.in_effect.effective_on.isoformat()}."
        )


# The column `in_effect_column` adds to a participant statement.
IN_EFFECT = "consent_in_effect"


def in_effect_column(on_date: date) -> dict[str, RawSQL]:
    """The form in effect at a participant's site on `on_date`, as a column of a statement reading
    participants (`version_in_effect` as JSON: the day, and the approval's id, version id and
    effective date and the version's label, or null), so that `consent_status` needs no query of its own for it."""
    approval, version = ConsentApproval._meta.db_table, ConsentVersion._meta.db_table
    return {
        IN_EFFECT: RawSQL(
            f"json_build_array(%s::date, (SELECT json_build_array(a.id, a.version_id, a.effective_on, v.label)"
            f" FROM {approval} a JOIN {version} v ON v.id = a.version_id"
            f" WHERE a.site_id = {Participant._meta.db_table}.site_id AND a.effective_on <= %s"
            " ORDER BY a.effective_on DESC LIMIT 1))::text",
            (on_date, on_date),
            output_field=TextField(),
        )
    }


def _in_effect_read(participant: Participant, on_date: date) -> tuple[bool, ConsentApproval | None]:
    """Whether the participant was read with `in_effect_column(on_date)`, and the approval it gave."""
    if not hasattr(participant, IN_EFFECT):
        return False, None
    day, found = json.loads(getattr(participant, IN_EFFECT))
    if day != on_date.isoformat():
        return False, None
    if found is None:
        return True, None
    pk, version_id, effective_on, label = found
    # What the page and the status read of the approval: its version's id and label, its date.
    approval = ConsentApproval(
        pk=pk,
        version_id=version_id,
        site_id=participant.site_id,
        effective_on=date.fromisoformat(effective_on),
    )
    approval.version = ConsentVersion(pk=version_id, label=label)
    return True, approval


def consent_status(participant: Participant, on_date: date) -> ConsentStatus:
    """Two queries; one when the participant was read with `in_effect_column(on_date)`."""
    signatures = list(
        ConsentSignature.objects.filter(participant=participant, state=RecordState.CURRENT)
        .select_related("version")
        .order_by("-signed_on", "-pk")
    )
    read, in_effect = _in_effect_read(participant, on_date)
    if not read:
        in_effect = version_in_effect(participant.site_id, on_date)
    return ConsentStatus(on_date, in_effect, signatures)


def enrollment_block(participant: Participant, on_date: date) -> str | None:
    """Why the participant cannot be enrolled on `on_date` for want of consent: no version approved
    at the site that day, or the version in effect that day not signed on or before it. None: the
    consent does not stand in the way."""
    return consent_status(participant, on_date).block_reason(participant.site.code)


def with_consent(participants: QuerySet[Participant], on_date: date | None = None) -> QuerySet[Participant]:
    """Annotate each participant, in the same query, with the latest consent signed
    (`consent_version`, `consent_signed_on`), the version in effect at its site on `on_date`
    (`consent_version_in_effect`; today by default) and whether it has been signed
    (`consent_in_effect_signed`). For lists and the screening log."""
    on_date = on_date or timezone.localdate()
    signed = ConsentSignature.objects.filter(
        participant_id=OuterRef("pk"), state=RecordState.CURRENT
    ).order_by("-signed_on", "-pk")
    in_effect = ConsentApproval.objects.filter(
        site_id=OuterRef("site_id"), effective_on__lte=on_date
    ).order_by("-effective_on")
    # The same, one level deeper: inside the signature's subquery, the participant is two levels out.
    in_effect_of_signer = ConsentApproval.objects.filter(
        site_id=OuterRef(OuterRef("site_id")), effective_on__lte=on_date
    ).order_by("-effective_on")
    return participants.annotate(
        consent_version=Subquery(signed.values("version__label")[:1]),
        consent_signed_on=Subquery(signed.values("signed_on")[:1]),
        consent_version_in_effect=Subquery(in_effect.values("version__label")[:1]),
        consent_in_effect_signed=Exists(
            signed.filter(
                version_id=Subquery(in_effect_of_signer.values("version_id")[:1]), signed_on__lte=on_date
            )
        ),
    )


# --- The participant's signatures ---------------------------------------------------------------------


@transaction.atomic
def record_consent(
    user: User, participant: Participant, *, version: ConsentVersion, signed_on: date
) -> ConsentSignature:
    """Record that the participant signed `version` on `signed_on`. The version must be in use at
    the participant's site that day (approved, taken effect). The first signature also fills the
    key date "ICF signed" when it is empty; a later one (a re-consent) leaves it."""
    locked = lock_participant(user, participant)
    errors: dict[str, str] = {}
    if signed_on > timezone.localdate():
        errors["signed_on"] = "Consent cannot be signed in the future: record it once signed."
    elif signed_on <= locked.birth_date:
        errors["signed_on"] = "This date is not after the date of birth."
    approval = ConsentApproval.objects.filter(site_id=locked.site_id, version=version).first()
    if approval is None:
        errors["version"] = f"Version {version.label} is not approved at {locked.site.code}."
    elif signed_on < approval.effective_on:
        errors["signed_on"] = (
            f"Version {version.label} is in use at {locked.site.code} only from "
            f"{approval.effective_on.isoformat()}."
        )
    if ConsentSignature.objects.filter(
        participant=locked, version=version, state=RecordState.CURRENT
    ).exists():
        errors["version"] = (
            f"A signature of version {version.label} is already recorded: void it to correct it."
        )
    if errors:
        raise RecordInvalid(errors)
    first = locked.icf_signed is None
    if first:
        locked.icf_signed = signed_on
        check_key_dates(locked)  # e.g. consent after the first screening visit is refused
    reason = f"consent version {version.label} signed"
    with pghistory.context(user=user.pk, reason=reason):
        signature = ConsentSignature.objects.create(
            participant=locked, version=version, signed_on=signed_on, entered_by=user
        )
        if first:
            # The engine reads the ICF date (not the version): only then is there anything to re-evaluate.
            locked.save(update_fields=["icf_signed"])
            announce_change(locked.pk, reason=reason)
    return signature
