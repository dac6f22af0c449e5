"""The screening log and the audit trail as files written by a worker (exports.jobs).

The request records who asked, in which role and site, the filters, and the sites the requester
could see (`scope`); the worker reads the rows as that user may see them, and the download is
refused (404) to anyone but the requester in the same role and site, and once the scope has
changed (the file would hold rows the user may no longer read)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.http import Http404

from exports.jobs import JobFailed, ReportRows, register_report
from exports.models import ExportJob
from participants.models import Membership, Role, User
from participants.roles import PARTICIPANT_READER_ROLES
from participants.selectors import sees_every_participant, visible_participants

from . import reports
from .forms import AuditExportForm

SCREENING_LOG = "screening-log"
AUDIT_TRAIL = "audit-trail"
AUDIT_FILTERS = ("screening_number", "start", "end")


def participant_scope(user: User) -> str:
    """The sites whose participants the user may read: "*" for every site, else their IDs."""
    if sees_every_participant(user):
        return "*"
    sites = Membership.objects.filter(
        user=user, role__in=PARTICIPANT_READER_ROLES, site__isnull=False
    ).values_list("site_id", flat=True)
    return ",".join(str(s) for s in sorted(set(sites)))


def screening_log_basename(version: str) -> str:
    return f"screening-log-protocol-{version}" if version else "screening-log"


def audit_trail(user: User, role: str, form: AuditExportForm) -> tuple[str, Iterator[list[Any]]]:
    """The audit-trail export of a valid form: its file's base name and its rows (read lazily).
    An unknown or invisible screening number is a 404."""
    participants = visible_participants(user)
    number = form.cleaned_data["screening_number"].strip()
    if number:
        participants = participants.filter(screening_number__iexact=number)
        stored = participants.values_list("screening_number", flat=True).first()
        if stored is None:
            raise Http404
        number = stored  # the file is named by the stored number, not by what was typed
    start, end = form.bounds()
    # Users, sites, memberships and protocol versions: for administrators, in a date-range export.
    include_unattached = role == Role.ADMIN and not number
    # A trial-wide reader's range export reads the history tables unscoped: the events of a row
    # deleted outside the application (which the trail exists to show) are included.
    unscoped = not number and sees_every_participant(user)
    events = reports.audit_trail_events(
        None if unscoped else participants,
        include_unattached=include_unattached,
        start=start,
        end=end,
        one_participant=bool(number),
    )
    basename = f"audit-trail-{number}" if number else "audit-trail"
    return basename, reports.audit_rows(events)


def _requester(job: ExportJob) -> User:
    user: User = job.requested_by
    if participant_scope(user) != job.scope:
        raise JobFailed("The sites you may see changed since you asked for this file. Ask for it again.")
    return user


def _screening_log(job: ExportJob) -> ReportRows:
    user = _requester(job)
    participants: Any = reports.under_protocol(visible_participants(user), job.filters.get("protocol", ""))
    return ReportRows(reports.SCREENING_LOG_HEADER, reports.screening_log_rows(participants), "Screening log")


def _audit_trail(job: ExportJob) -> ReportRows:
    user = _requester(job)
    form = AuditExportForm(job.filters)
    if not form.is_valid():
        raise JobFailed("The filters of this export are not valid any more. Ask for it again.")
    try:
        _, rows = audit_trail(user, job.role, form)
    except Http404:
        raise JobFailed("No participant with that screening number among those you may see.") from None
    return ReportRows(reports.AUDIT_HEADER, rows, "Audit trail")


def register() -> None:
    register_report(SCREENING_LOG, _screening_log)
    register_report(AUDIT_TRAIL, _audit_trail)


def job_of(user: User, membership: Membership | None, pk: int) -> ExportJob:
    """The user's own job, asked for in the membership now current, with the scope unchanged;
    anyone else (another user, role or site) gets 404, as for another site's participant."""
    if membership is None or membership.role not in (Role.MONITOR, Role.ADMIN):
        raise Http404
    job = ExportJob.objects.filter(
        pk=pk, requested_by=user, role=membership.role, site_id=membership.site_id
    ).first()
    if job is None or participant_scope(user) != job.scope:
        raise Http404
    return job


def recent_jobs(user: User, membership: Membership | None, limit: int = 10) -> list[ExportJob]:
    if membership is None:
        return []
    return list(
        ExportJob.objects.filter(requested_by=user, role=membership.role, site_id=membership.site_id)[:limit]
    )
