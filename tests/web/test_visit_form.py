"""The screening visit form: a whole case in one or two posts, with the engine's result on the
file; a bad row saves nothing and is named by its field; units, ranges and dates as a coordinator
reads them; the live panel over the whole form."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from participants import services
from participants.models import (
    Assessment,
    HistoryReview,
    LabResult,
    Participant,
    SiteLabUnit,
    Therapy,
    User,
)
from screening import criteria
from screening.selectors import latest_evaluation

from ..e2e.case_dates import as_of_today
from .visit_helpers import load_case, visit_posts

pytestmark = pytest.mark.django_db

TODAY = date.today()


def _register(user: User, case: dict[str, Any]) -> Participant:
    d = case["dates"]
    return services.register_participant(
        user,
        site=user.memberships.get().site,
        cohort=case["cohort"],
        sex=case["sex"],
        birth_date=date.fromisoformat(case["birth_date"]),
        lupus_nephritis=case.get("lupus_nephritis"),
        **{
            k: date.fromisoformat(d[k])
            for k in ("screening_start", "icf_signed", "planned_enrollment", "planned_day0")
            if d.get(k)
        },
    )


def _url(p: Participant) -> str:
    return reverse("participants:visit", args=[p.pk])


def _records(p: Participant) -> int:
    return sum(
        m.objects.filter(participant=p).count() for m in (LabResult, Assessment, Therapy, HistoryReview)
    )


@pytest.mark.parametrize("name", ["sle-eligible", "iim-eligible", "ssc-male-eligible"])
def test_a_whole_case_through_the_visit_form_gives_the_engine_result(
    name: str, client_a: Client, coordinator_a: User
) -> None:
    case = as_of_today(load_case(name), timezone.localdate())
    participant = _register(coordinator_a, case)
    posts = visit_posts(case)
    assert len(posts) <= 2
    for data in posts:
        response = client_a.post(_url(participant), data | {"then": "next"})
        assert response.status_code == 302, re.findall(
            r"(?:invalid-feedback|alert-danger)[^>]*>\s*(?:<strong>)?(.*?)<", response.content.decode(), re.S
        )
    evaluation = latest_evaluation(participant)
    assert evaluation is not None
    expected = criteria.evaluate(criteria.load_case(case))
    stored = {r.criterion_id: r.outcome for r in evaluation.results.all()}
    assert stored == {r.id: str(r.outcome) for r in expected.criteria}
    assert evaluation.overall == str(expected.overall) == "ELIGIBLE"
    # Nothing missing: "next missing item" is the participant page.
    assert response["Location"] == reverse("participants:next_missing", args=[participant.pk])
    assert client_a.get(response["Location"])["Location"] == reverse(
        "participants:detail", args=[participant.pk]
    )


def test_a_bad_row_saves_nothing_and_is_named_by_its_field(client_a: Client, coordinator_a: User) -> None:
    case = as_of_today(load_case("sle-eligible"), timezone.localdate())
    participant = _register(coordinator_a, case)
    data = visit_posts(case)[0]
    data["lab-platelets-unit"] = "/uL"  # 182 /µL: a unit slip the service questions
    data["fact-slicc_clinical_count"] = "12"
    response = client_a.post(_url(participant), data)
    page = response.content.decode()
    assert response.status_code == 400
    assert "Enter a value from 0 to 11." in page  # the range, named
    assert _records(participant) == 0
    del data["fact-slicc_clinical_count"]
    data["fact-slicc_clinical_count"] = "4"
    response = client_a.post(_url(participant), data)
    page = response.content.decode()
    assert response.status_code == 400 and "unusually low" in page
    assert 'id="lab-platelets"' in page and "Nothing was saved" in page
    assert _records(participant) == 0  # one refused row: no record of the whole visit kept
    data["lab-platelets-value_checked"] = "on"
    assert client_a.post(_url(participant), data).status_code == 302
    assert LabResult.objects.filter(participant=participant, test="platelets", unit="/uL").exists()


def test_an_impossible_date_is_refused_and_kept_as_typed(
    client_a: Client, participant_a: Participant
) -> None:
    data = {"draw-collected": "2025-02-30", "lab-hbsag-value_text": "negative"}
    page = client_a.post(_url(participant_a), data).content.decode()
    assert "2025-02-30 is not a real calendar date." in page
    assert 'value="2025-02-30"' in page
    assert 'placeholder="YYYY-MM-DD"' in page and 'type="date"' not in page
    data["draw-collected"] = "03/06/2025"
    assert "Enter the date as YYYY-MM-DD" in client_a.post(_url(participant_a), data).content.decode()
    assert _records(participant_a) == 0


def test_one_option_per_unit_and_the_site_unit_preselected(
    client_a: Client, participant_a: Participant
) -> None:
    SiteLabUnit.objects.create(site=participant_a.site, test="anc", unit="10^9/L")
    page = client_a.get(_url(participant_a)).content.decode()
    select = re.search(r'<select name="lab-anc-unit".*?</select>', page, re.S)
    assert select is not None
    options = re.findall(r'<option value="([^"]*)"', select.group(0))
    assert options == ["", "/uL", "/mm3", "10^3/uL", "10^9/L"]
    assert "UCUM" not in page and "{cells}" not in page
    assert re.search(r'<option value="10\^9/L" selected>10⁹/L</option>', select.group(0))
    # An unentered row with a pre-selected unit is no entry.
    response = client_a.post(_url(participant_a), {"lab-anc-unit": "10^9/L"})
    assert "Nothing to save" in response.content.decode()


def test_the_cohorts_other_history_areas_are_offered(client_a: Client, participant_a: Participant) -> None:
    page = client_a.get(_url(participant_a)).content.decode()
    assert participant_a.cohort == "SLE"
    assert "Muscle biopsy (IIM)" in page and 'value="dialysis"' in page and "Dialysis (SLE)" not in page


def _preview(client: Client, p: Participant, data: dict[str, Any]) -> str:
    return client.post(reverse("participants:preview", args=[p.pk, "visit"]), data).content.decode()


def test_the_panel_covers_the_whole_form_and_warns_before_saving(
    client_a: Client, coordinator_a: User
) -> None:
    case = as_of_today(load_case("sle-eligible"), timezone.localdate())
    participant = _register(coordinator_a, case)
    data = visit_posts(case)[0]
    panel = _preview(client_a, participant, data)
    assert "ELIGIBLE" in panel and "Check before saving" not in panel
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    data["draw-collected"] = tomorrow
    data["lab-platelets-unit"] = "/uL"
    panel = _preview(client_a, participant, data)
    assert f"{tomorrow} is in the future" in panel
    assert "unusually low" in panel
    assert _records(participant) == 0
    assert "Nothing entered yet" in _preview(client_a, participant, {})


def test_the_worklist_links_open_the_visit_form_at_the_item(client_a: Client, coordinator_a: User) -> None:
    case = as_of_today(load_case("sle-eligible"), timezone.localdate())
    participant = _register(coordinator_a, case)
    data = visit_posts(case)[0]
    del data["lab-anc-value_number"]
    response = client_a.post(_url(participant), data | {"then": "next"})
    assert response.status_code == 302
    assert client_a.get(response["Location"])["Location"] == _url(participant) + "#lab-anc"
    page = client_a.get(reverse("participants:detail", args=[participant.pk])).content.decode()
    assert f'href="{_url(participant)}#lab-anc"' in page


def test_the_visit_page_keeps_its_queries_with_many_records(
    client_a: Client, coordinator_a: User, django_assert_max_num_queries: Any
) -> None:
    case = as_of_today(load_case("sle-eligible"), timezone.localdate())
    few = _register(coordinator_a, case)
    many = _register(coordinator_a, case)
    assert client_a.post(_url(many), visit_posts(case)[0]).status_code == 302
    with django_assert_max_num_queries(20) as few_queries:
        client_a.get(_url(few))
    with django_assert_max_num_queries(len(few_queries.captured_queries)):
        client_a.get(_url(many))


def test_a_stale_fact_is_not_overwritten(client_a: Client, coordinator_a: User) -> None:
    case = as_of_today(load_case("sle-eligible"), timezone.localdate())
    participant = _register(coordinator_a, case)
    page = client_a.get(_url(participant)).content.decode()
    shown = re.search(r'name="fact-shown_state" value="([^"]*)"', page)
    assert shown is not None
    services.record_assessment(coordinator_a, participant, key="slicc_clinical_count", value=5)
    data = {"fact-shown_state": shown.group(1).replace("&quot;", '"'), "fact-slicc_clinical_count": "4"}
    response = client_a.post(_url(participant), data)
    assert response.status_code == 400
    assert "another save changed" in response.content.decode(), re.findall(
        r"invalid-feedback[^>]*>(.*?)</", response.content.decode(), re.S
    )
    assert Assessment.objects.get(participant=participant, key="slicc_clinical_count").value == 5


def test_required_fields_are_marked(client_a: Client, participant_a: Participant) -> None:
    page = client_a.get(_url(participant_a)).content.decode()
    for label in ("Unit", "ULN"):
        crp = re.search(r'id="lab-crp".*?</fieldset>', page, re.S)
        assert crp is not None
        assert re.search(rf"{label}<span class=\"asteriskField\">\*</span>", crp.group(0)), crp.group(0)


def test_a_site_unit_must_be_an_offered_unit(participant_a: Participant) -> None:

    SiteLabUnit(site=participant_a.site, test="anc", unit="10^9/L").full_clean()
    with pytest.raises(ValidationError, match="Choose one of"):
        SiteLabUnit(site=participant_a.site, test="anc", unit="10*9/L").full_clean()
    with pytest.raises(ValidationError, match="No such test"):
        SiteLabUnit(site=participant_a.site, test="ldl", unit="mg/dL").full_clean()


def test_the_single_lab_form_preselects_the_site_unit(client_a: Client, participant_a: Participant) -> None:
    SiteLabUnit.objects.create(site=participant_a.site, test="creatinine", unit="umol/L")
    url = reverse("participants:add_record", args=[participant_a.pk, "lab"]) + "?test=creatinine"
    page = client_a.get(url).content.decode()
    assert '<option value="umol/L" selected>µmol/L</option>' in page
