"""The tenancy core: fail-closed manager, context hygiene and PostgreSQL row-level security."""

import asyncio

import pytest
from django.db import connection, transaction

from ally360.rls import tables_missing_rls, tenant_tables
from ally360.tenancy import (
    TenantMismatchError,
    TenantNotSetError,
    cross_tenant,
    get_current_tenant_id,
    tenant_context,
)
from ally360.tests.tenancy_app.models import Note

pytestmark = pytest.mark.django_db


@pytest.fixture
def notes(company_a, company_b):
    with tenant_context(company_a):
        Note.objects.create(title="a1", amount=1)
        Note.objects.create(title="a2", amount=2)
    with tenant_context(company_b):
        Note.objects.create(title="b1", amount=10)
    return company_a, company_b


def _note(company):
    return Note(title="x", tenant_id=company.id)


MANAGER_OPERATIONS = {
    "iteration": lambda c: list(Note.objects.all()),
    "filter": lambda c: list(Note.objects.filter(title="a1")),
    "exclude": lambda c: list(Note.objects.exclude(title="a1")),
    "select_for_update": lambda c: Note.objects.select_for_update().get(title="a1"),
    "latest": lambda c: Note.objects.latest("created_at"),
    "contains": lambda c: Note.objects.contains(_note(c)),
    "explain": lambda c: Note.objects.explain(),
    "len": lambda c: len(Note.objects.all()),
    "bool": lambda c: bool(Note.objects.all()),
    "get": lambda c: Note.objects.get(title="a1"),
    "first": lambda c: Note.objects.first(),
    "last": lambda c: Note.objects.last(),
    "count": lambda c: Note.objects.count(),
    "exists": lambda c: Note.objects.exists(),
    "aggregate": lambda c: Note.objects.aggregate(
        total=__import__("django").db.models.Sum("amount")
    ),
    "annotate": lambda c: list(Note.objects.annotate(n=__import__("django").db.models.Count("id"))),
    "update": lambda c: Note.objects.update(amount=0),
    "delete": lambda c: Note.objects.all().delete(),
    "values": lambda c: list(Note.objects.values("title")),
    "values_list": lambda c: list(Note.objects.values_list("title", flat=True)),
    "in_bulk": lambda c: Note.objects.in_bulk(),
    "iterator": lambda c: list(Note.objects.iterator()),
    "create": lambda c: Note.objects.create(title="new"),
    "bulk_create": lambda c: Note.objects.bulk_create([Note(title="new")]),
    "bulk_update": lambda c: Note.objects.bulk_update([_note(c)], ["amount"]),
    "get_or_create": lambda c: Note.objects.get_or_create(title="new"),
    "update_or_create": lambda c: Note.objects.update_or_create(
        title="new", defaults={"amount": 1}
    ),
    "raw": lambda c: list(Note.objects.raw("SELECT * FROM tenancy_test_note")),
    "none": lambda c: list(Note.objects.none()),
    "save": lambda c: Note(title="new").save(),
}

ASYNC_OPERATIONS = {
    "aget": lambda: Note.objects.aget(title="a1"),
    "afirst": lambda: Note.objects.afirst(),
    "acount": lambda: Note.objects.acount(),
    "aexists": lambda: Note.objects.aexists(),
    "aaggregate": lambda: Note.objects.aaggregate(
        total=__import__("django").db.models.Sum("amount")
    ),
    "aupdate": lambda: Note.objects.aupdate(amount=0),
    "ain_bulk": lambda: Note.objects.ain_bulk(),
    "acreate": lambda: Note.objects.acreate(title="new"),
    "abulk_create": lambda: Note.objects.abulk_create([Note(title="new")]),
    "abulk_update": lambda: Note.objects.abulk_update([Note(title="x")], ["amount"]),
    "aget_or_create": lambda: Note.objects.aget_or_create(title="new"),
    "aupdate_or_create": lambda: Note.objects.aupdate_or_create(title="new"),
}


@pytest.mark.parametrize("operation", MANAGER_OPERATIONS.values(), ids=MANAGER_OPERATIONS.keys())
def test_every_manager_operation_fails_closed_without_a_tenant(notes, operation):
    company_a, _ = notes
    assert get_current_tenant_id() is None
    with pytest.raises(TenantNotSetError):
        operation(company_a)


