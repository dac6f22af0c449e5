"""Intake in the browser: register a participant, edit key dates, enter, correct and void records,
and the live eligibility preview beside each form. Every save goes through participants.services
with the acting user, then evaluates at once so the participant page shows the stored result."""

from __future__ import annotations

import copy
import json
import logging
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from redis.exceptions import RedisError

from screening.criteria.vocabulary import EVENT_KINDS_BY_KIND, FACT_KEYS_BY_KEY, LAB_TESTS, LAB_TESTS_BY_KEY
from screening.labels import humanize
from screening.services import evaluate_now

from . import services
from .access import role_required
from .forms import (
    EditParticipantForm,
    EventForm,
    FactForm,
    HistoryForm,
    LabForm,
    RegisterForm,
    TherapyForm,
    VoidForm,
    add_service_errors,
    fact_state,
    participant_state,
)
from .intake import (
    MODEL_BY_KIND,
    FactGroup,
    RecordKind,
    areas_for,
    describe,
    facts_for,
    group_facts,
    group_label,
    kinds_for,
    preview_change,
)
from .models import (
    Assessment,
    ClinicalEvent,
    ClinicalRecord,
    HistoryReview,
    LabResult,
    Participant,
    RecordState,
    Role,
    Therapy,
    User,
)
from .selectors import get_participant

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


