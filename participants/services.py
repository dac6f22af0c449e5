"""Actions on participants. Each takes the acting user and runs in one transaction."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, cast

import pghistory
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from screening.criteria import FACT_KEYS, CaseError, load_case
from screening.criteria.vocabulary import (
    FACT_KEYS_BY_KEY,
    IMPLAUSIBLE_BELOW,
    LAB_TESTS_BY_KEY,
    FactType,
    unit_label,
)

from .case_builder import assemble, current_records
from .changes import announce_change, announce_changes
from .duplicates import DuplicateFindings, find_duplicates, lock_identity
from .extensions import protocol_version_in_force
from .models import (
    INITIALS_PATTERN,
    Assessment,
    ClinicalEvent,
    ClinicalRecord,
    DuplicateCheck,
    DuplicateOutcome,
    HistoryReview,
    LabResult,
    Membership,
    Participant,
    RecordState,
    Role,
    Site,
    Therapy,
    User,
)
from .records import RECORD_KINDS, no_records, of
from .selectors import editable_participants


@dataclass(frozen=True)
class NotSamePerson:
    """The coordinator's answer to a possible duplicate: the check that was shown (its id) and why
    the candidate is not the same person."""

    check_id: int
    reason: str


class PossibleDuplicate(ValidationError):
    """Nothing was registered: the duplicate check found a possible duplicate. `check` is the
    recorded check (committed), with what the coordinator may be shown."""

    def __init__(self, check: DuplicateCheck) -> None:
        super().__init__("A possible duplicate was found: nothing was registered.")
        self.check = check


def _covers(check: DuplicateCheck, found: DuplicateFindings) -> bool:
    """The confirmed check showed at least what is found now (a match added since needs a new look)."""
    return set(found.same_site) <= set(check.same_site_matches) and (
        check.other_site_match or not found.other_site
    )


def register_participant(
    user: User,
    *,
    site: Site,
    cohort: str,
    sex: str,
    birth_date: date,
    initials: str = "",
    lupus_nephritis: bool | None = None,
    screening_start: date | None = None,
    icf_signed: date | None = None,
    planned_enrollment: date | None = None,
    planned_day0: date | None = None,
    not_same_person: NotSamePerson | None = None,
) -> Participant:
    """Register a candidate at the user's site with the next screening number of that site.

    With initials, the duplicate check runs first, under the site's lock (docs/registration.md): a
    possible duplicate (same birth date and sex, same initials or none on record, at this site or
    another) stops the registration with `PossibleDuplicate` after the check is recorded, unless
    `not_same_person` answers that very check. Without initials (the case import of examples) no
    check can be made and none is recorded."""
    with transaction.atomic():
        outcome = _register(
            user,
            site=site,
            initials=initials.strip().upper(),
            not_same_person=not_same_person,
            fields={
                "cohort": cohort,
                "sex": sex,
                "birth_date": birth_date,
                "lupus_nephritis": lupus_nephritis,
                "screening_start": screening_start,
                "icf_signed": icf_signed,
                "planned_enrollment": planned_enrollment,
                "planned_day0": planned_day0,
            },
        )
    # Raised after the commit, so that the check the coordinator was shown stays on record.
    if isinstance(outcome, DuplicateCheck):
        raise PossibleDuplicate(outcome)
    return outcome


def _register(
    user: User,
    *,
    site: Site,
    initials: str,
    not_same_person: NotSamePerson | None,
    fields: dict[str, Any],
) -> Participant | DuplicateCheck:
    if not Membership.objects.filter(
        user=user, site=site, role__in=[Role.COORDINATOR, Role.INVESTIGATOR]
    ).exists():
        raise PermissionDenied("Only the site's coordinators and investigators register its participants.")
    if initials and not re.fullmatch(INITIALS_PATTERN, initials):
        raise RecordInvalid({"initials": "Initials are two to four letters, A to Z."})
    # The row lock serialises concurrent registrations at one site: numbers are never reused, and
    # two coordinators cannot register the same person at once past the check.
    locked = Site.objects.select_for_update().get(pk=site.pk)
    sequence = locked.last_screening_sequence + 1
    participant = Participant(
        site=locked,
        screening_sequence=sequence,
        screening_number=f"{locked.code}-{sequence:04d}",
        initials=initials,
        created_by=user,
        **fields,
    )
    check_key_dates(participant)
    _check_header_with_engine(participant, birth_changed=False)
    check: DuplicateCheck | None = None
    if initials:
        lock_identity(participant.birth_date, participant.sex)
        found = find_duplicates(site=locked, birth_date=participant.birth_date, sex=participant.sex, initials=initials)
        check = _answered_check(user, locked, participant, not_same_person) if found else None
        if found and (check is None or not _covers(check, found)):
            with pghistory.context(user=user.pk, reason="duplicate check at registration"):
                return DuplicateCheck.objects.create(
                    site=locked,
                    checked_by=user,
                    birth_date=participant.birth_date,
                    sex=participant.sex,
                    initials=initials,
                    same_site_matches=list(found.same_site),
                    other_site_match=found.other_site,
                    outcome=DuplicateOutcome.POSSIBLE,
                )
    locked.last_screening_sequence = sequence
    locked.save(update_fields=["last_screening_sequence"])
    with pghistory.context(user=user.pk, reason="participant registered"):
        participant.save(force_insert=True)
        if check is not None and not_same_person is not None:
            check.outcome = DuplicateOutcome.NOT_SAME
            check.reason = not_same_person.reason.strip()
            check.decided_by = user
            check.decided_at = timezone.now()
            check.participant = participant
            check.save(update_fields=["outcome", "reason", "decided_by", "decided_at", "participant"])
        elif initials:
            DuplicateCheck.objects.create(
                site=locked,
                checked_by=user,
                birth_date=participant.birth_date,
                sex=participant.sex,
                initials=initials,
                outcome=DuplicateOutcome.CLEAR,
                participant=participant,
            )
    announce_change(participant.pk, reason="participant registered")
    return participant


def _answered_check(
    user: User, site: Site, participant: Participant, answer: NotSamePerson | None
) -> DuplicateCheck | None:
    """The open check the coordinator answered, if it is this site's and was made on exactly
    these identifying data; a missing reason is refused."""
    if answer is None:
        return None
    check = (
        DuplicateCheck.objects.select_for_update()
        .filter(
            pk=answer.check_id,
            site=site,
            outcome=DuplicateOutcome.POSSIBLE,
            birth_date=participant.birth_date,
            sex=participant.sex,
            initials=participant.initials,
        )
        .first()
    )
    if check is not None and not answer.reason.strip():
        raise RecordInvalid({"not_same_person_reason": "Say why this is not the same person."})
    return check


@transaction.atomic
def stop_registration(user: User, *, site: Site, check_id: int) -> DuplicateCheck:
    """The coordinator stops a registration after a possible duplicate was shown."""
    if not Membership.objects.filter(
        user=user, site=site, role__in=[Role.COORDINATOR, Role.INVESTIGATOR]
    ).exists():
        raise PermissionDenied("Only the site's coordinators and investigators register its participants.")
    check = (
        DuplicateCheck.objects.select_for_update()
        .filter(pk=check_id, site=site, outcome=DuplicateOutcome.POSSIBLE)
        .first()
    )
    if check is None:
        raise RecordInvalid({NON_FIELD_ERRORS: "That duplicate check is not open at your site."})
    with pghistory.context(user=user.pk, reason="registration stopped: possible duplicate"):
        check.outcome = DuplicateOutcome.STOPPED
        check.decided_by = user
        check.decided_at = timezone.now()
        check.save(update_fields=["outcome", "decided_by", "decided_at"])
    return check


# --- Clinical records -------------------------------------------------------------------------
# Every change goes through one of these functions: one transaction, the acting user and the
# reason in the audit context, the participant marked for re-evaluation. The engine's own loader
# checks each record's shape (cases/schema.json + engine checks), so the browser, the JSON import
# and `manage.py screen` accept exactly the same data.


class RecordInvalid(ValidationError):
    """A record the case format refuses; `error_dict` is keyed by the case format's field name
    (`value`, `unit`, `collected`, ...) so that a form can put the message next to its field."""


def lock_participant(user: User, participant: Participant) -> Participant:
    locked = editable_participants(user).select_for_update(of=("self",)).filter(pk=participant.pk).first()
    if locked is None:
        raise PermissionDenied("You may not change this participant's data.")
    return locked


def _not_in_future(today: date | None = None, /, **dates: date | None) -> None:
    today = today or timezone.localdate()
    errors = {
        name: f"{value.isoformat()} is in the future."
        for name, value in dates.items()
        if value is not None and value > today
    }
    if errors:
        raise RecordInvalid(errors)


KEY_DATES = ("screening_start", "icf_signed", "planned_enrollment", "planned_day0")


def check_key_dates(participant: Participant, *, errors: dict[str, list[str]] | None = None) -> None:
    """The date rules of docs/criteria-intake.md: nothing before birth, no birth or consent in the
    future, consent on or before the first screening visit, enrollment after screening and
    consent, Day 0 not before enrollment. Raises with every broken rule (and `errors`, found before)."""
    errors = dict(errors or {})

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    today = timezone.localdate()
    p = participant
    birth, start, icf = p.birth_date, p.screening_start, p.icf_signed
    enrol, day0 = p.planned_enrollment, p.planned_day0
    if birth and birth > today:
        add("birth_date", "The date of birth cannot be in the future.")
    if icf and icf > today:
        add("icf_signed", "Consent cannot be signed in the future: record it once signed.")
    for name in KEY_DATES:
        value = getattr(p, name)
        if birth and value and value <= birth:
            add(name, "This date is not after the date of birth.")
    if icf and start and icf > start:
        add(
            "icf_signed",
            f"Consent must be signed on or before the first screening visit ({start.isoformat()}): "
            "no screening procedure may precede it.",
        )
    if enrol:
        for name, label in (("screening_start", "screening start"), ("icf_signed", "consent")):
            earlier = getattr(p, name)
            if earlier and enrol < earlier:
                add("planned_enrollment", f"Enrollment cannot be planned before the {label}.")
    if day0 and enrol and day0 < enrol:
        add("planned_day0", "Day 0 cannot be planned before enrollment.")
    if errors:
        raise RecordInvalid(errors)


class StaleForm(RecordInvalid):
    """The values a form showed were changed by another save since it was opened: nothing is
    saved, so that a save overwrites only what the user saw. `changed` names the keys."""

    def __init__(self, changed: list[str]) -> None:
        super().__init__(
            {
                NON_FIELD_ERRORS: "Another save changed this participant's data while yours was being "
                "saved. Nothing was saved: open the form again to see the current values."
            }
        )
        self.changed = changed


def _check_as_shown(shown: Mapping[str, Any] | None, current: Mapping[str, str]) -> None:
    """Checked under the participant's row lock. `shown`: the state the form was opened with (a
    form's own `*_state` of that moment); None: not from a form that shows recorded values."""
    if shown is None:
        return
    changed = sorted(k for k in shown.keys() | current.keys() if shown.get(k) != current.get(k))
    if changed:
        raise StaleForm(changed)


