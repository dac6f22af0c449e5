"""Tables of the hospital lab import: the site's hospital identifiers, and what the site imported.

The rules they serve are `shared/labs/README.md` § 4 (identifiers) and § 10 (versions, duplicates,
supersede and void). Staging and review of a file's rows come with the upload page.
"""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q

from participants.models import LabResult, Participant, Site


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
        indexes = [
            models.Index(fields=["site", "id"]),
            # Staging reads the earlier versions of a window's results (matching.window_history).
            models.Index(fields=["site", "result"], name="imported_row_site_result"),
        ]

    def __str__(self) -> str:
        return f"{self.source or '(no source)'}: {self.action}"


class BatchOrigin(models.TextChoices):
    UPLOAD = "upload", "Upload in the browser"
    API = "api", "POST /api/fhir/"
    COMMAND = "command", "stage_labs command"


class BatchStatus(models.TextChoices):
    STAGING = "staging", "Staging"
    STAGED = "staged", "Staged, to review"
    REFUSED = "refused", "Refused"


class ImportBatch(models.Model):
    """One file (or one API body) imported for a site: who sent it, how, and how far staging got."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="lab_batches")
    file_name = models.CharField(max_length=255)
    format = models.CharField(max_length=40, blank=True)
    origin = models.CharField(max_length=10, choices=BatchOrigin.choices)
    status = models.CharField(max_length=10, choices=BatchStatus.choices, default=BatchStatus.STAGING)
    refused = models.TextField(blank=True, help_text="why the whole file was refused")
    # The file as received, under LAB_IMPORT_DIR, while a worker stages it; empty once staged.
    kept_file = models.CharField(max_length=255, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    ignored = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(origin__in=BatchOrigin.values), name="import_batch_origin_valid"),
            models.CheckConstraint(condition=Q(status__in=BatchStatus.values), name="import_batch_status_valid"),
            models.CheckConstraint(
                condition=Q(status=BatchStatus.REFUSED) | Q(refused=""), name="import_batch_refused_only_when_refused"
            ),
        ]
        indexes = [models.Index(fields=["site", "-id"])]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"


class Review(models.TextChoices):
    """A coordinator's decision on a staged row; rows that wait or are skipped have nothing to review."""

    PENDING = "pending", "To review"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    NONE = "none", "Nothing to review"


REVIEWABLE_ACTIONS = (ImportAction.STAGE, ImportAction.SUPERSEDE, ImportAction.VOID)


class StagedRow(models.Model):
    """One observation of a batch, as the dry run decided it (README § 1), and its review.

    `shown` is the dry run's row object; the columns below repeat what accepting needs. A row that
    was not skipped has its `ImportedRow` (the site's bookkeeping of sources and versions).
    """

    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="rows")
    position = models.PositiveIntegerField()
    shown = models.JSONField(encoder=DjangoJSONEncoder)
    action = models.CharField(max_length=10)
    imported = models.OneToOneField(
        ImportedRow, on_delete=models.PROTECT, null=True, blank=True, related_name="staged"
    )
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, null=True, blank=True, related_name="staged_lab_rows"
    )
    test = models.CharField(max_length=30, blank=True)
    value_number = models.DecimalField(max_digits=20, decimal_places=8, null=True, blank=True)
    value_text = models.CharField(max_length=20, blank=True)
    unit = models.CharField(max_length=20, blank=True)
    uln = models.DecimalField(max_digits=20, decimal_places=8, null=True, blank=True)
    specimen = models.CharField(max_length=10, blank=True)
    collected = models.DateField(null=True, blank=True)
    review = models.CharField(max_length=10, choices=Review.choices)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    record = models.ForeignKey(
        LabResult, on_delete=models.PROTECT, null=True, blank=True, related_name="imported_from",
        help_text="the lab record that accepting created (stage, supersede) or voided (void)",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "position"], name="staged_row_position_once"),
            models.CheckConstraint(condition=Q(review__in=Review.values), name="staged_row_review_valid"),
            models.CheckConstraint(
                condition=Q(review=Review.NONE) | Q(action__in=REVIEWABLE_ACTIONS),
                name="staged_row_review_only_reviewable",
            ),
            models.CheckConstraint(
                condition=~Q(review=Review.ACCEPTED) | Q(record__isnull=False),
                name="staged_row_accepted_has_record",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}#{self.position}: {self.action} ({self.review})"
