"""PostgreSQL helpers: plan caching, and bulk updates in one statement (`update_rows`).

Plan caching: custom plans by default, generic plans for writes.

With `DATABASE_PREPARED_STATEMENTS` (the default) psycopg prepares a statement after it ran 5
times on a connection. PostgreSQL may then reuse one generic plan for it, skipping the planner
(most of the database time of a sale's short statements, whose row-level-security predicate
makes each one costly to plan). A generic plan cannot see which company it runs for, though:
for a list of a company with 100,000 invoices it picks the plan fit for an average one and
sorts the whole company (130 ms instead of 0.1 ms). So connections plan every execution
(`plan_cache_mode = force_custom_plan`, see settings) and a write request, whose statements
go to rows by key, allows generic plans for its own transaction only (in the statement that
sets its tenant: `ally360.tenancy.activate_tenant`).
"""

import threading
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init

# The API sends it with the tenant setting of a write request (`activate_tenant`).
GENERIC_PLANS_SQL = "set_config('plan_cache_mode', 'auto', true)"

# psycopg parses a statement's `%s` placeholders into PostgreSQL's `$n` once and keeps the
# result (an LRU of 128 statements), but only for statements of at most 4,096 bytes and 50
# parameters: it assumes longer ones are one-off ORM inserts. The statements of `insert_rows`
# and `write_together` are long and few (one text per model and row count): a sale's
# invoice, lines and payment (97 parameters) was parsed anew on every request, a twentieth of
# the sale. Its limits are module settings read on every call.
CACHED_STATEMENT_LENGTH = 32_768
CACHED_STATEMENT_PARAMS = 1_000


def cache_long_statements() -> None:
    """Let psycopg keep the parsed form of statements up to the limits above."""
    from psycopg import _queries

    _queries.MAX_CACHED_STATEMENT_LENGTH = max(
        _queries.MAX_CACHED_STATEMENT_LENGTH, CACHED_STATEMENT_LENGTH
    )
    _queries.MAX_CACHED_STATEMENT_PARAMS = max(
        _queries.MAX_CACHED_STATEMENT_PARAMS, CACHED_STATEMENT_PARAMS
    )


def load_timestamps_in_c(connection) -> None:
    """On a new psycopg connection of a UTC session (`USE_TZ`, Django's default), read
    `timestamptz` values with the C `datetime.fromisoformat` instead of psycopg's Python
    parser under Django's loader (a POS sale reads about 60 of them: a twentieth of its
    Python). The same values: an aware UTC datetime; anything else (another offset, a year
    past 9999, BC, infinity) goes to Django's loader as before."""
    from django.db.backends.postgresql.psycopg_any import BaseTzLoader

    if connection.timezone is not UTC:
        return

    class UtcTimestamptzLoader(BaseTzLoader):
        timezone = UTC

        def load(self, data):
            try:
                value = datetime.fromisoformat(str(data, "ascii"))
            except ValueError:
                return super().load(data)
            if value.tzinfo is not UTC:  # an offset other than +00
                return super().load(data)
            return value

    connection.connection.adapters.register_loader("timestamptz", UtcTimestamptzLoader)


def plain_thread_local_connections() -> None:
    """Keep Django's database connections in a `threading.local` instead of asgiref's `Local`.

    Django asks for `connections[alias]` some sixty times in a POS sale (every transaction,
    cursor and queryset does). asgiref's thread-critical `Local` answers each through its
    `__getattr__`: Python first builds an AttributeError for the plain lookup that misses,
    then asgiref raises and catches a RuntimeError to learn no event loop is running. A
    `threading.local` holds the connection as a plain attribute: 3 % of a sale's Python.
    In a thread with no event loop, asgiref's `Local` is documented to behave exactly as a
    `threading.local`; Django touches connections only in such threads (async code reaches
    the database through `sync_to_async`, and the ORM refuses to run in an event loop). Only
    code that runs the ORM inside an event loop anyway (`DJANGO_ALLOW_ASYNC_UNSAFE`: a
    browser test's set-up) sees a difference: its tasks share the thread's connection instead
    of one each. The connections this thread already opened are kept."""

    from django.db import connections

    current = connections._connections
    if type(current) is threading.local:
        return
    plain = threading.local()
    for alias in connections.settings:
        try:
            setattr(plain, alias, getattr(current, alias))
        except AttributeError:  # not opened in this thread
            continue
    connections._connections = plain


