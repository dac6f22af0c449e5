"""Every URL of the project × every role × own / other site gives the expected status.

The URL list comes from the resolver: a new URL without an entry in MATRIX fails
`test_every_url_has_an_entry`, and its own test, until its access is declared here. The monitor
is read-only: every write URL must expect 403 for it (see `writer`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from adjudication.models import Escalation
from api.models import LabImportJob
from labimport.models import BatchOrigin, BatchStatus, ImportBatch
from participants.models import (
    ConsentApproval,
    ConsentSignature,
    ConsentVersion,
    LabResult,
    Membership,
    Participant,
    Role,
    User,
)
from screening.models import CriterionResult, Evaluation, ScreeningOutcome

from ..factories import ParticipantFactory

pytestmark = pytest.mark.django_db

ROLES = ["coordinator", "investigator", "eac_reviewer", "monitor", "admin", "anonymous"]
SITES = ["own", "other"]
Status = int | tuple[int, int]  # the same for both sites, or (own site, other site)


def url_names() -> list[str]:
    def walk(patterns: list[Any], namespace: str) -> list[str]:
        names = []
        for p in patterns:
            if isinstance(p, URLResolver):
                names += walk(p.url_patterns, namespace + (f"{p.namespace}:" if p.namespace else ""))
            elif isinstance(p, URLPattern):
                names.append(namespace + (p.name or f"<unnamed {p.pattern}>"))
        return names

    return sorted(set(walk(get_resolver().url_patterns, "")))


APP_URLS = [n for n in url_names() if not n.startswith("admin:")]
ADMIN_URLS = [n for n in url_names() if n.startswith("admin:")]


@dataclass(frozen=True)
class Entry:
    expect: dict[str, Status]
    method: str = "get"
    # Builds (kwargs, data) for the URL from the participant of the own or the other site.
    params: Callable[[Participant], tuple[dict[str, Any], dict[str, Any]]] = lambda p: ({}, {})
    note: str = ""


def everyone(status: int) -> dict[str, Status]:
    return {r: status for r in ROLES}


def only(roles: tuple[str, ...], status: Status = 200, others: int = 403) -> dict[str, Status]:
    return {**{r: (status if r in roles else others) for r in ROLES}, "anonymous": 302}


READERS = ("coordinator", "investigator", "monitor", "admin")


def site_reader(own: int = 200, reviewer: int = 403) -> dict[str, Status]:
    """Coordinators, investigators and monitors of the site; administrators everywhere; 404 elsewhere."""
    return {
        "coordinator": (own, 404),
        "investigator": (own, 404),
        "monitor": (own, 404),
        "admin": (own, own),
        "eac_reviewer": reviewer,
        "anonymous": 302,
    }


def site_exporter() -> dict[str, Status]:
    return {**only(("monitor", "admin")), "monitor": (200, 404), "admin": (200, 200)}


def writer(own: int = 200, anonymous: int = 302) -> dict[str, Status]:
    """A write URL: the site's coordinators and investigators; the monitor (read-only) gets 403."""
    return {
        "coordinator": (own, 404),
        "investigator": (own, 404),
        "monitor": 403,
        "admin": 403,
        "eac_reviewer": 403,
        "anonymous": anonymous,
    }


def investigator_only(own: int = 200) -> dict[str, Status]:
    """An investigator's action on a participant of their site (enrollment)."""
    return {**writer(own), "coordinator": 403}


def reviewer_action(other: int, post: bool = True) -> dict[str, Status]:
    """An EAC reviewer's page or action on an escalation: only on another site's participant.
    `post=False`: a GET on a POST-only action (405 once the role is accepted)."""
    return {
        "coordinator": 403,
        "investigator": 404 if post else other,
        "eac_reviewer": (404, other) if post else other,
        "monitor": 403,
        "admin": 403,
        "anonymous": 302,
    }


def pk(p: Participant) -> tuple[dict[str, Any], dict[str, Any]]:
    return {"pk": p.pk}, {}


def kind(p: Participant) -> tuple[dict[str, Any], dict[str, Any]]:
    return {"pk": p.pk, "kind": "lab"}, {}


def record(p: Participant) -> tuple[dict[str, Any], dict[str, Any]]:
    lab = LabResult.objects.filter(participant=p).order_by("pk").first()
    assert lab is not None
    return {"pk": p.pk, "kind": "lab", "record_pk": lab.pk}, {}