def participant_state(participant: Participant) -> dict[str, str]:
    """What the key-dates form shows, as the stale-form check compares it."""
    names = ("initials", "lupus_nephritis", "sex", "birth_date", *KEY_DATES)
    return {n: str(getattr(participant, n)) for n in names if getattr(participant, n) is not None}


def fact_state(current: Mapping[str, Assessment], keys: Iterable[str]) -> dict[str, str]:
    """What a fact form shows, as the stale-form check compares it: a correction supersedes the
    record, so a new current record means another save."""
    return {key: str(current[key].pk) for key in keys if key in current}


def implausible(test_key: str, value: Decimal, unit: str) -> ValidationError | None:
    """The question to ask about a count entered with `unit` below its implausibility floor
    (vocabulary.IMPLAUSIBLE_BELOW, in the canonical unit), or None when it is plausible, or not a
    non-negative count in a known unit (the loader's own checks refuse those)."""
    test, floor = LAB_TESTS_BY_KEY.get(test_key), IMPLAUSIBLE_BELOW.get(test_key)
    factor = test.factor(unit) if test is not None else None
    if test is None or floor is None or factor is None or not value.is_finite() or value < 0:
        return None
    try:
        canonical = value * factor.num / factor.den
    except ArithmeticError:  # 1e1000000 overflows the conversion: the model refuses its size
        return None
    per_ul = factor.num == factor.den
    if not (canonical < floor or (per_ul and value < 1)):
        return None
    shown = f"{value} {unit_label(unit)}"
    if not per_ul:
        shown += f" = {canonical.normalize():f} /µL"
    return ValidationError(
        f"{shown} is unusually low for this count. Check the unit on the report (per µL, or × 10³/µL "
        "= × 10⁹/L?)",
        code="implausible_low",
        params={"value": value, "unit": unit, "test": test.label, "floor": floor},
    )


