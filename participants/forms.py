"""Forms of the site: log-in, registration, key dates and one form per record type.

The record forms check shape only (types, required fields, choices, the vocabulary's units and
bounds); eligibility is the engine's business, and what may be recorded (key-date order, a low
count's confirmation, a stale form) the services'. The services validate each record again as the
engine reads it and their errors land next to the field they name. Each record form offers the
views the same methods (RecordFormMixin), so that they handle every kind of participants.records
alike."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, cast

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Fieldset, Layout, Submit
from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from participants.case_builder import exact
from participants.labels import humanize
from screening.criteria.vocabulary import (
    BILAG_DOMAINS,
    EVENT_KINDS_BY_KIND,
    FACT_KEYS_BY_KEY,
    IMPLAUSIBLE_BELOW,
    LAB_TESTS,
    LAB_TESTS_BY_KEY,
    THERAPY_AGENTS,
    UNIT_ALIASES,
    FactKey,
    FactType,
    LabTest,
    UlnRule,
    ValueKind,
)

from .date_fields import IsoDateField
from .intake import (
    EventField,
    FactGroup,
    area_label,
    areas_for,
    event_fields,
    facts_for,
    group_facts,
    group_label,
    kinds_for,
    unit_label,
)
from .models import (
    INITIALS_PATTERN,
    Assessment,
    ClinicalEvent,
    ClinicalRecord,
    Cohort,
    DuplicateCheck,
    HistoryReview,
    LabResult,
    Participant,
    Sex,
    Therapy,
)
from .number_fields import AsciiDecimalField, AsciiIntegerField, range_messages
from .records import RECORD_KINDS
from .selectors import confirmed_areas, current_facts, site_lab_units
from .services import (
    KEY_DATES,
    FactEntry,
    NotSamePerson,
    StaleForm,
    fact_state,
    implausible,
    participant_state,
)


class LoginForm(AuthenticationForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Log in", css_class="w-100"))
        self.fields["username"].widget.attrs.update({"autofocus": True, "autocomplete": "username"})


class SignatureFields(forms.Form):
    """What an electronic signature asks (EAC decisions, the investigator's checklist): the
    password again and the second factor's code (participants.second_factor.verify_signature)."""

    password = forms.CharField(
        label="Your password (electronic signature)",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        strip=False,
    )
    code = forms.CharField(
        label="Code from your authenticator app (second factor)",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        max_length=8,
    )


def date_field(label: str, *, required: bool = True, help_text: str = "") -> forms.DateField:
    return IsoDateField(label=label, required=required, help_text=help_text)


class UnitChoiceField(forms.ChoiceField):
    """One option per unit; another spelling of an offered unit (a UCUM alias) is read as it."""

    def to_python(self, value: Any) -> str:
        text = super().to_python(value)
        return UNIT_ALIASES.get(text, text)


YES_NO = [("yes", "Yes"), ("no", "No")]


def yes_no_field(label: str, *, required: bool = False, help_text: str = "") -> forms.TypedChoiceField:
    """Yes / No radios; unanswered stays unrecorded (never read as No)."""
    return forms.TypedChoiceField(
        label=label,
        choices=YES_NO,
        coerce=lambda v: v == "yes",
        empty_value=None,
        required=required,
        widget=forms.RadioSelect,
        help_text=help_text,
    )


def as_yes_no(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def add_service_errors(
    form: forms.Form, exc: ValidationError, names: Mapping[str, str] | None = None
) -> None:
    """Put a RecordInvalid's messages next to the fields they name (case-format names, renamed by
    `names` where the form calls them otherwise); unknown names go to the top of the form."""
    names = names or {}
    errors = exc.error_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.error_list}
    for key, found in errors.items():
        name = names.get(key, key)
        form.add_error(name if name in form.fields else None, [_worded(e) for e in found])


def _worded(error: ValidationError) -> str:
    """A service's message as the form says it: the form's own way to confirm a low count."""
    message = next(iter(error))
    if error.code == "implausible_low":
        message += "; if the value is right, tick the box below."
    return message


@dataclass
class RecordEntry:
    """A record form and what the page shows around it."""

    title: str
    form: Any = None  # None: the user first chooses what to enter (test, fact group, event kind)
    chooser_name: str = ""
    chooser_label: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    selected: str = ""
    kind: Any = None  # the RecordKind, set by the view
    correcting_text: str = ""


class RecordFormMixin:
    """What every record form gives the views: the kind's service arguments, the changes of a
    correction, the unsaved records for the preview, and the services' errors put back on it.

    `open` builds the form of a kind for a participant: `params` (the query string or the posted
    data) says which test, fact group, fact or event kind; `record` is the record being corrected."""

    service_names: Mapping[str, str] = {}

    @classmethod
    def open(
        cls, participant: Participant, params: Mapping[str, Any], data: Any, record: ClinicalRecord | None
    ) -> RecordEntry:
        raise NotImplementedError

    def arguments(self) -> dict[str, Any]:
        """The keyword arguments of the kind's service (participants.records)."""
        raise NotImplementedError

    def correction(self) -> dict[str, Any]:
        """The keyword arguments of services.correct_record, the reason apart."""
        raise NotImplementedError

    def unsaved(self) -> list[ClinicalRecord]:
        raise NotImplementedError

    def replaced_keys(self) -> list[str]:
        return []

    def questions(self) -> list[str]:
        """What the service would ask before saving this entry, for the live preview."""
        return []

    def saved_text(self) -> str:
        raise NotImplementedError

    def add_service_errors(self, exc: ValidationError) -> None:
        add_service_errors(self, exc, self.service_names)  # type: ignore[arg-type]


class ReasonMixin:
    """Adds the reason for change that a correction of a recorded value needs."""

    fields: dict[str, forms.Field]

    def add_reason(self, *, required: bool, label: str = "Reason for change") -> None:
        self.fields["reason"] = forms.CharField(
            label=label,
            max_length=500,
            required=required,
            widget=forms.Textarea(attrs={"rows": 2}),
            help_text="Kept in the audit trail with the old and the new value.",
        )


class ShownStateMixin:
    """Guards a form that shows several recorded values against a lost update: it carries the state
    it was opened with (a hidden field) and hands it to the service, which refuses the save if
    another save changed any of those values (services.StaleForm); those fields are then reset to
    the current values and the user is told which ones changed. A save then overwrites only what
    the user saw."""

    SHOWN = "shown_state"
    fields: dict[str, forms.Field]
    initial: dict[str, Any]
    data: Any
    is_bound: bool

    def shown_state(self) -> dict[str, str]:
        """The recorded values the form shows, by key (absent: nothing recorded)."""
        raise NotImplementedError

    def fields_of(self, key: str) -> list[str]:
        return [key]

    def label_of(self, key: str) -> str:
        return humanize(key)

    def add_shown_state(self) -> None:
        self.fields[self.SHOWN] = forms.CharField(
            widget=forms.HiddenInput, required=False, initial=json.dumps(self.shown_state(), sort_keys=True)
        )

    def _posted_state(self) -> dict[str, Any] | None:
        """The state the form was opened with; None for a post not from this form (not checked)."""
        posted = self.add_prefix(self.SHOWN)  # type: ignore[attr-defined]
        if not self.is_bound or posted not in self.data:
            return None
        try:
            shown = json.loads(self.data.get(posted) or "{}")
        except (ValueError, RecursionError):  # RecursionError: deeply nested JSON
            return {}
        return shown if isinstance(shown, dict) else {}

    def shown(self) -> dict[str, Any] | None:
        """The state the form was opened with, for the service's stale-form check (None: a post
        not from this form, not checked; a tampered state counts as changed)."""
        return self._posted_state()

    def show_conflict(self, changed: list[str]) -> None:
        """The service refused a stale form: reset the changed fields to the current values and
        say which ones changed, so that the user checks them and saves again."""
        current = self.shown_state()
        data = self.data.copy()
        prefixed = self.add_prefix  # type: ignore[attr-defined]
        for key in changed:
            for name in self.fields_of(key):
                value = self.initial.get(name)
                data[prefixed(name)] = "" if value is None else str(value)
        data[prefixed(self.SHOWN)] = json.dumps(current, sort_keys=True)
        self.data = data
        self.add_error(None, self.conflict_message(changed))  # type: ignore[attr-defined]

    def add_service_errors(self, exc: ValidationError) -> None:
        if isinstance(exc, StaleForm):
            self.show_conflict(exc.changed)
        else:
            add_service_errors(self, exc, getattr(self, "service_names", None))  # type: ignore[arg-type]

    def conflict_message(self, changed: list[str]) -> str:
        return (
            "Since you opened this form, another save changed: "
            + ", ".join(self.label_of(k) for k in changed)
            + ". Nothing was saved. Those fields now show the current values: check them, then save again."
        )


# --- Participant --------------------------------------------------------------------------------


class ParticipantFormBase(forms.Form):
    lupus_nephritis = yes_no_field(
        "Lupus nephritis stratum",
        help_text="SLE only: active lupus nephritis (whichever criterion qualifies it).",
    )
    sex = forms.ChoiceField(label="Sex assigned at birth", choices=Sex.choices, widget=forms.RadioSelect)
    birth_date = date_field("Date of birth")
    screening_start = date_field("Screening start", required=False, help_text="First screening visit.")
    icf_signed = date_field(
        "ICF signed", required=False, help_text="Date the informed consent form was signed."
    )
    planned_enrollment = date_field("Planned enrollment", required=False)
    planned_day0 = date_field("Planned Day 0", required=False, help_text="Planned ALLO-329 dosing.")

    def chosen_cohort(self) -> str:
        raise NotImplementedError

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cohort = self.chosen_cohort()
        if cohort == Cohort.SLE and cleaned.get("lupus_nephritis") is None:
            if "lupus_nephritis" not in self.errors:
                self.add_error("lupus_nephritis", "Choose the SLE stratum: with or without lupus nephritis.")
        elif cohort and cohort != Cohort.SLE:
            cleaned["lupus_nephritis"] = None
        return cleaned

    def layout_fields(self) -> list[Any]:
        return [
            Fieldset(
                "Participant",
                InlineRadios("sex"),
                Div(InlineRadios("lupus_nephritis"), css_id="ln-stratum"),
                Field("birth_date", wrapper_class="col-md-4"),
            ),
            Fieldset(
                "Key dates",
                Div(
                    *(Div(Field(n), css_class="col-md-3") for n in KEY_DATES),
                    css_class="row",
                ),
            ),
        ]


def initials_field(*, required: bool) -> forms.CharField:
    return forms.CharField(
        label="Initials",
        min_length=2,
        max_length=4,
        required=required,
        help_text="2 to 4 letters (first and last name); used only to find possible duplicates.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "text-uppercase"}),
    )


def clean_initials(value: str) -> str:
    value = value.strip().upper()
    if value and not re.fullmatch(INITIALS_PATTERN, value):
        raise ValidationError("Use 2 to 4 letters, A to Z, without dots or spaces.")
    return value


class RegisterForm(ParticipantFormBase):
    field_order = ["cohort", "lupus_nephritis", "initials", "sex", "birth_date", *KEY_DATES]
    cohort = forms.ChoiceField(label="Cohort", choices=Cohort.choices, widget=forms.RadioSelect)
    initials = initials_field(required=True)
    # The answer to a possible duplicate, rendered by the page's warning (not in the layout).
    duplicate_check = forms.IntegerField(required=False, widget=forms.HiddenInput)
    not_same_person_reason = forms.CharField(
        label="Why this is not the same person",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    ANSWER = ("duplicate_check", "not_same_person_reason")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        first = Fieldset("Cohort", InlineRadios("cohort"))
        fields = self.layout_fields()
        fields[0] = Fieldset(
            "Participant",
            Field("initials", wrapper_class="col-md-3"),
            InlineRadios("sex"),
            Div(InlineRadios("lupus_nephritis"), css_id="ln-stratum"),
            Field("birth_date", wrapper_class="col-md-4"),
        )
        self.helper.layout = Layout(first, *fields)

    def clean_initials(self) -> str:
        return clean_initials(self.cleaned_data.get("initials", ""))

    def chosen_cohort(self) -> str:
        return str(self.cleaned_data.get("cohort", ""))

    def registration(self) -> dict[str, Any]:
        """The registration's data, for services.register_participant."""
        return {k: v for k, v in self.cleaned_data.items() if k not in self.ANSWER}

    def answer(self) -> NotSamePerson | None:
        check = self.cleaned_data.get("duplicate_check")
        if check is None:
            return None
        return NotSamePerson(check, self.cleaned_data.get("not_same_person_reason", ""))

    def showing(self, check: DuplicateCheck) -> None:
        """Show the form again answering `check`: its id travels with the next submission."""
        data = self.data.copy()
        data["duplicate_check"] = str(check.pk)
        self.data = data


class EditParticipantForm(ShownStateMixin, ReasonMixin, ParticipantFormBase):
    initials = initials_field(required=False)

    def __init__(self, participant: Participant, *args: Any, **kwargs: Any) -> None:
        self.participant = participant
        initial = {
            "initials": participant.initials,
            "lupus_nephritis": as_yes_no(participant.lupus_nephritis),
            "sex": participant.sex,
            "birth_date": participant.birth_date,
            **{n: getattr(participant, n) for n in KEY_DATES},
        } | (kwargs.pop("initial", None) or {})
        super().__init__(*args, initial=initial, **kwargs)
        if participant.cohort != Cohort.SLE:
            del self.fields["lupus_nephritis"]
        self.add_reason(required=False)
        self.fields["reason"].help_text = "Needed when a recorded value changes; kept in the audit trail."
        self.add_shown_state()
        self.helper = FormHelper()
        self.helper.form_tag = False
        fields = self.layout_fields()
        stratum = [Div(InlineRadios("lupus_nephritis"), css_id="ln-stratum")] if participant.cohort == Cohort.SLE else []
        fields[0] = Fieldset(
            "Participant",
            Field("initials", wrapper_class="col-md-3"),
            InlineRadios("sex"),
            *stratum,
            Field("birth_date", wrapper_class="col-md-4"),
        )
        self.helper.layout = Layout(*fields, Field("reason"), self.SHOWN)

    def clean_initials(self) -> str:
        return clean_initials(self.cleaned_data.get("initials", ""))

    def chosen_cohort(self) -> str:
        return str(self.participant.cohort)

    def changes(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k not in ("reason", self.SHOWN)}

    def shown_state(self) -> dict[str, str]:
        return participant_state(self.participant)


# --- Lab results --------------------------------------------------------------------------------


class LabForm(RecordFormMixin, ReasonMixin, forms.Form):
    """A result of one test; the test decides the value's form, the units, ULN and specimen."""

    def __init__(
        self,
        test: LabTest,
        *args: Any,
        correcting: bool = False,
        unit: str = "",
        in_visit: bool = False,
        **kwargs: Any,
    ) -> None:
        """`unit`: the site's usual unit of the test, pre-selected. `in_visit`: a row of the visit
        form, without a date of its own: the visit sets `row_collected`, its blood draw's date."""
        super().__init__(*args, **kwargs)
        self.test = test
        self.in_visit = in_visit
        self.row_collected: date | None = None
        numeric = test.value_kind in (ValueKind.NUMERIC, ValueKind.BOTH)
        qualitative = test.value_kind in (ValueKind.QUALITATIVE, ValueKind.BOTH)
        self.fields["test"] = forms.CharField(widget=forms.HiddenInput, initial=test.key, required=False)
        layout: list[Any] = ["test"]
        if qualitative:
            choices = [(v, humanize(v)) for v in test.qualitative_values]
            self.fields["value_text"] = forms.ChoiceField(
                label="Result" if not numeric else "Qualitative result",
                choices=choices,
                required=not numeric,
                widget=forms.RadioSelect,
                help_text="Or give the numeric value below." if numeric else "",
            )
            layout.append(InlineRadios("value_text"))
        if numeric:
            self.fields["value_number"] = AsciiDecimalField(
                label="Numeric value" if qualitative else "Value",
                required=not qualitative,
                min_value=Decimal(0),
                max_digits=20,
                decimal_places=8,
                localize=False,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
                error_messages={
                    "invalid": "Enter a number, such as 2100 or 11.2.",
                    **range_messages(0, None),
                },
            )
            if test.units:
                offered = test.offered_units
                self.fields["unit"] = UnitChoiceField(
                    label="Unit",
                    choices=[("", "— choose the unit on the report —")]
                    + [(u, unit_label(u)) for u in offered],
                    required=not qualitative,
                    initial=unit or (offered[0] if len(offered) == 1 else ""),
                    error_messages={"required": "Choose the unit of the value."},
                )
            else:
                self.fields["unit"] = forms.CharField(
                    label="Unit",
                    max_length=20,
                    required=not qualitative,
                    initial=unit,
                    error_messages={"required": "Give the unit of the value, as on the report."},
                    help_text="As on the report (e.g. U/L, mg/L, IU/mL); only value ÷ ULN is compared.",
                )
            row = [Div(Field("value_number"), css_class="col-md-4"), Div(Field("unit"), css_class="col-md-4")]
            if test.uln is not UlnRule.FORBIDDEN:
                self.fields["uln"] = AsciiDecimalField(
                    label="ULN" + (" (optional)" if test.uln is UlnRule.OPTIONAL else ""),
                    # Marked required where every result needs it; with a qualitative result
                    # possible instead, clean() asks for it once a number is given.
                    required=test.uln is UlnRule.REQUIRED and not qualitative,
                    min_value=Decimal(0),
                    max_digits=20,
                    decimal_places=8,
                    widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
                    help_text="The laboratory's upper limit of normal, in the same unit.",
                    error_messages={
                        "invalid": "Enter a number.",
                        "required": "This test is compared to its upper limit of normal: give the ULN.",
                        **range_messages(0, None),
                    },
                )
                row.append(Div(Field("uln"), css_class="col-md-4"))
            layout.append(Div(*row, css_class="row"))
        if test.specimen_required:
            self.fields["specimen"] = forms.ChoiceField(
                label="Specimen", choices=[("urine", "Urine"), ("serum", "Serum")], widget=forms.RadioSelect
            )
            layout.append(InlineRadios("specimen"))
        if not in_visit:
            self.fields["collected"] = date_field(
                "Collection date", help_text="The date the specimen was taken."
            )
            layout.append(Field("collected", wrapper_class="col-md-4"))
        if test.key in IMPLAUSIBLE_BELOW:
            self.fields["value_checked"] = forms.BooleanField(
                label="I have checked this unusually low value and its unit against the report",
                required=False,
            )
            layout.append(Field("value_checked"))
        if correcting:
            self.add_reason(required=True)
            layout.append("reason")
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(*layout)

    def has_changed(self) -> bool:
        """A visit row counts as entered once it has a value or a ULN: a unit pre-selected from the
        site's setting, or a specimen, alone is no entry."""
        if not self.in_visit:
            return super().has_changed()
        return any(
            str(self[name].data or "").strip()
            for name in ("value_number", "value_text", "uln")
            if name in self.fields
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        number, text = cleaned.get("value_number"), cleaned.get("value_text")
        if "value_number" in self.fields and "value_text" in self.fields:
            if number is not None and text:
                self.add_error(
                    "value_text", "Give either the numeric value or the qualitative result, not both."
                )
            elif number is None and not text and not self.errors.get("value_number"):
                self.add_error("value_number", "Give the numeric value or the qualitative result.")
        if number is not None:
            if not cleaned.get("unit") and "unit" not in self.errors:
                self.add_error("unit", "Choose the unit of the value.")
            if self.test.uln is UlnRule.REQUIRED and cleaned.get("uln") is None and "uln" not in self.errors:
                self.add_error("uln", "This test is compared to its upper limit of normal: give the ULN.")
        return cleaned

    def values(self) -> dict[str, Any]:
        """The record_lab arguments."""
        c = self.cleaned_data
        number = c.get("value_number")
        return {
            "test": self.test.key,
            "value": number if number is not None else c.get("value_text", ""),
            "unit": c.get("unit", "") if number is not None else "",
            "uln": c.get("uln") if number is not None else None,
            "specimen": c.get("specimen", ""),
            "collected": self.row_collected if self.in_visit else c["collected"],
        }

    def _confirmed_low(self) -> bool:
        return bool(self.cleaned_data.get("value_checked"))

    def _record_fields(self) -> dict[str, Any]:
        """The LabResult's fields."""
        v = self.values()
        value = v.pop("value")
        return v | {
            "value_number": value if isinstance(value, Decimal) else None,
            "value_text": value if isinstance(value, str) else "",
        }

    def arguments(self) -> dict[str, Any]:
        return self.values() | {"confirmed_low": self._confirmed_low()}

    def correction(self) -> dict[str, Any]:
        return self._record_fields() | {"confirmed_low": self._confirmed_low()}

    def as_record(self) -> LabResult:
        return LabResult(**self._record_fields())

    def unsaved(self) -> list[ClinicalRecord]:
        return [self.as_record()]

    def questions(self) -> list[str]:
        number = self.cleaned_data.get("value_number")
        if number is None or self._confirmed_low():
            return []
        question = implausible(self.test.key, number, self.cleaned_data.get("unit", ""))
        return [] if question is None else [_worded(question)]

    def saved_text(self) -> str:
        return f"{self.test.key} result recorded"

    @classmethod
    def open(
        cls, participant: Participant, params: Mapping[str, Any], data: Any, record: ClinicalRecord | None
    ) -> RecordEntry:
        key = record.test if isinstance(record, LabResult) else str(params.get("test", ""))
        entry = RecordEntry(
            "Lab result",
            chooser_name="test",
            chooser_label="Test",
            selected=key,
            choices=[(t.key, t.label) for t in LAB_TESTS],
        )
        test = LAB_TESTS_BY_KEY.get(key)
        if test is not None:
            initial = cls.initial_from(record) if isinstance(record, LabResult) else None
            unit = "" if record is not None else site_lab_units(participant).get(test.key, "")
            entry.form = cls(test, data, initial=initial, correcting=record is not None, unit=unit)
            entry.title = f"Lab result: {test.label}"
        return entry

    @staticmethod
    def initial_from(lab: LabResult) -> dict[str, Any]:
        return {
            "value_number": exact(lab.value_number) if lab.value_number is not None else None,
            "value_text": lab.value_text,
            "unit": UNIT_ALIASES.get(lab.unit, lab.unit),
            "uln": exact(lab.uln) if lab.uln is not None else None,
            "specimen": lab.specimen,
            "collected": lab.collected,
        }

    service_names = {"value": "value_number"}


# --- Facts --------------------------------------------------------------------------------------


def fact_value_field(fact: FactKey) -> forms.Field:
    label = fact.meaning
    if fact.type is FactType.BOOL:
        return yes_no_field(label)
    if fact.type is FactType.INT:
        return AsciiIntegerField(
            label=label,
            required=False,
            min_value=fact.minimum,
            max_value=fact.maximum,
            widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
            error_messages={"invalid": "Enter a whole number.", **range_messages(fact.minimum, fact.maximum)},
        )
    if fact.type is FactType.DECIMAL:
        return AsciiDecimalField(
            label=label,
            required=False,
            min_value=fact.minimum,
            max_value=fact.maximum,
            max_digits=12,
            decimal_places=4,
            widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
            error_messages={"invalid": "Enter a number.", **range_messages(fact.minimum, fact.maximum)},
        )
    if fact.type is FactType.ENUM:
        return forms.ChoiceField(
            label=label,
            required=False,
            choices=[("", "— not recorded —")] + [(c, humanize(c)) for c in fact.choices],
        )
    if fact.type is FactType.DATE:
        return date_field(label, required=False, help_text="If only the month or year is known: the 1st.")
    raise ValueError(fact.type)


def bilag_name(domain: str) -> str:
    return f"bilag2004__{domain}"


class FactForm(ShownStateMixin, RecordFormMixin, ReasonMixin, forms.Form):
    """The facts `facts` with their current values; a changed recorded value needs a reason.
    Field names: the fact key; `<key>__date` for a dated fact's date; BILAG `bilag2004__<domain>`."""

    require_change = True  # False in the visit form, where the facts are one part of several

    def __init__(
        self,
        facts: Iterable[FactKey],
        current: Mapping[str, Assessment],
        *args: Any,
        title: str = "",
        correcting: bool = False,
        **kwargs: Any,
    ) -> None:
        self.facts = list(facts)
        self.current = current
        initial: dict[str, Any] = {}
        for fact in self.facts:
            a = current.get(fact.key)
            if a is None:
                continue
            if fact.type is FactType.BILAG:
                for d in BILAG_DOMAINS:
                    initial[bilag_name(d)] = (a.value or {}).get(d)
            elif fact.type is FactType.BOOL:
                initial[fact.key] = as_yes_no(a.value)
            else:
                initial[fact.key] = a.value
            if fact.dated:
                initial[f"{fact.key}__date"] = a.date
        initial |= kwargs.pop("initial", None) or {}
        super().__init__(*args, initial=initial, **kwargs)
        layout: list[Any] = []
        self.fact_items: dict[str, Any] = {}  # each fact's layout, for a form that groups them
        for fact in self.facts:
            items: list[Any] = []
            if fact.type is FactType.BILAG:
                for d in BILAG_DOMAINS:
                    self.fields[bilag_name(d)] = forms.ChoiceField(
                        label=humanize(d),
                        required=False,
                        choices=[("", "—")] + [(g, g) for g in "ABCDE"],
                    )
                items.append(
                    Div(
                        *(
                            Div(Field(bilag_name(d)), css_class="col-6 col-md-4 col-xl")
                            for d in BILAG_DOMAINS
                        ),
                        css_class="row",
                    )
                )
            else:
                self.fields[fact.key] = fact_value_field(fact)
                items.append(
                    InlineRadios(fact.key)
                    if fact.type is FactType.BOOL
                    else Field(
                        fact.key, wrapper_class="col-md-6" if fact.type is FactType.ENUM else "col-md-4"
                    )
                )
            if fact.dated:
                self.fields[f"{fact.key}__date"] = date_field(
                    "Assessment date", required=False, help_text="The date of this screening assessment."
                )
                items.append(Field(f"{fact.key}__date", wrapper_class="col-md-4"))
            if fact.type is FactType.BILAG:
                item = Fieldset(fact.meaning, *items, css_class="fact border-bottom pb-2 mb-3")
            else:
                item = Div(*items, css_class="fact border-bottom pb-2 mb-3")
            self.fact_items[fact.key] = item
            layout.append(item)
        self.add_reason(required=correcting)
        if not correcting:
            self.fields["reason"].help_text = "Needed only when you change a value already recorded."
        layout.append("reason")
        self.add_shown_state()
        layout.append(self.SHOWN)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(*layout)

    def shown_state(self) -> dict[str, str]:
        return fact_state(self.current, (f.key for f in self.facts))

    def fields_of(self, key: str) -> list[str]:
        # A key the form no longer shows (the group changed with sex or stratum): nothing to reset.
        fact = next((f for f in self.facts if f.key == key), None)
        if fact is None:
            return []
        names = [bilag_name(d) for d in BILAG_DOMAINS] if fact.type is FactType.BILAG else [key]
        return names + ([f"{key}__date"] if fact.dated else [])

    def label_of(self, key: str) -> str:
        fact = next((f for f in self.facts if f.key == key), None)
        return fact.meaning if fact is not None else humanize(key)

    def _value(self, fact: FactKey) -> Any:
        c = self.cleaned_data
        if fact.type is FactType.BILAG:
            grades = {d: c.get(bilag_name(d)) for d in BILAG_DOMAINS}
            return grades if any(grades.values()) else None
        value = c.get(fact.key)
        if value in ("", None):
            return None
        if isinstance(value, date):
            return value.isoformat()
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        for fact in self.facts:
            value = self._value(fact)
            when = cleaned.get(f"{fact.key}__date") if fact.dated else None
            first = bilag_name(BILAG_DOMAINS[0]) if fact.type is FactType.BILAG else fact.key
            a = self.current.get(fact.key)
            if value is None:
                if a is not None:
                    self.add_error(first, "To withdraw a recorded value, void it on the records page.")
                elif when is not None:
                    self.add_error(first, "Give the value assessed on that date.")
                continue
            if fact.type is FactType.BILAG and not all(value.values()):
                self.add_error(first, "Grade all nine BILAG-2004 domains (A–E).")
            if fact.dated and when is None:
                self.add_error(f"{fact.key}__date", "Give the date of this assessment.")
        if self.require_change and not self.errors and not self.changes():
            self.add_error(None, "Nothing to save: enter or change at least one value.")
        return cleaned

    def changes(self) -> list[tuple[FactKey, Any, date | None, Assessment | None]]:
        """(fact, value, date, current record) of every new or changed value, in vocabulary order."""
        out = []
        for fact in self.facts:
            value = self._value(fact)
            if value is None:
                continue
            when = self.cleaned_data.get(f"{fact.key}__date") if fact.dated else None
            a = self.current.get(fact.key)
            if a is None or a.value != _stored(value) or a.date != when:
                out.append((fact, value, when, a))
        return out

    def as_records(self) -> list[Assessment]:
        return [Assessment(key=f.key, value=_stored(v), date=d) for f, v, d, _ in self.changes()]

    def arguments(self) -> dict[str, Any]:
        return {
            "facts": [FactEntry(f.key, v, d) for f, v, d, _ in self.changes()],
            "reason": self.cleaned_data.get("reason", ""),
            "shown": self.shown(),
        }

    def correction(self) -> dict[str, Any]:
        _, value, when, _ = self.changes()[0]  # clean() refuses a form that changes nothing
        return {"value": value, "date": when}

    def unsaved(self) -> list[ClinicalRecord]:
        return list(self.as_records())

    def replaced_keys(self) -> list[str]:
        return [a.key for a in self.as_records()]

    def saved_text(self) -> str:
        reason = self.cleaned_data.get("reason", "")
        keys = ", ".join(f.key for f, *_ in self.changes()) or "nothing changed"
        return f"assessments recorded ({keys})" + (f": {reason}" if reason else "")

    def add_service_errors(self, exc: ValidationError) -> None:
        key = getattr(exc, "key", None)
        if key is None and len(self.facts) == 1:  # a correction of one fact
            key = self.facts[0].key
        if key is None or isinstance(exc, StaleForm):
            super().add_service_errors(exc)
            return
        for name, found in exc.error_dict.items():
            self.add_error(self.field_for(key, name), [_worded(e) for e in found])

    @classmethod
    def open(
        cls, participant: Participant, params: Mapping[str, Any], data: Any, record: ClinicalRecord | None
    ) -> RecordEntry:
        if isinstance(record, Assessment):
            fact = FACT_KEYS_BY_KEY[record.key]
            return RecordEntry(fact.meaning, form=cls([fact], {record.key: record}, data, correcting=True))
        current = current_facts(participant)
        entry = RecordEntry(
            "Assessments",
            chooser_name="group",
            chooser_label="Group",
            choices=[(g.value, group_label(g.value, participant)) for g in FactGroup],
        )
        key = str(params.get("key", ""))
        allowed = {f.key: f for f in facts_for(participant)}
        if key in allowed:
            entry.form = cls([allowed[key]], current, data)
            entry.title = allowed[key].meaning
        elif (group := str(params.get("group", ""))) in FactGroup.values:
            entry.selected = group
            entry.form = cls(group_facts(participant, group), current, data)
            entry.title = group_label(group, participant)
        return entry

    def field_for(self, key: str, service_field: str) -> str | None:
        """The form field where a service error about fact `key` belongs."""
        fact = next((f for f in self.facts if f.key == key), None)
        if fact is None:
            return None
        if service_field == "date" and fact.dated:
            return f"{key}__date"
        if service_field == "reason":
            return "reason"
        return bilag_name(BILAG_DOMAINS[0]) if fact.type is FactType.BILAG else key


def _stored(value: Any) -> Any:
    """A value as an Assessment stores it (decimals as exact strings)."""
    return str(value) if isinstance(value, Decimal) else value


# --- Therapies -----------------------------------------------------------------------------------


def agent_choices() -> list[tuple[str, Any]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for a in THERAPY_AGENTS:
        groups.setdefault(humanize(a.category), []).append((a.key, a.label))
    return [("", "— choose the agent —"), *groups.items()]


class TherapyForm(RecordFormMixin, ReasonMixin, forms.ModelForm):
    agent = forms.ChoiceField(label="Agent", choices=agent_choices)
    start = date_field("Start", help_text="First dose of this treatment period.")
    last_dose = date_field(
        "Last dose",
        required=False,
        help_text="Required when stopped; for ongoing agents given every week or less often, the latest dose.",
    )

    class Meta:
        model = Therapy
        fields = list(RECORD_KINDS["therapy"].correctable_fields)
        labels = {
            "agent_name": "Name of the agent",
            "ongoing": "Ongoing (including between infusions)",
            "stopped_for_intolerance": "Stopped because of an adverse event",
            "counts_as_immunosuppressant": "Propose this unlisted agent as the immunosuppressant (investigator review)",
        }
        help_texts = {"agent_name": "Only for “other agent”."}

    def __init__(self, *args: Any, correcting: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ongoing"].required = False
        self.fields["counts_as_immunosuppressant"] = forms.BooleanField(
            label=self.Meta.labels["counts_as_immunosuppressant"], required=False
        )
        self.helper = FormHelper()
        self.helper.form_tag = False
        layout: list[Any] = [
            Div(
                Div(Field("agent"), css_class="col-md-6"),
                Div(Field("agent_name"), css_class="col-md-6"),
                css_class="row",
            ),
            Div(
                Div(Field("start"), css_class="col-md-4"),
                Div(Field("last_dose"), css_class="col-md-4"),
                css_class="row",
            ),
            Field("ongoing"),
            Field("stopped_for_intolerance"),
            Field("counts_as_immunosuppressant"),
        ]
        if correcting:
            self.add_reason(required=True)
            layout.append("reason")
        self.helper.layout = Layout(*layout)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        other = cleaned.get("agent") == "other"
        if other and not cleaned.get("agent_name", "").strip():
            self.add_error("agent_name", "Name the agent.")
        if not other:
            cleaned["agent_name"] = ""
        if cleaned.get("counts_as_immunosuppressant") and not other:
            self.add_error("counts_as_immunosuppressant", "Only an unlisted (“other”) agent can be proposed.")
        cleaned["counts_as_immunosuppressant"] = True if cleaned.get("counts_as_immunosuppressant") else None
        start, last = cleaned.get("start"), cleaned.get("last_dose")
        if not cleaned.get("ongoing") and last is None and "last_dose" not in self.errors:
            self.add_error("last_dose", "A stopped therapy needs its last dose.")
        if start and last and last < start:
            self.add_error("last_dose", f"The last dose cannot be before the start ({start.isoformat()}).")
        if cleaned.get("ongoing") and cleaned.get("stopped_for_intolerance"):
            self.add_error("stopped_for_intolerance", "An ongoing therapy has not been stopped.")
        return cleaned

    def _post_clean(self) -> None:
        # The service validates the record; the model's own full_clean would repeat it here.
        pass

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in self.Meta.fields} | {
            "ongoing": bool(self.cleaned_data.get("ongoing")),
            "stopped_for_intolerance": bool(self.cleaned_data.get("stopped_for_intolerance")),
            "agent_name": self.cleaned_data.get("agent_name") or "",
        }

    def as_record(self) -> Therapy:
        return Therapy(**self.values())

    def arguments(self) -> dict[str, Any]:
        return self.values()

    def correction(self) -> dict[str, Any]:
        return self.values()

    def unsaved(self) -> list[ClinicalRecord]:
        return [self.as_record()]

    def saved_text(self) -> str:
        values = self.values()
        return f"therapy {values['agent_name'] or values['agent']} recorded"

    @classmethod
    def open(
        cls, participant: Participant, params: Mapping[str, Any], data: Any, record: ClinicalRecord | None
    ) -> RecordEntry:
        initial = None
        if isinstance(record, Therapy):
            initial = {name: getattr(record, name) for name in cls.Meta.fields}
        return RecordEntry("Therapy", form=cls(data, initial=initial, correcting=record is not None))


# --- Events --------------------------------------------------------------------------------------


def event_field(spec: EventField) -> forms.Field:
    label = humanize(spec.name)
    if spec.type == "bool":
        return yes_no_field(label, required=spec.required)
    if spec.type == "int":
        return AsciiIntegerField(
            label=label,
            required=spec.required,
            min_value=spec.minimum,
            max_value=spec.maximum,
            error_messages={"invalid": "Enter a whole number.", **range_messages(spec.minimum, spec.maximum)},
        )
    if spec.type == "date":
        return date_field(label, required=spec.required)
    if spec.type == "enum":
        return forms.ChoiceField(
            label=label,
            required=spec.required,
            choices=[("", "— choose —")] + [(c, humanize(c)) for c in spec.choices],
        )
    if spec.type == "classes":
        return forms.MultipleChoiceField(
            label="ISN/RPS classes",
            required=spec.required,
            choices=[(c, f"Class {c}") for c in spec.choices],
            widget=forms.CheckboxSelectMultiple,
            help_text="One class, or III with V, or IV with V.",
        )
    return forms.CharField(label=label, required=spec.required, max_length=spec.max_length or 200)


EVENT_HELP = {
    "ongoing": "Still ongoing: the date above is then the onset or start.",
    "active_until": "Last date of active disease or end of curative treatment.",
    "still_active": "Active today (leave ‘Active until’ empty).",
    "nih_chronicity_index": "The total, when the report gives only the total.",
    "nyha_class": "Required for heart failure.",
}


class EventForm(RecordFormMixin, ReasonMixin, forms.Form):
    def __init__(
        self, kind: str, date_means: str, *args: Any, correcting: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.specs = event_fields(kind)
        self.fields["event"] = forms.CharField(widget=forms.HiddenInput, initial=kind, required=False)
        self.fields["date"] = date_field("Date", help_text=f"The {date_means}.")
        layout: list[Any] = ["event", Field("date", wrapper_class="col-md-4")]
        numbers: list[Any] = []  # consecutive whole-number fields share a row
        for spec in self.specs:
            field = event_field(spec)
            field.help_text = field.help_text or EVENT_HELP.get(spec.name, "")
            self.fields[spec.name] = field
            if spec.type == "int":
                numbers.append(Div(Field(spec.name), css_class="col-6 col-md-4"))
                continue
            if numbers:
                layout.append(Div(*numbers, css_class="row"))
                numbers = []
            if spec.type == "bool":
                layout.append(InlineRadios(spec.name))
            elif spec.type == "classes":
                layout.append(
                    Field(spec.name, template="bootstrap5/layout/checkboxselectmultiple_inline.html")
                )
            else:
                layout.append(Field(spec.name, wrapper_class="col-md-6"))
        if numbers:
            layout.append(Div(*numbers, css_class="row"))
        if correcting:
            self.add_reason(required=True)
            layout.append("reason")
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(*layout)

    def details(self) -> dict[str, Any]:
        details: dict[str, Any] = {}
        for spec in self.specs:
            value = self.cleaned_data.get(spec.name)
            if value in (None, "", []):
                continue
            if isinstance(value, date):
                value = value.isoformat()
            details[spec.name] = value
        if details.get("ongoing") is False:
            del details["ongoing"]  # absent = false in the case format
        return details

    def as_record(self) -> ClinicalEvent:
        return ClinicalEvent(kind=self.kind, date=self.cleaned_data["date"], details=self.details())

    def arguments(self) -> dict[str, Any]:
        return {"kind": self.kind, "date": self.cleaned_data["date"], "details": self.details()}

    def correction(self) -> dict[str, Any]:
        return {"date": self.cleaned_data["date"], "details": self.details()}

    def unsaved(self) -> list[ClinicalRecord]:
        return [self.as_record()]

    def saved_text(self) -> str:
        return f"{humanize(self.kind)} recorded"

    @classmethod
    def open(
        cls, participant: Participant, params: Mapping[str, Any], data: Any, record: ClinicalRecord | None
    ) -> RecordEntry:
        correcting = record is not None
        key = record.kind if isinstance(record, ClinicalEvent) else str(params.get("event", ""))
        kinds = kinds_for(participant)
        entry = RecordEntry(
            "Clinical event",
            chooser_name="event",
            chooser_label="Event",
            choices=[(k.kind, area_label(k.kind, participant.cohort)) for k in kinds],
            selected=key,
        )
        spec = EVENT_KINDS_BY_KIND.get(key)
        if spec is not None and (correcting or spec in kinds):
            initial = cls.initial_from(record) if isinstance(record, ClinicalEvent) else None
            entry.form = cls(spec.kind, spec.date_means, data, initial=initial, correcting=correcting)
            entry.title = f"Clinical event: {humanize(spec.kind)}"
        return entry

    @staticmethod
    def initial_from(event: ClinicalEvent) -> dict[str, Any]:
        initial: dict[str, Any] = {"date": event.date}
        for name, value in event.details.items():
            initial[name] = as_yes_no(value) if isinstance(value, bool) else value
        return initial


# --- History reviews and voiding --------------------------------------------------------------


class HistoryForm(RecordFormMixin, forms.Form):
    areas = forms.MultipleChoiceField(
        label="History taken in full for",
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick an area once its history has been taken in full: no entry then means none.",
        error_messages={"required": "Tick at least one area."},
    )

    def __init__(
        self, areas: Iterable[str], confirmed: Iterable[str], *args: Any, cohort: str = "", **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        done = set(confirmed)
        self.confirmed = done
        cast(forms.MultipleChoiceField, self.fields["areas"]).choices = [
            (a, area_label(a, cohort) + (" (confirmed)" if a in done else "")) for a in areas
        ]
        self.helper = FormHelper()
        self.helper.form_tag = False

    def new_areas(self) -> list[str]:
        return [a for a in self.cleaned_data["areas"] if a not in self.confirmed]

    def arguments(self) -> dict[str, Any]:
        return {"areas": self.new_areas()}

    def unsaved(self) -> list[ClinicalRecord]:
        return [HistoryReview(area=a) for a in self.new_areas()]

    def saved_text(self) -> str:
        return "history taken in full: " + (", ".join(self.new_areas()) or "no new area")

    @classmethod
    def open(
        cls, participant: Participant, params: Mapping[str, Any], data: Any, record: ClinicalRecord | None
    ) -> RecordEntry:
        confirmed = confirmed_areas(participant)
        area = str(params.get("area", ""))
        initial = {"areas": [area, *confirmed] if area else confirmed}
        form = cls(areas_for(participant), confirmed, data, initial=initial, cohort=participant.cohort)
        return RecordEntry("History taken in full", form=form)


class VoidForm(ReasonMixin, forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_reason(required=True, label="Reason for voiding")
        self.fields["reason"].help_text = "The record stays on file, marked voided with this reason."
        self.helper = FormHelper()
        self.helper.form_tag = False


__all__ = ["NON_FIELD_ERRORS"]


def record_form(kind: str) -> Any:
    """The intake form class of a record kind (the registry names it)."""
    return globals()[RECORD_KINDS[kind].form_name]
