from __future__ import annotations

import pytest
from django.test import Client

from .intake_helpers import logged_in


@pytest.fixture
def client_a(coordinator_a) -> Client:  # type: ignore[no-untyped-def]
    """Site A's coordinator, logged in."""
    return logged_in("coord.a")
