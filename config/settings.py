"""The one settings module.

Everything is driven by the environment (django-environ). With nothing set, this is the
*embedded default*: SQLite under ``var/``, local-memory cache, in-memory channel layer and
background jobs run in-process. Production is switched on by ``XUEXI_ENV=production``
and then requires ``SECRET_KEY``, ``ALLOWED_HOSTS`` and ``DATABASE_URL``; ``REDIS_URL``
moves cache, channel layer, rate-limit counters and Celery onto Redis.
See docs/configuration.md for every variable.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("XUEXI_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
XUEXI_ENV = env.str("XUEXI_ENV", default="embedded")
PRODUCTION = XUEXI_ENV == "production"
DEBUG = env.bool("DEBUG", default=False)


def _embedded_secret_key() -> str:
    """Generate the embedded default's key on first run; never ship one in the repository."""
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


if PRODUCTION:
    for required in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"):
        if not env.str(required, default=""):
            raise ImproperlyConfigured(f"{required} must be set when XUEXI_ENV=production")
    SECRET_KEY = env.str("SECRET_KEY")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="") or _embedded_secret_key()

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "treebeard",
    "axes",
    "captcha",
    "django_htmx",
    "django_celery_beat",
    "channels",
    "ninja",
    "xuexi.core",
    "xuexi.accounts",
    "xuexi.organizations",
    "xuexi.notifications",
    "xuexi.points",
    "xuexi.content",
    "xuexi.quizzes",
    "xuexi.reports",
    "xuexi.api",
    "xuexi.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "xuexi.accounts.middleware.SessionExpiryMiddleware",
    "xuexi.points.middleware.DailyLoginPointsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "xuexi.web.middleware.DomainErrorPageMiddleware",
    "xuexi.api.middleware.ApiErrorShapeMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = env.str("ROOT_URLCONF", default="config.urls")  # bench/urls.py: make bench
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "xuexi.web.context_processors.shell",
                "xuexi.organizations.context_processors.console",
                "xuexi.points.context_processors.member_points",
                "xuexi.content.context_processors.console_menu",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'xuexi.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})
    # Django's native psycopg pool; CONN_MAX_AGE must stay 0 with it.
    DATABASES["default"]["OPTIONS"].setdefault("pool", env.bool("DATABASE_POOL", default=False))
    DATABASES["default"]["CONN_MAX_AGE"] = (
        0 if DATABASES["default"]["OPTIONS"]["pool"] else env.int("CONN_MAX_AGE", default=60)
    )
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    # WAL lets the one ASGI process read while a write transaction is open.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault(
        "init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, channel layer, background jobs ------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "xuexi.core.cache.RedisCache",  # one client per pool (core/cache.py)
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="xuexi"),
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py's default socket timeout kills idle consumers; keep it unset.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": None}]},
        }
    }
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
    CELERY_TASK_ALWAYS_EAGER = False
    # Sessions are read from Redis and written through to the database (which keeps them
    # across a cache flush): no session query on a signed-in member's page.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CELERY_BROKER_URL = "memory://"
    # The embedded default has no worker: jobs run in-process, at once.
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "purge-expired-credentials": {
        "task": "xuexi.accounts.tasks.purge_expired_credentials",
        "schedule": timedelta(hours=1),
    },
    "purge-roster-uploads": {
        "task": "xuexi.organizations.tasks.purge_roster_uploads",
        "schedule": timedelta(hours=6),
    },
    # Rebuild the current ranking periods from the ledger (Redis only), in CELERY_TIMEZONE.
    "rankings-nightly": {
        "task": "xuexi.points.tasks.rankings_nightly",
        "schedule": crontab(hour=0, minute=10),
        "options": {"expires": 6 * 3600},
    },
    # Reports: today's live figures, then the close that makes yesterday final (docs/reports.md).
    "reports-refresh-today": {
        "task": "xuexi.reports.tasks.reports_refresh_today",
        "schedule": timedelta(minutes=5),
        "options": {"expires": 4 * 60},
    },
    "reports-close-nightly": {
        "task": "xuexi.reports.tasks.reports_close_nightly",
        "schedule": crontab(hour=0, minute=20),
        "options": {"expires": 6 * 3600},
    },
}

