"""Actions of the lab import, each by an acting user in one transaction with its audit context."""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

import pghistory
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.utils import timezone
from redis.exceptions import RedisError

from participants.models import LabResult, Participant, Site, User
from participants.selectors import editable_participants
from participants.services import RecordInvalid, correct_record, record_lab, void_record

from .copying import copy_rows, reserve_ids
from .mapping import SKIP, Row
from .matching import imported_row, site_dry_run, window_history
from .models import (
    REVIEWABLE_ACTIONS,
    BatchStatus,
    HospitalIdentifier,
    ImportAction,
    ImportBatch,
    ImportedRow,
    Review,
    StagedRow,
)
from .selectors import import_sites, records_of_results, visible_batches

log = logging.getLogger(__name__)


@transaction.atomic
def record_hospital_identifier(
    user: User, participant: Participant, *, system: str, value: str
) -> HospitalIdentifier:
    """Record an identifier of the site's hospital systems for a participant the user may change."""
    locked = editable_participants(user).select_for_update(of=("self",)).filter(pk=participant.pk).first()
    if locked is None:
        raise PermissionDenied("You may not change this participant's data.")
    system, value = system.strip(), value.strip()
    if not system or not value:
        raise ValidationError("An identifier needs both a system and a value.")
    identifier = HospitalIdentifier(
        site_id=locked.site_id, participant=locked, system=system, value=value, recorded_by=user
    )
    with pghistory.context(user=user.pk, reason="hospital identifier recorded"):
        try:
            with transaction.atomic():
                identifier.save()
        except IntegrityError:
            raise ValidationError(
                f"{system}|{value} is already recorded for a participant of this site."
            ) from None
    return identifier


# --- Staging and review (README § 1, § 10) --------------------------------------------------------

STAGE_CHUNK = 2000  # rows written per COPY: bounded memory however long the file


def progress_key(batch_id: int) -> str:
    return f"labimport:batch:{batch_id}:rows"


def staged_so_far(batch: ImportBatch) -> int:
    """Rows decided so far: published while the staging transaction is still open, then stored."""
    if batch.status != BatchStatus.STAGING:
        return batch.rows_done
    try:
        return int(cache.get(progress_key(batch.pk)) or 0)
    except RedisError:
        return 0


def site_zone(site: Site) -> tuple[ZoneInfo, str]:
    """Collection dates are taken in the site's time zone (README § 7), else the trial's."""
    name = getattr(site, "time_zone", "") or settings.TIME_ZONE
    return ZoneInfo(name), name


def open_batch(user: User, site: Site, *, file_name: str, origin: str) -> ImportBatch:
    """Record that a coordinator of the site sends a file; `stage_batch` then stages it."""
    if not import_sites(user).filter(pk=site.pk).exists():
        raise PermissionDenied("Only a coordinator of the site imports its lab files.")
    return ImportBatch.objects.create(
        site=site, file_name=os.path.basename(file_name)[:255] or "upload", origin=origin, created_by=user
    )


@transaction.atomic
def stage_batch(batch_id: int, path: str) -> ImportBatch:
    """Stage every row of the batch's file exactly as the dry run decides it, in one transaction.

    The site is locked first, so that two files of a site are decided one after the other against
    everything imported before (a source is never stored twice, nothing is lost in between). A
    batch already staged or refused is left as it is, so running this twice stages once.
    """
    batch = ImportBatch.objects.select_for_update().select_related("site").get(pk=batch_id)
    if batch.status != BatchStatus.STAGING:
        return batch
    site = Site.objects.select_for_update().get(pk=batch.site_id)
    zone, zone_name = site_zone(site)
    run = site_dry_run(site, path, zone=zone, zone_name=zone_name, windowed=True)
    batch.format = run.format or ""
    if run.refused is not None:
        batch.status, batch.refused, batch.kept_file = BatchStatus.REFUSED, run.refused, ""
        batch.save(update_fields=["format", "status", "refused", "kept_file"])
        return batch
    participant_ids = dict(Participant.objects.filter(site=site).values_list("screening_number", "pk"))
    stager = run.stager
    assert stager is not None
    done = 0
    # A window of readings at a time: its earlier imports read (two queries), its rows decided,
    # then written, so that the next window meets them in the database. Memory is bounded by the
    # window whatever the length of the file or the site's history.
    while window := list(itertools.islice(run.readings, STAGE_CHUNK)):
        stager.history = window_history(site, window)
        chunk: list[tuple[Row, ImportedRow | None]] = []
        for reading in window:
            row = stager.row(reading)
            participant_id = participant_ids.get(row.participant) if row.participant else None
            imported = None
            if row.action != SKIP:
                imported = imported_row(site, batch.file_name, row, None)
                imported.participant_id, imported.imported_by_id = participant_id, batch.created_by_id
            chunk.append((row, imported))
        done = _write_rows(batch, chunk, done, participant_ids)
    batch.status, batch.rows_done, batch.ignored = BatchStatus.STAGED, done, dict(run.ignored)
    batch.kept_file = ""
    batch.save(update_fields=["format", "status", "rows_done", "ignored", "kept_file"])
    return batch