@role_required(*WRITERS)
def register(request: HttpRequest) -> HttpResponse:
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            participant = services.register_participant(
                _user(request),
                site=request.membership.site,  # type: ignore[attr-defined]
                **form.cleaned_data,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            evaluate_now(participant, _user(request), "participant registered")
            messages.success(request, f"Registered {participant.screening_number}.")
            return _detail(participant)
    return render(request, "participants/register.html", {"form": form})


@role_required(*WRITERS)
def edit_dates(request: HttpRequest, pk: int) -> HttpResponse:
    participant = get_participant(_user(request), pk, for_update=True)
    form = EditParticipantForm(participant, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                if not form.still_as_shown(participant_state(_lock_participant(participant))):
                    raise _Refused
                services.update_participant(
                    _user(request), participant, reason=form.cleaned_data.get("reason", ""), **form.changes()
                )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except _Refused:
            pass
        else:
            evaluate_now(participant, _user(request), form.cleaned_data.get("reason") or "key dates recorded")
            messages.success(request, "Demographics and key dates saved.")
            return _detail(participant)
    context = {
        "participant": participant,
        "form": form,
        "kinds": RecordKind,
        "preview_url": reverse("participants:preview", args=[participant.pk, "dates"]),
    }
    return render(request, "participants/records/dates.html", context)


def _lock_participant(participant: Participant) -> Participant:
    """The participant's row, locked until the save commits: the same lock the services take, so
    the form's conflict check and the save see one state."""
    return Participant.objects.select_for_update(of=("self",)).get(pk=participant.pk)


# --- Record forms ------------------------------------------------------------------------------


@dataclass
class Entry:
    """A record form and what the page shows around it."""

    kind: RecordKind
    title: str
    form: Any = None  # None: the user first chooses what to enter (test, fact group, event kind)
    chooser_name: str = ""
    chooser_label: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    selected: str = ""
    correcting_text: str = ""


def _current_facts(participant: Participant) -> dict[str, Assessment]:
    current = Assessment.objects.filter(participant=participant, state=RecordState.CURRENT)
    return {a.key: a for a in current}


def _entry(
    participant: Participant,
    kind: RecordKind,
    params: QueryDict,
    data: QueryDict | None,
    record: ClinicalRecord | None = None,
) -> Entry:
    """The form of `kind` for `participant`, bound to `data`; `params` (the query string or the
    posted data) says which test, fact group, fact or event kind; `record` is being corrected."""
    correcting = record is not None
    if kind == RecordKind.LAB:
        key = record.test if isinstance(record, LabResult) else params.get("test", "")
        entry = Entry(
            kind,
            "Lab result",
            chooser_name="test",
            chooser_label="Test",
            selected=key,
            choices=[(t.key, t.label) for t in LAB_TESTS],
        )
        test = LAB_TESTS_BY_KEY.get(key)
        if test is not None:
            initial = LabForm.initial_from(record) if isinstance(record, LabResult) else None
            entry.form = LabForm(test, data, initial=initial, correcting=correcting)
            entry.title = f"Lab result: {test.label}"
        return entry
    if kind == RecordKind.FACT:
        current = _current_facts(participant)
        if isinstance(record, Assessment):
            fact = FACT_KEYS_BY_KEY[record.key]
            form = FactForm([fact], {record.key: record}, data, correcting=True)
            return Entry(kind, fact.meaning, form=form)
        entry = Entry(
            kind,
            "Assessments",
            chooser_name="group",
            chooser_label="Group",
            choices=[(g.value, group_label(g.value, participant)) for g in FactGroup],
        )
        key = str(params.get("key", ""))
        allowed = {f.key: f for f in facts_for(participant)}
        if key in allowed:
            entry.form = FactForm([allowed[key]], current, data)
            entry.title = allowed[key].meaning
        elif (group := str(params.get("group", ""))) in FactGroup.values:
            entry.selected = group
            entry.form = FactForm(group_facts(participant, group), current, data)
            entry.title = group_label(group, participant)
        return entry
    if kind == RecordKind.THERAPY:
        initial = None
        if isinstance(record, Therapy):
            initial = {name: getattr(record, name) for name in TherapyForm.Meta.fields}
        return Entry(kind, "Therapy", form=TherapyForm(data, initial=initial, correcting=correcting))
    if kind == RecordKind.EVENT:
        key = record.kind if isinstance(record, ClinicalEvent) else params.get("event", "")
        kinds = kinds_for(participant)
        entry = Entry(
            kind,
            "Clinical event",
            chooser_name="event",
            chooser_label="Event",
            choices=[(k.kind, humanize(k.kind)) for k in kinds],
            selected=key,
        )
        spec = EVENT_KINDS_BY_KIND.get(key)
        if spec is not None and (correcting or spec in kinds):
            initial = EventForm.initial_from(record) if isinstance(record, ClinicalEvent) else None
            entry.form = EventForm(spec.kind, spec.date_means, data, initial=initial, correcting=correcting)
            entry.title = f"Clinical event: {humanize(spec.kind)}"
        return entry
    reviewed = HistoryReview.objects.filter(participant=participant, state=RecordState.CURRENT)
    confirmed = [r.area for r in reviewed]
    area = params.get("area", "")
    initial = {"areas": [area, *confirmed] if area else confirmed}
    return Entry(
        kind,
        "History taken in full",
        form=HistoryForm(areas_for(participant), confirmed, data, initial=initial),
    )


class _Refused(Exception):
    pass


def _save(request: HttpRequest, participant: Participant, entry: Entry) -> str:
    """Record the form's content through the services; the description of what was saved.
    Raises _Refused after putting the services' messages on the form (nothing saved)."""
    user, form = _user(request), entry.form
    try:
        with transaction.atomic():
            if entry.kind == RecordKind.LAB:
                values = form.values()
                services.record_lab(user, participant, **values)
                return f"{values['test']} result recorded"
            if entry.kind == RecordKind.THERAPY:
                values = form.values()
                services.record_therapy(user, participant, **values)
                return f"therapy {values['agent_name'] or values['agent']} recorded"
            if entry.kind == RecordKind.EVENT:
                services.record_event(
                    user, participant, kind=form.kind, date=form.cleaned_data["date"], details=form.details()
                )
                return f"{humanize(form.kind)} recorded"
            if entry.kind == RecordKind.HISTORY:
                areas = form.new_areas()
                for area in areas:
                    services.confirm_history(user, participant, area=area)
                return "history taken in full: " + (", ".join(areas) or "no new area")
            _lock_participant(participant)
            current = Assessment.objects.filter(
                participant=participant, state=RecordState.CURRENT, key__in=[f.key for f in form.facts]
            )
            if not form.still_as_shown(fact_state({a.key: a for a in current}, (f.key for f in form.facts))):
                raise _Refused
            reason = form.cleaned_data.get("reason", "")
            changes = form.changes()
            for fact, value, when, current in changes:
                try:
                    services.record_assessment(
                        user,
                        participant,
                        key=fact.key,
                        value=value,
                        date=when,
                        reason=reason if current is not None else "",
                    )
                except services.RecordInvalid as exc:
                    for name, msgs in exc.message_dict.items():
                        form.add_error(form.field_for(fact.key, name), msgs)
                    raise _Refused from None
            keys = ", ".join(f.key for f, *_ in changes) or "nothing changed"
            return f"assessments recorded ({keys})" + (f": {reason}" if reason else "")
    except services.RecordInvalid as exc:
        add_service_errors(form, exc, getattr(form, "service_names", None))
        raise _Refused from None


def _page(request: HttpRequest, participant: Participant, entry: Entry, **extra: Any) -> HttpResponse:
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
        evaluate_now(participant, _user(request), detail)
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
    model = MODEL_BY_KIND[kind]
    return get_object_or_404(model.objects.filter(participant=participant), pk=record_pk)


@role_required(*WRITERS)
def correct_record(request: HttpRequest, pk: int, kind: str, record_pk: int) -> HttpResponse:
    participant = get_participant(_user(request), pk, for_update=True)
    record_kind = _kind(kind)
    if record_kind == RecordKind.HISTORY:
        raise Http404("A history confirmation is not corrected; void it instead.")
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
            changes = _correction(record_kind, form)
            services.correct_record(_user(request), record, reason=reason, **changes)
        except services.RecordInvalid as exc:
            names = getattr(form, "service_names", None)
            if isinstance(form, FactForm) and isinstance(record, Assessment):
                names = {k: form.field_for(record.key, k) or k for k in exc.message_dict}
            add_service_errors(form, exc, names)
        except _Refused:
            pass
        else:
            detail = f"{humanize(kind)} corrected: {reason}"
            evaluate_now(participant, _user(request), detail)
            messages.success(request, f"Saved: {detail}.")
            return _detail(participant)
    return _page(request, participant, entry, correcting=record)


def _correction(kind: RecordKind, form: Any) -> dict[str, Any]:
    if kind == RecordKind.LAB:
        return form.correction()  # type: ignore[no-any-return]
    if kind == RecordKind.THERAPY:
        return form.values()  # type: ignore[no-any-return]
    if kind == RecordKind.EVENT:
        return {"date": form.cleaned_data["date"], "details": form.details()}
    changes = form.changes()
    if not changes:
        form.add_error(None, "Nothing changed.")
        raise _Refused
    _, value, when, _ = changes[0]
    return {"value": value, "date": when}


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
            evaluate_now(participant, _user(request), detail)
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
    model = MODEL_BY_KIND[record_kind]
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
        "correctable": record_kind != RecordKind.HISTORY,
    }
    return render(request, "participants/records/list.html", context)


# --- Live preview -------------------------------------------------------------------------------


@require_POST
@role_required(*WRITERS)
def preview(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """What the posted, unsaved entry would change, compared with the current records."""
    participant = get_participant(_user(request), pk, for_update=True)
    if kind == "dates":
        return _preview_dates(request, participant)
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
            MODEL_BY_KIND[record_kind]
            .objects.filter(participant=participant, pk=int(replaces), state=RecordState.CURRENT)
            .first()
        )
    entry = _entry(participant, record_kind, request.POST, request.POST, record=record)
    form = entry.form
    # The reason for change is asked at saving; the preview does not need it.
    if form is None or not (form.is_valid() or set(form.errors) == {"reason"}):
        context["incomplete"] = True
        context["problems"] = [] if form is None else _problems(form)
        return render(request, "screening/_preview_panel.html", context)
    unsaved: list[ClinicalRecord]
    replaced_keys: list[str] = []
    if isinstance(form, FactForm):
        facts = form.as_records()
        unsaved = list(facts)
        replaced_keys = [a.key for a in facts]
    elif isinstance(form, HistoryForm):
        unsaved = [HistoryReview(area=a) for a in form.new_areas()]
    else:
        unsaved = [form.as_record()]
    context["result"] = preview_change(
        participant,
        record_kind,
        unsaved,
        replaced=[record.pk] if record is not None else [],
        replaced_keys=replaced_keys,
    )
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


def _problems(form: Any) -> list[str]:
    """The form's errors other than fields still empty: those the user is still filling in."""
    out = []
    for name, errors in form.errors.as_data().items():
        label = form.fields[name].label if name in form.fields else ""
        for e in errors:
            if e.code == "required":
                continue
            for message in e.messages:
                out.append(f"{label}: {message}" if label else message)
    return out[:6]
