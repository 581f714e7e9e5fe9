"""Shared fixtures. Tests run against PostgreSQL (as a non-superuser role) and Redis when they
are available; see ally360/settings_test.py."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from ally360.roles import Role

pytest_plugins = ["invoices.tests.fixtures"]


def pytest_report_header(config):
    return f"ally360 test {settings.TEST_SERVICES_LINE}"


def pytest_collection_modifyitems(config, items):
    skip_pg = pytest.mark.skip(reason="PostgreSQL not available (see the services line above)")
    skip_redis = pytest.mark.skip(reason="Redis not available (see the services line above)")
    for item in items:
        if "postgres" in item.keywords and not settings.TEST_POSTGRES:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not settings.TEST_REDIS:
            item.add_marker(skip_redis)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not (settings.TEST_POSTGRES and settings.TEST_REDIS):
        terminalreporter.write_line(f"NOTE: {settings.TEST_SERVICES_LINE}", yellow=True)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def make_company(db):
    from accounts.services import company_create

    counter = {"n": 0}

    def factory(owner=None, name=None, **fields):
        counter["n"] += 1
        owner = owner or UserFactory()
        return company_create(
            owner=owner,
            name=name or f"Company {counter['n']}",
            nit=fields.pop("nit", "800197268"),
            **fields,
        )

    return factory


@pytest.fixture
def company_a(make_company):
    return make_company(name="Tienda A")


@pytest.fixture
def company_b(make_company):
    return make_company(name="Tienda B")


def _member(company, role, **user_fields):
    from accounts.models import Membership

    user = UserFactory(**user_fields)
    Membership.objects.create(user=user, company=company, role=role)
    return user


@pytest.fixture
def make_member(db):
    return _member


def client_for(user, company=None) -> APIClient:
    """An API client carrying a context token for `company` (or a plain access token)."""
    from accounts.selectors import membership_role_get
    from accounts.tokens import context_token_for, tokens_for_user

    client = APIClient()
    if company is None:
        token = tokens_for_user(user)["access"]
    else:
        role = membership_role_get(user_id=user.id, company_id=company.id)
        token = str(context_token_for(user, company.id, role))
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.user = user
    return client


@pytest.fixture
def client_as(make_member):
    """client_as(company, role) -> an API client of a new member with that role."""

    def factory(company, role=Role.OWNER, **user_fields):
        return client_for(_member(company, role, **user_fields), company)

    return factory


@pytest.fixture
def owner_a(company_a, client_as):
    return client_as(company_a, Role.OWNER)


@pytest.fixture
def owner_b(company_b, client_as):
    return client_as(company_b, Role.OWNER)


@pytest.fixture
def password():
    return DEFAULT_PASSWORD


def wait_for(predicate, timeout=20.0, interval=0.1):
    """Poll until `predicate()` is truthy; return its value or fail after `timeout` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


@pytest.fixture
def celery_worker_redis(transactional_db):
    """A real Celery worker (thread, solo pool) consuming the Redis broker of the test settings."""
    from celery.contrib.testing.worker import start_worker

    from ally360.celery import app

    if not settings.TEST_REDIS:
        pytest.skip("Redis not available")
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with start_worker(app, perform_ping_check=False, shutdown_timeout=15):
            yield app
    finally:
        app.conf.task_always_eager = previous


ALL_ROLES = [Role.OWNER, Role.ADMIN, Role.ACCOUNTANT, Role.SELLER, Role.VIEWER]


def error_code(response) -> str:
    return response.json()["error"]["code"]


@pytest.fixture
def make_product():
    """make_product(company, sku=..., price=..., stock={pdv: qty}, unit="kg", **fields)."""
    from decimal import Decimal

    from ally360.tenancy import tenant_context
    from inventory.services import product_create_with_stock
    from pos.models import PDV

    counter = {"n": 0}

    def factory(company, *, sku=None, price="1000", cost="600", stock=None, **fields):
        from products.models import Unit

        counter["n"] += 1
        with tenant_context(company):
            main = PDV.objects.get(is_main=True)
            if isinstance(fields.get("unit"), str):
                fields["unit"] = Unit.objects.get(code=fields["unit"])

            initial = [
                {"pdv": pdv or main, "quantity": Decimal(str(qty)), "unit_cost": Decimal(cost)}
                for pdv, qty in (stock or {}).items()
            ]
            return product_create_with_stock(
                name=fields.pop("name", f"Producto {counter['n']}"),
                sku=sku or f"SKU-{counter['n']:04d}",
                price=Decimal(price),
                cost=Decimal(cost),
                initial_stock=initial,
                **fields,
            )

    return factory


