"""The same odd inputs sent to every field of every intake form and to URL parameters: a form
error or a refusal, never a 500. And numbers are typed with the digits 0-9 only."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from participants.models import LabResult, Role
from participants.records import RecordKind

from ..web.intake_helpers import RECENT, add_url, logged_in, read_urls, write_urls

pytestmark = pytest.mark.django_db

NESTED = "[" * 100_000 + "]" * 100_000
ODD_VALUES = [
    NESTED,
    "9" * 5000,
    "-" + "9" * 5000,
    "١٢٣",  # Arabic-Indic digits
    "１２",  # full-width digits
    "²",
    "1e999999",
    "NaN",
    "Infinity",
    "\x00",
    "a\ud800b".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
    "{}",
    "[]",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "x" * 20_000,
]


@pytest.fixture
def coordinator(coordinator_a) -> Client:  # type: ignore[no-untyped-def]
    return logged_in("coord.a")


def _field_names(page: str) -> set[str]:
    return set(re.findall(r'name="([a-z_0-9]+)"', page)) - {"csrfmiddlewaretoken"}


def test_every_intake_field_and_parameter_survives_odd_input(coordinator, participant_a) -> None:
    lab = LabResult.objects.create(
        participant=participant_a,
        entered_by=participant_a.created_by,
        test="anc",
        value_number=900,
        unit="/uL",
        collected=RECENT,
    )
    urls = write_urls(participant_a, {RecordKind.LAB: lab.pk})
    for url in urls:
        page = coordinator.get(url)
        names = _field_names(page.text) | {"shown_state", "voids", "replaces", "kind", "test", "form_token"}
        for value in ODD_VALUES:
            response = coordinator.post(url, dict.fromkeys(names, value))
            assert response.status_code < 500, (url, value[:20])
    for url in [*read_urls(participant_a), reverse("participants:list")]:
        for value in ODD_VALUES:
            assert (
                coordinator.get(url, {"q": value, "page": value, "site": value, "status": value}).status_code
                < 500
            )


def test_nested_shown_state_and_long_preview_ids_are_not_errors(coordinator, participant_a) -> None:
    dates = reverse("participants:edit_dates", args=[participant_a.pk])
    assert coordinator.post(dates, {"shown_state": NESTED}).status_code < 500
    preview = reverse("participants:preview", args=[participant_a.pk, "lab"])
    assert coordinator.post(preview, {"voids": "9" * 5000}).status_code == 200
    assert coordinator.post(preview, {"replaces": "9" * 5000, "test": "anc"}).status_code == 200


@pytest.mark.parametrize("typed", ["١٢٠٠", "１２００", "12٠0", "²"])
def test_number_fields_accept_ascii_digits_only(coordinator: Client, participant_a, typed: str) -> None:
    response = coordinator.post(
        add_url(participant_a, "lab", "?test=anc"),
        {"test": "anc", "value_number": typed, "unit": "/uL", "collected": RECENT},
    )
    assert response.status_code in (200, 400)
    assert "Enter a number with the digits 0-9." in response.text
    assert not LabResult.objects.filter(participant=participant_a).exists()


def test_the_visit_registration_consent_and_outcome_forms_survive_odd_input(
    coordinator, participant_a, make_user, site_a
) -> None:  # type: ignore[no-untyped-def]
    """The forms added with the screening visit, the duplicate check, consent and the screening
    outcome: every field they render (prefixed names included), each odd value, never a 500."""
    make_user(Role.INVESTIGATOR, site_a, "inv.a")
    investigator = logged_in("inv.a")
    pk = participant_a.pk
    pages = [
        (coordinator, reverse("participants:register")),
        (coordinator, reverse("participants:visit", args=[pk])),
        (coordinator, reverse("participants:preview", args=[pk, "visit"])),
        (coordinator, reverse("participants:consent", args=[pk])),
        (coordinator, reverse("screening:screen_failure", args=[pk])),
        (coordinator, reverse("screening:withdraw", args=[pk])),
        (coordinator, reverse("screening:rescreen", args=[pk])),
        (investigator, reverse("screening:enroll", args=[pk])),
    ]
    for client, url in pages:
        page = client.get(url)
        assert page.status_code < 500, url
        names = set(re.findall(r'name="([A-Za-z_0-9-]+)"', page.text)) - {"csrfmiddlewaretoken"}
        names |= {"initials", "not_same_person", "check", "reason", "version", "signed_on"}
        for value in ODD_VALUES:
            response = client.post(url, dict.fromkeys(names, value))
            assert response.status_code < 500, (url, value[:20])
