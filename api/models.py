"""API tokens: only a SHA-256 hash of each token is stored; the token itself is shown once."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models

from .signals import token_created

TOKEN_PREFIX = "allo_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(models.Model):
    """A machine credential of one user: a request with it runs as that user, at that user's site."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. the lab interface.")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters, to tell tokens apart in lists without revealing them.
    hint = models.CharField(max_length=12, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["user_id", "created_at"]

    def __str__(self) -> str:
        return f"{self.hint}… ({self.name})"

    @classmethod
    def issue(cls, user: models.Model, name: str) -> tuple[ApiToken, str]:
        """A new token for `user`; returns the row and the token, which is not stored anywhere."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = cls.objects.create(user=user, name=name, token_hash=hash_token(token), hint=token[:12])
        token_created.send(cls, tokens=[row], request=None)
        return row, token


class IdempotentRequest(models.Model):
    """The first answer to a POST that carried an `Idempotency-Key`: a resend with the same key and
    body gets this answer again and stores nothing; the same key with another body is refused."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    endpoint = models.CharField(max_length=40)
    key = models.CharField(max_length=255)
    body_sha256 = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "endpoint", "key"], name="idempotent_request_key_once"),
        ]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.key}"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "queued"
    DONE = "done", "done"


class LabImportJob(models.Model):
    """A batch of `POST /api/labs/` with more rows than LAB_API_SYNC_MAX_ROWS: answered 202 with its
    status URL, kept as sent and imported by a worker (api.tasks.import_lab_job), once. Working
    state of a request, like IdempotentRequest: the records it creates carry the history."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Sent with a token: that token's user reaches it with any of the user's tokens; sent from a
    # session: the site of the session's current membership, the only one it may write.
    via_token = models.BooleanField()
    site = models.ForeignKey(
        "participants.Site", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    body = models.TextField(help_text="The request's JSON as sent (numbers are read again as decimals).")
    rows = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    # The answer the request would have given: 201 with the rows saved, or 400/403/404 with the errors.
    answer_status = models.PositiveSmallIntegerField(null=True, blank=True)
    answer = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(status="queued", answer_status__isnull=True, finished_at__isnull=True)
                    | models.Q(
                        status="done",
                        answer_status__isnull=False,
                        answer__isnull=False,
                        finished_at__isnull=False,
                    )
                ),
                name="lab_import_job_done_has_answer",
            ),
            models.CheckConstraint(
                condition=models.Q(via_token=True, site__isnull=True)
                | models.Q(via_token=False, site__isnull=False),
                name="lab_import_job_session_names_site",
            ),
        ]

    def __str__(self) -> str:
        return f"lab import job {self.pk} ({self.rows} rows, {self.status})"
