"""The coordinator's pages: upload a file, review its rows, accept or reject them."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from labimport.models import ImportBatch, Review
from labimport.services import accept_rows, record_hospital_identifier, stage_file
from participants.models import LabResult, Participant, User
from tests.factories import ParticipantFactory

from .helpers import LABS, MRN_SYSTEM, ndjson_file, observation, quantity

pytestmark = pytest.mark.django_db


def upload(client: Client, participant: Participant, path: Path) -> ImportBatch:
    with path.open("rb") as sent:
        response = client.post(reverse("labimport:upload"), {"site": participant.site_id, "file": sent})
    assert response.status_code == 302, response.content
    batch = ImportBatch.objects.latest("pk")
    assert response["Location"] == reverse("labimport:batch", kwargs={"pk": batch.pk})
    return batch


@pytest.fixture
def coordinator(client: Client, coordinator_a: User, participant_a: Participant) -> Client:
    record_hospital_identifier(coordinator_a, participant_a, system=MRN_SYSTEM, value="H-1")
    client.force_login(coordinator_a)
    return client


def test_upload_review_and_accept(tmp_path: Path, coordinator: Client, participant_a: Participant) -> None:
    anc = observation("anc-1", code="751-8", valueQuantity=quantity("0.4", "10*3/uL"))
    batch = upload(coordinator, participant_a, ndjson_file(tmp_path, anc))
    page = coordinator.get(reverse("labimport:batch", kwargs={"pk": batch.pk}))
    text = page.content.decode()
    assert page.status_code == 200
    assert participant_a.screening_number in text and "anc-1" in text and 'data-testid="preview-row"' in text
    row = batch.rows.get()
    response = coordinator.post(
        reverse("labimport:review", kwargs={"pk": batch.pk}), {"decision": "accept", "rows": [row.pk]}
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.review == Review.ACCEPTED
    assert LabResult.objects.get(participant=participant_a).test == "anc"


def test_reject_in_bulk(tmp_path: Path, coordinator: Client, participant_a: Participant) -> None:
    hb = observation("hb-1", valueQuantity=quantity("12.9", "g/dL"))
    hb2 = observation("hb-2", valueQuantity=quantity("13.1", "g/dL"))
    batch = upload(coordinator, participant_a, ndjson_file(tmp_path, hb, hb2))
    ids = list(batch.rows.values_list("pk", flat=True))
    coordinator.post(
        reverse("labimport:review", kwargs={"pk": batch.pk}), {"decision": "reject", "rows": ids}
    )
    assert set(batch.rows.values_list("review", flat=True)) == {Review.REJECTED}
    assert not LabResult.objects.exists()


def test_a_refused_accept_shows_why(tmp_path: Path, coordinator: Client, participant_a: Participant) -> None:
    other = observation("hb-9", mrn="H-unknown", valueQuantity=quantity("12.9", "g/dL"))
    batch = upload(coordinator, participant_a, ndjson_file(tmp_path, other))
    url = reverse("labimport:review", kwargs={"pk": batch.pk})
    page = coordinator.post(url, {"decision": "accept", "rows": [batch.rows.get().pk]}, follow=True)
    assert "no participant of the site carries" in page.content.decode()
    assert not LabResult.objects.exists()


@pytest.mark.parametrize(
    "content",
    [b'{"resourceType": "Bundle", ', b"not a lab file at all", "MSH|^~\\&|é".encode("latin-1")],
)
def test_bad_files_are_refused_with_a_message(
    tmp_path: Path, coordinator: Client, participant_a: Participant, content: bytes
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    batch = upload(coordinator, participant_a, path)
    page = coordinator.get(reverse("labimport:batch", kwargs={"pk": batch.pk}))
    assert page.status_code == 200 and 'data-testid="refused"' in page.content.decode()


def test_the_shared_examples_stage_from_the_page(coordinator: Client, participant_a: Participant) -> None:
    for name in ("synthea-transaction.json", "observations.ndjson", "oru-r01.hl7"):
        batch = upload(coordinator, participant_a, LABS / name)
        page = coordinator.get(reverse("labimport:batch", kwargs={"pk": batch.pk}))
        assert page.status_code == 200
    assert coordinator.get(reverse("labimport:batches")).status_code == 200


def test_another_site_is_not_offered_for_upload(
    tmp_path: Path, coordinator: Client, participant_b: Participant
) -> None:
    hb = observation("hb-1", valueQuantity=quantity("12.9", "g/dL"))
    with ndjson_file(tmp_path, hb).open("rb") as sent:
        response = coordinator.post(
            reverse("labimport:upload"), {"site": participant_b.site_id, "file": sent}
        )
    assert response.status_code == 400
    assert not ImportBatch.objects.exists()


def _batch_for(tmp_path: Path, coordinator_a: User, site, people: int) -> ImportBatch:  # type: ignore[no-untyped-def]
    tag = tmp_path.name
    """A staged file of two pending rows per participant, one of them correcting an accepted one."""
    sent = []
    for n in range(people):
        participant = ParticipantFactory(site=site, created_by=coordinator_a)
        record_hospital_identifier(coordinator_a, participant, system=MRN_SYSTEM, value=f"{tag}-{n}")
        sent.append(observation(f"hb-{tag}-{n}", mrn=f"{tag}-{n}", valueQuantity=quantity("12.9", "g/dL")))
    first = stage_file(coordinator_a, site, str(ndjson_file(tmp_path, *sent)), file_name="a", origin="upload")
    accept_rows(coordinator_a, first, first.rows.values_list("pk", flat=True))
    again = []
    for n in range(people):
        again.append(
            observation(
                f"hb-{tag}-{n}", mrn=f"{tag}-{n}", version="2", valueQuantity=quantity("13.4", "g/dL")
            )
        )
        again.append(
            observation(
                f"anc-{tag}-{n}", mrn=f"{tag}-{n}", code="751-8", valueQuantity=quantity("2.1", "10*3/uL")
            )
        )
    path = tmp_path / "second.ndjson"
    ndjson_file(tmp_path, *again).rename(path)
    return stage_file(coordinator_a, site, str(path), file_name="b", origin="upload")


def test_the_review_page_has_constant_queries_whatever_its_participants(
    tmp_path: Path, client: Client, coordinator_a: User, site_a, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(coordinator_a)
    (tmp_path / "one").mkdir()
    (tmp_path / "many").mkdir()
    one = _batch_for(tmp_path / "one", coordinator_a, site_a, 1)
    many = _batch_for(tmp_path / "many", coordinator_a, site_a, 8)
    assert {r.action for r in many.rows.all()} == {"stage", "supersede"}
    counted = []
    for batch in (one, many):
        with django_assert_max_num_queries(1000) as captured:
            page = client.get(reverse("labimport:batch", kwargs={"pk": batch.pk}))
        assert page.status_code == 200
        counted.append(len(captured.captured_queries))
    assert page.content.decode().count('data-testid="preview-row"') == 8
    assert counted[1] == counted[0], counted
