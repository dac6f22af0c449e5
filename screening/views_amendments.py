"""The administrator's protocol amendment pages: released versions and site approvals, the impact
report of a candidate version (computed by a Celery task, its progress polled), its downloads, and
activation for a site. The work is in screening.impact and screening.amendments."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from exports import download, export_format
from participants.access import role_required
from participants.date_fields import IsoDateField
from participants.models import Site
from participants.roles import Role
from screening import criteria
from screening.amendments import activate_version, record_release
from screening.impact import COUNTS_HEADER, PARTICIPANT_HEADER, ImpactReport, count_rows, participant_rows
from screening.models import ProtocolVersion, SiteApproval
from screening.protocols import versions_in_force
from screening.tasks import impact_key, impact_report_task, impact_state

VERSIONS = [(v, v) for v in sorted(criteria.PROTOCOL_VERSIONS)]


class ImpactForm(forms.Form):
    version = forms.ChoiceField(choices=VERSIONS)
    site = forms.ModelChoiceField(Site.objects.all(), required=False, empty_label="The whole trial")


class ReleaseForm(forms.Form):
    version = forms.ChoiceField(choices=VERSIONS)
    title = forms.CharField(max_length=200)
    released_on = IsoDateField()


class ActivationForm(forms.Form):
    version = forms.ChoiceField(choices=VERSIONS)
    site = forms.ModelChoiceField(Site.objects.all())
    approved_on = IsoDateField(label="Ethics approval date")


def _page(request: HttpRequest, **forms_: Any) -> HttpResponse:
    today = timezone.localdate()
    sites = list(Site.objects.order_by("code"))
    in_force = versions_in_force([s.pk for s in sites], today)
    context = {
        "versions": ProtocolVersion.objects.order_by("effective_from"),
        "approvals": SiteApproval.objects.select_related("site", "protocol", "recorded_by").order_by(
            "site__code", "approved_on"
        ),
        "sites": [(s, in_force[s.pk]) for s in sites],
        "impact_form": forms_.get("impact_form") or ImpactForm(),
        "release_form": forms_.get("release_form") or ReleaseForm(),
        "activation_form": forms_.get("activation_form") or ActivationForm(),
        "today": today,
    }
    return render(request, "screening/amendments.html", context)


@role_required(Role.ADMIN)
def amendments(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@role_required(Role.ADMIN)
def start_impact(request: HttpRequest) -> HttpResponse:
    form = ImpactForm(request.POST)
    if not form.is_valid():
        return _page(request, impact_form=form)
    report_id = uuid.uuid4().hex
    site = form.cleaned_data["site"]
    cache.set(impact_key(report_id), {"done": 0, "total": None}, 3600)
    impact_report_task.delay(
        report_id, form.cleaned_data["version"], site.pk if site else None, timezone.localdate().isoformat()
    )
    return redirect("screening:impact", report_id=report_id)


def _state(report_id: str) -> dict[str, Any]:
    state = impact_state(report_id)
    if state is None:
        raise Http404("no such report (reports are kept for a day)")
    return state


@role_required(Role.ADMIN)
def impact(request: HttpRequest, report_id: str) -> HttpResponse:
    state = _state(report_id)
    template = "screening/_impact_progress.html" if request.htmx else "screening/impact.html"  # type: ignore[attr-defined]
    report: ImpactReport | None = state.get("report")
    context = {
        "report_id": report_id,
        "state": state,
        "report": report,
        "activation_form": ActivationForm(
            initial={"version": report.version if report else None, "approved_on": timezone.localdate()}
        ),
    }
    response = render(request, template, context)
    if request.htmx and report is not None:  # type: ignore[attr-defined]
        response["HX-Refresh"] = "true"  # the whole report replaces the progress bar
    return response


@require_GET
@role_required(Role.ADMIN)
def impact_download(request: HttpRequest, report_id: str, part: str, fmt: str) -> HttpResponse:
    fmt = export_format(fmt)
    report: ImpactReport | None = _state(report_id).get("report")
    if report is None:
        raise Http404("the report is still being computed")
    scope = report.site_code or "trial"
    if part == "participants":
        return download(
            fmt, f"impact-{report.version}-{scope}", PARTICIPANT_HEADER, participant_rows(report), "Impact"
        )
    if part == "counts":
        return download(
            fmt, f"impact-counts-{report.version}-{scope}", COUNTS_HEADER, count_rows(report), "Counts"
        )
    raise Http404


@require_POST
@role_required(Role.ADMIN)
def release(request: HttpRequest) -> HttpResponse:
    form = ReleaseForm(request.POST)
    if form.is_valid():
        try:
            record_release(request.user, **form.cleaned_data)  # type: ignore[arg-type]
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Protocol {form.cleaned_data['version']} recorded as released.")
            return redirect("screening:amendments")
    return _page(request, release_form=form)


@require_POST
@role_required(Role.ADMIN)
def activate(request: HttpRequest) -> HttpResponse:
    form = ActivationForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            approval = activate_version(
                request.user,  # type: ignore[arg-type]
                site=data["site"],
                version=data["version"],
                approved_on=data["approved_on"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            when = (
                "now being re-evaluated"
                if approval.approved_on <= timezone.localdate()
                else (f"re-evaluated on {approval.approved_on.isoformat()}")
            )
            messages.success(
                request,
                f"Protocol {data['version']} activated at site {data['site'].code} from "
                f"{approval.approved_on.isoformat()}: its participants are {when}.",
            )
            return redirect("screening:amendments")
    return _page(request, activation_form=form)
