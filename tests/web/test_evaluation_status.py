"""The re-evaluation notice and the endpoint it polls, without the participant page."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from participants.models import Participant, Role
from screening.evaluation import evaluate_participant
from screening.models import ScreeningState, Trigger

pytestmark = pytest.mark.django_db


def url(participant: Participant) -> str:
    return reverse("screening:evaluation_status", args=[participant.pk])


def mark(participant: Participant) -> None:
    ScreeningState.objects.filter(participant_id=participant.pk).update(
        reevaluation_requested_at=timezone.now()
    )
    participant.refresh_from_db()


def test_pending_answers_the_polling_notice(client: Client, coordinator_a, participant_a) -> None:
    mark(participant_a)
    client.force_login(coordinator_a)
    response = client.get(url(participant_a), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'hx-get="{url(participant_a)}"' in html
    assert 'hx-trigger="every 2s"' in html
    assert "Re-evaluation pending" in html
    assert "HX-Refresh" not in response.headers


def test_evaluated_asks_the_page_to_reload(client: Client, coordinator_a, participant_a) -> None:
    mark(participant_a)
    evaluate_participant(participant_a.pk, trigger=Trigger.DATA_CHANGE, only_if_marked=True)
    client.force_login(coordinator_a)
    response = client.get(url(participant_a), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.headers["HX-Refresh"] == "true"


def test_participant_of_another_site_is_not_found(client: Client, coordinator_a, participant_b) -> None:
    mark(participant_b)
    client.force_login(coordinator_a)
    assert client.get(url(participant_b), HTTP_HX_REQUEST="true").status_code == 404


def test_reviewer_and_anonymous_get_nothing(client: Client, make_user, site_a, participant_a) -> None:
    mark(participant_a)
    response = client.get(url(participant_a), HTTP_HX_REQUEST="true")
    assert response.headers["HX-Redirect"] == reverse("login")
    assert client.get(url(participant_a)).status_code == 302
    client.force_login(make_user(Role.EAC_REVIEWER, site_a, "eac.x"))
    assert client.get(url(participant_a)).status_code == 404


def test_monitor_sees_the_notice(client: Client, make_user, participant_a) -> None:
    mark(participant_a)
    client.force_login(make_user(Role.MONITOR, None, "monitor.x"))
    assert client.get(url(participant_a)).status_code == 200


def test_partial_renders_nothing_when_not_pending(participant_a) -> None:
    assert (
        render_to_string("screening/_reevaluation_notice.html", {"participant": participant_a}).strip() == ""
    )
    mark(participant_a)
    html = render_to_string("screening/_reevaluation_notice.html", {"participant": participant_a})
    assert 'hx-trigger="every 2s"' in html