def _check_plausible(record: ClinicalRecord, confirmed_low: bool) -> None:
    """A count below its floor is kept only once the user confirms it (a unit slip is likelier)."""
    if confirmed_low or not isinstance(record, LabResult) or record.value_number is None:
        return
    question = implausible(record.test, record.value_number, record.unit)
    if question is not None:
        raise RecordInvalid({"value": [question]})


def _record_dates(record: ClinicalRecord) -> dict[str, date | None]:
    """The dates of a record, by the form field that holds each."""
    if isinstance(record, LabResult):
        return {"collected": record.collected}
    if isinstance(record, Assessment):
        dates = {"date": record.date}
        if any(f.key == record.key and f.type == FactType.DATE for f in FACT_KEYS):
            dates["value"] = _as_date(record.value)
        return dates
    if isinstance(record, Therapy):
        return {"start": record.start, "last_dose": record.last_dose}
    if isinstance(record, ClinicalEvent):
        return {"date": record.date, "active_until": _as_date((record.details or {}).get("active_until"))}
    return {}


def _check_record_dates(participant: Participant, record: ClinicalRecord, today: date | None = None) -> None:
    """A record is not dated in the future (after `today`, default the local date), nor before the
    participant's birth."""
    dates = _record_dates(record)
    _not_in_future(today, **dates)
    born = participant.birth_date
    errors = {
        name: f"{value.isoformat()} is before the birth date {born.isoformat()}."
        for name, value in dates.items()
        if value is not None and born is not None and value < born
    }
    if errors:
        raise RecordInvalid(errors)


