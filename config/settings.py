"""One settings module, driven by environment variables (django-environ).

Defaults are the safe production ones: DEBUG off, secure cookies, a secret key required.
`make run` and the tests set the variables they need (see README.md, "Configuration").
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "development-only-key-never-used-in-production"

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "django_filters",
    "axes",
    "csp",
    "pgtrigger",
    "pghistory",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "participants",
    "screening",
    "adjudication",
    "api",
    "labimport",
    "audit",
    "exports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Cache-Control: no-store on every page and download (participant data never in a cache).
    "participants.sessions.NoStoreMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "participants.middleware.CurrentMembershipMiddleware",
    # History context (user, URL, role) for every write made while serving the request.
    "audit.middleware.AuditContextMiddleware",
    # Absolute session lifetime on top of the idle timeout.
    "participants.sessions.SessionLifetimeMiddleware",
    # Per-address throttle of login attempts (the username lockout is axes's).
    "audit.login_throttle.AddressThrottleMiddleware",
    # Axes last: it inspects the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "participants.context_processors.membership",
                "config.context_processors.session_timing",
            ],
        },
    },
    {
        # The hot parts of busy pages (config/jinja2.py), rendered with `using="jinja2"`.
        "NAME": "jinja2",
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "config.jinja2.environment", "autoescape": True},
    },
]

# The proxies in front of the application whose X-Forwarded-* headers are trusted: 0 (the default)
# trusts none; docker-compose.yml's stack has exactly one (Caddy). See participants/client.py.
TRUSTED_PROXIES = env.int("DJANGO_TRUSTED_PROXIES", default=0)

# PostgreSQL only: the audit trail and constraints rely on it.
DATABASES = {"default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/allo329")}
# A Unix-socket directory arrives URL-encoded in the host part (postgres://user@%2Fpath%2Fto%2Fdir/db).
DATABASES["default"]["HOST"] = unquote(DATABASES["default"].get("HOST", ""))
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# PostgreSQL's JIT compiles a plan it estimates costly (an export's statement over every
# participant) for seconds before the first row; the application's statements are short or
# streamed, so JIT only delays them.
_options = DATABASES["default"].setdefault("OPTIONS", {})
_options["options"] = (_options.get("options", "") + " -c jit=off").strip()
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must point to PostgreSQL.")

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
# Seconds any Redis call (cache, broker) may wait: a save never waits longer on a frozen broker.
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=0.4)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="allo329"),
        # A frozen or unreachable Redis fails a request within seconds instead of holding it.
        "OPTIONS": {"socket_timeout": REDIS_SOCKET_TIMEOUT, "socket_connect_timeout": REDIS_SOCKET_TIMEOUT},
    }
}

AUTH_USER_MODEL = "participants.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Argon2id at OWASP's parameters (config/hashers.py); the hashers after it verify passwords stored
# before (Django's defaults), which are rewritten with the first at their next login. Tests set a
# fast hasher through the environment.
DEPLOYED_PASSWORD_HASHERS = [
    "config.hashers.Argon2idPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
PASSWORD_HASHERS = env.list("DJANGO_PASSWORD_HASHERS", default=DEPLOYED_PASSWORD_HASHERS)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions end after a period of inactivity: every request renews the cookie.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_TIMEOUT_SECONDS", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# However active, a session ends this long after sign-in (participants/sessions.py).
SESSION_ABSOLUTE_LIFETIME_SECONDS = env.int("SESSION_ABSOLUTE_LIFETIME_SECONDS", default=12 * 3600)
# The page warns this long before the idle timeout and offers to stay signed in (static/js/session.js).
SESSION_WARNING_SECONDS = env.int("SESSION_WARNING_SECONDS", default=120)

SECURE_COOKIES = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
# The container's own health check calls gunicorn over plain HTTP on loopback.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Only behind the trusted proxy: a client's own X-Forwarded-Proto must not make a request "secure".
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXIES else None
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# Failed logins lock the username; a success in between does not wipe the count (a guesser who
# also holds one valid account could otherwise reset it). Addresses have a throttle of their own
# with a higher limit (audit/login_throttle.py): many people may share one hospital address.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_RESET_ON_SUCCESS = False
AXES_CLIENT_IP_CALLABLE = "participants.client.client_address"
# axes.W006 asks for address lockout in axes; addresses are throttled by audit/login_throttle.py
# instead, with a limit of their own (docs/security.md).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=30)
# Wrong signing passwords in this window that are reported to the administrators (21 CFR 11.300(d)).
SIGNING_FAILURE_REPORT_LIMIT = env.int("SIGNING_FAILURE_REPORT_LIMIT", default=3)
# The second factor of a signature (django-otp TOTP): the issuer shown in the signer's app.
OTP_TOTP_ISSUER = "ALLO-329"

# Content-Security-Policy (django-csp): scripts and styles from this site only, no inline code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
AXES_VERBOSE = False
# Axes's access log is an ordinary, editable table: sign-ins are recorded as security events instead.
AXES_DISABLE_ACCESS_LOG = True

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve files straight from the finders when collectstatic has not been run (development, tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="allo329-screening@localhost")

# Celery: tasks are acknowledged after they ran, so a worker lost mid-task leaves them queued.
# Lab files too large to stage during the request wait here for a worker (web and worker share it).
LAB_IMPORT_DIR = Path(env.str("LAB_IMPORT_DIR", default=str(BASE_DIR / ".var" / "lab-import")))
# Large exports (XLSX of the screening log and the audit trail) are written here by a worker and
# downloaded from here: web and worker share the directory (docker-compose: the exports volume).
EXPORT_DIR = Path(env.str("EXPORT_DIR", default=str(BASE_DIR / ".var" / "exports")))
# An export job's file is removed this many days after it was written (the job stays, as the
# record of the export); a job no worker has finished within EXPORT_JOB_STALE_HOURS is failed.
EXPORT_FILE_DAYS = env.int("EXPORT_FILE_DAYS", default=7)
EXPORT_JOB_STALE_HOURS = env.int("EXPORT_JOB_STALE_HOURS", default=6)
# Files up to this size are staged during the upload's request; larger ones by a worker.
LAB_IMPORT_INLINE_BYTES = env.int("LAB_IMPORT_INLINE_BYTES", default=1_000_000)
# POST /api/labs/: batches of more rows than this are answered 202 and imported by a worker.
LAB_API_SYNC_MAX_ROWS = env.int("LAB_API_SYNC_MAX_ROWS", default=1000)
# Requests per API token (django-ratelimit's "N/s|m|h|d"), counted in Redis; beyond it 429.
LAB_API_RATE = env.str("LAB_API_RATE", default="120/m")
# A count the cache cannot give does not refuse an import (api/throttle.py logs it).
RATELIMIT_FAIL_OPEN = True

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="allo329")
# An unacknowledged task goes back to the queue after this long (a worker lost without a trace).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    # How often a worker looks for such messages (kombu's defaults: every 10 x 10 s).
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
    # A frozen Redis (accepting connections, answering nothing) must not hold a save: without a
    # socket timeout kombu's publish blocks for as long as Redis stays frozen.
    "socket_timeout": REDIS_SOCKET_TIMEOUT,
    "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
}
CELERY_REDIS_SOCKET_TIMEOUT = REDIS_SOCKET_TIMEOUT
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_SOCKET_TIMEOUT
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A save must not hang on a dead broker: fail fast, the database mark stays for the sweep.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# Re-evaluation (docs/reevaluation.md).
# A participant's task runs at most once per this many seconds; changes in between are coalesced.
REEVALUATION_DEBOUNCE_SECONDS = env.float("REEVALUATION_DEBOUNCE_SECONDS", default=2.0)
# How long "a task is queued for this participant" is believed without the task starting.
REEVALUATION_QUEUED_TTL_SECONDS = env.int("REEVALUATION_QUEUED_TTL_SECONDS", default=120)
# The sweep picks up marks older than this (broker down, worker lost) and expired results.
REEVALUATION_STALE_SECONDS = env.int("REEVALUATION_STALE_SECONDS", default=300)
REEVALUATION_SWEEP_INTERVAL_SECONDS = env.float("REEVALUATION_SWEEP_INTERVAL_SECONDS", default=60.0)
REEVALUATION_SWEEP_BATCH_SIZE = env.int("REEVALUATION_SWEEP_BATCH_SIZE", default=200)
# Participants a sweep batch evaluates per transaction (screening.evaluation.evaluate_marked): a
# fixed number of queries per chunk, row locks held only for the chunk.
REEVALUATION_CHUNK_SIZE = env.int("REEVALUATION_CHUNK_SIZE", default=100)

CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "reevaluation-sweep": {
        "task": "screening.tasks.sweep_reevaluations",
        "schedule": REEVALUATION_SWEEP_INTERVAL_SECONDS,
        # A sweep not started before the next one is due is dropped, never stacked.
        "options": {"expires": REEVALUATION_SWEEP_INTERVAL_SECONDS},
    },
    "export-retention": {
        "task": "exports.tasks.remove_expired_exports",
        "schedule": 3600,
        "options": {"expires": 3600},
    },
}

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # WeasyPrint logs each step of every PDF at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

HEALTHZ_WORKER_TIMEOUT = env.float("HEALTHZ_WORKER_TIMEOUT", default=1.0)
# The worker check is cached this long: /healthz stays cheap however often it is polled.
HEALTHZ_WORKER_CACHE_SECONDS = env.int("HEALTHZ_WORKER_CACHE_SECONDS", default=30)
# /healthz answers loopback callers without a proxy in between, and anyone sending this token
# (header X-Healthz-Token); everyone else gets 404.
HEALTHZ_TOKEN = env.str("HEALTHZ_TOKEN", default="")

# Eligibility Adjudication Committee: distinct reviewers who must agree for a decision.
EAC_QUORUM = env.int("EAC_QUORUM", default=2)
# A claim held this long without a signature may be taken over by another reviewer.
EAC_CLAIM_HOURS = env.int("EAC_CLAIM_HOURS", default=48)
