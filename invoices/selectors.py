"""Sales reads: invoice lists, receivables with aging, the shift report."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    Max,
    Min,
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
from ally360.documents import (
    PaymentMethod,
    aging_filters,
    aging_report,
    summed_per_row,
)
from ally360.money import ZERO, money, quantity
from pos.models import CashMovement, Shift

from .models import RETURN_CONCEPTS, CreditNote, CreditNoteLine, Invoice, InvoiceLine, Payment


def invoice_list() -> QuerySet[Invoice]:
    # No join: the list reads the page's customers in a second query (RowRenderer). Joined
    # tables each carry their own row-level-security filter, the planner then underestimates the
    # rows and sorts the whole tenant instead of walking the (tenant, -created_at) index.
    return Invoice.objects.all()


def superseded_pdfs(*, all_tenants: bool = False) -> QuerySet:
    """Stored PDFs no invoice or credit note points to any more: a newer one replaced them
    (kept while an e-mail waited to send them). `all_tenants` inside `cross_tenant()`."""
    from files.models import FileObject

    manager = "all_tenants" if all_tenants else "objects"
    invoices, notes = getattr(Invoice, manager), getattr(CreditNote, manager)
    return (
        getattr(FileObject, manager)
        .filter(module="invoices", purpose="pdf", status=FileObject.Status.READY)
        .exclude(
            Exists(invoices.filter(pdf=OuterRef("pk"))) | Exists(notes.filter(pdf=OuterRef("pk")))
        )
    )


def invoice_detail() -> QuerySet[Invoice]:
    return Invoice.objects.select_related(
        "customer", "pdv", "seller", "price_list", "created_by"
    ).prefetch_related("lines", "payments", "credit_notes")


def credited_so_far(invoice: Invoice) -> dict:
    """Per invoice line: the quantity returned, the value credited and the credit lines."""
    so_far: dict = {}
    for credit in CreditNoteLine.objects.filter(credit_note__invoice=invoice).select_related(
        "credit_note"
    ):
        entry = so_far.setdefault(
            credit.invoice_line_id, {"returned": ZERO, "total": ZERO, "lines": []}
        )
        entry["total"] += credit.total
        entry["lines"].append(credit)
        if credit.credit_note.concept in RETURN_CONCEPTS:
            entry["returned"] += credit.quantity
    return so_far


def creditable_lines(invoice: Invoice) -> list[tuple[InvoiceLine, Decimal, Decimal]]:
    """Each line of the invoice with the quantity that can still be returned and the value
    (taxes included) that can still be credited — what earlier notes took is subtracted, as
    `credit_note_create` counts it — in the invoice's order."""
    so_far = credited_so_far(invoice)
    found = []
    for line in invoice.lines.order_by("position"):
        previous = so_far.get(line.pk, {"returned": ZERO, "total": ZERO})
        found.append((line, line.quantity - previous["returned"], line.total - previous["total"]))
    return found


def returnable_lines(invoice: Invoice) -> list[tuple[InvoiceLine, Decimal]]:
    """Each line of the invoice with the quantity that can still be returned."""
    return [(line, returnable) for line, returnable, _value in creditable_lines(invoice)]


def payment_list() -> QuerySet[Payment]:
    # A payment shows its invoice's number only: not the whole invoice row per payment.
    return Payment.objects.prefetch_related(
        Prefetch("invoice", queryset=Invoice.objects.only("id", "full_number"))
    )


def open_invoices() -> QuerySet[Invoice]:

    return Invoice.objects.filter(status=Invoice.Status.OPEN, balance__gt=0)


def invoices_open_on(as_of: date) -> QuerySet[Invoice]:
    """The invoices open at the end of `as_of`, each with `balance_on`, its balance then.

    From today on that is today's open book (`balance`, read from its covering index; a later
    day only counts more days past due). A past day is rebuilt from the documents' own dates,
    as the books stand now: the invoices issued by then, less the payments dated by then and the
    credit notes issued by then, each net of what it refunded or reversed — so a month-end
    report run later still says what was owed at month end. A voided invoice or payment counts
    on no day: a void corrects the books (a payment entered wrongly, voided and entered again
    with its date counts once).
    """
    if as_of >= timezone.localdate():
        return open_invoices().annotate(balance_on=F("balance"))
    # Large estimates: JIT would compile for longer than the work takes (ally360/db.py).
    without_jit()
    payments = Payment.objects.filter(status=Payment.Status.ACTIVE)
    paid = payments.filter(invoice=OuterRef("pk"), date__lte=as_of)
    credited = CreditNote.objects.filter(invoice=OuterRef("pk"), issue_date__lte=as_of)
    credit_net = F("total") - F("refund_amount") - F("withholding_reversed")
    # Only these can have owed something that day: what is open today, and what a later payment
    # or credit note settled (each list read once, as a hashed set); an invoice paid in full by
    # then is not read again.
    maybe_owed = (
        Q(status=Invoice.Status.OPEN)
        | Q(pk__in=payments.filter(date__gt=as_of).values("invoice"))
        | Q(pk__in=CreditNote.objects.filter(issue_date__gt=as_of).values("invoice"))
    )
    return (
        Invoice.objects.filter(
            maybe_owed,
            issue_date__lte=as_of,
            status__in=(Invoice.Status.OPEN, Invoice.Status.PAID),
        )
        .annotate(
            balance_on=F("total")
            - summed_per_row(paid, "applied", per="invoice")
            - summed_per_row(credited, credit_net, per="invoice")
        )
        .filter(balance_on__gt=0)
    )


