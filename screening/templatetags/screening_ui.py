"""Template helpers of the participant pages: links to the intake forms and readable labels."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from django import template
from django.db import models
from django.utils.safestring import SafeString

from participants import links
from participants.models import ScreeningStatus
from screening import criteria_html
from screening.criteria.vocabulary import unit_label
from screening.models import Outcome, ReviewBy, Trigger
from screening.selectors import CriterionGroup, CriterionRow
from screening.selectors import criterion_title as _criterion_title

register = template.Library()


@register.filter(name="unit")
def unit(value: str | None) -> str:
    """A unit as every page, reason and export writes it (10⁹/L, µmol/L)."""
    return unit_label(value) if value else ""


@register.filter
def missing_url(path: str, participant_pk: int) -> str | None:
    return links.missing_path_url(participant_pk, path)


@register.filter
def records_url(kind: str, participant_pk: int) -> str | None:
    return links.records_url(participant_pk, kind)


@register.filter
def add_record_url(kind: str, participant_pk: int) -> str | None:
    return links.add_record_url(participant_pk, kind)


@register.simple_tag
def edit_dates_url(participant_pk: int) -> str | None:
    return links.edit_dates_url(participant_pk)


def _choice_label(choices: type[models.TextChoices]) -> Callable[[str], str]:
    labels = dict(choices.choices)

    def label(value: str) -> str:
        """The label of a stored choice; a value that is not one shows as it is."""
        return str(labels.get(value, value))

    return label


for _name, _choices in (
    ("status_label", ScreeningStatus),
    ("outcome_label", Outcome),
    ("review_by_label", ReviewBy),
    ("trigger_label", Trigger),
):
    register.filter(_name, _choice_label(_choices))


@register.filter
def criterion_title(criterion_id: str) -> str:
    return _criterion_title(criterion_id)


@register.filter
def days_until(day: date | None, today: date) -> str:
    """'today', 'in 3 days', '2 days ago'."""
    if day is None:
        return ""
    n = (day - today).days
    if n == 0:
        return "today"
    if n > 0:
        return f"in {n} day{'s' if n != 1 else ''}"
    return f"{-n} day{'s' if n != -1 else ''} ago"


@register.simple_tag
def criterion_rows(rows: Sequence[CriterionRow]) -> SafeString:
    return criteria_html.criterion_rows_html(rows)


@register.simple_tag
def not_applicable_rows(rows: Sequence[CriterionRow]) -> SafeString:
    return criteria_html.not_applicable_html(rows)


@register.simple_tag
def outcome_counts(group: CriterionGroup) -> SafeString:
    return criteria_html.outcome_counts_html(group)
