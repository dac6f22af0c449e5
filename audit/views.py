"""The participant's audit trail page and the exports (page and downloads)."""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone

from exports import ExportFormat, ExportTrace, download, export_format
from exports.jobs import file_path, rows_so_far
from exports.models import JobStatus
from exports.pipeline import CONTENT_TYPES
from exports.services import request_export
from participants.access import role_required
from participants.models import Participant, Role
from participants.selectors import get_participant, visible_participants

from . import export_jobs, printable, reports, trail
from .forms import (
    AuditExportForm,
    FindParticipantForm,
    ProtocolFilterForm,
    SecurityEventFilterForm,
    TrailFilterForm,
)
from .models import SecurityEvent

TRAIL_READERS = (Role.COORDINATOR, Role.INVESTIGATOR, Role.MONITOR, Role.ADMIN)
EXPORTERS = (Role.MONITOR, Role.ADMIN)


@role_required(*TRAIL_READERS)
def participant_trail(request: HttpRequest, pk: int) -> HttpResponse:
    participant = get_participant(request.user, pk)  # type: ignore[arg-type]
    form = TrailFilterForm(request.GET or None)
    selected = form.selected_types()
    start, end = form.bounds()
    page = trail.readable_trail(participant, selected, start=start, end=end, page=_page_number(request))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/participant_trail.html",
        {
            "participant": participant,
            "page": page,
            "events": page.events,
            "form": form,
            "selected": selected,
            "sources": trail.PARTICIPANT_SOURCES,
            "value_limit": trail.PAGE_VALUE_LIMIT,
            "time_zone": timezone.get_current_timezone_name(),
            "query": query.urlencode(),
        },
    )


