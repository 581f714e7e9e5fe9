"""Faults: the database connection dies mid-request; the Celery broker is down at commit time."""

import shutil
import subprocess
import time
from datetime import timedelta

import psycopg
import pytest
from django.conf import settings
from django.core import mail
from django.db import connection

from ally360.models import TaskOutbox
from ally360.tenancy import tenant_context
from conftest import free_port, wait_for
from inventory.models import Stock, StockMovement
from invoices.models import Invoice, NumberingRange
from invoices.tests.fixtures import issue_invoice

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def connection_killer(sql_part: str, killed: dict):
    """An execute wrapper that terminates the request's own database backend (from another
    connection) just before the first statement holding `sql_part` (a POS sale writes its
    invoice, lines and payments in one statement); `killed` records it."""
    dsn = settings.TEST_DATABASE_URL.rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"]

    def kill(execute, sql, params, many, context):
        if sql_part in sql and not killed:
            pid = context["connection"].connection.info.backend_pid
            with psycopg.connect(dsn, autocommit=True) as killer:
                killer.execute("SELECT pg_terminate_backend(%s)", [pid])
            killed["pid"] = pid
        return execute(sql, params, many, context)

    return kill


def test_a_connection_killed_mid_request_answers_an_error_and_writes_nothing(
    company_a, owner_a, make_shop
):
    shop = make_shop(company_a)
    killed = {}
    kill_before_lines = connection_killer('INSERT INTO "invoices_invoiceline"', killed)

    owner_a.raise_request_exception = False
    with connection.execute_wrapper(kill_before_lines):
        response = owner_a.post(
            "/api/v1/invoices/",
            {
                "pdv": str(shop.pdv.id),
                "customer": str(shop.customer.id),
                "issue": True,
                "lines": [{"variant": shop.v("iva19"), "quantity": "2"}],
            },
            format="json",
        )
    connection.close()
    assert killed, "the connection was not killed"
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"
    assert response["Retry-After"] == "5"

    with tenant_context(company_a):
        assert not Invoice.objects.exists()
        assert NumberingRange.objects.get(document_type="invoice").next_number == 1
        assert not StockMovement.objects.filter(kind="sale").exists()
        assert Stock.objects.get(variant=shop.variants["iva19"], pdv=shop.pdv).quantity == 100
    # The next request gets a fresh connection and works.
    again = owner_a.post(
        "/api/v1/invoices/",
        {
            "pdv": str(shop.pdv.id),
            "customer": str(shop.customer.id),
            "issue": True,
            "lines": [{"variant": shop.v("iva19"), "quantity": "2"}],
        },
        format="json",
    )
    assert again.status_code == 201 and again.json()["full_number"] == "FV1"


def backend_query(dsn: str, pid: int) -> str | None:
    """What the backend `pid` last ran, seen from another connection (None once it is gone)."""
    with psycopg.connect(dsn, autocommit=True) as observer:
        row = observer.execute(
            "SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]
        ).fetchone()
    return row[0] if row else None


@pytest.mark.parametrize("waiter", ["poll", "select"])
def test_the_health_check_costs_no_round_trip_and_replaces_a_dropped_connection(
    waiter, monkeypatch
):
    """Before a request's first statement the idle connection is checked without a statement
    (ally360.postgresql); one the server closed meanwhile (terminated, as by a restart) is
    replaced, so the request does not fail. With `poll()`, and with `select()` where the
    platform has no `poll()`."""
    import select

    if waiter == "select":
        monkeypatch.delattr(select, "poll")
    dsn = settings.TEST_DATABASE_URL.rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'before the check'")
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    assert connection.is_usable()
    assert backend_query(dsn, pid) == "SELECT pg_backend_pid()"  # no SELECT 1 was sent

    with psycopg.connect(dsn, autocommit=True) as killer:
        killer.execute("SELECT pg_terminate_backend(%s)", [pid])
    assert wait_for(lambda: backend_query(dsn, pid) is None)
    assert not connection.is_usable()

    connection.close_if_unusable_or_obsolete()  # what Django runs as a request starts
    with connection.cursor() as cursor:  # the request's first statement: the check, then this
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


class Broker:
    """A Redis server of our own to stop and start as the Celery broker."""

    def __init__(self):
        self.port = free_port()
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server"),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        import redis

        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port).ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"


@pytest.fixture
def broker():
    from ally360.celery import app

    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is needed for the broker fault test")
    broker = Broker()
    previous = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url = broker.url
    app.conf.task_always_eager = False
    app._pool = None
    app.amqp._producer_pool = None
    yield broker
    if broker.process and broker.process.poll() is None:
        broker.stop()
    app.conf.broker_url, app.conf.task_always_eager = previous
    app._pool = None
    app.amqp._producer_pool = None


