"""The participant's audit trail page: content, filter, site scope and a constant query count."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit import trail
from participants import services
from participants.models import LabResult, Role
from screening.evaluation import evaluate_participant
from screening.models import Trigger

pytestmark = pytest.mark.django_db


def _url(participant, *types: str) -> str:  # type: ignore[no-untyped-def]
    url = reverse("audit:participant", args=[participant.pk])
    return url + ("?" + "&".join(f"types={t}" for t in types) if types else "")


def test_trail_shows_each_change_with_old_and_new_value_user_and_reason(client: Client, screened) -> None:
    p, user = screened["participant"], screened["user"]
    client.force_login(user)
    response = client.get(_url(p))
    assert response.status_code == 200
    html = response.content.decode()
    assert f"Audit trail of {p.screening_number}" in html
    # The ICF correction: field, old value struck through, new value, reason, user.
    assert "ICF signed" in html and "<del>2025-06-02</del>" in html and "2025-06-03" in html
    assert "ICF date mistyped" in html
    assert user.display_name() in html
    # A voided record, with the void reason and the state label.
    assert "voided" in html and "entered for the wrong participant" in html
    events = response.context["events"]
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert {e.record_type for e in events} == {
        "participant",
        "labresult",
        "assessment",
        "therapy",
        "clinicalevent",
        "historyreview",
        "evaluation",
        "screeningstate",
    }
    # The corrections are one row each: the old record's switch to "superseded" is not a row.
    assert "superseded" not in {e.action for e in events}
    assert "Superseded by a correction" not in html
    # The status copied from the evaluation, as a change of the participant's screening state.
    status_changes = [
        c for e in events if e.record_type == "screeningstate" for c in e.changes if c.field == "status"
    ]
    assert (
        status_changes
        and status_changes[-1].new == screened["participant"].screening_state.get_status_display()
    )


def test_filter_by_record_type(client: Client, screened) -> None:
    client.force_login(screened["user"])
    events = client.get(_url(screened["participant"], "therapy")).context["events"]
    assert events and {e.record_type for e in events} == {"therapy"}
    page = client.get(_url(screened["participant"], "criterionresult")).context["page"]
    assert page.total == screened["evaluation"].results.count()


def test_trail_is_site_scoped(client: Client, screened, coordinator_b, make_user, site_b) -> None:
    p = screened["participant"]
    client.force_login(coordinator_b)
    assert client.get(_url(p)).status_code == 404
    client.force_login(make_user(Role.MONITOR, site_b))
    assert client.get(_url(p)).status_code == 404
    client.force_login(make_user(Role.MONITOR, None))
    assert client.get(_url(p)).status_code == 200
    client.force_login(make_user(Role.EAC_REVIEWER, site_b))
    assert client.get(_url(p)).status_code == 403


def test_change_outside_the_application_is_flagged(client: Client, participant_a, coordinator_a) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE participants_participant SET planned_day0 = '2025-09-01' WHERE id = %s",
            [participant_a.pk],
        )
    client.force_login(coordinator_a)
    response = client.get(_url(participant_a))
    assert "outside the application" in response.content.decode()


def test_query_count_does_not_grow_with_the_number_of_events(
    client: Client, screened, django_assert_max_num_queries
) -> None:
    p, user = screened["participant"], screened["user"]
    client.force_login(user)
    url = _url(p, "participant", "labresult", "criterionresult", "therapy")
    client.get(url)  # warm the session
    # Session, user, memberships (2), participant, the trail, user and site names, session save (3).
    with django_assert_max_num_queries(14) as few:
        first = client.get(url)
    for n in range(25):
        lab = services.record_lab(
            user, p, test="anc", value=Decimal(1000 + n), unit="/uL", collected=date(2025, 6, 3)
        )
        services.void_record(user, lab, reason=f"void {n}")
    with django_assert_max_num_queries(14) as many:
        second = client.get(url)
    assert second.context["page"].total >= first.context["page"].total + 50
    assert len(second.context["events"]) == trail.PAGE_SIZE  # paged
    assert len(many.captured_queries) == len(few.captured_queries)


def test_a_correction_is_one_row_with_old_and_new_value_who_role_and_reason(client: Client, screened) -> None:
    p, user = screened["participant"], screened["user"]
    client.force_login(user)
    events = client.get(_url(p, "labresult")).context["events"]
    corrected = [e for e in events if e.action == "corrected"]
    assert len(corrected) == 1
    row = corrected[0]
    assert [(c.field, c.old, c.new) for c in row.changes] == [("value number", "2100", "2200")]
    assert row.reason == "transcription error" and row.user_name == user.display_name()
    original = LabResult.objects.get(pk=row.replaces)
    assert original.state == "superseded" and original.value_number == Decimal("2100")
    # The old record's events: created, then nothing else (its switch is the correction's row).
    assert [e.action for e in events if e.record_id == str(original.pk)] == ["created"]


def test_a_supersede_made_outside_the_application_stays_visible(
    client: Client, participant_a, coordinator_a
) -> None:
    lab = services.record_lab(
        coordinator_a,
        participant_a,
        test="anc",
        value=Decimal("2100"),
        unit="/uL",
        collected=date(2025, 6, 3),
    )
    with connection.cursor() as cursor:
        cursor.execute("UPDATE participants_labresult SET state = 'superseded' WHERE id = %s", [lab.pk])
    client.force_login(coordinator_a)
    events = client.get(_url(participant_a, "labresult")).context["events"]
    assert [e.action for e in events] == ["created", "superseded"]


def test_evaluations_are_summaries_linked_to_the_history(client: Client, screened) -> None:
    p, user = screened["participant"], screened["user"]
    first = screened["evaluation"]
    services.record_lab(user, p, test="anc", value=Decimal("2500"), unit="/uL", collected=timezone.localdate())
    second = evaluate_participant(p.pk, trigger=Trigger.MANUAL, detail="test", user=user)
    client.force_login(user)
    response = client.get(_url(p, "evaluation"))
    summaries = [e.summary for e in response.context["events"]]
    assert summaries[0] == f"Evaluation #1: overall {first.overall} (first evaluation)"
    changed = [
        r.criterion_id
        for r in second.results.all()
        if r.outcome != first.results.get(criterion_id=r.criterion_id).outcome
    ]
    overall = (
        f"overall {first.overall} → {second.overall}"
        if first.overall != second.overall
        else f"overall {second.overall} (unchanged)"
    )
    assert changed, "the new ANC must move a criterion"
    noun = "criterion" if len(changed) == 1 else "criteria"
    assert summaries[1] == f"Evaluation #2: {overall}; {len(changed)} {noun} changed"
    assert {d.split()[0] for d in response.context["events"][1].details} == set(changed)
    html = response.content.decode()
    assert "case_json" not in html and '"labs"' not in html  # the stored case is not dumped
    assert reverse("participants:detail", args=[p.pk]) + "#history" in html


def test_filter_by_date_and_paging(client: Client, screened) -> None:
    p, user = screened["participant"], screened["user"]
    client.force_login(user)
    today = timezone.localdate()
    response = client.get(_url(p), {"start": (today + timedelta(days=1)).isoformat()})
    assert response.context["page"].total == 0
    assert (
        client.get(_url(p), {"start": today.isoformat(), "end": today.isoformat()}).context["page"].total > 0
    )
    bad = client.get(_url(p), {"start": today.isoformat(), "end": (today - timedelta(days=1)).isoformat()})
    assert "The end is before the start." in bad.content.decode()
    for n in range(30):
        services.record_lab(
            user, p, test="anc", value=Decimal(1000 + n), unit="/uL", collected=date(2025, 6, 3)
        )
    everything = [e.at for e in client.get(_url(p)).context["page"].events]
    total = client.get(_url(p)).context["page"].total
    assert total > trail.PAGE_SIZE
    second = client.get(_url(p), {"page": 2})
    assert second.context["page"].number == 2
    assert len(everything) + len(second.context["events"]) == total
    assert everything[-1] <= second.context["events"][0].at
    assert client.get(_url(p), {"page": 999}).context["page"].number == 2  # past the end: the last page
    assert "page=2" in client.get(_url(p)).content.decode()


def test_printable_trail_is_a_pdf(client: Client, screened) -> None:
    p, user = screened["participant"], screened["user"]
    client.force_login(user)
    response = client.get(
        reverse("audit:participant_pdf", args=[p.pk]), {"types": ["labresult", "evaluation"]}
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-") and len(response.content) > 2000
    assert f"audit-trail-{p.screening_number}-" in response["Content-Disposition"]
    html = render_to_string(
        "audit/participant_trail_print.html",
        {"participant": p, "events": trail.readable_trail(p, ["labresult"]).events, "printed_by": user},
    )
    assert "<del>2100</del> → 2200" in html and "transcription error" in html
