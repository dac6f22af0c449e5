"""The participant page: status, what to do next, criteria, records and evaluation history."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from participants.models import Role
from participants.services import record_lab
from screening.criteria_html import criterion_rows_html, not_applicable_html, outcome_counts_html
from screening.models import Outcome
from screening.selectors import CriterionGroup, CriterionRow, ResultRow

from ..factories import ParticipantFactory
from .pages_helpers import enter, evaluate, sle_case, with_anc

pytestmark = pytest.mark.django_db


def page(client: Client, participant, **params) -> str:  # type: ignore[no-untyped-def]
    response = client.get(reverse("participants:detail", args=[participant.pk]), params)
    assert response.status_code == 200
    return response.content.decode()


def text_of(html: str, name: str) -> str:
    """The text of the element with that test id, up to its tag's first closing tag."""
    match = re.search(rf'<(\w+)[^>]*data-testid="{name}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, name
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(2))).strip()


def test_another_sites_participant_is_404(client: Client, coordinator_a, participant_b) -> None:
    client.force_login(coordinator_a)
    assert client.get(reverse("participants:detail", args=[participant_b.pk])).status_code == 404


def test_eac_reviewer_may_not_open_the_page(client: Client, make_user, site_a, participant_a) -> None:
    client.force_login(make_user(Role.EAC_REVIEWER, site_a))
    assert client.get(reverse("participants:detail", args=[participant_a.pk])).status_code == 403


def test_not_evaluated_participant(client: Client, coordinator_a, participant_a) -> None:
    client.force_login(coordinator_a)
    html = page(client, participant_a)
    assert "NOT_EVALUATED" in text_of(html, "overall-status")
    assert participant_a.screening_number in html
    assert "No evaluation yet." in html


def test_header_status_and_every_criterion(client: Client, coordinator_a, site_a) -> None:
    case = sle_case()
    del case["dates"]["planned_day0"]
    participant = enter(coordinator_a, site_a, case)
    client.force_login(coordinator_a)
    html = page(client, participant)
    status = text_of(html, "overall-status")
    assert "INCOMPLETE" in status and "Incomplete" in status
    assert "status-INCOMPLETE" in html
    header = text_of(html, "participant-header")
    assert participant.screening_number in header and "SLE · non-LN" in header and "Female" in header
    evaluation = participant.evaluations.get()
    for result in evaluation.results.all():
        assert f'data-criterion="{result.criterion_id}"' in html
    # Not-applicable criteria are folded away, in each group.
    assert html.count('data-testid="not-applicable"') >= 1
    assert '<details class="px-3 py-2 small" data-testid="not-applicable">' in html
    # The worklist names the missing date, readably, and links to the form that supplies it.
    item = re.search(r'data-missing="dates.planned_day0".*?</li>', html, re.S)
    assert item and "Planned Day 0" in item.group(0) and "exc.washout" in item.group(0)
    assert f'href="{reverse("participants:edit_dates", args=[participant.pk])}"' in item.group(0)


def test_timing_only_failure_says_until_when(client: Client, coordinator_a, site_a) -> None:
    case = sle_case()
    case["therapies"] = [
        {"agent": "hydroxychloroquine", "start": "2019-05-01", "ongoing": True},
        {
            "agent": "mycophenolate_mofetil",
            "start": "2024-01-15",
            "last_dose": "2025-05-01",
            "ongoing": False,
        },
        {"agent": "rituximab", "start": "2025-05-26", "last_dose": "2025-06-09", "ongoing": False},
    ]
    participant = enter(coordinator_a, site_a, case)
    client.force_login(coordinator_a)
    html = page(client, participant)
    status = text_of(html, "overall-status")
    assert "INELIGIBLE" in status and "until 2025-07-07 (timing)" in status
    washout = re.search(r'<tr data-criterion="exc.washout".*?</tr>', html, re.S)
    assert washout and "FAIL" in washout.group(0) and "eligible from 2025-07-07" in washout.group(0)
    assert "valid until 2025-07-06" in washout.group(0)
    assert "2025-07-01" in text_of(html, "valid-until")


