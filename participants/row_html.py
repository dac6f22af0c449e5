"""The dashboard's "holding it back" cell, written here rather than by the template: a row's cell
had some twenty template nodes (loops, filters, conditions), and a page renders 50 rows. The
markup is the one the template gave, character for character (tests/web/test_dashboard.py)."""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from .selectors import Attention

_NL = "\n            "


def _criteria(items: list[tuple[str, str]]) -> SafeString:
    return format_html_join(mark_safe("; "), '<span data-criterion="{}">{}</span>', items)


def attention_html(a: Attention) -> SafeString:
    failing = missing = reviews = none = mark_safe("")
    if a.failing:
        clears = format_html(' · <span class="text-nowrap">clears {}</span>', a.eligible_from.isoformat()) if a.eligible_from else ""
        failing = format_html('<span class="text-danger">fails {}</span>{}', _criteria(a.failing), clears)
    if a.missing:
        more = len(a.missing) - 2
        missing = format_html(
            '{}<span data-testid="missing">{} missing: {}{}</span>',
            " · " if a.failing else "",
            len(a.missing),
            _criteria(a.missing[:2]),
            f" and {more} more" if more > 0 else "",
        )
    if a.reviews:
        n = len(a.reviews)
        reviews = format_html(
            "{}{} review{} pending: {}",
            " · " if a.failing or a.missing else "",
            n,
            "" if n == 1 else "s",
            _criteria(a.reviews),
        )
    if not a.failing and not a.missing and not a.reviews:
        none = mark_safe('<span class="text-body-secondary">—</span>')
    return format_html("{}{}{}{}{}{}{}{}\n          ", _NL, failing, _NL, missing, _NL, reviews, _NL, none)