def signature(p: Participant) -> tuple[dict[str, Any], dict[str, Any]]:
    """A consent signature of the participant (a version approved at its site, signed)."""
    version, _ = ConsentVersion.objects.get_or_create(
        label="matrix", defaults={"document_date": date(2025, 1, 1), "created_by": p.created_by}
    )
    ConsentApproval.objects.get_or_create(
        version=version, site=p.site, defaults={"effective_on": date(2025, 1, 1), "recorded_by": p.created_by}
    )
    signed, _ = ConsentSignature.objects.get_or_create(
        participant=p, version=version, defaults={"signed_on": date(2025, 2, 1), "entered_by": p.created_by}
    )
    return {"pk": p.pk, "signature_pk": signed.pk}, {}


def escalation(p: Participant) -> tuple[dict[str, Any], dict[str, Any]]:
    return {"pk": Escalation.objects.get(participant=p).pk}, {}


def batch(p: Participant) -> tuple[dict[str, Any], dict[str, Any]]:
    """A staged lab file of the participant's site."""
    found, _ = ImportBatch.objects.get_or_create(
        site=p.site,
        file_name="matrix.json",
        defaults={"origin": BatchOrigin.UPLOAD, "status": BatchStatus.STAGED, "created_by": p.created_by},
    )
    return {"pk": found.pk}, {}


def lab_job(p: Participant) -> tuple[dict[str, Any], dict[str, Any]]:
    """A large POST /api/labs/ batch sent from the session of the site's coordinator."""
    found, _ = LabImportJob.objects.get_or_create(
        user=p.created_by, via_token=False, site=p.site, defaults={"body": "{}", "rows": 1}
    )
    return {"pk": found.pk}, {}


def lab_coordinator(own: Status = 200, other: Status | None = None) -> dict[str, Status]:
    """Lab files are imported and reviewed by the site's coordinators only (404 elsewhere)."""
    return {**only(("coordinator",)), "coordinator": (own, 404 if other is None else other)}


def enrolled(p: Participant) -> tuple[dict[str, Any], dict[str, Any]]:
    """Another participant of p's site, enrolled with a signed checklist."""
    sibling, created = Participant.objects.get_or_create(
        site=p.site,
        screening_sequence=900,
        defaults={
            "screening_number": f"{p.site.code}-0900",
            "cohort": p.cohort,
            "lupus_nephritis": p.lupus_nephritis,
            "sex": p.sex,
            "birth_date": p.birth_date,
            "created_by": p.created_by,
        },
    )
    if created:
        evaluation = Evaluation.objects.create(
            participant=sibling,
            sequence=1,
            as_of=date(2025, 6, 3),
            protocol_version="test",
            engine_version="test",
            trigger="enrollment",
            data_version=0,
            case_json="{}",
            overall="ELIGIBLE",
        )
        ScreeningOutcome.objects.create(
            participant=sibling,
            kind="enrolled",
            on_date=date(2025, 6, 3),
            recorded_by=p.created_by,
            data_version=0,
            evaluation=evaluation,
            checklist_json="{}",
            checklist_html="<p>checklist</p>",
            checklist_digest="0" * 64,
            signer=p.created_by,
            signer_name="An investigator",
            signature_meaning="Eligibility confirmed",
            signed_at=timezone.now(),
        )
    return {"pk": sibling.pk}, {}


def csv(p: Participant) -> tuple[dict[str, Any], dict[str, Any]]:
    return {"fmt": "csv"}, {}


def xlsx(p: Participant) -> tuple[dict[str, Any], dict[str, Any]]:
    return {"fmt": "xlsx"}, {}


def export_job(p: Participant) -> tuple[dict[str, Any], dict[str, Any]]:
    """A finished XLSX export asked for by a monitor of p's site (the matrix's monitor at the own
    site; another monitor at the other site), its file in the store."""
    from django.conf import settings

    from exports.models import ExportJob

    monitor = Membership.objects.filter(role=Role.MONITOR, site=p.site).first()
    if monitor is None:
        user = User.objects.create(username=f"m.monitor.{p.site.code}")
        monitor = Membership.objects.create(user=user, role=Role.MONITOR, site=p.site)
    job, created = ExportJob.objects.get_or_create(
        requested_by=monitor.user,
        defaults={
            "role": Role.MONITOR,
            "site_id": p.site_id,
            "scope": str(p.site_id),
            "report": "screening-log",
            "basename": "screening-log",
            "status": "done",
            "rows_done": 1,
            "file_name": f"matrix-{p.site_id}.xlsx",
            "finished_at": timezone.now(),
        },
    )
    Path(settings.EXPORT_DIR).mkdir(parents=True, exist_ok=True)
    (Path(settings.EXPORT_DIR) / job.file_name).write_bytes(b"PK")
    return {"pk": job.pk}, {}


