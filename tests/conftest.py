from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from participants.models import Membership, Role, Site, User

from .factories import MembershipFactory, ParticipantFactory, SiteFactory, UserFactory

REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO_ROOT / "artifacts"
PASSWORD = "correct-horse-battery-9"


@pytest.fixture
def site_a() -> Site:
    return SiteFactory(code="A01", name="Site A")


@pytest.fixture
def site_b() -> Site:
    return SiteFactory(code="B02", name="Site B")


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(role: Role, site: Site | None = None, username: str | None = None) -> User:
        user = UserFactory(username=username) if username else UserFactory()
        user.set_password(PASSWORD)
        user.save()
        MembershipFactory(user=user, role=role, site=site)
        return user

    return make


@pytest.fixture
def coordinator_a(make_user: Callable[..., User], site_a: Site) -> User:
    return make_user(Role.COORDINATOR, site_a, "coord.a")


@pytest.fixture
def coordinator_b(make_user: Callable[..., User], site_b: Site) -> User:
    return make_user(Role.COORDINATOR, site_b, "coord.b")


@pytest.fixture
def participant_a(site_a: Site, coordinator_a: User):  # type: ignore[no-untyped-def]
    return ParticipantFactory(site=site_a, created_by=coordinator_a)


@pytest.fixture
def participant_b(site_b: Site, coordinator_b: User):  # type: ignore[no-untyped-def]
    return ParticipantFactory(site=site_b, created_by=coordinator_b)


__all__ = ["Membership", "ARTIFACTS", "PASSWORD"]


@pytest.fixture(autouse=True)
def _fresh_login_throttle(request: pytest.FixtureRequest) -> None:
    """The per-address login throttle counts in Redis, which outlives a test's transaction: each
    database test starts with no failures counted (tests all come from the same address)."""
    if "db" not in request.fixturenames and not request.node.get_closest_marker("django_db"):
        return
    import redis
    from django.conf import settings

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
        keys = list(client.scan_iter(match="*login-failures:*"))
        if keys:
            client.delete(*keys)
    except redis.RedisError:
        pass
