"""Settings for the test suite.

PostgreSQL and Redis are used when configured (DATABASE_URL/REDIS_URL or the POSTGRES_*/REDIS_HOST
variables) or when they answer on the loopback defaults; otherwise the suite runs on SQLite and a
local-memory cache, and the tests marked `postgres`/`redis` are skipped. With
ALLY360_REQUIRE_SERVICES=1 a missing service is an error instead.
"""

import os

os.environ.setdefault("APP_SECRET_STRING", "test-secret-not-for-production-0123456789abcdef")
os.environ.setdefault("DEBUG", "0")

from django.core.exceptions import ImproperlyConfigured  # noqa: E402

from . import settings as base  # noqa: E402
from .settings import *  # noqa: E402,F403

LOOPBACK_DATABASE_URL = "postgres://ally360:ally360@127.0.0.1:5432/ally360"
LOOPBACK_REDIS_URL = "redis://127.0.0.1:6379/0"
REQUIRE_SERVICES = base.env_bool("ALLY360_REQUIRE_SERVICES", False)


def _postgres_answers(url: str) -> str | None:
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    try:
        psycopg.connect(
            host=config["HOST"],
            port=config["PORT"] or 5432,
            user=config["USER"],
            password=config["PASSWORD"],
            dbname="postgres",
            connect_timeout=3,
        ).close()
        return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__


def _redis_answers(url: str) -> str | None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
        return None
    except redis.RedisError as exc:
        return str(exc)


def _worker_redis_url(url: str) -> str:
    """The tests flush their Redis database, never the one the URL names (the app's data):
    database 10, or ALLY360_TEST_REDIS_DB so two checkouts can test side by side; each
    pytest-xdist worker adds its number."""
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    base_url = url.rpartition("/")[0] if url.count("/") >= 3 else url
    return f"{base_url}/{base.env_int('ALLY360_TEST_REDIS_DB', 10) + worker}"


_pg_url = base.DATABASE_URL or LOOPBACK_DATABASE_URL
_pg_problem = _postgres_answers(_pg_url)
_redis_url = base.REDIS_URL or LOOPBACK_REDIS_URL
_redis_problem = _redis_answers(_redis_url)

if REQUIRE_SERVICES and (_pg_problem or _redis_problem):
    raise ImproperlyConfigured(
        "ALLY360_REQUIRE_SERVICES=1 but a service is missing: "
        f"PostgreSQL at {_pg_url.split('@')[-1]}: {_pg_problem or 'ok'}; "
        f"Redis at {_redis_url}: {_redis_problem or 'ok'}"
    )

TEST_POSTGRES = _pg_problem is None
TEST_REDIS = _redis_problem is None
TEST_DATABASE_URL = _pg_url if TEST_POSTGRES else None
TEST_REDIS_URL = _worker_redis_url(_redis_url) if TEST_REDIS else None
TEST_SERVICES_LINE = (
    f"services: PostgreSQL {'at ' + _pg_url.split('@')[-1] if TEST_POSTGRES else 'NOT available (' + str(_pg_problem) + ') - using SQLite, PostgreSQL-only tests skipped'}; "
    f"Redis {'at ' + TEST_REDIS_URL if TEST_REDIS else 'NOT available (' + str(_redis_problem) + ') - using local memory, Redis-only tests skipped'}"
)

DATABASES = {"default": base.database_config(TEST_DATABASE_URL)}
if TEST_POSTGRES:
    # Threads in concurrency tests open their own connections: close them after each request.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # test_<database>, as Django names it: two checkouts with different DATABASE_URLs test side
    # by side.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}"}

else:
    DATABASES["default"]["NAME"] = ":memory:"
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}

CACHES = {"default": base.cache_config(TEST_REDIS_URL)}
# On in every run, so every test that writes and then reads a catalog list checks that the
# write renewed the cached page (local memory is one process, as the tests are).
CATALOG_CACHE_SECONDS = 60
if not TEST_REDIS:
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = TEST_REDIS_URL or "memory://"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = base.BASE_DIR / "var" / "test-media"
FILE_STORAGE = "local"
STORAGES = base.storages_config("local", MEDIA_ROOT)

FRONTEND_URL = "http://frontend.test"

INSTALLED_APPS = [*INSTALLED_APPS, "ally360.tests.tenancy_app"]  # noqa: F405