@pytest.fixture
def main_pdv():
    """main_pdv(company) -> that company's main point of sale."""
    from ally360.tenancy import tenant_context
    from pos.models import PDV

    def get(company):
        with tenant_context(company):
            return PDV.objects.get(is_main=True)

    return get


def start_thread(work, box: dict, key):
    """Run `work` in a thread with its own database connection (closed after): its result, or
    the exception it raised, lands in `box[key]`. For races on PostgreSQL."""
    import threading

    from django.db import connection

    def target():
        try:
            box[key] = work()
        except Exception as exc:  # noqa: BLE001 - the test reads what happened
            box[key] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    return thread


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def moto_server():
    """moto's S3 in server mode, over real HTTP on loopback (MinIO is not installable here)."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    _MOTO["server"] = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    _MOTO["server"].start()
    yield port
    _MOTO["server"].stop()


_MOTO: dict = {}


@pytest.fixture
def object_store_outage(moto_server):
    """`with object_store_outage():` moto's server is down inside the block and back after it,
    on the same port with the same objects (a real outage over HTTP, not a mock)."""
    from contextlib import contextmanager

    from moto.server import ThreadedMotoServer

    @contextmanager
    def outage():
        _MOTO["server"].stop()
        try:
            yield
        finally:
            _MOTO["server"] = ThreadedMotoServer(
                ip_address="127.0.0.1", port=moto_server, verbose=False
            )
            _MOTO["server"].start()

    return outage


@pytest.fixture
def task_retries():
    """The (task name, exception name) of every Celery retry the worker reports meanwhile."""
    from celery.signals import task_retry

    seen = []

    def on_retry(sender=None, reason=None, **kwargs):
        seen.append((sender.name, type(getattr(reason, "exc", reason)).__name__))

    task_retry.connect(on_retry, weak=False)
    yield seen
    task_retry.disconnect(on_retry)


@pytest.fixture
def s3_storage(moto_server, settings):
    """Switch the file storage to S3 on the moto server: internal endpoint 127.0.0.1, public
    (signing) endpoint `localhost` on the same port, so URLs prove they carry the public host."""
    import uuid

    import boto3

    from ally360.settings import storages_config

    bucket = f"ally360-{uuid.uuid4().hex[:8]}"
    settings.FILE_STORAGE = "s3"
    settings.FILE_BUCKET = bucket
    settings.S3_ENDPOINT_URL = f"http://127.0.0.1:{moto_server}"
    settings.S3_PUBLIC_ENDPOINT_URL = f"http://localhost:{moto_server}"
    settings.S3_ACCESS_KEY = "testing"
    settings.S3_SECRET_KEY = "testing"
    stores = storages_config("s3")
    stores["default"]["OPTIONS"].update(
        bucket_name=bucket,
        endpoint_url=settings.S3_ENDPOINT_URL,
        access_key="testing",
        secret_key="testing",
    )
    settings.STORAGES = stores
    boto3.client(
        "s3",
        endpoint_url=settings.S3_ENDPOINT_URL,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    ).create_bucket(Bucket=bucket)
    return bucket


def png_bytes(size=(32, 32), color=(200, 30, 30)) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def assert_idempotent(client, url: str, body: dict, changed: dict, key: str = "key-1") -> dict:
    """POST `body` twice with one Idempotency-Key: created once, the same answer replayed; the
    key again with `changed`: 409. Returns the first answer."""
    first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    retry = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == retry.status_code == 201, first.json()
    assert retry.json() == first.json() and retry["Idempotent-Replayed"] == "true"
    reused = client.post(url, changed, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert reused.status_code == 409 and error_code(reused) == "idempotency_key_reused"
    return first.json()