def test_review_and_repeat_from_are_shown(client: Client, coordinator_a, site_a) -> None:
    case = sle_case()
    for lab in case["labs"]:
        lab["collected"] = "2025-05-20"  # before the screening window opens
    participant = enter(coordinator_a, site_a, case)
    client.force_login(coordinator_a)
    html = page(client, participant)
    redraw = re.search(r'<li class="list-group-item" data-redraw="2025-05-26">.*?</ul>', html, re.S)
    assert redraw and "on or after <strong>2025-05-26</strong>" in redraw.group(0)
    item = re.search(r'data-missing="labs.anc".*?</li>', redraw.group(0), re.S)
    assert (
        item and "ANC (absolute neutrophil count) result" in item.group(0) and "inc.heme.anc" in item.group(0)
    )
    anc = re.search(r'<tr data-criterion="inc.heme.anc".*?</tr>', html, re.S)
    assert anc and "repeat from 2025-05-26" in anc.group(0)


def test_worklist_links_to_the_forms_that_supply_each_path(client: Client, coordinator_a, site_a) -> None:
    case = sle_case()
    del case["dates"]["planned_day0"]
    del case["facts"]["sledai2k"]
    case["labs"] = [lab for lab in case["labs"] if lab["test"] != "anc"]
    case["reviewed"].remove("therapies")
    case["events"].append({"kind": "malignancy", "date": "2019-06-12", "type": "other"})
    case["reviewed"].append("malignancy")
    participant = enter(coordinator_a, site_a, case)
    client.force_login(coordinator_a)
    html = page(client, participant)
    pk = participant.pk
    expected = {
        "labs.anc": reverse("participants:visit", args=[pk]) + "#lab-anc",
        "facts.sledai2k": reverse("participants:visit", args=[pk]) + "#div_id_fact-sledai2k",
        "reviewed.therapies": reverse("participants:visit", args=[pk]) + "#history",
        "dates.planned_day0": reverse("participants:edit_dates", args=[pk]),
        "events.malignancy.active_until": reverse("participants:records", args=[pk, "event"]),
    }
    for path, url in expected.items():
        item = re.search(rf'data-missing="{re.escape(path)}".*?</li>', html, re.S)
        assert item, path
        assert f'href="{url}"' in item.group(0).replace("&amp;", "&"), path
    records = text_of(html, "records-summary")
    assert "Lab results 13" in records and "Prior therapies 4" in records
    assert f'href="{reverse("participants:records", args=[pk, "lab"])}"' in html


def test_monitor_reads_every_site_without_entry_links(
    client: Client, make_user, coordinator_b, site_b
) -> None:
    case = sle_case()
    del case["dates"]["planned_day0"]
    participant = enter(coordinator_b, site_b, case)
    client.force_login(make_user(Role.MONITOR, None))
    html = page(client, participant)
    item = re.search(r'data-missing="dates.planned_day0".*?</li>', html, re.S)
    assert item and "href" not in item.group(0)


def test_investigator_of_the_site_sees_the_page(client: Client, make_user, site_a, coordinator_a) -> None:
    participant = enter(coordinator_a, site_a, sle_case())
    client.force_login(make_user(Role.INVESTIGATOR, site_a))
    assert "ELIGIBLE" in text_of(page(client, participant), "overall-status")


def test_history_shows_each_evaluation_as_a_difference(client: Client, coordinator_a, site_a) -> None:
    case = with_anc(sle_case(), 900)
    participant = enter(coordinator_a, site_a, case)
    record_lab(
        coordinator_a, participant, test="anc", value=Decimal(1200), unit="/uL", collected=date(2025, 6, 10)
    )
    evaluate(participant, case, coordinator_a)
    client.force_login(coordinator_a)
    html = page(client, participant)
    history = html[html.index('data-testid="evaluation-history"') :]
    assert "ANC 900 → 1200: inc.heme.anc FAIL → PASS; overall → ELIGIBLE" in history
    assert "First evaluation: overall INELIGIBLE" in history
    assert "Data changed" in history and coordinator_a.display_name() in history
    assert "protocol 2025-03-31.2" in history and "engine 1.0.0" in history and "as of 2025-06-16" in history


def _count_queries(client, participant, django_assert_max_num_queries, limit: int, **params) -> str:  # type: ignore[no-untyped-def]
    with django_assert_max_num_queries(limit):
        return page(client, participant, **params)


