"""Document arithmetic shared by invoices, credit notes, bills and debit notes.

Per line: subtotal = quantity × unit price, discount = subtotal × discount %, base = subtotal −
discount, each tax = base × rate; every amount rounded to the peso cent with ROUND_HALF_UP. The
document's figures are sums of the rounded lines, never recomputed from aggregates. Taxes are
given as plain snapshots so this module depends on no app.

Aging reports (receivables, payables) share their buckets and the helpers that sum open
documents into them here too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import models
from django.db.models import DecimalField, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .exceptions import ValidationFailed
from .money import MONEY, ZERO, money, percent_of, quantity, unit_price

# Amounts are stored with MONEY's digits: a line must stay below this.
AMOUNT_LIMIT = Decimal(10) ** (MONEY["max_digits"] - MONEY["decimal_places"])


class PaymentMethod(models.TextChoices):
    """How money moves, for customer and supplier payments alike."""

    CASH = "cash", _("Cash")
    DEBIT_CARD = "debit_card", _("Debit card")
    CREDIT_CARD = "credit_card", _("Credit card")
    TRANSFER = "transfer", _("Bank transfer")
    NEQUI = "nequi", "Nequi"
    DAVIPLATA = "daviplata", "Daviplata"
    OTHER = "other", _("Other")


AGING_BUCKETS = ("current", "days_1_30", "days_31_60", "days_61_90", "over_90")


def aging_totals(rows: list[dict], *, count: str) -> dict:
    """The totals of an aging report from its per-party rows (`open_balance`, the buckets and
    the document count `count`): one grouped query then serves both the page and the totals."""
    totals = {
        name: money(sum((row[name] for row in rows), ZERO))
        for name in ("open_balance", *AGING_BUCKETS)
    }
    totals[count] = sum(row[count] for row in rows)
    return totals


def aging_report(
    as_of: date | None, *, open_book, open_on, party: str, count: str
) -> tuple[list[dict], dict]:
    """An aging report's per-party rows and totals at the end of `as_of` (today by default).

    Today and later: `open_book(as_of=…)`, one grouped query over today's balances. A past day:
    the documents `open_on(as_of)` returns with their `balance_on`, summed here — those balances
    are subqueries per document, so each is computed once instead of once per bucket in SQL.
    The rows are the parties who
    owe (hundreds to a few thousand), so paging them in memory costs less than two more
    aggregations of the whole book (the count and the totals)."""
    as_of = as_of or timezone.localdate()
    if as_of >= timezone.localdate():
        rows = list(open_book(as_of=as_of))
    else:
        columns = (f"{party}_id", f"{party}__name", f"{party}__id_number", "due_date", "balance_on")
        rows = aging_rows(open_on(as_of).values(*columns), as_of, party=party, count=count)
    return rows, aging_totals(rows, count=count)


def aging_rows(documents: Iterable[dict], as_of: date, *, party: str, count: str) -> list[dict]:
    """An aging report's per-party rows summed from open documents (`<party>_id`,
    `<party>__name`, `<party>__id_number`, `due_date`, `balance_on`), shaped and ordered as the
    report's grouped query returns them: the largest balance first."""
    rows: dict = {}
    for document in documents:
        key = document[f"{party}_id"]
        row = rows.get(key)
        if row is None:
            row = rows[key] = {
                f"{party}_id": key,
                f"{party}__name": document[f"{party}__name"],
                f"{party}__id_number": document[f"{party}__id_number"],
                count: 0,
                "open_balance": ZERO,
                **{bucket: ZERO for bucket in AGING_BUCKETS},
            }
        due = document["due_date"]
        bucket = aging_bucket(0 if due is None else (as_of - due).days)
        row[count] += 1
        row["open_balance"] += document["balance_on"]
        row[bucket] += document["balance_on"]
    return sorted(
        rows.values(),
        key=lambda row: (-row["open_balance"], row[f"{party}__name"], row[f"{party}_id"]),
    )


def aging_bucket(days_overdue: int) -> str:
    """The aging bucket of a document this many days past its due date."""
    if days_overdue <= 0:
        return "current"
    if days_overdue <= 30:
        return "days_1_30"
    if days_overdue <= 60:
        return "days_31_60"
    if days_overdue <= 90:
        return "days_61_90"
    return "over_90"


def summed_per_row(queryset: QuerySet, expression, *, per: str) -> Coalesce:
    """SUM(`expression`) over the rows of `queryset` that belong to the outer row (`per` is the
    foreign key pointing at it, filtered with OuterRef by the caller): a correlated subquery,
    0 when there are none."""
    total = queryset.order_by().values(per).annotate(total=Sum(expression)).values("total")
    money_field = DecimalField(**MONEY)
    return Coalesce(
        Subquery(total, output_field=money_field), Value(ZERO, output_field=money_field)
    )


