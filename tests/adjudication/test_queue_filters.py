"""The EAC queue's filters (django-filter): each bad value is ignored and named, the others still
apply, odd values never fail the page, and the query count does not depend on the filters."""

from __future__ import annotations

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

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