# session, user, memberships, the participant with its record counts, state, outcome,
# re-screening and the consent form in effect at its site, the history's page with its total, the
# latest evaluation's rows, the outcomes of the page's other evaluations (none for a participant
# evaluated once), the consent signatures, the escalations, and the session save (3).
PAGE_QUERIES = 12
# A later page of the history reads the latest evaluation apart.
LATER_HISTORY_PAGE_QUERIES = 13


def test_query_count_does_not_grow_with_evaluations(
    client: Client, coordinator_a, site_a, django_assert_max_num_queries
) -> None:
    one = enter(coordinator_a, site_a, sle_case())
    many_case = sle_case()
    del many_case["dates"]["planned_day0"]
    many = enter(coordinator_a, site_a, many_case, times=30)
    for i in range(10):  # and more records
        record_lab(
            coordinator_a, many, test="alc", value=Decimal(1000 + i), unit="/uL", collected=date(2025, 6, 4)
        )
    client.force_login(coordinator_a)
    page(client, one)  # warm the session
    # Evaluated once: no other evaluation's outcomes to read.
    _count_queries(client, one, django_assert_max_num_queries, PAGE_QUERIES - 1)
    html = _count_queries(client, many, django_assert_max_num_queries, PAGE_QUERIES)
    assert html.count("data-evaluation=") == 10  # the newest page of the history
    assert "Page 1 of 3" in html
    older = _count_queries(client, many, django_assert_max_num_queries, LATER_HISTORY_PAGE_QUERIES, history=3)
    assert older.count("data-evaluation=") == 10
    assert "First evaluation: overall INCOMPLETE" in older
    assert 'data-evaluation="1"' in older


def test_history_page_out_of_range_shows_the_last(client: Client, coordinator_a, site_a) -> None:
    participant = enter(coordinator_a, site_a, sle_case(), times=2)
    client.force_login(coordinator_a)
    html = page(client, participant, history="99")
    assert 'data-evaluation="1"' in html and 'data-evaluation="2"' in html
    assert "No data change" in html


def test_not_applicable_outcomes_are_not_in_the_open_tables(client: Client, coordinator_a, site_a) -> None:
    participant = enter(coordinator_a, site_a, sle_case())
    client.force_login(coordinator_a)
    html = page(client, participant)
    na = participant.evaluations.get().results.filter(outcome=Outcome.NOT_APPLICABLE)
    assert na.exists()
    for r in na:
        assert f'<tr data-criterion="{r.criterion_id}"' not in html
        assert f'<li data-criterion="{r.criterion_id}"' in html


def test_participant_list_links_to_the_page(client: Client, coordinator_a, site_a) -> None:
    participant = ParticipantFactory(site=site_a, created_by=coordinator_a)
    client.force_login(coordinator_a)
    html = client.get(reverse("participants:list")).content.decode()
    assert reverse("participants:detail", args=[participant.pk]) in html


def test_pending_reevaluation_shows_the_polling_notice(client: Client, coordinator_a, site_a) -> None:
    participant = enter(coordinator_a, site_a, sle_case())
    client.force_login(coordinator_a)
    before = page(client, participant)
    assert 'data-testid="reevaluation-notice"' not in before
    # The live region is there before the notice, so that its arrival is announced.
    assert '<div aria-live="polite" aria-atomic="true" data-testid="reevaluation-region">' in before
    record_lab(
        coordinator_a, participant, test="anc", value=Decimal(1500), unit="/uL", collected=date(2025, 6, 10)
    )
    html = page(client, participant)
    assert 'data-testid="reevaluation-notice"' in html
    region = html.index('data-testid="reevaluation-region"')
    assert (
        region
        < html.index('data-testid="reevaluation-notice"')
        < html.index("</div>", html.index("Re-evaluation pending"))
    )
    assert f'hx-get="{reverse("screening:evaluation_status", args=[participant.pk])}"' in html
    assert "ELIGIBLE" in text_of(html, "overall-status")  # the previous evaluation, until the new one