@role_required(*TRAIL_READERS)
def participant_trail_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The participant's whole readable trail (the page's filters, no paging) as a PDF to print or
    file; the monitor's copy carries who printed it and when."""
    participant = get_participant(request.user, pk)  # type: ignore[arg-type]
    form = TrailFilterForm(request.GET or None)
    start, end = form.bounds()
    trail_page = trail.readable_trail(participant, form.selected_types(), start=start, end=end)
    html = render_to_string(
        "audit/participant_trail_print.html",
        {
            "participant": participant,
            "events": trail_page.events,
            "total": trail_page.total,
            "sources": [s.label for s in trail.PARTICIPANT_SOURCES if s.key in form.selected_types()],
            "start": start,
            "end": form.cleaned_data.get("end") if form.is_bound and form.is_valid() else None,
            "printed_by": request.user,
            "printed_at": timezone.localtime(),
            "time_zone": timezone.get_current_timezone_name(),
        },
        request=request,
    )
    pdf = printable.pdf(html, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"audit-trail-{participant.screening_number}-{timezone.localdate():%Y-%m-%d}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _page_number(request: HttpRequest) -> int:
    text = request.GET.get("page", "")
    return int(text) if text.isdigit() and 0 < int(text) < 10**6 else 1


@role_required(*TRAIL_READERS)
def find_participant(request: HttpRequest) -> HttpResponse:
    form = FindParticipantForm(request.GET)
    if form.is_valid():
        number = form.cleaned_data["screening_number"].strip()
        found = visible_participants(request.user).filter(screening_number__iexact=number).first()  # type: ignore[arg-type]
        if found is not None:
            return redirect("audit:participant", pk=found.pk)
        messages.error(request, f"No participant {number} among those you may see.")
    return redirect("home")


def _by_protocol(request: HttpRequest) -> tuple[str, QuerySet[Participant]]:
    """The version chosen (`?protocol=`, blank: all) and the visible participants it selects."""
    version = ProtocolFilterForm(request.GET).version()
    return version, reports.under_protocol(visible_participants(request.user), version)  # type: ignore[arg-type]


def _exports_page(
    request: HttpRequest, audit_form: AuditExportForm | None = None, status: int = 200
) -> HttpResponse:
    version, participants = _by_protocol(request)
    funnel = reports.funnel(participants)
    return render(
        request,
        "audit/exports.html",
        {
            "funnel": funnel,
            "status_chart": reports.bar_chart_svg("Participants by overall status", funnel.by_status),
            "criterion_chart": reports.bar_chart_svg(
                "Participants by failing criterion (latest evaluation)", funnel.by_failing_criterion
            ),
            "audit_form": audit_form or AuditExportForm(),
            "protocol_form": ProtocolFilterForm(request.GET),
            "protocol": version,
            "formats": ExportFormat.ALL,
            "jobs": export_jobs.recent_jobs(request.user, request.membership),  # type: ignore[arg-type, attr-defined]
        },
        status=status,
    )


SCREENING_LOG_PAGE_SIZE = 50
# The columns of the screening log the page shows (the exports carry every column).
SCREENING_LOG_PAGE_COLUMNS = (
    "Site",
    "Screening number",
    "ICF signed",
    "Consent version signed",
    "Protocol version",
    "Overall status",
    "Outcome",
    "Outcome date",
    "Failure category",
    "Failing criteria at screen failure",
    "Earlier attempt",
    "Later attempt",
    "Investigator sign-off",
    "Signed at",
    "Changed after the outcome",
    "Days in screening",
)
_PAGE_INDEXES = [reports.SCREENING_LOG_HEADER.index(c) for c in SCREENING_LOG_PAGE_COLUMNS]


def _cell(value: object) -> object:
    """Dates as the rest of the pages write them (YYYY-MM-DD, local HH:MM)."""
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return value


@role_required(*TRAIL_READERS)
def screening_log_page(request: HttpRequest) -> HttpResponse:
    """The screening log of the sites the user may see: the CONSORT-style attrition, outcomes and
    the screen-failure rate per site, and one row per screening attempt (a constant number of
    queries per page)."""
    version, participants = _by_protocol(request)
    page = Paginator(reports.screening_log_queryset(participants), SCREENING_LOG_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    today = timezone.localdate()
    rows = []
    for p in page.object_list:
        values = reports.screening_log_row(p, today)
        rows.append((p, [_cell(values[i]) for i in _PAGE_INDEXES]))
    return render(
        request,
        "audit/screening_log.html",
        {
            "funnel": reports.funnel(participants),
            "page": page,
            "rows": rows,
            "columns": SCREENING_LOG_PAGE_COLUMNS,
            "protocol_form": ProtocolFilterForm(request.GET),
            "protocol": version,
            "formats": ExportFormat.ALL,
            "can_export": request.membership.role in EXPORTERS,  # type: ignore[attr-defined]
        },
    )


@role_required(*EXPORTERS)
def exports_page(request: HttpRequest) -> HttpResponse:
    return _exports_page(request)


@role_required(*EXPORTERS)
def screening_log_export(request: HttpRequest, fmt: str) -> HttpResponse:
    fmt = export_format(fmt)
    version, participants = _by_protocol(request)
    basename = export_jobs.screening_log_basename(version)
    if fmt == ExportFormat.XLSX:
        return _file_by_worker(request, export_jobs.SCREENING_LOG, basename, {"protocol": version})
    rows = reports.screening_log_rows(participants)
    return download(fmt, basename, reports.SCREENING_LOG_HEADER, rows, "Screening log")


@role_required(*EXPORTERS)
def audit_trail_export(request: HttpRequest, fmt: str) -> HttpResponse:
    fmt = export_format(fmt)
    form = AuditExportForm(request.GET)
    if not form.is_valid():
        # Shown on the exports page, by the fields, with what was typed kept.
        return _exports_page(request, form, status=400)
    basename, rows = export_jobs.audit_trail(
        request.user,  # type: ignore[arg-type]
        request.membership.role,  # type: ignore[attr-defined]
        form,
    )
    if fmt == ExportFormat.XLSX:
        filters = {key: str(form.data.get(key, "")) for key in export_jobs.AUDIT_FILTERS}
        return _file_by_worker(request, export_jobs.AUDIT_TRAIL, basename, filters)
    return download(fmt, basename, reports.AUDIT_HEADER, rows, "Audit trail")


REPORT_TITLES = {export_jobs.SCREENING_LOG: "Screening log", export_jobs.AUDIT_TRAIL: "Audit trail"}


def _file_by_worker(
    request: HttpRequest, report: str, basename: str, filters: dict[str, str]
) -> HttpResponse:
    """An XLSX of the screening log or the audit trail is written by a worker: GET shows what will be
    exported and a button; POST asks for it (a job) and goes to its page, which shows the progress
    and offers the download when the file is ready."""
    if request.method == "POST":
        membership = request.membership  # type: ignore[attr-defined]
        job = request_export(
            user=request.user,
            role=membership.role,
            site_id=membership.site_id,
            scope=export_jobs.participant_scope(request.user),  # type: ignore[arg-type]
            report=report,
            basename=basename,
            filters=filters,
        )
        return redirect("audit:export_job", pk=job.pk)
    return render(
        request,
        "audit/export_prepare.html",
        {
            "title": REPORT_TITLES[report],
            "filters": _labelled(filters),
            "action": request.get_full_path(),
        },
    )


def _labelled(filters: dict[str, str]) -> list[tuple[str, str]]:
    return [(key.replace("_", " ").capitalize(), value) for key, value in filters.items() if value]


@login_required
def export_job(request: HttpRequest, pk: int) -> HttpResponse:
    job = export_jobs.job_of(request.user, getattr(request, "membership", None), pk)  # type: ignore[arg-type]
    context = {
        "job": job,
        "rows": rows_so_far(job),
        "title": REPORT_TITLES.get(job.report, job.report),
        "filters": _labelled(job.filters),
        "kept_days": settings.EXPORT_FILE_DAYS,
    }
    if request.headers.get("HX-Request"):
        response = render(request, "audit/_export_job_status.html", context)
        if job.finished:
            response["HX-Refresh"] = "true"
        return response
    return render(request, "audit/export_job.html", context)


@login_required
def export_job_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The finished file, to its requester only (404 for anyone else), streamed from the file store;
    the download is recorded as an export (audit/security.py) with the job's filters."""
    job = export_jobs.job_of(request.user, getattr(request, "membership", None), pk)  # type: ignore[arg-type]
    if job.status != JobStatus.DONE:
        raise Http404
    try:
        handle = file_path(job).open("rb")
    except FileNotFoundError:
        raise Http404 from None
    stamp = timezone.localtime(job.finished_at).strftime("%Y%m%d-%H%M")
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"{job.basename}-{stamp}.{job.fmt}",
        content_type=CONTENT_TYPES[job.fmt],
    )
    response["Cache-Control"] = "no-store"
    response.export = ExportTrace(  # type: ignore[attr-defined]
        job.basename, job.fmt, rows=job.rows_done, job=job.pk, filters=job.filters
    )
    return response


@role_required(*EXPORTERS)
def funnel_export(request: HttpRequest, fmt: str) -> HttpResponse:
    fmt = export_format(fmt)
    version, participants = _by_protocol(request)
    funnel = reports.funnel(participants)
    return download(
        fmt, _named("screening-funnel", version), reports.FUNNEL_HEADER, funnel.rows(), "Screening funnel"
    )


def _named(basename: str, version: str) -> str:
    return f"{basename}-protocol-{version}" if version else basename


SECURITY_EVENTS_PER_PAGE = 100


@role_required(Role.ADMIN)
def security_events(request: HttpRequest) -> HttpResponse:
    """The security trail (logins, signatures, exports, tokens, roles) for administrators."""
    form = SecurityEventFilterForm(request.GET or None)
    events = form.filter(SecurityEvent.objects.select_related("user", "site"))
    page = Paginator(events, SECURITY_EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/security_events.html",
        {"form": form, "page": page, "time_zone": timezone.get_current_timezone_name()},
    )
