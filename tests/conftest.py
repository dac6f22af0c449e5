from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from participants.models import Membership, Role, Site, User
from participants.roles import REVIEWER_ROLES

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
    """A user with one membership. Signers (EAC reviewers, investigators) get a confirmed second
    factor unless `second_factor=False`; `signing_code` gives its current code."""

    def make(
        role: Role, site: Site | None = None, username: str | None = None, *, second_factor: bool = True
    ) -> User:
        user = UserFactory(username=username) if username else UserFactory()
        user.set_password(PASSWORD)
        user.save()
        MembershipFactory(user=user, role=role, site=site)
        if second_factor and role in REVIEWER_ROLES:
            TOTPDevice.objects.get_or_create(user=user, defaults={"name": "Signing", "confirmed": True})
        return user

    return make


def signing_code(user: User) -> str:
    """What the signer's authenticator app shows now. A code is good once: if this step's code was
    used, the next step's (within the device's tolerance of one step), as a signer who waits."""
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.drift += max(0, device.last_t + 1 - totp.t())
    return f"{totp.token():0{device.digits}d}"


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


__all__ = ["Membership", "ARTIFACTS", "PASSWORD", "signing_code"]


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
