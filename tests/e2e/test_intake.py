"""A coordinator enters a whole eligible SLE case through the intake forms, sees ELIGIBLE, then
corrects ANC below 1000/µL with a reason and sees INELIGIBLE with the ANC reason."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from participants.intake import fact_group
from participants.models import Participant, Role
from screening.criteria.vocabulary import FACT_KEYS_BY_KEY, LAB_TESTS_BY_KEY, FactType

from ..conftest import PASSWORD, REPO_ROOT
from .case_dates import as_of_today

pytestmark = pytest.mark.django_db(transaction=True)

CASES = REPO_ROOT.parent / "shared" / "cases"


def load(name: str) -> dict[str, Any]:
    return json.loads(Path(CASES / f"{name}.json").read_text())


def save(page, button: str = "Save") -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state()
    if not re.search(r"/participants/\d+/$", page.url):
        errors = page.locator(".invalid-feedback, .alert-block, .alert-danger").all_inner_texts()
        raise AssertionError(f"not saved at {page.url}: {errors}")


def wait_for_panel(page) -> None:  # type: ignore[no-untyped-def]
    """Let the live panel answer the last change, then scroll up for a screenshot."""
    page.locator("[data-testid=preview-overall], [data-testid=preview-errors]").first.wait_for()
    page.wait_for_timeout(900)  # longer than the panel's input delay
    page.wait_for_load_state("networkidle")
    page.evaluate("window.scrollTo(0, 0)")


def enter_lab(page, base: str, lab: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}records/lab/new/?test={lab['test']}")
    test = LAB_TESTS_BY_KEY[lab["test"]]
    value = lab["value"]
    if isinstance(value, str):
        page.locator(f'input[name="value_text"][value="{value}"]').check()
    else:
        page.locator("#id_value_number").fill(str(value))
        if test.units:
            page.locator("#id_unit").select_option(lab["unit"])
        else:
            page.locator("#id_unit").fill(lab["unit"])
        if "uln" in lab:
            page.locator("#id_uln").fill(str(lab["uln"]))
    if "specimen" in lab:
        page.locator(f'input[name="specimen"][value="{lab["specimen"]}"]').check()
    page.locator("#id_collected").fill(lab["collected"])


def fill_fact(page, key: str, value: Any) -> None:  # type: ignore[no-untyped-def]
    fact = FACT_KEYS_BY_KEY[key]
    dated = isinstance(value, dict) and "date" in value and fact.dated
    plain = value["value"] if dated else value
    if fact.type is FactType.BILAG:
        for domain, grade in plain.items():
            page.locator(f"#id_bilag2004__{domain}").select_option(grade)
    elif fact.type is FactType.BOOL:
        page.locator(f'input[name="{key}"][value="{"yes" if plain else "no"}"]').check()
    elif fact.type is FactType.ENUM:
        page.locator(f"#id_{key}").select_option(plain)
    else:
        page.locator(f"#id_{key}").fill(str(plain))
    if dated:
        page.locator(f"#id_{key}__date").fill(value["date"])


def test_coordinator_enters_an_eligible_sle_case_and_corrects_anc(
    live_server, page, screenshot, make_user, site_a
) -> None:
    make_user(Role.COORDINATOR, site_a, "coord.intake")
    case = as_of_today(load("sle-eligible"), timezone.localdate())
    dates = case["dates"]

    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill("coord.intake")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/participants/$"))

    # Registration.
    page.goto(live_server.url + "/participants/register/")
    page.get_by_label("SLE").check()
    page.locator('input[name="lupus_nephritis"][value="no"]').check()
    page.get_by_label("Female").check()
    page.get_by_label("Initials").fill("ab")
    page.get_by_label("Date of birth").fill(case["birth_date"])
    for name in ("screening_start", "icf_signed", "planned_enrollment", "planned_day0"):
        page.locator(f"#id_{name}").fill(dates[name])
    screenshot("intake-register")
    save(page, "Register")
    participant = Participant.objects.get(site=site_a)
    base = f"{live_server.url}/participants/{participant.pk}/"
    assert page.url == base

    # Labs: the first one through the test chooser, the others through the prefilled URL.
    page.goto(base + "records/lab/new/")
    page.locator("#chooser").select_option("anc")
    page.wait_for_url(re.compile(r"\?test=anc$"))
    for i, lab in enumerate(case["labs"]):
        enter_lab(page, base, lab)
        if lab["test"] == "anti_dsdna":
            wait_for_panel(page)
            screenshot("intake-lab-anti-dsdna-with-panel")
        save(page)
        assert i >= 0

    # Facts, group by group.
    groups: dict[str, dict[str, Any]] = {}
    for key, value in case["facts"].items():
        groups.setdefault(fact_group(FACT_KEYS_BY_KEY[key]).value, {})[key] = value
    for group, facts in groups.items():
        page.goto(f"{base}records/fact/new/?group={group}")
        for key, value in facts.items():
            fill_fact(page, key, value)
        wait_for_panel(page)
        screenshot(f"intake-facts-{group}")
        save(page)

    # Therapies.
    for t in case["therapies"]:
        page.goto(base + "records/therapy/new/")
        page.locator("#id_agent").select_option(t["agent"])
        page.locator("#id_start").fill(t["start"])
        if t.get("last_dose"):
            page.locator("#id_last_dose").fill(t["last_dose"])
        if t["ongoing"]:
            page.locator("#id_ongoing").check()
        if t["agent"] == "belimumab":
            wait_for_panel(page)
            screenshot("intake-therapy")
        save(page)

    # History taken in full.
    page.goto(base + "records/history/new/?area=therapies")
    for area in case["reviewed"]:
        page.locator(f'input[name="areas"][value="{area}"]').check()
    wait_for_panel(page)
    screenshot("intake-history-with-panel")
    save(page)

    status = page.get_by_test_id("overall-status")
    assert status.inner_text().split()[0] == "ELIGIBLE", page.locator(
        "[data-outcome]:not([data-outcome=PASS])"
    ).all_inner_texts()
    screenshot("intake-participant-eligible")

    # Correct ANC below 1000/µL with a reason.
    page.goto(base + "records/lab/")
    screenshot("intake-lab-records")
    anc_row = page.locator("tr[data-record]", has_text="Absolute neutrophil count")
    anc_row.get_by_role("link", name="Correct").click()
    page.locator("#id_value_number").fill("900")
    page.locator("#id_value_number").blur()
    page.locator("[data-testid=preview-changes] [data-criterion='inc.heme.anc']").wait_for()
    panel = page.get_by_test_id("preview-panel").inner_text()
    assert "INELIGIBLE" in panel and "FAIL" in panel
    page.locator("#id_reason").fill("Transcription error: ANC is 900/µL on the lab report")
    screenshot("intake-correct-anc-with-panel")
    save(page, "Save correction")

    assert page.get_by_test_id("overall-status").inner_text().split()[0] == "INELIGIBLE"
    anc = page.locator("[data-criterion='inc.heme.anc']").first
    assert "FAIL" in anc.inner_text() and "900" in anc.inner_text()
    history = page.get_by_test_id("evaluation-history").inner_text()
    assert "Transcription error" in history
    screenshot("intake-participant-ineligible")


def test_forms_explain_refusals_next_to_the_field(live_server, page, screenshot, make_user, site_a) -> None:
    from participants.case_import import import_case

    coordinator = make_user(Role.COORDINATOR, site_a, "coord.intake2")
    case = as_of_today(load("sle-ln-eligible"), timezone.localdate())
    participant = import_case(coordinator, site_a, case)
    base = f"{live_server.url}/participants/{participant.pk}/"
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill("coord.intake2")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/participants/$"))

    # A new kidney biopsy, class IV alone with a low activity index: the panel shows the effect.
    page.goto(base + "records/event/new/?event=kidney_biopsy")
    page.locator("#id_date").fill(case["dates"]["as_of"])
    page.locator('input[name="isn_rps_classes"][value="IV"]').check()
    page.locator("#id_nih_activity_index").fill("1")
    page.locator("#id_nih_chronicity_index").fill("0")
    wait_for_panel(page)
    assert "sle.ln_biopsy" in page.get_by_test_id("preview-panel").inner_text()
    screenshot("intake-event-kidney-biopsy-with-panel")

    # Text in a number and a unit slip are refused next to the value; nothing is saved.
    page.goto(base + "records/lab/new/?test=platelets")
    page.locator("#id_value_number").fill("lots")
    page.locator("#id_unit").select_option("/uL")
    page.locator("#id_collected").fill(case["dates"]["as_of"])
    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    assert "Enter a number" in page.locator(".invalid-feedback").first.inner_text()
    page.locator("#id_value_number").fill("182")
    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    assert "unusually low" in page.locator(".invalid-feedback").first.inner_text()
    wait_for_panel_or_problems(page)
    screenshot("intake-lab-refused")

    # Consent after the first screening visit, and Day 0 changed without a reason.
    page.goto(base + "dates/")
    day_before = (timezone.localdate() - timedelta(days=1)).isoformat()
    page.locator("#id_icf_signed").fill(day_before)
    page.locator("#id_planned_day0").fill((timezone.localdate() + timedelta(days=20)).isoformat())
    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    text = page.locator("[data-testid=dates-form]").inner_text()
    assert "on or before the first screening visit" in text and "Give the reason" in text
    page.wait_for_timeout(500)
    wait_for_panel_or_problems(page)
    screenshot("intake-dates-refused")

    # Record list and the void page.
    page.goto(base + "records/lab/")
    screenshot("intake-lab-records-ln")
    page.locator("tr[data-record]", has_text="Body weight").get_by_role("link", name="Void").click()
    wait_for_panel(page)
    assert "inc.crcl" in page.get_by_test_id("preview-panel").inner_text()
    screenshot("intake-void-with-panel")


def wait_for_panel_or_problems(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_load_state("networkidle")
    page.evaluate("window.scrollTo(0, 0)")
