"""The hand-written statements of a sale's path answer what the ORM queries they replace
answer (`ally360.db.ModelColumns`), and `bulk_create` assembled once per shape
(`ally360.db.insert_rows`) stores what Django's would."""

import threading
import uuid
from datetime import datetime

import pytest
from django.db import OperationalError, connection, transaction
from django.db.models import Value
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.selectors import user_by_id
from ally360.roles import Role
from ally360.tenancy import tenant_context
from ally360.tests.locks import while_blocked
from ally360.tests.tenancy_app.models import Note
from contacts.services import final_consumer
from inventory.models import Stock
from inventory.services import _stocks, _stocks_locked_if_all_exist, lock_stocks
from invoices.services import _shift_for_sale
from pos.services import shift_open, shift_open_for_user
from products.models import PriceList, Tax
from products.selectors import default_price_list, document_variants, document_variants_by_id

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def values(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_the_sale_reads_its_shift_consumer_and_price_list_as_the_orm_does(
    company_a, company_b, make_shop, make_member
):
    shop = make_shop(company_a)
    cashier = make_member(company_a, Role.SELLER)
    with tenant_context(company_a), transaction.atomic():
        assert _shift_for_sale(cashier)[0] is None  # no open shift yet
        shift_open(register=shop.register, user=cashier, role=Role.SELLER, opening_cash=5)
        with CaptureQueriesContext(connection) as queries:
            shift, defaults = _shift_for_sale(cashier)
            consumer, price_list = defaults.final_consumer(), defaults.price_list()
        assert len(queries) == 1 and "FOR UPDATE OF" in queries[0]["sql"]
        # The sale's remaining statements go to rows by key: generic plans until it ends.
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('plan_cache_mode')")
            assert cursor.fetchone()[0] == "force_generic_plan"
        expected = shift_open_for_user(cashier)
        assert values(shift) == values(expected)
        assert values(shift.register) == values(expected.register)
        assert values(shift.register.pdv) == values(expected.register.pdv)
        assert values(consumer) == values(final_consumer())
        assert price_list is not None and values(price_list) == values(default_price_list())

        PriceList.objects.update(is_default=False)
        shift, defaults = _shift_for_sale(cashier)
        assert defaults.price_list() is None is default_price_list()
    with tenant_context(company_b), transaction.atomic():
        assert _shift_for_sale(cashier)[0] is None  # another company's shift is not found


def test_document_variants_are_read_as_the_orm_reads_them(
    company_a, company_b, make_shop, make_product
):
    shop = make_shop(company_a)
    theirs = make_shop(company_b, prefix="FB")
    with tenant_context(company_a):
        iva, inc = Tax.objects.get(name="IVA 19%"), Tax.objects.get(name="INC 8%")
    two_taxes = make_product(company_a, sku="TWO", taxes=[inc, iva])
    ids = [variant.pk for variant in shop.variants.values()]
    with tenant_context(company_a):
        ids.append(two_taxes.variants.get().pk)
        asked = [*ids, uuid.uuid4(), theirs.variants["iva19"].pk]
        with CaptureQueriesContext(connection) as queries:
            found = {variant.pk: variant for variant in document_variants_by_id(asked)}
        assert len(queries) == 1
        expected = {variant.pk: variant for variant in document_variants().filter(pk__in=ids)}
    assert found.keys() == expected.keys() == set(ids)
    for pk, variant in found.items():
        orm = expected[pk]
        assert values(variant) == values(orm)
        assert values(variant.product) == values(orm.product)
        assert values(variant.product.unit) == values(orm.product.unit)
        links = [(values(link), values(link.tax)) for link in orm.product.tax_links]
        assert [(values(link), values(link.tax)) for link in variant.product.tax_links] == links
    # Both in the taxes' own order (kind, rate down, name), whatever order they were linked in.
    assert [link.tax.name for link in found[ids[-1]].product.tax_links] == ["INC 8%", "IVA 19%"]
    with tenant_context(company_a):
        orm = document_variants().get(pk=ids[-1])
    assert [link.tax.name for link in orm.product.tax_links] == ["INC 8%", "IVA 19%"]


def test_the_user_is_read_as_the_orm_reads_it(make_member, company_a):
    user = make_member(company_a, Role.OWNER)
    with CaptureQueriesContext(connection) as queries:
        found = user_by_id(str(user.pk))
    assert len(queries) == 1
    assert values(found) == values(User.objects.get(pk=user.pk))
    assert found._state.adding is False
    assert user_by_id(uuid.uuid4()) is None
    assert user_by_id("not-a-uuid") is None


def test_stock_rows_are_locked_and_read_as_the_orm_reads_them(company_a, company_b, make_shop):
    shop = make_shop(company_a)
    theirs = make_shop(company_b, prefix="FB")
    variants = sorted(str(variant.pk) for variant in shop.variants.values())
    with tenant_context(company_a), transaction.atomic():
        asked = [*variants, str(theirs.variants["iva19"].pk)]
        pdvs = [str(shop.pdv.pk), str(theirs.pdv.pk)]
        expected = Stock.objects.filter(variant_id__in=variants).order_by("variant_id", "pdv_id")
        for lock in (False, True):
            found = _stocks(asked, pdvs, lock=lock)
            assert [values(stock) for stock in found] == [values(stock) for stock in expected]
            assert len(found) == len(variants)


def lockable_elsewhere(company, stock_ids) -> bool:
    """Whether another connection could lock all these rows now (`FOR UPDATE NOWAIT`)."""
    outcome = {}

    def probe():
        try:
            with tenant_context(company), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT id FROM inventory_stock WHERE id = ANY(%s) FOR UPDATE NOWAIT",
                    [list(stock_ids)],
                )
            outcome["free"] = True
        except OperationalError:  # 55P03: lock not available
            outcome["free"] = False
        finally:
            connection.close()

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join(timeout=30)
    return outcome["free"]


