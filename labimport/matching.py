"""What a site recorded and imported before, read from the database for one file (README § 4, 10).

Each lookup is one query for the whole file, never one per row: the site's hospital identifiers
by (system, value), and its earlier imports replayed in arrival order into a `mapping.History`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import tzinfo

from django.db.models import QuerySet

from participants.models import Participant, Site

from .dryrun import DryRun, dry_run
from .mapping import Earlier, History, Row, result_key
from .models import HospitalIdentifier, ImportedRow
from .reading import Identifier, Reading, SentValue


def participant_lookup(site: Site) -> Callable[[Identifier], str | None]:
    """The screening number of the site's participant who carries an identifier (exact match)."""
    numbers: dict[tuple[str, str], str] = {
        (system, value): number
        for system, value, number in HospitalIdentifier.objects.filter(site=site).values_list(
            "system", "value", "participant__screening_number"
        )
    }

    def participant_of(identifier: Identifier) -> str | None:
        return numbers.get((identifier.system, identifier.value))

    return participant_of


def site_history(site: Site) -> History:
    """The site's earlier imports, as the rows of a file are decided against them."""
    return _replay(ImportedRow.objects.filter(site=site))


def window_history(site: Site, readings: Iterable[Reading]) -> History:
    """The part of the site's imports that a window of readings can meet: the rows with their
    sources (duplicates) and of their results (versions), two queries. Rows of the same file
    written before the window are among them, so deciding a file window by window against this
    gives the rows of `site_history`, with memory bounded by the window, not by the file."""
    sources, results = set(), set()
    for reading in readings:
        if reading.source is not None:
            sources.add(reading.source)
        key = result_key(reading)
        if key is not None:
            results.add(key)
    site_rows = ImportedRow.objects.filter(site=site)
    history = _replay(site_rows.filter(result__in=results))
    history.sources.update(site_rows.filter(source__in=sources).values_list("source", flat=True))
    return history


def _replay(imported: QuerySet[ImportedRow]) -> History:
    """Imported rows replayed in arrival order into a History."""
    history = History()
    rows = imported.order_by("id").values_list(
        "source",
        "result",
        "action",
        "patient_system",
        "patient_value",
        "participant__screening_number",
        "order_keys",
        "value_sent",
        "rejected",
    )
    for source, result, action, system, value, participant, order, sent, rejected in rows.iterator():
        patient = Identifier(system, value) if system and value else None
        earlier = Earlier(
            action,
            patient,
            participant,
            tuple((kind, text) for kind, text in order),
            SentValue.from_json(sent) if sent else None,
            rejected,
        )
        history.add(source or None, result or None, earlier)
    return history


def site_dry_run(site: Site, path: str, *, zone: tzinfo, zone_name: str, windowed: bool = False) -> DryRun:
    """The dry run of a file for a site, against its identifiers and everything it imported.
    `windowed`: the caller gives the stager a `window_history` before each window of readings,
    instead of the whole history read here."""
    return dry_run(
        path,
        site=site.code,
        zone=zone,
        zone_name=zone_name,
        participant_of=participant_lookup(site),
        history=History() if windowed else site_history(site),
    )


def imported_row(site: Site, file_name: str, row: Row, participant: Participant | None) -> ImportedRow:
    """The record of a row that was not skipped (unsaved); the staging of part 2 saves it."""
    return ImportedRow(
        site=site,
        file_name=file_name,
        source=row.source or "",
        result=row.result or "",
        action=row.action,
        status=row.status or "",
        patient_system=row.patient.system if row.patient else "",
        patient_value=row.patient.value if row.patient else "",
        participant=participant,
        order_keys=[list(pair) for pair in row.order],
        value_sent=row.sent.as_json() if row.sent else None,
    )
