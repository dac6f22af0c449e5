"""The EAC queue's filters (django-filter): criterion, cohort and site, among the open items."""

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
        field_name="participant__cohort",
        choices=[(c, c) for c in Cohort.values],
        empty_label="All cohorts",
        label="Cohort",
    )
    site = django_filters.ChoiceFilter(
        field_name="participant__site__code", empty_label="All sites", label="Site"
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
        sites: list[str],
    ) -> None:
        """`criteria` and `sites`: those present among the reviewer's open items (the menus' choices)."""
        super().__init__(data, queryset)  # type: ignore[arg-type]
        self.filters["criterion"].extra["choices"] = [(c, c) for c in criteria]
        self.filters["site"].extra["choices"] = [(s, s) for s in sites]
