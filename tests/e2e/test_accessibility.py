"""Every page type in the browser, as the role that uses it, checked by axe-core (0 serious or
critical violations); a keyboard-only journey; and the README's screenshots (docs/screenshots/)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse
from PIL import Image

from adjudication.models import Escalation
from participants.demo_password import DEMO_PASSWORD
from participants.models import OutcomeStatus, Participant
from screening.demo import CASES_DIR, load_demo_data
from screening.models import ScreeningState

from .accessibility import assert_accessible, describe, violations

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CASES_DIR.is_dir(), reason="the demo needs the protocol package's example cases"),
]

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def log_in(page, url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.context.clear_cookies()
    page.goto(url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def readme_screenshot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """The first screen at a laptop's width, small enough to commit (docs/screenshots/)."""
    DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    path = DOCS_SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    # A palette of 64 colours keeps text sharp at a third of the size.
    with Image.open(path) as shot:
        shot.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


FOUND: dict[str, str] = {}


def check(page, url: str, name: str, screenshot=None) -> None:  # type: ignore[no-untyped-def]
    """Open the page, run axe-core, note what it finds (every page is checked before failing)."""
    response = page.goto(url)
    assert response is not None and response.status < 400, (
        f"{name}: {url} answered {response and response.status}"
    )
    page.wait_for_load_state("networkidle")
    found = violations(page)
    if found:
        FOUND[name] = describe(found)
    if screenshot:
        readme_screenshot(page, screenshot)


def test_every_page_type_has_no_serious_accessibility_violation(live_server, page) -> None:  # type: ignore[no-untyped-def]
    FOUND.clear()
    load_demo_data()
    base = live_server.url
    eligible = Participant.objects.get(screening_number="S01-0001")
    escalation = Escalation.objects.filter(review_by="eac", participant__site__code="S01").first()
    assert escalation is not None

    check(page, base + "/login/", "login")

    log_in(page, base, "coord.s01")
    check(page, base + reverse("participants:list"), "dashboard", "dashboard")
    check(page, base + reverse("participants:detail", args=[eligible.pk]), "participant page", "participant")
    check(page, base + reverse("participants:register"), "registration form")
    check(page, base + reverse("participants:edit_dates", args=[eligible.pk]), "key dates form")
    for kind in ("lab", "fact", "therapy", "event", "history"):
        check(page, base + reverse("participants:records", args=[eligible.pk, kind]), f"{kind} records")
        check(
            page,
            base + reverse("participants:add_record", args=[eligible.pk, kind]),
            f"{kind} form",
            None,
        )
    check(page, base + reverse("participants:visit", args=[eligible.pk]), "screening visit form", "visit-form")
    check(page, base + reverse("participants:consent", args=[eligible.pk]), "consent")
    check(page, base + reverse("screening:screen_failure", args=[eligible.pk]), "screen failure form")
    check(page, base + reverse("screening:withdraw", args=[eligible.pk]), "withdrawal form")
    failed = ScreeningState.objects.filter(outcome=OutcomeStatus.SCREEN_FAILED).first()
    assert failed is not None
    check(page, base + reverse("participants:detail", args=[failed.pk]), "screen-failed participant")
    check(page, base + reverse("audit:screening_log_page"), "screening log", "screening-log")
    check(page, base + reverse("audit:participant", args=[eligible.pk]), "audit trail", "audit-trail")
    check(page, base + reverse("labimport:batches"), "lab files")
    check(page, base + reverse("password_change"), "password change")

    log_in(page, base, "inv.s01")
    check(page, base + reverse("adjudication:signoffs"), "sign-offs")
    check(page, base + reverse("screening:enroll", args=[eligible.pk]), "enrollment checklist")

    log_in(page, base, "eac.b")
    check(page, base + reverse("adjudication:queue"), "EAC queue")
    check(page, base + reverse("adjudication:review", args=[escalation.pk]), "EAC review", "eac-review")
    check(page, base + reverse("adjudication:second_factor"), "second factor set-up")

    log_in(page, base, "monitor")
    check(page, base + reverse("audit:exports"), "exports", "exports")
    check(page, base + reverse("audit:exports") + "?protocol=", "exports filtered")
    # An export refused: the message on the form, still accessible.
    page.goto(base + reverse("audit:audit_trail", args=["csv"]))
    assert "Give a screening number or a date range." in page.content()
    assert_accessible(page, "export refused")
    # An XLSX of the screening log: what it will hold, then its job's page with the progress.
    check(page, base + reverse("audit:screening_log", args=["xlsx"]), "XLSX export, asking")
    page.get_by_test_id("export-request").click()
    page.wait_for_selector("[data-testid=export-job-status]")
    assert_accessible(page, "XLSX export, its job")

    log_in(page, base, "admin")
    check(page, base + reverse("audit:security_events"), "security events")
    check(page, base + reverse("screening:amendments"), "protocol amendments")
    check(page, base + reverse("adjudication:second_factor_reset"), "signing devices")
    check(page, base + reverse("participants:consent_versions"), "consent form versions")
    assert not FOUND, "axe-core finds serious or critical violations:\n" + "\n".join(
        f"{name}:\n{text}" for name, text in FOUND.items()
    )


def test_keyboard_only_journey(live_server, page) -> None:  # type: ignore[no-untyped-def]
    """Log in, open a participant, its audit trail and back, by Tab and Enter alone."""
    load_demo_data()
    base = live_server.url
    page.goto(base + "/login/")

    def tab_to(predicate: str, limit: int = 80) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(
                f"(() => {{ const e = document.activeElement; return !!e && ({predicate}); }})()"
            ):
                return
        raise AssertionError(f"no focusable element where {predicate}")

    tab_to("e.name === 'username'")
    page.keyboard.type("coord.s01")
    tab_to("e.name === 'password'")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_test_id("participant-table").wait_for()
    # The focus ring is visible where the keyboard is.
    tab_to("e.textContent.trim() === 'S01-0001'")
    outline = page.evaluate(
        "getComputedStyle(document.activeElement).outlineStyle + getComputedStyle(document.activeElement).boxShadow"
    )
    assert outline.strip() not in ("none", "nonenone", "")
    page.keyboard.press("Enter")
    page.get_by_test_id("overall-status").wait_for()
    tab_to("e.textContent.trim() === 'Audit trail'", limit=200)
    page.keyboard.press("Enter")
    page.get_by_test_id("trail-table").wait_for()
    # The filter by keyboard: tick a record type with Space, submit with Enter.
    tab_to("e.id === 'type-criterionresult'")
    page.keyboard.press("Space")
    tab_to("e.type === 'submit' && e.textContent.trim() === 'Show'")
    page.keyboard.press("Enter")
    page.wait_for_url("**types=criterionresult**")
    page.get_by_test_id("trail-table").wait_for()
    assert page.locator('[data-testid="trail-event"]').count() > 0
    assert page.locator("#type-criterionresult").is_checked()