def aging_filters(as_of: date, field: str = "due_date") -> dict[str, Q]:
    """One filter per aging bucket on a due-date field, for conditional aggregation."""
    day = timedelta(days=1)

    def before(days):
        return as_of - days * day

    return {
        "current": Q(**{f"{field}__gte": as_of}) | Q(**{f"{field}__isnull": True}),
        "days_1_30": Q(**{f"{field}__lt": as_of, f"{field}__gte": before(30)}),
        "days_31_60": Q(**{f"{field}__lt": before(30), f"{field}__gte": before(60)}),
        "days_61_90": Q(**{f"{field}__lt": before(60), f"{field}__gte": before(90)}),
        "over_90": Q(**{f"{field}__lt": before(90)}),
    }


@dataclass(frozen=True)
class TaxRate:
    """A tax as it was when the line was written (its id, name, kind, treatment and rate)."""

    tax_id: str | None
    name: str
    kind: str
    treatment: str
    rate: Decimal
    dian_code: str = ""

    @classmethod
    def of(cls, tax) -> TaxRate:
        return cls(str(tax.pk), tax.name, tax.kind, tax.treatment, Decimal(tax.rate), tax.dian_code)

    @classmethod
    def from_snapshot(cls, data: dict) -> TaxRate:
        return cls(
            data.get("tax_id"),
            data["name"],
            data["kind"],
            data["treatment"],
            Decimal(data["rate"]),
            data.get("dian_code", ""),
        )


@dataclass(frozen=True)
class LineAmounts:
    quantity: Decimal
    unit_price: Decimal
    discount_pct: Decimal
    subtotal: Decimal
    discount: Decimal
    base: Decimal
    taxes: list[dict] = field(default_factory=list)
    tax_total: Decimal = ZERO
    total: Decimal = ZERO

    def as_fields(self, *, price_field: str = "unit_price") -> dict:
        """The stored columns of a document line (bills name the price `unit_cost`)."""
        values = (
            self.quantity,
            self.unit_price,
            self.discount_pct,
            self.subtotal,
            self.discount,
            self.tax_total,
            self.total,
            self.taxes,
        )
        return dict(zip(self.field_names(price_field=price_field), values, strict=True))

    @staticmethod
    def field_names(*, price_field: str = "unit_price") -> list[str]:
        """The names of those columns, in the order the API shows them."""
        return [
            "quantity",
            price_field,
            "discount_pct",
            "subtotal",
            "discount",
            "tax_total",
            "total",
            "taxes",
        ]


def line_objects(model, built: list, *, price_field: str = "unit_price", **document) -> list:
    """Unsaved lines of a document from its built lines (`(spec, LineAmounts)` pairs): position,
    variant, description and amounts; `document` names the parent, e.g. `invoice=invoice`."""
    return [
        model(
            **document,
            position=index,
            variant=spec["variant"],
            description=spec["description"][:255],
            **amounts.as_fields(price_field=price_field),
        )
        for index, (spec, amounts) in enumerate(built)
    ]


@dataclass(frozen=True)
class DocumentTotals:
    subtotal: Decimal
    discount: Decimal
    base: Decimal
    tax_total: Decimal
    total: Decimal
    tax_breakdown: list[dict]


def compute_line(
    *,
    quantity_: Decimal,
    unit_price_: Decimal,
    discount_pct: Decimal = ZERO,
    taxes: Iterable[TaxRate] = (),
) -> LineAmounts:
    qty, price, pct = quantity(quantity_), unit_price(unit_price_), Decimal(discount_pct)
    if abs(qty * price) * 2 >= AMOUNT_LIMIT:  # room for the taxes on top
        message = _("Quantity times price is beyond what a document can hold.")
        raise ValidationFailed(message, code="amount_too_large", fields={"lines": [message]})
    subtotal = money(qty * price)

    discount = money(percent_of(subtotal, pct))
    base = subtotal - discount
    snapshots = []
    for tax in taxes:
        amount = money(percent_of(base, tax.rate))
        snapshots.append(
            {
                "tax_id": tax.tax_id,
                "name": tax.name,
                "kind": tax.kind,
                "treatment": tax.treatment,
                "rate": str(tax.rate),
                "dian_code": tax.dian_code,
                "base": str(base),
                "amount": str(amount),
            }
        )
    tax_total = sum((Decimal(s["amount"]) for s in snapshots), ZERO)
    return LineAmounts(
        qty, price, pct, subtotal, discount, base, snapshots, tax_total, base + tax_total
    )


