"""Purchase reads: bill lists, payables with aging, withholding certificates."""

from __future__ import annotations

from collections import defaultdict
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
from ally360.documents import aging_filters, aging_report, summed_per_row
from ally360.money import ZERO, money, money_shares

from .models import (
    Bill,
    BillLine,
    DebitNote,
    DebitNoteLine,
    PaymentAllocation,
    SupplierPayment,
    Withholding,
)

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
    # Large estimates: JIT would compile for longer than the work takes (ally360/db.py).
    without_jit()
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
    """Rows per supplier and their totals at the end of `as_of` (`ally360.documents.aging_report`)."""
    return aging_report(
        as_of,
        open_book=payables_by_supplier,
        open_on=bills_open_on,
        party="supplier",
        count="bills",
    )


def withholding_certificate(*, supplier, year: int) -> list[dict]:
    """What was withheld from a supplier in a year, per kind and concept (base, amount): the
    figures of the yearly withholding certificates.

    Net of what returns of the year reversed: when goods went back beyond what was still owed,
    the part of the refund that had been withheld (`DebitNote.withholding_reversed`) is no
    withholding any more, from the return's year on (an earlier year's certificate, issued and
    declared, stays as it was). A bill's reversal is shared among its withholdings in proportion
    to their amounts, base and amount alike, and shown as `reversed`.
    """
    active = Withholding.objects.filter(payment__status=SupplierPayment.Status.ACTIVE)
    withholdings = list(
        active.filter(payment__supplier=supplier, payment__date__year=year)
        .values("bill_id", "payment_id", "kind", "name", "rate", "base", "amount")
        .order_by("kind", "name", "created_at", "pk")
    )
    # A reversal belongs to the year of the return (the debit note), whatever the year of the
    # withholding it undoes: a certificate of a closed year is never rewritten.
    reversed_per_bill = dict(
        DebitNote.objects.filter(
            bill__supplier=supplier, issue_date__year=year, withholding_reversed__gt=0
        )
        .values("bill_id")
        .annotate(total=Sum("withholding_reversed"))
        .values_list("bill_id", "total")
    )
    undone_rows = list(
        active.filter(bill_id__in=reversed_per_bill)
        .values("bill_id", "kind", "name", "rate", "base", "amount")
        .order_by("created_at", "pk")
    )
    rows_per_bill: dict = defaultdict(list)
    for row in undone_rows:
        rows_per_bill[row["bill_id"]].append(row)
    concepts: dict = {}

    def concept_of(row) -> dict:
        return concepts.setdefault(
            (row["kind"], row["name"], row["rate"]),
            {"base": ZERO, "amount": ZERO, "reversed": ZERO, "payments": set()},
        )

    for row in withholdings:
        concept = concept_of(row)
        concept["base"] += row["base"]
        concept["amount"] += row["amount"]
        concept["payments"].add(row["payment_id"])
    for bill_id, rows in rows_per_bill.items():
        # The shares add up to what the bill's notes reversed, to the cent.
        reversal = reversed_per_bill[bill_id]
        withheld = sum((row["amount"] for row in rows), ZERO)
        if not withheld:
            continue
        undone_shares = money_shares(reversal, [row["amount"] for row in rows])
        for row, undone in zip(rows, undone_shares, strict=True):
            concept = concept_of(row)
            concept["base"] -= money(row["base"] * reversal / withheld)
            concept["amount"] -= undone
            concept["reversed"] += undone
    return [
        {
            "kind": kind,
            "name": name,
            "rate": str(rate),
            "base": str(money(figures["base"])),
            "amount": str(money(figures["amount"])),
            "reversed": str(money(figures["reversed"])),
            "payments": len(figures["payments"]),
        }
        for (kind, name, rate), figures in concepts.items()
    ]


def returnable_bill_lines(bill: Bill) -> list[tuple[BillLine, Decimal]]:
    """Each line of the bill with the quantity that can still go back to the supplier (what
    earlier debit notes took is subtracted, as `debit_note_create` counts it)."""
    returned = dict(
        DebitNoteLine.objects.filter(debit_note__bill=bill)
        .values("bill_line_id")
        .annotate(quantity=Sum("quantity"))
        .values_list("bill_line_id", "quantity")
    )
    return [
        (line, line.quantity - returned.get(line.pk, ZERO))
        for line in bill.lines.order_by("position", "pk")
    ]
