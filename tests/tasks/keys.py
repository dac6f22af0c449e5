"""Test helper: forget the de-duplication keys of earlier runs (participant IDs restart with each
test database, so a key left by an earlier run would swallow an enqueue)."""

from __future__ import annotations

from screening.reevaluation import _key, _redis


def clear_reevaluation_keys() -> None:
    client = _redis()
    pattern = _key("*", 0).rsplit(":", 2)[0] + ":*"
    keys = list(client.scan_iter(match=pattern, count=1000))
    if keys:
        client.delete(*keys)
