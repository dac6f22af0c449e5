"""JSON endpoints. Thin: authentication and scope here, the work in lab_import."""

from __future__ import annotations

import json
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from labimport import services as lab_services
from labimport.models import BatchOrigin, BatchStatus
from labimport.selectors import import_sites
from labimport.tasks import stage_later
from participants.roles import Role

from .auth import Caller, Unauthenticated, authenticate, csrf_failure, writable_participants
from .idempotency import MAX_KEY, Answer, once
from .jobs import describe, visible_jobs
from .lab_import import answer, check_rows, import_labs
from .tasks import queue_job
from .throttle import retry_after


def error(status: int, message: str, **extra: object) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def is_json(request: HttpRequest) -> bool:
    """application/json, with no charset or utf-8 (RFC 8259: JSON exchanged between systems is UTF-8)."""
    if request.content_type != "application/json":
        return False
    charset = (request.content_params or {}).get("charset")
    return charset is None or charset.strip().lower() == "utf-8"


def _caller(request: HttpRequest) -> Caller | JsonResponse:
    """The token's owner or the session's user; else the answer: 401 (who?), 403 (CSRF) or 429
    (over the token's rate limit, with Retry-After)."""
    try:
        caller = authenticate(request)
    except Unauthenticated as exc:
        response = error(401, str(exc))
        response["WWW-Authenticate"] = "Bearer"
        return response
    if not caller.via_token and request.method == "POST" and csrf_failure(request):
        return error(403, "CSRF check failed.")
    wait = retry_after(request, caller)
    if wait is not None:
        response = error(
            429, f"Too many requests: at most {settings.LAB_API_RATE} per token. Retry in {wait} s."
        )
        response["Retry-After"] = str(wait)
        return response
    return caller


@csrf_exempt  # a token needs no CSRF token; a session is checked in the view
@require_POST
def labs(request: HttpRequest) -> JsonResponse:
    """POST /api/labs/ {"rows": [{"screening_number", "test", "value", "unit", "collected", ...}]}

    The body must be sent as `Content-Type: application/json` (charset, if given, utf-8), else 415.
    Rows may carry `"confirmed_low": true` (not stored): a count below its implausibility floor
    (vocabulary.IMPLAUSIBLE_BELOW, compared in the canonical unit) is refused with an error on
    `rows/N/value` unless the row says it was checked, as the web form's "checked" box does."""
    caller = _caller(request)
    if isinstance(caller, JsonResponse):
        return caller
    scope = writable_participants(caller)
    if scope is None:
        return error(403, "Your role cannot record lab results.")
    if not is_json(request):
        return error(415, "Send the rows as application/json.")
    try:
        payload = json.loads(
            request.body.decode("utf-8-sig"), parse_float=Decimal
        )  # a leading BOM is tolerated, as json.loads of bytes does
    except RequestDataTooBig:
        return error(413, "Request too large.")
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: absurdly deep nesting
        return error(400, "The body must be JSON.")
    if not isinstance(payload, dict):
        return error(400, "The body must be a JSON object with a list of rows.")

    rows = payload.get("rows")

    def work() -> Answer:
        if isinstance(rows, list) and len(rows) > settings.LAB_API_SYNC_MAX_ROWS:
            result, _ = check_rows(scope, rows)  # shape and participants now; the records by a worker
            if result.errors:
                return answer(result)
            with transaction.atomic():
                return queue_job(caller, request.body.decode("utf-8-sig"), len(rows))
        return answer(import_labs(caller.user, scope, rows))

    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        status, body = work()
    elif len(key) > MAX_KEY:
        return error(400, f"An Idempotency-Key has at most {MAX_KEY} characters.")
    else:
        status, body = once(caller.user, "labs", key, request.body, work)
    response = JsonResponse(body, status=status)
    if status == 202:
        response["Location"] = body["status_url"]
    return response


@require_GET
def lab_job(request: HttpRequest, pk: int) -> JsonResponse:
    """GET /api/labs/jobs/<id>/: a large batch's progress; once done, the answer the request would
    have given (`result`: its status and body). Only the caller who sent it reaches it (else 404)."""
    caller = _caller(request)
    if isinstance(caller, JsonResponse):
        return caller
    job = visible_jobs(caller).filter(pk=pk).first()
    if job is None:
        return error(404, "No such job.")
    return JsonResponse(describe(job))


@csrf_exempt  # a token needs no CSRF token; a session is checked in the view
@require_POST
def fhir(request: HttpRequest) -> JsonResponse:
    """POST /api/fhir/[?site=CODE] with a FHIR R4 Bundle, FHIR NDJSON or HL7 v2 messages as the body.

    The file is staged for review by a coordinator of the site, exactly as an upload in the
    browser (shared/labs/README.md); nothing is recorded before that review. 201 with the staged
    rows' counts, 202 when a worker stages a large file, 422 when the whole file is refused.
    `site` may be left out by a coordinator of one site."""
    caller = _caller(request)
    if isinstance(caller, JsonResponse):
        return caller
    sites = import_sites(caller.user)
    if not caller.via_token:
        membership = caller.membership
        role = membership.role if membership is not None else None
        sites = (
            sites.filter(pk=membership.site_id) if role == Role.COORDINATOR and membership else sites.none()
        )
    code = request.GET.get("site")
    chosen = list(sites.filter(code=code)[:2] if code else sites[:2])
    if not chosen and not sites.exists():
        return error(403, "Only a site's coordinators import its lab files.")
    if len(chosen) != 1:
        return error(400, "Name the site: ?site=CODE, one of the sites you coordinate.")
    chunks = iter(lambda: request.read(64 * 1024), b"")
    name = request.headers.get("Content-Disposition", "").partition("filename=")[2].strip('"; ') or "api"
    with transaction.atomic():
        batch = lab_services.receive_file(
            caller.user, chosen[0], chunks, file_name=name, origin=BatchOrigin.API
        )
        if batch.status == BatchStatus.STAGING:
            stage_later(batch.pk)
    summary: dict[str, object] = {"batch": batch.pk, "status": batch.status, "format": batch.format or None}
    if batch.status == BatchStatus.REFUSED:
        return JsonResponse({"error": f"The file was refused: {batch.refused}", **summary}, status=422)
    if batch.status == BatchStatus.STAGING:
        return JsonResponse(summary, status=202)
    actions = dict(batch.rows.values_list("action").annotate(n=Count("pk")).order_by("action"))
    return JsonResponse({**summary, "rows": batch.rows_done, "actions": actions}, status=201)
