"""The filters of list pages (django-filter), read from the page's query string.

A value that is not valid (an unknown status, a NUL character, a search too long) is ignored and
named on the page: a filter never fails the page. Paging and status links keep the filters through
Django's `{% querystring %}` tag, which URL-encodes them.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import Any

import django_filters
from django.db.models import QuerySet

from .extensions import STATE
from .models import Cohort, OutcomeStatus, Participant, ScreeningStatus


class PageFilterSet(django_filters.FilterSet):
    """A FilterSet that applies its valid values only, and can apply some of them alone."""

    def narrow(self, queryset: QuerySet[Any], names: Iterable[str]) -> QuerySet[Any]:
        """`queryset` under the valid values of the named filters only."""
        wanted = set(names)
        for name, value in self.chosen.items():
            if name in wanted:
                queryset = self.filters[name].filter(queryset, value)
        return queryset

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return self.narrow(queryset, self.filters)

    @cached_property
    def chosen(self) -> dict[str, Any]:
        """Each filter's value in effect: "" where none was given or the one given is not valid."""
        if not self.is_bound:
            return dict.fromkeys(self.filters, "")
        self.form.is_valid()  # cleaned_data then holds the valid values only
        return {name: self.form.cleaned_data.get(name) or "" for name in self.filters}

    @cached_property
    def ignored(self) -> list[str]:
        """The labels of the filters whose value was not valid, for the page to say so."""
        return [str(self.form.fields[name].label) for name in self.errors if name in self.form.fields]


class PrintableTextFilter(django_filters.CharFilter):
    """Text with its control characters dropped: no screening number or site code has one."""

    def filter(self, qs: QuerySet[Any], value: str) -> QuerySet[Any]:
        return super().filter(qs, "".join(ch for ch in value if ch.isprintable()).strip())


class ParticipantListFilter(PageFilterSet):
    """The participant list: status, screening outcome, cohort, screening number and, for
    cross-site roles, site."""

    status = django_filters.ChoiceFilter(
        field_name=STATE + "status", choices=ScreeningStatus.choices, label="Status"
    )
    outcome = django_filters.ChoiceFilter(
        field_name=STATE + "outcome", choices=OutcomeStatus.choices, label="Outcome"
    )
    cohort = django_filters.ChoiceFilter(choices=Cohort.choices, label="Cohort")
    # PostgreSQL text cannot hold NUL: the form refuses it (the value is then ignored).
    q = PrintableTextFilter(
        field_name="screening_number", lookup_expr="icontains", max_length=30, label="Screening number"
    )
    site = PrintableTextFilter(field_name="site__code", max_length=10, label="Site")

    class Meta:
        model = Participant
        fields: list[str] = []

    # The same filters on the evaluation layer's state rows, which carry a copy of the
    # participant's site and cohort (the dashboard counts statuses from them alone).
    ON_STATE = {
        "outcome": "outcome",
        "cohort": "cohort",
        "q": "participant__screening_number",
        "site": "site__code",
    }

    def narrow_states(self, states: QuerySet[Any], names: Iterable[str]) -> QuerySet[Any]:
        """`states` (ScreeningState rows, or StateCount rows for the filters other than the
        search) under the valid values of the named filters only."""
        wanted = set(names)
        for name, value in self.chosen.items():
            if name in wanted and value != "":
                on_state = copy.copy(self.filters[name])
                on_state.field_name = self.ON_STATE[name]
                states = on_state.filter(states, value)
        return states

    def __init__(
        self, data: Mapping[str, Any] | None, queryset: QuerySet[Participant], *, cross_site: bool
    ) -> None:
        super().__init__(data, queryset)  # type: ignore[arg-type]
        if not cross_site:  # a site role sees its current site only: no site filter to widen it
            del self.filters["site"]