def allow_generic_plans(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """Let PostgreSQL reuse generic plans until the current transaction ends."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {GENERIC_PLANS_SQL}")


def serialize_in_tenant(name: str, *, tenant=None, using: str = DEFAULT_DB_ALIAS) -> None:
    """Make concurrent transactions of one company (the current one unless `tenant` is given)
    that call this with one `name` run one after the other, until the transaction ends (a
    transaction-level advisory lock). For a rule over rows that a row lock cannot cover,
    because the rows that matter may not exist yet or may change which they are while a
    statement waits (one logo, one main point of sale, one default price list, at least one
    owner). It takes no row lock, so it holds up no insert's foreign-key check. SQLite writes
    one transaction at a time anyway."""
    from ally360.tenancy import require_tenant_id

    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"{tenant or require_tenant_id()}:{name}"],
        )


def without_jit(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """Turn PostgreSQL's JIT off until the current transaction ends, for a statement whose large
    cost estimate would have it compile for longer than the work takes (a past day's receivables
    of 100,000 invoices: 0.3 s of work, 1.5 s of compiling). Set per transaction rather than per
    connection, so it also passes through a pooler in transaction mode."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('jit', 'off', true)")


def update_rows(queryset, objs: list, field_names: list[str]) -> int | None:
    """`bulk_update()` as one `UPDATE … FROM (VALUES …)` on PostgreSQL; None when this form does
    not apply (another database, a join, expressions among the values), for Django's own to run.

    Django's bulk_update builds a `CASE WHEN pk = … THEN …` expression per field over every
    row; for the three rows of a sale's stock that was 10 % of the request. Here the rows are
    joined by primary key, inside the queryset's own conditions (the tenant), with Django's
    checks and semantics: the first object of a primary key wins, the count of rows is returned.
    """
    statement = _update_parts(queryset, objs, field_names)
    if statement is None or statement is NOTHING_TO_WRITE:
        return None if statement is None else 0
    sql, params = statement
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


# `_update_parts` of objects no row matches: nothing to send (compared by identity).
NOTHING_TO_WRITE = ("", ())


def _update_parts(queryset, objs: list, field_names: list[str]) -> tuple[str, list] | None:
    """`update_rows`' statement and its parameters; None where that form does not apply,
    `NOTHING_TO_WRITE` when no row can match."""
    queryset._for_write = True
    connection = connections[queryset.db]
    query = queryset.query
    # Conditions on the table's own columns only (the tenant, plain filters): a join, a union or
    # an aggregate needs Django's subquery form.
    referenced = [alias for alias, count in query.alias_refcount.items() if count]
    simple = (
        len(referenced) <= 1
        and not (query.is_sliced or query.distinct or query.combinator or query.extra_tables)
        and not query.where.contains_aggregate
    )
    if connection.vendor != "postgresql" or not simple:
        return None
    meta = queryset.model._meta
    fields = _checked_fields(meta, objs, field_names)
    rows = {}
    for obj in objs:
        related_fields_prepared(obj, "bulk_update", fields)
        rows.setdefault(obj.pk, [getattr(obj, field.attname) for field in fields])
    if any(hasattr(value, "resolve_expression") for row in rows.values() for value in row):
        return None
    if not rows:
        return NOTHING_TO_WRITE
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = [meta.pk, *fields]
    casts = ", ".join(f"CAST(%s AS {field.db_type(connection)})" for field in columns)
    values = ", ".join([f"({casts})"] * len(rows))
    assignments = ", ".join(
        f"{quote(field.column)} = v.column{position}"
        for position, field in enumerate(fields, start=2)
    )
    try:
        where, where_params = query.get_compiler(queryset.db).compile(query.where)
    except FullResultSet:
        where, where_params = "", []
    except EmptyResultSet:
        return NOTHING_TO_WRITE
    # Only identifiers from the model's metadata are formatted in; values are parameters.
    sql = (
        f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v "  # noqa: S608
        f"WHERE {table}.{quote(meta.pk.column)} = v.column1" + (f" AND {where}" if where else "")
    )
    params = prepared_for_save(
        columns * len(rows), [v for pk, row in rows.items() for v in (pk, *row)], connection
    )
    return sql, [*params, *where_params]


# psycopg's limit is 65,535 parameters a statement; larger inserts go to Django's batches.
_MAX_INSERT_PARAMS = 16_000
_insert_statements: dict[tuple, str] = {}