def _check_header_with_engine(participant: Participant, *, birth_changed: bool) -> None:
    """Key dates and demographics as the engine reads them (the span of dates it accepts), and a
    new birth date not after any of the participant's current records."""
    try:
        load_case(assemble(participant, timezone.localdate(), **no_records()))
    except CaseError as exc:
        errors: dict[str, list[str]] = {}
        for path, message in exc.errors:
            field = path.split("/")[-1] if path.split("/")[-1] in PARTICIPANT_CHANGEABLE else NON_FIELD_ERRORS
            errors.setdefault(field, []).append(_readable(message))
        raise RecordInvalid(errors) from None
    born = participant.birth_date
    if birth_changed and born is not None:
        for records in current_records(participant).values():
            for record in records:
                earlier = [d for d in _record_dates(record).values() if d is not None and d < born]
                if earlier:
                    raise RecordInvalid(
                        {
                            "birth_date": f"{born.isoformat()} is after a current record dated "
                            f"{min(earlier).isoformat()} ({record._meta.verbose_name})."
                        }
                    )


def _check_with_engine(
    participant: Participant,
    record: ClinicalRecord,
    replaced: ClinicalRecord | None,
    *,
    protocol_version: str | None = None,
) -> None:
    """Validate the record as the engine would read it, in a case holding the participant's header and
    this one record (all current facts, for a fact: they are checked together)."""
    parts = no_records()
    part = of(record).part
    if isinstance(record, Assessment):
        parts["assessments"] = [
            a
            for a in current_records(participant)["assessments"]
            if a.key != record.key and (replaced is None or a.pk != replaced.pk)
        ]
    parts[part].append(record)
    case = assemble(participant, timezone.localdate(), **parts, protocol_version=protocol_version)
    try:
        load_case(case)
    except CaseError as exc:
        errors: dict[str, list[str]] = {}
        for path, message in exc.errors:
            steps = [s for s in path.split("/") if s]
            field = steps[-1] if steps and not steps[-1].isdigit() else NON_FIELD_ERRORS
            if isinstance(record, Assessment):
                field = "value" if steps[:2] == ["facts", record.key] else NON_FIELD_ERRORS
            errors.setdefault(field, []).append(_readable(message))
        raise RecordInvalid(errors) from None


def _readable(message: str) -> str:
    return message[0].upper() + message[1:] if message else message


def _save_new(
    user: User,
    participant: Participant,
    record: ClinicalRecord,
    *,
    reason: str,
    replaced: ClinicalRecord | None = None,
    confirmed_low: bool = False,
) -> ClinicalRecord:
    record.full_clean(exclude=["participant", "entered_by", "supersedes"], validate_constraints=False)
    _check_record_dates(participant, record)
    _check_with_engine(participant, record, replaced)
    _check_plausible(record, confirmed_low)
    with pghistory.context(user=user.pk, reason=reason or f"{record._meta.verbose_name} recorded"):
        if replaced is not None:
            replaced.state = RecordState.SUPERSEDED
            replaced.save(update_fields=["state"])
            record.supersedes = replaced
            record.change_reason = reason
        record.participant = participant
        record.entered_by = user
        record.save()
        announce_change(participant.pk, reason=reason or f"{record._meta.verbose_name} recorded")
    return record


@transaction.atomic
def record_lab(
    user: User,
    participant: Participant,
    *,
    test: str,
    value: Decimal | str,
    collected: date,
    unit: str = "",
    uln: Decimal | None = None,
    specimen: str = "",
    confirmed_low: bool = False,
) -> LabResult:
    """Record a result; a count implausibly low for its unit needs `confirmed_low`."""
    participant = lock_participant(user, participant)
    lab = LabResult(
        test=test,
        value_number=value if isinstance(value, Decimal) else None,
        value_text=value if isinstance(value, str) else "",
        unit=unit,
        uln=uln,
        specimen=specimen,
        collected=collected,
    )
    return cast(LabResult, _save_new(user, participant, lab, reason="", confirmed_low=confirmed_low))


