"""Period reports: what was sold, what came in, and the taxes to declare.

Documents count on their issue date. Drafts never count; a voided invoice or bill counts
nowhere (its number stays used, its amounts do not). Credit notes lower the sales of their own
date, debit notes (returns to suppliers) the purchases of theirs, so a return in March does not
rewrite February's declared figures. Each report reads a constant number of statements,
whatever the period's length.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, DecimalField, F, Q, Sum
from django.db.models.functions import Coalesce

from ally360.money import money
from bills.models import Bill, DebitNote
from invoices.models import (
    RETURN_CONCEPTS,
    CreditNote,
    CreditNoteLine,
    Invoice,
    InvoiceLine,
    Payment,
)
from products.models import Variant

ZERO = Decimal("0")
AMOUNTS = ("base", "tax", "total")


def _sums(prefix: str) -> dict:
    return {
        f"{prefix}_base": Coalesce(Sum("subtotal"), ZERO) - Coalesce(Sum("discount_total"), ZERO),
        f"{prefix}_tax": Coalesce(Sum("tax_total"), ZERO),
        f"{prefix}_total": Coalesce(Sum("total"), ZERO),
    }


def sales_summary(
    *, date_from: datetime.date, date_to: datetime.date, pdv_id=None
) -> dict[str, list[dict] | dict]:
    """Per day of the period: invoices issued, credit notes, what is left of both (net), and
    the money received per method (payments not voided, by their date; refunds paid back)."""
    invoices = Invoice.objects.filter(issue_date__range=(date_from, date_to)).exclude(
        status__in=(Invoice.Status.DRAFT, Invoice.Status.VOID)
    )
    notes = refunds = CreditNote.objects.filter(issue_date__range=(date_from, date_to))
    payments = Payment.objects.filter(
        date__range=(date_from, date_to), status=Payment.Status.ACTIVE
    )
    if pdv_id is not None:
        invoices = invoices.filter(pdv_id=pdv_id)
        notes = notes.filter(invoice__pdv_id=pdv_id)
        # Money counts where it came in or went out: the drawer of its shift, as the shift's
        # close counts it (a Bodega invoice paid in cash at Principal is Principal's cash);
        # money taken in no shift, at the invoice's point of sale.
        at_pdv = Q(shift__register__pdv_id=pdv_id) | Q(shift__isnull=True, invoice__pdv_id=pdv_id)
        payments = payments.filter(at_pdv)
        refunds = refunds.filter(at_pdv)
    days: dict[datetime.date, dict] = defaultdict(_empty_day)
    for row in invoices.values("issue_date").annotate(invoices=Count("pk"), **_sums("invoiced")):
        days[row.pop("issue_date")].update(row)
    for row in notes.values("issue_date").annotate(credit_notes=Count("pk"), **_sums("credited")):
        days[row.pop("issue_date")].update(row)
    rows = []
    totals = _empty_day()
    for date in sorted(days):
        day = days[date]
        for amount in AMOUNTS:
            day[f"net_{amount}"] = day[f"invoiced_{amount}"] - day[f"credited_{amount}"]
        for key, value in day.items():
            totals[key] += value
        rows.append({"date": date, **day})
    received = {
        row["method"]: {
            "method": row["method"],
            "payments": row["payments"],
            "received": row["amount"],
        }
        for row in payments.values("method")
        .annotate(payments=Count("pk"), amount=Sum("amount"))
        .order_by("method")
    }
    refunds = (
        refunds.exclude(refund_method="")
        .values("refund_method")
        .annotate(amount=Sum("refund_amount"))
        .order_by("refund_method")
    )
    for row in refunds:
        entry = received.setdefault(
            row["refund_method"],
            {"method": row["refund_method"], "payments": 0, "received": ZERO},
        )
        entry["refunded"] = row["amount"]
    methods = []
    for entry in received.values():
        entry.setdefault("refunded", ZERO)
        entry["net"] = entry["received"] - entry["refunded"]
        methods.append(entry)
    return {"days": rows, "totals": totals, "methods": methods}


def _empty_day() -> dict:
    day = {"invoices": 0, "credit_notes": 0}
    for prefix in ("invoiced", "credited", "net"):
        day.update({f"{prefix}_{amount}": ZERO for amount in AMOUNTS})
    return day


def _breakdown_sums(breakdowns, into: dict, column: str) -> None:
    for breakdown in breakdowns:
        for tax in breakdown:
            key = (tax["kind"], tax["treatment"], Decimal(tax["rate"]))
            entry = into.setdefault(key, dict.fromkeys(TAX_COLUMNS, ZERO))
            entry[f"{column}base"] += Decimal(tax["base"])
            entry[f"{column}tax"] += Decimal(tax["amount"])


TAX_COLUMNS = ("base", "tax", "returns_base", "returns_tax")


def _tax_rows(sums: dict) -> list[dict]:
    rows = []
    for (kind, treatment, rate), sums_of in sorted(
        sums.items(), key=lambda item: (item[0][0], -item[0][2], item[0][1])
    ):
        row = {"kind": kind, "treatment": treatment, "rate": rate}
        row.update({column: money(sums_of[column]) for column in TAX_COLUMNS})
        row["net_base"] = row["base"] - row["returns_base"]
        row["net_tax"] = row["tax"] - row["returns_tax"]
        rows.append(row)
    return rows


def _breakdowns(queryset):
    return queryset.values_list("tax_breakdown", flat=True).iterator(chunk_size=2000)


def tax_summary(*, date_from: datetime.date, date_to: datetime.date) -> dict:
    """What the IVA return (DIAN form 300) and the INC return are filled from: per tax kind,
    treatment and rate, the base and the tax of the period's sales (invoices) and of their
    returns (credit notes), and of its purchases (received bills) and of theirs (debit notes),
    each on its own line as the forms ask — a return of last month's sale is a return, not a
    negative sale. IVA generated is the sales' IVA plus the IVA of purchases returned (given
    back to the supplier, so recovered); IVA deductible is the purchases' IVA plus the IVA of
    sales returned; the balance is the first less the second. A document's taxes are its stored
    breakdown, as printed on it."""
    period = Q(issue_date__range=(date_from, date_to))
    sales: dict = {}
    invoices = Invoice.objects.filter(period).exclude(
        status__in=(Invoice.Status.DRAFT, Invoice.Status.VOID)
    )
    _breakdown_sums(_breakdowns(invoices), sales, "")
    _breakdown_sums(_breakdowns(CreditNote.objects.filter(period)), sales, "returns_")
    purchases: dict = {}
    bills = Bill.objects.filter(period).exclude(status__in=(Bill.Status.DRAFT, Bill.Status.VOID))
    _breakdown_sums(_breakdowns(bills), purchases, "")
    notes = DebitNote.objects.filter(period).exclude(bill__status=Bill.Status.VOID)
    _breakdown_sums(_breakdowns(notes), purchases, "returns_")
    sales_rows, purchase_rows = _tax_rows(sales), _tax_rows(purchases)

    def total(rows, kind, column):
        return sum((row[column] for row in rows if row["kind"] == kind), ZERO)

    iva_generated = total(sales_rows, "iva", "tax") + total(purchase_rows, "iva", "returns_tax")
    iva_deductible = total(purchase_rows, "iva", "tax") + total(sales_rows, "iva", "returns_tax")
    return {
        "sales": sales_rows,
        "purchases": purchase_rows,
        "iva_generated": iva_generated,
        "iva_deductible": iva_deductible,
        "iva_balance": iva_generated - iva_deductible,
        "inc_generated": total(sales_rows, "inc", "net_tax"),
    }


def products_sold(
    *, date_from: datetime.date, date_to: datetime.date, pdv_id=None
) -> tuple[list[dict], dict]:
    """Per variant sold in the period, best sellers (by net sales) first: the quantity sold
    less the quantity returned, the net sales before tax (invoice lines less every credit
    line), the cost of the goods that left (each line's cost at the sale, less the goods that
    came back to stock) and the margin. Three statements, whatever the period holds."""
    lines = InvoiceLine.objects.filter(invoice__issue_date__range=(date_from, date_to)).exclude(
        invoice__status__in=(Invoice.Status.DRAFT, Invoice.Status.VOID)
    )
    credits = CreditNoteLine.objects.filter(credit_note__issue_date__range=(date_from, date_to))
    if pdv_id is not None:
        lines = lines.filter(invoice__pdv_id=pdv_id)
        credits = credits.filter(credit_note__invoice__pdv_id=pdv_id)
    money_sum = {"output_field": DecimalField(max_digits=30, decimal_places=8)}
    sold = {
        row["variant"]: row
        for row in lines.values("variant").annotate(
            sold=Sum("quantity"),
            sales=Sum(F("subtotal") - F("discount"), **money_sum),
            cost=Sum(Coalesce(F("unit_cost"), ZERO) * F("quantity"), **money_sum),
        )
    }
    returned = {
        row["invoice_line__variant"]: row
        for row in credits.values("invoice_line__variant").annotate(
            returned=Coalesce(
                Sum("quantity", filter=Q(credit_note__concept__in=RETURN_CONCEPTS)), ZERO
            ),
            credited=Sum(F("subtotal") - F("discount"), **money_sum),
            cost_back=Coalesce(
                Sum(
                    Coalesce(F("invoice_line__unit_cost"), ZERO) * F("quantity"),
                    filter=Q(credit_note__return_stock=True),
                    **money_sum,
                ),
                ZERO,
                **money_sum,
            ),
        )
    }
    variant_ids = sold.keys() | returned.keys()
    variants = {
        row["id"]: row
        for row in Variant.objects.filter(pk__in=variant_ids).values(
            "id", "sku", "options", "product_id", "product__name"
        )
    }
    rows = []
    totals = {"sales": ZERO, "cost": ZERO, "margin": ZERO}  # quantities differ in units

    for variant_id in variant_ids:
        out = sold.get(variant_id, {})
        back = returned.get(variant_id, {})
        sales = money(out.get("sales", ZERO) - back.get("credited", ZERO))
        cost = money(out.get("cost", ZERO) - back.get("cost_back", ZERO))
        variant = variants[variant_id]
        row = {
            "variant": variant_id,
            "sku": variant["sku"],
            "product": variant["product_id"],
            "name": variant["product__name"],
            "options": variant["options"],
            "quantity": out.get("sold", ZERO) - back.get("returned", ZERO),
            "sales": sales,
            "cost": cost,
            "margin": sales - cost,
            "margin_pct": money((sales - cost) * 100 / sales) if sales else None,
        }
        for key in totals:
            totals[key] += row[key]
        rows.append(row)
    rows.sort(key=lambda row: (-row["sales"], row["sku"]))
    totals["margin_pct"] = (
        money(totals["margin"] * 100 / totals["sales"]) if totals["sales"] else None
    )
    return rows, totals


def sales_by_seller(
    *, date_from: datetime.date, date_to: datetime.date, pdv_id=None
) -> tuple[list[dict], dict]:
    """Per seller (and a row for the invoices naming none): the period's invoices and their
    sales before tax, the period's credit notes against their invoice's seller whatever that
    invoice's date (on their own date, as in `sales_summary`, so the nets add up to its net
    base), the net, and the commission at the seller's rate on it (negative for a seller with
    more returned than sold). Three statements whatever the period holds."""
    from pos.models import Seller

    invoices = Invoice.objects.filter(issue_date__range=(date_from, date_to)).exclude(
        status__in=(Invoice.Status.DRAFT, Invoice.Status.VOID)
    )
    notes = CreditNote.objects.filter(issue_date__range=(date_from, date_to))
    if pdv_id is not None:
        invoices = invoices.filter(pdv_id=pdv_id)
        notes = notes.filter(invoice__pdv_id=pdv_id)
    base = Coalesce(Sum("subtotal"), ZERO) - Coalesce(Sum("discount_total"), ZERO)
    sold = {
        row["seller"]: row
        for row in invoices.values("seller").annotate(invoices=Count("pk"), sales=base)
    }
    credited = {
        row["invoice__seller"]: row
        for row in notes.values("invoice__seller").annotate(credit_notes=Count("pk"), credited=base)
    }
    ids = (sold.keys() | credited.keys()) - {None}
    sellers = {
        row["id"]: row
        for row in Seller.objects.filter(pk__in=ids).values("id", "name", "commission_pct")
    }
    rows = []
    totals = {
        "invoices": 0,
        "credit_notes": 0,
        "sales": ZERO,
        "credited": ZERO,
        "net": ZERO,
        "commission": ZERO,
    }
    for seller_id in sold.keys() | credited.keys():
        out, back = sold.get(seller_id, {}), credited.get(seller_id, {})
        seller = sellers.get(seller_id, {"name": "", "commission_pct": ZERO})
        net = out.get("sales", ZERO) - back.get("credited", ZERO)
        row = {
            "seller": seller_id,
            "name": seller["name"],
            "commission_pct": seller["commission_pct"],
            "invoices": out.get("invoices", 0),
            "credit_notes": back.get("credit_notes", 0),
            "sales": out.get("sales", ZERO),
            "credited": back.get("credited", ZERO),
            "net": net,
            "commission": money(net * seller["commission_pct"] / 100),
        }
        for key in totals:
            totals[key] += row[key]
        rows.append(row)
    # The sellers by what they sold; the sales naming no seller last.
    rows.sort(key=lambda row: (row["seller"] is None, -row["net"], row["name"]))
    return rows, totals
