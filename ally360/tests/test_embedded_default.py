"""The steps of `make run` on the embedded default (SQLite, no services) give a working server."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from invoices.management.commands.bootstrap_demo import DEMO_EMAIL, DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
SERVICE_VARIABLES = [
    "DATABASE_URL",
    "POSTGRES_HOST",
    "POSTGRES_DB",
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "REDIS_URL",
    "REDIS_HOST",
    "APP_SECRET_STRING",
    "DEBUG",
    "EMAIL_HOST",
    "EMAIL_SMTP_SERVER",
    "DJANGO_SETTINGS_MODULE",
    "CELERY_BROKER_URL",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def embedded_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    # In a folder not there yet, as `var/` in a fresh clone.
    env["SQLITE_PATH"] = str(tmp_path / "var" / "ally360.sqlite3")
    env["MEDIA_ROOT"] = str(tmp_path / "media")
    return env


def manage(env, *args, timeout=120):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )


@contextmanager
def embedded_server(env, log: Path | None = None) -> Iterator[str]:
    """`manage.py runserver` as `make run` starts it; yields its base URL once it answers. Its
    output goes to `log` (unbuffered, so a test can read what it printed) or nowhere."""
    port = free_port()
    with open(log or os.devnull, "w") as out:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{base}/health", timeout=2)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_make_run_steps_serve_docs_and_login(embedded_env):
    manage(embedded_env, "migrate", "--noinput")
    first = manage(embedded_env, "bootstrap_demo").stdout
    assert "Created the demo company" in first and DEMO_EMAIL in first and DEMO_PASSWORD in first
    second = manage(embedded_env, "bootstrap_demo").stdout
    assert "Created" not in second and DEMO_EMAIL in second

    with embedded_server(embedded_env) as base:
        docs = requests.get(f"{base}/docs", timeout=5)
        assert docs.status_code == 200 and "swagger-ui" in docs.text
        import re

        # Assets are served locally: no script or stylesheet from another host (a CDN). Not a
        # search for "cdn" in the page: its random CSRF token may spell it.
        assert not re.search(r"""(?:src|href)=["'](?:https?:)?//""", docs.text)
        bundle = re.search(r'src="([^"]*swagger-ui-bundle\.js)"', docs.text).group(1)
        assert requests.get(f"{base}{bundle}", timeout=5).status_code == 200
        schema = requests.get(f"{base}/api/v1/schema/", timeout=5)
        assert schema.status_code == 200 and "/api/v1/auth/login" in schema.text
        login = requests.post(
            f"{base}/api/v1/auth/login",
            json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD},
            timeout=5,
        )
        assert login.status_code == 200, login.text
        assert login.json()["companies"][0]["name"] == "Tienda Demo"


def check_with_debug_off(env, secret=None):
    """`manage.py check` as a production start would run it: DEBUG off, the secret given."""
    env = {**env, "DEBUG": "0"}
    if secret is not None:
        env["APP_SECRET_STRING"] = secret
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_default_secret_is_refused_with_debug_off(embedded_env):
    result = check_with_debug_off(embedded_env)
    assert result.returncode != 0
    assert "APP_SECRET_STRING is not set" in result.stderr


@pytest.mark.parametrize(
    "secret",
    [
        "change-me-to-a-long-random-string",  # what .env.example once shipped
        "s3cr3t-0123456789",  # short enough to guess
    ],
)
def test_a_placeholder_or_short_secret_is_refused_with_debug_off(embedded_env, secret):
    result = check_with_debug_off(embedded_env, secret)
    assert result.returncode != 0
    assert "placeholder or shorter than 32 characters" in result.stderr
    # The example's own value is empty: refused as not set.
    example = (ROOT / ".env.example").read_text()
    assert "\nAPP_SECRET_STRING=\n" in example


NUMBERING_ON_SQLITE = """
from datetime import date
from django.db import transaction
from accounts.models import Company
from ally360.exceptions import Conflict
from ally360.sequences import next_number
from ally360.tenancy import tenant_context
from invoices.services import number_take, numbering_range_create
from pos.models import PDV

with tenant_context(Company.objects.get(name="Tienda Demo")):
    pdv = PDV.objects.get(is_main=True)
    numbering_range_create(
        pdv=pdv, document_type="invoice", resolution_number="18760000001", prefix="FX",
        range_from=1, range_to=2, valid_from=date(2020, 1, 1), valid_to=date(2099, 12, 31),
    )
    taken = [number_take(pdv=pdv, document_type="invoice", on_date=date.today()).full_number
             for _ in range(2)]
    try:
        number_take(pdv=pdv, document_type="invoice", on_date=date.today())
    except Conflict as error:
        taken.append(error.code)
    try:
        with transaction.atomic():
            next_number("transfer", prefix="TR-")
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    taken += [next_number("transfer", prefix="TR-"), next_number("transfer", prefix="TR-")]
print(taken)
"""


def test_document_numbers_are_taken_on_sqlite(embedded_env):
    """The one-statement upserts and updates that take numbers speak SQLite too (a range of
    two numbers replaces the demo company's own)."""
    manage(embedded_env, "migrate", "--noinput")
    manage(embedded_env, "bootstrap_demo")
    out = manage(embedded_env, "shell", "-c", NUMBERING_ON_SQLITE).stdout
    assert out.strip().splitlines()[-1] == str(
        ["FX1", "FX2", "numbering_range_exhausted", "TR-00001", "TR-00002"]
    )


def test_an_sqlite_without_returning_is_refused_by_the_system_check(monkeypatch):
    import sqlite3

    from ally360.checks import sqlite_version_errors

    sqlite_engine = ["django.db.backends.sqlite3"]
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 34, 1))
    monkeypatch.setattr(sqlite3, "sqlite_version", "3.34.1")
    [error] = sqlite_version_errors(sqlite_engine)
    assert error.id == "ally360.E003" and "3.34.1" in error.msg
    assert sqlite_version_errors(["django.db.backends.postgresql"]) == []
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 35, 0))
    assert sqlite_version_errors(sqlite_engine) == []


def test_the_wsgi_application_loads_every_view_and_freezes_start_up_objects(embedded_env):
    """What gunicorn imports: the URLconf (every page's views and forms) is loaded before the
    first request and what start-up built is out of the collector's way (bench/: without it the
    pages' modules cost a POS sale 6-8 %)."""
    probe = (
        "import gc, sys, ally360.wsgi\n"
        "print(gc.get_freeze_count() > 10000, 'invoices.views' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**embedded_env, "DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert out.split() == ["True", "True"], out
