"""Purchase reads: bill lists, payables with aging, withholding certificates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from ally360.db import without_jit
from ally360.documents import aging_filters, aging_rows, aging_totals, summed_per_row
from ally360.money import money

from .models import Bill, DebitNote, PaymentAllocation, SupplierPayment, Withholding

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


def bills_open_on(as_of: date) -> QuerySet[Bill]:
    """The bills owed at the end of `as_of`, each with `balance_on`, its balance then (see
    invoices.selectors.invoices_open_on): from today on today's open book; a past day rebuilt
    from the bills dated by then (the supplier's invoice date), less what the supplier payments
    dated by then applied to them and the debit notes issued by then. A voided bill or payment
    counts on no day."""
    if as_of >= timezone.localdate():
        return open_bills().annotate(balance_on=F("balance"))
    allocations = PaymentAllocation.objects.filter(payment__status=SupplierPayment.Status.ACTIVE)
    paid = allocations.filter(bill=OuterRef("pk"), payment__date__lte=as_of)
    debited = DebitNote.objects.filter(bill=OuterRef("pk"), issue_date__lte=as_of)
    maybe_owed = (  # see invoices_open_on
        Q(status=Bill.Status.OPEN)
        | Q(pk__in=allocations.filter(payment__date__gt=as_of).values("bill"))
        | Q(pk__in=DebitNote.objects.filter(issue_date__gt=as_of).values("bill"))
    )
    return (
        Bill.objects.filter(
            maybe_owed, issue_date__lte=as_of, status__in=(Bill.Status.OPEN, Bill.Status.PAID)
        )
        .annotate(
            balance_on=F("total")
            - summed_per_row(paid, "amount", per="bill")
            - summed_per_row(debited, "total", per="bill")
        )
        .filter(balance_on__gt=0)
    )


def payables_by_supplier(*, as_of: date | None = None) -> QuerySet:
    """Today's balance per supplier in aging buckets (days past the due date) as of `as_of`
    (today, or a later day), one query over the open book's covering index. A past day is
    `payables()`'s."""
    as_of = as_of or timezone.localdate()
    if as_of < timezone.localdate():
        raise ValueError("A past day's balances are rebuilt by payables(), not read here.")
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
    as_of = as_of or timezone.localdate()
    if as_of >= timezone.localdate():
        rows = list(payables_by_supplier(as_of=as_of))
    else:  # summed here: see invoices.selectors.receivables
        without_jit()
        rows = aging_rows(
            bills_open_on(as_of).values(
                "supplier_id", "supplier__name", "supplier__id_number", "due_date", "balance_on"
            ),
            as_of,
            party="supplier",
            count="bills",
        )
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
