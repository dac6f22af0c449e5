"""Who may reach the intake URLs, and what each page costs in queries."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from participants import services
from participants.models import Participant, Role, User

from .intake_helpers import logged_in, read_urls, write_urls

pytestmark = pytest.mark.django_db

RECENT = date.today() - timedelta(days=3)


def one_of_each(user: User, participant: Participant) -> dict[str, int]:
    """One record of every kind; their primary keys by kind."""
    return {
        "lab": services.record_lab(
            user, participant, test="anc", value=Decimal(2100), unit="/uL", collected=RECENT
        ).pk,
        "fact": services.record_assessment(user, participant, key="cirrhosis", value=False).pk,
        "therapy": services.record_therapy(
            user, participant, agent="hydroxychloroquine", start=date(2020, 1, 1), ongoing=True
        ).pk,
        "event": services.record_event(
            user, participant, kind="transfusion", date=RECENT, details={"product": "red_cells"}
        ).pk,
        "history": services.confirm_history(user, participant, area="therapies").pk,
    }


def test_another_sites_participant_is_404_on_every_intake_url(
    coordinator_a, coordinator_b, participant_b
) -> None:
    records = one_of_each(coordinator_b, participant_b)
    client = logged_in("coord.a")
    for url in write_urls(participant_b, records) + read_urls(participant_b):
        assert client.get(url).status_code in (404, 405), url
        assert client.post(url, {"reason": "x"}).status_code == 404, url


def test_another_sites_record_under_ones_own_participant_is_404(
    coordinator_a, coordinator_b, participant_a, participant_b
) -> None:
    foreign = one_of_each(coordinator_b, participant_b)
    client = logged_in("coord.a")
    for kind, pk in foreign.items():
        for name in ("correct_record", "void_record"):
            if kind == "history" and name == "correct_record":
                continue
            url = reverse(f"participants:{name}", args=[participant_a.pk, kind, pk])
            assert client.get(url).status_code == 404, url
            assert client.post(url, {"reason": "x"}).status_code == 404, url


def test_unknown_record_kind_is_404(coordinator_a, participant_a) -> None:
    client = logged_in("coord.a")
    for name in ("add_record", "records", "preview"):
        url = reverse(f"participants:{name}", args=[participant_a.pk, "nonsense"])
        assert client.post(url).status_code == 404


def test_monitor_gets_403_on_every_write_url_and_reads_the_lists(
    make_user, coordinator_a, participant_a
) -> None:
    records = one_of_each(coordinator_a, participant_a)
    make_user(Role.MONITOR, None, "monitor.all")
    client = logged_in("monitor.all")
    assert client.get(reverse("participants:register")).status_code == 403
    assert client.post(reverse("participants:register"), {}).status_code == 403
    for url in write_urls(participant_a, records):
        assert client.get(url).status_code in (403, 405), url
        assert client.post(url, {"reason": "x"}).status_code == 403, url
    for url in read_urls(participant_a):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Correct</a>" not in response.content.decode()


def test_anonymous_is_sent_to_log_in(participant_a) -> None:
    client = Client()
    for url in write_urls(participant_a, {}) + read_urls(participant_a):
        response = client.get(url)
        assert response.status_code in (302, 405), url


@pytest.mark.parametrize("kind", ["lab", "fact", "therapy", "event", "history"])
def test_page_queries_do_not_grow_with_the_records(
    kind, coordinator_a, participant_a, django_assert_max_num_queries
) -> None:
    client = logged_in("coord.a")
    records = one_of_each(coordinator_a, participant_a)
    query = {"lab": "?test=anc", "fact": "?group=history", "event": "?event=transfusion"}.get(kind, "")
    urls = [
        reverse("participants:records", args=[participant_a.pk, kind]),
        reverse("participants:add_record", args=[participant_a.pk, kind]) + query,
        reverse("participants:edit_dates", args=[participant_a.pk]),
    ]
    if kind != "history":
        urls.append(reverse("participants:correct_record", args=[participant_a.pk, kind, records[kind]]))
    counts_one = {}
    for url in urls:
        with django_assert_max_num_queries(100) as ctx:
            assert client.get(url).status_code == 200, url
        counts_one[url] = len(ctx.captured_queries)
    _add_many(kind, coordinator_a, participant_a, 29)
    for url in urls:
        with django_assert_max_num_queries(counts_one[url]):
            assert client.get(url).status_code == 200, url
    # The live panel too: it reads the current records once per type.
    preview = reverse("participants:preview", args=[participant_a.pk, "lab"])
    data = {"test": "anc", "value_number": "900", "unit": "/uL", "collected": RECENT.isoformat()}
    with django_assert_max_num_queries(30):
        assert client.post(preview, data).status_code == 200


def _add_many(kind: str, user: User, participant: Participant, n: int) -> None:
    for i in range(n):
        if kind == "lab":
            services.record_lab(
                user, participant, test="alc", value=Decimal(1000 + i), unit="/uL", collected=RECENT
            )
        elif kind == "fact":
            # One current value per fact: corrections pile up superseded records.
            services.record_assessment(
                user, participant, key="history_pml", value=bool(i % 2), reason=f"r{i}"
            )
        elif kind == "therapy":
            services.record_therapy(
                user,
                participant,
                agent="rituximab",
                start=date(2020, 1, 1),
                last_dose=date(2020, 2, 1),
                ongoing=False,
            )
        elif kind == "event":
            services.record_event(user, participant, kind="live_vaccine", date=RECENT - timedelta(days=i))
        else:
            record = services.confirm_history(user, participant, area="malignancy")
            services.void_record(user, record, reason=f"entered twice {i}")
