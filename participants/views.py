from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from .access import role_required
from .extensions import protocol_version_in_force
from .links import id_url_maker
from .memberships import choose_membership
from .models import Cohort, OutcomeStatus, Role, ScreeningStatus
from .roles import PARTICIPANT_READER_ROLES, PARTICIPANT_WRITER_ROLES
from .selectors import site_dashboard


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each role lands on its own work list."""
    membership = request.membership  # type: ignore[attr-defined]
    if membership is None:
        return render(request, "participants/no_role.html", status=403)
    destination = {
        Role.COORDINATOR: "participants:list",
        Role.INVESTIGATOR: "participants:list",
        Role.EAC_REVIEWER: "adjudication:queue",
        Role.MONITOR: "audit:exports",
        Role.ADMIN: "audit:exports",
    }[Role(membership.role)]
    return redirect(destination)


def _page_number(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


@role_required(*PARTICIPANT_READER_ROLES)
def participant_list(request: HttpRequest) -> HttpResponse:
    """The site dashboard: participants with their status, filters, counts and expiring results."""
    membership = request.membership  # type: ignore[attr-defined]
    dashboard = site_dashboard(
        request.user,  # type: ignore[arg-type]
        membership,
        request.GET,
        page=_page_number(request.GET.get("page")),
        after=request.GET.get("after"),
        before=request.GET.get("before"),
    )
    # One reverse() for the page's links to participants, not one a row.
    detail = id_url_maker("participants:detail")
    for p in dashboard.page.object_list:
        p.detail_url = detail(p.pk)
    for item in dashboard.expiring:
        item.participant.detail_url = detail(item.participant.pk)  # type: ignore[attr-defined]
    # The rows and the expiring list, the page's bulk, by Jinja2 (config/jinja2.py).
    rows = get_template("participants/dashboard_rows.html", using="jinja2").render(
        {"rows": dashboard.page.object_list, "show_site": bool(dashboard.sites)}
    )
    expiring = get_template("participants/dashboard_expiring.html", using="jinja2").render(
        {"expiring": dashboard.expiring, "today": dashboard.today}
    )
    context = {
        "dashboard": dashboard,
        "rows_html": mark_safe(rows),  # noqa: S308 - escaped by the Jinja2 templates
        "expiring_html": mark_safe(expiring),  # noqa: S308
        "filters": dashboard.filters.chosen,
        "ignored_filters": dashboard.filters.ignored,
        "site": membership.site,
        # The version the site's participants are evaluated under today (a site role's dashboard).
        "protocol": protocol_version_in_force(membership.site_id, timezone.localdate())
        if membership.site_id
        else "",
        "statuses": ScreeningStatus.choices,
        "cohorts": Cohort.choices,
        "outcomes": OutcomeStatus.choices,
        "read_only": membership.role not in PARTICIPANT_WRITER_ROLES,
    }
    return render(request, "participants/list.html", context)


@login_required
@require_POST
def switch_role(request: HttpRequest) -> HttpResponse:
    try:
        membership_id = int(request.POST.get("membership", ""))
    except ValueError:
        membership_id = -1
    if not choose_membership(request, membership_id):
        messages.error(request, "That role is not one of yours.")
    return redirect(reverse("home"))