# The criterion table's rows and the not-applicable items as the template wrote them before
# screening/criteria_html.py took them over.
_ROWS_TEMPLATE = """{% load screening_ui %}{% for row in group.rows %}
      <tr data-criterion="{{ row.result.criterion_id }}" data-outcome="{{ row.result.outcome }}" class="row-{{ row.result.outcome }}">
        <td><div class="fw-semibold" title="{{ row.page_text }}">{{ row.title }}</div><div class="small text-body-secondary">{{ row.result.criterion_id }}</div></td>
        <td><span class="badge outcome-{{ row.result.outcome }}">{{ row.result.outcome }}</span>{% if row.result.review_by %}<div class="small">by {{ row.result.review_by|review_by_label }}</div>{% endif %}</td>
        <td class="small">{{ row.result.reason }}</td>
        <td class="small">
          {% if row.result.valid_until %}<div{% if row.expiring %} class="text-danger fw-semibold"{% endif %}>valid until {{ row.result.valid_until|date:"Y-m-d" }}</div>{% endif %}
          {% if row.result.eligible_from %}<div>eligible from {{ row.result.eligible_from|date:"Y-m-d" }}</div>{% endif %}
          {% if row.result.repeat_from %}<div>repeat from {{ row.result.repeat_from|date:"Y-m-d" }}</div>{% endif %}
        </td>
      </tr>
      {% endfor %}"""
_NOT_APPLICABLE_TEMPLATE = """{% for row in group.not_applicable %}
        <li data-criterion="{{ row.result.criterion_id }}" data-outcome="NOT_APPLICABLE"><span class="badge outcome-NOT_APPLICABLE">NOT_APPLICABLE</span> {{ row.title }} <span class="text-body-secondary">{{ row.result.criterion_id }}</span> — {{ row.result.reason }}</li>
        {% endfor %}"""


def _criterion_row(outcome: str, *, expiring: bool = False, text: str = "", **result: Any) -> CriterionRow:
    fields = {
        "criterion_id": "inc.heme.anc",
        "position": 1,
        "outcome": outcome,
        "review_by": "",
        "reason": "ANC 900/µL < 1000/µL",
        "missing": [],
        "valid_until": None,
        "eligible_from": None,
        "repeat_from": None,
        **result,
    }
    return CriterionRow(
        ResultRow(**fields), "ANC ≥ 1000/µL", text or "Absolute neutrophils ≥ 1.0 × 10⁹/L", expiring
    )


_ROW_CASES = [
    [],
    [_criterion_row("PASS", valid_until=date(2025, 6, 20))],
    [_criterion_row("PASS", valid_until=date(2025, 6, 20), expiring=True)],
    [_criterion_row("REVIEW", review_by="eac"), _criterion_row("REVIEW", review_by="investigator")],
    [
        _criterion_row(
            "FAIL",
            eligible_from=date(2025, 7, 1),
            repeat_from=date(2025, 6, 30),
            valid_until=date(2025, 8, 1),
        )
    ],
    [
        _criterion_row(
            "MISSING", criterion_id='exc.<"x">', reason="Tom's & <b>", text='a "quoted" <i>text</i>'
        )
    ],
]


@pytest.mark.parametrize("rows", _ROW_CASES)
def test_criterion_rows_are_the_template_s(rows: list[CriterionRow]) -> None:
    from django.template import engines

    expected = engines["django"].from_string(_ROWS_TEMPLATE).render({"group": {"rows": rows}})
    assert criterion_rows_html(rows) == expected


@pytest.mark.parametrize("rows", _ROW_CASES)
def test_not_applicable_items_are_the_template_s(rows: list[CriterionRow]) -> None:
    from django.template import engines

    expected = (
        engines["django"].from_string(_NOT_APPLICABLE_TEMPLATE).render({"group": {"not_applicable": rows}})
    )
    assert not_applicable_html(rows) == expected


def test_outcome_counts_are_the_template_s() -> None:
    from django.template import engines

    rows = [_criterion_row(o) for o in ("PASS", "FAIL", "PASS", "REVIEW", "MISSING", "PASS")]
    for group in (
        CriterionGroup("inclusion", "Inclusion criteria", rows),
        CriterionGroup("cohort", "Cohort"),
    ):
        expected = (
            engines["django"]
            .from_string(
                "{% load screening_ui %}{% for outcome, n in group.counts.items %}"
                '<span class="badge outcome-{{ outcome }} ms-1">{{ n }} {{ outcome|outcome_label|lower }}</span>'
                "{% endfor %}"
            )
            .render({"group": group})
        )
        assert outcome_counts_html(group) == expected
