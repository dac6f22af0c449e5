"""Tables of the hospital lab import: the site's hospital identifiers, and what the site imported.

The rules they serve are `shared/labs/README.md` § 4 (identifiers) and § 10 (versions, duplicates,
supersede and void). Staging and review of a file's rows come with the upload page.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from participants.models import Participant, Site


class HospitalIdentifier(models.Model):
    """An identifier that the site's hospital systems use for a participant (system and value, as sent).

    `site` repeats the participant's site so that the database itself keeps an identifier to one
    participant of a site; `record_hospital_identifier` fills it from the participant.
    """

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="hospital_identifiers")
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="hospital_identifiers"
    )
    system = models.CharField(max_length=255, help_text="e.g. urn:oid:2.16.840.1.113883.3.7521.1")
    value = models.CharField(max_length=100, help_text="e.g. the medical record number")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["site", "system", "value"], name="hospital_identifier_unique_per_site"
            ),
            models.CheckConstraint(
                condition=Q(system__regex=r"\S") & Q(value__regex=r"\S"),
                name="hospital_identifier_not_blank",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.system}|{self.value}"


class ImportAction(models.TextChoices):
    """The actions of README § 10 that leave a trace (a skipped row counts for nothing)."""

    STAGE = "stage", "Stage"
    SUPERSEDE = "supersede", "Supersede"
    VOID = "void", "Void"
    WAIT = "wait", "Wait"


class ImportedRow(models.Model):
    """A row of a file or message that the site imported and that was not skipped, in arrival order.

    It holds what later rows are decided against (README § 10): its source for duplicates, its
    result and order keys for versions, its patient for mismatches, and the value as sent for a
    later HL7 `U` result. A coordinator's rejection of the staged row is kept in `rejected`.
    """

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="imported_lab_rows")
    file_name = models.CharField(max_length=255)
    source = models.CharField(max_length=500, blank=True, help_text="empty: the row had no source")
    result = models.CharField(max_length=500, blank=True, help_text="empty: the row belongs to no result")
    action = models.CharField(max_length=10, choices=ImportAction.choices)
    status = models.CharField(max_length=40, blank=True)
    patient_system = models.CharField(max_length=255, blank=True)
    patient_value = models.CharField(max_length=100, blank=True)
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, null=True, blank=True, related_name="imported_lab_rows"
    )
    # [[kind, text], ...] as read: ("version", "3"), ("updated", instant), ("report", OBR-22), ("message", MSH-7).
    order_keys = models.JSONField(default=list, blank=True)
    # The value as sent (reading.SentValue.as_json), for a later `U` row of the same result.
    value_sent = models.JSONField(null=True, blank=True)
    rejected = models.BooleanField(default=False)
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=ImportAction.values), name="imported_row_action_valid"
            ),
            # A source is imported once per site: a second row with it is a duplicate, and skipped.
            models.UniqueConstraint(
                fields=["site", "source"], condition=~Q(source=""), name="imported_row_source_once"
            ),
            models.CheckConstraint(
                condition=Q(patient_value="") | Q(patient_system__gt=""), name="imported_row_patient_whole"
            ),
        ]
        indexes = [models.Index(fields=["site", "id"])]

    def __str__(self) -> str:
        return f"{self.source or '(no source)'}: {self.action}"
