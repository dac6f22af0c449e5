"""In the browser: a coordinator opens the dashboard, then participant pages, with the demo data."""

from __future__ import annotations

import pytest

from participants.demo_password import DEMO_PASSWORD
from participants.models import Participant
from screening.demo import CASES_DIR, load_demo_data

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CASES_DIR.is_dir(), reason="the demo needs the protocol package's example cases"),
]


def log_in(page, url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_coordinator_dashboard_and_participant_pages(live_server, page, screenshot) -> None:  # type: ignore[no-untyped-def]
    load_demo_data()
    log_in(page, live_server.url, "coord.s01")

    page.get_by_role("heading", name="Participants at S01").wait_for()
    table = page.get_by_test_id("participant-table")
    assert "S01-0001" in table.inner_text() and "S02-0001" not in page.content()
    counts = page.get_by_test_id("status-counts").inner_text()
    for label in ("Eligible", "Ineligible", "Incomplete", "Pending review"):
        assert label in counts
    assert "S01-0001" in page.get_by_test_id("expiring-soon").inner_text()
    screenshot("dashboard")

    # Filter by status, then search.
    page.get_by_test_id("status-counts").get_by_role("link", name="Incomplete").click()
    page.wait_for_url("**status=INCOMPLETE**")
    rows = page.locator("tr[data-participant]")
    assert (
        rows.count()
        == Participant.objects.filter(site__code="S01", screening_state__status="INCOMPLETE").count()
    )
    page.get_by_label("Screening number").fill("S01-0001")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**q=S01-0001**")
    assert page.locator("tr[data-participant]").count() == 0  # S01-0001 is eligible, filter kept
    page.get_by_role("link", name="Clear").click()

    # The participant with a history.
    page.get_by_role("link", name="S01-0001", exact=True).first.click()
    page.get_by_test_id("overall-status").wait_for()
    assert "ELIGIBLE" in page.get_by_test_id("overall-status").inner_text()
    history = page.get_by_test_id("evaluation-history").inner_text()
    assert "ANC 900 → 1200: inc.heme.anc FAIL → PASS; overall → ELIGIBLE" in history
    assert page.locator('[data-criterion="inc.heme.anc"]').first.is_visible()
    screenshot("participant-eligible")
    screenshot("participant-eligible-first-screen", full_page=False)

    # A participant with missing data: the worklist comes before the details.
    incomplete = (
        Participant.objects.filter(site__code="S01", screening_state__status="INCOMPLETE")
        .order_by("pk")
        .first()
    )
    assert incomplete is not None
    page.goto(f"{live_server.url}/participants/{incomplete.pk}/")
    assert "INCOMPLETE" in page.get_by_test_id("overall-status").inner_text()
    worklist = page.get_by_test_id("missing-worklist")
    assert worklist.is_visible()
    box_status = page.get_by_test_id("overall-status").bounding_box()
    box_work = worklist.bounding_box()
    box_criteria = page.get_by_test_id("criteria").bounding_box()
    assert box_status["y"] < box_work["y"] < box_criteria["y"]
    screenshot("participant-incomplete")
    screenshot("participant-incomplete-first-screen", full_page=False)

    # Ineligible for timing only.
    timing = Participant.objects.filter(site__code="S01", evaluations__eligible_from__isnull=False).first()
    assert timing is not None
    page.goto(f"{live_server.url}/participants/{timing.pk}/")
    assert "(timing)" in page.get_by_test_id("overall-status").inner_text()
    screenshot("participant-timing")
    screenshot("participant-timing-first-screen", full_page=False)

    # Labs too old: the worklist says from when to redraw.
    stale = Participant.objects.filter(
        site__code="S01", evaluations__results__repeat_from__isnull=False
    ).first()
    assert stale is not None
    page.goto(f"{live_server.url}/participants/{stale.pk}/")
    assert "on or after" in page.get_by_test_id("missing-worklist").inner_text()
    screenshot("participant-stale-labs", full_page=False)

    # Waiting for a reviewer.
    review = Participant.objects.filter(site__code="S01", screening_state__status="PENDING_REVIEW").first()
    assert review is not None
    page.goto(f"{live_server.url}/participants/{review.pk}/")
    assert page.get_by_test_id("review-list").is_visible()
    screenshot("participant-review", full_page=False)

    # Another site's participant is not found.
    other = Participant.objects.filter(site__code="S02").first()
    assert other is not None
    response = page.goto(f"{live_server.url}/participants/{other.pk}/")
    assert response is not None and response.status == 404


def test_monitor_sees_every_site_read_only(live_server, page, screenshot) -> None:  # type: ignore[no-untyped-def]
    load_demo_data()
    log_in(page, live_server.url, "monitor")
    page.get_by_role("link", name="Participants").click()
    page.get_by_role("heading", name="Participants at all sites").wait_for()
    text = page.get_by_test_id("participant-table").inner_text()
    assert "S01-0001" in text and "S02-0001" in text
    page.get_by_label("Site").select_option("S02")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**site=S02**")
    assert "S01-0001" not in page.get_by_test_id("participant-table").inner_text()
    screenshot("dashboard-monitor")
    page.get_by_role("link", name="S02-0003").click()
    assert "INCOMPLETE" in page.get_by_test_id("overall-status").inner_text()
    assert page.get_by_test_id("missing-worklist").locator("a").count() == 0  # read-only: no entry links
