"""Database-layer plumbing set up at start-up or shared by the hand-written writes, on any
database: Django's connections in a plain thread-local (`plain_thread_local_connections`) and
foreign keys prepared as Django prepares them (`related_fields_prepared`)."""

import threading
import uuid

import pytest


def test_each_thread_has_its_own_connections_in_a_plain_thread_local():
    """`plain_thread_local_connections` (at start-up): Django's connections live in a
    `threading.local`, one per thread as with asgiref's thread-critical `Local`."""
    from django.db import connections

    assert type(connections._connections) is threading.local
    mine = connections["default"]
    seen = {}

    def other_thread():
        seen["connection"] = connections["default"]
        seen["again"] = connections["default"]
        connections["default"].close()

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join(timeout=30)
    assert seen["connection"] is seen["again"] and seen["connection"] is not mine
    assert connections["default"] is mine


@pytest.mark.parametrize("case", ["assigned", "unsaved", "saved_after", "key_changed", "other"])
@pytest.mark.parametrize("operation", ["bulk_create", "bulk_update"])
def test_related_fields_are_prepared_as_djangos_model_prepares_them(case, operation):
    """`related_fields_prepared` against Django's `_prepare_related_fields_for_save`: the same
    error, foreign key value and cached related object in every case it handles."""
    from ally360.db import related_fields_prepared
    from invoices.models import Invoice, InvoiceLine

    first, second = uuid.UUID(int=1), uuid.UUID(int=2)

    def scenario():
        if case == "saved_after":  # assigned unsaved, saved before the write
            invoice = Invoice(id=None)
            line = InvoiceLine(invoice=invoice)
            invoice.id = first
        else:
            invoice = Invoice(id=first)
            line = InvoiceLine(invoice=invoice)
            invoice.id = {"unsaved": None, "key_changed": second}.get(case, first)
        fields = None
        if operation == "bulk_update":
            limited = case == "other"  # only other columns written: the relation is not looked at
            fields = [InvoiceLine._meta.get_field("quantity" if limited else "invoice")]
        return line, fields

    outcomes = []
    for prepare in (
        lambda line, fields: line._prepare_related_fields_for_save(operation, fields=fields),
        lambda line, fields: related_fields_prepared(line, operation, fields),
    ):
        line, fields = scenario()
        try:
            prepare(line, fields)
            error = None
        except ValueError as exc:
            error = str(exc)
        outcomes.append((error, line.invoice_id, InvoiceLine.invoice.is_cached(line)))
    assert outcomes[0] == outcomes[1]
