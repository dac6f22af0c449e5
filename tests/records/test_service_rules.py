"""Rules the services enforce whoever calls them (no form involved): key-date ordering, the
confirmation of an implausibly low count, the stale-form check, several records all or none."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from participants import services
from participants.models import Assessment, LabResult, Participant, Site, User

pytestmark = pytest.mark.django_db

D = date(2025, 6, 3)


@pytest.fixture
def participant(coordinator_a: User, site_a: Site) -> Participant:
    return services.register_participant(
        coordinator_a,
        site=site_a,
        cohort="IIM",
        sex="F",
        birth_date=date(1980, 1, 1),
        screening_start=date(2025, 6, 2),
        icf_signed=date(2025, 6, 2),
    )


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
