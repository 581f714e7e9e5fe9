"""Prepared statements and plan caching on PostgreSQL (ally360/db.py).

Connections plan every execution with its parameters (a generic plan cannot see the company and
sorts a big one whole); a write request allows generic plans for its own transaction only.
"""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from ally360.db import allow_generic_plans, without_jit
from ally360.settings import database_config

pytestmark = pytest.mark.django_db

GENERIC = "set_config('plan_cache_mode', 'auto', true)"


def plan_cache_mode() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('plan_cache_mode')")
        return cursor.fetchone()[0]


def test_prepared_statements_are_configurable(monkeypatch):
    url = "postgres://app:secret@db:5432/app"
    options = database_config(url)["OPTIONS"]
    assert options["server_side_binding"] is True and options["prepare_threshold"] == 5
    assert "plan_cache_mode=force_custom_plan" in options["options"]
    monkeypatch.setenv("DATABASE_PREPARED_STATEMENTS", "0")
    options = database_config(url)["OPTIONS"]
    assert not {"server_side_binding", "prepare_threshold", "options"} & options.keys()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_generic_plans_last_only_for_the_transaction_that_allows_them():
    assert plan_cache_mode() == "force_custom_plan"
    with transaction.atomic():
        allow_generic_plans()
        assert plan_cache_mode() == "auto"
    # The next transaction on the same (persistent) connection plans custom again.
    with transaction.atomic():
        assert plan_cache_mode() == "force_custom_plan"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_jit_is_off_only_for_the_transaction_that_asks():
    """A past day's receivables turn JIT off: compiling cost more than the work (ally360/db.py)."""

    def jit() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('jit')")
            return cursor.fetchone()[0]

    with transaction.atomic():
        default = jit()
        without_jit()
        assert jit() == "off"
    with transaction.atomic():
        assert jit() == default


@pytest.mark.postgres
def test_write_requests_allow_generic_plans_and_reads_do_not(owner_a):
    with CaptureQueriesContext(connection) as read:
        assert owner_a.get("/api/v1/categories/").status_code == 200
    with CaptureQueriesContext(connection) as write:
        response = owner_a.post("/api/v1/categories/", {"name": "Bebidas"}, format="json")
        assert response.status_code == 201
    assert not any(GENERIC in query["sql"] for query in read.captured_queries)
    assert sum(GENERIC in query["sql"] for query in write.captured_queries) == 1