def job_owner() -> dict[str, Status]:
    """An export's file: its requester alone, in the role and site they asked in; 404 for anyone else."""
    return {**everyone(404), "monitor": (200, 404), "anonymous": 302}


# Writes are posted with empty data: a writer gets the form back with its errors (200), anyone
# else is refused before any form is read.
MATRIX: dict[str, tuple[Entry, ...]] = {
    "home": (Entry(everyone(302), note="each role is sent to its own page"),),
    "login": (Entry({**everyone(302), "anonymous": 200}),),
    "logout": (Entry(everyone(302), method="post", note="ends one's own session"),),
    "switch_role": (Entry(everyone(302), method="post", params=lambda p: ({}, {"membership": 0})),),
    "healthz": (Entry(everyone(200), note="the test client calls from loopback, with no proxy between"),),
    "password_change": (
        Entry({**everyone(200), "anonymous": 302}),
        Entry({**everyone(200), "anonymous": 302}, method="post", note="one's own password; empty: errors"),
    ),
    "password_change_done": (Entry({**everyone(200), "anonymous": 302}),),
    "session_keepalive": (
        Entry({**everyone(405), "anonymous": 302}, note="POST only"),
        Entry({**everyone(204), "anonymous": 302}, method="post", note="renews one's own session"),
    ),
    "audit:security_events": (Entry(only(("admin",))),),
    "participants:list": (Entry(only(READERS)),),
    "participants:detail": (Entry(site_reader(), params=pk),),
    "participants:records": (Entry(site_reader(), params=kind),),
    "participants:register": (
        Entry(only(("coordinator", "investigator"))),
        Entry(only(("coordinator", "investigator")), method="post"),
    ),
    "participants:edit_dates": (Entry(writer(), params=pk), Entry(writer(), method="post", params=pk)),
    "participants:visit": (
        Entry(writer(), params=pk),
        Entry(writer(400), method="post", params=pk, note="empty: nothing to save, 400 with the message"),
    ),
    "participants:next_missing": (Entry(writer(302), params=pk, note="redirects to the first missing item"),),
    "participants:add_record": (Entry(writer(), params=kind), Entry(writer(), method="post", params=kind)),
    "participants:correct_record": (
        Entry(writer(), params=record),
        Entry(writer(), method="post", params=record),
    ),
    "participants:void_record": (
        Entry(writer(), params=record),
        Entry(writer(), method="post", params=record),
    ),
    "participants:preview": (
        Entry(everyone(405), params=kind, note="POST only"),
        Entry(writer(), method="post", params=kind),
        Entry(
            writer(),
            method="post",
            params=lambda p: ({"pk": p.pk, "kind": "visit"}, {}),
            note="the visit form",
        ),
    ),
    "screening:enroll": (
        Entry(investigator_only(), params=pk),
        Entry(investigator_only(400), method="post", params=pk, note="empty form: 400 with its errors"),
    ),
    "screening:screen_failure": (
        Entry(writer(), params=pk),
        Entry(writer(400), method="post", params=pk, note="empty form: 400 with its errors"),
    ),
    "screening:withdraw": (
        Entry(writer(), params=pk),
        Entry(writer(400), method="post", params=pk, note="empty form: 400 with its errors"),
    ),
    "screening:rescreen": (
        Entry(writer(), params=pk, note="not screen failed: the page says why"),
        Entry(writer(400), method="post", params=pk),
    ),
    "screening:checklist": (Entry(site_reader(), params=enrolled),),
    "screening:checklist_pdf": (Entry(site_reader(), params=enrolled),),
    "participants:consent": (
        Entry(site_reader(), params=pk),
        Entry(writer(), method="post", params=pk, note="empty form: the page with its errors"),
    ),
    "participants:void_consent": (
        Entry(everyone(405), params=signature, note="POST only"),
        Entry(writer(), method="post", params=signature, note="no reason: the page with its errors"),
    ),
    "participants:consent_versions": (
        Entry(only(("admin",))),
        Entry(only(("admin",)), method="post", note="no action chosen: the page again"),
    ),
    "screening:amendments": (Entry(only(("admin",))),),
    "screening:release": (Entry(everyone(405), note="POST only"), Entry(only(("admin",)), method="post")),
    "screening:activate": (Entry(everyone(405), note="POST only"), Entry(only(("admin",)), method="post")),
    "screening:start_impact": (
        Entry(everyone(405), note="POST only"),
        Entry(only(("admin",)), method="post"),
    ),
    "screening:impact": (
        Entry(only(("admin",), 404), params=lambda p: ({"report_id": "none"}, {}), note="no such report"),
    ),
    "screening:impact_download": (
        Entry(
            only(("admin",), 404),
            params=lambda p: ({"report_id": "none", "part": "participants", "fmt": "csv"}, {}),
            note="no such report",
        ),
    ),
    "screening:evaluation_status": (
        Entry(
            site_reader(reviewer=404), params=pk, note="polled by htmx; reviewers reach no participant here"
        ),
    ),
    "api:labs": (
        Entry(everyone(405), note="POST only"),
        Entry(
            {**writer(own=415, anonymous=401), "coordinator": 415, "investigator": 415},
            method="post",
            note="a form-encoded body is refused by a writer's import (415, not JSON); other roles get 403",
        ),
    ),
    "api:lab_job": (
        Entry(
            {**everyone(404), "coordinator": (200, 404), "anonymous": 401},
            params=lab_job,
            note="a job is reached by its sender only, at the site it was sent for",
        ),
    ),
    "labimport:batches": (Entry(only(("coordinator",))),),
    "labimport:upload": (
        Entry(only(("coordinator",), 405), note="POST only"),
        Entry(only(("coordinator",), 400), method="post", note="empty form: 400 with its errors"),
    ),
    "labimport:batch": (Entry(lab_coordinator(), params=batch),),
    "labimport:progress": (Entry(lab_coordinator(), params=batch, note="polled by htmx"),),
    "labimport:review": (
        Entry(lab_coordinator(405, 405), params=batch, note="POST only"),
        Entry(lab_coordinator(302), method="post", params=batch, note="nothing chosen: back to the page"),
    ),
    "api:fhir": (
        Entry(everyone(405), note="POST only"),
        Entry(
            {**only(("coordinator",), 422), "anonymous": 401},
            method="post",
            note="a coordinator's empty body is refused as a file (422); other roles get 403",
        ),
    ),
    "adjudication:queue": (Entry(only(("eac_reviewer",))),),
    "adjudication:signoffs": (Entry(only(("investigator",))),),
    # The escalations of the fixture go to the EAC: a reviewer acts on the other site's only; an
    # investigator reaches none of them (their sign-offs are their own site's investigator reviews).
    "adjudication:review": (Entry(reviewer_action(200), params=escalation),),
    "adjudication:claim": (
        Entry(reviewer_action(405, post=False), params=escalation),
        Entry(reviewer_action(302), method="post", params=escalation),
    ),
    "adjudication:release": (
        Entry(reviewer_action(405, post=False), params=escalation),
        Entry(reviewer_action(302), method="post", params=escalation),
    ),
    "adjudication:sign": (
        Entry(reviewer_action(405, post=False), params=escalation),
        Entry(reviewer_action(400), method="post", params=escalation, note="empty form: 400 with its errors"),
    ),
    "adjudication:request_information": (
        Entry(reviewer_action(405, post=False), params=escalation),
        Entry(reviewer_action(302), method="post", params=escalation),
    ),
    "adjudication:second_factor": (
        Entry(only(("investigator", "eac_reviewer"))),
        Entry(
            only(("investigator", "eac_reviewer")),
            method="post",
            note="one's own set-up; the fixture's signers have a device already: the page says so",
        ),
    ),
    "adjudication:second_factor_reset": (
        Entry(only(("admin",))),
        Entry(only(("admin",), 400), method="post", note="empty form: 400 with its errors"),
    ),
    "adjudication:participant_escalations": (Entry(site_reader(reviewer=404), params=pk),),
    "adjudication:export_log": (Entry(only(("monitor", "admin")), params=csv),),
    "audit:exports": (Entry(only(("monitor", "admin"))),),
    "audit:screening_log_page": (Entry(only(READERS), note="each reader sees the sites they may see"),),
    "audit:participant": (Entry(site_reader(), params=pk),),
    "audit:participant_pdf": (Entry(site_reader(), params=pk),),
    "audit:find_participant": (
        Entry(
            only(READERS, 302),
            params=lambda p: ({}, {"screening_number": p.screening_number}),
            note="redirects to the trail, or home with a message when not visible",
        ),
    ),
    "audit:screening_log": (
        Entry(only(("monitor", "admin")), params=csv),
        Entry(only(("monitor", "admin")), params=xlsx, note="what the XLSX will hold, and a button to ask"),
        Entry(only(("monitor", "admin"), 302), method="post", params=xlsx, note="asks a worker for the file"),
    ),
    "audit:export_job": (Entry(job_owner(), params=export_job),),
    "audit:export_job_download": (Entry(job_owner(), params=export_job),),
    "audit:funnel": (Entry(only(("monitor", "admin")), params=csv),),
    "audit:audit_trail": (
        Entry(site_exporter(), params=lambda p: ({"fmt": "csv"}, {"screening_number": p.screening_number})),
        Entry(site_exporter(), params=lambda p: ({"fmt": "xlsx"}, {"screening_number": p.screening_number})),
    ),
}