@transaction.atomic
def record_assessment(
    user: User,
    participant: Participant,
    *,
    key: str,
    value: Any,
    date: date | None = None,
    reason: str = "",
) -> Assessment:
    """Record a fact; if the fact already has a value, this is a correction and needs a reason."""
    participant = lock_participant(user, participant)
    current = Assessment.objects.filter(participant=participant, key=key, state=RecordState.CURRENT).first()
    if current is not None and not reason.strip():
        raise RecordInvalid({"reason": "This fact already has a value: give the reason for the change."})
    if isinstance(value, Decimal):
        value = str(value)  # exact in JSON; the case builder turns it back into a Decimal
    record = Assessment(key=key, value=value, date=date)
    return cast(Assessment, _save_new(user, participant, record, reason=reason, replaced=current))


class FactInvalid(RecordInvalid):
    """A refused fact of several recorded together; `key` names it."""

    def __init__(self, key: str, refused: RecordInvalid) -> None:
        super().__init__(refused.error_dict)
        self.key = key


@dataclass(frozen=True)
class FactEntry:
    key: str
    value: Any
    date: date | None = None


@transaction.atomic
def record_facts(
    user: User,
    participant: Participant,
    *,
    facts: Sequence[FactEntry],
    reason: str = "",
    shown: Mapping[str, Any] | None = None,
) -> list[Assessment]:
    """Record several facts at once, all or none; a fact that already has a value is corrected
    with `reason`. `shown`: the facts' state (`fact_state`) when the form was opened."""
    participant = lock_participant(user, participant)
    keys = [f.key for f in facts] if shown is None else sorted({f.key for f in facts} | set(shown))
    current = {
        a.key: a
        for a in Assessment.objects.filter(participant=participant, state=RecordState.CURRENT, key__in=keys)
    }
    _check_as_shown(shown, fact_state(current, keys))
    if any(f.key in current for f in facts) and not reason.strip():
        raise RecordInvalid({"reason": "A recorded value changes: give the reason for the change."})
    saved = []
    for fact in facts:
        try:
            saved.append(
                record_assessment(
                    user,
                    participant,
                    key=fact.key,
                    value=fact.value,
                    date=fact.date,
                    reason=reason if fact.key in current else "",
                )
            )
        except RecordInvalid as exc:
            raise FactInvalid(fact.key, exc) from None
    return saved


@transaction.atomic
def record_therapy(
    user: User,
    participant: Participant,
    *,
    agent: str,
    start: date,
    ongoing: bool,
    last_dose: date | None = None,
    agent_name: str = "",
    stopped_for_intolerance: bool = False,
    counts_as_immunosuppressant: bool | None = None,
) -> Therapy:
    participant = lock_participant(user, participant)
    therapy = Therapy(
        agent=agent,
        agent_name=agent_name,
        start=start,
        last_dose=last_dose,
        ongoing=ongoing,
        stopped_for_intolerance=stopped_for_intolerance,
        counts_as_immunosuppressant=counts_as_immunosuppressant,
    )
    return cast(Therapy, _save_new(user, participant, therapy, reason=""))


@transaction.atomic
def record_event(
    user: User,
    participant: Participant,
    *,
    kind: str,
    date: date,
    details: dict[str, Any] | None = None,
) -> ClinicalEvent:
    participant = lock_participant(user, participant)
    details = dict(details or {})
    event = ClinicalEvent(kind=kind, date=date, details=details)
    return cast(ClinicalEvent, _save_new(user, participant, event, reason=""))


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


@transaction.atomic
def confirm_history(user: User, participant: Participant, *, area: str) -> HistoryReview:
    """Confirm that a history area was taken in full; confirming it again changes nothing."""
    participant = lock_participant(user, participant)
    current = HistoryReview.objects.filter(
        participant=participant, area=area, state=RecordState.CURRENT
    ).first()
    if current is not None:
        return current
    return cast(HistoryReview, _save_new(user, participant, HistoryReview(area=area), reason=""))


@transaction.atomic
def confirm_histories(user: User, participant: Participant, *, areas: Sequence[str]) -> list[HistoryReview]:
    """Confirm several history areas at once, all or none."""
    return [confirm_history(user, participant, area=area) for area in areas]


@transaction.atomic
def correct_record(
    user: User, record: ClinicalRecord, *, reason: str, confirmed_low: bool = False, **changes: Any
) -> ClinicalRecord:
    """Replace a current record by a corrected copy; the old one stays, marked superseded. A lab
    value implausibly low for its unit needs `confirmed_low`, as in `record_lab`."""
    if not reason.strip():
        raise RecordInvalid({"reason": "Give the reason for the change."})
    participant = lock_participant(user, record.participant)
    model = type(record)
    old = model.objects.select_for_update().get(pk=record.pk)
    if old.state != RecordState.CURRENT:
        raise RecordInvalid({NON_FIELD_ERRORS: "Only a current record can be corrected."})
    allowed = of(old).correctable_fields
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValueError(f"cannot change {', '.join(sorted(unknown))} of a {model.__name__}")
    values = {name: getattr(old, name) for name in allowed} | changes
    if isinstance(values.get("value"), Decimal):
        values["value"] = str(values["value"])
    new = model(**values)
    return _save_new(user, participant, new, reason=reason, replaced=old, confirmed_low=confirmed_low)