def line_remainder(
    line, credited: Iterable, *, quantity_: Decimal, price_field: str = "unit_price"
) -> LineAmounts:
    """The last `quantity_` units of a document line, valued at what is left of it after
    earlier credit lines: the line's amounts minus theirs, part by part. Crediting them leaves
    exactly nothing, where pricing them again would round to a cent more or less than the line
    (the line was rounded once, its units were not)."""
    credited = list(credited)

    def left(name: str) -> Decimal:
        return getattr(line, name) - sum((getattr(c, name) for c in credited), ZERO)

    subtotal, discount = left("subtotal"), left("discount")
    base = subtotal - discount
    taxes = []
    for tax in line.taxes:
        same = (tax.get("tax_id"), tax["name"], tax["rate"])
        taken = sum(
            (
                Decimal(t["amount"])
                for c in credited
                for t in c.taxes
                if (t.get("tax_id"), t["name"], t["rate"]) == same
            ),
            ZERO,
        )
        taxes.append({**tax, "base": str(base), "amount": str(Decimal(tax["amount"]) - taken)})
    tax_total = sum((Decimal(t["amount"]) for t in taxes), ZERO)
    price = getattr(line, price_field)
    if quantity_ and money(quantity_ * price) != subtotal:
        # Earlier notes took other amounts than these units' share (a discount note, a return
        # at an agreed lower price): the line states the price these units are credited at, so
        # that quantity x price gives its subtotal, as on any document line.
        price = unit_price(subtotal / quantity_)
    return LineAmounts(
        quantity_,
        price,
        line.discount_pct,
        subtotal,
        discount,
        base,
        taxes,
        tax_total,
        base + tax_total,
    )


def base_and_iva_left(document, notes: Iterable) -> tuple[Decimal, Decimal]:
    """The base (after discounts) and the IVA a document still carries once its notes (credit
    or debit) took theirs back: what withholdings are shares of."""

    def base_and_iva(totals) -> tuple[Decimal, Decimal]:
        iva = (Decimal(t["amount"]) for t in totals.tax_breakdown if t["kind"] == "iva")
        return totals.subtotal - totals.discount_total, sum(iva, ZERO)

    base, iva = base_and_iva(document)
    for note in notes:
        note_base, note_iva = base_and_iva(note)
        base, iva = base - note_base, iva - note_iva
    return base, iva


def compute_totals(lines: Iterable) -> DocumentTotals:
    """Sum rounded lines (objects with subtotal, discount, tax_total, total and taxes)."""
    lines = list(lines)
    breakdown: dict[tuple, dict] = {}
    for line in lines:
        for tax in line.taxes:
            key = (tax["name"], tax["kind"], tax["treatment"], tax["rate"])
            entry = breakdown.setdefault(
                key,
                {
                    "tax_id": tax.get("tax_id"),
                    "name": tax["name"],
                    "kind": tax["kind"],
                    "treatment": tax["treatment"],
                    "rate": tax["rate"],
                    "dian_code": tax.get("dian_code", ""),
                    "base": ZERO,
                    "amount": ZERO,
                },
            )
            entry["base"] += Decimal(tax["base"])
            entry["amount"] += Decimal(tax["amount"])
    subtotal = sum((line.subtotal for line in lines), ZERO)
    discount = sum((line.discount for line in lines), ZERO)
    tax_total = sum((line.tax_total for line in lines), ZERO)
    total = sum((line.total for line in lines), ZERO)
    if max(abs(subtotal), abs(total)) >= AMOUNT_LIMIT:  # each line fits, their sum may not
        message = _("The lines add up to more than a document can hold.")
        raise ValidationFailed(message, code="amount_too_large", fields={"lines": [message]})
    return DocumentTotals(
        subtotal=subtotal,
        discount=discount,
        base=subtotal - discount,
        tax_total=tax_total,
        total=total,
        tax_breakdown=[
            {**e, "base": str(e["base"]), "amount": str(e["amount"])}
            for e in sorted(
                breakdown.values(), key=lambda e: (e["kind"], -Decimal(e["rate"]), e["name"])
            )
        ],
    )


def apply_totals(document, lines: Iterable) -> None:
    """Set a document's stored totals (subtotal, discount, taxes, total, breakdown) from its
    computed lines."""
    totals = compute_totals(lines)
    document.subtotal = totals.subtotal
    document.discount_total = totals.discount
    document.tax_total = totals.tax_total
    document.total = totals.total
    document.tax_breakdown = totals.tax_breakdown
