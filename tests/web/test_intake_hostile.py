"""Odd and concurrent input that once broke the intake: dates the calendar cannot hold, records
dated before birth or in the future, control characters, and a form submitted after another save
changed the values it showed."""

from __future__ import annotations

import html
import json
import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from participants import services
from participants.models import Assessment, ClinicalEvent, LabResult, Participant, RecordState
from screening.evaluation import evaluate_now
from screening.models import Evaluation, ScreeningState

from .intake_helpers import RECENT, TODAY, add_url

pytestmark = pytest.mark.django_db


def shown_state(page: str) -> str:
    match = re.search(r'name="shown_state" value="([^"]*)"', page)
    assert match, "the form carries the state it shows"
    return html.unescape(match.group(1))


def test_a_malignancy_active_until_year_9999_is_refused_at_the_field(client_a, participant_a) -> None:
    event = services.record_event(
        participant_a.created_by,
        participant_a,
        kind="malignancy",
        date=date(2021, 4, 12),
        details={"type": "other", "adequately_treated": True, "active_until": "2022-10-31"},
    )
    url = reverse("participants:correct_record", args=[participant_a.pk, "event", event.pk])
    for active_until, message in (
        ("9999-12-31", "is in the future"),
        ((TODAY + timedelta(days=400)).isoformat(), "is in the future"),
    ):
        with pytest.raises(services.RecordInvalid) as err:
            services.correct_record(
                participant_a.created_by,
                event,
                reason="fix",
                details={"type": "other", "adequately_treated": True, "active_until": active_until},
            )
        assert message in str(err.value.message_dict["active_until"])
        response = client_a.post(
            url,
            {
                "date": "2021-04-12",
                "type": "other",
                "adequately_treated": "yes",
                "active_until": active_until,
                "reason": "fix",
            },
        )
        assert response.status_code == 200
    assert ClinicalEvent.objects.get(pk=event.pk).state == RecordState.CURRENT
    assert ClinicalEvent.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("birth_date", "0001-01-01", "outside the dates the engine accepts"),
        ("planned_day0", "2300-01-01", "outside the dates the engine accepts"),
    ],
)
def test_key_dates_outside_the_calendar_span_are_refused(
    client_a, participant_a, field, value, message
) -> None:
    data = {"sex": "F", "lupus_nephritis": "no", "birth_date": "1987-09-14", field: value, "reason": "typo"}
    response = client_a.post(reverse("participants:edit_dates", args=[participant_a.pk]), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    participant_a.refresh_from_db()
    assert participant_a.birth_date == date(1987, 9, 14) and participant_a.planned_day0 is None


def test_registration_in_year_one_is_refused(client_a, site_a) -> None:
    response = client_a.post(
        reverse("participants:register"),
        {
            "cohort": "SLE",
            "initials": "AB",
            "lupus_nephritis": "no",
            "sex": "F",
            "birth_date": "0001-01-01",
            "screening_start": "0001-01-02",
        },
    )
    assert response.status_code == 200
    assert "outside the dates the engine accepts" in response.content.decode()
    assert not Participant.objects.exists()


def test_records_before_birth_or_in_the_future_are_refused(participant_a) -> None:
    user = participant_a.created_by
    with pytest.raises(services.RecordInvalid) as err:
        services.record_lab(
            user,
            participant_a,
            test="anc",
            value=services.Decimal(2100),
            unit="/uL",
            collected=date(1950, 1, 1),
        )
    assert "before the birth date 1987-09-14" in str(err.value.message_dict["collected"])
    with pytest.raises(services.RecordInvalid) as err:
        services.record_therapy(
            user,
            participant_a,
            agent="rituximab",
            start=date(1980, 1, 1),
            ongoing=False,
            last_dose=date(1980, 2, 1),
        )
    assert "before the birth date" in str(err.value.message_dict["start"])
    ssc = Participant.objects.create(
        site=participant_a.site,
        screening_sequence=99,
        screening_number="A01-0099",
        cohort="SSc",
        sex="M",
        birth_date=date(1970, 1, 1),
        created_by=user,
    )
    with pytest.raises(services.RecordInvalid) as err:
        services.record_assessment(
            user, ssc, key="ssc_first_non_raynaud_date", value=(TODAY + timedelta(days=30)).isoformat()
        )
    assert "is in the future" in str(err.value.message_dict["value"])
    assert not LabResult.objects.exists() and not Assessment.objects.exists()


def test_a_birth_date_after_a_recorded_result_is_refused(client_a, participant_a) -> None:
    services.record_lab(
        participant_a.created_by,
        participant_a,
        test="anc",
        value=services.Decimal(2100),
        unit="/uL",
        collected=date(2000, 5, 1),
    )
    response = client_a.post(
        reverse("participants:edit_dates", args=[participant_a.pk]),
        {"sex": "F", "lupus_nephritis": "no", "birth_date": "2001-01-01", "reason": "typo"},
    )
    assert response.status_code == 200
    assert "is after a current record dated 2000-05-01" in response.content.decode()
    participant_a.refresh_from_db()
    assert participant_a.birth_date == date(1987, 9, 14)


def test_stored_data_the_engine_refuses_breaks_no_page(client_a, participant_a) -> None:
    """Data stored before the checks existed: a new record is refused with the reason, the
    evaluation after a save logs the refusal instead of failing, and the pages load."""
    Participant.objects.filter(pk=participant_a.pk).update(birth_date=date(1, 1, 1))
    response = client_a.post(
        add_url(participant_a, "lab", "?test=crp"),
        {"test": "crp", "value_number": "3", "unit": "mg/L", "uln": "5", "collected": RECENT},
    )
    assert response.status_code == 200
    assert "0001-01-01 is outside the dates the engine accepts" in response.content.decode()
    assert not LabResult.objects.exists()
    ScreeningState.objects.filter(participant_id=participant_a.pk).update(
        reevaluation_requested_at=timezone.now()
    )
    assert evaluate_now(participant_a, participant_a.created_by, "a save") is None
    assert not Evaluation.objects.filter(participant=participant_a).exists()
    assert client_a.get(reverse("participants:detail", args=[participant_a.pk])).status_code == 200


def test_control_characters_in_the_dashboard_search_and_odd_preview_ids(client_a, participant_a) -> None:
    assert client_a.get(reverse("participants:list"), {"q": "a\x00b"}).status_code == 200
    assert client_a.get(reverse("participants:list"), {"site": "A\x0001"}).status_code == 200
    preview = reverse("participants:preview", args=[participant_a.pk, "lab"])
    assert client_a.post(preview, {"voids": "²"}).status_code == 200
    assert client_a.post(preview, {"replaces": "²", "test": "anc"}).status_code == 200


def test_a_stale_fact_form_does_not_revert_another_users_correction(client_a, participant_a) -> None:
    user = participant_a.created_by
    for key in ("cirrhosis", "history_pml"):
        services.record_assessment(user, participant_a, key=key, value=False)
    url = add_url(participant_a, "fact", "?group=history")
    shown = shown_state(client_a.get(url).content.decode())
    # Meanwhile another user corrects PML history.
    services.record_assessment(
        user, participant_a, key="history_pml", value=True, reason="PML confirmed by MRI"
    )
    stale = {
        "group": "history",
        "cirrhosis": "yes",
        "history_pml": "no",
        "reason": "cirrhosis on biopsy",
        "shown_state": shown,
    }
    response = client_a.post(url, stale)
    page = response.content.decode()
    assert response.status_code == 200
    assert "another save changed: History of progressive multifocal leukoencephalopathy" in page
    current = {a.key: a.value for a in Assessment.objects.filter(state=RecordState.CURRENT)}
    assert current == {"cirrhosis": False, "history_pml": True}
    # The form now shows the current PML value and state; saving it again changes only cirrhosis.
    again = {
        "group": "history",
        "cirrhosis": "yes",
        "history_pml": "yes",
        "reason": "cirrhosis on biopsy",
        "shown_state": shown_state(page),
    }
    assert client_a.post(url, again).status_code == 302
    current = {a.key: a.value for a in Assessment.objects.filter(state=RecordState.CURRENT)}
    assert current == {"cirrhosis": True, "history_pml": True}


def test_a_stale_key_dates_form_does_not_revert_another_users_correction(client_a, participant_a) -> None:
    url = reverse("participants:edit_dates", args=[participant_a.pk])
    shown = shown_state(client_a.get(url).content.decode())
    services.update_participant(
        participant_a.created_by, participant_a, reason="passport", birth_date=date(1987, 9, 15)
    )
    stale = {
        "sex": "F",
        "lupus_nephritis": "no",
        "birth_date": "1987-09-14",
        "planned_day0": (TODAY + timedelta(days=20)).isoformat(),
        "shown_state": shown,
    }
    response = client_a.post(url, stale)
    assert response.status_code == 200
    assert "another save changed: Birth date" in response.content.decode()
    participant_a.refresh_from_db()
    assert participant_a.birth_date == date(1987, 9, 15) and participant_a.planned_day0 is None


def submission_token(page: str) -> str:
    match = re.search(r'name="submission" value="([0-9a-f]{32})"', page)
    assert match, "the add form carries a one-time token"
    return match.group(1)


def crp_form(client, participant: Participant, collected: str = RECENT) -> tuple[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    """An opened CRP form and the entry it posts, with the form's one-time token."""
    url = add_url(participant, "lab", "?test=crp")
    token = submission_token(client.get(url).content.decode())
    entry = {"test": "crp", "value_number": "3", "unit": "mg/L", "uln": "5", "collected": collected}
    return url, entry | {"submission": token}


def test_a_double_submitted_lab_is_saved_once(client_a, participant_a) -> None:
    url, lab = crp_form(client_a, participant_a)
    assert client_a.post(url, lab).status_code == 302
    second = client_a.post(url, lab, follow=True)
    assert "This entry was already saved: the form was sent twice." in second.content.decode()
    assert LabResult.objects.filter(participant=participant_a).count() == 1
    # A new form is a new entry, on purpose.
    lab["submission"] = submission_token(client_a.get(url).content.decode())
    assert client_a.post(url, lab).status_code == 302
    assert LabResult.objects.filter(participant=participant_a).count() == 2


def test_a_refused_entry_keeps_its_token_for_the_corrected_attempt(client_a, participant_a) -> None:
    future = (TODAY + timedelta(days=2)).isoformat()
    url, lab = crp_form(client_a, participant_a, collected=future)
    refused = client_a.post(url, lab)
    assert refused.status_code == 200 and submission_token(refused.content.decode()) == lab["submission"]
    lab["collected"] = RECENT
    assert client_a.post(url, lab).status_code == 302
    assert LabResult.objects.filter(participant=participant_a).count() == 1


def test_a_tampered_or_outdated_form_state_is_a_conflict_not_an_error(client_a, participant_a) -> None:
    url = add_url(participant_a, "fact", "?group=history")
    posted = {"group": "history", "cirrhosis": "no", "shown_state": '{"not_a_fact_of_this_form": "1"}'}
    response = client_a.post(url, posted)
    assert response.status_code == 200
    assert "another save changed: Not a fact of this form" in response.content.decode()
    assert not Assessment.objects.exists()


def test_a_save_landing_after_validation_refuses_the_stale_form(participant_a) -> None:
    """The check is the service's, under the row lock; here the other save lands between the
    form's validation and its save."""
    from participants.forms import EditParticipantForm
    from participants.services import StaleForm, participant_state

    form = EditParticipantForm(
        participant_a,
        {
            "sex": "F",
            "lupus_nephritis": "no",
            "birth_date": "1987-09-14",
            "reason": "",
            "shown_state": json.dumps(participant_state(participant_a), sort_keys=True),
        },
    )
    assert form.is_valid()
    services.update_participant(
        participant_a.created_by, participant_a, reason="passport", birth_date=date(1987, 9, 15)
    )
    with pytest.raises(StaleForm) as refused:
        services.update_participant(
            participant_a.created_by, participant_a, reason="", shown=form.shown(), **form.changes()
        )
    assert refused.value.changed == ["birth_date"]
    assert "while yours was being saved" in str(refused.value)
    form.add_service_errors(refused.value)
    assert "another save changed: Birth date" in str(form.non_field_errors())
    assert Participant.objects.get(pk=participant_a.pk).birth_date == date(1987, 9, 15)


def test_add_forms_save_when_redis_is_unreachable(client_a, participant_a, settings) -> None:
    url, lab = crp_form(client_a, participant_a)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    assert client_a.post(url, lab).status_code == 302
    assert LabResult.objects.filter(participant=participant_a).count() == 1


def test_a_second_click_while_the_first_is_saving_does_not_claim_it_saved(client_a, participant_a) -> None:
    from django.core.cache import cache

    url, lab = crp_form(client_a, participant_a)
    cache.add(
        f"intake-submission:{participant_a.pk}:{lab['submission']}", "pending"
    )  # the first request, still running
    page = client_a.post(url, lab, follow=True).content.decode()
    assert "This form is being saved" in page and "already saved" not in page
    assert not LabResult.objects.exists()