@pytest.fixture
def people(make_user, site_a, site_b) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    users: dict[str, User | None] = {
        "coordinator": make_user(Role.COORDINATOR, site_a, "m.coordinator"),
        "investigator": make_user(Role.INVESTIGATOR, site_a, "m.investigator"),
        "eac_reviewer": make_user(Role.EAC_REVIEWER, site_a, "m.reviewer"),
        "monitor": make_user(Role.MONITOR, site_a, "m.monitor"),  # a site monitor: own and other differ
        "admin": make_user(Role.ADMIN, None, "m.admin"),
        "anonymous": None,
    }
    users["admin"].is_staff = users["admin"].is_superuser = True  # type: ignore[union-attr]
    users["admin"].save()  # type: ignore[union-attr]
    creator = users["coordinator"]
    own = ParticipantFactory(site=site_a, created_by=creator)
    other = ParticipantFactory(site=site_b, created_by=creator)
    for p in (own, other):
        LabResult.objects.create(
            participant=p,
            entered_by=creator,
            test="anc",
            value_number=900,
            unit="/uL",
            collected=date(2025, 6, 3),
        )
        # An escalation to the EAC on each participant.
        evaluation = Evaluation.objects.create(
            participant=p,
            sequence=1,
            as_of=date(2025, 6, 3),
            protocol_version="test",
            engine_version="test",
            trigger="manual",
            data_version=0,
            case_json="{}",
            overall="PENDING_REVIEW",
        )
        result = CriterionResult.objects.create(
            evaluation=evaluation,
            position=0,
            criterion_id="sle.ln_biopsy",
            outcome="REVIEW",
            review_by="eac",
            reason="-",
        )
        Escalation.objects.create(
            participant=p,
            criterion_id="sle.ln_biopsy",
            review_by="eac",
            evidence_digest="0" * 64,
            latest_result=result,
            opened_at=timezone.now(),
        )
    return {"users": users, "own": own, "other": other}


