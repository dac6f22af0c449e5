"""A coordinator uploads a FHIR bundle from the hospital, reviews the staged row and the preview,
accepts it, and sees the participant's status change."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from adjudication.demo import CASES_DIR, enter_case, load_case_file, shift_case
from labimport.services import record_hospital_identifier
from participants.models import LabResult, User
from tests.labimport.helpers import MRN_SYSTEM, dumps, observation, quantity

from .test_eac import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_upload_review_accept_and_see_the_status_change(
    live_server, page, screenshot, tmp_path: Path, site_a, coordinator_a: User
) -> None:  # type: ignore[no-untyped-def]
    participant = enter_case(
        coordinator_a, site_a, shift_case(load_case_file(CASES_DIR / "sle-eligible.json"))
    )
    record_hospital_identifier(coordinator_a, participant, system=MRN_SYSTEM, value="H-1")
    today = timezone.localdate().isoformat()
    anc = observation("anc-7", code="751-8", effective=today, valueQuantity=quantity("0.4", "10*3/uL"))
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": anc}]}
    path = tmp_path / "hospital-results.json"
    path.write_text(dumps(bundle), encoding="utf-8")

    log_in(page, live_server.url, "coord.a")
    page.goto(live_server.url + reverse("participants:detail", args=[participant.pk]))
    before = page.get_by_test_id("overall-status").inner_text().split()[0]
    assert before == "ELIGIBLE"

    page.get_by_role("link", name="Lab files").click()
    page.locator("#id_file").set_input_files(str(path))
    page.get_by_role("button", name="Upload and stage").click()
    page.wait_for_load_state()
    row = page.get_by_test_id("staged-row")
    assert "anc-7" in row.inner_text() and participant.screening_number in row.inner_text()
    preview = page.get_by_test_id("preview-row").inner_text()
    assert "ELIGIBLE → INELIGIBLE" in preview
    screenshot("lab-import-review")

    row.get_by_role("checkbox").check()
    page.get_by_role("button", name="Accept the chosen rows").click()
    page.wait_for_load_state()
    assert "Accepted" in page.get_by_test_id("staged-row").inner_text()
    assert LabResult.objects.filter(participant=participant, test="anc", state="current").count() >= 1

    page.goto(live_server.url + reverse("participants:detail", args=[participant.pk]))
    assert page.get_by_test_id("overall-status").inner_text().split()[0] == "INELIGIBLE"
    screenshot("lab-import-participant-after")
