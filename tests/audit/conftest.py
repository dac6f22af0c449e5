from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from participants import services
from participants.models import Participant, Role, Site, User
from screening.evaluation import evaluate_participant
from screening.models import Trigger


@pytest.fixture
def investigator_a(make_user, site_a: Site) -> User:  # type: ignore[no-untyped-def]
    return make_user(Role.INVESTIGATOR, site_a, "inv.a")


@pytest.fixture
def screened(coordinator_a: User, site_a: Site) -> dict[str, Any]:
    """A participant with one record of each kind entered, corrected and voided, then evaluated."""
    user = coordinator_a
    p = services.register_participant(
        user, site=site_a, cohort="SLE", lupus_nephritis=False, sex="F", birth_date=date(1987, 9, 14)
    )
    p = services.update_participant(user, p, reason="", icf_signed=date(2025, 6, 2))
    p = services.update_participant(user, p, reason="ICF date mistyped", icf_signed=date(2025, 6, 3))
    lab = services.record_lab(
        user, p, test="anc", value=Decimal("2100"), unit="/uL", collected=date(2025, 6, 3)
    )
    lab2 = services.correct_record(user, lab, reason="transcription error", value_number=Decimal("2200"))
    services.void_record(user, lab2, reason="entered for the wrong participant")
    fact = services.record_assessment(user, p, key="sledai2k", value=10, date=date(2025, 6, 3))
    fact2 = services.correct_record(user, fact, reason="score recounted", value=12)
    services.void_record(user, fact2, reason="assessment not done per protocol")
    therapy = services.record_therapy(
        user, p, agent="hydroxychloroquine", start=date(2019, 5, 1), ongoing=True
    )
    therapy2 = services.correct_record(
        user, therapy, reason="start date per pharmacy", start=date(2019, 6, 1)
    )
    services.void_record(user, therapy2, reason="duplicate entry")
    event = services.record_event(
        user, p, kind="live_vaccine", date=date(2025, 6, 5), details={"vaccine": "yellow fever"}
    )
    event2 = services.correct_record(user, event, reason="date from vaccination card", date=date(2025, 6, 4))
    services.void_record(user, event2, reason="vaccine was not live")
    review = services.confirm_history(user, p, area="transfusion")
    review2 = services.correct_record(user, review, reason="wrong area", area="malignancy")
    services.void_record(user, review2, reason="history not taken in full")
    evaluation = evaluate_participant(p.pk, trigger=Trigger.MANUAL, detail="test", user=user)
    p = Participant.objects.get(pk=p.pk)
    return {"participant": p, "user": user, "evaluation": evaluation}


@pytest.fixture
def adjudicated(
    make_user, coordinator_a: User, site_a: Site, site_b: Site, settings, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    """A case escalated to the EAC (LN without biopsy) and accepted by one reviewer (quorum 1)."""
    from adjudication import services as eac
    from adjudication.demo import CASES_DIR, enter_case, load_case_file, shift_case
    from adjudication.models import Escalation, ReviewAction

    from ..conftest import PASSWORD, signing_code

    settings.EAC_QUORUM = 1
    reviewer = make_user(Role.EAC_REVIEWER, site_b, "eac.b")
    with django_capture_on_commit_callbacks(execute=True):
        participant = enter_case(
            coordinator_a, site_a, shift_case(load_case_file(CASES_DIR / "sle-ln-no-biopsy.json"))
        )
    escalation = Escalation.objects.get(participant=participant)
    eac.claim(reviewer, escalation.pk)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = eac.sign_review(
            reviewer,
            escalation.pk,
            action=ReviewAction.APPROVE,
            rationale="Exception justified.",
            password=PASSWORD,
            code=signing_code(reviewer),
        )
    return {
        "participant": Participant.objects.get(pk=participant.pk),
        "reviewer": reviewer,
        "escalation": escalation,
        "review": outcome.review,
    }


@pytest.fixture
def xlsx_by_worker(settings, tmp_path, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """Ask for an XLSX export as the page does (POST to its URL), run the job's task as a worker
    would (Celery's `apply`: the task itself, here, against the same Postgres and Redis), then
    download the file from the job's page; returns the download's response."""
    from django.urls import reverse

    from exports.models import ExportJob
    from exports.tasks import write_export

    settings.EXPORT_DIR = tmp_path / "exports"

    def get(client, url: str, data: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        from urllib.parse import urlencode

        full = url + ("?" + urlencode(data) if data else "")
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            asked = client.post(full)
        assert asked.status_code == 302, asked.status_code
        job = ExportJob.objects.latest("pk")
        assert asked["Location"] == reverse("audit:export_job", args=[job.pk])
        assert len(callbacks) == 1  # the task is sent once the job's row has committed
        write_export.apply(args=[job.pk])
        job.refresh_from_db()
        assert job.status == "done", job.error
        return client.get(reverse("audit:export_job_download", args=[job.pk]))

    return get