# --- Auth -----------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "xuexi.accounts.backends.PhonePasswordBackend",
    "xuexi.accounts.backends.SmsCodeBackend",
]
PASSWORD_HASHERS = env.list(
    "PASSWORD_HASHERS",
    default=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    ],
)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "xuexi.accounts.passwords.MemberPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("phone",)},
    },
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Lockout (SECURITY S4): 5 failures lock the account whatever the client IP.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = "xuexi.accounts.lockout.cooloff_for"
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_FORM_FIELD = "phone"
AXES_USERNAME_CALLABLE = "xuexi.accounts.lockout.username_from"
AXES_RESET_ON_SUCCESS = True
# The lock runs from the fifth failure; tries while locked neither count nor extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_DISABLE_ACCESS_LOG = True  # the login log is ours: accounts.LoginEvent
AXES_LOCKOUT_CALLABLE = "xuexi.accounts.lockout.locked_out_response"
AXES_CLIENT_IP_CALLABLE = "xuexi.core.clientip.client_ip_from_request"
AXES_VERBOSE = False
# Lockout is per account on purpose (S4: "whatever the client IP"); per-IP abuse is held by the
# SMS and request rate limits instead.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# Sessions (SECURITY S5): members 30 min idle, administrators 15 min idle / 12 h absolute.
# Renewed by activity at most once a minute (accounts.middleware.SessionExpiryMiddleware), not
# saved on every request.
SESSION_COOKIE_AGE = 30 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
XUEXI_ADMIN_SESSION_IDLE = 15 * 60
XUEXI_ADMIN_SESSION_ABSOLUTE = 12 * 60 * 60
XUEXI_ACCESS_TOKEN_TTL = env.int("XUEXI_ACCESS_TOKEN_TTL", default=60 * 60)
XUEXI_REFRESH_TOKEN_TTL = env.int("XUEXI_REFRESH_TOKEN_TTL", default=30 * 24 * 60 * 60)

# --- SMS (SECURITY S2) --------------------------------------------------------------
XUEXI_SMS_BACKEND = env.str("XUEXI_SMS_BACKEND", default="xuexi.core.sms.FileBackend")
XUEXI_SMS_OUTBOX = env.str("XUEXI_SMS_OUTBOX", default=str(VAR_DIR / "sms-outbox.jsonl"))
XUEXI_SMS_PROVIDER_URL = env.str("XUEXI_SMS_PROVIDER_URL", default="")
XUEXI_SMS_PROVIDER_KEY = env.str("XUEXI_SMS_PROVIDER_KEY", default="")
XUEXI_SMS_SIGN = env.str("XUEXI_SMS_SIGN", default="学习平台")
XUEXI_SMS_CODE_TTL = 300
XUEXI_SMS_MAX_TRIES = 5
XUEXI_SMS_RESEND_AFTER = 60
XUEXI_SMS_PER_PHONE_PER_DAY = 10
XUEXI_SMS_PER_IP_PER_HOUR = env.int("XUEXI_SMS_PER_IP_PER_HOUR", default=20)
XUEXI_SMS_GLOBAL_PER_DAY = env.int("XUEXI_SMS_GLOBAL_PER_DAY", default=200_000)

# Bulk personal-data exports per administrator per day (SECURITY S13).
XUEXI_EXPORTS_PER_DAY = env.int("XUEXI_EXPORTS_PER_DAY", default=20)

# Offline study activities (党课, 主题党日, 讲座): the most points one activity may pay each
# attendee (docs/rankings.md); the offline_activity rule's daily cap still applies on top.
XUEXI_ACTIVITY_MAX_POINTS = env.int("XUEXI_ACTIVITY_MAX_POINTS", default=10)

# Reports (docs/reports.md): how old today's live figures may be before they are recomputed,
# and whether a read computes what is missing or stale itself — on in the embedded default,
# which has no worker or beat; in production the beat jobs (CELERY_BEAT_SCHEDULE) keep them.
XUEXI_REPORTS_LIVE_SECONDS = env.int("XUEXI_REPORTS_LIVE_SECONDS", default=300)
XUEXI_REPORTS_COMPUTE_ON_READ = env.bool(
    "XUEXI_REPORTS_COMPUTE_ON_READ", default=CELERY_TASK_ALWAYS_EAGER
)
# Member rows per list sheet of a report workbook (a bulk personal-data export, S13).
XUEXI_REPORTS_EXPORT_MAX_ROWS = env.int("XUEXI_REPORTS_EXPORT_MAX_ROWS", default=20_000)

# Requests may come through a reverse proxy: how many trusted proxies add X-Forwarded-For.
XUEXI_TRUSTED_PROXY_COUNT = env.int("XUEXI_TRUSTED_PROXY_COUNT", default=0)

# --- I18n -------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media ---------------------------------------------------------------------
STATIC_URL = "/static/"
# Browser libraries installed from npm and copied here by `make install` (ADR 0012).
STATICFILES_DIRS = [("vendor", BASE_DIR / "vendor")]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Files that must never be served as media (roster uploads waiting for confirmation).
PRIVATE_FILES_ROOT = Path(env.str("PRIVATE_FILES_ROOT", default=str(VAR_DIR / "private")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# --- Security headers --------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "script-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

NINJA_PAGINATION_MAX_LIMIT = 100

# The web sign-in's captcha after three failures (SECURITY S4): a small sum, no words to read.
CAPTCHA_CHALLENGE_FUNCT = "captcha.helpers.math_challenge"
CAPTCHA_MATH_CHALLENGE_OPERATOR = "+"
CAPTCHA_TIMEOUT = 5  # minutes
CAPTCHA_FONT_SIZE = 30
CAPTCHA_IMAGE_SIZE = (120, 44)
CAPTCHA_NOISE_FUNCTIONS = ("captcha.helpers.noise_arcs",)  # dots make + read like *
