"""Purchase reads: bill lists, payables with aging, withholding certificates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Count, DecimalField, Prefetch, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from ally360.documents import aging_filters, aging_totals
from ally360.money import money

from .models import Bill, PaymentAllocation, SupplierPayment, Withholding

ZERO_MONEY = Value(Decimal("0"), output_field=DecimalField(max_digits=18, decimal_places=2))


def bill_list() -> QuerySet[Bill]:
    # Not joined with the supplier: see invoices.selectors.invoice_list.
    return Bill.objects.all()


def bill_detail() -> QuerySet[Bill]:
    return Bill.objects.prefetch_related("supplier", "lines", "allocations__payment", "debit_notes")


def supplier_payments() -> QuerySet[SupplierPayment]:
    # Into plain lists (`to_attr`): through the related managers every payment of a page built
    # two QuerySets of its own (half of a 24 ms page). Each allocation's payment is its parent,
    # set by the prefetch without a query.
    return SupplierPayment.objects.prefetch_related(
        Prefetch(
            "allocations", queryset=PaymentAllocation.objects.all(), to_attr="allocation_list"
        ),
        Prefetch("withholdings", queryset=Withholding.objects.all(), to_attr="withholding_list"),
    )


def open_bills() -> QuerySet[Bill]:

    return Bill.objects.filter(status=Bill.Status.OPEN, balance__gt=0)


def payables_by_supplier(*, as_of: date | None = None) -> QuerySet:
    """Balance per supplier in aging buckets (days past the due date), one query."""
    as_of = as_of or timezone.localdate()
    buckets = {
        name: Coalesce(Sum("balance", filter=condition), ZERO_MONEY)
        for name, condition in aging_filters(as_of).items()
    }
    return (
        open_bills()
        .values("supplier_id", "supplier__name", "supplier__id_number")
        # COUNT(*): the covering index bill_open_book_idx has no id (a test checks the columns)
        .annotate(bills=Count("*"), open_balance=Sum("balance"), **buckets)
        .order_by("-open_balance", "supplier__name", "supplier_id")
    )


def payables(*, as_of: date | None = None) -> tuple[list[dict], dict]:
    """Rows per supplier and their totals from one pass (see invoices.selectors.receivables)."""
    rows = list(payables_by_supplier(as_of=as_of))
    return rows, aging_totals(rows, count="bills")


def withholding_certificate(*, supplier, year: int) -> list[dict]:
    """What was withheld from a supplier in a year, per kind and concept (base, amount): the
    figures of the yearly withholding certificates."""
    rows = (
        Withholding.objects.filter(
            payment__supplier=supplier,
            payment__date__year=year,
            payment__status=SupplierPayment.Status.ACTIVE,
        )
        .values("kind", "name", "rate")
        .annotate(base=Sum("base"), amount=Sum("amount"), payments=Count("payment", distinct=True))
        .order_by("kind", "name")
    )
    # Sums are quantized here: SQLite returns them without their decimal places.
    return [
        {
            **row,
            "base": str(money(row["base"])),
            "amount": str(money(row["amount"])),
            "rate": str(row["rate"]),
        }
        for row in rows
    ]