def receivables_by_customer(*, as_of: date | None = None) -> QuerySet:
    """Today's balance per customer split in aging buckets (days past the due date) as of
    `as_of` (today, or a later day), one query over the open book's covering index. A past day
    is `receivables()`'s."""
    as_of = as_of or timezone.localdate()
    if as_of < timezone.localdate():
        raise ValueError("A past day's balances are rebuilt by receivables(), not read here.")
    zero = Value(Decimal("0"), output_field=DecimalField(max_digits=18, decimal_places=2))
    buckets = {
        name: Coalesce(Sum("balance", filter=condition), zero)
        for name, condition in aging_filters(as_of).items()
    }
    return (
        open_invoices()
        .values("customer_id", "customer__name", "customer__id_number")
        # COUNT(*): the covering index invoice_open_book_idx has no id (a test checks the columns)
        .annotate(invoices=Count("*"), open_balance=Sum("balance"), **buckets)
        .order_by("-open_balance", "customer__name", "customer_id")
    )


def receivables(*, as_of: date | None = None) -> tuple[list[dict], dict]:
    """Rows per customer and their totals at the end of `as_of` (`ally360.documents.aging_report`)."""
    return aging_report(
        as_of,
        open_book=receivables_by_customer,
        open_on=invoices_open_on,
        party="customer",
        count="invoices",
    )


