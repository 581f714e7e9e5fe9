"""Gap-free internal document numbers per tenant (adjustments, transfers, bills...).

DIAN numbering ranges (invoices) have their own model with resolution rules; both take the next
number under a row lock inside the issuing transaction.
"""

from __future__ import annotations

from django.db import transaction

from .tenancy import require_tenant_id


def next_number(kind: str, *, prefix: str = "") -> str:
    """Take the next number of `kind` for the current tenant. Call inside the document's
    transaction: a rollback gives the number back, so numbers have no gaps."""
    from .models import DocumentSequence

    require_tenant_id()
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_number() must run inside the document's transaction.")
    DocumentSequence.objects.bulk_create([DocumentSequence(kind=kind)], ignore_conflicts=True)
    sequence = DocumentSequence.objects.select_for_update().get(kind=kind)
    number = sequence.next_value
    sequence.next_value = number + 1
    sequence.save(update_fields=["next_value", "updated_at"])
    return f"{prefix}{number:05d}" if prefix else str(number)