@pytest.mark.django_db(transaction=True)
def test_missing_stock_rows_are_created_before_this_call_locks_any(company_a, make_product):
    """The order that keeps two documents creating the same rows from deadlocking: one that held
    a stock row lock while waiting for the other's uncommitted insert of a row both need (the
    other waiting for that lock) would deadlock with it, as a review showed with three sales.
    The first statement locks rows only when all of them exist; here one is missing, so it
    locks nothing, and the rows are locked after the missing one is created."""
    from pos.models import PDV

    held = make_product(company_a, sku="HELD", stock={None: 5})
    new = make_product(company_a, sku="NEW")
    with tenant_context(company_a), transaction.atomic():
        pdv = PDV.objects.get(is_main=True)
        held_stock = Stock.objects.get(variant__product=held)
        keys = sorted(
            [(str(held.variants.get().pk), str(pdv.pk)), (str(new.variants.get().pk), str(pdv.pk))]
        )
        assert _stocks_locked_if_all_exist(keys) == []
        assert lockable_elsewhere(company_a, [held_stock.pk])
        with CaptureQueriesContext(connection) as queries:
            stocks = lock_stocks(set(keys))
        statements = [query["sql"] for query in queries]
        inserted = next(i for i, sql in enumerate(statements) if sql.startswith("INSERT"))
        locking = [i for i, sql in enumerate(statements) if "FOR UPDATE" in sql]
        assert "bool_and(EXISTS" in statements[0]  # locks only when all exist: nothing here
        assert locking[0] == 0 and min(locking[1:]) > inserted
        assert sorted(stock.quantity for stock in stocks.values()) == [0, 5]
        assert not lockable_elsewhere(company_a, [held_stock.pk])