def shift_report(shift: Shift) -> dict:
    """Sales per method, numbers used, taxes, top items and the cash summary of a shift."""
    from .services import shift_expected

    invoices = Invoice.objects.filter(shift=shift).exclude(status=Invoice.Status.DRAFT)
    issued = invoices.exclude(status=Invoice.Status.VOID)
    payments = Payment.objects.filter(shift=shift, status=Payment.Status.ACTIVE)
    # Money taken in the shift is of its own sales, or collected on earlier invoices: the
    # drawer holds both, the sales figures only the first.
    by_method: dict = {}
    collections: dict = {}
    for row in payments.values("method", "invoice__shift_id").annotate(
        count=Count("id"), amount=Sum("amount")
    ):
        kind = by_method if row["invoice__shift_id"] == shift.pk else collections
        entry = kind.setdefault(row["method"], {"count": 0, "amount": ZERO})
        entry["count"] += row["count"]
        entry["amount"] += row["amount"]
    for kind in (by_method, collections):
        for entry in kind.values():
            entry["amount"] = str(money(entry["amount"]))
    ranges = []
    for row in (
        invoices.values("numbering_range_id", "prefix", "kind")
        .annotate(first=Min("number"), last=Max("number"), count=Count("id"))
        .order_by("prefix")
    ):
        ranges.append(
            {
                "prefix": row["prefix"],
                "kind": row["kind"],
                "first": f"{row['prefix']}{row['first']}",
                "last": f"{row['prefix']}{row['last']}",
                "count": row["count"],
            }
        )
    # Credit notes whose refund came out of this drawer used numbers of their own range.
    for row in (
        CreditNote.objects.filter(shift=shift)
        .values("numbering_range_id", "prefix")
        .annotate(first=Min("number"), last=Max("number"), count=Count("id"))
        .order_by("prefix")
    ):
        ranges.append(
            {
                "prefix": row["prefix"],
                "kind": "credit_note",
                "first": f"{row['prefix']}{row['first']}",
                "last": f"{row['prefix']}{row['last']}",
                "count": row["count"],
            }
        )
    taxes: dict = defaultdict(lambda: {"base": ZERO, "amount": ZERO})
    for breakdown in issued.values_list("tax_breakdown", flat=True):
        for tax in breakdown:
            entry = taxes[(tax["name"], tax["rate"])]
            entry["base"] += Decimal(tax["base"])
            entry["amount"] += Decimal(tax["amount"])
    top_items = list(
        InvoiceLine.objects.filter(invoice__in=issued)
        .values("variant_id", "variant__sku", "description")
        .annotate(quantity=Sum("quantity"), total=Sum("total"))
        .order_by("-quantity", "variant__sku")[:10]
    )
    totals = issued.aggregate(
        sales=Coalesce(Sum("total"), Value(ZERO)), taxes=Coalesce(Sum("tax_total"), Value(ZERO))
    )
    moves = {
        row["kind"]: row["amount"]
        for row in CashMovement.objects.filter(shift=shift)
        .values("kind")
        .annotate(amount=Sum("amount"))
    }
    refunds = (
        CreditNote.objects.filter(shift=shift, refund_method=PaymentMethod.CASH).aggregate(
            s=Sum("refund_amount")
        )["s"]
        or ZERO
    )
    # Refunds by method (the card terminal's and the wallets' totals are net of them).
    refunds_by_method = {
        row["refund_method"]: {"count": row["count"], "amount": str(money(row["amount"]))}
        for row in CreditNote.objects.filter(shift=shift)
        .exclude(refund_method="")
        .values("refund_method")
        .annotate(count=Count("id"), amount=Sum("refund_amount"))
        .order_by("refund_method")
    }
    expected = (
        {method: Decimal(amount) for method, amount in shift.expected.items()}
        if shift.status == Shift.Status.CLOSED
        else shift_expected(shift)
    )
    return {
        "invoices": issued.count(),
        "voided": invoices.filter(status=Invoice.Status.VOID).count(),
        # Sums are quantized here: SQLite returns them without their decimal places.
        "sales_total": str(money(totals["sales"])),
        "tax_total": str(money(totals["taxes"])),
        "sales_by_method": by_method,
        "collections_by_method": collections,
        "refunds_by_method": refunds_by_method,
        "numbers_used": ranges,
        "taxes": [
            {"name": name, "rate": rate, "base": str(v["base"]), "amount": str(v["amount"])}
            for (name, rate), v in sorted(taxes.items())
        ],
        "top_items": [
            {
                "variant": str(item["variant_id"]),
                "sku": item["variant__sku"],
                "description": item["description"],
                "quantity": str(quantity(item["quantity"])),
                "total": str(money(item["total"])),
            }
            for item in top_items
        ],
        "cash": {
            "opening": str(shift.opening_cash),
            "cash_sales": str(by_method.get(PaymentMethod.CASH, {}).get("amount", "0.00")),
            "cash_collections": str(collections.get(PaymentMethod.CASH, {}).get("amount", "0.00")),
            "cash_refunds": str(money(refunds)),
            "cash_in": str(money(moves.get("in", ZERO))),
            "cash_out": str(money(moves.get("out", ZERO))),
            "expected": str(money(expected[PaymentMethod.CASH])),
            "counted": None if shift.counted_cash is None else str(shift.counted_cash),
            "difference": None if shift.difference is None else str(shift.difference),
        },
        "expected_by_method": {m: str(money(a)) for m, a in expected.items() if a},
        # At the close: each method counted (the drawer's cash, the card terminal's and each
        # wallet's closing totals) against what it should hold; a method not counted has none.
        "counted_by_method": {
            method: {
                "expected": str(money(expected.get(method, ZERO))),
                "counted": counted,
                "difference": str(money(Decimal(counted) - expected.get(method, ZERO))),
            }
            for method, counted in (shift.counted or {}).items()
        },
    }


def invoice_search(query: str = "", *, customer_id=None) -> QuerySet[Invoice]:
    """The invoice list of the pages, newest first, with the customer's name and number read
    in a second query (no join, see `invoice_list`). `query` matches the invoice's number or the
    customer's name or identification number; `customer_id` keeps one customer's."""
    from contacts.models import Contact
    from contacts.selectors import identification_numbers

    invoices = invoice_list()
    if customer_id is not None:
        invoices = invoices.filter(customer_id=customer_id)
    query = query.strip()
    if query:
        customers = Contact.objects.filter(
            Q(name__icontains=query) | Q(id_number__in=identification_numbers(query))
        ).values("id")
        invoices = invoices.filter(
            Q(full_number__iexact=query.replace(" ", "")) | Q(customer_id__in=customers)
        )
    return invoices.order_by("-created_at", "-id").prefetch_related(
        Prefetch("customer", queryset=Contact.objects.only("id", "name", "id_number"))
    )
