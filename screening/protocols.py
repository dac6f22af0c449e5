"""Which protocol version a participant is evaluated under on a given day (docs/amendments.md).

A site uses a version from the day its ethics board approved it (SiteApproval); of the versions
approved at the site by that day, the latest released one applies. A site with no approval in
force (a site opened after the versions were seeded) stays on the trial's first version."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from screening import criteria
from screening.models import ProtocolVersion, SiteApproval

# The version every site used before any amendment (the first the engine knows).
FIRST_VERSION = min(criteria.PROTOCOL_VERSIONS)


def versions_in_force(site_ids: Iterable[int], on: date) -> dict[int, str]:
    """The version each site uses on `on`, in one query."""
    wanted = set(site_ids)
    approved = (
        SiteApproval.objects.filter(site_id__in=wanted, approved_on__lte=on)
        .order_by("site_id", "-protocol__effective_from", "-protocol__version")
        .values_list("site_id", "protocol__version")
    )
    in_force: dict[int, str] = {}
    for site_id, version in approved:
        in_force.setdefault(site_id, version)
    return {site_id: in_force.get(site_id, FIRST_VERSION) for site_id in wanted}


def version_in_force(site_id: int, on: date) -> str:
    return versions_in_force([site_id], on)[site_id]


def known_version(version: str) -> bool:
    """A version the engine implements (an approval of anything else could not be evaluated)."""
    return version in criteria.PROTOCOL_VERSIONS


def released_versions() -> list[ProtocolVersion]:
    return list(ProtocolVersion.objects.order_by("effective_from", "version"))
