"""The participant list's filters (django-filter) and links ({% querystring %}): odd values are
URL-encoded, bad values are ignored and named, paging keeps the filters, queries stay constant."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from participants.models import Cohort, Role, ScreeningStatus

from ..factories import ParticipantFactory
from .test_dashboard import DASHBOARD_QUERIES, listed

pytestmark = pytest.mark.django_db

ODD = 'A01 &page=9#x"<é%'


def get(client: Client, params: dict[str, str] | str = "") -> str:
    url = reverse("participants:list")
    response = client.get(url + params) if isinstance(params, str) else client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def links(page: str, pattern: str) -> list[dict[str, list[str]]]:
    """The query of every link whose <a ...> tag matches `pattern`, decoded."""
    found = []
    for tag in re.findall(r"<a [^>]*>", page):
        if re.search(pattern, tag):
            href = html.unescape(re.search(r'href="([^"]*)"', tag).group(1))  # type: ignore[union-attr]
            found.append(parse_qs(urlsplit(href).query, keep_blank_values=True))
    return found


def status_tabs(page: str) -> str:
    tabs = re.search(r'data-testid="status-counts">(.*?)</ul>', page, re.S)
    assert tabs
    return tabs.group(1)


def ignored(page: str) -> str:
    notice = re.search(r'data-testid="ignored-filters">(.*?)</p>', page, re.S)
    return html.unescape(notice.group(1)) if notice else ""


@pytest.fixture
def many(site_a, coordinator_a):  # type: ignore[no-untyped-def]
    """55 SLE participants and 3 IIM ones at site A: two pages of SLE."""
    ParticipantFactory.create_batch(55, site=site_a, created_by=coordinator_a, cohort=Cohort.SLE)
    ParticipantFactory.create_batch(
        3, site=site_a, created_by=coordinator_a, cohort=Cohort.IIM, lupus_nephritis=None
    )


def test_paging_links_keep_the_filters(client: Client, coordinator_a, many) -> None:
    client.force_login(coordinator_a)
    first = get(client, {"cohort": "SLE", "q": "a01"})
    assert len(listed(first)) == 50
    (following,) = links(first, r'rel="next"')
    # The link continues from the key of the page's last row (no offset).
    last_key = following.pop("after")
    assert following == {"cohort": ["SLE"], "q": ["a01"], "page": ["2"]} and len(last_key) == 1
    second = get(client, {"cohort": "SLE", "q": "a01", "page": "2", "after": last_key[0]})
    assert len(listed(second)) == 5 and not set(listed(second)) & set(listed(first))
    assert listed(get(client, "?cohort=SLE&q=a01&page=2")) == listed(second)  # by the page number alone
    (back,) = links(second, r'rel="prev"')
    first_key = back.pop("before")
    assert back == {"cohort": ["SLE"], "q": ["a01"], "page": ["1"]} and len(first_key) == 1
    assert listed(get(client, {"cohort": "SLE", "q": "a01", "page": "1", "before": first_key[0]})) == listed(first)
    # The status tabs keep the other filters and start again at the first page.
    tabs = links(status_tabs(second), r'class="nav-link')
    assert {"cohort": ["SLE"], "q": ["a01"]} in tabs  # "All"
    assert {"cohort": ["SLE"], "q": ["a01"], "status": ["ELIGIBLE"]} in tabs


def test_odd_values_are_url_encoded_in_every_link(client: Client, coordinator_a, many) -> None:
    client.force_login(coordinator_a)
    page = get(client, {"q": ODD, "cohort": "SLE"})
    assert listed(page) == []  # a search, not a page number: nothing matches
    tabs = links(status_tabs(page), r'class="nav-link')
    assert len(tabs) == 1 + len(ScreeningStatus.values)
    for query in tabs:
        assert query["q"] == [ODD] and query["cohort"] == ["SLE"] and "page" not in query
    hrefs = re.findall(r'<a class="nav-link[^"]*" href="([^"]*)"', status_tabs(page))
    for href in hrefs:
        assert not set(' #"<é') & set(html.unescape(href)), href
    # The value is shown back in the search box, escaped.
    assert 'value="A01 &amp;page=9#x&quot;&lt;é%"' in page


@pytest.mark.parametrize(
    "params",
    [
        {"status": "bogus", "cohort": "nope", "page": "x"},
        {"q": "A01\x00"},
        {"q": "A" * 31},
        {"page": "-3"},
        {"page": "99999"},
        {"status": "null", "cohort": ""},
        {"site": "B02"},  # a site role has no site filter: ignored, never widened
    ],
)
def test_bad_values_never_fail_the_page(client: Client, coordinator_a, many, params) -> None:
    client.force_login(coordinator_a)
    page = get(client, params)
    assert len(listed(page)) in (50, 8)  # first or last page of all 58: nothing filtered


def test_bad_values_are_ignored_and_named(client: Client, coordinator_a, many) -> None:
    client.force_login(coordinator_a)
    page = get(client, {"status": "bogus", "cohort": "IIM", "q": "A01\x00"})
    assert len(listed(page)) == 3  # the valid cohort still applies
    assert ignored(page) == "Not a valid value, so not applied: Status, Screening number."
    assert 'class="nav-link active"' in status_tabs(page).split("data-status-count=")[0]  # "All"
    assert ignored(get(client, {"cohort": "IIM"})) == ""


def test_site_filter_for_a_trial_wide_monitor(client: Client, make_user, many, site_b, coordinator_b) -> None:
    ParticipantFactory(site=site_b, created_by=coordinator_b)
    client.force_login(make_user(Role.MONITOR, None))
    assert len(listed(get(client, {"site": site_b.code}))) == 1
    assert "No participant matches these filters." in get(client, {"site": "Z99"})
    page = get(client, {"site": "X" * 11})  # longer than any site code: ignored, and said
    assert ignored(page) == "Not a valid value, so not applied: Site."
    assert len(listed(page)) == 50


def test_filtered_dashboard_queries_stay_constant(
    client: Client, coordinator_a, many, django_assert_max_num_queries
) -> None:
    client.force_login(coordinator_a)
    get(client)
    for params in (
        {"cohort": "SLE", "q": "a01", "page": "2"},
        {"status": "bogus", "cohort": "nope", "q": "\x00"},
        {"status": ScreeningStatus.NOT_EVALUATED},
    ):
        with django_assert_max_num_queries(DASHBOARD_QUERIES):
            get(client, params)


def test_control_characters_are_dropped_from_the_search(client: Client, coordinator_a, site_a) -> None:
    participant = ParticipantFactory(site=site_a, created_by=coordinator_a)
    client.force_login(coordinator_a)
    number = participant.screening_number
    assert listed(get(client, {"q": f"\x01{number}\x1b"})) == [number]
