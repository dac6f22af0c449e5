"""Thin views over the lab import selectors and services: batches, upload, review."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from participants.access import role_required
from participants.changes import announce_saved
from participants.models import Participant
from participants.roles import Role

from . import selectors, services
from .forms import ReviewForm, UploadForm
from .models import BatchOrigin, BatchStatus, Review
from .presentation import previews
from .tasks import stage_later


@role_required(Role.COORDINATOR)
def batches(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = UploadForm(sites=selectors.import_sites(user))  # type: ignore[arg-type]
    recent = selectors.visible_batches(user).order_by("-id")[:50]  # type: ignore[arg-type]
    return render(request, "labimport/batches.html", {"form": form, "batches": recent})


@role_required(Role.COORDINATOR)
@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = UploadForm(request.POST, request.FILES, sites=selectors.import_sites(user))  # type: ignore[arg-type]
    if not form.is_valid():
        recent = selectors.visible_batches(user).order_by("-id")[:50]  # type: ignore[arg-type]
        return render(request, "labimport/batches.html", {"form": form, "batches": recent}, status=400)
    sent = form.cleaned_data["file"]
    with transaction.atomic():
        batch = services.receive_file(
            user,  # type: ignore[arg-type]
            form.cleaned_data["site"],
            sent.chunks(),
            file_name=sent.name or "upload",
            origin=BatchOrigin.UPLOAD,
        )
        if batch.status == BatchStatus.STAGING:
            stage_later(batch.pk)
    if batch.status == BatchStatus.REFUSED:
        messages.error(request, f"The file was refused: {batch.refused}")
    return redirect("labimport:batch", pk=batch.pk)


@role_required(Role.COORDINATOR)
def batch(request: HttpRequest, pk: int) -> HttpResponse:
    found = selectors.get_batch(request.user, pk)  # type: ignore[arg-type]
    rows = list(selectors.batch_rows(found))
    return render(
        request,
        "labimport/batch.html",
        {
            "batch": found,
            "rows": rows,
            "pending": sum(r.review == Review.PENDING for r in rows),
            "previews": previews(found, rows),
            "progress": services.staged_so_far(found),
        },
    )


@role_required(Role.COORDINATOR)
def progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The polling fragment: how many rows are staged; the whole page reloads when staging ends."""
    found = selectors.get_batch(request.user, pk)  # type: ignore[arg-type]
    response = render(
        request, "labimport/_progress.html", {"batch": found, "progress": services.staged_so_far(found)}
    )
    if found.status != BatchStatus.STAGING:
        response["HX-Refresh"] = "true"
    return response


@role_required(Role.COORDINATOR)
@require_POST
def review(request: HttpRequest, pk: int) -> HttpResponse:
    found = selectors.get_batch(request.user, pk)  # type: ignore[arg-type]
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose rows, then accept or reject them.")
        return redirect("labimport:batch", pk=found.pk)
    service = services.accept_rows if form.cleaned_data["decision"] == "accept" else services.reject_rows
    try:
        done = service(request.user, found, form.cleaned_data["rows"])  # type: ignore[arg-type]
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("labimport:batch", pk=found.pk)
    if form.cleaned_data["decision"] == "accept":
        # As after a save in the intake forms: the pages about to be shown want the new result now.
        changed = {row.record.participant_id for row in done if row.record is not None}
        for participant in Participant.objects.filter(pk__in=changed):
            announce_saved(participant, request.user, f"lab results imported from {found.file_name}")  # type: ignore[arg-type]
    messages.success(request, f"{len(done)} row(s) {form.cleaned_data['decision']}ed.")
    return redirect("labimport:batch", pk=found.pk)
