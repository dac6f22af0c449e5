"""In the browser: an administrator records the amendment's release, reviews its impact report for
one site, activates it there, and a coordinator of that site sees the result under the new version
(the other site stays on the earlier one). The tasks run in the test process (no worker here)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from participants.models import OutcomeStatus, Participant
from screening import tasks
from screening.demo import CASES_DIR, load_demo_data

from .test_participant_page import log_in

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CASES_DIR.is_dir(), reason="the demo needs the protocol package's example cases"),
]

AMENDMENT = "2025-11-14.3"


@pytest.fixture
def tasks_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tasks.impact_report_task, "delay", lambda *a: tasks.impact_report_task(*a))
    monkeypatch.setattr(tasks.impact_chunk_task, "delay", lambda *a: tasks.impact_chunk_task(*a))
    monkeypatch.setattr(
        tasks.reevaluate_participants, "apply_async", lambda args, **kw: tasks.reevaluate_participants(*args)
    )


def test_administrator_activates_the_amendment_for_one_site(  # type: ignore[no-untyped-def]
    live_server, page, screenshot, tasks_in_process
) -> None:
    load_demo_data()
    log_in(page, live_server.url, "admin")
    page.get_by_role("link", name="Protocol amendments").click()
    sites = page.get_by_test_id("sites-in-force").inner_text()
    assert "2025-03-31.2" in sites and AMENDMENT not in sites

    release = page.get_by_test_id("release-form")
    release.get_by_label("Version").select_option(AMENDMENT)
    release.get_by_label("Title").fill("Amendment 3")
    release.get_by_label("Released on").fill(timezone.localdate().isoformat())
    release.get_by_role("button", name="Record").click()
    page.get_by_text(f"Protocol {AMENDMENT} recorded as released.").wait_for()

    impact = page.get_by_test_id("impact-form")
    impact.get_by_label("Candidate version").select_option(AMENDMENT)
    impact.get_by_label("Sites").select_option(
        label="S01 " + Participant.objects.filter(site__code="S01").first().site.name
    )  # type: ignore[union-attr]
    impact.get_by_role("button", name="Run").click()
    page.get_by_role("heading", name=f"Impact of protocol {AMENDMENT} on site S01").wait_for()
    summary = page.get_by_test_id("impact-summary").inner_text()
    # Participants whose screening has ended (the demo's screen failure) are left out.
    evaluated = Participant.objects.filter(
        site__code="S01", screening_state__outcome=OutcomeStatus.IN_SCREENING
    ).count()
    assert f"{evaluated} participant" in summary and "Nothing was stored" in summary
    assert "exc.major_surgery" in page.get_by_test_id("impact-criteria").inner_text()
    assert "S01-0001" in page.get_by_test_id("impact-participants").inner_text()
    screenshot("amendment-impact")

    activation = page.get_by_test_id("activation-form")
    activation.get_by_label("Site").select_option(
        label="S01 " + Participant.objects.filter(site__code="S01").first().site.name
    )  # type: ignore[union-attr]
    activation.get_by_role("button", name="Activate").click()
    page.get_by_text(f"Protocol {AMENDMENT} activated at site S01").wait_for()
    sites = page.get_by_test_id("sites-in-force")
    assert AMENDMENT in sites.locator('tr[data-site="S01"]').inner_text()
    assert "2025-03-31.2" in sites.locator('tr[data-site="S02"]').inner_text()
    screenshot("amendment-activated")

    page.context.clear_cookies()
    log_in(page, live_server.url, "coord.s01")
    page.get_by_role("heading", name="Participants at S01").wait_for()
    assert f"protocol {AMENDMENT} in force" in page.get_by_test_id("protocol-in-force").inner_text()
    page.get_by_role("link", name="S01-0001", exact=True).first.click()
    page.get_by_test_id("overall-status").wait_for()
    assert f"protocol {AMENDMENT}" in page.content()
    history = page.get_by_test_id("evaluation-history").inner_text()
    assert f"Protocol 2025-03-31.2 → {AMENDMENT}" in history
    assert "exc.major_surgery" in history
    screenshot("amendment-participant")
