from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from .access import role_required
from .models import Role
from .roles import choose_membership
from .selectors import visible_participants


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
        Role.MONITOR: "screening:exports",
        Role.ADMIN: "screening:exports",
    }[Role(membership.role)]
    return redirect(destination)


@role_required(Role.COORDINATOR, Role.INVESTIGATOR)
def participant_list(request: HttpRequest) -> HttpResponse:
    site = request.membership.site  # type: ignore[attr-defined]
    participants = visible_participants(request.user).filter(site=site)  # type: ignore[arg-type]
    return render(request, "participants/list.html", {"site": site, "participants": participants})


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
