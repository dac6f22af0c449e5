"""Staging a file, and a coordinator's review of its rows (README § 1 and § 10, issue 14 § 3 and § 5)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.http import Http404

from audit.models import EVENT_MODELS
from labimport import services
from labimport.models import BatchOrigin, BatchStatus, ImportBatch, ImportedRow, Review, StagedRow
from labimport.selectors import get_batch
from labimport.services import (
    accept_rows,
    receive_file,
    record_hospital_identifier,
    reject_rows,
    stage_batch,
    stage_file,
    stage_kept,
)
from labimport.tasks import stage_lab_batch
from participants.models import LabResult, Participant, RecordState, Site, User
from participants.services import RecordInvalid

from .helpers import LABS, MRN_SYSTEM, exact, ndjson_file, observation, quantity

pytestmark = pytest.mark.django_db


def dry_run_of(path: Path, site: Site) -> dict[str, Any]:
    out = io.StringIO()
    call_command("stage_labs", str(path), "--site", site.code, "--format", "json", stdout=out)
    output: dict[str, Any] = exact(out.getvalue())
    return output


def stage(user: User, site: Site, path: Path) -> ImportBatch:
    return stage_file(user, site, str(path), file_name=path.name, origin=BatchOrigin.UPLOAD)


def hb(
    obs_id: str = "hb-1", *, value: str = "12.9", version: str = "1", status: str = "final"
) -> dict[str, Any]:
    return observation(obs_id, version=version, status=status, valueQuantity=quantity(value, "g/dL"))


@pytest.fixture
def known(participant_a: Participant, coordinator_a: User) -> Participant:
    record_hospital_identifier(coordinator_a, participant_a, system=MRN_SYSTEM, value="H-1")
    return participant_a


@pytest.mark.parametrize("name", ["synthea-transaction.json", "observations.ndjson", "oru-r01.hl7"])
def test_staging_stores_exactly_what_the_dry_run_shows(name: str, coordinator_a: User, site_a: Site) -> None:
    shown = dry_run_of(LABS / name, site_a)
    batch = stage(coordinator_a, site_a, LABS / name)
    assert batch.status == BatchStatus.STAGED and batch.format == shown["format"]
    stored = [exact(json.dumps(r.shown)) for r in batch.rows.order_by("position")]
    assert stored == shown["rows"]  # same rows, actions, problems, values as sent
    assert {k: str(v) for k, v in batch.ignored.items()} == shown["ignored"]
    assert ImportedRow.objects.count() == sum(r["action"] != "skip" for r in shown["rows"])
    assert not LabResult.objects.exists()  # nothing lands before a review


@pytest.mark.parametrize("window", [1, 2, 7])
@pytest.mark.parametrize("name", ["observations.ndjson", "oru-r01.hl7"])
def test_staging_window_by_window_decides_as_the_whole_file(
    name: str, window: int, coordinator_a: User, site_a: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Staging reads the earlier imports a window of readings at a time (bounded memory): versions,
    duplicates and voids that span windows are decided as the dry run of the whole file decides them."""
    shown = dry_run_of(LABS / name, site_a)
    monkeypatch.setattr(services, "STAGE_CHUNK", window)
    batch = stage(coordinator_a, site_a, LABS / name)
    assert [exact(json.dumps(r.shown)) for r in batch.rows.order_by("position")] == shown["rows"]
    assert {r["action"] for r in shown["rows"]} - {"stage", "skip"}, "the file has versions to decide"
    again = dry_run_of(LABS / name, site_a)  # now against the staged rows: all duplicates
    monkeypatch.setattr(services, "STAGE_CHUNK", window + 1)
    resent = stage(coordinator_a, site_a, LABS / name)
    assert [exact(json.dumps(r.shown)) for r in resent.rows.order_by("position")] == again["rows"]


def test_a_resent_file_stages_nothing_new(coordinator_a: User, site_a: Site) -> None:
    stage(coordinator_a, site_a, LABS / "observations.ndjson")
    imported = ImportedRow.objects.count()
    again = stage(coordinator_a, site_a, LABS / "observations.ndjson")
    assert ImportedRow.objects.count() == imported
    assert not again.rows.exclude(review=Review.NONE).exists()
    assert all(r.action == "skip" for r in again.rows.all())


def test_a_source_is_stored_once_by_the_database(coordinator_a: User, site_a: Site) -> None:
    stage(coordinator_a, site_a, LABS / "observations.ndjson")
    row = ImportedRow.objects.exclude(source="").first()
    assert row is not None
    row.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        row.save()


