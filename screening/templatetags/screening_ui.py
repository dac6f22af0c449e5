"""Template helpers of the participant pages: links to the intake forms and readable labels."""

from __future__ import annotations

from datetime import date

from django import template

from participants import links
from participants.models import ScreeningStatus
from screening.labels import path_label
from screening.models import Outcome, ReviewBy, Trigger
from screening.selectors import criterion_title as _criterion_title

register = template.Library()


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


@register.filter
def status_label(status: str) -> str:
    return str(dict(ScreeningStatus.choices).get(status, status))


@register.filter
def outcome_label(outcome: str) -> str:
    return str(dict(Outcome.choices).get(outcome, outcome))


@register.filter
def review_by_label(review_by: str) -> str:
    return str(dict(ReviewBy.choices).get(review_by, review_by))


@register.filter
def trigger_label(trigger: str) -> str:
    return str(dict(Trigger.choices).get(trigger, trigger))


@register.filter
def missing_label(path: str) -> str:
    return path_label(path)


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