@transaction.atomic
def void_record(user: User, record: ClinicalRecord, *, reason: str) -> ClinicalRecord:
    """Withdraw a record entered by mistake: it stays, marked voided with the reason."""
    if not reason.strip():
        raise RecordInvalid({"reason": "Give the reason for voiding this record."})
    participant = lock_participant(user, record.participant)
    old = type(record).objects.select_for_update().get(pk=record.pk)
    if old.state != RecordState.CURRENT:
        raise RecordInvalid({NON_FIELD_ERRORS: "Only a current record can be voided."})
    with pghistory.context(user=user.pk, reason=reason):
        old.state = RecordState.VOIDED
        old.voided_by = user
        old.voided_at = timezone.now()
        old.void_reason = reason
        old.save(update_fields=["state", "voided_by", "voided_at", "void_reason"])
        announce_change(participant.pk, reason=f"{old._meta.verbose_name} voided: {reason}")
    return old


PARTICIPANT_CHANGEABLE = (
    "initials",
    "lupus_nephritis",
    "sex",
    "birth_date",
    "screening_start",
    "icf_signed",
    "planned_enrollment",
    "planned_day0",
)


def _checked_initials(recorded: str, new: str) -> str:
    new = new.strip().upper()
    if recorded and not new:
        raise RecordInvalid({"initials": "Recorded initials cannot be removed: correct them instead."})
    if new and not re.fullmatch(INITIALS_PATTERN, new):
        raise RecordInvalid({"initials": "Initials are two to four letters, A to Z."})
    return new


@transaction.atomic
def update_participant(
    user: User,
    participant: Participant,
    *,
    reason: str,
    shown: Mapping[str, Any] | None = None,
    **changes: Any,
) -> Participant:
    """Change a participant's demographics or key dates. Setting an empty date for the first time
    needs no reason; changing a recorded value does. `shown`: the `participant_state` the form was
    opened with (refused if another save changed it since)."""
    locked = lock_participant(user, participant)
    unknown = set(changes) - set(PARTICIPANT_CHANGEABLE)
    if unknown:
        raise ValueError(f"cannot change {', '.join(sorted(unknown))} of a participant")
    _check_as_shown(shown, participant_state(locked))
    if "initials" in changes:
        changes["initials"] = _checked_initials(locked.initials, str(changes["initials"] or ""))
    changed = {k: v for k, v in changes.items() if getattr(locked, k) != v}
    if not changed:
        return locked
    # Blank initials (registered before they were asked) are unrecorded, like an empty date.
    overwrites = [k for k in changed if getattr(locked, k) not in (None, "")]
    for k, v in changed.items():
        setattr(locked, k, v)
    missing_reason = {"reason": ["Give the reason for changing a recorded value."]}
    check_key_dates(locked, errors=missing_reason if overwrites and not reason.strip() else None)
    locked.full_clean(exclude=["site", "created_by"], validate_unique=False)
    _check_header_with_engine(locked, birth_changed="birth_date" in changed)
    with pghistory.context(user=user.pk, reason=reason or "key dates recorded"):
        locked.save(update_fields=list(changed))
        announce_change(locked.pk, reason=reason or "key dates recorded")
    return locked


# --- Lab import -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabEntry:
    """One result of an import, for `record_lab`."""

    participant: Participant
    test: str
    value: Decimal | str
    collected: date
    unit: str = ""
    uln: Decimal | None = None
    specimen: str = ""
    confirmed_low: bool = False


class LabsRefused(Exception):
    """Some results of an import were refused (nothing was kept); `refused` maps each one's
    position to its error (RecordInvalid, PermissionDenied for a participant out of reach)."""

    def __init__(self, refused: dict[int, Exception]) -> None:
        super().__init__(f"{len(refused)} lab results refused")
        self.refused = refused