def _request(client: Client, entry: Entry, name: str, participant: Participant) -> int:
    kwargs, data = entry.params(participant)
    url = reverse(name, kwargs=kwargs)
    if entry.method == "post":
        return client.post(url, data).status_code
    return client.get(url, data).status_code


def test_every_url_has_an_entry() -> None:
    assert sorted(set(APP_URLS) - set(MATRIX)) == [], "declare the access of these URLs in MATRIX"
    assert sorted(set(MATRIX) - set(APP_URLS)) == [], "these MATRIX entries name no URL"


# Writes to one's own session or account, which every role has; asking for an export's file
# (a job of one's own, no clinical data changed), which the monitor may.
OWN_ACCOUNT_ACTIONS = ("logout", "switch_role", "password_change", "session_keepalive", "audit:screening_log")


def test_every_write_is_forbidden_to_monitors() -> None:
    for name, entries in MATRIX.items():
        for entry in entries:
            if entry.method == "post" and name not in OWN_ACCOUNT_ACTIONS:
                assert entry.expect["monitor"] == 403, name


@pytest.mark.parametrize("name", APP_URLS)
def test_access(name: str, people, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.HEALTHZ_WORKER_TIMEOUT = 0.1
    settings.EXPORT_DIR = tmp_path
    assert name in MATRIX, f"no access entry for URL {name}: add one to MATRIX"
    wrong = []
    for entry in MATRIX[name]:
        for role in ROLES:
            expected = entry.expect[role]
            pairs = zip(SITES, expected if isinstance(expected, tuple) else (expected, expected), strict=True)
            for where, want in pairs:
                client = Client()
                if people["users"][role] is not None:
                    client.force_login(people["users"][role])
                got = _request(client, entry, name, people[where])
                if got != want:
                    wrong.append(f"{entry.method.upper()} {role}/{where}: {got} (expected {want})")
    assert not wrong, f"{name}: " + "; ".join(wrong)


# --- The Django admin: staff only; clinical records and history read-only -------------------------


def _admin_expectation(name: str, user: User) -> tuple[int, dict[str, Any]]:
    """Status and kwargs for an admin URL requested by a superuser."""
    request = RequestFactory().get("/")
    request.user = user
    short = name.removeprefix("admin:")
    fixed: dict[str, tuple[int, dict[str, Any]]] = {
        "index": (200, {}),
        "login": (302, {}),
        "logout": (405, {}),  # POST only
        "password_change": (200, {}),
        "password_change_done": (200, {}),
        "jsi18n": (200, {}),
        "autocomplete": (403, {}),  # needs its query parameters
        "app_list": (200, {"app_label": "participants"}),
        "auth_user_password_change": (200, {"id": user.pk}),  # UserAdmin's fixed name
    }
    if short in fixed:
        return fixed[short]
    if short == "view_on_site":
        from django.contrib.contenttypes.models import ContentType

        # Participants have no public page: 404.
        return 404, {"content_type_id": ContentType.objects.get_for_model(Participant).pk, "object_id": 1}
    if short.startswith("<unnamed"):
        return 404, {}  # the catch-all
    for model, model_admin in admin.site._registry.items():
        prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
        if short.startswith(prefix):
            view = short.removeprefix(prefix)
            obj = model._default_manager.order_by("pk").first()
            # A missing row: the admin redirects to its index with a message.
            found = 200 if obj is not None else 302
            object_kwargs = {"object_id": obj.pk if obj is not None else 0}
            if view == "changelist":
                return 200, {}
            if view == "add":
                return (200 if model_admin.has_add_permission(request) else 403), {}
            if view == "delete":
                return (found if model_admin.has_delete_permission(request, obj) else 403), object_kwargs
            return found, object_kwargs  # change (a read-only view when not changeable), history
    raise AssertionError(f"no rule for admin URL {name}")


def test_admin_is_for_staff_only(people) -> None:  # type: ignore[no-untyped-def]
    for role in ROLES:
        if role == "admin":
            continue
        client = Client()
        if people["users"][role] is not None:
            client.force_login(people["users"][role])
        for name in (
            "admin:index",
            "admin:participants_site_changelist",
            "admin:participants_labresult_changelist",
        ):
            response = client.get(reverse(name))
            assert response.status_code == 302 and "/admin/login/" in response["Location"], (role, name)


def test_admin_urls_for_an_administrator(client: Client, screened, people) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import Group

    from screening.models import ProtocolVersion

    Group.objects.create(name="matrix")
    ProtocolVersion.objects.create(version="matrix-1", title="A row to open", effective_from="2026-01-01")
    admin_user = people["users"]["admin"]
    client.force_login(admin_user)
    wrong = []
    for name in ADMIN_URLS:
        want, kwargs = _admin_expectation(name, admin_user)
        if name.startswith("admin:<unnamed"):
            url = "/admin/no-such-page/"
        else:
            url = reverse(name, kwargs=kwargs)
        got = client.get(url).status_code
        if got != want:
            wrong.append(f"{name}: {got} (expected {want})")
    assert not wrong, "; ".join(wrong)


@pytest.mark.parametrize("model_name", ["participant", "labresult", "assessment", "therapy", "evaluation"])
def test_clinical_records_are_read_only_in_the_admin(client: Client, screened, people, model_name) -> None:  # type: ignore[no-untyped-def]
    client.force_login(people["users"]["admin"])
    app = "screening" if model_name == "evaluation" else "participants"
    assert client.get(reverse(f"admin:{app}_{model_name}_add")).status_code == 403
    model = admin.site._registry
    obj = next(m for m in model if m._meta.model_name == model_name)._default_manager.first()
    change = reverse(f"admin:{app}_{model_name}_change", args=[obj.pk])
    page = client.get(change)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(change, {}).status_code == 403
    assert client.get(reverse(f"admin:{app}_{model_name}_delete", args=[obj.pk])).status_code == 403
