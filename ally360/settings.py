"""Ally360 settings, read from the environment.

With no environment at all the project runs on the embedded default: SQLite, local-memory cache,
Celery tasks executed inline, files on local disk and e-mail printed to the console. Production
(`compose.yaml`) configures PostgreSQL, Redis, MinIO and SMTP through the variables listed in
`.env.example`; the names of the original project (`POSTGRES_*`, `REDIS_HOST`, `APP_SECRET_STRING`,
`ALGORITHM`, `MINIO_*`, `EMAIL_*`, `FRONTEND_URL`) are honoured, as are `DATABASE_URL`/`REDIS_URL`.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import dj_database_url
from botocore.config import Config as BotoConfig
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_SECRET = "insecure-ally360-development-secret-change-me"


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value in (None, "") else value


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = env(name)
    return default if value is None else int(value)


def database_url_from_env() -> str | None:
    """`DATABASE_URL`, else the original project's `POSTGRES_*` variables, else None."""
    if env("DATABASE_URL"):
        return env("DATABASE_URL")
    if env("POSTGRES_HOST") or env("POSTGRES_DB"):
        user = env("POSTGRES_USER", "ally360")
        password = env("POSTGRES_PASSWORD", "")
        host = env("POSTGRES_HOST", "127.0.0.1")
        port = env("POSTGRES_PORT", "5432")
        name = env("POSTGRES_DB", "ally360")
        # Quoted: a generated password may hold @ : / # and would otherwise break the URL.
        return f"postgres://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}/{name}"

    return None


def redis_url_from_env() -> str | None:
    if env("REDIS_URL"):
        return env("REDIS_URL")
    if env("REDIS_HOST"):
        return f"redis://{env('REDIS_HOST')}:{env('REDIS_PORT', '6379')}/{env('REDIS_DB', '0')}"
    return None


DATABASE_URL = database_url_from_env()
REDIS_URL = redis_url_from_env()
EMBEDDED = DATABASE_URL is None

# The embedded default is a developer's machine; anything configured defaults to production.
DEBUG = env_bool("DEBUG", default=EMBEDDED)
SECRET_KEY = env("APP_SECRET_STRING") or env("SECRET_KEY") or DEFAULT_SECRET
# Whoever knows the key forges tokens and signed links: with DEBUG off, a key anyone can read
# (the default, `.env.example`'s placeholder) or guess (a short one) is refused at start-up.
MIN_SECRET_LENGTH = 32
if not DEBUG and SECRET_KEY == DEFAULT_SECRET:
    raise ImproperlyConfigured(
        "APP_SECRET_STRING is not set. With DEBUG off Ally360 refuses to start on the default "
        "secret: set APP_SECRET_STRING to a long random value (or DEBUG=1 for local work)."
    )
if not DEBUG and (
    SECRET_KEY.lower().startswith("change-me") or len(SECRET_KEY) < MIN_SECRET_LENGTH
):
    raise ImproperlyConfigured(
        f"APP_SECRET_STRING is a placeholder or shorter than {MIN_SECRET_LENGTH} characters. "
        "Set it to a long random value, e.g. the output of "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'."
    )

ALLOWED_HOSTS = (env("ALLOWED_HOSTS") or ("*" if DEBUG else "localhost,127.0.0.1")).split(",")
CSRF_TRUSTED_ORIGINS = [o for o in (env("CSRF_TRUSTED_ORIGINS") or "").split(",") if o]
CSRF_FAILURE_VIEW = "ally360.pages.csrf_failure"  # the expired form's page, in Spanish

FRONTEND_URL = env("FRONTEND_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "ally360.apps.Ally360AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "ally360.apps.CoreConfig",
    "accounts",
    "files",
    "pos",
    "products",
    "contacts",
    "inventory",
    "invoices",
    "bills",
    "reports",
]


