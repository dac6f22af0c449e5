"""A coordinator enters whole example cases through the browser with the screening visit form,
counting form submissions and navigation clicks: each case within 6 submissions and 10 clicks, with
every criterion's outcome equal to the engine's result on the file (what `manage.py screen` gives)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from participants.models import Participant, Role
from screening import criteria
from screening.criteria.vocabulary import BILAG_DOMAINS, FACT_KEYS_BY_KEY, UNIT_ALIASES, FactType

from ..conftest import PASSWORD
from ..web.visit_helpers import draws, load_case
from .case_dates import as_of_today

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Effort:
    submissions: int = 0
    clicks: int = 0  # navigation: links and buttons that open another page
    fields: int = 0


def click_link(page, effort: Effort, name: str) -> None:  # type: ignore[no-untyped-def]
    effort.clicks += 1
    with page.expect_navigation():
        page.get_by_role("link", name=name, exact=True).first.click()


def submit(page, effort: Effort, button: str) -> None:  # type: ignore[no-untyped-def]
    effort.submissions += 1
    with page.expect_navigation():
        page.get_by_role("button", name=button, exact=True).click()
    errors = page.locator(".invalid-feedback, [data-testid=visit-errors]").all_inner_texts()
    assert not errors, errors


def fill(page, effort: Effort, selector: str, value: str) -> None:  # type: ignore[no-untyped-def]
    effort.fields += 1
    page.locator(selector).fill(value)


def check(page, effort: Effort, selector: str) -> None:  # type: ignore[no-untyped-def]
    effort.fields += 1
    page.locator(selector).check()


def choose(page, effort: Effort, selector: str, value: str) -> None:  # type: ignore[no-untyped-def]
    effort.fields += 1
    page.locator(selector).select_option(value)


def enter_labs(page, effort: Effort, labs: list[dict[str, Any]]) -> None:  # type: ignore[no-untyped-def]
    for lab in labs:
        prefix = f"lab-{lab['test']}-"
        if isinstance(lab["value"], str):
            check(page, effort, f'input[name="{prefix}value_text"][value="{lab["value"]}"]')
        else:
            fill(page, effort, f"#id_{prefix}value_number", str(lab["value"]))
            unit = UNIT_ALIASES.get(lab["unit"], lab["unit"])
            unit_field = page.locator(f"#id_{prefix}unit")
            if unit_field.evaluate("e => e.tagName") == "SELECT":
                if unit_field.input_value() != unit:  # the site's usual unit is pre-selected
                    choose(page, effort, f"#id_{prefix}unit", unit)
            else:
                fill(page, effort, f"#id_{prefix}unit", unit)
            if "uln" in lab:
                fill(page, effort, f"#id_{prefix}uln", str(lab["uln"]))
        if "specimen" in lab:
            check(page, effort, f'input[name="{prefix}specimen"][value="{lab["specimen"]}"]')


def enter_fact(page, effort: Effort, key: str, value: Any) -> None:  # type: ignore[no-untyped-def]
    fact = FACT_KEYS_BY_KEY[key]
    if fact.dated and isinstance(value, dict) and "date" in value:
        fill(page, effort, f"#id_fact-{key}__date", value["date"])
        value = value["value"]
    if fact.type is FactType.BILAG:
        for domain in BILAG_DOMAINS:
            choose(page, effort, f"#id_fact-bilag2004__{domain}", value[domain])
    elif fact.type is FactType.BOOL:
        check(page, effort, f'input[name="fact-{key}"][value="{"yes" if value else "no"}"]')
    elif fact.type is FactType.ENUM:
        choose(page, effort, f"#id_fact-{key}", value)
    else:
        fill(page, effort, f"#id_fact-{key}", str(value))


def enter_case(page, base_url: str, case: dict[str, Any], screenshot) -> tuple[Participant, Effort]:  # type: ignore[no-untyped-def]
    effort = Effort()
    page.goto(base_url + "/participants/")
    click_link(page, effort, "Register a participant")
    check(page, effort, f'input[name="cohort"][value="{case["cohort"]}"]')
    if case["cohort"] == "SLE":
        check(
            page,
            effort,
            f'input[name="lupus_nephritis"][value="{"yes" if case["lupus_nephritis"] else "no"}"]',
        )
    fill(page, effort, "#id_initials", "VF")
    check(page, effort, f'input[name="sex"][value="{case["sex"]}"]')
    fill(page, effort, "#id_birth_date", case["birth_date"])
    for name in ("screening_start", "icf_signed", "planned_enrollment", "planned_day0"):
        if case["dates"].get(name):
            fill(page, effort, f"#id_{name}", case["dates"][name])
    submit(page, effort, "Register")
    participant = Participant.objects.order_by("-pk").first()
    assert participant is not None and page.url.endswith(f"/participants/{participant.pk}/")

    click_link(page, effort, "Enter the screening visit")
    first, *others = draws(case)
    # The blood draw's date by keyboard alone: the field takes what is typed, as YYYY-MM-DD.
    page.locator("#id_draw-collected").focus()
    page.keyboard.type(first)
    effort.fields += 1
    enter_labs(page, effort, [lab for lab in case["labs"] if lab["collected"] == first])
    for key, value in case["facts"].items():
        enter_fact(page, effort, key, value)
    for i, t in enumerate(case["therapies"]):
        choose(page, effort, f"#id_therapy-{i}-agent", t["agent"])
        if t.get("agent_name"):
            fill(page, effort, f"#id_therapy-{i}-agent_name", t["agent_name"])
        fill(page, effort, f"#id_therapy-{i}-start", t["start"])
        if t.get("last_dose"):
            fill(page, effort, f"#id_therapy-{i}-last_dose", t["last_dose"])
        if t["ongoing"]:
            check(page, effort, f"#id_therapy-{i}-ongoing")
    for area in case["reviewed"]:
        check(page, effort, f'input[name="history-areas"][value="{area}"]')
    page.locator("[data-testid=preview-overall], [data-testid=preview-errors]").first.wait_for()
    page.wait_for_load_state("networkidle")
    screenshot(f"visit-form-{case['case_id']}", full_page=False)
    submit(page, effort, "Save and go to the next missing item")
    for day in others:
        # The worklist opened the visit form at the result still missing: another blood draw.
        assert "/visit/#lab-" in page.url, page.url
        labs = [lab for lab in case["labs"] if lab["collected"] == day]
        page.locator("#id_draw-collected").fill(day)
        effort.fields += 1
        enter_labs(page, effort, labs)
        # Enter in a text field sends the form with its first button: the next missing item.
        page.locator(f"#id_lab-{labs[-1]['test']}-value_text_0, #id_draw-collected").first.focus()
        effort.submissions += 1
        with page.expect_navigation():
            page.keyboard.press("Enter")
    return participant, effort


@pytest.mark.parametrize("name", ["sle-eligible", "iim-eligible", "ssc-male-eligible"])
def test_a_whole_case_in_a_few_submissions(  # type: ignore[no-untyped-def]
    name, live_server, page, screenshot, make_user, site_a, capsys
) -> None:
    make_user(Role.COORDINATOR, site_a, "coord.visit")
    case = as_of_today(load_case(name), timezone.localdate())
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill("coord.visit")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/participants/$"))

    participant, effort = enter_case(page, live_server.url, case, screenshot)

    # Nothing left missing: the next missing item is the participant page itself.
    assert page.url.split("#")[0].endswith(f"/participants/{participant.pk}/")
    expected = criteria.evaluate(criteria.load_case(case))
    shown = {
        row.get_attribute("data-criterion"): row.get_attribute("data-outcome")
        for row in page.locator("[data-criterion][data-outcome]").all()
    }
    assert shown == {r.id: str(r.outcome) for r in expected.criteria}
    assert (
        page.get_by_test_id("overall-status").inner_text().split()[0] == str(expected.overall) == "ELIGIBLE"
    )
    screenshot(f"visit-form-{name}-done")
    with capsys.disabled():
        print(
            f"\n{name}: {effort.submissions} submissions, {effort.clicks} navigation clicks, {effort.fields} fields"
        )
    assert effort.submissions <= 6 and effort.clicks <= 10
