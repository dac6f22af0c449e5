"""pytest plugin (loaded with -p in pyproject.toml): test-only defaults, set before Django loads.

DATABASE_URL and REDIS_URL are not defaulted here: `make test` provides them (embedded servers
when unset), so tests always meet a real PostgreSQL and Redis.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-any-deployment")
os.environ.setdefault("DJANGO_SECURE_COOKIES", "false")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
# Hashing a password with PBKDF2 costs ~0.3 s; tests create hundreds of users.
os.environ.setdefault("DJANGO_PASSWORD_HASHERS", "django.contrib.auth.hashers.MD5PasswordHasher")

# Under pytest-xdist (`make test` runs two processes) each process gets its own test database
# (pytest-django adds the worker's suffix) and its own Redis database, so that one process's
# queue purges, throttle counters and de-duplication keys never touch the other's.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker.startswith("gw") and _worker[2:].isdigit() and os.environ.get("REDIS_URL"):
    from urllib.parse import urlsplit, urlunsplit

    _parts = urlsplit(os.environ["REDIS_URL"])
    _base = int(_parts.path.strip("/") or 0)
    os.environ["REDIS_URL"] = urlunsplit(_parts._replace(path=f"/{(_base + int(_worker[2:])) % 16}"))