@transaction.atomic
def import_labs(user: User, entries: Sequence[LabEntry]) -> list[LabResult]:
    """Record every result or none, with the checks of `record_lab` (the browser's service) and in
    bulk, so that the cost grows with the rows and not faster: the participants are locked in one
    statement, each participant's new results are checked by the engine's loader in one case, the
    results are inserted with bulk_create (the history triggers fire per row), and the changed
    participants are announced once. Every refused result is reported, then the whole import is
    rolled back (no re-evaluation queued)."""
    ids = sorted({e.participant.pk for e in entries})
    locked = {
        p.pk: p
        for p in editable_participants(user).select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk")
    }
    today = timezone.localdate()
    versions = {site: protocol_version_in_force(site, today) for site in {p.site_id for p in locked.values()}}
    refused: dict[int, Exception] = {}
    labs: dict[int, list[tuple[int, LabResult]]] = defaultdict(list)
    for i, entry in enumerate(entries):
        participant = locked.get(entry.participant.pk)
        if participant is None:
            refused[i] = PermissionDenied("You may not change this participant's data.")
            continue
        lab = LabResult(
            participant=participant,
            entered_by=user,
            test=entry.test,
            value_number=entry.value if isinstance(entry.value, Decimal) else None,
            value_text=entry.value if isinstance(entry.value, str) else "",
            unit=entry.unit,
            uln=entry.uln,
            specimen=entry.specimen,
            collected=entry.collected,
        )
        try:
            lab.full_clean(exclude=["participant", "entered_by", "supersedes"], validate_constraints=False)
            _check_record_dates(participant, lab, today)
            _check_plausible(lab, entry.confirmed_low)
        except ValidationError as exc:
            refused[i] = exc
            continue
        labs[participant.pk].append((i, lab))
    for pk, items in labs.items():
        participant = locked[pk]
        version = versions[participant.site_id]
        try:  # one case holding all of the participant's new results: the usual, valid, path
            load_case(
                assemble(
                    participant,
                    today,
                    **(no_records() | {"labs": [lab for _, lab in items]}),
                    protocol_version=version,
                )
            )
        except CaseError:  # find the refused ones, each with the message record_lab would give
            for i, lab in items:
                try:
                    _check_with_engine(participant, lab, None, protocol_version=version)
                except ValidationError as exc:
                    refused[i] = exc
    if refused:
        raise LabsRefused(refused)
    created = [lab for items in labs.values() for _, lab in sorted(items)]
    with pghistory.context(user=user.pk, reason="lab result recorded"):
        LabResult.objects.bulk_create(created, batch_size=1000)
        announce_changes({pk: len(items) for pk, items in labs.items()}, reason="lab result recorded")
    return created


# --- The screening visit ----------------------------------------------------------------------


@dataclass(frozen=True)
class VisitLab:
    """One row of a blood draw: `record_lab`'s arguments without the participant and the date."""

    test: str
    value: Decimal | str
    unit: str = ""
    uln: Decimal | None = None
    specimen: str = ""
    confirmed_low: bool = False


@dataclass(frozen=True)
class VisitEntry:
    """What a screening visit records: one blood draw (its date, a row per test), facts (a changed
    recorded value needs `reason`; `shown`: their `fact_state` when the form was opened), therapy
    periods (`record_therapy`'s arguments) and history areas taken in full."""

    collected: date | None = None
    labs: Sequence[VisitLab] = ()
    facts: Sequence[FactEntry] = ()
    reason: str = ""
    shown: Mapping[str, Any] | None = None
    therapies: Sequence[Mapping[str, Any]] = ()
    areas: Sequence[str] = ()


class VisitRefused(Exception):
    """Some parts of a visit were refused; nothing was kept. `refused` maps each part ("lab:<test>",
    "facts", "therapy:<n>", "history") to its error, so the form puts every message by its field."""

    def __init__(self, refused: dict[str, Exception]) -> None:
        super().__init__(f"{len(refused)} parts of the visit refused")
        self.refused = refused


@dataclass(frozen=True)
class VisitSaved:
    labs: list[LabResult]
    facts: list[Assessment]
    therapies: list[Therapy]
    reviews: list[HistoryReview]

    def count(self) -> int:
        return len(self.labs) + len(self.facts) + len(self.therapies) + len(self.reviews)


@transaction.atomic
def record_visit(user: User, participant: Participant, entry: VisitEntry) -> VisitSaved:
    """Record a whole screening visit in one transaction, all or nothing. Each part goes through the
    service its own form uses (the same checks); every refused part is reported, then the whole
    visit is rolled back."""
    participant = lock_participant(user, participant)
    refused: dict[str, Exception] = {}
    labs: list[LabResult] = []
    if entry.labs and entry.collected is None:
        refused["collected"] = RecordInvalid({"collected": "Give the date of the blood draw."})
    for lab in entry.labs if entry.collected is not None else ():
        try:
            labs.append(
                record_lab(
                    user,
                    participant,
                    test=lab.test,
                    value=lab.value,
                    collected=entry.collected,
                    unit=lab.unit,
                    uln=lab.uln,
                    specimen=lab.specimen,
                    confirmed_low=lab.confirmed_low,
                )
            )
        except ValidationError as exc:
            refused[f"lab:{lab.test}"] = exc
    facts: list[Assessment] = []
    if entry.facts or entry.shown:
        try:
            facts = record_facts(user, participant, facts=entry.facts, reason=entry.reason, shown=entry.shown)
        except ValidationError as exc:
            refused["facts"] = exc
    therapies: list[Therapy] = []
    for i, therapy in enumerate(entry.therapies):
        try:
            therapies.append(record_therapy(user, participant, **therapy))
        except ValidationError as exc:
            refused[f"therapy:{i}"] = exc
    reviews: list[HistoryReview] = []
    try:
        reviews = confirm_histories(user, participant, areas=entry.areas)
    except ValidationError as exc:
        refused["history"] = exc
    if refused:
        raise VisitRefused(refused)
    return VisitSaved(labs, facts, therapies, reviews)