def test_staging_twice_the_same_batch_stages_once(coordinator_a: User, site_a: Site) -> None:
    batch = stage(coordinator_a, site_a, LABS / "oru-r01.hl7")
    stage_batch(batch.pk, str(LABS / "oru-r01.hl7"))
    assert StagedRow.objects.filter(batch=batch).count() == batch.rows_done


def test_a_refused_file_is_kept_with_its_reason(tmp_path: Path, coordinator_a: User, site_a: Site) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"resourceType": "Bundle", ', encoding="utf-8")
    batch = stage(coordinator_a, site_a, path)
    assert batch.status == BatchStatus.REFUSED and batch.refused
    assert not batch.rows.exists()


def test_only_a_coordinator_of_the_site_stages(coordinator_b: User, site_a: Site) -> None:
    with pytest.raises(PermissionDenied):
        stage(coordinator_b, site_a, LABS / "oru-r01.hl7")


def test_another_sites_batch_is_404(coordinator_a: User, coordinator_b: User, site_a: Site) -> None:
    batch = stage(coordinator_a, site_a, LABS / "oru-r01.hl7")
    assert get_batch(coordinator_a, batch.pk) == batch
    with pytest.raises(Http404):
        get_batch(coordinator_b, batch.pk)
    with pytest.raises(PermissionDenied):
        accept_rows(coordinator_b, batch, batch.rows.values_list("pk", flat=True))


def test_accepting_records_the_lab_with_its_source(
    tmp_path: Path, known: Participant, coordinator_a: User
) -> None:
    batch = stage(coordinator_a, known.site, ndjson_file(tmp_path, hb()))
    row = batch.rows.get()
    assert row.participant == known and row.review == Review.PENDING
    accept_rows(coordinator_a, batch, [row.pk])
    row.refresh_from_db()
    lab = LabResult.objects.get(participant=known)
    assert row.review == Review.ACCEPTED and row.record == lab and row.reviewed_by == coordinator_a
    assert (lab.test, str(lab.value_number.normalize()), lab.unit) == ("hemoglobin", "12.9", "g/dL")
    (event,) = EVENT_MODELS[LabResult].objects.filter(pgh_obj_id=lab.pk)
    assert event.pgh_context["lab_import"] == {
        "file": "results.ndjson",
        "source": row.shown["source"],
        "batch": batch.pk,
    }
    assert event.pgh_context["user"] == coordinator_a.pk


def test_rejecting_records_nothing_and_frees_the_result(
    tmp_path: Path, known: Participant, coordinator_a: User
) -> None:
    batch = stage(coordinator_a, known.site, ndjson_file(tmp_path, hb()))
    reject_rows(coordinator_a, batch, batch.rows.values_list("pk", flat=True))
    assert not LabResult.objects.exists()
    assert batch.rows.get().review == Review.REJECTED
    assert ImportedRow.objects.get().rejected
    # A newer version of a rejected result is a new import, not a supersede.
    later = stage(coordinator_a, known.site, ndjson_file(tmp_path, hb(version="2", status="amended")))
    assert later.rows.get().action == "stage"


def test_a_newer_version_supersedes_the_accepted_one(
    tmp_path: Path, known: Participant, coordinator_a: User
) -> None:
    first = stage(coordinator_a, known.site, ndjson_file(tmp_path, hb()))
    accept_rows(coordinator_a, first, first.rows.values_list("pk", flat=True))
    second = stage(
        coordinator_a, known.site, ndjson_file(tmp_path, hb(value="11.2", version="2", status="amended"))
    )
    row = second.rows.get()
    assert row.action == "supersede"
    accept_rows(coordinator_a, second, [row.pk])
    old, new = LabResult.objects.order_by("pk")
    assert old.state == RecordState.SUPERSEDED and new.state == RecordState.CURRENT
    assert new.supersedes == old and str(new.value_number.normalize()) == "11.2"
    assert "amended" in new.change_reason and "hb-1" in new.change_reason


def test_entered_in_error_voids_the_accepted_one(
    tmp_path: Path, known: Participant, coordinator_a: User
) -> None:
    first = stage(coordinator_a, known.site, ndjson_file(tmp_path, hb()))
    accept_rows(coordinator_a, first, first.rows.values_list("pk", flat=True))
    second = stage(
        coordinator_a, known.site, ndjson_file(tmp_path, hb(version="2", status="entered-in-error"))
    )
    row = second.rows.get()
    assert row.action == "void"
    accept_rows(coordinator_a, second, [row.pk])
    lab = LabResult.objects.get()
    assert lab.state == RecordState.VOIDED and "hb-1" in lab.void_reason
    row.refresh_from_db()
    assert row.record == lab


