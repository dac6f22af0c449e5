"""The EAC queue's filters (django-filter): criterion, cohort and site, among the open items.

Each filters the escalation's own columns (its copy of the participant's site and cohort), so that
the queue's statements read the open items' index alone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import django_filters
from django.db.models import QuerySet

from participants.filters import PageFilterSet
from participants.models import Cohort

from .models import Escalation


class QueueFilter(PageFilterSet):
    criterion = django_filters.ChoiceFilter(
        field_name="criterion_id", empty_label="All criteria", label="Criterion"
    )
    cohort = django_filters.ChoiceFilter(
        field_name="cohort",
        choices=[(c, c) for c in Cohort.values],
        empty_label="All cohorts",
        label="Cohort",
    )
    site = django_filters.ChoiceFilter(
        field_name="site_id", method="filter_site", empty_label="All sites", label="Site"
    )

    class Meta:
        model = Escalation
        fields: list[str] = []

    def __init__(
        self,
        data: Mapping[str, Any] | None,
        queryset: QuerySet[Escalation],
        *,
        criteria: list[str],
        sites: dict[str, int],
    ) -> None:
        """`criteria` and `sites` (code → ID): those present among the reviewer's open items (the
        menus' choices)."""
        super().__init__(data, queryset)  # type: ignore[arg-type]
        self.site_ids = sites
        self.filters["criterion"].extra["choices"] = [(c, c) for c in criteria]
        self.filters["site"].extra["choices"] = [(s, s) for s in sites]

    def filter_site(self, queryset: QuerySet[Escalation], name: str, value: str) -> QuerySet[Escalation]:
        # The code is one of the menu's (the form refuses others), which carries its site's ID: the
        # statement compares the indexed column, with no join to the sites.
        return queryset.filter(site_id=self.site_ids[value]) if value else queryset
