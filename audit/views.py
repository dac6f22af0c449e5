"""The participant's audit trail page and the exports (page and downloads)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from exports import ExportFormat, download, export_format
from participants.access import role_required
from participants.models import Participant, Role
from participants.selectors import get_participant, sees_every_participant, visible_participants

from . import reports, trail
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
    events = trail.participant_trail(participant, selected)
    return render(
        request,
        "audit/participant_trail.html",
        {
            "participant": participant,
            "events": events,
            "form": form,
            "selected": selected,
            "sources": trail.PARTICIPANT_SOURCES,
            "value_limit": trail.PAGE_VALUE_LIMIT,
            "time_zone": timezone.get_current_timezone_name(),
        },
    )


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


@role_required(*EXPORTERS)
def exports_page(request: HttpRequest) -> HttpResponse:
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
            "audit_form": AuditExportForm(),
            "protocol_form": ProtocolFilterForm(request.GET),
            "protocol": version,
            "formats": ExportFormat.ALL,
        },
    )


@role_required(*EXPORTERS)
def screening_log_export(request: HttpRequest, fmt: str) -> HttpResponse:
    fmt = export_format(fmt)
    version, participants = _by_protocol(request)
    rows = reports.screening_log_rows(participants)
    return download(
        fmt, _named("screening-log", version), reports.SCREENING_LOG_HEADER, rows, "Screening log"
    )


@role_required(*EXPORTERS)
def audit_trail_export(request: HttpRequest, fmt: str) -> HttpResponse:
    fmt = export_format(fmt)
    form = AuditExportForm(request.GET)
    if not form.is_valid():
        return render(request, "audit/export_error.html", {"form": form}, status=400)
    participants = visible_participants(request.user)  # type: ignore[arg-type]
    number = form.cleaned_data["screening_number"].strip()
    if number:
        participants = participants.filter(screening_number__iexact=number)
        stored = participants.values_list("screening_number", flat=True).first()
        if stored is None:
            raise Http404
        number = stored  # the file is named by the stored number, not by what was typed
    start, end = form.bounds()
    # Users, sites, memberships and protocol versions: for administrators, in a date-range export.
    include_unattached = request.membership.role == Role.ADMIN and not number  # type: ignore[attr-defined]
    # A trial-wide reader's range export reads the history tables unscoped: the events of a row
    # deleted outside the application (which the trail exists to show) are included.
    unscoped = not number and sees_every_participant(request.user)  # type: ignore[arg-type]
    events = reports.audit_trail_events(
        None if unscoped else participants,
        include_unattached=include_unattached,
        start=start,
        end=end,
        one_participant=bool(number),
    )
    basename = f"audit-trail-{number}" if number else "audit-trail"
    return download(fmt, basename, reports.AUDIT_HEADER, reports.audit_rows(events), "Audit trail")


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
