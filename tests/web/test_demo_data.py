"""Demo data: example cases entered through the services, dates shifted to today, evaluated."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from participants.case_import import shift_case_dates
from participants.models import Participant, ScreeningStatus, Site
from screening.criteria import evaluate, load_case
from screening.demo import CASES_DIR, load_demo_data
from screening.diff import diff_evaluations

from .pages_helpers import sle_case

pytestmark = pytest.mark.django_db


def test_shift_case_dates_moves_every_date_and_keeps_the_result() -> None:
    case = sle_case()
    case["facts"]["ssc_first_non_raynaud_date"] = "2021-09-01"  # a plain date fact
    shifted = shift_case_dates(case, 100)
    assert shifted["dates"]["as_of"] == "2025-09-24"
    assert shifted["birth_date"] == "1987-12-23"
    assert shifted["labs"][0]["collected"] == "2025-09-11"
    assert shifted["facts"]["sledai2k"]["date"] == "2025-09-11"
    assert shifted["facts"]["ssc_first_non_raynaud_date"] == "2021-12-10"
    assert shifted["therapies"][1]["last_dose"] == "2023-05-12"
    assert shifted["case_id"] == case["case_id"]
    assert case["dates"]["as_of"] == "2025-06-16"  # the original is untouched
    del case["facts"]["ssc_first_non_raynaud_date"], shifted["facts"]["ssc_first_non_raynaud_date"]
    before, after = evaluate(load_case(case)), evaluate(load_case(shifted))
    assert after.overall == before.overall
    assert after.valid_until == before.valid_until + timedelta(days=100)  # type: ignore[operator]


@pytest.mark.skipif(not CASES_DIR.is_dir(), reason="the protocol package's example cases are not here")
def test_demo_loader_is_idempotent_and_shows_every_status() -> None:
    first = load_demo_data()
    assert first["participants"] >= 10
    assert load_demo_data() == {"users": 0, "participants": 0}
    today = timezone.localdate()
    for site in Site.objects.all():
        statuses = set(
            Participant.objects.filter(site=site).values_list("screening_state__status", flat=True)
        )
        assert {
            ScreeningStatus.ELIGIBLE,
            ScreeningStatus.INELIGIBLE,
            ScreeningStatus.INCOMPLETE,
            ScreeningStatus.PENDING_REVIEW,
        } <= statuses, site.code
    assert not Participant.objects.filter(screening_state__reevaluation_requested_at__isnull=False).exists()
    assert set(Participant.objects.values_list("evaluations__as_of", flat=True)) == {today}
    # One participant has a history: ANC redrawn after the planned Day 0 was set.
    story = Participant.objects.get(screening_number="S01-0001")
    evaluations = list(story.evaluations.prefetch_related("results").order_by("sequence"))
    assert [e.overall for e in evaluations] == ["INELIGIBLE", "INELIGIBLE", "ELIGIBLE"]
    assert diff_evaluations(evaluations[1], evaluations[2]).summary.startswith("ANC 900 → 1200: inc.heme.anc")
    assert Participant.objects.filter(
        screening_state__status_valid_until__lte=today + timedelta(days=7)
    ).exists()
    # A screen failure re-screened as a linked new attempt.
    again = Participant.objects.get(previous_attempt__screening_state__outcome="screen_failed")
    assert again.screening_number == f"{again.previous_attempt.screening_number}-R1"


def test_demo_loader_without_cases_registers_plain_participants(tmp_path: Path) -> None:
    counts = load_demo_data(cases_dir=tmp_path / "absent")
    assert counts["participants"] == 5
    assert set(Participant.objects.values_list("screening_state__status", flat=True)) == {
        ScreeningStatus.INCOMPLETE
    }
    assert load_demo_data(cases_dir=tmp_path / "absent")["participants"] == 0
    assert Participant.objects.get(screening_number="S01-0001").birth_date == date(1987, 9, 14)
