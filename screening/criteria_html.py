"""The participant page's criterion tables, rendered by Jinja2 templates
(templates/jinja2/screening/, config/jinja2.py) rather than Django's: each of the 57 criteria was
a row of some twenty template nodes, the largest part of the page's rendering. The markup is the
one the Django template gave, character for character (tests/web/test_participant_page.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe

from screening.models import Outcome, ReviewBy
from screening.selectors import CriterionGroup, CriterionRow


def _render(name: str, context: dict[str, Any]) -> SafeString:
    return mark_safe(get_template(f"screening/{name}", using="jinja2").render(context))  # noqa: S308 - escaped by the template


def criterion_rows_html(rows: Sequence[CriterionRow]) -> SafeString:
    """The rows of a group's criterion table (its `<tbody>`'s content)."""
    # The reviewer's label once a table, not once a row.
    review_by = {value: str(label) for value, label in ReviewBy.choices}
    return _render("criterion_rows.html", {"rows": rows, "review_by": review_by})


def not_applicable_html(rows: Sequence[CriterionRow]) -> SafeString:
    """The items of a group's folded list of criteria that do not apply."""
    return _render("not_applicable.html", {"rows": rows})


def outcome_counts_html(group: CriterionGroup) -> SafeString:
    """The badges of a group's header: how many of its criteria have each outcome."""
    labels = {value: str(label).lower() for value, label in Outcome.choices}
    return _render("outcome_counts.html", {"counts": group.counts, "labels": labels})
