"""The EAC queue's filters (django-filter): each bad value is ignored and named, the others still
apply, odd values never fail the page, and the query count does not depend on the filters."""

from __future__ import annotations

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from adjudication.models import Escalation
from participants.models import Participant, Role

pytestmark = pytest.mark.django_db


def rows(page: str) -> int:
    return page.count('data-testid="queue-row"')


def ignored(page: str) -> str:
    notice = re.search(r'data-testid="ignored-filters">(.*?)</p>', page, re.S)
    return html.unescape(notice.group(1)) if notice else ""


def test_queue_filters_ignore_bad_values_one_by_one(client, enter, reviewer_b) -> None:
    for name in ("sle-ln-no-biopsy.json", "ssc-crp-only.json"):
        enter(name)
    client.force_login(reviewer_b)
    url = reverse("adjudication:queue")
    everything = client.get(url).text
    assert rows(everything) == 2 and ignored(everything) == ""
    assert 'value="sle.ln_biopsy"' in everything  # the criteria of the open items are the choices
    assert all(f">{label}</option>" in everything for label in ("All criteria", "All cohorts", "All sites"))

    page = client.get(url, {"criterion": "sle.ln_biopsy", "cohort": "nope", "site": "Z99"}).text
    assert rows(page) == 1  # the valid criterion applies
    assert '<option value="sle.ln_biopsy" selected>' in page
    assert ignored(page) == "Not a valid value, so not applied: Cohort, Site."
    assert rows(client.get(url, {"cohort": "SLE", "site": "A01"}).text) == 1

    for odd in ('"><script>x</script>', "sle.ln_biopsy\x00", "a&b=c#d", "null", "é" * 500):
        response = client.get(url, {"criterion": odd, "cohort": odd, "site": odd})
        assert response.status_code == 200, odd
        assert rows(response.text) == 2
        assert "<script>x" not in response.text

    with CaptureQueriesContext(connection) as plain:
        client.get(url)
    with CaptureQueriesContext(connection) as filtered:
        client.get(url, {"criterion": "sle.ln_biopsy", "cohort": "SLE", "site": "A01"})
    with CaptureQueriesContext(connection) as bad:
        client.get(url, {"criterion": "bogus", "cohort": "nope"})
    assert len(plain) == len(filtered) == len(bad)


def _numbers(page: str) -> set[str]:
    return set(re.findall(r'<td class="fw-semibold">([^<]+)<div', page))


def test_queue_filters_by_the_escalations_site_and_criterion(
    client, enter, make_user, reviewer_b, reviewer_c, site_c
) -> None:
    """The menus offer the sites and criteria of the reviewer's open items, the filters read the
    escalation's own copy of the site, and a participant moved to another site moves its item."""
    coordinator_c = make_user(Role.COORDINATOR, site_c, "coord.c")
    at_a = [enter(name) for name in ("ssc-crp-only.json", "sle-ln-no-biopsy.json")]
    at_c = enter("ssc-lung-borderline.json", coordinator=coordinator_c, site=site_c)
    criteria = {e.participant_id: e.criterion_id for e in Escalation.objects.all()}
    client.force_login(reviewer_b)
    url = reverse("adjudication:queue")
    everything = client.get(url).text
    assert _numbers(everything) == {p.screening_number for p in [*at_a, at_c]}
    assert re.findall(r'<option value="([A-Z]\d\d)"', everything) == ["A01", "C03"]
    assert set(re.findall(r'<option value="([a-z]+\.[a-z_]+)"', everything)) == set(criteria.values())

    assert _numbers(client.get(url, {"site": "C03"}).text) == {at_c.screening_number}
    assert _numbers(client.get(url, {"site": "A01"}).text) == {p.screening_number for p in at_a}
    by_criterion = client.get(url, {"criterion": criteria[at_c.pk]}).text
    assert _numbers(by_criterion) == {p.screening_number for p in [*at_a, at_c] if criteria[p.pk] == criteria[at_c.pk]}
    assert "1 open item" in client.get(url, {"site": "C03", "criterion": criteria[at_c.pk]}).text

    # The participant moves to site C: its item with it (the foreign key cascades the copy).
    Participant.objects.filter(pk=at_a[0].pk).update(site=site_c, screening_sequence=999)
    assert _numbers(client.get(url, {"site": "C03"}).text) == {at_c.screening_number, at_a[0].screening_number}
    # A reviewer of site C no longer sees it, whatever the filter.
    client.force_login(reviewer_c)
    assert _numbers(client.get(url).text) == {at_a[1].screening_number}


def test_queue_query_count_does_not_grow_with_items_or_sites(
    client, enter, make_user, reviewer_b, site_c
) -> None:
    client.force_login(reviewer_b)
    url = reverse("adjudication:queue")
    enter("ssc-crp-only.json")
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        assert rows(client.get(url, {"site": "A01"}).text) == 1
    coordinator_c = make_user(Role.COORDINATOR, site_c, "coord.c")
    for name in ("sle-ln-no-biopsy.json", "ssc-lung-borderline.json"):
        enter(name)
        enter(name, coordinator=coordinator_c, site=site_c)
    with CaptureQueriesContext(connection) as many:
        assert rows(client.get(url, {"site": "A01"}).text) == 3
    with CaptureQueriesContext(connection) as unfiltered:
        assert rows(client.get(url).text) == 5
    assert len(one) == len(many) == len(unfiltered)
