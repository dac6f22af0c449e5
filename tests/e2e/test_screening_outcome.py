"""How screening ends, in the browser.

1. A coordinator registers a candidate and enters the data; the participant is ELIGIBLE; the
   investigator signs the eligibility checklist and enrolls; the screening log shows it.
2. A screen failure with its category, then a re-screening as a new, linked attempt.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from participants.case_import import import_case, import_records
from participants.models import ConsentApproval, ConsentVersion, Participant, Role
from screening.evaluation import evaluate_participant
from screening.models import ScreeningOutcome, Trigger

from ..conftest import PASSWORD, REPO_ROOT, signing_code
from ..factories import ParticipantFactory
from .case_dates import as_of_today
from .test_eac import log_in, log_out

pytestmark = pytest.mark.django_db(transaction=True)

CASES = REPO_ROOT.parent / "shared" / "cases"


def load(name: str) -> dict[str, Any]:
    case = json.loads(Path(CASES / f"{name}.json").read_text())
    return as_of_today(case, timezone.localdate())


def test_register_enter_data_investigator_signs_and_the_log_shows_the_enrollment(
    live_server, page, screenshot, make_user, site_a, site_b
) -> None:
    coordinator = make_user(Role.COORDINATOR, site_a, "coord.journey")
    investigator = make_user(Role.INVESTIGATOR, site_a, "inv.journey")
    investigator.full_name = "Investigator of site A"
    investigator.save()
    case = load("sle-eligible")
    dates = case["dates"]
    # Someone with the same birth date, sex and initials is screened at another site, and the
    # administrator has approved consent form version 1.0 at site A.
    elsewhere = ParticipantFactory(
        site=site_b,
        created_by=make_user(Role.COORDINATOR, site_b, "coord.elsewhere"),
        cohort="SLE",
        sex="F",
        birth_date=date.fromisoformat(case["birth_date"]),
        initials="AB",
    )
    version = ConsentVersion.objects.create(label="1.0", document_date=date(2025, 1, 1), created_by=coordinator)
    ConsentApproval.objects.create(
        version=version, site=site_a, effective_on=date(2025, 1, 1), recorded_by=coordinator
    )

    # The coordinator registers the candidate: the duplicate check warns without naming the other
    # site, and the coordinator answers that this is not the same person.
    log_in(page, live_server.url, "coord.journey")
    page.goto(live_server.url + "/participants/register/")
    page.get_by_label("SLE").check()
    page.locator('input[name="lupus_nephritis"][value="no"]').check()
    page.get_by_label("Initials").fill("ab")
    page.get_by_label("Female").check()
    page.get_by_label("Date of birth").fill(case["birth_date"])
    for name in ("screening_start", "icf_signed", "planned_enrollment", "planned_day0"):
        page.locator(f"#id_{name}").fill(dates[name])
    page.get_by_role("button", name="Register", exact=True).click()
    warning = page.get_by_test_id("duplicate-warning")
    warning.wait_for()
    assert "A possible duplicate exists at another site." in warning.inner_text()
    assert elsewhere.screening_number not in page.content() and site_b.code not in page.content()
    page.get_by_label("Why this is not the same person").fill("Different person: checked with the referring clinic")
    page.get_by_test_id("not-same-person").click()
    page.wait_for_url(re.compile(r"/participants/\d+/$"))
    participant = Participant.objects.get(site=site_a)
    base = f"{live_server.url}/participants/{participant.pk}/"

    # The consent form version the participant signed.
    page.goto(base + "consent/")
    page.get_by_label("Version signed").select_option(label="version 1.0 of 2025-01-01")
    page.get_by_label("Signed on").fill(dates["icf_signed"])
    page.get_by_role("button", name="Record", exact=True).click()
    page.locator("td", has_text=dates["icf_signed"]).first.wait_for()
    assert page.get_by_test_id("reconsent-needed").count() == 0

    # Data: the ANC through its form; the rest of the worked example through the same services.
    anc = next(lab for lab in case["labs"] if lab["test"] == "anc")
    page.goto(base + "records/lab/new/?test=anc")
    page.locator("#id_value_number").fill(str(anc["value"]))
    page.locator("#id_unit").select_option(anc["unit"])
    page.locator("#id_collected").fill(anc["collected"])
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(base)
    rest = copy.deepcopy(case)
    rest["labs"] = [lab for lab in case["labs"] if lab["test"] != "anc"]
    import_records(participant.created_by, participant, rest)
    evaluate_participant(participant.pk, trigger=Trigger.DATA_CHANGE)  # what the worker does
    page.goto(base)
    assert page.get_by_test_id("overall-status").inner_text().split()[0] == "ELIGIBLE"
    assert page.get_by_test_id("enroll-link").count() == 0  # a coordinator does not enroll
    log_out(page)

    # The investigator reads the checklist and signs it.
    log_in(page, live_server.url, "inv.journey")
    page.goto(base)
    page.get_by_test_id("enroll-link").click()
    checklist = page.get_by_test_id("eligibility-checklist")
    checklist.wait_for()
    assert "inc.heme.anc" in checklist.inner_text() and "ELIGIBLE" in checklist.inner_text()
    assert "meets every eligibility criterion" in page.get_by_test_id("signature-meaning").inner_text()
    screenshot("outcome-enroll-checklist")
    page.get_by_label("Your password (electronic signature)").fill(PASSWORD)
    page.get_by_label("Code from your authenticator app").fill(signing_code(investigator))
    page.get_by_test_id("enroll-sign").click()
    page.wait_for_url(base)
    status = page.get_by_test_id("outcome-status").inner_text()
    assert "Enrolled" in status and timezone.localdate().isoformat() in status
    assert "Investigator of site A" in page.get_by_test_id("outcome-signature").inner_text()
    screenshot("outcome-enrolled")

    # The signed checklist as stored, and its PDF.
    page.get_by_test_id("checklist-link").click()
    assert "Investigator of site A" in page.get_by_test_id("checklist-signature").inner_text()
    with page.expect_download() as download:
        page.get_by_test_id("checklist-pdf").click()
    assert download.value.suggested_filename == f"eligibility-checklist-{participant.screening_number}.pdf"

    # The screening log.
    page.goto(live_server.url + "/audit/screening-log/")
    row = page.locator(f'tr[data-number="{participant.screening_number}"]')
    assert "Enrolled" in row.inner_text() and "Investigator of site A" in row.inner_text()
    assert page.locator('[data-step="enrolled"]').inner_text().split()[-1] == "1"
    screenshot("outcome-screening-log")
    assert ScreeningOutcome.objects.get(participant=participant).signer == investigator


def test_screen_failure_then_re_screening(live_server, page, screenshot, make_user, site_a) -> None:
    coordinator = make_user(Role.COORDINATOR, site_a, "coord.failure")
    failed = import_case(coordinator, site_a, load("sle-anc-low"))
    evaluate_participant(failed.pk, trigger=Trigger.DATA_CHANGE)
    base = f"{live_server.url}/participants/{failed.pk}/"

    log_in(page, live_server.url, "coord.failure")
    page.goto(base)
    assert page.get_by_test_id("overall-status").inner_text().split()[0] == "INELIGIBLE"
    page.get_by_test_id("screen-failure-link").click()
    page.get_by_label("Eligibility criteria not met").check()
    page.get_by_label("Reason for change").fill("ANC below 1000/µL at screening")
    screenshot("outcome-screen-failure-form")
    page.get_by_test_id("screen-failure-submit").click()
    page.wait_for_load_state()
    assert page.url == base, page.locator(".invalid-feedback, .alert-danger").all_inner_texts()
    assert "Screen failed" in page.get_by_test_id("outcome-status").inner_text()
    assert "inc.heme.anc" in page.get_by_test_id("outcome-failure").inner_text()

    # Re-screening: a new attempt; one undated item is confirmed and copied, nothing else.
    page.get_by_test_id("rescreen-link").click()
    page.get_by_test_id("rescreen-form").wait_for()
    boxes = page.locator('input[type="checkbox"][name^="copy_"]')
    assert boxes.count() > 1
    boxes.first.check()
    page.get_by_label("I start a new screening attempt for this candidate").check()
    screenshot("outcome-rescreen-form")
    page.get_by_test_id("rescreen-submit").click()
    page.wait_for_url(re.compile(r"/participants/\d+/$"))
    again = Participant.objects.get(previous_attempt=failed)
    assert page.url == f"{live_server.url}/participants/{again.pk}/"
    assert again.screening_number == f"{failed.screening_number}-R1"
    assert page.get_by_test_id("earlier-attempt").count() == 1
    assert "In screening" in page.get_by_test_id("outcome-status").inner_text()
    screenshot("outcome-rescreened")

    page.goto(live_server.url + "/audit/screening-log/")
    first = page.locator(f'tr[data-number="{failed.screening_number}"]').inner_text()
    assert "Screen failed" in first and again.screening_number in first
    second = page.locator(f'tr[data-number="{again.screening_number}"]').inner_text()
    assert failed.screening_number in second
    assert "100.0 %" not in page.get_by_test_id("site-outcomes").inner_text()  # 1 of 2 attempts
    assert "50.0 %" in page.get_by_test_id("site-outcomes").inner_text()
