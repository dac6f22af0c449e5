"""The screening log's outcome columns (CSV and XLSX), the funnel's attrition and screen-failure
rate per site, and the screening log page (site-scoped, constant queries)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from audit.reports import FUNNEL_HEADER, SCREENING_LOG_HEADER, funnel
from exports import csv_cell
from participants.case_import import import_case
from participants.models import Participant, Role, Site, User
from participants.services import record_assessment
from screening import outcomes
from screening.evaluation import evaluate_participant
from screening.models import Trigger
from tests.audit.test_exports import read_csv, read_xlsx
from tests.conftest import PASSWORD, signing_code
from tests.factories import ParticipantFactory, sign_current_consent

pytestmark = pytest.mark.django_db

CASES = Path(__file__).resolve().parents[2] / ".." / "shared" / "cases"
AS_OF = date(2025, 6, 16)


def _import(user: User, site: Site, name: str) -> Participant:
    case = json.loads((CASES / f"{name}.json").read_text(encoding="utf-8"), parse_float=Decimal)
    participant = import_case(user, site, case)
    evaluate_participant(participant.pk, trigger=Trigger.MANUAL, as_of=AS_OF)
    return participant


@pytest.fixture
def story(
    make_user: Callable[..., User], site_a: Site, site_b: Site, coordinator_a: User, coordinator_b: User
) -> dict[str, Any]:
    """At site A: one enrolled (data changed afterwards), one screen failed and re-screened, one in
    screening. At site B: one withdrawn."""
    investigator = make_user(Role.INVESTIGATOR, site_a, "inv.a")
    enrolled = _import(coordinator_a, site_a, "sle-eligible")
    sign_current_consent(enrolled, coordinator_a)
    outcome = outcomes.enroll(
        investigator,
        enrolled.pk,
        password=PASSWORD,
        code=signing_code(investigator),
        shown_digest=outcomes.checklist_on(enrolled, AS_OF).digest,
        on_date=AS_OF,
    )
    record_assessment(coordinator_a, enrolled, key="history_pml", value=False, reason="re-checked")
    failed = _import(coordinator_a, site_a, "sle-anc-low")
    outcomes.record_screen_failure(
        coordinator_a, failed.pk, category="criteria_not_met", reason="ANC too low", on_date=AS_OF
    )
    again = outcomes.rescreen(coordinator_a, failed.pk)
    waiting = _import(coordinator_a, site_a, "sle-hiv-positive")
    withdrawn = _import(coordinator_b, site_b, "sle-eligible")
    outcomes.record_withdrawal(coordinator_b, withdrawn.pk, reason="moved abroad", on_date=AS_OF)
    return {
        "investigator": investigator,
        "enrolled": enrolled,
        "outcome": outcome,
        "failed": failed,
        "again": again,
        "waiting": waiting,
        "withdrawn": withdrawn,
    }


def test_the_screening_log_carries_each_outcome(
    client: Client, make_user: Callable[..., User], story: dict[str, Any], xlsx_by_worker
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(make_user(Role.MONITOR, None, "monitor.all"))
    rows = read_csv(client.get(reverse("audit:screening_log", args=["csv"])))
    assert rows[0] == SCREENING_LOG_HEADER
    log = {r[1]: dict(zip(SCREENING_LOG_HEADER, r, strict=True)) for r in rows[1:]}
    enrolled, failed, again = story["enrolled"], story["failed"], story["again"]

    row = log[enrolled.screening_number]
    assert row["Outcome"] == "Enrolled" and row["Outcome date"] == AS_OF.isoformat()
    assert row["Investigator sign-off"] == story["investigator"].display_name()
    assert row["Signed at"] and row["Checklist digest"] == story["outcome"].checklist_digest
    assert row["Changed after the outcome"] == "yes"
    assert row["ICF signed"] == "2025-06-02" and row["Protocol version"] == "2025-03-31.2"
    assert row["Consent version signed"] == "1.0" and row["Consent version in effect"] == "1.0"
    assert row["Consent in effect signed"] == "yes"

    row = log[failed.screening_number]
    assert (row["Outcome"], row["Failure category"]) == ("Screen failed", "Eligibility criteria not met")
    assert row["Failing criteria at screen failure"] == "inc.heme.anc"
    assert row["Reason for change"] == "ANC too low" and row["Changed after the outcome"] == "no"
    assert (row["Attempt"], row["Later attempt"], row["Earlier attempt"]) == ("1", again.screening_number, "")
    row = log[again.screening_number]
    assert (row["Attempt"], row["Earlier attempt"], row["Outcome"]) == (
        "2",
        failed.screening_number,
        "In screening",
    )
    assert row["Changed after the outcome"] == ""

    row = log[story["withdrawn"].screening_number]
    assert row["Outcome"] == "Withdrawn before enrollment" and row["Reason for change"] == "moved abroad"
    # The XLSX holds the same cells.
    sheet = read_xlsx(xlsx_by_worker(client, reverse("audit:screening_log", args=["xlsx"])))
    assert [str(v) for v in sheet[0]] == SCREENING_LOG_HEADER
    text_columns = [
        SCREENING_LOG_HEADER.index(c)
        for c in (
            "Screening number",
            "Outcome",
            "Failure category",
            "Failing criteria at screen failure",
            "Earlier attempt",
            "Later attempt",
            "Investigator sign-off",
            "Checklist digest",
            "Changed after the outcome",
        )
    ]
    assert [[csv_cell(r[i]) for i in text_columns] for r in sheet] == [
        [r[i] for i in text_columns] for r in rows
    ]


def test_the_funnel_gives_the_attrition_and_the_failure_rate_per_site(story: dict[str, Any]) -> None:
    data = funnel(Participant.objects.all())
    steps = {bar.key: bar.count for bar in data.attrition}
    # 5 attempts; failing a criterion on their latest evaluation: the ANC and HIV examples.
    assert steps == {"screened": 5, "excluded_by_criterion": 2, "eligible": 2, "enrolled": 1}
    sites = {s.code: s for s in data.by_site}
    assert (sites["A01"].screened, sites["A01"].enrolled, sites["A01"].screen_failed) == (4, 1, 1)
    assert sites["A01"].failure_rate == Decimal("25.0")
    assert (sites["B02"].screened, sites["B02"].withdrawn, sites["B02"].failure_rate) == (
        1,
        1,
        Decimal("0.0"),
    )
    categories = {b.key: b.count for b in data.by_failure_category}
    assert categories["criteria_not_met"] == 1 and sum(categories.values()) == 1
    rows = list(data.rows())
    assert ["Attrition", "enrolled", "Enrolled", 1] in rows
    assert ["Screen-failure rate (%)", "A01", "Site A01: 1 of 4", Decimal("25.0")] in rows
    assert all(len(r) == len(FUNNEL_HEADER) for r in rows)


def test_the_screening_log_page_shows_the_sites_the_user_may_see(
    client: Client, coordinator_a: User, story: dict[str, Any]
) -> None:
    client.force_login(coordinator_a)
    html = client.get(reverse("audit:screening_log_page")).content.decode()
    assert story["enrolled"].screening_number in html and story["again"].screening_number in html
    assert story["withdrawn"].screening_number not in html  # site B
    assert 'data-site="B02"' not in html and 'data-site="A01"' in html
    assert "25.0 %" in html
    assert f'data-number="{story["enrolled"].screening_number}" class="outcome-changed"' in html
    assert 'data-testid="log-export-csv"' not in html  # exports are the monitors' and administrators'


def test_the_screening_log_page_has_a_constant_number_of_queries(
    client: Client, coordinator_a: User, site_a: Site, django_assert_max_num_queries: Any
) -> None:
    client.force_login(coordinator_a)
    ParticipantFactory(site=site_a, created_by=coordinator_a)
    with django_assert_max_num_queries(16) as one:
        client.get(reverse("audit:screening_log_page"))
    for _ in range(12):
        ParticipantFactory(site=site_a, created_by=coordinator_a)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get(reverse("audit:screening_log_page")).status_code == 200
