"""Forms of the site: log-in, registration, key dates and one form per record type.

The record forms check shape only (types, required fields, choices, the vocabulary's units and
bounds); eligibility is the engine's business. The services validate each record again as the
engine reads it and their errors land next to the field they name."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, cast

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Fieldset, Layout, Submit
from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone

from screening.case_builder import exact
from screening.criteria.vocabulary import (
    BILAG_DOMAINS,
    IMPLAUSIBLE_BELOW,
    THERAPY_AGENTS,
    FactKey,
    FactType,
    LabTest,
    UlnRule,
    ValueKind,
)
from screening.labels import humanize

from .intake import EventField, event_fields, unit_label
from .models import (
    Assessment,
    ClinicalEvent,
    Cohort,
    LabResult,
    Participant,
    Sex,
    Therapy,
)
from .number_fields import AsciiDecimalField, AsciiIntegerField
from .services import CORRECTABLE_FIELDS


class LoginForm(AuthenticationForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Log in", css_class="w-100"))
        self.fields["username"].widget.attrs.update({"autofocus": True, "autocomplete": "username"})


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


def date_field(label: str, *, required: bool = True, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=DateInput(),
        help_text=help_text,
        error_messages={"invalid": "Enter a real calendar date (YYYY-MM-DD)."},
    )


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
    for key, messages in exc.message_dict.items():
        field = names.get(key, key)
        form.add_error(field if field in form.fields else None, messages)


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
    it was opened with (a hidden field), and if another save changed any of those values before it
    is submitted, nothing is saved, those fields are reset to the current values and the user is
    told which ones changed. A save then overwrites only what the user saw."""

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
        if not self.is_bound or self.SHOWN not in self.data:
            return None
        try:
            shown = json.loads(self.data.get(self.SHOWN) or "{}")
        except (ValueError, RecursionError):  # RecursionError: deeply nested JSON
            return {}
        return shown if isinstance(shown, dict) else {}

    @staticmethod
    def _differences(shown: dict[str, Any], current: dict[str, str]) -> list[str]:
        return sorted(k for k in shown.keys() | current.keys() if shown.get(k) != current.get(k))

    def still_as_shown(self, current: dict[str, str]) -> bool:
        """Checked again under the participant's row lock, just before saving: a save that landed
        after the form was validated refuses this one (the user reloads the form)."""
        shown = self._posted_state()
        if shown is None or not self._differences(shown, current):
            return True
        self.add_error(  # type: ignore[attr-defined]
            None,
            "Another save changed this participant's data while yours was being saved. Nothing was "
            "saved: open the form again to see the current values.",
        )
        return False

    def changed_since_shown(self) -> list[str]:
        """Keys changed by another save since the form was opened, after resetting their fields.
        A post without the hidden state (not from this form) is not checked."""
        shown = self._posted_state()
        if shown is None:
            return []
        current = self.shown_state()
        changed = self._differences(shown, current)
        if changed:
            data = self.data.copy()
            for key in changed:
                for name in self.fields_of(key):
                    value = self.initial.get(name)
                    data[name] = "" if value is None else str(value)
            data[self.SHOWN] = json.dumps(current, sort_keys=True)
            self.data = data
        return changed

    def conflict_message(self, changed: list[str]) -> str:
        return (
            "Since you opened this form, another save changed: "
            + ", ".join(self.label_of(k) for k in changed)
            + ". Nothing was saved. Those fields now show the current values: check them, then save again."
        )


# --- Participant --------------------------------------------------------------------------------

KEY_DATES = ("screening_start", "icf_signed", "planned_enrollment", "planned_day0")


def check_key_dates(form: forms.Form, cleaned: dict[str, Any]) -> None:
    """The date rules of docs/criteria-intake.md: nothing before birth, no birth or consent in the
    future, consent on or before the first screening visit, enrollment after screening and
    consent, Day 0 not before enrollment."""
    today = timezone.localdate()
    birth = cleaned.get("birth_date")
    start, icf = cleaned.get("screening_start"), cleaned.get("icf_signed")
    enrol, day0 = cleaned.get("planned_enrollment"), cleaned.get("planned_day0")
    if birth and birth > today:
        form.add_error("birth_date", "The date of birth cannot be in the future.")
    if icf and icf > today:
        form.add_error("icf_signed", "Consent cannot be signed in the future: record it once signed.")
    for name in KEY_DATES:
        value = cleaned.get(name)
        if birth and value and value <= birth:
            form.add_error(name, "This date is not after the date of birth.")
    if icf and start and icf > start:
        form.add_error(
            "icf_signed",
            f"Consent must be signed on or before the first screening visit ({start.isoformat()}): "
            "no screening procedure may precede it.",
        )
    if enrol:
        for name, label in (("screening_start", "screening start"), ("icf_signed", "consent")):
            earlier = cleaned.get(name)
            if earlier and enrol < earlier:
                form.add_error("planned_enrollment", f"Enrollment cannot be planned before the {label}.")
    if day0 and enrol and day0 < enrol:
        form.add_error("planned_day0", "Day 0 cannot be planned before enrollment.")


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
        check_key_dates(self, cleaned)
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


