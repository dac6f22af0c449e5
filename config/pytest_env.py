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
