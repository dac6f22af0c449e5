"""A large export written by a worker: who asked for what, with which filters, and how far it got.

The exports app owns this table; it names the user by `AUTH_USER_MODEL` and keeps the role and
site of the membership the request was made in as plain values (the layer below every app imports
none of them). The file itself lives in `settings.EXPORT_DIR` (shared by web and worker).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Being written"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"
    # The file was removed once the retention period (settings.EXPORT_FILE_DAYS) had passed; the
    # job stays, as the record of what was exported and when.
    REMOVED = "removed", "Removed"


class ExportJob(models.Model):
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=20)
    site_id = models.BigIntegerField(null=True, blank=True)
    # The participants' sites the requester could see when asking ("*": every site); the download
    # is refused (404) once that scope has changed, as the export would then hold other rows.
    scope = models.CharField(max_length=500)
    report = models.CharField(max_length=40)
    fmt = models.CharField(max_length=8, default="xlsx")
    basename = models.CharField(max_length=120)
    filters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    rows_done = models.PositiveIntegerField(default=0)
    file_name = models.CharField(max_length=200, blank=True)
    file_size = models.BigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["requested_by", "-requested_at"], name="export_job_by_user")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=JobStatus.values), name="export_job_status_valid"),
            models.CheckConstraint(
                condition=~Q(status=JobStatus.DONE) | ~Q(file_name=""), name="export_job_done_has_file"
            ),
            models.CheckConstraint(
                condition=~Q(status=JobStatus.FAILED) | ~Q(error=""), name="export_job_failed_has_error"
            ),
            models.CheckConstraint(
                condition=Q(status=JobStatus.REMOVED, removed_at__isnull=False)
                | Q(~Q(status=JobStatus.REMOVED), removed_at__isnull=True),
                name="export_job_removed_when",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.basename}.{self.fmt} ({self.get_status_display()})"

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED, JobStatus.REMOVED)