def _write_rows(
    batch: ImportBatch,
    chunk: list[tuple[Row, ImportedRow | None]],
    done: int,
    participant_ids: dict[str, int],
) -> int:
    imported_rows = [imported for _, imported in chunk if imported is not None]
    for imported, pk in zip(imported_rows, reserve_ids(ImportedRow, len(imported_rows)), strict=True):
        imported.pk = pk
    copy_rows(ImportedRow, imported_rows, with_ids=True)
    staged = []
    for n, (row, imported) in enumerate(chunk, start=done + 1):
        value = row.value
        staged.append(
            StagedRow(
                batch=batch,
                position=n,
                shown=row.as_json(),
                action=row.action,
                imported=imported,
                participant_id=participant_ids.get(row.participant) if row.participant else None,
                test=row.test or "",
                value_number=value if isinstance(value, Decimal) else None,
                value_text=value if isinstance(value, str) else "",
                unit=row.unit or "",
                uln=row.uln,
                specimen=row.specimen or "",
                collected=row.collected,
                review=Review.PENDING if row.action in REVIEWABLE_ACTIONS else Review.NONE,
            )
        )
    copy_rows(StagedRow, staged)
    done += len(chunk)
    try:
        cache.set(progress_key(batch.pk), done, timeout=3600)
    except RedisError:  # the count is only shown while waiting: never fail a staging over it
        log.warning("progress of lab batch %s not published", batch.pk)
    return done