def insert_rows(queryset, objs: list) -> bool:
    """`bulk_create(objs)` (no options) on PostgreSQL as one INSERT whose text is assembled once
    per model and row count; False, with nothing written, where this form does not apply
    (another database, values computed by the database, a large batch), for Django's own.

    Django's compiler builds the statement anew on each call: for the three small inserts of
    a sale (its lines, payments and stock movements) that was a tenth of the request. Django's
    preparation and per-field semantics are kept: primary keys and related ids as
    `bulk_create` sets them, `pre_save` (auto_now), `get_db_prep_save`."""
    return write_together([("create", queryset, objs)])


def write_together(writes: list[tuple]) -> bool:
    """Each write in turn — `("create", queryset, objs)` as `insert_rows`, `("update",
    queryset, objs, field_names)` as `update_rows` — in one statement: the first ones as
    data-modifying WITH queries of the last (one round trip for a document, its lines and the
    stock it moves). All of them see the database as it was before the statement, so none may
    depend on another's rows; foreign keys are checked at commit (Django makes them deferred on
    PostgreSQL), so a row may name one inserted beside it. False, with nothing written, where
    any does not apply."""
    writes = [write for write in writes if write[2]]
    if not writes:
        return False
    parts = [  # marks the querysets as writes
        _insert_parts(queryset, objs)
        if kind == "create"
        else _update_parts(queryset, objs, list(fields[0]))
        for kind, queryset, objs, *fields in writes
    ]
    using = writes[0][1].db
    if None in parts or any(queryset.db != using for _kind, queryset, *_rest in writes):
        return False
    parts = [part for part in parts if part is not NOTHING_TO_WRITE]
    if parts:
        *first, (last_sql, _last_params) = parts
        sql = (
            "WITH "
            + ", ".join(f"w{i} AS ({part_sql})" for i, (part_sql, _p) in enumerate(first))
            + f" {last_sql}"
            if first
            else last_sql
        )
        params = [param for _sql, part_params in parts for param in part_params]
        # In a transaction as Django's bulk_create is (the tenant guard asks for one).
        connection = connections[using]
        with transaction.atomic(using=using, savepoint=False), connection.cursor() as cursor:
            cursor.execute(sql, params)
    for kind, _queryset, objs, *_fields in writes:
        if kind == "create":
            for obj in objs:
                obj._state.adding = False
                obj._state.db = using
    return True


def _insert_parts(queryset, objs: list) -> tuple[str, list] | None:
    """The INSERT of `objs` and its parameters, prepared as `bulk_create` prepares them; None
    where this form does not apply."""
    connection = connections[queryset.db]
    meta = queryset.model._meta
    fields = [field for field in meta.concrete_fields if not field.generated]
    if (
        connection.vendor != "postgresql"
        or meta.parents
        or meta.db_returning_fields
        or len(objs) * len(fields) > _MAX_INSERT_PARAMS
    ):
        return None
    queryset._for_write = True
    # Django's `_prepare_for_bulk_create` for a database that takes DEFAULT in a bulk insert.
    for obj in objs:
        if not obj._is_pk_set():
            obj.pk = meta.pk.get_pk_value_on_save(obj)
        related_fields_prepared(obj, "bulk_create")
    if not all(obj._is_pk_set() for obj in objs):
        return None
    values = [field.pre_save(obj, True) for obj in objs for field in fields]
    params = _prepared_unless_computed(fields * len(objs), values, connection)
    if params is None:
        return None
    key = (meta.label, len(objs))
    sql = _insert_statements.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(field.column) for field in fields)
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        rows = ", ".join([row] * len(objs))
        # Only identifiers from the model's metadata are formatted in; values are parameters.
        sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {rows}"  # noqa: S608
        _insert_statements[key] = sql
    return sql, params


def prepared_for_save(fields: list, values: list, connection) -> list:
    """`field.get_db_prep_save(value, connection)` of each pair, for the values that Django
    passes through unchanged (a UUID, a string, a finite decimal, an aware datetime, a date,
    None) without Django's chain of conversion calls: a sale prepares about 170 values, and
    the calls were a twentieth of it. Any other value, or field class, takes Django's path
    (a test checks both agree for every field of every model)."""
    passes = _passes_unchanged(connection)
    return [
        value
        if (check := passes.get(type(field))) is not None and check(field, value)
        else field.get_db_prep_save(value, connection)
        for field, value in zip(fields, values, strict=True)
    ]


