"""PostgreSQL helpers: plan caching, and bulk updates in one statement (`update_rows`).

Plan caching: custom plans by default, generic plans for writes.

With `DATABASE_PREPARED_STATEMENTS` (the default) psycopg prepares a statement after it ran 5
times on a connection. PostgreSQL may then reuse one generic plan for it, skipping the planner
(most of the database time of a sale's short statements, whose row-level-security predicate
makes each one costly to plan). A generic plan cannot see which company it runs for, though:
for a list of a company with 100,000 invoices it picks the plan fit for an average one and
sorts the whole company (130 ms instead of 0.1 ms). So connections plan every execution
(`plan_cache_mode = force_custom_plan`, see settings) and a write request, whose statements
go to rows by key, allows generic plans for its own transaction only.
"""

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import DEFAULT_DB_ALIAS, connections


def allow_generic_plans(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """Let PostgreSQL reuse generic plans until the current transaction ends."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('plan_cache_mode', 'auto', true)")


def update_rows(queryset, objs: list, field_names: list[str]) -> int | None:
    """`bulk_update()` as one `UPDATE … FROM (VALUES …)` on PostgreSQL; None when this form does
    not apply (another database, expressions among the values), for Django's own to run.

    Django's bulk_update builds a `CASE WHEN pk = … THEN …` expression per field over every
    row; for the three rows of a sale's stock that was 10 % of the request. The rows joined
    by primary key, inside the queryset's own conditions (the tenant), get the same values.
    """
    connection = connections[queryset.db]
    query = queryset.query
    # Conditions on the table itself only (the tenant, filters on its columns): a join would
    # need Django's subquery form.
    simple = len(query.alias_map) <= 1 and not query.is_sliced and not query.distinct
    if connection.vendor != "postgresql" or not objs or not simple:
        return None
    meta = queryset.model._meta
    fields = [meta.pk, *(meta.get_field(name) for name in field_names)]
    rows = [[getattr(obj, field.attname) for field in fields] for obj in objs]
    if any(hasattr(value, "resolve_expression") for row in rows for value in row):
        return None
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    casts = ", ".join(f"CAST(%s AS {field.db_type(connection)})" for field in fields)
    values = ", ".join([f"({casts})"] * len(rows))
    assignments = ", ".join(
        f"{quote(field.column)} = v.column{position}"
        for position, field in enumerate(fields[1:], start=2)
    )
    try:
        where, where_params = query.get_compiler(queryset.db).compile(query.where)
    except FullResultSet:
        where, where_params = "", []
    except EmptyResultSet:
        return 0
    # Only identifiers from the model's metadata are formatted in; values are parameters.
    sql = (
        f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v "  # noqa: S608
        f"WHERE {table}.{quote(meta.pk.column)} = v.column1" + (f" AND {where}" if where else "")
    )
    params = [
        field.get_db_prep_save(value, connection)
        for row in rows
        for field, value in zip(fields, row, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *where_params])
        return cursor.rowcount
