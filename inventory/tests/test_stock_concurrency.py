"""Concurrent movements on the same stock rows, with real threads on PostgreSQL."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Sum

from ally360.exceptions import Conflict
from ally360.tenancy import tenant_context
from inventory.models import Stock, StockMovement
from inventory.services import Movement, Reference, stock_apply, transfer_create
from pos.models import PDV
from products.models import Variant

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_in_threads(count, work):
    """Start `count` threads together; return (results, errors) by index."""
    barrier = threading.Barrier(count)
    results, errors = {}, {}

    def target(index):
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # collected and asserted by the test
            errors[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def ledger_matches(company, variant, pdv):
    with tenant_context(company):
        stock = Stock.objects.get(variant=variant, pdv=pdv)
        total = StockMovement.objects.filter(variant=variant, pdv=pdv).aggregate(s=Sum("quantity"))
        assert stock.quantity == total["s"]
        return stock.quantity


def test_twenty_sellers_racing_for_ten_units(company_a, make_product, main_pdv):
    product = make_product(company_a, stock={None: 10})
    pdv = main_pdv(company_a)
    with tenant_context(company_a):
        variant = Variant.objects.get(product=product)

    def sell(index):
        with tenant_context(company_a), transaction.atomic():
            stock_apply(
                [Movement(variant, pdv, Decimal("-1"), "sale")],
                reference=Reference("invoice", None, f"T{index}"),
            )
        return "sold"

    results, errors = run_in_threads(20, sell)
    assert len(results) == 10
    assert len(errors) == 10
    assert all(isinstance(e, Conflict) and e.code == "insufficient_stock" for e in errors.values())
    assert ledger_matches(company_a, variant, pdv) == 0


def test_crossing_movements_on_two_rows_never_lose_an_update_or_deadlock(
    company_a, make_product, main_pdv
):
    first = make_product(company_a, sku="V1", stock={None: 100})
    second = make_product(company_a, sku="V2", stock={None: 100})
    pdv = main_pdv(company_a)
    with tenant_context(company_a):
        v1, v2 = Variant.objects.get(product=first), Variant.objects.get(product=second)

    def swap(index):
        # Half the threads list the rows in one order, half in the other.
        out_variant, in_variant = (v1, v2) if index % 2 else (v2, v1)
        with tenant_context(company_a), transaction.atomic():
            stock_apply(
                [
                    Movement(out_variant, pdv, Decimal("-3"), "sale"),
                    Movement(in_variant, pdv, Decimal("2"), "sale_return", Decimal("500")),
                ],
                reference=Reference("test", None, str(index)),
            )
        return index

    results, errors = run_in_threads(24, swap)
    assert errors == {}
    assert len(results) == 24
    # Each variant: 12 threads took 3 out and 12 threads brought 2 in.
    assert ledger_matches(company_a, v1, pdv) == 100 - 36 + 24
    assert ledger_matches(company_a, v2, pdv) == 100 - 36 + 24


def test_concurrent_transfers_keep_both_points_of_sale_exact(company_a, make_product, main_pdv):
    product = make_product(company_a, stock={None: 50})
    origin = main_pdv(company_a)
    with tenant_context(company_a):
        variant = Variant.objects.get(product=product)
        destination = PDV.objects.create(name="Norte", code="N1")

    def move(index):
        source, target = (origin, destination) if index % 4 else (destination, origin)
        with tenant_context(company_a):
            transfer_create(
                origin=source,
                destination=target,
                lines=[{"variant": variant, "quantity": Decimal("1")}],
            )
        return index

    results, errors = run_in_threads(16, move)
    # The few moves back from the (initially empty) destination may find it empty.
    assert all(isinstance(e, Conflict) for e in errors.values())
    at_origin = ledger_matches(company_a, variant, origin)
    at_destination = ledger_matches(company_a, variant, destination)
    assert at_origin + at_destination == 50
    with tenant_context(company_a):
        numbers = sorted(
            StockMovement.objects.filter(kind="transfer_out").values_list(
                "reference_number", flat=True
            )
        )
    assert numbers == [f"TR-{n:05d}" for n in range(1, len(results) + 1)]