class RegisterForm(ParticipantFormBase):
    field_order = ["cohort", "lupus_nephritis", "sex", "birth_date", *KEY_DATES]
    cohort = forms.ChoiceField(label="Cohort", choices=Cohort.choices, widget=forms.RadioSelect)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        first = Fieldset("Cohort", InlineRadios("cohort"))
        self.helper.layout = Layout(first, *self.layout_fields())

    def chosen_cohort(self) -> str:
        return str(self.cleaned_data.get("cohort", ""))


def participant_state(participant: Participant) -> dict[str, str]:
    """What the key-dates form shows, as its conflict check compares it."""
    names = ("lupus_nephritis", "sex", "birth_date", *KEY_DATES)
    return {n: str(getattr(participant, n)) for n in names if getattr(participant, n) is not None}


def fact_state(current: Mapping[str, Assessment], keys: Iterable[str]) -> dict[str, str]:
    """What a fact form shows, as its conflict check compares it: a correction supersedes the
    record, so a new current record means another save."""
    return {key: str(current[key].pk) for key in keys if key in current}


class EditParticipantForm(ShownStateMixin, ReasonMixin, ParticipantFormBase):
    def __init__(self, participant: Participant, *args: Any, **kwargs: Any) -> None:
        self.participant = participant
        initial = {
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
        if participant.cohort != Cohort.SLE:
            fields[0] = Fieldset(
                "Participant", InlineRadios("sex"), Field("birth_date", wrapper_class="col-md-4")
            )
        self.helper.layout = Layout(*fields, Field("reason"), self.SHOWN)

    def chosen_cohort(self) -> str:
        return str(self.participant.cohort)

    def changes(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k not in ("reason", self.SHOWN)}

    def shown_state(self) -> dict[str, str]:
        return participant_state(self.participant)

    def clean(self) -> dict[str, Any]:
        changed = self.changed_since_shown()
        if changed:
            raise ValidationError(self.conflict_message(changed))
        cleaned = super().clean()
        changed = [
            k
            for k, v in self.changes().items()
            if getattr(self.participant, k) is not None and getattr(self.participant, k) != v
        ]
        if changed and not cleaned.get("reason", "").strip():
            self.add_error("reason", "Give the reason for changing a recorded value.")
        return cleaned


# --- Lab results --------------------------------------------------------------------------------


def implausible(test: LabTest, value: Decimal, unit: str) -> str:
    """The question to ask about a count entered with `unit`, or "" when it is plausible."""
    floor = IMPLAUSIBLE_BELOW.get(test.key)
    factor = test.factor(unit)
    if floor is None or factor is None:
        return ""
    canonical = value * factor.num / factor.den
    per_ul = factor.num == factor.den
    if canonical < floor or (per_ul and value < 1):
        shown = f"{value} {unit_label(unit)}"
        if not per_ul:
            shown += f" = {canonical.normalize():f} /µL"
        return (
            f"{shown} is unusually low for this count. Check the unit on the report (per µL, or × 10³/µL "
            "= × 10⁹/L?); if the value is right, tick the box below."
        )
    return ""


class LabForm(ReasonMixin, forms.Form):
    """A result of one test; the test decides the value's form, the units, ULN and specimen."""

    def __init__(self, test: LabTest, *args: Any, correcting: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.test = test
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
                error_messages={"invalid": "Enter a number, such as 2100 or 11.2."},
            )
            if test.units:
                self.fields["unit"] = forms.ChoiceField(
                    label="Unit",
                    choices=[("", "— choose the unit on the report —")]
                    + [(u, unit_label(u)) for u in test.unit_names],
                    required=False,
                    initial=test.unit_names[0] if len(test.unit_names) == 1 else "",
                )
            else:
                self.fields["unit"] = forms.CharField(
                    label="Unit",
                    max_length=20,
                    required=False,
                    help_text="As on the report (e.g. U/L, mg/L, IU/mL); only value ÷ ULN is compared.",
                )
            row = [Div(Field("value_number"), css_class="col-md-4"), Div(Field("unit"), css_class="col-md-4")]
            if test.uln is not UlnRule.FORBIDDEN:
                self.fields["uln"] = AsciiDecimalField(
                    label="ULN" + (" (optional)" if test.uln is UlnRule.OPTIONAL else ""),
                    required=False,
                    min_value=Decimal(0),
                    max_digits=20,
                    decimal_places=8,
                    widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
                    help_text="The laboratory's upper limit of normal, in the same unit.",
                    error_messages={"invalid": "Enter a number."},
                )
                row.append(Div(Field("uln"), css_class="col-md-4"))
            layout.append(Div(*row, css_class="row"))
        if test.specimen_required:
            self.fields["specimen"] = forms.ChoiceField(
                label="Specimen", choices=[("urine", "Urine"), ("serum", "Serum")], widget=forms.RadioSelect
            )
            layout.append(InlineRadios("specimen"))
        self.fields["collected"] = date_field("Collection date", help_text="The date the specimen was taken.")
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
            question = implausible(self.test, number, cleaned.get("unit", ""))
            if question and not cleaned.get("value_checked"):
                self.add_error("value_number", question)
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
            "collected": c["collected"],
        }

    def correction(self) -> dict[str, Any]:
        """The correct_record changes of a LabResult."""
        v = self.values()
        value = v.pop("value")
        return v | {
            "value_number": value if isinstance(value, Decimal) else None,
            "value_text": value if isinstance(value, str) else "",
        }

    def as_record(self) -> LabResult:
        return LabResult(**self.correction())

    @staticmethod
    def initial_from(lab: LabResult) -> dict[str, Any]:
        return {
            "value_number": exact(lab.value_number) if lab.value_number is not None else None,
            "value_text": lab.value_text,
            "unit": lab.unit,
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
            widget=forms.NumberInput(attrs={"step": 1}),
            error_messages={"invalid": "Enter a whole number."},
        )
    if fact.type is FactType.DECIMAL:
        return AsciiDecimalField(
            label=label,
            required=False,
            min_value=fact.minimum,
            max_value=fact.maximum,
            max_digits=12,
            decimal_places=4,
            widget=forms.TextInput(attrs={"inputmode": "decimal"}),
            error_messages={"invalid": "Enter a number."},
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


class FactForm(ShownStateMixin, ReasonMixin, forms.Form):
    """The facts `facts` with their current values; a changed recorded value needs a reason.
    Field names: the fact key; `<key>__date` for a dated fact's date; BILAG `bilag2004__<domain>`."""

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
                layout.append(Fieldset(fact.meaning, *items, css_class="fact border-bottom pb-2 mb-3"))
            else:
                layout.append(Div(*items, css_class="fact border-bottom pb-2 mb-3"))
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
        changed = self.changed_since_shown()
        if changed:
            raise ValidationError(self.conflict_message(changed))
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        changed_recorded = False
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
            if a is not None and (a.value != _stored(value) or a.date != when):
                changed_recorded = True
        if changed_recorded and not cleaned.get("reason", "").strip():
            self.add_error("reason", "A recorded value changes: give the reason for the change.")
        if not self.errors and not self.changes():
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


class TherapyForm(ReasonMixin, forms.ModelForm):
    agent = forms.ChoiceField(label="Agent", choices=agent_choices)
    start = date_field("Start", help_text="First dose of this treatment period.")
    last_dose = date_field(
        "Last dose",
        required=False,
        help_text="Required when stopped; for ongoing agents given every week or less often, the latest dose.",
    )

    class Meta:
        model = Therapy
        fields = list(CORRECTABLE_FIELDS[Therapy])
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
            error_messages={"invalid": "Enter a whole number."},
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


class EventForm(ReasonMixin, forms.Form):
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

    @staticmethod
    def initial_from(event: ClinicalEvent) -> dict[str, Any]:
        initial: dict[str, Any] = {"date": event.date}
        for name, value in event.details.items():
            initial[name] = as_yes_no(value) if isinstance(value, bool) else value
        return initial


# --- History reviews and voiding --------------------------------------------------------------


class HistoryForm(forms.Form):
    areas = forms.MultipleChoiceField(
        label="History taken in full for",
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick an area once its history has been taken in full: no entry then means none.",
        error_messages={"required": "Tick at least one area."},
    )

    def __init__(self, areas: Iterable[str], confirmed: Iterable[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        done = set(confirmed)
        self.confirmed = done
        cast(forms.MultipleChoiceField, self.fields["areas"]).choices = [
            (a, humanize(a) + (" (confirmed)" if a in done else "")) for a in areas
        ]
        self.helper = FormHelper()
        self.helper.form_tag = False

    def new_areas(self) -> list[str]:
        return [a for a in self.cleaned_data["areas"] if a not in self.confirmed]


class VoidForm(ReasonMixin, forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_reason(required=True, label="Reason for voiding")
        self.fields["reason"].help_text = "The record stays on file, marked voided with this reason."
        self.helper = FormHelper()
        self.helper.form_tag = False


__all__ = ["NON_FIELD_ERRORS"]