@pytest.mark.django_db(transaction=True)
def test_existing_stock_rows_are_found_and_locked_in_one_statement(company_a, make_shop):
    """The usual case, every row there: one statement, by index per key, locks them in the
    keys' order and answers them as the ORM reads them."""
    shop = make_shop(company_a)
    with tenant_context(company_a), transaction.atomic():
        keys = sorted((str(variant.pk), str(shop.pdv.pk)) for variant in shop.variants.values())
        rows = list(Stock.objects.filter(pdv=shop.pdv).order_by("variant_id"))
        assert len(rows) == len(keys) > 1
        with CaptureQueriesContext(connection) as queries:
            stocks = lock_stocks(set(keys))
        assert len(queries) == 1
        assert list(stocks) == keys
        assert [values(stock) for stock in stocks.values()] == [values(row) for row in rows]
        for row in rows:
            assert not lockable_elsewhere(company_a, [row.pk])
    assert lockable_elsewhere(company_a, [row.pk for row in rows])  # released at commit


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("held", ["first", "last"])
def test_the_one_statement_locks_stock_rows_in_key_order(company_a, make_shop, held):
    """Another transaction holds one key's row: the statement waits there, having locked the
    rows of the keys before it and none after — the (variant, pdv) order every document
    locks in, which keeps two of them from deadlocking."""
    shop = make_shop(company_a)
    with tenant_context(company_a):
        rows = list(Stock.objects.filter(pdv=shop.pdv).order_by("variant_id"))
    assert len(rows) >= 3
    keys = [(str(row.variant_id), str(row.pdv_id)) for row in rows]
    position = 0 if held == "first" else len(rows) - 1

    def hold():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM inventory_stock WHERE id = %s FOR UPDATE", [rows[position].pk]
            )

    def lock():
        with tenant_context(company_a), transaction.atomic():
            return _stocks_locked_if_all_exist(keys)

    others = [index for index in range(len(rows)) if index != position]
    locked, locked_rows = while_blocked(
        company_a,
        hold,
        lock,
        probe=lambda: [not lockable_elsewhere(company_a, [rows[index].pk]) for index in others],
    )
    assert locked == [index < position for index in others]
    assert [stock.pk for stock in locked_rows] == [row.pk for row in rows]


def test_bulk_create_is_one_insert_with_djangos_values(company_a):
    with tenant_context(company_a):
        notes = [Note(title=f"n{i}", amount=i) for i in range(3)]
        with CaptureQueriesContext(connection) as queries:
            created = Note.objects.bulk_create(notes)
        assert created == notes and len(queries) == 1
        assert queries[0]["sql"].startswith(f'INSERT INTO "{Note._meta.db_table}"')
        assert "RETURNING" not in queries[0]["sql"]
        for note in notes:
            assert note._state.adding is False and note._state.db == "default"
            stored = Note.objects.get(pk=note.pk)
            assert values(stored) == values(note)  # tenant, timestamps (auto_now) included
            assert stored.tenant_id == company_a.pk and stored.created_at is not None
        # A value the database computes, and options, take Django's own path, as before.
        Note.objects.bulk_create([Note(title="computed", amount=Value(7))])
        Note.objects.bulk_create([Note(title="n0", amount=9)], ignore_conflicts=True)
        assert Note.objects.get(title="computed").amount == 7
        assert Note.objects.get(title="n0").amount == 0
        assert Note.objects.bulk_create([]) == []


def test_bulk_create_keeps_json_and_nulls(company_a, make_member):
    """JSON and nulls go in as the ORM sends them. (A POS sale's invoice, lines and payments,
    with their decimals and dates, are compared with their read-back in test_pos_api.)"""
    from ally360.models import IdempotencyRecord

    user = make_member(company_a, Role.OWNER)
    with tenant_context(company_a):
        records = [
            IdempotencyRecord(
                user=user, key="a", scope="s", fingerprint="f", response_body={"t": "1.50"}
            ),
            IdempotencyRecord(user=user, key="b", scope="s", fingerprint="f", status_code=None),
        ]
        IdempotencyRecord.objects.bulk_create(records)
        stored = {r.key: r for r in IdempotencyRecord.objects.all()}
        assert stored["a"].response_body == {"t": "1.50"} and stored["b"].response_body is None
        assert stored["b"].status_code is None