def _prepared_unless_computed(fields: list, values: list, connection) -> list | None:
    """`prepared_for_save`, or None when a value is an expression for the database to compute
    (checked only on the values that are not plain ones)."""
    passes = _passes_unchanged(connection)
    prepared = []
    for field, value in zip(fields, values, strict=True):
        check = passes.get(type(field))
        if check is not None and check(field, value):
            prepared.append(value)
        elif hasattr(value, "resolve_expression"):
            return None
        else:
            prepared.append(field.get_db_prep_save(value, connection))
    return prepared


_relation_fields: dict = {}


def related_fields_prepared(obj, operation_name: str, fields=None) -> None:
    """`obj._prepare_related_fields_for_save(operation_name, fields)`, Django 5.2's steps and
    messages, over the model's foreign keys only: Django's walks every column looking for them
    (the rows of a sale: 11 instances, 200 columns). A model with private relations (a
    generic foreign key) takes Django's own. A test compares the two."""
    model = type(obj)
    relations = _relation_fields.get(model)
    if relations is None:
        meta = model._meta
        relations = _relation_fields[model] = (
            False
            if any(field.is_relation for field in meta.private_fields)
            else [field for field in meta.concrete_fields if field.is_relation]
        )
    if relations is False:
        obj._prepare_related_fields_for_save(operation_name=operation_name, fields=fields)
        return
    for field in relations:
        if (fields and field not in fields) or not field.is_cached(obj):
            continue
        related = getattr(obj, field.name, None)
        if not related:
            continue
        if not related._is_pk_set():
            if not field.remote_field.multiple:
                field.remote_field.delete_cached_value(related)
            raise ValueError(
                f"{operation_name}() prohibited to prevent data loss due to unsaved related "
                f"object '{field.name}'."
            )
        key = getattr(obj, field.attname)
        # A UUID is never one of the empty values: `in` would call UUID.__eq__ (Python) on each.
        if type(key) is not uuid.UUID and key in field.empty_values:
            setattr(obj, field.name, related)  # saved after it was assigned
            key = getattr(obj, field.attname)
        if getattr(related, field.target_field.attname) != key:
            field.delete_cached_value(obj)  # its key changed since


def _passes_unchanged(connection) -> dict:
    """Field class → `check(field, value)`: True when Django's `get_db_prep_save` answers the
    value itself. Exact classes only: a subclass may convert differently."""
    cache_key = (connection.vendor, settings.USE_TZ)
    checks = _unchanged_checks.get(cache_key)
    if checks is not None:
        return checks

    def text(_field, value):
        return value is None or isinstance(value, str)  # to_python keeps any str

    def decimal(_field, value):
        return value is None or (type(value) is Decimal and value.is_finite())

    def aware_datetime(_field, value):
        return value is None or (type(value) is datetime and value.tzinfo is not None)

    def plain_date(_field, value):
        return value is None or type(value) is date

    def uuid_value(_field, value):
        return value is None or type(value) is uuid.UUID

    def foreign_key(field, value):
        # Django answers None for None, else the target field's own preparation.
        if value is None:
            return True
        check = checks.get(type(field.target_field))
        return check is not None and check(field.target_field, value)

    checks = {
        models.CharField: text,
        models.TextField: text,
        models.DecimalField: decimal,
        models.DateTimeField: aware_datetime if settings.USE_TZ else None,
        models.DateField: plain_date,
        models.ForeignKey: foreign_key,
    }
    if connection.features.has_native_uuid_field:
        checks[models.UUIDField] = uuid_value
    checks = {kind: check for kind, check in checks.items() if check is not None}
    _unchanged_checks[cache_key] = checks
    return checks


_unchanged_checks: dict[tuple, dict] = {}


def insert_values(model, values: dict, connection) -> tuple[str, str, list]:
    """For a hand-written `INSERT INTO <table> (<columns>) VALUES (<placeholders>)` of one row:
    the quoted columns and the placeholders of `values` (field name → value), and the values
    prepared as the ORM would. Only identifiers from the model's metadata are formatted into
    SQL; values stay parameters."""
    fields = [model._meta.get_field(name) for name in values]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    params = [
        field.get_db_prep_value(value, connection)
        for field, value in zip(fields, values.values(), strict=True)
    ]
    return columns, placeholders, params