@pytest.mark.parametrize("operation", ASYNC_OPERATIONS.values(), ids=ASYNC_OPERATIONS.keys())
def test_every_async_manager_operation_fails_closed_without_a_tenant(notes, operation):
    async def run():
        return await operation()

    with pytest.raises(TenantNotSetError):
        asyncio.run(run())


def test_async_iteration_fails_closed_without_a_tenant(notes):
    async def run():
        return [note async for note in Note.objects.aiterator()]

    with pytest.raises(TenantNotSetError):
        asyncio.run(run())


def test_a_queryset_built_without_a_tenant_never_runs(notes):
    """The class-level declaration trap: built at import, evaluated in a request."""
    company_a, _ = notes
    built_at_import = Note.objects.filter(amount__gte=0)
    with tenant_context(company_a), pytest.raises(TenantNotSetError):
        list(built_at_import.all())


def test_a_queryset_built_for_one_tenant_never_runs_for_another(notes):
    company_a, company_b = notes
    with tenant_context(company_a):
        mine = Note.objects.all()
    with tenant_context(company_b), pytest.raises(TenantMismatchError):
        list(mine)
    with pytest.raises(TenantNotSetError):
        mine.count()


def test_building_querysets_without_a_tenant_is_allowed(notes):
    queryset = Note.objects.filter(title="a1").values("title")
    assert "tenancy_test_note" in str(queryset.query)


@pytest.mark.parametrize(
    "build",
    [
        lambda manager: manager.all(),
        lambda manager: manager.filter(title="a1").exclude(amount=3),
        lambda manager: manager.values("title").annotate(
            n=__import__("django").db.models.Count("id")
        ),
        lambda manager: manager.order_by("-created_at")[:5],
        lambda manager: manager.filter(pk__in=manager.filter(amount__gt=1).values("pk")),
    ],
)
def test_the_tenant_condition_is_the_sql_filter_would_build(company_a, build):
    """The manager adds the tenant condition without `filter()`; the SQL must be the same."""
    with tenant_context(company_a):
        scoped = str(build(Note.objects).query)
        expected = str(build(Note.all_tenants.filter(tenant_id=company_a.id)).query)
    # PostgreSQL's SQL shows the id with dashes, SQLite's without.
    assert scoped == expected and (str(company_a.id) in scoped or company_a.id.hex in scoped)


def test_scoped_manager_sees_only_the_current_tenant(notes):
    company_a, company_b = notes
    with tenant_context(company_a):
        assert sorted(Note.objects.values_list("title", flat=True)) == ["a1", "a2"]
        assert Note.objects.filter(title="b1").count() == 0
        assert Note.objects.update(amount=5) == 2
    with tenant_context(company_b):
        assert list(Note.objects.values_list("title", "amount")) == [("b1", 10)]


def test_writes_take_the_tenant_from_the_context(notes):
    company_a, company_b = notes
    with tenant_context(company_a):
        note = Note.objects.create(title="mine")
        bulk = Note.objects.bulk_create([Note(title="bulk")])
    assert note.tenant_id == company_a.id
    assert bulk[0].tenant_id == company_a.id


def test_an_object_of_another_tenant_cannot_be_saved_under_the_current_one(notes):
    company_a, company_b = notes
    with tenant_context(company_a), pytest.raises(TenantMismatchError):
        Note(title="intruder", tenant_id=company_b.id).save()
    with cross_tenant():
        assert not Note.all_tenants.filter(title="intruder").exists()


def test_same_unique_value_in_two_tenants(notes):
    company_a, company_b = notes
    with tenant_context(company_b):
        Note.objects.create(title="a1")
    with cross_tenant():
        assert Note.all_tenants.filter(title="a1").count() == 2


def test_cross_tenant_manager_only_works_inside_the_escape(notes):
    with pytest.raises(TenantNotSetError):
        Note.all_tenants.count()
    with cross_tenant():
        assert Note.all_tenants.count() == 3


def test_context_is_reset_after_an_exception(company_a):
    with pytest.raises(ZeroDivisionError), tenant_context(company_a):
        assert get_current_tenant_id() == company_a.id
        1 / 0  # noqa: B018
    assert get_current_tenant_id() is None


