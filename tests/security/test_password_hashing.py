"""Passwords are stored with Argon2id at OWASP's parameters; a hash stored before (Django's PBKDF2
or its own Argon2 parameters) still signs in and is rewritten with them at that login."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.hashers import (
    Argon2PasswordHasher,
    PBKDF2PasswordHasher,
    check_password,
    identify_hasher,
    make_password,
)
from django.test import Client, override_settings
from django.urls import reverse

from config.hashers import Argon2idPasswordHasher

from ..conftest import PASSWORD

pytestmark = pytest.mark.django_db

deployed = override_settings(PASSWORD_HASHERS=settings.DEPLOYED_PASSWORD_HASHERS)


@deployed
def test_a_new_password_is_stored_as_argon2id_at_owasps_parameters() -> None:
    encoded = make_password("a long enough password")
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert isinstance(identify_hasher(encoded), Argon2idPasswordHasher)
    assert check_password("a long enough password", encoded)
    assert not check_password("another password", encoded)


@pytest.mark.parametrize(
    "earlier",
    [PBKDF2PasswordHasher(), Argon2PasswordHasher()],
    ids=["django-pbkdf2", "django-argon2-defaults"],
)
@deployed
def test_a_password_stored_before_signs_in_and_is_rewritten(coordinator_a, earlier) -> None:  # type: ignore[no-untyped-def]
    coordinator_a.password = earlier.encode(PASSWORD, earlier.salt())
    coordinator_a.save(update_fields=["password"])
    before = coordinator_a.password

    response = Client().post(reverse("login"), {"username": coordinator_a.username, "password": PASSWORD})

    assert response.status_code == 302
    coordinator_a.refresh_from_db()
    assert coordinator_a.password != before
    assert coordinator_a.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert coordinator_a.check_password(PASSWORD)