MIDDLEWARE = [
    "django.middleware.gzip.GZipMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (Swagger UI's assets, the admin's CSS) straight from the app server, also with
    # DEBUG off; compressed and cached. Production has no separate static server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Sessions, CSRF, Django's authentication and messages: the pages' and the back-office's;
    # the API (token authentication in DRF) skips them (ally360.middleware.PagesOnly).
    "ally360.middleware.PagesSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "ally360.middleware.PagesCsrfViewMiddleware",
    "ally360.middleware.PagesAuthenticationMiddleware",
    "ally360.middleware.PagesMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "ally360.middleware.TenantContextMiddleware",
    "ally360.middleware.CommitFailureMiddleware",
]
if env_bool("QUERY_COUNT_HEADER", False):  # set by bench/run.py; off in production
    MIDDLEWARE.insert(0, "ally360.middleware.QueryCountHeaderMiddleware")


ROOT_URLCONF = "ally360.urls"
WSGI_APPLICATION = "ally360.wsgi.application"
ASGI_APPLICATION = "ally360.asgi.application"

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
                "django.template.context_processors.i18n",
                # The pages' company and role menu (ally360/pages.py); reads no database.
                "ally360.pages.layout",
            ],
        },
    },
]


def database_config(url: str | None) -> dict:
    if url is None:
        name = env("SQLITE_PATH", str(BASE_DIR / "var" / "ally360.sqlite3"))
        if name != ":memory:" and not name.startswith("file:"):
            # SQLite creates the file, not its folder: `var/` is not in a fresh clone.
            Path(name).parent.mkdir(parents=True, exist_ok=True)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name,
            "ATOMIC_REQUESTS": True,
            "OPTIONS": {"timeout": 20},
        }
    config = dj_database_url.parse(url, conn_max_age=env_int("CONN_MAX_AGE", 60))
    # Every request runs in one transaction: the tenant's row-level-security setting is
    # transaction-local, and a failed request leaves nothing behind.
    config["ATOMIC_REQUESTS"] = True
    if config["ENGINE"] == "django.db.backends.postgresql":
        config["ENGINE"] = "ally360.postgresql"  # Django's, with a cheaper health check
    config["CONN_HEALTH_CHECKS"] = True
    # PgBouncer in transaction mode cannot hold server-side cursors across transactions.
    config["DISABLE_SERVER_SIDE_CURSORS"] = True
    options = config.setdefault("OPTIONS", {})
    options["connect_timeout"] = env_int("DATABASE_CONNECT_TIMEOUT", 5)
    if env_bool("DATABASE_PREPARED_STATEMENTS", True):
        # Parameters bound by the server, and a statement run 5 times on a connection is
        # prepared: PostgreSQL stops parsing and planning the same ORM statements (with their
        # row-level-security predicate) on every request. Off for a pooler that cannot keep
        # prepared statements (PgBouncer before 1.21 in transaction mode).
        options["server_side_binding"] = True
        options["prepare_threshold"] = env_int("DATABASE_PREPARE_THRESHOLD", 5)
        # A generic plan cannot see which company a statement is for: plan every execution
        # with its parameters, except in write requests (ally360/db.py).

        options["options"] = "-c plan_cache_mode=force_custom_plan"

    return config


DATABASES = {"default": database_config(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"


def cache_config(url: str | None) -> dict:
    if url is None:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": "ally360",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            # A dead Redis must cost milliseconds, never hang a worker.
            "SOCKET_CONNECT_TIMEOUT": float(env("REDIS_CONNECT_TIMEOUT", "0.5")),
            "SOCKET_TIMEOUT": float(env("REDIS_SOCKET_TIMEOUT", "0.5")),
            # Redis is only a cache here: an outage degrades to database lookups.
            "IGNORE_EXCEPTIONS": True,
        },
    }


CACHES = {"default": cache_config(REDIS_URL)}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
DJANGO_REDIS_LOGGER = "ally360.cache"
# Catalog list pages (`products/`, `variants/`) are cached until a catalog write commits
# (`inventory.catalog_cache`); off without Redis, where processes would not share it.
CATALOG_CACHE_SECONDS = env_int("CATALOG_CACHE_SECONDS", 60) if REDIS_URL else 0

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60  # the reset link is valid one hour
EMAIL_VERIFICATION_MAX_AGE = 24 * 60 * 60
INVITATION_TTL_DAYS = 7