def test_nested_contexts_restore_the_outer_tenant(notes):
    company_a, company_b = notes
    with tenant_context(company_a):
        with tenant_context(company_b):
            assert Note.objects.count() == 1
        assert get_current_tenant_id() == company_a.id
        assert Note.objects.count() == 2


# --- PostgreSQL row-level security -------------------------------------------------------------


@pytest.mark.postgres
def test_database_role_is_neither_superuser_nor_bypassrls():
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (False, False)


@pytest.mark.postgres
def test_every_tenant_table_has_forced_row_level_security():
    assert "tenancy_test_note" in tenant_tables()
    assert tables_missing_rls() == []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE relname = ANY(%s)",
            [tenant_tables()],
        )
        rows = cursor.fetchall()
    assert len(rows) == len(tenant_tables())
    assert all(rls and forced for _, rls, forced in rows)


def _policy_filters(tables) -> dict[str, str]:
    """The row filter PostgreSQL applies to a plain scan of each table, as EXPLAIN shows it."""
    filters = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'EXPLAIN (FORMAT JSON) SELECT 1 FROM "{table}"')
            plan = cursor.fetchone()[0][0]["Plan"]
            while "Filter" not in plan:  # the scan sits under the init plans' Result, if any
                plan = plan["Plans"][-1]
            filters[table] = plan["Filter"]
    return filters


@pytest.mark.postgres
def test_tenant_policies_cast_the_setting_once_per_statement_not_per_row(company_a):
    """Casting `app.tenant_id` per row made a policy scan three times as slow (ally360/rls.py).
    The migration's operation is run both ways here, inside the test's transaction."""
    import importlib

    migration = importlib.import_module("ally360.migrations.0004_tenant_policy_casts_once")
    operation = migration.Migration.operations[0]
    tables = tenant_tables()
    with tenant_context(company_a):
        filters = _policy_filters(tables)
        assert len(set(filters.values())) == 1, filters
        assert "::uuid" not in filters[tables[0]]

        with connection.schema_editor(atomic=False) as editor:
            operation.database_backwards("core", editor, None, None)
        assert all("::uuid" in f for f in _policy_filters(tables).values())
        with connection.schema_editor(atomic=False) as editor:
            operation.database_forwards("core", editor, None, None)
        assert _policy_filters(tables) == filters


@pytest.mark.postgres
def test_raw_sql_in_a_tenant_transaction_sees_only_that_tenant(notes):
    company_a, company_b = notes
    with tenant_context(company_a), connection.cursor() as cursor:
        cursor.execute("SELECT title FROM tenancy_test_note ORDER BY title")
        assert [row[0] for row in cursor.fetchall()] == ["a1", "a2"]
        cursor.execute(
            "SELECT count(*) FROM tenancy_test_note WHERE tenant_id = %s", [company_b.id]
        )
        assert cursor.fetchone()[0] == 0


