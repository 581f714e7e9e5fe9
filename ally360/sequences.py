"""Gap-free internal document numbers per tenant (adjustments, transfers, bills...).

DIAN numbering ranges (invoices) have their own model with resolution rules; both take the next
number under a row lock inside the issuing transaction.
"""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone

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
    fields = [DocumentSequence._meta.get_field(name) for name in values]
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
            f"INSERT INTO {table} "  # noqa: S608
            f"({', '.join(quote(field.column) for field in fields)}, {next_value}) "
            f"VALUES ({', '.join(['%s'] * len(fields))}, 2) "
            f"ON CONFLICT ({unique}) DO UPDATE SET {next_value} = {table}.{next_value} + 1, "
            f"{updated_at} = excluded.{updated_at} "
            f"RETURNING {next_value} - 1",
            [
                field.get_db_prep_value(value, connection)
                for field, value in zip(fields, values.values(), strict=True)
            ],
        )
        number = cursor.fetchone()[0]
    return f"{prefix}{number:05d}" if prefix else str(number)
