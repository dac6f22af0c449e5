"""The screening visit form: a whole visit on one page, saved in one go (services.record_visit).

One blood draw (one collection date, a row per test, each unit pre-selected from the site's usual
unit), the scores and attestations grouped as the criteria use them, new therapy periods and the
history areas taken in full. Each part is the form its own page uses (LabForm, FactForm,
TherapyForm, HistoryForm), so the shape checks are the same; an untouched row is left out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from screening.criteria.vocabulary import LAB_TESTS, LabTest

from .forms import FactForm, HistoryForm, LabForm, TherapyForm, date_field
from .intake import FactGroup, areas_for, fact_group, facts_for, group_label
from .models import Assessment, ClinicalRecord, Participant, Sex
from .services import FactEntry, VisitEntry, VisitLab, VisitRefused

THERAPY_ROWS = 4  # blank therapy rows per visit; a fifth period is entered on the next save


def visit_tests(participant: Participant) -> list[LabTest]:
    """The tests of the draw, in the vocabulary's order; a pregnancy test only for a woman."""
    return [t for t in LAB_TESTS if t.key != "pregnancy_test" or participant.sex == Sex.FEMALE]


def _with_recorded_facts(data: Any, shown: FactForm) -> Any:
    """A fact field absent from the post keeps its recorded value: a post of one more blood draw
    (or a client sending only what it enters) does not read as clearing every recorded fact. A field
    the user cleared is sent empty, and is refused as before (withdraw by voiding)."""
    filled = data.copy()
    for name, value in shown.initial.items():
        key = shown.add_prefix(name)
        if key not in filled and value is not None:
            filled[key] = str(value) if not isinstance(value, (dict, list)) else value
    return filled


class DrawForm(forms.Form):
    collected = date_field(
        "Date of the blood draw",
        required=False,
        help_text="Every result below was collected on this date; a result of another day is a "
        "second visit entry.",
    )


