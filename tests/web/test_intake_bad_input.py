"""Odd input to every intake form: a clear refusal next to the field, nothing saved, never a 500."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse

from participants.models import (
    Assessment,
    ClinicalEvent,
    HistoryReview,
    LabResult,
    Participant,
    Therapy,
)
from screening.criteria.vocabulary import EVENT_KINDS, LAB_TESTS

from .intake_helpers import logged_in
from .test_intake_access import one_of_each

pytestmark = pytest.mark.django_db

ODD_VALUES = [
    "",
    "   ",
    "9" * 400,
    "1e999999",
    "-1",
    "-0.0001",
    "NaN",
    "Infinity",
    "twelve",
    "12,5",
    "2025-02-30",
    "2025-13-01",
    "99999-01-01",
    "0000-00-00",
    "zzz-not-a-choice",
    "<script>alert(1)</script>",
    "a\x00b",
]
# A reason is free text: only these are odd for it.
ODD_REASONS = ["", "   ", "a\x00b", "x" * 600]


def names_in(html: str) -> set[str]:
    return set(re.findall(r'name="([^"]+)"', html)) - {"csrfmiddlewaretoken", "membership"}


def counts() -> tuple[int, ...]:
    return tuple(
        m.objects.count() for m in (LabResult, Assessment, Therapy, ClinicalEvent, HistoryReview)
    ) + (Participant.objects.count(),)


def form_pages(p: Participant, records: dict[str, int]) -> list[tuple[str, dict[str, str]]]:
    """(URL, fixed parameters) of every form: the selector stays valid, every other field gets odd."""
    add = lambda kind: reverse("participants:add_record", args=[p.pk, kind])  # noqa: E731
    pages: list[tuple[str, dict[str, str]]] = [
        (reverse("participants:register"), {}),
        (reverse("participants:edit_dates", args=[p.pk]), {}),
        (add("therapy"), {}),
        (add("history"), {}),
    ]
    # One test of each form shape (the lab form is one class whatever the test): counts with units,
    # a ratio with its ULN, a qualitative serology, a numeric-or-qualitative antibody, the pregnancy
    # test with its specimen, weight.
    shapes = {"anc", "crp", "hbsag", "anti_dsdna", "pregnancy_test", "weight"}
    pages += [(add("lab"), {"test": t.key}) for t in LAB_TESTS if t.key in shapes]
    pages += [(add("fact"), {"group": g}) for g in ("attestations", "statements", "history", "cohort")]
    pages += [(add("event"), {"event": k.kind}) for k in EVENT_KINDS if k.kind != "muscle_biopsy"]
    for kind, pk in records.items():
        if kind != "history":
            pages.append((reverse("participants:correct_record", args=[p.pk, kind, pk]), {}))
        pages.append((reverse("participants:void_record", args=[p.pk, kind, pk]), {}))
    return pages


def test_odd_values_in_every_field_of_every_form(coordinator_a, participant_a) -> None:
    records = one_of_each(coordinator_a, participant_a)
    client = logged_in("coord.a")
    for url, fixed in form_pages(participant_a, records):
        html = client.get(url, fixed).content.decode()
        names = names_in(html) - set(fixed)
        assert names, url
        for odd in ODD_REASONS if "/void/" in url else ODD_VALUES:
            before = counts()
            data = {name: odd for name in names} | fixed
            response = client.post(url, data)
            assert response.status_code == 200, (url, odd)
            assert counts() == before, (url, odd)
            html = response.content.decode()
            assert "invalid-feedback" in html or "alert-block" in html or "alert-danger" in html, (url, odd)
            # The live panel takes the same data without failing.
            kind = next((k for k in ("lab", "fact", "therapy", "event", "history") if f"/{k}/" in url), None)
            if kind and "void" not in url:
                preview = reverse("participants:preview", args=[participant_a.pk, kind])
                extra = {"replaces": str(records[kind])} if "correct" in url else {}
                assert client.post(preview, data | extra).status_code == 200, (url, odd)


def test_unknown_selectors_show_the_chooser(coordinator_a, participant_a) -> None:
    client = logged_in("coord.a")
    for kind, param in (("lab", "test"), ("fact", "group"), ("event", "event"), ("fact", "key")):
        url = reverse("participants:add_record", args=[participant_a.pk, kind])
        for value in ("nope", "", "../../etc", "anc'--"):
            assert client.get(url, {param: value}).status_code == 200
            before = counts()
            assert client.post(url, {param: value, "value_number": "1"}).status_code == 200
            assert counts() == before


def test_future_and_prehistoric_dates(coordinator_a, participant_a) -> None:
    client = logged_in("coord.a")
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    url = reverse("participants:add_record", args=[participant_a.pk, "lab"])
    response = client.post(url, {"test": "anc", "value_number": "2100", "unit": "/uL", "collected": tomorrow})
    assert "is in the future" in response.content.decode()
    url = reverse("participants:register")
    response = client.post(url, {"cohort": "IIM", "initials": "AB", "sex": "F", "birth_date": tomorrow})
    assert "cannot be in the future" in response.content.decode()
    response = client.post(
        url, {"cohort": "IIM", "initials": "AB", "sex": "F", "birth_date": "1980-01-01", "icf_signed": "1979-01-01"}
    )
    assert "not after the date of birth" in response.content.decode()
    response = client.post(
        url,
        {
            "cohort": "IIM",
            "initials": "AB",
            "sex": "F",
            "birth_date": "1980-01-01",
            "planned_enrollment": "2025-06-23",
            "planned_day0": "2025-06-20",
        },
    )
    assert "Day 0 cannot be planned before enrollment" in response.content.decode()
    assert not Participant.objects.filter(cohort="IIM").exists()


def test_unknown_unit_and_negative_count(coordinator_a, participant_a) -> None:
    client = logged_in("coord.a")
    url = reverse("participants:add_record", args=[participant_a.pk, "lab"])
    recent = (date.today() - timedelta(days=2)).isoformat()
    html = client.post(
        url, {"test": "anc", "value_number": "2100", "unit": "mg/dL", "collected": recent}
    ).content
    assert "Select a valid choice" in html.decode()
    html = client.post(url, {"test": "anc", "value_number": "-5", "unit": "/uL", "collected": recent}).content
    assert "Enter a value of 0 or more." in html.decode()
    html = client.post(
        url, {"test": "ck", "value_number": "900", "unit": "x" * 30, "uln": "170", "collected": recent}
    ).content
    assert "at most 20 characters" in html.decode()
    assert not LabResult.objects.exists()