@pytest.mark.postgres
def test_raw_sql_cannot_insert_a_row_for_another_tenant(notes):
    company_a, company_b = notes
    from django.db.utils import ProgrammingError

    with tenant_context(company_a):
        with (
            pytest.raises(ProgrammingError, match="row-level security"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(
                "INSERT INTO tenancy_test_note (id, tenant_id, title, amount, created_at, updated_at)"
                " VALUES (gen_random_uuid(), %s, 'forged', 0, now(), now())",
                [company_b.id],
            )
        with (
            pytest.raises(ProgrammingError, match="row-level security"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("UPDATE tenancy_test_note SET tenant_id = %s", [company_b.id])
    with cross_tenant():
        assert not Note.all_tenants.filter(title="forged").exists()
        assert Note.all_tenants.filter(tenant_id=company_a.id).count() == 2


@pytest.mark.postgres
def test_without_the_setting_no_rows_are_visible(notes):
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tenancy_test_note")
        assert cursor.fetchone()[0] == 0


@pytest.mark.postgres
def test_a_query_in_tenant_context_outside_a_transaction_fails_loudly(notes):
    from ally360.tenancy import activate_tenant, request_scope

    company_a, _ = notes
    with request_scope():
        activate_tenant(company_a)
        connection.in_atomic_block, saved = False, connection.in_atomic_block
        try:
            with pytest.raises(TenantNotSetError, match="outside a transaction"):
                Note.objects.count()
        finally:
            connection.in_atomic_block = saved


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_tenant_setting_does_not_survive_the_transaction(company_a):
    with tenant_context(company_a):
        Note.objects.create(title="committed")
    # Same connection, next transaction: nothing left behind.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('app.tenant_id', true), current_setting('app.rls_bypass', true)"
        )
        assert cursor.fetchone() in {("", ""), (None, None), ("", None), (None, "")}
        cursor.execute("SELECT count(*) FROM tenancy_test_note")
        assert cursor.fetchone()[0] == 0


def test_newest_first_lists_must_be_indexed_per_company(monkeypatch):
    """ally360.E002: every model listed newest first has its (tenant, date) index; a model that
    lacks it is named."""
    from ally360.checks import check_newest_first_lists_are_indexed

    assert check_newest_first_lists_are_indexed(None) == []
    monkeypatch.setattr(Note._meta, "ordering", ["-created_at"])
    (error,) = check_newest_first_lists_are_indexed(None)
    assert error.id == "ally360.E002" and error.obj is Note


@pytest.mark.parametrize("operation", ["save", "delete", "refresh_from_db"])
def test_an_instance_is_written_or_reloaded_only_in_its_own_tenant(notes, operation):
    """save(), delete() and refresh_from_db() go through Django's base manager, not ours: the
    instance itself checks the tenant, so a stray object cannot be written or read back outside
    its company (also on SQLite, where no row-level security backs it up)."""
    company_a, company_b = notes
    with tenant_context(company_a):
        note = Note.objects.get(title="a1")
    with pytest.raises(TenantNotSetError):
        getattr(note, operation)()
    with tenant_context(company_b), pytest.raises(TenantMismatchError):
        getattr(note, operation)()
    with tenant_context(company_a):
        getattr(note, operation)()  # its own tenant: allowed
    with cross_tenant():
        assert Note.all_tenants.filter(title="a1").exists() == (operation != "delete")


def test_an_instance_loaded_without_its_tenant_still_reads_its_deferred_fields(notes):
    """`.only()` defers the tenant too: reading a deferred field reloads the instance, whose
    tenant check loads the tenant first (it recursed forever before)."""
    company_a, company_b = notes
    with tenant_context(company_a):
        note = Note.objects.only("title").get(title="a1")
        assert note.amount == Note.objects.get(title="a1").amount
        stray = Note.objects.only("title").get(title="a1")
    with tenant_context(company_b), pytest.raises((TenantMismatchError, Note.DoesNotExist)):
        stray.amount  # noqa: B018


@pytest.mark.django_db(transaction=True)
def test_concurrent_asgi_requests_of_two_companies_never_mix(company_a, company_b, client_as):
    """Under the ASGI server, requests of two companies interleave on one event loop: each
    answer holds only its own company's rows, and no request leaves its tenant behind."""
    from asgiref.sync import sync_to_async
    from django.db import connections
    from django.test import AsyncClient

    from ally360.tenancy import get_current_tenant_id

    owners = {"A": client_as(company_a), "B": client_as(company_b)}
    for name, client in owners.items():
        response = client.post(
            "/api/v1/contacts/",
            {"id_type": "13", "id_number": f"1010{ord(name)}", "name": f"Solo {name}"},
            format="json",
        )
        assert response.status_code == 201, response.json()
    tokens = {name: client._credentials["HTTP_AUTHORIZATION"] for name, client in owners.items()}

    async def fetch(client, company):
        response = await client.get(
            "/api/v1/contacts/", {"search": "Solo"}, headers={"Authorization": tokens[company]}
        )
        return company, response.status_code, [c["name"] for c in response.json()["results"]]

    async def interleave():
        client = AsyncClient()
        try:
            return await asyncio.gather(*(fetch(client, "AB"[i % 2]) for i in range(24)))
        finally:
            # The views ran in asgiref's worker thread: close its connection there.
            await sync_to_async(connections.close_all)()

    for company, status_code, names in asyncio.run(interleave()):
        assert (status_code, names) == (200, [f"Solo {company}"])
    assert get_current_tenant_id() is None
