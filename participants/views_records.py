"""Intake in the browser: register a participant, edit key dates, enter, correct and void records,
and the live eligibility preview beside each form. Every save goes through participants.services
with the acting user, then evaluates at once so the participant page shows the stored result."""

from __future__ import annotations

import copy
import json
import logging
import re
import uuid
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from redis.exceptions import RedisError

from participants.labels import humanize

from . import services
from .access import role_required
from .changes import announce_saved
from .forms import (
    EditParticipantForm,
    RecordEntry,
    RegisterForm,
    VoidForm,
    add_service_errors,
    record_form,
)
from .intake import describe, preview_change
from .models import ClinicalRecord, DuplicateCheck, Participant, RecordState, Role, User
from .records import RECORD_KINDS, RecordKind
from .selectors import (
    confirmed_areas,
    current_facts,
    current_therapies,
    duplicate_links,
    get_participant,
    open_duplicate_check,
    site_lab_units,
)
from .visit_form import VisitForm

log = logging.getLogger(__name__)

WRITERS = (Role.COORDINATOR, Role.INVESTIGATOR)
READERS = (Role.COORDINATOR, Role.INVESTIGATOR, Role.MONITOR, Role.ADMIN)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _kind(kind: str) -> RecordKind:
    if kind not in RecordKind.values:
        raise Http404("No such record type.")
    return RecordKind(kind)


def _detail(participant: Participant) -> HttpResponse:
    return redirect("participants:detail", pk=participant.pk)


# --- Participant --------------------------------------------------------------------------------


def _check_id(request: HttpRequest) -> int | None:
    try:
        return int(request.POST.get("duplicate_check", ""))
    except ValueError:
        return None


@role_required(*WRITERS)
def register(request: HttpRequest) -> HttpResponse:
    """Register a candidate. A possible duplicate shows a warning on the same form: the coordinator
    registers anyway with the reason it is not the same person (`action=register`), or stops
    (`action=stop`); both answers are recorded on the check (docs/registration.md)."""
    site = request.membership.site  # type: ignore[attr-defined]
    if request.method == "POST" and request.POST.get("action") == "stop":
        try:
            services.stop_registration(_user(request), site=site, check_id=_check_id(request) or 0)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.info(request, "Registration stopped: nothing was registered.")
        return redirect("participants:list")
    form = RegisterForm(request.POST or None)
    check: DuplicateCheck | None = None
    if request.method == "POST" and form.is_valid():
        try:
            participant = services.register_participant(
                _user(request), site=site, not_same_person=form.answer(), **form.registration()
            )
        except services.PossibleDuplicate as exc:
            check = exc.check
            form.showing(check)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            announce_saved(participant, _user(request), "participant registered")
            messages.success(request, f"Registered {participant.screening_number}.")
            return _detail(participant)
    if check is None and request.method == "POST":
        # The answer was refused (no reason, or another field): the warning stays on the page.
        check = open_duplicate_check(site, _check_id(request))
    context = {
        "form": form,
        "check": check,
        "same_site": duplicate_links(_user(request), check.same_site_matches) if check else [],
    }
    return render(request, "participants/register.html", context)


