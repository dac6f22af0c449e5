"""`Idempotency-Key` on API writes: one answer per caller, endpoint and key (api.models.IdempotentRequest).

The key is claimed in the transaction that does the work, so two requests with one key run one
after the other (the second waits on the unique index) and the second gets the first's answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction

from participants.models import User

from .models import IdempotentRequest

MAX_KEY = 255
Answer = tuple[int, dict[str, Any]]
KEY_REUSED = (422, {"error": "This Idempotency-Key was already used with another body."})


def once(user: User, endpoint: str, key: str, body: bytes, work: Callable[[], Answer]) -> Answer:
    """Run `work` once per (user, endpoint, key); a resend with the same body gets the stored answer."""
    digest = hashlib.sha256(body).hexdigest()
    with transaction.atomic():
        try:
            with transaction.atomic():
                claim = IdempotentRequest.objects.create(
                    user=user, endpoint=endpoint, key=key, body_sha256=digest, status=0, response={}
                )
        except IntegrityError:
            claim = None  # claimed first by an earlier (or a concurrent, now committed) request
        if claim is not None:
            status, payload = work()
            claim.status, claim.response = status, payload
            claim.save(update_fields=["status", "response"])
            return status, payload
    earlier = IdempotentRequest.objects.get(user=user, endpoint=endpoint, key=key)
    if earlier.body_sha256 != digest:
        return KEY_REUSED
    return earlier.status, earlier.response
