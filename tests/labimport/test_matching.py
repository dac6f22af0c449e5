"""Hospital identifiers of a site, and what the site imported before (README § 4 and § 10)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction

from audit.models import EVENT_MODELS
from labimport.dryrun import dry_run
from labimport.matching import imported_row, participant_lookup, site_history
from labimport.models import HospitalIdentifier, ImportedRow
from labimport.services import record_hospital_identifier
from participants.models import Participant, Site, User

from .helpers import LABS, MRN_SYSTEM, hl7_file, hl7_message, ndjson_file, observation, quantity

pytestmark = pytest.mark.django_db
HB = {"valueQuantity": quantity("12.9", "g/dL")}


def stage(path: Path, site: Site, *extra: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("stage_labs", str(path), "--site", site.code, "--format", "json", *extra, stdout=out)
    output: dict[str, Any] = json.loads(out.getvalue())
    return output


def import_rows(path: Path, site: Site, *, rejected: set[int] = frozenset()) -> list[Any]:  # type: ignore[assignment]
    """Record the rows of a file that were not skipped, as the staging of a real import will."""
    from zoneinfo import ZoneInfo

    numbers = dict(Participant.objects.filter(site=site).values_list("screening_number", "pk"))
    run = dry_run(
        str(path),
        site=site.code,
        zone=ZoneInfo("UTC"),
        zone_name="UTC",
        participant_of=participant_lookup(site),
        history=site_history(site),
    )
    rows = list(run.rows)
    for n, row in enumerate(rows):
        if row.action != "skip":
            record = imported_row(site, path.name, row, None)
            record.participant_id = numbers.get(row.participant)
            record.rejected = n in rejected
            record.save()
    return rows


def test_recorded_identifier_matches_for_its_site_only(
    tmp_path: Path, participant_a: Participant, coordinator_a: User, site_b: Site
) -> None:
    record_hospital_identifier(coordinator_a, participant_a, system=MRN_SYSTEM, value="H-204518")
    for_a = stage(LABS / "oru-r01.hl7", participant_a.site)
    assert {row["participant"] for row in for_a["rows"]} == {participant_a.screening_number}
    assert all("unmatched-patient" not in row["problems"] for row in for_a["rows"])
    for_b = stage(LABS / "oru-r01.hl7", site_b)
    assert {row["participant"] for row in for_b["rows"]} == {None}
    assert all("unmatched-patient" in row["problems"] for row in for_b["rows"])


def test_identifier_matching_is_exact(participant_a: Participant, coordinator_a: User) -> None:
    record_hospital_identifier(coordinator_a, participant_a, system=MRN_SYSTEM, value="h-204518")
    output = stage(LABS / "oru-r01.hl7", participant_a.site)
    assert {row["participant"] for row in output["rows"]} == {None}


def test_an_identifier_belongs_to_one_participant_of_a_site(
    participant_a: Participant, participant_b: Participant, coordinator_a: User, coordinator_b: User
) -> None:
    from tests.factories import ParticipantFactory

    record_hospital_identifier(coordinator_a, participant_a, system=MRN_SYSTEM, value="H-1")
    # Another site's hospital may use the same number for someone else.
    record_hospital_identifier(coordinator_b, participant_b, system=MRN_SYSTEM, value="H-1")
    other = ParticipantFactory(site=participant_a.site, created_by=coordinator_a)
    with pytest.raises(ValidationError, match="already recorded"):
        record_hospital_identifier(coordinator_a, other, system=MRN_SYSTEM, value="H-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        HospitalIdentifier.objects.create(
            site=participant_a.site,
            participant=other,
            system=MRN_SYSTEM,
            value="H-1",
            recorded_by=coordinator_a,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        HospitalIdentifier.objects.create(
            site=participant_a.site, participant=other, system=" ", value="H-2", recorded_by=coordinator_a
        )


def test_recording_is_site_scoped_and_history_tracked(
    participant_a: Participant, coordinator_a: User, coordinator_b: User
) -> None:
    with pytest.raises(PermissionDenied):
        record_hospital_identifier(coordinator_b, participant_a, system=MRN_SYSTEM, value="H-1")
    with pytest.raises(ValidationError):
        record_hospital_identifier(coordinator_a, participant_a, system=MRN_SYSTEM, value="  ")
    identifier = record_hospital_identifier(
        coordinator_a, participant_a, system=f" {MRN_SYSTEM}", value="H-1 "
    )
    assert (identifier.site, identifier.system, identifier.value) == (participant_a.site, MRN_SYSTEM, "H-1")
    (event,) = EVENT_MODELS[HospitalIdentifier].objects.filter(pgh_obj_id=identifier.pk)
    assert event.pgh_label == "insert"
    assert event.pgh_context == {"user": coordinator_a.pk, "reason": "hospital identifier recorded"}


def test_earlier_imports_decide_supersede_duplicate_void_and_outdated(tmp_path: Path, site_a: Site) -> None:
    first = tmp_path / "first"
    first.mkdir()
    import_rows(
        ndjson_file(
            first,
            observation("a", version="2", **HB),
            observation("b", version="1", **HB),
            observation("c", version="1", **HB),
            observation("d", version="1", status="preliminary", **HB),
        ),
        site_a,
    )
    rows = stage(
        ndjson_file(
            tmp_path,
            observation("a", version="3", status="amended", **HB),
            observation("a", version="1", **HB),
            observation("b", version="1", **HB),
            observation("c", version="2", status="entered-in-error", **HB),
            observation("d", version="1", status="preliminary", **HB),
            observation("d", version="2", **HB),
        ),
        site_a,
    )["rows"]
    assert [(r["action"], r["problems"]) for r in rows] == [
        ("supersede", ["unmatched-patient"]),
        ("skip", ["unmatched-patient", "outdated"]),
        ("skip", ["duplicate", "unmatched-patient"]),
        ("void", ["unmatched-patient"]),
        ("skip", ["duplicate", "unmatched-patient"]),
        ("stage", ["unmatched-patient"]),
    ]


def test_a_rejected_import_is_not_an_earlier_import(tmp_path: Path, site_a: Site) -> None:
    first = tmp_path / "first"
    first.mkdir()
    import_rows(ndjson_file(first, observation("a", version="1", **HB)), site_a, rejected={0})
    rows = stage(
        ndjson_file(
            tmp_path,
            observation("a", version="2", status="amended", **HB),
            observation("a", version="1", **HB),
        ),
        site_a,
    )["rows"]
    assert rows[0]["action"] == "stage"
    # The rejected row still counts for duplicates: a coordinator decided on that version.
    assert rows[1]["problems"][0] == "duplicate"


def test_an_earlier_import_of_another_patient(
    tmp_path: Path, site_a: Site, participant_a: Participant, coordinator_a: User
) -> None:
    first = tmp_path / "first"
    first.mkdir()
    record_hospital_identifier(coordinator_a, participant_a, system=MRN_SYSTEM, value="H-1")
    import_rows(ndjson_file(first, observation("a", version="1", **HB)), site_a)
    assert ImportedRow.objects.get().participant == participant_a
    rows = stage(
        ndjson_file(
            tmp_path,
            observation("a", version="2", mrn="H-2", status="amended", **HB),
            observation("a", version="3", mrn="H-1", status="amended", **HB),
        ),
        site_a,
    )["rows"]
    assert [(r["action"], r["problems"]) for r in rows] == [
        ("skip", ["unmatched-patient", "patient-mismatch"]),
        ("supersede", []),
    ]


def test_a_final_result_takes_the_preliminary_value_of_an_earlier_file(tmp_path: Path, site_a: Site) -> None:
    first = tmp_path / "first"
    first.mkdir()
    creatinine = {"code": "2160-0", "value": "1.05", "unit": "mg/dL"}
    import_rows(hl7_file(first, hl7_message(creatinine | {"status": "P"}, control="M1")), site_a)
    rows = stage(
        hl7_file(tmp_path, hl7_message(creatinine | {"status": "U", "value": "", "unit": ""}, control="M2")),
        site_a,
    )["rows"]
    assert (rows[0]["action"], rows[0]["value"], rows[0]["unit"], rows[0]["status"]) == (
        "stage",
        1.05,
        "mg/dL",
        "U",
    )


def test_queries_do_not_grow_with_the_file_or_the_history(
    tmp_path: Path,
    site_a: Site,
    participant_a: Participant,
    coordinator_a: User,
    django_assert_max_num_queries,
) -> None:
    record_hospital_identifier(coordinator_a, participant_a, system=MRN_SYSTEM, value="H-1")
    first = tmp_path / "first"
    first.mkdir()
    import_rows(ndjson_file(first, *(observation(f"o{n}", **HB) for n in range(30))), site_a)
    big = ndjson_file(
        tmp_path, *(observation(f"o{n}", version="2", status="amended", **HB) for n in range(60))
    )
    with django_assert_max_num_queries(3):
        rows = stage(big, site_a)["rows"]
    assert [r["action"] for r in rows] == ["supersede"] * 30 + ["stage"] * 30
