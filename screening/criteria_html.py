"""The participant page's criterion tables, written here rather than by the template: each of the
57 criteria was a row of some twenty template nodes (variables, conditions, filters), the largest
part of the page's rendering. The markup is the one the template gave, character for character
(tests/web/test_participant_page.py)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from screening.models import Outcome, ReviewBy
from screening.selectors import CriterionGroup, CriterionRow

_ROW = (
    '\n      <tr data-criterion="{0}" data-outcome="{1}" class="row-{1}">'
    '\n        <td><div class="fw-semibold" title="{2}">{3}</div><div class="small text-body-secondary">{0}</div></td>'
    '\n        <td><span class="badge outcome-{1}">{1}</span>{4}</td>'
    '\n        <td class="small">{5}</td>'
    '\n        <td class="small">'
    "\n          {6}"
    "\n          {7}"
    "\n          {8}"
    "\n        </td>"
    "\n      </tr>"
    "\n      "
)

_NOT_APPLICABLE = (
    '\n        <li data-criterion="{0}" data-outcome="NOT_APPLICABLE"><span class="badge'
    ' outcome-NOT_APPLICABLE">NOT_APPLICABLE</span> {1} <span class="text-body-secondary">{0}</span>'
    " — {2}</li>\n        "
)

_EMPTY = mark_safe("")
_EXPIRING = ' class="text-danger fw-semibold"'


@lru_cache(maxsize=1024)
def _escaped(text: str) -> SafeString:
    """A criterion's id, title and text, and an outcome, escaped once per process: they come from
    the catalogue (a few hundred strings), unlike a row's reason."""
    return conditional_escape(text)


def criterion_rows_html(rows: Sequence[CriterionRow]) -> SafeString:
    """The rows of a group's criterion table (its `<tbody>`'s content)."""
    # The reviewer's label once a table, not once a row.
    review_by = {value: str(label) for value, label in ReviewBy.choices}
    out = []
    for row in rows:
        r = row.result
        review = (
            format_html('<div class="small">by {}</div>', review_by.get(r.review_by, r.review_by))
            if r.review_by
            else _EMPTY
        )
        # Dates are ISO text (digits and hyphens): nothing to escape.
        valid = (
            mark_safe(
                f"<div{_EXPIRING if row.expiring else ''}>valid until {r.valid_until.isoformat()}</div>"
            )
            if r.valid_until
            else _EMPTY
        )
        eligible = (
            mark_safe(f"<div>eligible from {r.eligible_from.isoformat()}</div>")
            if r.eligible_from
            else _EMPTY
        )
        repeat = mark_safe(f"<div>repeat from {r.repeat_from.isoformat()}</div>") if r.repeat_from else _EMPTY
        out.append(
            format_html(
                _ROW,
                _escaped(r.criterion_id),
                _escaped(r.outcome),
                _escaped(row.page_text),
                _escaped(row.title),
                review,
                r.reason,
                valid,
                eligible,
                repeat,
            )
        )
    return mark_safe("".join(out))


def not_applicable_html(rows: Sequence[CriterionRow]) -> SafeString:
    """The items of a group's folded list of criteria that do not apply."""
    return mark_safe(
        "".join(
            format_html(
                _NOT_APPLICABLE, _escaped(row.result.criterion_id), _escaped(row.title), row.result.reason
            )
            for row in rows
        )
    )


def outcome_counts_html(group: CriterionGroup) -> SafeString:
    """The badges of a group's header: how many of its criteria have each outcome."""
    labels = {value: str(label).lower() for value, label in Outcome.choices}
    return mark_safe(
        "".join(
            format_html(
                '<span class="badge outcome-{} ms-1">{} {}</span>',
                outcome,
                n,
                labels.get(outcome, outcome.lower()),
            )
            for outcome, n in group.counts.items()
        )
    )