class VisitForm:
    """The parts of a visit, each a bound Django form with its own prefix."""

    def __init__(
        self,
        participant: Participant,
        data: Any = None,
        *,
        units: Mapping[str, str],
        current: Mapping[str, Assessment],
        confirmed: list[str],
    ) -> None:
        self.participant = participant
        self.draw = DrawForm(data, prefix="draw")
        self.labs = [
            LabForm(
                test,
                data,
                prefix=f"lab-{test.key}",
                unit=units.get(test.key, ""),
                in_visit=True,
                empty_permitted=True,
                use_required_attribute=False,
            )
            for test in visit_tests(participant)
        ]
        for row in self.labs:
            del row.fields["test"]  # the prefix names the test
        facts = facts_for(participant)
        if data is not None:
            data = _with_recorded_facts(data, FactForm(facts, current, prefix="fact"))
        self.facts = FactForm(facts, current, data, prefix="fact")
        self.facts.require_change = False
        self.facts.helper.layout = Layout(*self._fact_groups(), "reason", self.facts.SHOWN)
        self.therapies = [
            TherapyForm(data, prefix=f"therapy-{i}", empty_permitted=True, use_required_attribute=False)
            for i in range(THERAPY_ROWS)
        ]
        self.history = HistoryForm(
            areas_for(participant),
            confirmed,
            data,
            prefix="history",
            initial={"areas": confirmed},
            cohort=participant.cohort,
        )
        self.history.fields["areas"].required = False
        self.history.fields["areas"].label = "Areas"  # the section's heading says the rest
        self.history.helper = FormHelper()
        self.history.helper.form_tag = False

    @property
    def lab_rows(self) -> list[tuple[LabTest, LabForm]]:
        return [(row.test, row) for row in self.labs]

    def _fact_groups(self) -> list[Any]:
        """The facts grouped as the criteria read them, each group a fieldset with an anchor."""
        groups: dict[str, list[Any]] = {g.value: [] for g in FactGroup}
        for fact in self.facts.facts:
            groups[fact_group(fact).value].append(self.facts.fact_items[fact.key])
        return [
            Fieldset(group_label(g, self.participant), *items, css_id=f"facts-{g}", css_class="mb-4")
            for g, items in groups.items()
            if items
        ]

    def parts(self) -> list[forms.Form]:
        return [self.draw, *self.labs, self.facts, *self.therapies, self.history]

    def entered_labs(self) -> list[LabForm]:
        return [row for row in self.labs if row.has_changed()]

    def entered_therapies(self) -> list[TherapyForm]:
        return [row for row in self.therapies if row.has_changed()]

    def is_valid(self) -> bool:
        valid = all([part.is_valid() for part in self.parts()])  # every part validated: all errors shown
        if not self.draw.is_valid():
            return False
        collected = self.draw.cleaned_data.get("collected")
        entered = self.entered_labs()
        for row in entered:
            row.row_collected = collected
        if entered and collected is None:
            self.draw.add_error("collected", "Give the date of the blood draw of these results.")
            return False
        if valid and not self.has_entries():
            self.draw.add_error(
                None,
                ValidationError(
                    "Nothing to save: enter a result, a value, a therapy or a history area.", code="nothing"
                ),
            )
            return False
        return valid

    def has_entries(self) -> bool:
        facts = self.facts.changes() if self.facts.is_valid() else []
        return bool(self.entered_labs() or facts or self.entered_therapies() or self.new_areas())

    def new_areas(self) -> list[str]:
        return self.history.new_areas() if self.history.is_valid() else []

    def entry(self) -> VisitEntry:
        facts = self.facts
        return VisitEntry(
            collected=self.draw.cleaned_data.get("collected"),
            labs=[
                VisitLab(
                    test=v["test"],
                    value=v["value"],
                    unit=v["unit"],
                    uln=v["uln"],
                    specimen=v["specimen"],
                    confirmed_low=row.arguments()["confirmed_low"],
                )
                for row in self.entered_labs()
                for v in [row.values()]
            ],
            facts=[FactEntry(f.key, v, d) for f, v, d, _ in facts.changes()],
            reason=facts.cleaned_data.get("reason", ""),
            shown=facts.shown(),
            therapies=[row.arguments() for row in self.entered_therapies()],
            areas=self.new_areas(),
        )

    def unsaved(self) -> dict[str, list[ClinicalRecord]]:
        """The unsaved records by kind (participants.records), for the live panel."""
        return {
            "lab": [row.as_record() for row in self.entered_labs()],
            "fact": list(self.facts.as_records()),
            "therapy": [row.as_record() for row in self.entered_therapies()],
            "history": self.history.unsaved() if self.history.is_valid() else [],
        }

    def saved_text(self, count: int) -> str:
        return f"screening visit recorded ({count} record{'s' if count != 1 else ''})"

    def add_service_errors(self, exc: VisitRefused) -> None:
        """Every refused part's messages by its own fields; a lab's date error by the draw's date."""
        rows = {f"lab:{row.test.key}": row for row in self.labs}
        entered = self.entered_therapies()
        for part, error in exc.refused.items():
            if part == "collected" or not isinstance(error, ValidationError):
                self.draw.add_error(None if part != "collected" else "collected", str(error))
            elif part in rows:
                by_field = error.error_dict if hasattr(error, "error_dict") else {}
                if "collected" in by_field:
                    for message in by_field.pop("collected"):
                        text = f"{rows[part].test.label}: {next(iter(message))}"
                        if text not in self.draw.errors.get("collected", []):
                            self.draw.add_error("collected", text)
                    if not by_field:
                        continue
                    error = ValidationError(by_field)
                rows[part].add_service_errors(error)
            elif part == "facts":
                self.facts.add_service_errors(error)
            elif part.startswith("therapy:"):
                entered[int(part.split(":")[1])].add_service_errors(error)
            elif part == "history":
                self.history.add_service_errors(error)
            else:
                self.draw.add_error(None, error)

    def error_count(self) -> int:
        return sum(len(errors) for part in self.parts() for errors in part.errors.values())

    def non_field_errors(self) -> list[str]:
        return [str(e) for part in self.parts() for e in part.errors.get(NON_FIELD_ERRORS, [])]