def receive_file(
    user: User, site: Site, chunks: Iterable[bytes], *, file_name: str, origin: str
) -> ImportBatch:
    """Open a batch and keep its file under LAB_IMPORT_DIR. A small file is staged at once; a
    larger one stays `staging` for `stage_kept`, which a worker runs (labimport.tasks)."""
    batch = open_batch(user, site, file_name=file_name, origin=origin)
    directory = Path(settings.LAB_IMPORT_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"batch-{batch.pk}"
    with path.open("wb") as kept:
        for chunk in chunks:
            kept.write(chunk)
    batch.kept_file = path.name
    batch.save(update_fields=["kept_file"])
    if path.stat().st_size <= settings.LAB_IMPORT_INLINE_BYTES:
        return stage_kept(batch.pk)
    return batch


def stage_kept(batch_id: int) -> ImportBatch:
    """Stage a batch from its kept file, then let the file go. Idempotent: a staged or refused
    batch is returned as it is. An unexpected error refuses the batch (nothing of it was stored,
    so the file can simply be sent again); transient database errors propagate, to be retried."""
    batch = ImportBatch.objects.get(pk=batch_id)
    if batch.status != BatchStatus.STAGING or not batch.kept_file:
        return batch
    path = Path(settings.LAB_IMPORT_DIR) / batch.kept_file
    if not path.exists():
        return _refuse(batch, "the file was lost before it could be staged; send it again")
    try:
        batch = stage_batch(batch_id, str(path))
    except (OperationalError, InterfaceError):
        raise
    except Exception:
        log.exception("lab batch %s could not be staged", batch_id)
        return _refuse(batch, "the file could not be staged because of an error on our side; send it again")
    path.unlink(missing_ok=True)
    return batch


def _refuse(batch: ImportBatch, reason: str) -> ImportBatch:
    ImportBatch.objects.filter(pk=batch.pk, status=BatchStatus.STAGING).update(
        status=BatchStatus.REFUSED, refused=reason
    )
    batch.refresh_from_db()
    return batch


def stage_file(user: User, site: Site, path: str, *, file_name: str, origin: str) -> ImportBatch:
    """Open a batch and stage it at once (the command, the API and small uploads)."""
    batch = open_batch(user, site, file_name=file_name, origin=origin)
    return stage_batch(batch.pk, path)


def _locked_rows(
    user: User, batch: ImportBatch, row_ids: Iterable[int]
) -> tuple[ImportBatch, list[StagedRow]]:
    locked = visible_batches(user).select_for_update(of=("self",)).filter(pk=batch.pk).first()
    if locked is None:
        raise PermissionDenied("Only a coordinator of the site reviews its lab files.")
    rows = list(
        locked.rows.select_for_update(of=("self",))
        .select_related("imported", "participant")
        .filter(pk__in=list(row_ids), review=Review.PENDING)
        .order_by("position")
    )
    return locked, rows


def _participant(batch: ImportBatch, row: StagedRow) -> Participant:
    """The row's participant, or the one whose identifier the site recorded since staging."""
    if row.participant is not None:
        return row.participant
    imported = row.imported
    found = None
    if imported is not None and imported.patient_value:
        found = (
            HospitalIdentifier.objects.filter(
                site=batch.site_id, system=imported.patient_system, value=imported.patient_value
            )
            .select_related("participant")
            .first()
        )
    if found is None:
        patient = f"{imported.patient_system}|{imported.patient_value}" if imported else "this patient"
        raise RecordInvalid(
            {
                NON_FIELD_ERRORS: f"Row {row.position}: no participant of the site carries {patient}. "
                "Record the hospital identifier on the participant's page, then accept the row."
            }
        )
    return found.participant


def earlier_record(batch: ImportBatch, row: StagedRow) -> LabResult | None:
    """The current lab record of the row's result that an accepted earlier row created."""
    result = row.imported.result if row.imported else ""
    record_id = records_of_results(batch, {result}).get(result) if result else None
    return LabResult.objects.get(pk=record_id) if record_id is not None else None


def _earlier_pending(batch: ImportBatch, row: StagedRow) -> bool:
    result = row.imported.result if row.imported else ""
    return (
        bool(result)
        and StagedRow.objects.filter(
            batch__site=batch.site_id,
            imported__result=result,
            imported_id__lt=row.imported_id,
            review=Review.PENDING,
            action__in=[ImportAction.STAGE, ImportAction.SUPERSEDE],
        ).exists()
    )


def _value(row: StagedRow) -> Decimal | str:
    return row.value_number if row.value_number is not None else row.value_text


SUPERSEDE_REASONS = {"amended": "amended", "corrected": "corrected", "C": "corrected (C)", "U": "final (U)"}


def _accept(user: User, batch: ImportBatch, row: StagedRow) -> LabResult:
    source = row.shown.get("source") or "(no source)"
    status = row.shown.get("status") or ""
    if _earlier_pending(batch, row):
        raise RecordInvalid(
            {
                NON_FIELD_ERRORS: f"Row {row.position}: accept or reject the earlier version of this result first."
            }
        )
    participant = _participant(batch, row)
    earlier = earlier_record(batch, row)
    if row.action == ImportAction.VOID:
        if earlier is None:
            raise RecordInvalid(
                {
                    NON_FIELD_ERRORS: f"Row {row.position}: no record of this result is on file to void; reject the row."
                }
            )
        return cast(
            LabResult, void_record(user, earlier, reason=f"entered in error at the hospital: {source}")
        )
    if row.action == ImportAction.SUPERSEDE and earlier is not None:
        reason = f"{SUPERSEDE_REASONS.get(status, 'new final version')} at the hospital: {source}"
        return cast(
            LabResult,
            correct_record(
                user,
                earlier,
                reason=reason,
                test=row.test,
                value_number=row.value_number,
                value_text=row.value_text,
                unit=row.unit,
                uln=row.uln,
                specimen=row.specimen,
                collected=row.collected,
            ),
        )
    assert row.collected is not None  # a row without a date is skipped (README § 9)
    return record_lab(
        user,
        participant,
        test=row.test,
        value=_value(row),
        collected=row.collected,
        unit=row.unit,
        uln=row.uln,
        specimen=row.specimen,
    )


@transaction.atomic
def accept_rows(user: User, batch: ImportBatch, row_ids: Iterable[int]) -> list[StagedRow]:
    """Accept staged rows, in file order: each becomes a lab record through the participants'
    services (record, correct for a supersede, void), with its file and source in the audit
    context. Every row or none: the first refused one is reported and nothing is kept."""
    locked, rows = _locked_rows(user, batch, row_ids)
    now = timezone.now()
    for row in rows:
        context = {"file": locked.file_name, "source": row.shown.get("source"), "batch": locked.pk}
        with pghistory.context(lab_import=context):
            row.record = _accept(user, locked, row)
        row.review, row.reviewed_by, row.reviewed_at = Review.ACCEPTED, user, now
        row.save(update_fields=["record", "review", "reviewed_by", "reviewed_at"])
    return rows


@transaction.atomic
def reject_rows(user: User, batch: ImportBatch, row_ids: Iterable[int]) -> list[StagedRow]:
    """Reject staged rows: nothing is recorded, and later files no longer count them as imports."""
    locked, rows = _locked_rows(user, batch, row_ids)
    now = timezone.now()
    with pghistory.context(user=user.pk, reason="staged lab rows rejected"):
        for row in rows:
            row.review, row.reviewed_by, row.reviewed_at = Review.REJECTED, user, now
        StagedRow.objects.bulk_update(rows, ["review", "reviewed_by", "reviewed_at"])
        ImportedRow.objects.filter(pk__in=[r.imported_id for r in rows if r.imported_id]).update(
            rejected=True
        )
    return rows
