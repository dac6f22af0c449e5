"""Exports read back: CSV parsed and XLSX opened equal the data; formula injection is neutralised."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

import exports
from audit import trail
from audit.reports import AUDIT_HEADER, FUNNEL_HEADER, SCREENING_LOG_HEADER, funnel
from participants import services
from participants.models import Participant, Role, ScreeningStatus
from screening.evaluation import evaluate_participant
from screening.models import Trigger

from ..factories import ParticipantFactory, SiteFactory

pytestmark = pytest.mark.django_db


def _body(response) -> bytes:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.status_code
    assert response.streaming
    return b"".join(response.streaming_content)


def read_csv(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(_body(response).decode("utf-8-sig"))))


def read_xlsx(response) -> list[list[object]]:  # type: ignore[no-untyped-def]
    book = openpyxl.load_workbook(io.BytesIO(_body(response)), read_only=True)
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


@pytest.fixture
def monitor(make_user):  # type: ignore[no-untyped-def]
    return make_user(Role.MONITOR, None, "monitor.all")


@pytest.fixture
def trial(screened, coordinator_b, site_b):  # type: ignore[no-untyped-def]
    """The screened participant at site A (INCOMPLETE) and one ineligible participant at site B."""
    p = services.register_participant(
        coordinator_b,
        site=site_b,
        cohort="SSc",
        sex="M",
        birth_date=date(1950, 1, 1),
        icf_signed=date(2025, 6, 2),
    )
    evaluate_participant(p.pk, trigger=Trigger.MANUAL, user=coordinator_b)
    return {**screened, "other": Participant.objects.get(pk=p.pk)}


def test_screening_log_csv_and_xlsx_equal_the_data(client: Client, monitor, trial, xlsx_by_worker) -> None:
    client.force_login(monitor)
    rows = read_csv(client.get(reverse("audit:screening_log", args=["csv"])))
    assert rows[0] == SCREENING_LOG_HEADER
    by_number = {r[1]: dict(zip(SCREENING_LOG_HEADER, r, strict=True)) for r in rows[1:]}
    participants = list(Participant.objects.select_related("site"))
    assert set(by_number) == {p.screening_number for p in participants}
    for p in participants:
        row = by_number[p.screening_number]
        latest = p.evaluations.order_by("-sequence").first()
        results = list(latest.results.order_by("position"))
        assert row["Site"] == p.site.code
        assert row["Cohort"] == p.cohort
        assert row["ICF signed"] == (p.icf_signed.isoformat() if p.icf_signed else "")
        assert row["Overall status"] == p.screening_state.get_status_display()
        assert row["Evaluation number"] == str(latest.sequence)
        assert row["Protocol version"] == latest.protocol_version
        assert row["Failed criteria"] == "; ".join(r.criterion_id for r in results if r.outcome == "FAIL")
        assert row["Missing criteria"] == "; ".join(r.criterion_id for r in results if r.outcome == "MISSING")
        assert row["Review criteria"] == "; ".join(
            f"{r.criterion_id} ({r.review_by})" for r in results if r.outcome == "REVIEW"
        )
    assert by_number[trial["other"].screening_number]["Failed criteria"] != ""

    sheet = read_xlsx(xlsx_by_worker(client, reverse("audit:screening_log", args=["xlsx"])))
    assert [str(v) for v in sheet[0]] == SCREENING_LOG_HEADER
    as_text = [[exports.csv_cell(v) for v in row] for row in sheet[1:]]
    # Same cells as the CSV (dates are typed in XLSX, text in CSV; compare the date part).
    for xrow, crow in zip(
        sorted(as_text, key=lambda r: r[1]), sorted(rows[1:], key=lambda r: r[1]), strict=True
    ):
        for name, x, c in zip(SCREENING_LOG_HEADER, xrow, crow, strict=True):
            if name in ("Registered", "Last evaluated"):
                assert x[:16] == c[:16], name  # local time to the minute in both
            else:
                assert x.removesuffix("T00:00:00") == c, name  # openpyxl reads a date back as midnight


def test_audit_trail_export_for_one_participant(client: Client, monitor, trial, xlsx_by_worker) -> None:
    p = trial["participant"]
    client.force_login(monitor)
    url = reverse("audit:audit_trail", args=["csv"]) + f"?screening_number={p.screening_number}"
    rows = read_csv(client.get(url))
    assert rows[0] == AUDIT_HEADER
    records = [dict(zip(AUDIT_HEADER, r, strict=True)) for r in rows[1:]]
    assert {r["Screening number"] for r in records} == {p.screening_number}
    expected = [
        (e.record_label, e.record_id, e.action, c.field, c.old, c.new, e.reason)
        for e in trail.participant_trail(p, [s.key for s in trail.PARTICIPANT_SOURCES])
        for c in e.rows
    ]
    got = [
        (
            r["Record type"],
            r["Record ID"],
            r["Action"],
            r["Field"],
            r["Old value"],
            r["New value"],
            r["Reason"],
        )
        for r in records
    ]
    assert got == [tuple(exports.csv_cell(v) for v in row) for row in expected]
    icf = [r for r in records if r["Field"] == "ICF signed" and r["Old value"]]
    assert icf[0]["New value"] == "2025-06-03" and icf[0]["Reason"] == "ICF date mistyped"
    assert icf[0]["Username"] == trial["user"].username

    sheet = read_xlsx(xlsx_by_worker(client, url.replace(".csv", ".xlsx")))
    assert len(sheet) == len(rows)
    assert [exports.csv_cell(v) for v in sheet[len(sheet) // 2]][3:] == rows[len(rows) // 2][3:]


def test_audit_trail_export_by_date_range(client: Client, monitor, trial, make_user) -> None:
    today = timezone.localdate()
    client.force_login(monitor)
    url = reverse("audit:audit_trail", args=["csv"])
    rows = read_csv(client.get(url, {"start": today.isoformat(), "end": today.isoformat()}))
    numbers = {r[2] for r in rows[1:]}
    assert numbers == {trial["participant"].screening_number, trial["other"].screening_number}
    assert "User" not in {r[3] for r in rows[1:]}  # access-control history is for administrators
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert len(read_csv(client.get(url, {"start": tomorrow}))) == 1  # header only
    # An administrator's date-range export also holds users, sites and memberships.
    client.force_login(make_user(Role.ADMIN, None, "admin.a"))
    admin_rows = read_csv(client.get(url, {"start": today.isoformat()}))
    assert {"User", "Site", "Membership"} <= {r[3] for r in admin_rows[1:]}
    # No participant and no dates: refused with a message on the exports form itself.
    refused = client.get(url)
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "Give a screening number or a date range." in html and 'id="audit-export-form"' in html
    # A reversed range: the message by the field, what was typed kept.
    refused = client.get(url, {"start": today.isoformat(), "end": (today - timedelta(days=1)).isoformat()})
    html = refused.content.decode()
    assert refused.status_code == 400 and "The end is before the start." in html
    assert f'value="{today.isoformat()}"' in html


def test_site_monitor_exports_only_their_site(client: Client, trial, make_user, site_b) -> None:
    client.force_login(make_user(Role.MONITOR, site_b))
    rows = read_csv(client.get(reverse("audit:screening_log", args=["csv"])))
    assert [r[1] for r in rows[1:]] == [trial["other"].screening_number]
    a_number = trial["participant"].screening_number
    url = reverse("audit:audit_trail", args=["csv"])
    assert client.get(url, {"screening_number": a_number}).status_code == 404
    rows = read_csv(client.get(url, {"start": "2000-01-01"}))
    assert {r[2] for r in rows[1:]} == {trial["other"].screening_number}


def test_funnel_export_and_page(client: Client, monitor, trial) -> None:
    client.force_login(monitor)
    data = funnel(Participant.objects.all())
    rows = read_csv(client.get(reverse("audit:funnel", args=["csv"])))
    assert rows[0] == FUNNEL_HEADER
    counts = {(r[0], r[1]): int(r[3]) for r in rows[1:] if r[0] != "Screen-failure rate (%)"}
    assert counts[("Total", "")] == Participant.objects.count() == 2
    for status in ScreeningStatus:
        assert (
            counts[("Overall status", status.value)]
            == Participant.objects.filter(screening_state__status=status).count()
        )
    other = trial["other"].evaluations.get()
    for result in other.results.filter(outcome="FAIL"):
        assert counts[("Failing criterion", result.criterion_id)] >= 1
    assert sum(n for (section, _), n in counts.items() if section == "Failing criterion") == sum(
        b.count for b in data.by_failing_criterion
    )
    sheet = read_xlsx(client.get(reverse("audit:funnel", args=["xlsx"])))
    assert [[exports.csv_cell(v) for v in row] for row in sheet] == rows

    page = client.get(reverse("audit:exports"))
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count("<svg") == 2 and "Participants by overall status" in html
    assert "Ineligible" in html


def test_formula_injection_is_neutralised_in_csv_and_xlsx(
    client: Client, monitor, make_user, xlsx_by_worker
) -> None:
    site = SiteFactory(code="=1+2", name="@SUM(A1)")
    coordinator = make_user(Role.COORDINATOR, site, "coord.evil")
    p = ParticipantFactory(site=site, created_by=coordinator, screening_number="X-0001")
    lab = services.record_lab(
        coordinator, p, test="anc", value=Decimal("900"), unit="/uL", collected=date(2025, 6, 3)
    )
    services.void_record(coordinator, lab, reason='=HYPERLINK("http://evil.example","x")')
    client.force_login(monitor)
    rows = read_csv(client.get(reverse("audit:screening_log", args=["csv"])))
    assert rows[1][:2] == ["'=1+2", "X-0001"]
    sheet = read_xlsx(xlsx_by_worker(client, reverse("audit:screening_log", args=["xlsx"])))
    assert sheet[1][:2] == ["'=1+2", "X-0001"]
    url = reverse("audit:audit_trail", args=["csv"]) + "?screening_number=X-0001"
    reasons = {r[AUDIT_HEADER.index("Reason")] for r in read_csv(client.get(url))[1:]}
    assert '\'=HYPERLINK("http://evil.example","x")' in reasons
    book = openpyxl.load_workbook(io.BytesIO(_body(xlsx_by_worker(client, url.replace(".csv", ".xlsx")))))
    cells = [c for row in book.worksheets[0].iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    assert any(c.value == '\'=HYPERLINK("http://evil.example","x")' for c in cells)


def test_unknown_format_is_404(client: Client, monitor) -> None:
    client.force_login(monitor)
    assert client.get(reverse("audit:screening_log", args=["pdf"])).status_code == 404


def test_screening_log_lists_eac_decisions(client: Client, monitor, adjudicated) -> None:
    client.force_login(monitor)
    log = read_csv(client.get(reverse("audit:screening_log", args=["csv"])))
    decisions = {r[1]: r[SCREENING_LOG_HEADER.index("EAC decisions")] for r in log[1:]}
    criterion = adjudicated["escalation"].criterion_id
    assert decisions[adjudicated["participant"].screening_number].startswith(f"{criterion}: accept (")
    page = client.get(reverse("audit:exports")).content.decode()
    assert reverse("adjudication:export_log", args=["csv"]) in page


def test_odd_audit_export_input_gives_a_file_named_by_the_stored_number(
    client: Client, monitor, trial
) -> None:
    p = trial["participant"]
    client.force_login(monitor)
    url = reverse("audit:audit_trail", args=["csv"])
    # The last day of the calendar has no next day: no upper bound, not a 500.
    assert len(read_csv(client.get(url, {"start": "2025-01-01", "end": "9999-12-31"}))) > 1
    response = client.get(url, {"screening_number": p.screening_number.lower()})
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="audit-trail-{p.screening_number}-'
    )


def test_text_xml_cannot_hold_is_dropped_from_xlsx_cells(client: Client, monitor, trial, xlsx_by_worker) -> None:
    p = trial["participant"]
    lab = services.record_lab(
        trial["user"], p, test="anc", value=Decimal("2100"), unit="/uL", collected=date(2025, 6, 3)
    )
    services.void_record(trial["user"], lab, reason="typo\uffff here\x01")
    client.force_login(monitor)
    url = reverse("audit:audit_trail", args=["xlsx"])
    sheet = read_xlsx(xlsx_by_worker(client, url, {"screening_number": p.screening_number}))
    assert "typo here" in {cell for row in sheet for cell in row}


def test_a_trial_wide_range_export_shows_rows_deleted_outside_the_application(
    client: Client, trial, make_user
) -> None:
    from django.db import connection

    evaluation = trial["evaluation"]
    results = evaluation.results.count()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM screening_criterionresult WHERE evaluation_id = %s", [evaluation.pk])
        cursor.execute("DELETE FROM screening_evaluation WHERE id = %s", [evaluation.pk])
    client.force_login(make_user(Role.ADMIN, None, "admin.deletions"))
    today = timezone.localdate().isoformat()
    rows = read_csv(client.get(reverse("audit:audit_trail", args=["csv"]), {"start": today}))
    records = [dict(zip(AUDIT_HEADER, r, strict=True)) for r in rows[1:]]
    deleted = {(r["Record type"], r["Record ID"]) for r in records if r["Action"] == "deleted"}
    assert sum(kind == "Criterion result" for kind, _ in deleted) == results > 0
    assert ("Evaluation", str(evaluation.pk)) in deleted