def _checked_fields(meta, objs: list, field_names: list[str]) -> list:
    """Django's bulk_update() argument checks, with its messages."""
    if not field_names:
        raise ValueError("Field names must be given to bulk_update().")
    if not all(obj._is_pk_set() for obj in objs):
        raise ValueError("All bulk_update() objects must have a primary key set.")
    fields = [meta.get_field(name) for name in field_names]
    if any(not field.concrete or field.many_to_many for field in fields):
        raise ValueError("bulk_update() can only be used with concrete fields.")
    if any(field.primary_key for field in fields):
        raise ValueError("bulk_update() cannot be used with primary key fields.")
    return fields


class ModelColumns:
    """A model's columns in a hand-written SELECT, and its instances from the rows, converted
    as the ORM converts them (for the few hot reads whose SQL the ORM would otherwise build
    anew on every request: compiling a query costs more Python than running it).

    `columns` is the SELECT list of every concrete field under `alias`; `instance(row, start)`
    takes the model's values from `row` at `start` and answers the instance, or None when they
    are all NULL (a LEFT JOIN that found nothing). Only identifiers from the model's metadata
    are formatted into SQL."""

    def __init__(self, model, alias: str | None, *, using: str = DEFAULT_DB_ALIAS):
        self.model = model
        self.using = using
        fields = model._meta.concrete_fields
        quote = connections[using].ops.quote_name
        prefix = f"{alias}." if alias else ""  # none for SQLite's RETURNING
        self.columns = ", ".join(f"{prefix}{quote(field.column)}" for field in fields)
        self.width = len(fields)
        self._attnames = [field.attname for field in fields]
        self._converters = None
        self._signals = True

    def instance(self, row, start: int = 0):
        values = list(row[start : start + self.width])
        if all(value is None for value in values):
            return None
        if self._converters is None:  # the connection's, on first use
            self._signals = pre_init.has_listeners(self.model) or post_init.has_listeners(
                self.model
            )
            connection = connections[self.using]
            converters = []
            for position, field in enumerate(self.model._meta.concrete_fields):
                column = field.get_col(self.model._meta.db_table)
                found = [
                    *connection.ops.get_db_converters(column),
                    *column.get_db_converters(connection),
                ]
                if found:
                    converters.append((position, found, column))
            self._converters = converters
        connection = connections[self.using]
        for position, functions, column in self._converters:
            for convert in functions:
                values[position] = convert(values[position], column, connection)
        if self._signals:
            return self.model.from_db(self.using, self._attnames, values)
        # What `from_db` does for a whole row, without `Model.__init__`'s generic per-field
        # loop and its descriptors' checks, which guard against state a new instance does not
        # have (a sale reads ~30 instances: `__init__` was a twelfth of it). A model with
        # init signals (an image field's dimensions) takes `from_db`.
        instance = self.model.__new__(self.model)
        instance.__dict__.update(zip(self._attnames, values, strict=True))
        state = ModelState()
        state.adding = False
        state.db = self.using
        instance._state = state
        return instance

    @staticmethod
    def instances(readers: list["ModelColumns"], row) -> list:
        """Each reader's instance from `row`, whose columns are theirs in turn."""
        found, start = [], 0
        for reader in readers:
            found.append(reader.instance(row, start))
            start += reader.width
        return found


class HandWritten:
    """A hand-written statement whose `{columns}` are the concrete columns of some models under
    their aliases (`ModelColumns`), assembled on first use (the models are not ready at import),
    and its rows as those models' instances. Only identifiers from the models' metadata are
    formatted in; values are parameters."""

    def __init__(self, template: str, *models: tuple, using: str = DEFAULT_DB_ALIAS):
        self._template = template
        self._models = models
        self.using = using
        self._readers: list[ModelColumns] = []
        self._sql: str | None = None

    def rows(self, params) -> list[list]:
        """[[instance of each model, or None], …] for each row the statement answers."""
        if self._sql is None:
            self._readers = [
                ModelColumns(model, alias, using=self.using) for model, alias in self._models
            ]
            columns = ", ".join(reader.columns for reader in self._readers)
            self._sql = self._template.replace("{columns}", columns)
        with connections[self.using].cursor() as cursor:
            cursor.execute(self._sql, params)
            # Every hand-written statement answers rows (a SELECT, or RETURNING); asking for
            # `description` first would build a column object for each of its ~100 columns.
            rows = cursor.fetchall()
        return [ModelColumns.instances(self._readers, row) for row in rows]