def test_writes_run_together_are_one_statement_that_stands_or_falls_whole(company_a):
    """A POS sale's stock, ledger, invoice, lines and payments go in this way (the answer is
    compared with the invoice read back in test_pos_api, the stock in the sales tests)."""
    from django.db import IntegrityError

    from ally360.models import Writes

    with tenant_context(company_a):
        kept = Note.objects.create(title="kept", amount=1)
        first, second = [Note(title="t1"), Note(title="t2")], [Note(title="t3", amount=3)]
        writes = Writes()
        writes.create(Note, first)
        kept.amount = 5
        writes.update(Note, [kept], ["amount"])
        writes.create(Note, second)
        writes.update(Note, [], ["amount"])  # nothing to write: left out
        with CaptureQueriesContext(connection) as queries:
            writes.run()
        assert len(queries) == 1 and queries[0]["sql"].startswith("WITH w0 AS (INSERT INTO")
        assert "w1 AS (UPDATE" in queries[0]["sql"]
        assert all(note._state.adding is False for note in first + second)
        assert sorted(Note.objects.values_list("title", "amount")) == [
            ("kept", 5),
            ("t1", 0),
            ("t2", 0),
            ("t3", 3),
        ]
        writes.run()  # ran once: nothing left to write
        assert Note.objects.count() == 4
        kept.amount = 9
        writes.update(Note, [kept], ["amount"])
        writes.create(Note, [Note(title="t4")])
        writes.create(Note, [Note(title="t1")])
        with pytest.raises(IntegrityError), transaction.atomic():
            writes.run()
        assert not Note.objects.filter(title="t4").exists()  # the other parts went with it
        assert Note.objects.get(pk=kept.pk).amount == 5


def test_writes_that_cannot_be_one_statement_run_one_by_one(company_a):
    """A value the database computes takes Django's own `bulk_create` and `bulk_update`."""
    from ally360.models import Writes

    with tenant_context(company_a):
        kept = Note.objects.create(title="kept", amount=1)
        kept.amount = Value(7)
        writes = Writes()
        writes.update(Note, [kept], ["amount"])
        writes.create(Note, [Note(title="t1", amount=2)])
        with CaptureQueriesContext(connection) as queries:
            writes.run()
        assert len(queries) == 2
        assert sorted(Note.objects.values_list("title", "amount")) == [("kept", 7), ("t1", 2)]


def test_hand_written_instances_are_the_orms_instances(company_a, make_shop, make_member):
    """`ModelColumns` builds instances without `Model.__init__`: the same attributes, state
    and related-object caching as the ORM's."""
    shop = make_shop(company_a)
    cashier = make_member(company_a, Role.SELLER)
    with tenant_context(company_a), transaction.atomic():
        shift_open(register=shop.register, user=cashier, role=Role.SELLER, opening_cash=5)
        shift, _defaults = _shift_for_sale(cashier)
        expected = shift_open_for_user(cashier)
        for built, orm in [(shift, expected), (shift.register.pdv, expected.register.pdv)]:
            assert type(built) is type(orm)
            assert built.__dict__.keys() - {"_prefetched_objects_cache"} == (
                orm.__dict__.keys() - {"_prefetched_objects_cache"}
            )
            assert (built._state.adding, built._state.db) == (False, "default")
            assert built == orm and hash(built) == hash(orm)
        # A relation not read with it is fetched and cached as usual; one read with it is not.
        with CaptureQueriesContext(connection) as queries:
            assert shift.register.pdv.pk == shop.pdv.pk
            assert shift.user == cashier and shift.user is shift.user
        assert len(queries) == 1


