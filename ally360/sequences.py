"""Gap-free internal document numbers per tenant (adjustments, transfers, bills...).

DIAN numbering ranges (invoices) have their own model with resolution rules; both take the next
number under a row lock inside the issuing transaction.
"""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone

from .db import insert_values
from .tenancy import require_tenant_id


def next_number(kind: str, *, prefix: str = "") -> str:
    """Take the next number of `kind` for the current tenant. Call inside the document's
    transaction: a rollback gives the number back, so numbers have no gaps."""
    from .models import DocumentSequence

    tenant_id = require_tenant_id()
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("next_number() must run inside the document's transaction.")
    # One statement instead of create-if-missing, lock and update: the upsert creates the
    # sequence at 1 or increments it, and its row lock holds until the document's transaction
    # ends, so concurrent documents queue on it. PostgreSQL and SQLite (3.35+) both speak it.
    now = timezone.now()
    values = {
        "id": uuid.uuid4(),
        "tenant": tenant_id,
        "created_at": now,
        "updated_at": now,
        "kind": kind,
    }
    columns, placeholders, params = insert_values(DocumentSequence, values, connection)
    quote = connection.ops.quote_name
    table = quote(DocumentSequence._meta.db_table)
    next_value = quote(DocumentSequence._meta.get_field("next_value").column)
    updated_at = quote(DocumentSequence._meta.get_field("updated_at").column)
    unique = ", ".join(
        quote(DocumentSequence._meta.get_field(name).column) for name in ("tenant", "kind")
    )
    with connection.cursor() as cursor:
        # Only identifiers from the model's metadata are formatted in; values are parameters.
        cursor.execute(
            f"INSERT INTO {table} ({columns}, {next_value}) "  # noqa: S608
            f"VALUES ({placeholders}, 2) "
            f"ON CONFLICT ({unique}) DO UPDATE SET {next_value} = {table}.{next_value} + 1, "
            f"{updated_at} = excluded.{updated_at} "
            f"RETURNING {next_value} - 1",
            params,
        )
        number = cursor.fetchone()[0]
    return f"{prefix}{number:05d}" if prefix else str(number)
