"""JSON endpoints. Thin: authentication and scope here, the work in lab_import."""

from __future__ import annotations

import json
from decimal import Decimal

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .auth import Unauthenticated, authenticate, csrf_failure, writable_participants
from .lab_import import import_labs


def error(status: int, message: str, **extra: object) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def is_json(request: HttpRequest) -> bool:
    """application/json, with no charset or utf-8 (RFC 8259: JSON exchanged between systems is UTF-8)."""
    if request.content_type != "application/json":
        return False
    charset = (request.content_params or {}).get("charset")
    return charset is None or charset.strip().lower() == "utf-8"


@csrf_exempt  # a token needs no CSRF token; a session is checked in the view
@require_POST
def labs(request: HttpRequest) -> JsonResponse:
    """POST /api/labs/ {"rows": [{"screening_number", "test", "value", "unit", "collected", ...}]}

    The body must be sent as `Content-Type: application/json` (charset, if given, utf-8), else 415.
    Rows may carry `"confirmed_low": true` (not stored): a count below its implausibility floor
    (vocabulary.IMPLAUSIBLE_BELOW, compared in the canonical unit) is refused with an error on
    `rows/N/value` unless the row says it was checked, as the web form's "checked" box does."""
    try:
        caller = authenticate(request)
    except Unauthenticated as exc:
        response = error(401, str(exc))
        response["WWW-Authenticate"] = "Bearer"
        return response
    if not caller.via_token and csrf_failure(request):
        return error(403, "CSRF check failed.")
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
    result = import_labs(caller.user, scope, payload.get("rows"))
    if result.errors:
        status = 404 if result.not_found else 400
        return error(status, "Nothing was saved.", errors=result.errors)
    return JsonResponse({"saved": result.saved, "participants": result.participants}, status=201)