def test_a_preliminary_result_waits_and_is_not_reviewed(
    tmp_path: Path, known: Participant, coordinator_a: User
) -> None:
    batch = stage(coordinator_a, known.site, ndjson_file(tmp_path, hb(status="preliminary")))
    row = batch.rows.get()
    assert row.action == "wait" and row.review == Review.NONE
    accept_rows(coordinator_a, batch, [row.pk])
    assert not LabResult.objects.exists()


def test_a_supersede_waits_for_the_earlier_version_to_be_reviewed(
    tmp_path: Path, known: Participant, coordinator_a: User
) -> None:
    batch = stage(
        coordinator_a,
        known.site,
        ndjson_file(tmp_path, hb(), hb(value="11.2", version="2", status="corrected")),
    )
    first, second = batch.rows.order_by("position")
    with pytest.raises(RecordInvalid):
        accept_rows(coordinator_a, batch, [second.pk])
    accept_rows(coordinator_a, batch, [first.pk, second.pk])
    assert (
        LabResult.objects.filter(state=RecordState.CURRENT).get().value_number.normalize().to_eng_string()
        == "11.2"
    )


def test_an_unmatched_row_is_accepted_once_the_identifier_is_recorded(
    tmp_path: Path, participant_a: Participant, coordinator_a: User
) -> None:
    batch = stage(coordinator_a, participant_a.site, ndjson_file(tmp_path, hb()))
    row = batch.rows.get()
    assert row.participant is None and "unmatched-patient" in row.shown["problems"]
    with pytest.raises(RecordInvalid):
        accept_rows(coordinator_a, batch, [row.pk])
    record_hospital_identifier(coordinator_a, participant_a, system=MRN_SYSTEM, value="H-1")
    accept_rows(coordinator_a, batch, [row.pk])
    assert LabResult.objects.get().participant == participant_a


def test_bulk_accept_is_all_or_nothing(tmp_path: Path, known: Participant, coordinator_a: User) -> None:
    batch = stage(
        coordinator_a,
        known.site,
        ndjson_file(
            tmp_path, hb(), observation("hb-2", mrn="H-unknown", valueQuantity=quantity("13", "g/dL"))
        ),
    )
    with pytest.raises(RecordInvalid):
        accept_rows(coordinator_a, batch, batch.rows.values_list("pk", flat=True))
    assert not LabResult.objects.exists()
    assert not batch.rows.filter(review=Review.ACCEPTED).exists()


def test_the_staging_task_is_idempotent(tmp_path: Path, settings, coordinator_a: User, site_a: Site) -> None:  # type: ignore[no-untyped-def]
    settings.LAB_IMPORT_DIR = tmp_path / "kept"
    settings.LAB_IMPORT_INLINE_BYTES = 0
    content = (LABS / "observations.ndjson").read_bytes()
    batch = receive_file(
        coordinator_a, site_a, [content], file_name="observations.ndjson", origin=BatchOrigin.API
    )
    assert batch.status == BatchStatus.STAGING and (settings.LAB_IMPORT_DIR / batch.kept_file).exists()
    assert stage_lab_batch(batch.pk) == BatchStatus.STAGED
    assert stage_lab_batch(batch.pk) == BatchStatus.STAGED
    batch.refresh_from_db()
    assert batch.rows.count() == batch.rows_done > 0
    assert not any((settings.LAB_IMPORT_DIR).iterdir())


def test_an_unexpected_error_refuses_the_batch_and_keeps_nothing(
    tmp_path: Path, settings, monkeypatch, coordinator_a: User, site_a: Site
) -> None:  # type: ignore[no-untyped-def]
    settings.LAB_IMPORT_DIR = tmp_path / "kept"
    settings.LAB_IMPORT_INLINE_BYTES = 0
    content = (LABS / "observations.ndjson").read_bytes()
    batch = receive_file(
        coordinator_a, site_a, [content], file_name="observations.ndjson", origin=BatchOrigin.API
    )

    def broken(*args: object) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_write_rows", broken)
    batch = stage_kept(batch.pk)
    assert batch.status == BatchStatus.REFUSED and "send it again" in batch.refused
    assert not ImportedRow.objects.exists() and not batch.rows.exists()