@role_required(*WRITERS)
def edit_dates(request: HttpRequest, pk: int) -> HttpResponse:
    participant = get_participant(_user(request), pk, for_update=True)
    form = EditParticipantForm(participant, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_participant(
                _user(request),
                participant,
                reason=form.cleaned_data.get("reason", ""),
                shown=form.shown(),
                **form.changes(),
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            announce_saved(participant, _user(request), form.cleaned_data.get("reason") or "key dates recorded")
            messages.success(request, "Demographics and key dates saved.")
            return _detail(participant)
    context = {
        "participant": participant,
        "form": form,
        "kinds": RecordKind,
        "preview_url": reverse("participants:preview", args=[participant.pk, "dates"]),
    }
    return render(request, "participants/records/dates.html", context)


# --- Record forms ------------------------------------------------------------------------------


def _entry(
    participant: Participant,
    kind: RecordKind,
    params: QueryDict,
    data: QueryDict | None,
    record: ClinicalRecord | None = None,
) -> RecordEntry:
    """The form of `kind` for `participant`, bound to `data`; `params` (the query string or the
    posted data) says which test, fact group, fact or event kind; `record` is being corrected."""
    entry: RecordEntry = record_form(kind).open(participant, params, data, record)
    entry.kind = kind
    return entry


class _Refused(Exception):
    pass


def _save(request: HttpRequest, participant: Participant, entry: RecordEntry) -> str:
    """Record the form's content through the kind's service; the description of what was saved.
    Raises _Refused after putting the service's messages on the form (nothing saved)."""
    form = entry.form
    try:
        services.record_service(entry.kind)(_user(request), participant, **form.arguments())
    except ValidationError as exc:  # services.RecordInvalid, or a model field's own check
        form.add_service_errors(exc)
        raise _Refused from None
    return str(form.saved_text())


def _page(request: HttpRequest, participant: Participant, entry: RecordEntry, **extra: Any) -> HttpResponse:
    context = {
        "participant": participant,
        "entry": entry,
        "kinds": RecordKind,
        "preview_url": reverse("participants:preview", args=[participant.pk, entry.kind.value]),
        **extra,
    }
    return render(request, "participants/records/form.html", context)


@role_required(*WRITERS)
def add_record(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    participant = get_participant(_user(request), pk, for_update=True)
    record_kind = _kind(kind)
    params = request.POST if request.method == "POST" else request.GET
    entry = _entry(participant, record_kind, params, request.POST if request.method == "POST" else None)
    submission = _submission_token(request)
    if request.method == "POST" and entry.form is not None and entry.form.is_valid():
        claim = _claim_submission(participant, submission) if submission else None
        if claim is False:
            state = _submission_state(participant, submission)
            messages.info(
                request,
                "This entry was already saved: the form was sent twice."
                if state == "saved"
                else "This form is being saved: check the participant's records in a moment.",
            )
            return _detail(participant)
        try:
            detail = _save(request, participant, entry)
        except _Refused:
            _release_submission(participant, submission, claim)
            return _page(request, participant, entry, submission=submission)
        except Exception:
            _release_submission(participant, submission, claim)
            raise
        if claim:
            _mark_submission_saved(participant, submission)
        announce_saved(participant, _user(request), detail)
        messages.success(request, f"Saved: {detail}.")
        return _detail(participant)
    return _page(request, participant, entry, submission=submission or uuid.uuid4().hex)


_TOKEN = re.compile(r"[0-9a-f]{32}")
_TOKEN_SECONDS = 24 * 3600


def _submission_token(request: HttpRequest) -> str:
    """The add form's one-time token: a double-submitted form saves its entry once."""
    token = request.POST.get("submission", "") if request.method == "POST" else ""
    return token if _TOKEN.fullmatch(token) else ""


def _submission_key(participant: Participant, token: str) -> str:
    return f"intake-submission:{participant.pk}:{token}"


def _claim_submission(participant: Participant, token: str) -> bool | None:
    """SET NX in Redis: of two requests carrying one token, only the first may save. None when
    Redis is unreachable: the save goes ahead unguarded, as saves do when the broker is down."""
    try:
        return bool(cache.add(_submission_key(participant, token), "pending", timeout=_TOKEN_SECONDS))
    except RedisError:
        log.warning("submission token not checked: Redis unreachable")
        return None


def _submission_state(participant: Participant, token: str) -> str | None:
    try:
        value = cache.get(_submission_key(participant, token))
    except RedisError:
        return None
    return str(value) if value is not None else None


def _mark_submission_saved(participant: Participant, token: str) -> None:
    try:
        cache.set(_submission_key(participant, token), "saved", timeout=_TOKEN_SECONDS)
    except RedisError:
        log.warning("submission token not marked saved: Redis unreachable")


def _release_submission(participant: Participant, token: str, claim: bool | None) -> None:
    """Nothing was saved: the same form may be sent again."""
    if claim:
        try:
            cache.delete(_submission_key(participant, token))
        except RedisError:
            log.warning("submission token not released: Redis unreachable")


def _record(participant: Participant, kind: RecordKind, record_pk: int) -> ClinicalRecord:
    model = RECORD_KINDS[kind].model
    return get_object_or_404(model.objects.filter(participant=participant), pk=record_pk)


@role_required(*WRITERS)
def correct_record(request: HttpRequest, pk: int, kind: str, record_pk: int) -> HttpResponse:
    participant = get_participant(_user(request), pk, for_update=True)
    record_kind = _kind(kind)
    if not RECORD_KINDS[record_kind].corrected_in_browser:
        raise Http404("This record is not corrected; void it instead.")
    record = _record(participant, record_kind, record_pk)
    if record.state != RecordState.CURRENT:
        messages.error(request, "Only a current record can be corrected.")
        return redirect("participants:records", pk=participant.pk, kind=kind)
    data = request.POST if request.method == "POST" else None
    entry = _entry(participant, record_kind, QueryDict(), data, record=record)
    entry.title = f"Correct: {entry.title}"
    entry.correcting_text = describe(record)
    form = entry.form
    if data is not None and form.is_valid():
        reason = form.cleaned_data["reason"]
        try:
            services.correct_record(_user(request), record, reason=reason, **form.correction())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            detail = f"{humanize(kind)} corrected: {reason}"
            announce_saved(participant, _user(request), detail)
            messages.success(request, f"Saved: {detail}.")
            return _detail(participant)
    return _page(request, participant, entry, correcting=record)


@role_required(*WRITERS)
def void_record(request: HttpRequest, pk: int, kind: str, record_pk: int) -> HttpResponse:
    participant = get_participant(_user(request), pk, for_update=True)
    record_kind = _kind(kind)
    record = _record(participant, record_kind, record_pk)
    form = VoidForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        reason = form.cleaned_data["reason"]
        try:
            services.void_record(_user(request), record, reason=reason)
        except services.RecordInvalid as exc:
            add_service_errors(form, exc)
        else:
            detail = f"{record} voided: {reason}"
            announce_saved(participant, _user(request), detail)
            messages.success(request, f"Voided: {record}.")
            return _detail(participant)
    context = {
        "participant": participant,
        "record": record,
        "summary": describe(record),
        "kind": record_kind,
        "kinds": RecordKind,
        "form": form,
        "preview_url": reverse("participants:preview", args=[participant.pk, record_kind.value]),
        "void_vals": json.dumps({"voids": str(record.pk)}),
    }
    return render(request, "participants/records/void.html", context)


@role_required(*READERS)
def records(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    participant = get_participant(_user(request), pk)
    record_kind = _kind(kind)
    model = RECORD_KINDS[record_kind].model
    rows = list(
        model.objects.filter(participant=participant)
        .select_related("entered_by", "voided_by")
        .order_by("entered_at", "pk")
    )
    can_write = request.membership.role in WRITERS  # type: ignore[attr-defined]
    context = {
        "participant": participant,
        "kind": record_kind,
        "kinds": RecordKind,
        "rows": [(r, describe(r)) for r in rows],
        "can_write": can_write,
        "correctable": RECORD_KINDS[record_kind].corrected_in_browser,
    }
    return render(request, "participants/records/list.html", context)


# --- The screening visit ------------------------------------------------------------------------


def _visit_form(participant: Participant, data: QueryDict | None) -> VisitForm:
    return VisitForm(
        participant,
        data,
        units=site_lab_units(participant),
        current=current_facts(participant),
        confirmed=confirmed_areas(participant),
    )


@role_required(*WRITERS)
def visit(request: HttpRequest, pk: int) -> HttpResponse:
    """The whole screening visit on one form, saved in one service call; "Save and go to the next
    missing item" then opens the form of the first item the worklist still lacks."""
    participant = get_participant(_user(request), pk, for_update=True)
    data = request.POST if request.method == "POST" else None
    form = _visit_form(participant, data)
    submission = _submission_token(request)
    if data is not None and form.is_valid():
        claim = _claim_submission(participant, submission) if submission else None
        if claim is False:
            messages.info(request, "This visit was already saved: the form was sent twice.")
            return _detail(participant)
        try:
            saved = services.record_visit(_user(request), participant, form.entry())
        except services.VisitRefused as exc:
            _release_submission(participant, submission, claim)
            form.add_service_errors(exc)
        except Exception:
            _release_submission(participant, submission, claim)
            raise
        else:
            if claim:
                _mark_submission_saved(participant, submission)
            detail = form.saved_text(saved.count())
            announce_saved(participant, _user(request), detail)
            messages.success(request, f"Saved: {detail}.")
            if request.POST.get("then") == "next":
                return redirect("participants:next_missing", pk=participant.pk)
            return _detail(participant)
    context = {
        "participant": participant,
        "visit": form,
        "kinds": RecordKind,
        "therapies": [describe(t) for t in current_therapies(participant)],
        "submission": submission or uuid.uuid4().hex,
        "preview_url": reverse("participants:preview", args=[participant.pk, "visit"]),
    }
    return render(request, "participants/records/visit.html", context, status=400 if data is not None else 200)


def _preview_visit(request: HttpRequest, participant: Participant) -> HttpResponse:
    """The whole visit form's effect on the criteria, with what a save would refuse or question."""
    form = _visit_form(participant, request.POST)
    context: dict[str, Any] = {"participant": participant}
    valid = form.is_valid()
    problems = [p for part in form.parts() for p in _problems(part, skip=("required", "reason", "nothing"))]
    if not valid and problems:
        context["incomplete"] = True
        context["problems"] = problems[:8]
        return render(request, "screening/_preview_panel.html", context)
    if not valid and not form.has_entries():
        return render(request, "screening/_preview_panel.html", context | {"empty": True})
    unsaved = form.unsaved()
    context["result"] = preview_change(participant, None, unsaved, replaced_keys=form.facts.replaced_keys())
    context["warnings"] = services.entry_warnings(participant, [r for rs in unsaved.values() for r in rs])
    return render(request, "screening/_preview_panel.html", context)


# --- Live preview -------------------------------------------------------------------------------


@require_POST
@role_required(*WRITERS)
def preview(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """What the posted, unsaved entry would change, compared with the current records."""
    participant = get_participant(_user(request), pk, for_update=True)
    if kind == "dates":
        return _preview_dates(request, participant)
    if kind == "visit":
        return _preview_visit(request, participant)
    record_kind = _kind(kind)
    context: dict[str, Any] = {"participant": participant}
    voids = request.POST.get("voids", "")
    # "²".isdigit() is true, and int() refuses it, as it refuses more than 4,300 digits.
    if voids.isascii() and voids.isdigit() and len(voids) <= 18:
        voided = _record(participant, record_kind, int(voids))
        context["result"] = preview_change(participant, record_kind, [], replaced=[voided.pk])
        return render(request, "screening/_preview_panel.html", context)
    record: ClinicalRecord | None = None
    replaces = request.POST.get("replaces", "")
    if replaces.isascii() and replaces.isdigit() and len(replaces) <= 18:
        record = (
            RECORD_KINDS[record_kind]
            .model.objects.filter(participant=participant, pk=int(replaces), state=RecordState.CURRENT)
            .first()
        )
    entry = _entry(participant, record_kind, request.POST, request.POST, record=record)
    form = entry.form
    # The reason for change is asked at saving; the preview does not need it.
    if form is None or not (form.is_valid() or set(form.errors) == {"reason"}) or form.questions():
        context["incomplete"] = True
        context["problems"] = [] if form is None else [*_problems(form), *form.questions()]
        return render(request, "screening/_preview_panel.html", context)
    context["result"] = preview_change(
        participant,
        record_kind,
        form.unsaved(),
        replaced=[record.pk] if record is not None else [],
        replaced_keys=form.replaced_keys(),
    )
    context["warnings"] = services.entry_warnings(participant, form.unsaved())
    return render(request, "screening/_preview_panel.html", context)


def _preview_dates(request: HttpRequest, participant: Participant) -> HttpResponse:
    """The key-dates form's effect: the same records under the unsaved demographics and dates."""
    form = EditParticipantForm(participant, request.POST)
    context: dict[str, Any] = {"participant": participant}
    if not (form.is_valid() or set(form.errors) == {"reason"}):
        context["incomplete"] = True
        context["problems"] = _problems(form)
        return render(request, "screening/_preview_panel.html", context)
    changed = copy.copy(participant)
    for name, value in form.changes().items():
        setattr(changed, name, value)
    context["result"] = preview_change(participant, None, changed_participant=changed)
    return render(request, "screening/_preview_panel.html", context)


def _problems(form: Any, skip: tuple[str, ...] = ("required",)) -> list[str]:
    """The form's errors other than fields still empty (codes `skip`): those the user is still
    filling in. A reason for change is asked at saving: "reason" in `skip` leaves its errors out."""
    out = []
    for name, errors in form.errors.as_data().items():
        if name in skip:
            continue
        label = form.fields[name].label if name in form.fields else ""
        for e in errors:
            if e.code in skip:
                continue
            for message in e.messages:
                out.append(f"{label}: {message}" if label else message)
    return out[:6]
