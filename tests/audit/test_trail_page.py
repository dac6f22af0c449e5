"""The participant's audit trail page: content, filter, site scope and a constant query count."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from participants import services
from participants.models import Role

pytestmark = pytest.mark.django_db


def _url(participant, *types: str) -> str:  # type: ignore[no-untyped-def]
    url = reverse("audit:participant", args=[participant.pk])
    return url + ("?" + "&".join(f"types={t}" for t in types) if types else "")


def test_trail_shows_each_change_with_old_and_new_value_user_and_reason(client: Client, screened) -> None:
    p, user = screened["participant"], screened["user"]
    client.force_login(user)
    response = client.get(_url(p))
    assert response.status_code == 200
    html = response.content.decode()
    assert f"Audit trail of {p.screening_number}" in html
    # The ICF correction: field, old value struck through, new value, reason, user.
    assert "ICF signed" in html and "<del>2025-06-02</del>" in html and "2025-06-03" in html
    assert "ICF date mistyped" in html
    assert user.display_name() in html
    # A voided record, with the void reason and the state label.
    assert "voided" in html and "entered for the wrong participant" in html
    assert "Superseded by a correction" in html
    events = response.context["events"]
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert {e.record_type for e in events} == {
        "participant",
        "labresult",
        "assessment",
        "therapy",
        "clinicalevent",
        "historyreview",
        "evaluation",
        "screeningstate",
    }
    # The status copied from the evaluation, as a change of the participant's screening state.
    status_changes = [
        c for e in events if e.record_type == "screeningstate" for c in e.changes if c.field == "status"
    ]
    assert (
        status_changes
        and status_changes[-1].new == screened["participant"].screening_state.get_status_display()
    )


def test_filter_by_record_type(client: Client, screened) -> None:
    client.force_login(screened["user"])
    events = client.get(_url(screened["participant"], "therapy")).context["events"]
    assert events and {e.record_type for e in events} == {"therapy"}
    events = client.get(_url(screened["participant"], "criterionresult")).context["events"]
    assert len(events) == screened["evaluation"].results.count()


def test_trail_is_site_scoped(client: Client, screened, coordinator_b, make_user, site_b) -> None:
    p = screened["participant"]
    client.force_login(coordinator_b)
    assert client.get(_url(p)).status_code == 404
    client.force_login(make_user(Role.MONITOR, site_b))
    assert client.get(_url(p)).status_code == 404
    client.force_login(make_user(Role.MONITOR, None))
    assert client.get(_url(p)).status_code == 200
    client.force_login(make_user(Role.EAC_REVIEWER, site_b))
    assert client.get(_url(p)).status_code == 403


def test_change_outside_the_application_is_flagged(client: Client, participant_a, coordinator_a) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE participants_participant SET planned_day0 = '2025-09-01' WHERE id = %s",
            [participant_a.pk],
        )
    client.force_login(coordinator_a)
    response = client.get(_url(participant_a))
    assert "outside the application" in response.content.decode()


def test_query_count_does_not_grow_with_the_number_of_events(
    client: Client, screened, django_assert_max_num_queries
) -> None:
    p, user = screened["participant"], screened["user"]
    client.force_login(user)
    url = _url(p, "participant", "labresult", "criterionresult", "therapy")
    client.get(url)  # warm the session
    # Session, user, memberships (2), participant, the trail, user and site names, session save (3).
    with django_assert_max_num_queries(11) as few:
        first = client.get(url)
    for n in range(25):
        lab = services.record_lab(
            user, p, test="anc", value=Decimal(1000 + n), unit="/uL", collected=date(2025, 6, 3)
        )
        services.void_record(user, lab, reason=f"void {n}")
    with django_assert_max_num_queries(11) as many:
        second = client.get(url)
    assert len(second.context["events"]) >= len(first.context["events"]) + 50
    assert len(many.captured_queries) == len(few.captured_queries)