def entry_warnings(participant: Participant, records: Iterable[ClinicalRecord]) -> list[str]:
    """What a save of these unsaved records would refuse or ask about, said before saving: dates in
    the future or before birth, and counts implausibly low for their unit."""
    today = timezone.localdate()
    born = participant.birth_date
    warnings: list[str] = []
    for record in records:
        label = _record_label(record)
        for value in _record_dates(record).values():
            if value is not None and value > today:
                warnings.append(f"{label}: {value.isoformat()} is in the future.")
            elif value is not None and born is not None and value < born:
                warnings.append(f"{label}: {value.isoformat()} is before the birth date {born.isoformat()}.")
        if isinstance(record, LabResult) and record.value_number is not None:
            question = implausible(record.test, record.value_number, record.unit)
            if question is not None:
                warnings.append(f"{label}: {next(iter(question))}")
    return warnings


def _record_label(record: ClinicalRecord) -> str:
    if isinstance(record, LabResult):
        test = LAB_TESTS_BY_KEY.get(record.test)
        return test.label if test is not None else record.test
    if isinstance(record, Assessment):
        fact = FACT_KEYS_BY_KEY.get(record.key)
        return fact.meaning if fact is not None else record.key
    if isinstance(record, Therapy):
        return record.agent_name or record.agent.replace("_", " ")
    if isinstance(record, ClinicalEvent):
        return record.kind.replace("_", " ")
    return str(record._meta.verbose_name)


def record_service(kind: str) -> Callable[..., Any]:
    """The service that records a record kind's form entry (the registry names it)."""
    service: Callable[..., Any] = globals()[RECORD_KINDS[kind].service_name]
    return service


# --- Re-screening ---------------------------------------------------------------------------------


def undated_history(participant: Participant) -> list[Assessment]:
    """The participant's current undated facts (history flags, statements): what a re-screening may
    copy, item by item, once the coordinator confirms each. Dated records never carry over."""
    return list(
        Assessment.objects.filter(participant=participant, state=RecordState.CURRENT, date__isnull=True)
        .order_by("key")
    )


@transaction.atomic
def register_rescreen(user: User, earlier: Participant, *, copy: Sequence[int] = ()) -> Participant:
    """A new screening attempt of the candidate of `earlier` (which the evaluation layer has found
    screen failed and within the protocol's re-screening cap): the same site, sequence, cohort,
    stratum, sex and birth date, numbered `<number>-R<attempt>`, linked to `earlier`, with no
    dated data. `copy` names undated facts of `earlier` (undated_history) that the coordinator
    confirmed one by one; each is recorded anew on the new attempt."""
    earlier = lock_participant(user, earlier)
    if Participant.objects.filter(previous_attempt=earlier).exists():
        raise ValidationError("This attempt has been re-screened already: re-screen the latest attempt.")
    if not Membership.objects.filter(
        user=user, site_id=earlier.site_id, role__in=[Role.COORDINATOR, Role.INVESTIGATOR]
    ).exists():
        raise PermissionDenied("Only the site's coordinators and investigators re-screen its participants.")
    offered = {a.pk: a for a in undated_history(earlier)}
    unknown = [pk for pk in copy if pk not in offered]
    if unknown:
        raise ValidationError("Only the earlier attempt's current undated history can be copied.")
    first_number = earlier.screening_number.split("-R")[0] if earlier.attempt else earlier.screening_number
    attempt = earlier.attempt + 1
    participant = Participant(
        site_id=earlier.site_id,
        screening_sequence=earlier.screening_sequence,
        screening_number=f"{first_number}-R{attempt}",
        attempt=attempt,
        previous_attempt=earlier,
        cohort=earlier.cohort,
        lupus_nephritis=earlier.lupus_nephritis,
        sex=earlier.sex,
        birth_date=earlier.birth_date,
        initials=earlier.initials,
        created_by=user,
    )
    reason = f"re-screening of {earlier.screening_number}"
    with pghistory.context(user=user.pk, reason=reason):
        participant.save(force_insert=True)
        for pk in copy:
            source = offered[pk]
            Assessment.objects.create(
                participant=participant, key=source.key, value=source.value, date=None, entered_by=user
            )
    detail = f"; {len(copy)} undated item(s) copied from it, each confirmed" if copy else ""
    announce_change(participant.pk, reason=reason + detail)
    return participant