LANGUAGE_CODE = "es-co"
LANGUAGES = [("es-co", "Español (Colombia)"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "America/Bogota"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve from the apps' static folders too, so a server started without `collectstatic` (make
# run, bench, a plain gunicorn) still serves them; the Docker image collects them at build time.
WHITENOISE_USE_FINDERS = True

MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))

# Files: MinIO/S3 when configured (MINIO_HOST or AWS_S3_ENDPOINT_URL), else local disk with
# Django-signed URLs. Either way the API hands out upload and download URLs; file bytes never
# pass through the API. See README "Files".
FILE_STORAGE = env("FILE_STORAGE") or (
    "s3" if env("MINIO_HOST") or env("AWS_S3_ENDPOINT_URL") else "local"
)
FILE_BUCKET = env("MINIO_BUCKET", "ally360")
FILE_KEY_PREFIX = "ally360"
FILE_UPLOAD_EXPIRY = 15 * 60
FILE_DOWNLOAD_EXPIRY = 60 * 60
_minio_port = env("MINIO_PORT", "9000")
_minio_scheme = "https" if env_bool("MINIO_SECURE") else "http"
S3_ENDPOINT_URL = env("AWS_S3_ENDPOINT_URL") or (
    f"{_minio_scheme}://{env('MINIO_HOST', 'localhost')}:{_minio_port}"
)
# URLs given to clients are signed for the public host: SigV4 covers the host header.
S3_PUBLIC_ENDPOINT_URL = env("S3_PUBLIC_ENDPOINT_URL") or (
    f"{'https' if env_bool('MINIO_PUBLIC_SECURE', env_bool('MINIO_SECURE')) else 'http'}://"
    f"{env('MINIO_PUBLIC_HOST', 'localhost')}:{env('MINIO_PUBLIC_PORT', _minio_port)}"
)
S3_ACCESS_KEY = env("MINIO_ACCESS_KEY") or env("AWS_ACCESS_KEY_ID") or "minioadmin"
S3_SECRET_KEY = env("MINIO_SECRET_KEY") or env("AWS_SECRET_ACCESS_KEY") or "minioadmin"
S3_REGION = env("MINIO_REGION", "us-east-1")


def storages_config(kind: str, media_root: Path = MEDIA_ROOT) -> dict:
    static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    if kind == "s3":
        return {
            "default": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {
                    "bucket_name": FILE_BUCKET,
                    "access_key": S3_ACCESS_KEY,
                    "secret_key": S3_SECRET_KEY,
                    "endpoint_url": S3_ENDPOINT_URL,
                    "region_name": S3_REGION,
                    "signature_version": "s3v4",
                    "addressing_style": "path",
                    "file_overwrite": True,
                    "default_acl": None,
                    # A dead object store must fail in seconds, not hang a worker.
                    "client_config": BotoConfig(
                        connect_timeout=2,
                        read_timeout=10,
                        retries={"max_attempts": 2, "mode": "standard"},
                        s3={"addressing_style": "path"},
                        signature_version="s3v4",
                    ),
                },
            },
            "staticfiles": static,
        }
    return {
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(media_root)},
        },
        "staticfiles": static,
    }


STORAGES = storages_config(FILE_STORAGE)


REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.TenantJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "ally360.api.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "ally360.api.filters.TenantFilterBackend",
        "rest_framework.filters.SearchFilter",
        "ally360.api.filters.TotalOrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "ally360.api.schema.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["ally360.api.throttling.TenantRateThrottle"],
    "EXCEPTION_HANDLER": "ally360.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["ally360.api.renderers.ORJSONRenderer"],
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "ALGORITHM": env("ALGORITHM", "HS256"),
    "SIGNING_KEY": SECRET_KEY,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}
CONTEXT_TOKEN_LIFETIME = timedelta(minutes=env_int("CONTEXT_TOKEN_MINUTES", 15))

