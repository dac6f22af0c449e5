"""The record services: one transaction, engine-checked shape, corrections with a reason, voids,
nothing deleted, the participant marked for re-evaluation."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from participants import services
from participants.models import Assessment, LabResult, Participant, RecordState, Role, Site, Therapy, User
from screening.evaluation import evaluate_participant
from screening.models import Evaluation, Trigger

pytestmark = pytest.mark.django_db

D = date(2025, 6, 3)


@pytest.fixture
def participant(coordinator_a: User, site_a: Site) -> Participant:
    return services.register_participant(
        coordinator_a,
        site=site_a,
        cohort="SLE",
        lupus_nephritis=False,
        sex="F",
        birth_date=date(1987, 9, 14),
        screening_start=date(2025, 6, 2),
        icf_signed=date(2025, 6, 2),
    )


def test_registration_numbers_per_site_and_marks(
    participant: Participant, coordinator_a: User, site_a: Site
) -> None:
    second = services.register_participant(
        coordinator_a, site=site_a, cohort="IIM", sex="M", birth_date=date(1970, 1, 1)
    )
    assert participant.screening_number == "A01-0001"
    assert second.screening_number == "A01-0002"
    participant.refresh_from_db()
    assert participant.screening_state.reevaluation_requested_at is not None
    assert participant.data_version == 1


def test_lab_recorded_and_marked(participant: Participant, coordinator_a: User) -> None:
    lab = services.record_lab(
        coordinator_a, participant, test="anc", value=Decimal("2100"), unit="/uL", collected=D
    )
    participant.refresh_from_db()
    assert lab.state == RecordState.CURRENT and lab.entered_by == coordinator_a
    assert participant.data_version == 2


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"test": "anc", "value": Decimal("2100"), "unit": "mg/dL"}, "unit"),
        ({"test": "anc", "value": Decimal("-5"), "unit": "/uL"}, "value"),
        ({"test": "anc", "value": Decimal("2100"), "unit": "10^9/L"}, "value"),  # implausible: wrong unit
        ({"test": "hbsag", "value": "maybe"}, "value"),
        ({"test": "no_such_test", "value": Decimal(1), "unit": "/uL"}, "test"),
        ({"test": "crp", "value": Decimal(12), "unit": "mg/L"}, None),  # ULN required
    ],
)
def test_lab_refused_with_the_field_named(
    participant: Participant, coordinator_a: User, fields, field
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(services.RecordInvalid) as exc:
        services.record_lab(coordinator_a, participant, collected=D, **fields)
    if field:
        assert field in exc.value.error_dict
    assert not LabResult.objects.exists()


def test_future_lab_refused(participant: Participant, coordinator_a: User) -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(services.RecordInvalid) as exc:
        services.record_lab(
            coordinator_a, participant, test="anc", value=Decimal(2100), unit="/uL", collected=tomorrow
        )
    assert "collected" in exc.value.error_dict


def test_other_site_cannot_write(participant: Participant, coordinator_b: User) -> None:
    with pytest.raises(PermissionDenied):
        services.record_lab(
            coordinator_b, participant, test="anc", value=Decimal(2100), unit="/uL", collected=D
        )


def test_monitor_cannot_write(participant: Participant, make_user) -> None:  # type: ignore[no-untyped-def]
    monitor = make_user(Role.MONITOR, None, "monitor.x")
    with pytest.raises(PermissionDenied):
        services.record_lab(monitor, participant, test="anc", value=Decimal(2100), unit="/uL", collected=D)


def test_correction_needs_a_reason_and_keeps_the_old_value(
    participant: Participant, coordinator_a: User
) -> None:
    lab = services.record_lab(
        coordinator_a, participant, test="anc", value=Decimal(2100), unit="/uL", collected=D
    )
    with pytest.raises(services.RecordInvalid):
        services.correct_record(coordinator_a, lab, reason=" ", value_number=Decimal(900))
    new = services.correct_record(coordinator_a, lab, reason="transcription error", value_number=Decimal(900))
    lab.refresh_from_db()
    assert lab.state == RecordState.SUPERSEDED
    assert new.supersedes == lab and new.change_reason == "transcription error"
    assert LabResult.objects.filter(participant=participant).count() == 2
    with pytest.raises(services.RecordInvalid):
        services.correct_record(coordinator_a, lab, reason="again", value_number=Decimal(950))


def test_fact_second_value_is_a_correction(participant: Participant, coordinator_a: User) -> None:
    services.record_assessment(coordinator_a, participant, key="sledai2k", value=10, date=D)
    with pytest.raises(services.RecordInvalid) as exc:
        services.record_assessment(coordinator_a, participant, key="sledai2k", value=8, date=D)
    assert "reason" in exc.value.error_dict
    services.record_assessment(
        coordinator_a, participant, key="sledai2k", value=8, date=D, reason="re-scored"
    )
    current = Assessment.objects.get(participant=participant, state=RecordState.CURRENT)
    assert current.value == 8 and current.supersedes is not None


def test_fact_of_wrong_type_refused(participant: Participant, coordinator_a: User) -> None:
    with pytest.raises(services.RecordInvalid) as exc:
        services.record_assessment(coordinator_a, participant, key="cirrhosis", value="yes")
    assert "value" in exc.value.error_dict
    with pytest.raises(services.RecordInvalid):
        services.record_assessment(coordinator_a, participant, key="child_pugh_score", value=6)


def test_therapy_last_dose_before_start_refused(participant: Participant, coordinator_a: User) -> None:
    with pytest.raises(services.RecordInvalid) as exc:
        services.record_therapy(
            coordinator_a,
            participant,
            agent="rituximab",
            start=date(2024, 2, 1),
            last_dose=date(2024, 1, 1),
            ongoing=False,
        )
    assert "last_dose" in exc.value.error_dict
    assert not Therapy.objects.exists()


def test_void_keeps_the_record_and_reevaluates(participant: Participant, coordinator_a: User) -> None:
    lab = services.record_lab(
        coordinator_a, participant, test="anc", value=Decimal(900), unit="/uL", collected=D
    )
    evaluate_participant(participant.pk, trigger=Trigger.MANUAL, as_of=date(2025, 6, 16))
    assert "inc.heme.anc" in _failing(participant)
    with pytest.raises(services.RecordInvalid):
        services.void_record(coordinator_a, lab, reason="")
    services.void_record(coordinator_a, lab, reason="entered for the wrong participant")
    lab.refresh_from_db()
    assert lab.state == RecordState.VOIDED and lab.voided_by == coordinator_a
    participant.refresh_from_db()
    assert participant.screening_state.reevaluation_requested_at is not None
    evaluate_participant(participant.pk, trigger=Trigger.MANUAL, as_of=date(2025, 6, 16))
    assert "inc.heme.anc" not in _failing(participant)


def test_key_date_change_needs_a_reason(participant: Participant, coordinator_a: User) -> None:
    services.update_participant(coordinator_a, participant, reason="", planned_day0=date(2025, 6, 30))
    with pytest.raises(services.RecordInvalid):
        services.update_participant(coordinator_a, participant, reason="", planned_day0=date(2025, 7, 7))
    updated = services.update_participant(
        coordinator_a, participant, reason="slot moved", planned_day0=date(2025, 7, 7)
    )
    assert updated.planned_day0 == date(2025, 7, 7)


def test_evaluation_clears_the_mark_only_for_the_data_it_saw(
    participant: Participant, coordinator_a: User
) -> None:
    evaluation = evaluate_participant(participant.pk, trigger=Trigger.MANUAL)
    assert evaluation is not None and evaluation.sequence == 1
    participant.refresh_from_db()
    assert participant.screening_state.reevaluation_requested_at is None
    assert evaluate_participant(participant.pk, trigger=Trigger.SWEEP, only_if_marked=True) is None
    services.record_lab(coordinator_a, participant, test="anc", value=Decimal(2100), unit="/uL", collected=D)
    second = evaluate_participant(participant.pk, trigger=Trigger.SWEEP, only_if_marked=True)
    assert second is not None and second.sequence == 2
    assert Evaluation.objects.filter(participant=participant).count() == 2


def _failing(participant: Participant) -> set[str]:
    latest = Evaluation.objects.filter(participant=participant).latest()
    return {r.criterion_id for r in latest.results.filter(outcome="FAIL")}


# --- Rules the services enforce without any form ----------------------------------------------


def _errors(exc: pytest.ExceptionInfo[services.RecordInvalid]) -> dict[str, list[str]]:
    return exc.value.message_dict


@pytest.mark.parametrize(
    ("dates", "field", "text"),
    [
        ({"screening_start": date(2025, 6, 2), "icf_signed": date(2025, 6, 5)}, "icf_signed", "on or before"),
        (
            {"planned_enrollment": date(2025, 6, 23), "planned_day0": date(2025, 6, 20)},
            "planned_day0",
            "Day 0",
        ),
        ({"screening_start": date(1979, 1, 1)}, "screening_start", "not after the date of birth"),
        ({"birth_date": date(2999, 1, 1)}, "birth_date", "cannot be in the future"),
    ],
)
def test_registration_refuses_key_dates_out_of_order(
    coordinator_a: User, site_a: Site, dates: dict[str, date], field: str, text: str
) -> None:
    values = {"cohort": "IIM", "sex": "F", "birth_date": date(1980, 1, 1)} | dates
    with pytest.raises(services.RecordInvalid) as refused:
        services.register_participant(coordinator_a, site=site_a, **values)
    assert text in " ".join(_errors(refused)[field])
    assert not Participant.objects.exists()


def test_update_reports_the_missing_reason_with_the_dates_out_of_order(
    participant: Participant, coordinator_a: User
) -> None:
    with pytest.raises(services.RecordInvalid) as refused:
        services.update_participant(coordinator_a, participant, reason="", icf_signed=date(2025, 6, 3))
    assert set(_errors(refused)) == {"reason", "icf_signed"}
    participant.refresh_from_db()
    assert participant.icf_signed == date(2025, 6, 2) and participant.data_version == 1


def test_an_implausibly_low_count_needs_the_confirmation(
    participant: Participant, coordinator_a: User
) -> None:
    low = {"test": "platelets", "value": Decimal("182"), "unit": "/uL", "collected": D}
    with pytest.raises(services.RecordInvalid) as refused:
        services.record_lab(coordinator_a, participant, **low)
    (error,) = refused.value.error_dict["value"]
    assert error.code == "implausible_low" and "unusually low" in error.message
    assert not LabResult.objects.exists()
    lab = services.record_lab(coordinator_a, participant, **low, confirmed_low=True)
    # A correction to another low count asks again.
    with pytest.raises(services.RecordInvalid):
        services.correct_record(coordinator_a, lab, reason="typo", value_number=Decimal("150"))
    services.correct_record(
        coordinator_a, lab, reason="typo", value_number=Decimal("150"), confirmed_low=True
    )
    assert LabResult.objects.filter(state="current").get().value_number == Decimal("150")


def test_a_stale_key_dates_state_is_refused(participant: Participant, coordinator_a: User) -> None:
    shown = services.participant_state(participant)
    services.update_participant(coordinator_a, participant, reason="", planned_day0=date(2025, 6, 30))
    with pytest.raises(services.StaleForm) as refused:
        services.update_participant(
            coordinator_a, participant, reason="", shown=shown, planned_enrollment=date(2025, 6, 20)
        )
    assert refused.value.changed == ["planned_day0"]
    participant.refresh_from_db()
    assert participant.planned_enrollment is None


def test_facts_are_recorded_all_or_none_and_a_stale_state_is_refused(
    participant: Participant, coordinator_a: User
) -> None:
    entries = [services.FactEntry("cirrhosis", False), services.FactEntry("no_such_fact", True)]
    with pytest.raises(services.FactInvalid) as refused:
        services.record_facts(coordinator_a, participant, facts=entries)
    assert refused.value.key == "no_such_fact"
    assert not Assessment.objects.exists()
    shown = services.fact_state({}, ["cirrhosis"])
    services.record_facts(coordinator_a, participant, facts=entries[:1], shown=shown)
    with pytest.raises(services.RecordInvalid) as no_reason:
        services.record_facts(coordinator_a, participant, facts=[services.FactEntry("cirrhosis", True)])
    assert "give the reason" in " ".join(_errors(no_reason)["reason"])
    with pytest.raises(services.StaleForm) as stale:
        services.record_facts(
            coordinator_a,
            participant,
            facts=[services.FactEntry("cirrhosis", True)],
            reason="biopsy",
            shown=shown,
        )
    assert stale.value.changed == ["cirrhosis"]
    assert Assessment.objects.get().value is False


def test_several_history_areas_are_confirmed_all_or_none(
    participant: Participant, coordinator_a: User
) -> None:
    with pytest.raises(services.RecordInvalid):
        services.confirm_histories(coordinator_a, participant, areas=["malignancy", "no_such_area"])
    assert not participant.history_reviews.exists()
    services.confirm_histories(coordinator_a, participant, areas=["malignancy"])
    assert participant.history_reviews.count() == 1
