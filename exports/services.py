"""Asking for a large export: the job's row and, once it has committed, the worker's task."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from .jobs import REPORTS
from .models import ExportJob
from .tasks import write_later


def request_export(
    *,
    user: Any,
    role: str,
    site_id: int | None,
    scope: str,
    report: str,
    basename: str,
    filters: dict[str, Any],
    fmt: str = "xlsx",
) -> ExportJob:
    if report not in REPORTS:
        raise ValueError(f"unknown report {report!r}")
    with transaction.atomic():
        job = ExportJob.objects.create(
            requested_by=user,
            role=role,
            site_id=site_id,
            scope=scope[:500],
            report=report,
            fmt=fmt,
            basename=basename[:120],
            filters=filters,
        )
        write_later(job.pk)
    return job
