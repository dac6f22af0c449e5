"""A large lab file is staged by a real worker while the page polls its progress (transactional:
the worker sees only committed data)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from labimport.models import BatchStatus, ImportBatch, Review
from labimport.services import record_hospital_identifier
from participants.models import Participant, User
from tests.labimport.helpers import MRN_SYSTEM, ndjson_file, observation, quantity

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_large_file_is_staged_by_the_worker(
    celery_worker_process, tmp_path: Path, settings, coordinator_a: User, participant_a: Participant
) -> None:  # type: ignore[no-untyped-def]
    settings.LAB_IMPORT_INLINE_BYTES = 0  # every file goes to the worker
    record_hospital_identifier(coordinator_a, participant_a, system=MRN_SYSTEM, value="H-1")
    path = ndjson_file(
        tmp_path, *(observation(f"hb-{n}", valueQuantity=quantity("12.9", "g/dL")) for n in range(200))
    )
    client = Client()
    client.force_login(coordinator_a)
    with path.open("rb") as sent:
        response = client.post(reverse("labimport:upload"), {"site": participant_a.site_id, "file": sent})
    assert response.status_code == 302
    batch = ImportBatch.objects.get()
    progress = reverse("labimport:progress", kwargs={"pk": batch.pk})
    first = client.get(progress)
    assert first.status_code == 200 and b"staging-progress" in first.content
    deadline = time.monotonic() + 60
    while ImportBatch.objects.get(pk=batch.pk).status == BatchStatus.STAGING:
        assert time.monotonic() < deadline, celery_worker_process.log()
        time.sleep(0.1)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.STAGED and batch.rows_done == 200 and not batch.kept_file
    assert batch.rows.filter(review=Review.PENDING, participant=participant_a).count() == 200
    done = client.get(progress)
    assert done["HX-Refresh"] == "true" and b"200 row(s)" in done.content
