"""The intake forms: registration, key dates, each record type, corrections, voiding, the live panel."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from participants.models import (
    Assessment,
    ClinicalEvent,
    HistoryReview,
    LabResult,
    Participant,
    RecordState,
    Therapy,
)
from participants.services import record_lab
from screening.models import Evaluation

from .intake_helpers import RECENT, TODAY, add_url

pytestmark = pytest.mark.django_db


def test_register_issues_number_evaluates_and_opens_the_participant_page(client_a, site_a) -> None:
    response = client_a.post(
        reverse("participants:register"),
        {
            "cohort": "SLE",
            "initials": "AB",
            "lupus_nephritis": "no",
            "sex": "F",
            "birth_date": "1987-09-14",
            "screening_start": RECENT,
            "icf_signed": RECENT,
        },
    )
    participant = Participant.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("participants:detail", args=[participant.pk])
    assert participant.screening_number == "A01-0001"
    assert participant.lupus_nephritis is False
    assert Evaluation.objects.filter(participant=participant).count() == 1
    page = client_a.get(response["Location"]).content.decode()
    assert 'data-testid="overall-status"' in page


def test_register_requires_the_sle_stratum_and_forbids_it_elsewhere(client_a) -> None:
    base = {"initials": "AB", "sex": "M", "birth_date": "1970-01-01"}
    response = client_a.post(reverse("participants:register"), {"cohort": "SLE", **base})
    assert "Choose the SLE stratum" in response.content.decode()
    response = client_a.post(
        reverse("participants:register"), {"cohort": "SSc", "lupus_nephritis": "yes", **base}
    )
    assert response.status_code == 302
    assert Participant.objects.get().lupus_nephritis is None


def test_consent_after_the_first_screening_visit_is_refused(client_a) -> None:
    response = client_a.post(
        reverse("participants:register"),
        {
            "cohort": "IIM",
            "initials": "AB",
            "sex": "F",
            "birth_date": "1970-01-01",
            "screening_start": "2025-06-02",
            "icf_signed": "2025-06-05",
        },
    )
    assert response.status_code == 200
    assert "on or before the first screening visit" in response.content.decode()
    assert not Participant.objects.exists()


def test_edit_dates_needs_a_reason_only_to_change_a_recorded_value(client_a, participant_a) -> None:
    url = reverse("participants:edit_dates", args=[participant_a.pk])
    data = {"lupus_nephritis": "no", "sex": "F", "birth_date": "1987-09-14", "icf_signed": RECENT}
    assert client_a.post(url, data).status_code == 302  # first entry: no reason
    participant_a.refresh_from_db()
    assert participant_a.icf_signed == date.fromisoformat(RECENT)
    earlier = (TODAY - timedelta(days=5)).isoformat()
    response = client_a.post(url, data | {"icf_signed": earlier})
    assert "Give the reason" in response.content.decode()
    assert client_a.post(url, data | {"icf_signed": earlier, "reason": "date misread"}).status_code == 302
    participant_a.refresh_from_db()
    assert participant_a.icf_signed.isoformat() == earlier


def test_lab_form_follows_the_test(client_a, participant_a) -> None:
    page = client_a.get(add_url(participant_a, "lab", "?test=anc")).content.decode()
    assert 'value="10^9/L"' in page and "10⁹/L" in page
    assert 'name="uln"' not in page and 'name="specimen"' not in page
    page = client_a.get(add_url(participant_a, "lab", "?test=pregnancy_test")).content.decode()
    assert 'name="specimen"' in page and 'name="value_number"' not in page
    page = client_a.get(add_url(participant_a, "lab", "?test=anti_dsdna")).content.decode()
    assert 'name="uln"' in page and 'name="value_text"' in page and 'name="value_number"' in page


def test_lab_saved_through_the_service_and_evaluated(client_a, participant_a) -> None:
    response = client_a.post(
        add_url(participant_a, "lab"),
        {"test": "anc", "value_number": "2.1", "unit": "10^9/L", "collected": RECENT},
    )
    assert response.status_code == 302
    lab = LabResult.objects.get()
    assert (lab.value_number, lab.unit) == (Decimal("2.1"), "10^9/L")
    assert Evaluation.objects.filter(participant=participant_a).count() == 1


def test_numeric_autoantibody_needs_its_uln_and_qualitative_needs_no_unit(client_a, participant_a) -> None:
    url = add_url(participant_a, "lab")
    response = client_a.post(
        url, {"test": "anti_dsdna", "value_number": "48", "unit": "IU/mL", "collected": RECENT}
    )
    assert "give the ULN" in response.content.decode()
    assert (
        client_a.post(url, {"test": "anti_sm", "value_text": "negative", "collected": RECENT}).status_code
        == 302
    )
    lab = LabResult.objects.get()
    assert (lab.value_text, lab.unit, lab.uln) == ("negative", "", None)


def test_implausible_value_for_the_unit_is_refused_next_to_the_value(client_a, participant_a) -> None:
    response = client_a.post(
        add_url(participant_a, "lab"),
        {"test": "anc", "value_number": "2100", "unit": "10^9/L", "collected": RECENT},
    )
    assert response.status_code == 200
    assert "not plausible" in response.content.decode()
    assert not LabResult.objects.exists()


def test_fact_group_shows_only_the_cohort_and_sex_facts(client_a, participant_a) -> None:
    page = client_a.get(add_url(participant_a, "fact", "?group=cohort")).content.decode()
    assert 'name="sledai2k"' in page and 'name="bilag2004__renal"' in page
    assert 'name="mrss"' not in page and 'name="cdasi_activity"' not in page
    page = client_a.get(add_url(participant_a, "fact", "?group=statements")).content.decode()
    assert 'name="childbearing_exemption"' in page and 'name="male_sterile"' not in page
    page = client_a.get(add_url(participant_a, "fact", "?group=attestations")).content.decode()
    assert 'name="inv_adequate_liver_function"' in page and 'name="cirrhosis"' not in page


def test_fact_group_saves_new_values_and_a_change_needs_a_reason(client_a, participant_a) -> None:
    url = add_url(participant_a, "fact")
    bilag = {
        f"bilag2004__{d}": "E"
        for d in (
            "constitutional",
            "mucocutaneous",
            "neuropsychiatric",
            "musculoskeletal",
            "cardiorespiratory",
            "gastrointestinal",
            "ophthalmic",
            "renal",
            "haematological",
        )
    }
    data = {
        "group": "cohort",
        "sledai2k": "10",
        "sledai2k__date": RECENT,
        "slicc_clinical_count": "4",
        "drug_induced_lupus": "no",
        **bilag,
        "bilag2004__date": RECENT,
    }
    assert client_a.post(url, data).status_code == 302
    current = {a.key: a for a in Assessment.objects.filter(state=RecordState.CURRENT)}
    assert current["sledai2k"].value == 10 and current["drug_induced_lupus"].value is False
    assert current["bilag2004"].value["renal"] == "E"
    response = client_a.post(url, data | {"sledai2k": "12"})
    assert "give the reason for the change" in response.content.decode()
    assert client_a.post(url, data | {"sledai2k": "12", "reason": "recount"}).status_code == 302
    assert Assessment.objects.get(key="sledai2k", state=RecordState.CURRENT).value == 12
    assert Assessment.objects.get(key="sledai2k", state=RecordState.SUPERSEDED).value == 10


def test_prefilled_single_fact(client_a, participant_a) -> None:
    page = client_a.get(add_url(participant_a, "fact", "?key=sledai2k")).content.decode()
    assert 'name="sledai2k"' in page and 'name="slicc_clinical_count"' not in page


def test_dated_fact_needs_its_date(client_a, participant_a) -> None:
    response = client_a.post(add_url(participant_a, "fact"), {"key": "sledai2k", "sledai2k": "8"})
    assert "Give the date of this assessment" in response.content.decode()
    assert not Assessment.objects.exists()


def test_therapy_other_agent_needs_a_name_and_stopped_needs_last_dose(client_a, participant_a) -> None:
    url = add_url(participant_a, "therapy")
    response = client_a.post(url, {"agent": "other", "start": "2024-01-01", "ongoing": "on"})
    assert "Name the agent" in response.content.decode()
    response = client_a.post(url, {"agent": "rituximab", "start": "2024-01-01"})
    assert "needs its last dose" in response.content.decode()
    response = client_a.post(url, {"agent": "rituximab", "start": "2024-02-01", "last_dose": "2024-01-01"})
    assert "cannot be before the start" in response.content.decode()
    assert (
        client_a.post(
            url, {"agent": "mycophenolate_mofetil", "start": "2024-01-15", "ongoing": "on"}
        ).status_code
        == 302
    )
    t = Therapy.objects.get()
    assert (t.agent, t.ongoing, t.last_dose) == ("mycophenolate_mofetil", True, None)


def test_kidney_biopsy_event_with_classes_and_indices(client_a, participant_a) -> None:
    page = client_a.get(add_url(participant_a, "event", "?event=kidney_biopsy")).content.decode()
    assert 'name="isn_rps_classes"' in page and 'name="nih_activity_index"' in page
    url = add_url(participant_a, "event")
    data = {
        "event": "kidney_biopsy",
        "date": RECENT,
        "isn_rps_classes": ["IV", "V"],
        "nih_activity_index": "9",
        "nih_chronicity_index": "1",
    }
    assert client_a.post(url, data).status_code == 302
    e = ClinicalEvent.objects.get()
    assert e.details == {"isn_rps_classes": ["IV", "V"], "nih_activity_index": 9, "nih_chronicity_index": 1}
    response = client_a.post(url, data | {"isn_rps_classes": ["II", "V"]})
    assert response.status_code == 200 and ClinicalEvent.objects.count() == 1


def test_event_kinds_of_another_cohort_are_offered_after_the_cohorts_own(client_a, site_a, coordinator_a) -> None:
    from ..factories import ParticipantFactory

    iim = ParticipantFactory(site=site_a, created_by=coordinator_a, cohort="IIM", lupus_nephritis=None)
    page = client_a.get(add_url(iim, "event")).content.decode()
    assert "Kidney biopsy (SLE)" in page and "Dialysis (SLE)" in page
    assert page.index('value="muscle_biopsy"') < page.index('value="kidney_biopsy"')
    assert client_a.get(add_url(iim, "event", "?event=kidney_biopsy")).content.decode().count('name="date"') == 1


def test_history_confirmations(client_a, participant_a) -> None:
    page = client_a.get(add_url(participant_a, "history", "?area=therapies")).content.decode()
    assert 'value="therapies" checked' in page.replace("\n", " ").replace("  ", " ") or "checked" in page
    url = add_url(participant_a, "history")
    assert client_a.post(url, {"areas": ["therapies", "malignancy"]}).status_code == 302
    assert client_a.post(url, {"areas": ["therapies", "malignancy", "transfusion"]}).status_code == 302
    assert sorted(HistoryReview.objects.values_list("area", flat=True)) == [
        "malignancy",
        "therapies",
        "transfusion",
    ]


def test_correct_a_lab_with_a_reason_supersedes_it(client_a, coordinator_a, participant_a) -> None:
    lab = record_lab(
        coordinator_a,
        participant_a,
        test="anc",
        value=Decimal(2100),
        unit="/uL",
        collected=date.fromisoformat(RECENT),
    )
    url = reverse("participants:correct_record", args=[participant_a.pk, "lab", lab.pk])
    page = client_a.get(url).content.decode()
    assert 'value="2100"' in page
    data = {"value_number": "900", "unit": "/uL", "collected": RECENT}
    assert "This field is required" in client_a.post(url, data).content.decode()
    assert client_a.post(url, data | {"reason": "transcription error"}).status_code == 302
    lab.refresh_from_db()
    assert lab.state == RecordState.SUPERSEDED
    new = LabResult.objects.get(state=RecordState.CURRENT)
    assert (new.value_number, new.change_reason, new.supersedes_id) == (
        Decimal(900),
        "transcription error",
        lab.pk,
    )
    latest = Evaluation.objects.filter(participant=participant_a).first()
    assert latest.results.get(criterion_id="inc.heme.anc").outcome == "FAIL"
    # A superseded record cannot be corrected again.
    assert client_a.get(url).status_code == 302


def test_void_keeps_the_record_with_the_reason(client_a, coordinator_a, participant_a) -> None:
    lab = record_lab(
        coordinator_a,
        participant_a,
        test="anc",
        value=Decimal(2100),
        unit="/uL",
        collected=date.fromisoformat(RECENT),
    )
    url = reverse("participants:void_record", args=[participant_a.pk, "lab", lab.pk])
    assert "This field is required" in client_a.post(url, {"reason": ""}).content.decode()
    assert client_a.post(url, {"reason": "wrong participant"}).status_code == 302
    lab.refresh_from_db()
    assert (lab.state, lab.void_reason) == (RecordState.VOIDED, "wrong participant")
    page = client_a.get(reverse("participants:records", args=[participant_a.pk, "lab"])).content.decode()
    assert "wrong participant" in page and "Voided" in page


def test_preview_lists_the_criteria_that_would_change(client_a, coordinator_a, participant_a) -> None:
    url = reverse("participants:preview", args=[participant_a.pk, "lab"])
    response = client_a.post(url, {"test": "anc", "value_number": "900", "unit": "/uL", "collected": RECENT})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-criterion="inc.heme.anc"' in html and "FAIL" in html and "INELIGIBLE" in html
    assert not LabResult.objects.exists()  # nothing saved


def test_preview_of_a_correction_replaces_the_record(client_a, coordinator_a, participant_a) -> None:
    lab = record_lab(
        coordinator_a,
        participant_a,
        test="anc",
        value=Decimal(900),
        unit="/uL",
        collected=date.fromisoformat(RECENT),
    )
    url = reverse("participants:preview", args=[participant_a.pk, "lab"])
    html = client_a.post(
        url, {"replaces": lab.pk, "value_number": "2100", "unit": "/uL", "collected": RECENT, "reason": "x"}
    ).content.decode()
    assert 'data-criterion="inc.heme.anc"' in html and "PASS" in html


def test_preview_of_an_incomplete_form_says_so(client_a, participant_a) -> None:
    url = reverse("participants:preview", args=[participant_a.pk, "lab"])
    html = client_a.post(url, {"test": "anc", "value_number": "abc"}).content.decode()
    assert "Not a complete entry yet" in html and "Enter a number" in html


def test_an_implausibly_low_count_is_questioned_before_saving(client_a, participant_a) -> None:
    url = add_url(participant_a, "lab")
    data = {"test": "platelets", "value_number": "182", "unit": "/uL", "collected": RECENT}
    response = client_a.post(url, data)
    assert "unusually low for this count" in response.content.decode()
    assert not LabResult.objects.exists()
    assert client_a.post(url, data | {"unit": "10^3/uL"}).status_code == 302
    assert client_a.post(url, data | {"value_checked": "on"}).status_code == 302
    assert LabResult.objects.count() == 2


def test_preview_of_voiding_and_of_new_key_dates(client_a, coordinator_a, participant_a) -> None:
    lab = record_lab(
        coordinator_a,
        participant_a,
        test="anc",
        value=Decimal(900),
        unit="/uL",
        collected=date.fromisoformat(RECENT),
    )
    url = reverse("participants:preview", args=[participant_a.pk, "lab"])
    html = client_a.post(url, {"voids": lab.pk}).content.decode()
    assert 'data-criterion="inc.heme.anc"' in html and "MISSING" in html
    assert LabResult.objects.get().state == RecordState.CURRENT
    page = client_a.get(
        reverse("participants:void_record", args=[participant_a.pk, "lab", lab.pk])
    ).content.decode()
    assert (
        "Eligibility if voided" in page and f"hx-vals='{{&quot;voids&quot;: &quot;{lab.pk}&quot;}}'" in page
    )
    url = reverse("participants:preview", args=[participant_a.pk, "dates"])
    html = client_a.post(
        url, {"lupus_nephritis": "no", "sex": "F", "birth_date": "1987-09-14", "icf_signed": RECENT}
    ).content.decode()
    assert 'data-criterion="inc.consent"' in html and "PASS" in html
    participant_a.refresh_from_db()
    assert participant_a.icf_signed is None


def test_correct_a_fact_an_event_and_a_therapy(client_a, coordinator_a, participant_a) -> None:
    from participants import services

    when = date.fromisoformat(RECENT)
    fact = services.record_assessment(coordinator_a, participant_a, key="sledai2k", value=10, date=when)
    event = services.record_event(
        coordinator_a, participant_a, kind="transfusion", date=when, details={"product": "red_cells"}
    )
    therapy = services.record_therapy(
        coordinator_a,
        participant_a,
        agent="rituximab",
        start=date(2024, 1, 1),
        last_dose=date(2024, 2, 1),
        ongoing=False,
    )
    url = reverse("participants:correct_record", args=[participant_a.pk, "fact", fact.pk])
    assert 'name="sledai2k"' in client_a.get(url).content.decode()
    response = client_a.post(url, {"sledai2k": "10", "sledai2k__date": RECENT, "reason": "same"})
    assert "Nothing" in response.content.decode()
    data = {"sledai2k": "4", "sledai2k__date": RECENT, "reason": "recounted"}
    assert client_a.post(url, data).status_code == 302
    assert Assessment.objects.get(state=RecordState.CURRENT).value == 4

    url = reverse("participants:correct_record", args=[participant_a.pk, "event", event.pk])
    assert 'value="red_cells" selected' in client_a.get(url).content.decode()
    assert (
        client_a.post(url, {"date": RECENT, "product": "platelets", "reason": "wrong product"}).status_code
        == 302
    )
    assert ClinicalEvent.objects.get(state=RecordState.CURRENT).details == {"product": "platelets"}

    url = reverse("participants:correct_record", args=[participant_a.pk, "therapy", therapy.pk])
    data = {
        "agent": "rituximab",
        "start": "2024-01-01",
        "last_dose": "2024-03-01",
        "reason": "last infusion missed",
    }
    assert client_a.post(url, data).status_code == 302
    assert Therapy.objects.get(state=RecordState.CURRENT).last_dose == date(2024, 3, 1)
    assert (
        client_a.get(
            reverse("participants:correct_record", args=[participant_a.pk, "history", 1])
        ).status_code
        == 404
    )
