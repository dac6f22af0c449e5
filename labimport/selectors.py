"""The one way views reach lab batches: those of the sites where the user is a coordinator.

Another site's batch is simply not in the queryset, so a URL with its ID gives 404.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from participants.models import Membership, RecordState, Role, Site, User

from .models import ImportAction, ImportBatch, Review, StagedRow


def import_sites(user: User) -> QuerySet[Site]:
    """The sites whose lab files the user may import and review: coordinators of the site only."""
    if not user.is_authenticated or not user.is_active:
        return Site.objects.none()
    site_ids = Membership.objects.filter(user=user, role=Role.COORDINATOR, site__isnull=False).values(
        "site_id"
    )
    return Site.objects.filter(pk__in=site_ids)


def visible_batches(user: User) -> QuerySet[ImportBatch]:
    return ImportBatch.objects.filter(site__in=import_sites(user)).select_related("site", "created_by")


def get_batch(user: User, pk: int) -> ImportBatch:
    """The batch `pk` if the user coordinates its site, else 404."""
    return get_object_or_404(visible_batches(user), pk=pk)


def batch_rows(batch: ImportBatch) -> QuerySet[StagedRow]:
    return batch.rows.select_related("participant", "record", "imported").order_by("position")


def records_of_results(batch: ImportBatch, results: set[str]) -> dict[str, int]:
    """The current lab record of each result that an accepted earlier row created (one query)."""
    found = (
        StagedRow.objects.filter(
            batch__site=batch.site_id,
            imported__result__in=results,
            review=Review.ACCEPTED,
            action__in=[ImportAction.STAGE, ImportAction.SUPERSEDE],
            record__state=RecordState.CURRENT,
        )
        .order_by("imported_id")
        .values_list("imported__result", "record_id")
    )
    return {result: record for result, record in found if record is not None}