def test_long_insert_statements_are_parsed_once(company_a):
    """psycopg keeps the parsed form of the long statements `bulk_create` assembles (a sale's
    invoice, lines and payment have ~100 parameters), instead of parsing them per request."""
    from psycopg import _queries

    with tenant_context(company_a):
        Note.objects.bulk_create([Note(title=f"warm{i}") for i in range(30)])
        before = _queries._query2pg.cache_info()
        Note.objects.bulk_create([Note(title=f"n{i}") for i in range(30)])  # >50 parameters
        after = _queries._query2pg.cache_info()
    assert after.hits > before.hits and after.misses == before.misses


@pytest.mark.filterwarnings("ignore:DateTimeField .* received a naive datetime:RuntimeWarning")
def test_values_are_prepared_for_saving_as_django_prepares_them():
    """`prepared_for_save` passes through, unconverted, only what Django's `get_db_prep_save`
    would answer unchanged: checked for every field of every model, with values of each kind."""
    import datetime
    from decimal import Decimal

    from django.apps import apps
    from django.core.exceptions import ValidationError
    from django.utils import timezone

    from ally360.db import prepared_for_save
    from invoices.models import PaymentMethod

    samples = [
        None,
        uuid.uuid4(),
        str(uuid.uuid4()),
        "text",
        "",
        PaymentMethod.CASH,
        Decimal("12.50"),
        Decimal("NaN"),
        Decimal("Infinity"),
        timezone.now(),
        datetime.datetime(2026, 1, 2, 3, 4),  # naive
        datetime.date(2026, 1, 2),
        7,
        True,
        {"a": "1"},
        [1, 2],
    ]
    checked = 0
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            for value in samples:
                try:
                    expected = field.get_db_prep_save(value, connection)
                except (ValidationError, TypeError, ValueError, ArithmeticError) as error:
                    with pytest.raises(type(error)):
                        prepared_for_save([field], [value], connection)
                    continue
                prepared = prepared_for_save([field], [value], connection)[0]
                assert type(prepared) is type(expected), (field, value)
                assert repr(prepared) == repr(expected), (field, value)
                checked += 1
    assert checked > 1000


@pytest.mark.parametrize("session_zone", ["UTC", "America/Bogota"])
def test_timestamps_are_read_as_djangos_loader_reads_them(session_zone):
    """`load_timestamps_in_c` answers what Django's loader answers, for every shape of text
    PostgreSQL sends (fractions of any length, the first and last years, BC, infinity, another
    session time zone): the same value, or the same error."""
    import psycopg
    from django.db import DataError
    from django.db.backends.postgresql.psycopg_any import BaseTzLoader

    class DjangosLoader(BaseTzLoader):
        timezone = connection.timezone

    literals = [
        "2026-12-07 02:30:43.123456+00",
        "2026-12-07 02:30:43.12+00",
        "2026-12-07 02:30:43.1+00",
        "2026-12-07 02:30:43+00",
        "2026-06-30 23:59:59.999999-05",
        "0001-01-01 00:00:00+00",
        "9999-12-31 23:59:59.999999+00",
        "0044-03-15 12:00:00+00 BC",
        "infinity",
        "-infinity",
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        assert cursor.adapters.get_loader(1184, 0).__name__ == "UtcTimestamptzLoader"
        cursor.execute("SELECT set_config('TimeZone', %s, true)", [session_zone])
        for literal in literals:
            cursor.execute("SELECT %s::timestamptz::text", [literal])
            (text,) = cursor.fetchone()
            reference = DjangosLoader(1184, cursor.connection)
            try:
                expected = reference.load(text.encode())
            except psycopg.DataError:  # out of Python's range
                expected = "DataError"
            try:
                cursor.execute("SELECT %s::timestamptz", [literal])
                (found,) = cursor.fetchone()
            except DataError:  # Django's wrapping of psycopg's
                found = "DataError"
            assert found == expected, text
            if isinstance(found, datetime):
                assert found.tzinfo is expected.tzinfo and found.utcoffset() == expected.utcoffset()
