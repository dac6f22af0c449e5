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


@csrf_exempt  # a token needs no CSRF token; a session is checked in the view
@require_POST
def labs(request: HttpRequest) -> JsonResponse:
    """POST /api/labs/ {"rows": [{"screening_number", "test", "value", "unit", "collected", ...}]}"""
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
    try:
        payload = json.loads(request.body, parse_float=Decimal)
    except RequestDataTooBig:
        return error(413, "Request too large.")
    except (ValueError, UnicodeDecodeError):
        return error(400, "The body must be JSON.")
    if not isinstance(payload, dict):
        return error(400, "The body must be a JSON object with a list of rows.")
    result = import_labs(caller.user, scope, payload.get("rows"))
    if result.errors:
        status = 404 if result.not_found else 400
        return error(status, "Nothing was saved.", errors=result.errors)
    return JsonResponse({"saved": result.saved, "participants": result.participants}, status=201)