SPECTACULAR_SETTINGS = {
    "TITLE": "Ally360 API",
    "DESCRIPTION": (
        "Multi-tenant ERP for small Colombian businesses. Authenticate with `auth/login`, pick a "
        "company with `auth/select-company` and send the context token as `Authorization: Bearer`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "GET_LIB_DOC_EXCLUDES": "ally360.api.schema.lib_doc_excludes",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "TaxKindEnum": "products.models.Tax.Kind",
        "PriceListKindEnum": "products.models.PriceList.Kind",
        "InvoiceKindEnum": "invoices.models.Invoice.Kind",
        # Invoices and bills share draft/open/paid/void; payments share active/void.
        "DocumentStatusEnum": "invoices.models.Invoice.Status",
        "ActiveOrVoidEnum": "invoices.models.Payment.Status",
        "PaymentMethodEnum": "invoices.models.PaymentMethod",
        "CashMovementKindEnum": "pos.models.CashMovement.Kind",
        "StockMovementKindEnum": "inventory.models.StockMovement.Kind",
        "ShiftStatusEnum": "pos.models.Shift.Status",
        "InvitationStatusEnum": "accounts.models.Invitation.Status",
        "WithholdingKindEnum": "bills.models.WithholdingConcept.Kind",
    },
}

# UVT (Unidad de Valor Tributario) per year, in pesos: yearly configuration, not code. The POS
# rule "an identified customer above 5 UVT before tax" reads it. Override with
# UVT_VALUES="2026:52374,2027:...". Check each December against the DIAN resolution.
UVT_VALUES = {2024: 47065, 2025: 49799, 2026: 52374}
if env("UVT_VALUES"):
    UVT_VALUES = {
        int(year): int(value)
        for year, value in (item.split(":") for item in env("UVT_VALUES").split(","))
    }
POS_MAX_UVT = 5

# Rate limits (django-ratelimit over the default cache). See README "Rate limits".

RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", True)
RATELIMIT_USE_CACHE = "default"
# With Redis down the counters cannot be kept: requests are let through (and logged) rather than
# refusing every request of every company. See README "Rate limits".
RATELIMIT_FAIL_OPEN = True
RATELIMIT_IP_META_KEY = env("RATELIMIT_IP_META_KEY") or None
# With X-Forwarded-For: how many proxies of ours append to it (the client's address is the
# entry the outermost one wrote, counted from the right).
RATELIMIT_TRUSTED_PROXIES = max(1, env_int("RATELIMIT_TRUSTED_PROXIES", 1))
API_RATE_LIMIT = env("API_RATE_LIMIT", "600/m")
if EMBEDDED or REDIS_URL is None:
    # A single-process development server keeps its counters in local memory.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# Celery: a Redis broker in production; inline execution in the embedded default.
CELERY_BROKER_URL = env("CELERY_BROKER_URL") or REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=REDIS_URL is None)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing happens after a commit (ally360.outbox): fail fast and leave the task in the outbox
# rather than holding a request while the broker is away.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}

CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "expire-invitations": {
        "task": "accounts.tasks.expire_invitations",
        "schedule": 60 * 60,
    },
    "purge-expired-tokens": {
        "task": "accounts.tasks.purge_expired_tokens",
        "schedule": 24 * 60 * 60,
    },
    "resend-pending-emails": {
        "task": "accounts.tasks.resend_pending_emails",
        "schedule": 60,
    },
    "purge-stale-uploads": {
        "task": "files.tasks.purge_stale_uploads",
        "schedule": 60 * 60,
    },
    "purge-superseded-pdfs": {
        "task": "invoices.tasks.purge_superseded_pdfs",
        "schedule": 60 * 60,
    },
    "publish-pending-tasks": {
        "task": "ally360.tasks.publish_pending_tasks",
        "schedule": 30,
    },
    "purge-idempotency-records": {
        "task": "ally360.tasks.purge_idempotency_records",
        "schedule": 60 * 60,
    },
}

# E-mail: console in the embedded default, SMTP when EMAIL_HOST (or the seed's
# EMAIL_SMTP_SERVER) is set.
EMAIL_HOST = env("EMAIL_HOST") or env("EMAIL_SMTP_SERVER")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env("EMAIL_USERNAME") or env("EMAIL_HOST_USER") or ""
    EMAIL_HOST_PASSWORD = env("EMAIL_PASSWORD") or env("EMAIL_HOST_PASSWORD") or ""
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
else:
    EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("EMAIL_FROM", "Ally360 <no-reply@ally360.co>")

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = (
        ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("TRUST_X_FORWARDED_PROTO", False) else None
    )
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
