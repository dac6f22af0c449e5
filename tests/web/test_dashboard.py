"""The site dashboard: the site's participants, status counts, filters, search and expiring results."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from participants.case_import import shift_case_dates
from participants.models import Cohort, Membership, Role, ScreeningStatus
from participants.selectors import (
    Attention,
    DashboardRow,
    ExpiringEntry,
    ExpiringParticipant,
    ExpiringResult,
    site_dashboard,
)
from screening.models import ScreeningState

from ..factories import ParticipantFactory
from .pages_helpers import enter, sle_case

pytestmark = pytest.mark.django_db


def listed(html: str) -> list[str]:
    return re.findall(r'<tr data-participant="([^"]+)"', html)


def counts(html: str) -> dict[str, int]:
    found = re.findall(r'data-status-count="(\w+)".*?<span class="badge[^"]*">(\d+)</span>', html, re.S)
    return {status: int(n) for status, n in found}


@pytest.fixture
def roster(site_a, site_b, coordinator_a, coordinator_b):  # type: ignore[no-untyped-def]
    """Participants of both sites in several statuses and cohorts."""
    make = ParticipantFactory
    return {
        "eligible": make(site=site_a, created_by=coordinator_a, status=ScreeningStatus.ELIGIBLE),
        "ineligible": make(site=site_a, created_by=coordinator_a, status=ScreeningStatus.INELIGIBLE),
        "incomplete_iim": make(
            site=site_a,
            created_by=coordinator_a,
            status=ScreeningStatus.INCOMPLETE,
            cohort=Cohort.IIM,
            lupus_nephritis=None,
        ),
        "review": make(site=site_a, created_by=coordinator_a, status=ScreeningStatus.PENDING_REVIEW),
        "other_site": make(site=site_b, created_by=coordinator_b, status=ScreeningStatus.ELIGIBLE),
    }


def get(client: Client, **params: str) -> str:
    response = client.get(reverse("participants:list"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_coordinator_sees_the_sites_participants_with_status_counts(
    client: Client, coordinator_a, roster
) -> None:
    client.force_login(coordinator_a)
    html = get(client)
    assert sorted(listed(html)) == sorted(p.screening_number for k, p in roster.items() if k != "other_site")
    assert roster["other_site"].screening_number not in html
    assert counts(html) == {
        "NOT_EVALUATED": 0,
        "ELIGIBLE": 1,
        "INELIGIBLE": 1,
        "INCOMPLETE": 1,
        "PENDING_REVIEW": 1,
    }
    row = re.search(rf'<tr data-participant="{roster["eligible"].screening_number}".*?</tr>', html, re.S)
    assert row and "status-ELIGIBLE" in row.group(0)
    assert reverse("participants:detail", args=[roster["eligible"].pk]) in row.group(0)


def test_filter_by_status_and_cohort_and_search(client: Client, coordinator_a, roster) -> None:
    client.force_login(coordinator_a)
    assert listed(get(client, status="INELIGIBLE")) == [roster["ineligible"].screening_number]
    html = get(client, cohort="IIM")
    assert listed(html) == [roster["incomplete_iim"].screening_number]
    assert counts(html)["INCOMPLETE"] == 1 and counts(html)["ELIGIBLE"] == 0  # counts follow the cohort
    number = roster["review"].screening_number
    assert listed(get(client, q=number.lower())) == [number]
    assert listed(get(client, q=roster["other_site"].screening_number)) == []
    assert "No participant matches these filters." in get(client, status="ELIGIBLE", cohort="SSc")
    # Unknown values are ignored rather than failing.
    assert len(listed(get(client, status="bogus", cohort="nope", page="x"))) == 4


def test_investigator_sees_the_sites_list(client: Client, make_user, site_a, roster) -> None:
    client.force_login(make_user(Role.INVESTIGATOR, site_a))
    assert len(listed(get(client))) == 4


def test_monitor_sees_every_site_read_only_and_filters_by_site(
    client: Client, make_user, roster, site_b
) -> None:
    client.force_login(make_user(Role.MONITOR, None))
    html = get(client)
    assert len(listed(html)) == 5
    assert "Participants at all sites" in html and "read-only" in html
    assert listed(get(client, site=site_b.code)) == [roster["other_site"].screening_number]


def test_coordinator_cannot_widen_the_scope_with_the_site_filter(
    client: Client, coordinator_a, roster, site_b
) -> None:
    client.force_login(coordinator_a)
    assert roster["other_site"].screening_number not in listed(get(client, site=site_b.code))


def test_rows_say_what_holds_each_participant_back(client: Client, coordinator_a, site_a) -> None:
    case = sle_case()
    del case["dates"]["planned_day0"]
    incomplete = enter(coordinator_a, site_a, case)
    case = sle_case()
    case["labs"][0]["value"] = 800  # ANC
    ineligible = enter(coordinator_a, site_a, case)
    eligible = enter(coordinator_a, site_a, sle_case())
    client.force_login(coordinator_a)
    html = get(client)

    def attention(p) -> str:  # type: ignore[no-untyped-def]
        row = re.search(rf'<tr data-participant="{p.screening_number}".*?</tr>', html, re.S)
        assert row
        cell = re.search(r'data-testid="attention">(.*?)</td>', row.group(0), re.S)
        assert cell
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell.group(1))).strip()

    # Criteria by their titles (the stored summary of the latest evaluation), not their ids.
    assert attention(incomplete) == "1 missing: Washout of prior therapies before Day 0"
    assert attention(ineligible) == "fails ANC ≥ 1000/µL"
    assert "inc.heme.anc" not in attention(ineligible)
    assert attention(eligible) == "—"

    def valid_until(p) -> str:  # type: ignore[no-untyped-def]
        row = re.search(rf'<tr data-participant="{p.screening_number}".*?</tr>', html, re.S)
        assert row
        cell = re.search(r'data-testid="valid-until">(.*?)</td>', row.group(0), re.S)
        assert cell
        return cell.group(1).strip()

    # An incomplete participant's result holds for nothing: no date; an eligible one shows it.
    assert valid_until(incomplete) == "—"
    assert valid_until(eligible) != "—"


def test_expiring_soon_lists_results_of_latest_evaluations(coordinator_a, site_a, monkeypatch) -> None:
    # exc.washout valid until 2025-06-26, labs 2025-07-01; evaluated twice: only the latest counts
    soon = enter(coordinator_a, site_a, sle_case(), times=2)
    later = ParticipantFactory(
        site=site_a,
        created_by=coordinator_a,
        screening_sequence=900,
        status=ScreeningStatus.ELIGIBLE,
        status_valid_until=date(2025, 8, 1),
    )
    membership = Membership.objects.get(user=coordinator_a)
    dashboard = site_dashboard(coordinator_a, membership, today=date(2025, 6, 20))
    assert dashboard.horizon == date(2025, 6, 27)
    assert [item.participant.pk for item in dashboard.expiring] == [soon.pk]
    assert [(r.criterion_id, r.valid_until) for r in dashboard.expiring[0].results] == [
        ("exc.washout", date(2025, 6, 26))
    ]
    # Later, the labs come within the week as well; only the latest evaluation counts.
    dashboard = site_dashboard(coordinator_a, membership, today=date(2025, 6, 25))
    # The list shows the first three (soonest first) and counts the others.
    item = dashboard.expiring[0]
    ids = [r.criterion_id for r in item.results]
    assert ids[0] == "exc.washout" and len(ids) == len(set(ids)) == 3 and item.more > 0
    assert all(r.evaluation_sequence == 2 for r in item.results)
    monkeypatch.setattr("participants.selectors.EXPIRING_RESULTS_SHOWN", 100)
    everything = site_dashboard(coordinator_a, membership, today=date(2025, 6, 25))
    ids = {r.criterion_id for r in everything.expiring[0].results}
    assert {"exc.washout", "inc.heme.anc", "inc.crcl"} <= ids and len(ids) == 3 + item.more
    assert later.pk not in [item.participant.pk for item in dashboard.expiring]


def test_expiring_soon_on_the_page(client: Client, coordinator_a, site_a) -> None:
    case = sle_case()
    today = timezone.localdate()
    shifted = shift_case_dates(case, (today - timedelta(days=5) - date(2025, 6, 16)).days)
    participant = enter(coordinator_a, site_a, shifted)  # as of five days ago: washout holds 5 more days
    client.force_login(coordinator_a)
    html = get(client)
    box = re.search(r'data-testid="expiring-soon".*?</section>', html, re.S)
    assert box and participant.screening_number in box.group(0)
    assert "exc.washout" in box.group(0) and (today + timedelta(days=5)).isoformat() in box.group(0)


def test_dashboard_queries_do_not_grow_with_participants(
    client: Client, coordinator_a, site_a, django_assert_max_num_queries
) -> None:
    enter(coordinator_a, site_a, sle_case())
    client.force_login(coordinator_a)
    get(client)
    soon = timezone.localdate() + timedelta(days=2)
    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        get(client)
    for n, status in enumerate(ScreeningStatus.values * 6):
        ParticipantFactory(
            site=site_a,
            created_by=coordinator_a,
            screening_sequence=900 + n,
            status=status,
            status_valid_until=soon,
        )
    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        html = get(client)
    assert len(listed(html)) == 31


# session, user, memberships (the request's; a site role's dashboard lists its current site
# without reading them again), counts (from the states alone), rows (what holds each back is
# stored with the status; the page count comes from the counts), expiring participants + results,
# the protocol version in force, session save
DASHBOARD_QUERIES = 11


@pytest.mark.django_db
def test_register_link_for_site_staff_only(client: Client, coordinator_a, make_user) -> None:  # type: ignore[no-untyped-def]
    client.force_login(coordinator_a)
    register = reverse("participants:register")
    assert f'href="{register}"' in client.get(reverse("participants:list")).content.decode()
    client.force_login(make_user(Role.MONITOR, None))
    assert f'href="{register}"' not in client.get(reverse("participants:list")).content.decode()


def test_filter_by_outcome_and_days_in_screening(client: Client, coordinator_a, roster) -> None:
    today = timezone.localdate()
    enrolled, waiting = roster["eligible"], roster["review"]
    ScreeningState.objects.filter(participant=enrolled).update(
        outcome="enrolled", outcome_on=today - timedelta(days=3)
    )
    type(enrolled).objects.filter(pk__in=[enrolled.pk, waiting.pk]).update(
        screening_start=today - timedelta(days=20)
    )
    client.force_login(coordinator_a)
    html = get(client, outcome="enrolled")
    assert listed(html) == [enrolled.screening_number]
    assert counts(html)["ELIGIBLE"] == 1 and counts(html)["PENDING_REVIEW"] == 0  # counts follow it
    row = re.search(rf'<tr data-participant="{enrolled.screening_number}".*?</tr>', html, re.S)
    assert row and "Enrolled" in row.group(0)
    assert re.search(r'data-testid="days-in-screening">17<', row.group(0))  # start to enrollment
    html = get(client, outcome="in_screening")
    assert enrolled.screening_number not in listed(html) and waiting.screening_number in listed(html)
    row = re.search(rf'<tr data-participant="{waiting.screening_number}".*?</tr>', html, re.S)
    assert row and re.search(r'data-testid="days-in-screening">20<', row.group(0))  # start to today


def test_pages_follow_the_key_of_the_row_before(client: Client, coordinator_a, site_a, site_b) -> None:
    """Next and Previous links carry the key of the row they continue from (no offset): walking
    them lists every participant once, in order; `?page=N` alone and the last page still work."""
    made = [
        ParticipantFactory(site=site_a, created_by=coordinator_a, screening_sequence=n, status=status)
        for n, status in enumerate(ScreeningStatus.values * 3, start=1)
    ]
    ParticipantFactory(site=site_b, screening_sequence=1)  # another site's: never listed
    membership = Membership.objects.get(user=coordinator_a)
    expected = [p.screening_number for p in made]

    def walk(page: int = 1, **keys: str) -> object:
        return site_dashboard(coordinator_a, membership, page=page, page_size=4, **keys).page

    seen, page = [], walk()
    numbers = [page.number]
    while True:
        seen += [p.screening_number for p in page.object_list]
        if not page.has_next:
            break
        page = walk(page.next_page_number, after=page.last_key)
        numbers.append(page.number)
    assert seen == expected and numbers == list(range(1, -(-len(made) // 4) + 1))
    back = []
    while True:
        back = [p.screening_number for p in page.object_list] + back
        if not page.has_previous:
            break
        page = walk(page.previous_page_number, before=page.first_key)
    assert back == expected and page.number == 1
    last = walk(numbers[-1])  # the last page by its number: read from the end
    assert [p.screening_number for p in last.object_list] == expected[(numbers[-1] - 1) * 4 :]
    assert [p.screening_number for p in walk(2).object_list] == expected[4:8]  # by offset
    assert [p.screening_number for p in walk(2, after="not.a.key").object_list] == expected[4:8]
    # Filtered: the key continues within the filter.
    eligible = [p.screening_number for p in made if p.screening_state.status == ScreeningStatus.ELIGIBLE]
    first = site_dashboard(coordinator_a, membership, {"status": "ELIGIBLE"}, page_size=2).page
    second = site_dashboard(
        coordinator_a, membership, {"status": "ELIGIBLE"}, page=2, after=first.last_key, page_size=2
    ).page
    assert [p.screening_number for p in first.object_list + second.object_list] == eligible
    # The page's links carry the keys (50 a page).
    for n in range(len(made) + 1, 52):
        made.append(ParticipantFactory(site=site_a, created_by=coordinator_a, screening_sequence=n))
    client.force_login(coordinator_a)
    html = get(client)
    link = re.search(r'href="\?([^"]*)" rel="next"', html)
    assert link and "Page 1 of 2" in html
    html = client.get(
        reverse("participants:list") + "?" + link.group(1).replace("&amp;", "&")
    ).content.decode()
    assert "after=" in link.group(1) and listed(html) == [made[-1].screening_number]
    link = re.search(r'href="\?([^"]*)" rel="prev"', html)
    assert link and "before=" in link.group(1) and "Page 2 of 2" in html


# The rows and the expiring list as Django's template engine wrote them (participants/list.html)
# before the Jinja2 templates (templates/jinja2/participants/) took them over: the markup must be
# the same, character for character, escapes included.
_ATTENTION_TEMPLATE = """{% with a=p.attention %}
            {% if a.failing %}<span class="text-danger">fails {% for cid, title in a.failing %}<span data-criterion="{{ cid }}">{{ title }}</span>{% if not forloop.last %}; {% endif %}{% endfor %}</span>{% if a.eligible_from %} · <span class="text-nowrap">clears {{ a.eligible_from|date:"Y-m-d" }}</span>{% endif %}{% endif %}
            {% if a.missing %}{% if a.failing %} · {% endif %}<span data-testid="missing">{{ a.missing|length }} missing: {% for cid, title in a.missing|slice:":2" %}<span data-criterion="{{ cid }}">{{ title }}</span>{% if not forloop.last %}; {% endif %}{% endfor %}{% if a.missing|length > 2 %} and {{ a.missing|length|add:"-2" }} more{% endif %}</span>{% endif %}
            {% if a.reviews %}{% if a.failing or a.missing %} · {% endif %}{{ a.reviews|length }} review{{ a.reviews|length|pluralize }} pending: {% for cid, title in a.reviews %}<span data-criterion="{{ cid }}">{{ title }}</span>{% if not forloop.last %}; {% endif %}{% endfor %}{% endif %}
            {% if not a.failing and not a.missing and not a.reviews %}<span class="text-body-secondary">—</span>{% endif %}
          {% endwith %}"""

_ROWS_TEMPLATE = (
    """{% for p in rows %}
        <tr data-participant="{{ p.screening_number }}">
          <td class="fw-semibold"><a href="{{ p.detail_url }}">{{ p.screening_number }}</a></td>
          {% if show_site %}<td>{{ p.site_code }}</td>{% endif %}
          <td>{{ p.cohort }}{% if p.lupus_nephritis %} (LN){% endif %}</td>
          <td><span class="badge status-{{ p.row_status }}">{{ p.row_status_label }}</span>
            {% if p.row_updating %}<span class="small text-body-secondary" title="Data changed since the last evaluation">· updating</span>{% endif %}</td>
          <td class="small" data-testid="attention">"""
    + _ATTENTION_TEMPLATE
    + """</td>
          {# The cells' text comes from participants.selectors.DashboardRow (dates as Y-m-d). #}
          <td class="text-nowrap" data-testid="valid-until">{{ p.row_valid_until }}</td>
          <td class="text-nowrap" data-testid="outcome">{% if p.row_outcome %}{{ p.row_outcome }}{% else %}<span class="text-body-secondary">in screening</span>{% endif %}</td>
          <td class="text-end" data-testid="days-in-screening">{{ p.days_in_screening }}</td>
          <td class="text-nowrap">{{ p.row_planned }}</td>
          <td class="small text-body-secondary text-nowrap">{{ p.row_evaluated }}</td>
        </tr>
      {% endfor %}"""
)

_EXPIRING_TEMPLATE = """{% load screening_ui %}{% for item in expiring %}
        <li class="list-group-item" data-expiring="{{ item.participant.screening_number }}">
          <div class="d-flex justify-content-between">
            <a class="fw-semibold" href="{{ item.participant.detail_url }}">{{ item.participant.screening_number }}</a>
            <span class="badge status-{{ item.participant.row_status }}">{{ item.participant.row_status_label }}</span>
          </div>
          <ul class="list-unstyled small mb-0 mt-1">
            {% for r in item.results %}
            <li data-criterion="{{ r.criterion_id }}"><span class="{% if r.late %}text-danger {% endif %}fw-semibold">{{ r.shown_until }} ({{ r.valid_until|days_until:today }})</span>
              <span class="badge outcome-{{ r.outcome }}">{{ r.outcome }}</span> {{ r.criterion_id|criterion_title }} <span class="text-body-secondary">{{ r.criterion_id }}</span>
              <div class="text-body-secondary">{{ r.short_reason }}</div></li>
            {% endfor %}
            {% if item.more %}<li class="text-body-secondary" data-testid="expiring-more"><a href="{{ item.participant.detail_url }}">and {{ item.more }} more</a></li>{% endif %}
          </ul>
        </li>
        {% endfor %}"""

_ATTENTIONS = [
    Attention(),
    Attention(failing=[("inc.heme.anc", "ANC ≥ 1000/µL")], eligible_from=date(2025, 7, 1)),
    Attention(failing=[("a", "A <b>"), ("b", "B")]),
    Attention(missing=[("m1", "M1")]),
    Attention(missing=[("m1", "M1"), ("m2", "M2"), ("m3", "M3"), ("m4", "M4")], reviews=[("r", "R")]),
    Attention(failing=[("a", "A")], missing=[("m1", "M1"), ("m2", "M2")], reviews=[("r", "R"), ("s", "S")]),
]


def _row(n: int, attention: Attention, **cells: object) -> DashboardRow:
    values: dict[str, object] = {
        "pk": n,
        "screening_number": f"S01-{n:04d}",
        "site_code": "S01",
        "cohort": "SLE",
        "lupus_nephritis": n % 2 == 0,
        "site_id": 1,
        "screening_sequence": n,
        "attempt": 1,
        "attention": attention,
        "days_in_screening": n * 3,
        "row_status": "INELIGIBLE",
        "row_status_label": "Ineligible",
        "row_updating": n % 3 == 0,
        "row_valid_until": "2025-07-01",
        "row_outcome": "" if n % 2 else "Screen failed 2025-06-30",
        "row_planned": "—",
        "row_evaluated": "2025-06-20 10:15",
        "detail_url": f"/participants/{n}/",
    }
    values.update(cells)
    return DashboardRow(**values)  # type: ignore[arg-type]


def _dtl(template: str, context: dict[str, object]) -> str:
    from django.template import engines

    return engines["django"].from_string(template).render(context)


def _jinja(name: str, context: dict[str, object]) -> str:
    from django.template.loader import get_template

    return get_template(name, using="jinja2").render(context)


@pytest.mark.parametrize("show_site", [False, True])
def test_rows_are_the_django_template_s(show_site: bool) -> None:
    rows = [_row(n, attention) for n, attention in enumerate(_ATTENTIONS, start=1)]
    # Text that must be escaped, in every kind of cell.
    rows.append(
        _row(
            99,
            Attention(failing=[("x\"y", "<i>it's</i> & co")]),
            screening_number='S01-"<99>"',
            site_code="S&1",
            cohort="<SLE>",
            row_status_label="It's \"odd\"",
            row_valid_until="<date>",
            row_outcome="Ended <now> & 'then'",
            detail_url="/p/?a=1&b='2'",
        )
    )
    context = {"rows": rows, "show_site": show_site}
    rendered = _jinja("participants/dashboard_rows.html", context)
    assert rendered == _dtl(_ROWS_TEMPLATE, context)
    assert "&lt;i&gt;it&#x27;s&lt;/i&gt; &amp; co" in rendered and ("<td>S&amp;1</td>" in rendered) == show_site


def test_expiring_list_is_the_django_template_s() -> None:
    today = date(2025, 6, 20)

    def result(criterion_id: str, days: int, reason: str) -> ExpiringResult:
        day = today + timedelta(days=days)
        return ExpiringResult(criterion_id, "PASS", day, 2, day.isoformat(), days < 0, reason)

    expiring = [
        ExpiringParticipant(
            ExpiringEntry(1, "S01-0001", "ELIGIBLE", "Eligible", "/participants/1/"),
            [result("exc.washout", -1, "Washout <ends> & 'so'"), result("inc.heme.anc", 0, "ANC"), result("zz", 3, "")],
            more=4,
        ),
        ExpiringParticipant(ExpiringEntry(2, 'S01-"2"', "INCOMPLETE", "Incomplete", "/participants/2/"), []),
    ]
    context = {"expiring": expiring, "today": today}
    rendered = _jinja("participants/dashboard_expiring.html", context)
    assert rendered == _dtl(_EXPIRING_TEMPLATE, context)
    assert "and 4 more" in rendered and "1 day ago" in rendered and "today" in rendered