def test_with_the_broker_down_the_request_commits_and_the_task_runs_once_it_is_back(
    broker, company_a, owner_a, make_shop
):
    from celery.contrib.testing.worker import start_worker

    from ally360.celery import app
    from ally360.outbox import publish_pending

    shop = make_shop(company_a)
    sale = issue_invoice(owner_a, shop)
    mail.outbox.clear()
    # Broker down: the request still answers and its data is committed.
    sent = owner_a.post(
        f"/api/v1/invoices/{sale['id']}/send", {"to": "cliente@correo.co"}, format="json"
    )
    assert sent.status_code == 202
    assert TaskOutbox.objects.filter(task_name="invoices.tasks.email_invoice").count() == 1
    assert mail.outbox == []
    # Broker back: the sweeper publishes the waiting task and a worker runs it.
    broker.start()
    app._pool = None
    app.amqp._producer_pool = None
    with start_worker(app, perform_ping_check=False, shutdown_timeout=15):
        assert publish_pending(older_than=timedelta(0)) == 1
        wait_for(lambda: mail.outbox, timeout=30)
        # Once: nothing is left to publish, and no second delivery follows.
        assert publish_pending(older_than=timedelta(0)) == 0
        time.sleep(2)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["cliente@correo.co"]
    assert mail.outbox[0].attachments[0][0] == f"{sale['full_number']}.pdf"
    assert not TaskOutbox.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_request_whose_commit_fails_answers_a_conflict_and_saves_nothing(
    owner_a, company_a, make_product, main_pdv, monkeypatch
):
    """The count's lines reference its variant by a foreign key checked at commit; another
    request deletes that (unused) product meanwhile. The count's commit fails after its view
    answered: the client hears 409 `conflict` (nothing was saved), not an error page."""
    import threading

    from django.db import connection

    from inventory import api as inventory_api
    from inventory.models import Adjustment
    from products.models import Product, Variant
    from products.services import product_delete

    product = make_product(company_a, sku="RACE-1")  # no stock, no documents: deletable
    with tenant_context(company_a):
        variant = Variant.objects.get(product=product)
    count = inventory_api.AdjustmentViewSet.create_service

    def count_then_lose_the_variant(**kwargs):
        adjustment = count(**kwargs)

        def delete_elsewhere():
            try:
                with tenant_context(company_a):
                    product_delete(product=Product.objects.get(pk=product.pk))
            finally:
                connection.close()

        deleting = threading.Thread(target=delete_elsewhere)
        deleting.start()
        deleting.join(20)
        return adjustment

    monkeypatch.setattr(
        inventory_api.AdjustmentViewSet, "create_service", count_then_lose_the_variant
    )
    response = owner_a.post(
        "/api/v1/adjustments/",
        {
            "pdv": str(main_pdv(company_a).id),
            "reason": "count",
            "lines": [{"variant": str(variant.id), "counted_quantity": "3"}],
        },
        format="json",
    )
    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"] == "conflict"
    with tenant_context(company_a):
        assert not Adjustment.objects.exists()
        assert not Variant.objects.filter(pk=variant.pk).exists()


def test_a_page_whose_connection_is_killed_mid_sale_says_nothing_was_saved(company_a, make_shop):
    """The POS counter page, its database connection killed while the sale writes its lines:
    an HTML page (503, Retry-After) saying nothing was saved, not an error page; nothing is."""
    from ally360.roles import Role
    from ally360.tests.pages import page_client
    from conftest import _member
    from invoices.tests.test_pages import sale_data
    from pos.models import Shift

    shop = make_shop(company_a)
    seller = _member(company_a, Role.SELLER)
    client = page_client(seller, company_a)
    opened = client.post(
        "/pos/shift/open/", {"register": str(shop.register.id), "opening_cash": "0"}
    )
    assert opened.status_code == 302
    killed = {}
    kill_before_lines = connection_killer('INSERT INTO "invoices_invoiceline"', killed)

    client.raise_request_exception = False
    with connection.execute_wrapper(kill_before_lines):
        response = client.post("/pos/sale/", sale_data([("FV-iva19", "1")], cash="20000"))
    connection.close()
    assert killed, "the connection was not killed"
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert b'data-testid="try-again"' in response.content
    assert "No se guardó nada".encode() in response.content
    with tenant_context(company_a):
        assert not Invoice.objects.exists()
        assert Shift.objects.get().status == Shift.Status.OPEN
