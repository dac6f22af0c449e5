"""The password hasher: Argon2id at the parameters OWASP's Password Storage Cheat Sheet gives as
its first recommendation (19 MiB of memory, 2 passes, 1 lane).

Memory-hard, so a guessing rig gains far less from GPUs than against PBKDF2; at these parameters
one check costs about 40 ms of one core here, where Django's PBKDF2 default (1,000,000 rounds of
SHA-256) costs 260-630 ms. A login and every electronic signature check a password, so that cost
is in each of them (docs/security.md § Passwords).
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idPasswordHasher(Argon2PasswordHasher):
    """Django's Argon2 hasher (argon2id, the same "argon2" prefix) at OWASP's parameters.

    A stored hash with other parameters (Django's own Argon2 default) still verifies and is
    rewritten with these at its next successful check, as is a PBKDF2 hash (Django's upgrade on
    login, `must_update`)."""

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
