"""Sales: numbering ranges, invoices and POS sales, payments, credit notes, shift close.

Every state change runs in one transaction that locks the document (and the numbering range,
and the stock rows through `inventory.services.stock_apply`), so a number is taken only when a
document is issued, never twice and never with a gap, and stock never goes wrong under
concurrency.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Company
from accounts.services import email_waits_for
from ally360.db import HandWritten, serialize_in_tenant
from ally360.documents import (
    LineAmounts,
    PaymentMethod,
    TaxRate,
    apply_totals,
    base_and_iva_left,
    compute_line,
    line_objects,
    line_remainder,
)
from ally360.exceptions import Conflict, PermissionDeniedError, ServiceUnavailable, ValidationFailed
from ally360.fiscal import uvt_value
from ally360.formatting import shown_amount, shown_date, shown_price, shown_quantity
from ally360.models import Writes
from ally360.money import ZERO, money
from ally360.roles import SELLER
from ally360.services import atomic_service, delete_unless_used, ensure_tenant, model_update
from ally360.tenancy import require_tenant_id
from contacts.models import Contact
from contacts.services import final_consumer
from files.services import record_attachments_forget
from inventory.services import Movement, Reference, check_whole_units, stock_apply
from pos.models import PDV, CashMovement, CashRegister, Shift
from pos.services import (
    check_drawer_holds,
    check_sells_at,
    require_pdv_moves_stock,
    shift_cash_movement,
    shift_check_actor,
    shift_open_for_money,
    shift_open_for_user,
)
from products.models import PriceList
from products.selectors import (
    default_price_list,
    variant_description,
    variant_prices,
    variant_taxes,
    variants_with_taxes,
)

from .models import (
    RETURN_CONCEPTS,
    CreditNote,
    CreditNoteLine,
    DocumentType,
    Invoice,
    InvoiceLine,
    NumberingRange,
    Payment,
)
from .selectors import credited_so_far

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------
# Numbering ranges
# --------------------------------------------------------------------------------------------

WARN_REMAINING_SHARE = Decimal("0.10")
WARN_DAYS = 10
RANGE_FIELDS = (
    "resolution_number",
    "prefix",
    "range_from",
    "range_to",
    "valid_from",
    "valid_to",
    "technical_key",
    "is_active",
)


def range_warnings(numbering: NumberingRange, today: date | None = None) -> list[str]:
    """Warn when fewer than 10 % of the numbers or fewer than 10 days remain."""
    today = today or timezone.localdate()
    warnings = []
    size = numbering.range_to - numbering.range_from + 1
    remaining = max(0, numbering.range_to - numbering.next_number + 1)
    if remaining < size * WARN_REMAINING_SHARE:
        warnings.append(
            _(
                "Only %(remaining)s numbers remain in range %(range)s: request a new "
                "DIAN resolution."
            )
            % {"remaining": shown_quantity(remaining), "range": str(numbering)}
        )
    days_left = (numbering.valid_to - today).days
    if days_left < WARN_DAYS:
        warnings.append(
            _("Range %(range)s expires on %(date)s (%(days)s days): request a new DIAN resolution.")
            % {
                "range": str(numbering),
                "date": shown_date(numbering.valid_to),
                "days": max(days_left, 0),
            }
        )
    return warnings


NUMBERING_RANGES_LOCK = "numbering_ranges"


def _validate_range(data: dict, exclude_id=None) -> None:
    prefix = data.get("prefix", "")
    if prefix and not prefix.isalnum():
        raise ValidationFailed(
            _("The prefix has up to 4 letters or digits."),
            fields={"prefix": [_("The prefix has up to 4 letters or digits.")]},
        )
    if data["range_from"] > data["range_to"]:
        raise ValidationFailed(
            _("'from' must not be above 'to'."),
            fields={"range_to": [_("'from' must not be above 'to'.")]},
        )
    if data["valid_from"] > data["valid_to"]:
        raise ValidationFailed(
            _("The validity ends before it starts."),
            fields={"valid_to": [_("The validity ends before it starts.")]},
        )
    overlapping = NumberingRange.objects.filter(
        prefix=prefix,
        range_from__lte=data["range_to"],
        range_to__gte=data["range_from"],
    ).exclude(pk=exclude_id)
    if overlapping.exists():
        message = _(
            "Another range with prefix '%(prefix)s' already covers some of these numbers."
        ) % {"prefix": prefix}
        raise ValidationFailed(message, fields={"range_from": [message]})


def _deactivate_others(numbering: NumberingRange, merged: dict | None = None) -> None:
    """A new active resolution replaces the previous one for that PDV and document type; not
    before it starts, though, nor once it has expired or is used up (a past resolution loaded
    for the record), or issuing would stop. `merged`: the values an update is about to save."""
    values = {
        field: (merged or {}).get(field, getattr(numbering, field))
        for field in ("valid_from", "valid_to", "range_to", "next_number")
    }
    others = NumberingRange.objects.filter(
        pdv=numbering.pdv, document_type=numbering.document_type, is_active=True
    ).exclude(pk=numbering.pk)
    today = timezone.localdate()
    in_use = others.filter(
        valid_from__lte=today, valid_to__gte=today, next_number__lte=F("range_to")
    )  # an expired or used-up range stops nothing by being replaced
    if values["valid_from"] > today and in_use.exists():
        message = _(
            "Another range is in use until this one starts: create it inactive; from %(date)s "
            "it takes over as soon as the range in use can no longer issue."
        ) % {"date": shown_date(values["valid_from"])}
        raise Conflict(message, code="range_not_started")
    spent = values["valid_to"] < today or values["next_number"] > values["range_to"]
    if spent and in_use.exists():
        message = _(
            "This range can no longer issue (expired or used up) and would replace the range "
            "in use: load it inactive."
        )
        raise Conflict(message, code="range_not_usable")
    (
        NumberingRange.objects.select_for_update(of=("self",))
        .filter(pdv=numbering.pdv, document_type=numbering.document_type, is_active=True)
        .exclude(pk=numbering.pk)
        .update(is_active=False, updated_at=timezone.now())
    )


@transaction.atomic
def numbering_range_create(*, pdv: PDV, document_type: str, **data) -> NumberingRange:
    ensure_tenant(pdv, field="pdv")
    # Two loads of one prefix at once both found no overlap, and the second store's sales then
    # failed on a number the first had used: the check and the write take turns.
    serialize_in_tenant(NUMBERING_RANGES_LOCK)
    data["prefix"] = data.get("prefix", "").strip().upper()
    _validate_range(data)
    numbering = NumberingRange(
        pdv=pdv,
        document_type=document_type,
        next_number=data.get("next_number") or data["range_from"],
        **{k: v for k, v in data.items() if k != "next_number"},
    )
    if not numbering.range_from <= numbering.next_number <= numbering.range_to + 1:
        raise ValidationFailed(
            _("The next number must lie inside the range."),
            fields={"next_number": [_("The next number must lie inside the range.")]},
        )
    if numbering.is_active:
        _deactivate_others(numbering)
    numbering.save()
    return numbering


@transaction.atomic
def numbering_range_update(*, numbering: NumberingRange, data: dict) -> NumberingRange:
    serialize_in_tenant(NUMBERING_RANGES_LOCK)  # the overlap check, as on creation
    numbering = NumberingRange.objects.select_for_update(of=("self",)).get(pk=numbering.pk)
    data = dict(data)
    if "prefix" in data:
        data["prefix"] = data["prefix"].strip().upper()
    used = numbering.next_number > numbering.range_from
    if used:
        locked = {"prefix", "range_from", "resolution_number", "valid_from"}
        changed = [f for f in locked if f in data and data[f] != getattr(numbering, f)]
        if changed:
            raise Conflict(
                _(
                    "Numbers of this range were already used: %(fields)s cannot change. "
                    "Load the new resolution as a new range."
                )
                % {"fields": ", ".join(sorted(changed))},
                code="range_in_use",
            )
        if data.get("range_to", numbering.range_to) < numbering.next_number - 1:
            raise ValidationFailed(
                _("'to' cannot be below the last number used."),
                fields={"range_to": [_("'to' cannot be below the last number used.")]},
            )
        if "valid_to" in data and data["valid_to"] < numbering.valid_to:
            # Its documents were numbered within the resolution's validity, and their PDFs
            # print it.
            last_used = max(
                (
                    date_
                    for documents in (numbering.invoices, numbering.credit_notes)
                    if (date_ := documents.aggregate(last=Max("issue_date"))["last"])
                ),
                default=None,
            )
            if last_used is not None and data["valid_to"] < last_used:
                message = _("The range numbered a document on %(date)s: it is valid until then.")
                message %= {"date": shown_date(last_used)}
                raise ValidationFailed(message, fields={"valid_to": [message]})
    merged = {f: data.get(f, getattr(numbering, f)) for f in RANGE_FIELDS}
    _validate_range(merged, exclude_id=numbering.pk)
    if not used:
        # An unused range starts at its (possibly new) first number.
        data["next_number"] = merged["range_from"]
    if data.get("is_active") or (
        numbering.is_active and {"valid_from", "valid_to", "range_to"} & set(data)
    ):
        # Before the save: the database allows one active range per PDV and document type.
        _deactivate_others(
            numbering, {**merged, "next_number": data.get("next_number", numbering.next_number)}
        )

    model_update(numbering, data, (*RANGE_FIELDS, "next_number"))
    return numbering


@transaction.atomic
def numbering_range_delete(*, numbering: NumberingRange) -> None:
    # Locked: a sale taking its first number meanwhile waits, and is seen.
    numbering = NumberingRange.objects.select_for_update(of=("self",)).get(pk=numbering.pk)
    if numbering.next_number > numbering.range_from:
        raise Conflict(_("Numbers of this range were used: deactivate it instead."), code="in_use")
    delete_unless_used(numbering, message=_("This range is in use: deactivate it instead."))


@dataclass(frozen=True)
class TakenNumber:
    numbering: NumberingRange
    number: int
    warnings: list[str]

    @property
    def prefix(self) -> str:
        return self.numbering.prefix

    @property
    def full_number(self) -> str:
        return f"{self.numbering.prefix}{self.number}"


def _range_advance(*, pdv: PDV, document_type: str, on_date: date) -> NumberingRange | None:
    """Advance the PDV's active range in one statement if it is usable on `on_date`; None when
    there is no such range (missing, outside its dates or used up).

    The UPDATE takes the row lock a document's number needs, and a concurrent one re-checks the
    conditions on the row it waited for, so two documents never get one number.
    """
    connection = transaction.get_connection()
    meta = NumberingRange._meta

    def param(name: str, value):
        return meta.get_field(name).get_db_prep_value(value, connection)

    found = _RANGE_ADVANCE.rows(
        [
            param("updated_at", timezone.now()),
            param("tenant", require_tenant_id()),
            param("pdv", pdv.pk),
            document_type,
            param("valid_from", on_date),
            param("valid_to", on_date),
        ]
    )
    # One active range per PDV and type (a unique constraint), so at most one row.
    return found[0][0] if found else None


# SQLite's RETURNING takes no table name: the columns go unqualified.
_RANGE_ADVANCE = HandWritten(
    """
    UPDATE invoices_numberingrange
       SET next_number = next_number + 1, updated_at = %s
     WHERE tenant_id = %s AND pdv_id = %s AND document_type = %s AND is_active
       AND next_number <= range_to AND valid_from <= %s AND valid_to >= %s
    RETURNING {columns}
    """,
    (NumberingRange, None),
)


def number_take(*, pdv: PDV, document_type: str, on_date: date) -> TakenNumber:
    """Take the next number of the PDV's active range, under a row lock, inside the issuing
    transaction: a rollback gives it back, so numbers are gap-free and unique."""
    numbering = _range_advance(pdv=pdv, document_type=document_type, on_date=on_date)
    if numbering is not None:
        number = numbering.next_number - 1
        return TakenNumber(numbering, number, range_warnings(numbering, on_date))
    # No usable range: find out why, under the same lock, to say so (or, if a range became
    # usable meanwhile, take its number). Lock only the range row: the model's default
    # ordering joins the PDV, and a plain FOR UPDATE would lock the PDV row too (and deadlock
    # against every FK check on it).
    numbering = (
        NumberingRange.objects.select_for_update(of=("self",))
        .filter(pdv=pdv, document_type=document_type, is_active=True)
        .order_by("pk")
        .first()
    )
    problem = _range_problem(numbering, pdv, document_type, on_date)
    if problem is None:
        return _take(numbering, on_date)
    successor = _scheduled_successor(pdv=pdv, document_type=document_type, on_date=on_date)
    if successor is not None:
        # The next resolution, loaded inactive for its first day, takes over: issuing does
        # not stop until someone activates it.
        if numbering is not None:
            numbering.is_active = False
            numbering.save(update_fields=["is_active", "updated_at"])
        successor.is_active = True
        taken = _take(successor, on_date)
        message = _("Range %(new)s replaced %(old)s, which can no longer issue.") % {
            "new": str(successor),
            "old": str(numbering) if numbering is not None else "-",
        }
        return TakenNumber(taken.numbering, taken.number, [message, *taken.warnings])
    # A concurrent issue may have made that switch while this one waited for the lock.
    numbering = _range_advance(pdv=pdv, document_type=document_type, on_date=on_date)
    if numbering is not None:
        return TakenNumber(numbering, numbering.next_number - 1, range_warnings(numbering, on_date))
    raise problem


def _take(numbering: NumberingRange, on_date: date) -> TakenNumber:
    number = numbering.next_number
    numbering.next_number = number + 1
    numbering.save(update_fields=["next_number", "is_active", "updated_at"])
    return TakenNumber(numbering, number, range_warnings(numbering, on_date))


def _scheduled_successor(*, pdv: PDV, document_type: str, on_date: date) -> NumberingRange | None:
    """A resolution loaded inactive for a later day (what `range_not_started` asks for: it
    started after the day it was loaded) that has started by `on_date`, is still valid and
    was never used. A range deactivated after use, or one switched off that was valid when
    loaded (replaced, or loaded by mistake), never qualifies."""
    return (
        NumberingRange.objects.select_for_update(of=("self",), no_key=True)
        .filter(
            pdv=pdv,
            document_type=document_type,
            is_active=False,
            valid_from__lte=on_date,
            valid_from__gt=TruncDate("created_at"),
            valid_to__gte=on_date,
            next_number=F("range_from"),
        )
        .order_by("valid_from", "pk")
        .first()
    )


def _range_problem(
    numbering: NumberingRange | None, pdv: PDV, document_type: str, on_date: date
) -> Conflict | None:
    """Why the active range cannot issue on `on_date` (None: it can)."""
    label = DocumentType(document_type).label
    if numbering is None:
        return Conflict(
            _(
                "%(pdv)s has no active numbering range for %(type)s: load the DIAN "
                "resolution in numbering-ranges/."
            )
            % {"pdv": pdv.name, "type": label},
            code="no_numbering_range",
        )
    if not numbering.valid_from <= on_date <= numbering.valid_to:
        return Conflict(
            _(
                "The numbering range %(range)s is valid from %(start)s to %(end)s; the "
                "document's date is %(date)s."
            )
            % {
                "range": str(numbering),
                "start": shown_date(numbering.valid_from),
                "end": shown_date(numbering.valid_to),
                "date": shown_date(on_date),
            },
            code="numbering_range_expired",
        )
    if numbering.next_number > numbering.range_to:
        return Conflict(
            _(
                "The numbering range %(range)s is used up (last number %(to)s): load a "
                "new DIAN resolution."
            )
            % {"range": str(numbering), "to": numbering.range_to},
            code="numbering_range_exhausted",
        )
    return None


# --------------------------------------------------------------------------------------------
# Lines and totals
# --------------------------------------------------------------------------------------------


class SellerPricing:
    """What a seller may change at the counter: a typed price only where the company allows
    it, a discount up to the company's maximum. Read once, and only when a line asks for it."""

    def __init__(self, role: str):
        self.applies = role == SELLER
        self._policy: tuple[bool, Decimal] | None = None

    def _company_policy(self) -> tuple[bool, Decimal]:
        if self._policy is None:
            self._policy = Company.objects.values_list(
                "sellers_may_change_price", "seller_max_discount_pct"
            ).get(pk=require_tenant_id())
        return self._policy

    def check_price_list(self, chosen: PriceList, own: PriceList | None) -> None:
        """Another list than the customer's own (or the default) is a change of prices."""
        if not self.applies or chosen == own:
            return
        may_change, _max_discount = self._company_policy()
        if not may_change:
            message = _("Sellers sell on the customer's price list: ask an administrator.")
            raise PermissionDeniedError(
                message, code="price_change_not_allowed", fields={"price_list": [message]}
            )

    def check(self, field: str, spec: dict, list_price: Decimal) -> None:
        if not self.applies:
            return
        unit_price = spec.get("unit_price")
        if unit_price is not None and unit_price != list_price:
            may_change, _max_discount = self._company_policy()
            if not may_change:
                message = _(
                    "Sellers sell at the price list's price (%(price)s): ask an administrator "
                    "to change prices."
                ) % {"price": shown_price(list_price)}
                raise PermissionDeniedError(
                    message,
                    code="price_change_not_allowed",
                    fields={f"{field}.unit_price": [message]},
                )
        discount = spec.get("discount_pct") or ZERO
        if discount > 0:
            _may_change, max_discount = self._company_policy()
            if discount > max_discount:
                message = (
                    _("Sellers give discounts of up to %(max)s %%.")
                    % {"max": shown_quantity(max_discount)}
                    if max_discount > 0
                    else _("Sellers give no discounts: ask an administrator.")
                )
                raise PermissionDeniedError(
                    message,
                    code="discount_above_limit",
                    fields={f"{field}.discount_pct": [message]},
                    extra={"max_discount_pct": str(max_discount)},
                )


def build_lines(
    specs: list[dict], price_list: PriceList | None, pricing: SellerPricing
) -> list[tuple[dict, LineAmounts]]:
    """Validate line specs and compute their amounts (prices from the list when not given),
    within what the actor's role may change (`SellerPricing`)."""
    if not specs:
        raise ValidationFailed(
            _("A document needs at least one line."),
            fields={"lines": [_("A document needs at least one line.")]},
        )
    ensure_tenant(*(spec["variant"] for spec in specs), field="lines")
    variants = variants_with_taxes(spec["variant"] for spec in specs)
    prices = variant_prices(variants.values(), price_list)
    built = []
    for index, spec in enumerate(specs):
        variant = variants[spec["variant"].pk]
        field = f"lines.{index}"
        if not (variant.is_active and variant.product.is_active):
            message = _("%(sku)s is inactive.") % {"sku": variant.sku}
            raise ValidationFailed(message, fields={f"{field}.variant": [message]})
        qty = spec["quantity"]
        if qty <= 0:
            raise ValidationFailed(
                _("Quantities are above 0."),
                fields={f"{field}.quantity": [_("Quantities are above 0.")]},
            )
        if not variant.product.unit.allows_decimals and qty != qty.to_integral_value():
            message = _("%(unit)s is sold in whole units.") % {"unit": variant.product.unit.name}
            raise ValidationFailed(message, fields={f"{field}.quantity": [message]})
        pricing.check(field, spec, prices[variant.pk])
        unit_price = spec.get("unit_price")
        amounts = compute_line(
            quantity_=qty,
            unit_price_=prices[variant.pk] if unit_price is None else unit_price,
            discount_pct=spec.get("discount_pct") or ZERO,
            taxes=[TaxRate.of(tax) for tax in variant_taxes(variant)],
        )
        built.append(
            (
                {
                    **spec,
                    "variant": variant,
                    "description": spec.get("description") or variant_description(variant),
                },
                amounts,
            )
        )
    return built


# --------------------------------------------------------------------------------------------
# Invoices
# --------------------------------------------------------------------------------------------


def _resolve_price_list(
    customer: Contact, price_list: PriceList | None, company_default=default_price_list
) -> PriceList | None:
    """The list asked for, else the customer's own while active, else the company's default
    (`company_default()`)."""
    if price_list is not None:
        return _require_active(price_list)
    own = customer.default_price_list
    return own if own is not None and own.is_active else company_default()


def _require_active(price_list: PriceList) -> PriceList:
    if not price_list.is_active:
        message = _("This price list is inactive.")
        raise ValidationFailed(message, fields={"price_list": [message]})
    return price_list


def _check_parties(pdv: PDV, customer: Contact, seller) -> None:
    ensure_tenant(pdv, field="pdv")
    ensure_tenant(customer, field="customer")
    ensure_tenant(seller, field="seller")
    if not pdv.is_active:
        raise ValidationFailed(
            _("The point of sale is inactive."),
            fields={"pdv": [_("The point of sale is inactive.")]},
        )
    if not (customer.is_active and customer.is_customer):
        message = _("%(name)s is not an active customer.") % {"name": customer.name}
        raise ValidationFailed(message, fields={"customer": [message]})
    if seller is not None and not seller.is_active:
        raise ValidationFailed(
            _("The seller is inactive."), fields={"seller": [_("The seller is inactive.")]}
        )


def _active_default_seller(customer: Contact):
    """The customer's default seller while active: deactivating a seller must not stop the
    sales to the customers it was the default of (a customer's price list likewise applies
    only while active)."""
    default = customer.default_seller
    return default if default is not None and default.is_active else None


def _seller_defaulted(invoice: Invoice) -> bool:
    """Whether the draft's seller is what its customer gave it: the customer's default seller,
    or none where the customer has no active default (nobody chose one)."""
    customer = invoice.customer
    if invoice.seller_id is None:
        return _active_default_seller(customer) is None
    return invoice.seller_id == customer.default_seller_id


def _write_lines(invoice: Invoice, built: list) -> list[InvoiceLine]:
    lines = InvoiceLine.objects.bulk_create(line_objects(InvoiceLine, built, invoice=invoice))
    apply_totals(invoice, [amounts for _spec, amounts in built])
    invoice.balance = invoice.total
    return lines


@atomic_service
def invoice_create(
    *,
    user,
    role: str,
    pdv: PDV,
    customer: Contact,
    lines: list[dict],
    kind: str = Invoice.Kind.SALE,
    seller=None,
    price_list: PriceList | None = None,
    due_date: date | None = None,
    notes: str = "",
    shift: Shift | None = None,
) -> Invoice:
    """A draft: no number, no stock movement, freely editable until issued."""
    check_sells_at(user=user, role=role, pdv=pdv)  # a cashier kept out of a store, too
    invoice, _lines = _draft_create(
        user=user,
        role=role,
        pdv=pdv,
        customer=customer,
        lines=lines,
        kind=kind,
        seller=seller,
        price_list=price_list,
        due_date=due_date,
        notes=notes,
        shift=shift,
    )
    return invoice


def _draft_create(
    *,
    user,
    role: str,
    pdv: PDV,
    customer: Contact,
    lines: list[dict],
    kind: str,
    seller,
    price_list: PriceList | None,
    due_date: date | None,
    notes: str,
    shift: Shift | None,
    save: bool = True,
    company_price_list=default_price_list,
) -> tuple[Invoice, list[InvoiceLine]]:
    """The draft and its lines (with variant, product and unit loaded); with `save=False` only
    in memory, for a caller that writes them once, finished (a POS sale). `company_price_list()`
    answers the company's default list, for a caller that has read it already."""
    _check_parties(pdv, customer, seller)
    ensure_tenant(price_list, field="price_list")
    pricing = SellerPricing(role)
    if price_list is not None and pricing.applies:
        company_list = _resolve_price_list(customer, None, company_price_list)
        pricing.check_price_list(price_list, company_list)
    price_list = _resolve_price_list(customer, price_list, company_price_list)
    built = build_lines(lines, price_list, pricing)
    invoice = Invoice(
        kind=kind,
        pdv=pdv,
        customer=customer,
        seller=seller or _active_default_seller(customer),
        price_list=price_list,
        issue_date=timezone.localdate(),
        due_date=due_date,
        notes=notes,
        created_by=user,
        shift=shift,
    )
    apply_totals(invoice, [amounts for _spec, amounts in built])
    invoice.balance = invoice.total
    if not save:
        return invoice, line_objects(InvoiceLine, built, invoice=invoice)
    invoice.save()
    return invoice, _write_lines(invoice, built)


def _lock(invoice: Invoice, *related: str) -> Invoice:
    """Lock the invoice row (only it, not joined rows) for the rest of the transaction."""
    return (
        Invoice.objects.select_for_update(of=("self",)).select_related(*related).get(pk=invoice.pk)
    )


def _require_draft(invoice: Invoice) -> None:
    if invoice.status != Invoice.Status.DRAFT:
        raise Conflict(
            _(
                "Invoice %(number)s is issued: it is never edited or deleted; void it or "
                "issue a credit note."
            )
            % {"number": invoice.full_number},
            code="invoice_issued",
        )


INVOICE_DRAFT_FIELDS = ("pdv", "customer", "seller", "price_list", "due_date", "notes")


@transaction.atomic
def invoice_update(*, invoice: Invoice, user, role: str, data: dict) -> Invoice:
    invoice = _lock(invoice)
    _require_draft(invoice)
    data = dict(data)
    if "pdv" in data and data["pdv"].pk != invoice.pdv_id:
        check_sells_at(user=user, role=role, pdv=data["pdv"])
    lines = data.pop("lines", None)
    pricing = SellerPricing(role)
    if data.get("price_list") is not None:
        ensure_tenant(data["price_list"], field="price_list")
        _require_active(data["price_list"])
        if pricing.applies:
            customer = data.get("customer", invoice.customer)
            pricing.check_price_list(data["price_list"], _resolve_price_list(customer, None))

    new_customer = "customer" in data and data["customer"].pk != invoice.customer_id
    if (new_customer and "price_list" not in data) or (
        "price_list" in data and data["price_list"] is None
    ):
        # No list asked for: the (new) customer's, or the default, as on creation.
        data["price_list"] = _resolve_price_list(data.get("customer", invoice.customer), None)
    if new_customer and "seller" not in data and _seller_defaulted(invoice):
        # The old customer's default seller (or none, where it had none) gives way to the new
        # customer's, as on creation; a seller chosen otherwise, or removed, stays so.
        data["seller"] = _active_default_seller(data["customer"])
    list_changes = "price_list" in data and data["price_list"] != invoice.price_list
    if list_changes and lines is None and invoice.lines.exists():
        # The lines were priced on the old list: re-pricing them is the client's call (some
        # prices may have been typed), so it sends them again.
        message = _("The price list changes: send the lines again to price them on it.")
        raise ValidationFailed(message, code="lines_required", fields={"lines": [message]})
    merged = {f: data.get(f, getattr(invoice, f)) for f in INVOICE_DRAFT_FIELDS}
    _check_parties(merged["pdv"], merged["customer"], merged["seller"])
    ensure_tenant(merged["price_list"], field="price_list")
    model_update(invoice, data, INVOICE_DRAFT_FIELDS)
    if lines is not None:
        stored = invoice.price_list
        # A stored list deactivated since gives way, as a customer's inactive one does, and
        # the draft names the list its lines were priced on.
        usable = stored if stored is not None and stored.is_active else None
        invoice.price_list = _resolve_price_list(invoice.customer, usable)
        built = build_lines(lines, invoice.price_list, pricing)
        invoice.lines.all().delete()
        _write_lines(invoice, built)
        invoice.save()

    return invoice


@transaction.atomic
def invoice_delete(*, invoice: Invoice) -> None:
    invoice = _lock(invoice)
    _require_draft(invoice)
    record_id = invoice.pk  # delete() empties it
    invoice.delete()
    record_attachments_forget(module="invoices", record_id=record_id)


def _check_credit_limit(invoice: Invoice, owed: Decimal) -> None:
    """The customer's open balance plus what this invoice leaves `owed` stays within its
    credit limit."""
    customer = invoice.customer
    if invoice.kind != Invoice.Kind.SALE or customer.credit_limit <= 0:
        return
    # Issues on credit to one customer queue on its row, so two at once cannot both fit
    # under the limit; the limit is read as it is now. NO KEY: a plain FOR UPDATE would also
    # block (and deadlock against) every sale's deferred foreign-key check on the customer.
    customer.credit_limit = (
        Contact.objects.select_for_update(no_key=True)
        .values_list("credit_limit", flat=True)
        .get(pk=customer.pk)
    )
    if customer.credit_limit <= 0:
        return
    open_balance = (
        Invoice.objects.filter(customer=customer, status=Invoice.Status.OPEN).aggregate(
            total=Sum("balance")
        )["total"]
        or ZERO
    )
    if open_balance + owed > customer.credit_limit:
        raise Conflict(
            _("%(customer)s would owe %(owed)s, above the credit limit of %(limit)s.")
            % {
                "customer": customer.name,
                "owed": shown_amount(open_balance + owed),
                "limit": shown_amount(customer.credit_limit),
            },
            code="credit_limit_exceeded",
            extra={"open_balance": str(open_balance), "credit_limit": str(customer.credit_limit)},
        )


def _document_type(invoice: Invoice) -> str:
    return DocumentType.POS if invoice.kind == Invoice.Kind.POS else DocumentType.INVOICE


@atomic_service
def invoice_issue(*, invoice: Invoice, user) -> tuple[Invoice, list[str]]:
    """Take the number, move the stock out and open the invoice: all or nothing."""
    invoice = _lock(invoice, "customer", "pdv", "seller")
    _require_draft(invoice)
    return _issue_draft(invoice, list(invoice.lines.select_related("variant__product")), user)


def _issue_draft(
    invoice: Invoice,
    lines: list[InvoiceLine],
    user,
    *,
    writes: Writes | None = None,
    paid_at_once: Decimal = ZERO,
) -> tuple[Invoice, list[str]]:
    """Issue a draft whose row this transaction holds: locked by `invoice_issue`, or not yet
    written (a POS sale, with `writes`: the number is taken and the stock locked, and the
    stock's new values, its ledger, the invoice and its lines are left in `writes` for the
    caller to write at once). The customer's credit limit applies to what is left owing once
    `paid_at_once` (paid with the sale, by its caller) is paid: a sale paid in full owes
    nothing."""
    # Electronic invoices carry the date they are issued on (no back-dating since 2024).
    invoice.issue_date = timezone.localdate()
    if not lines:
        raise Conflict(_("An invoice without lines cannot be issued."), code="no_lines")
    if not invoice.pdv.is_active:
        raise Conflict(_("The point of sale is inactive."), code="pdv_inactive")
    # A draft keeps its parties too: one deactivated since is not invoiced.
    customer = invoice.customer
    if not (customer.is_active and customer.is_customer):
        raise Conflict(
            _("%(name)s is not an active customer. Change the draft first.")
            % {"name": customer.name},
            code="customer_inactive",
        )
    if invoice.seller is not None and not invoice.seller.is_active:
        raise Conflict(_("The seller is inactive. Change the draft first."), code="seller_inactive")
    # A draft keeps its lines; what was deactivated since is not sold.
    inactive = [
        line.variant.sku
        for line in lines
        if not (line.variant.is_active and line.variant.product.is_active)
    ]
    if inactive:
        raise Conflict(
            _("Inactive items cannot be sold: %(skus)s. Change the draft first.")
            % {"skus": ", ".join(inactive)},
            code="variant_inactive",
        )
    if invoice.total > paid_at_once:
        _check_credit_limit(invoice, owed=invoice.total - paid_at_once)
    taken = number_take(
        pdv=invoice.pdv, document_type=_document_type(invoice), on_date=invoice.issue_date
    )
    ledger = stock_apply(
        [Movement(line.variant, invoice.pdv, -line.quantity, "sale") for line in lines],
        reference=Reference("invoice", invoice.pk, taken.full_number),
        user=user,
        writes=writes,
    )
    costs = {movement.variant_id: movement.unit_cost for movement in ledger}
    for line in lines:
        line.unit_cost = costs.get(line.variant_id)
    if writes is None:
        InvoiceLine.objects.bulk_update(lines, ["unit_cost"])
    invoice.numbering_range = taken.numbering
    invoice.prefix, invoice.number, invoice.full_number = (
        taken.prefix,
        taken.number,
        taken.full_number,
    )
    invoice.issued_at = timezone.now()
    if invoice.due_date is None or invoice.due_date < invoice.issue_date:
        invoice.due_date = invoice.issue_date + timedelta(days=invoice.customer.payment_term_days)
    # A draft has no payments or credit notes (both need an issued invoice): it opens owing all,
    # and an invoice of total 0 owes nothing: it is paid.
    invoice.status = Invoice.Status.OPEN if invoice.total > ZERO else Invoice.Status.PAID
    invoice.amount_paid = invoice.credited_total = ZERO
    invoice.balance = invoice.total

    if writes is None:
        invoice.save()
    else:
        writes.create(Invoice, [invoice])
        writes.create(InvoiceLine, lines)
    return invoice, taken.warnings


@transaction.atomic
def invoice_void(*, invoice: Invoice, user, reason: str) -> Invoice:
    """Void an open invoice without payments or credit notes; the stock comes back, the number
    stays used."""
    invoice = _lock(invoice)
    if not (reason or "").strip():
        raise ValidationFailed(
            _("Give the reason for voiding."), fields={"reason": [_("This field is required.")]}
        )
    free = invoice.status == Invoice.Status.PAID and invoice.total == ZERO  # paid by nothing
    if invoice.status != Invoice.Status.OPEN and not free:
        raise Conflict(
            _("Only an open invoice can be voided (this one is %(status)s).")
            % {"status": invoice.get_status_display()},
            code="invoice_not_open",
        )
    if invoice.payments.filter(status=Payment.Status.ACTIVE).exists():
        raise Conflict(
            _("The invoice has payments: void them first, or issue a credit note."),
            code="invoice_has_payments",
        )
    if invoice.credit_notes.exists():
        raise Conflict(
            _("The invoice has credit notes: it cannot be voided."), code="invoice_has_credit_notes"
        )
    lines = list(invoice.lines.select_related("variant"))
    if any(_took_stock(line) for line in lines):
        _require_pdv_takes_stock(invoice)
    stock_apply(
        [
            Movement(
                line.variant,
                invoice.pdv,
                line.quantity,
                "sale_return",
                line.unit_cost,
                note=_("Void"),
            )
            for line in lines
            if _took_stock(line)
        ],
        reference=Reference("invoice_void", invoice.pk, invoice.full_number),
        user=user,
        allow_negative=True,
    )
    invoice.status = Invoice.Status.VOID
    invoice.void_reason = reason.strip()[:255]
    invoice.voided_at = timezone.now()
    invoice.balance = ZERO
    invoice.save(update_fields=["status", "void_reason", "voided_at", "balance", "updated_at"])
    return invoice


def _require_pdv_takes_stock(invoice: Invoice) -> None:
    """Goods come back to the point of sale they left: not to a closed one, where they could
    never be moved or counted out again (closing it needed its stock out). Read under the
    shared lock a closing waits for."""
    require_pdv_moves_stock(
        invoice.pdv,
        _(
            "%(pdv)s is inactive: reactivate it to take the goods back there, or credit "
            "without returning stock."
        )
        % {"pdv": invoice.pdv.name},
    )


def _took_stock(line: InvoiceLine) -> bool:
    """Whether issuing the line took goods out of stock: its cost is the one they left with,
    none when the product was not tracked then. Only that comes back on a void or a return,
    even if the product is tracked now."""
    return line.unit_cost is not None


def _refresh_balance(invoice: Invoice) -> Invoice:
    """balance = total − payments applied − credit notes + refunds + withholdings reversed;
    paid at zero."""
    paid = (
        invoice.payments.filter(status=Payment.Status.ACTIVE).aggregate(s=Sum("applied"))["s"]
        or ZERO
    )
    notes = invoice.credit_notes.aggregate(
        credited=Sum("total"), refunded=Sum("refund_amount"), reversed=Sum("withholding_reversed")
    )
    credited, refunded = notes["credited"] or ZERO, notes["refunded"] or ZERO
    invoice.amount_paid = paid
    invoice.credited_total = credited
    invoice.balance = invoice.total - paid - credited + refunded + (notes["reversed"] or ZERO)

    if invoice.status in (Invoice.Status.OPEN, Invoice.Status.PAID):
        invoice.status = Invoice.Status.PAID if invoice.balance == ZERO else Invoice.Status.OPEN
    invoice.save(update_fields=["amount_paid", "credited_total", "balance", "status", "updated_at"])
    return invoice


# --------------------------------------------------------------------------------------------
# Payments
# --------------------------------------------------------------------------------------------


def _check_own_document(invoice: Invoice, user, role: str, message: str = "") -> None:
    """Sellers register payments (or do what `message` says) on their own documents only."""
    if role == "seller" and invoice.created_by_id != user.pk:
        raise PermissionDeniedError(
            message or _("Sellers register payments on their own invoices only."),
            code="not_your_invoice",
        )


def invoice_payments_check(*, invoice: Invoice, user, role: str) -> None:
    """Whether `user` may register payments on the invoice (the pages show the form to them
    only); `payment_create` checks the same."""
    _check_own_document(invoice, user, role)


def invoice_files_check(*, invoice: Invoice, user, role: str) -> None:
    """Sellers attach and delete files on their own invoices only, as they pay them."""
    _check_own_document(invoice, user, role, _("Sellers attach files to their own invoices only."))


@atomic_service
def payment_create(*, invoice: Invoice, **payment) -> Payment:
    """A payment (the keywords of `_payment_record`) on the invoice, under its row lock."""
    return _payment_record(_lock(invoice), **payment)


def _check_withholdings(invoice: Invoice, **withheld: Decimal) -> None:
    """What a customer withholds is a share of the invoice's own amounts: retefuente and
    reteICA of its base, reteIVA of its IVA; with earlier payments', never more."""
    earlier = invoice.payments.filter(status=Payment.Status.ACTIVE).aggregate(
        **{name: Sum(name) for name in withheld}
    )

    # What is still invoiced: the invoice less what its credit notes took back.
    base, iva = base_and_iva_left(invoice, invoice.credit_notes.all())

    ceilings = {"retefuente": base, "reteiva": iva, "reteica": base}
    for name, amount in withheld.items():
        ceiling = ceilings[name]
        if money(amount) + (earlier[name] or ZERO) > ceiling:
            if name == "reteiva":
                message = _("reteiva cannot exceed the invoice's IVA (%(ceiling)s) in all.")
            else:
                message = _("%(name)s cannot exceed the invoice's base (%(ceiling)s) in all.")
            message %= {"name": name, "ceiling": shown_amount(ceiling)}
            raise ValidationFailed(message, code="withholding_above_base", fields={name: [message]})


def _payment_record(
    invoice: Invoice,
    *,
    user,
    role: str,
    method: str,
    amount: Decimal,
    date_: date | None = None,
    retefuente: Decimal = ZERO,
    reteiva: Decimal = ZERO,
    reteica: Decimal = ZERO,
    reference: str = "",
    shift: Shift | None = None,
    tendered: Decimal | None = None,
    change: Decimal = ZERO,
    save: bool = True,
) -> Payment:
    """A payment on an invoice whose row this transaction holds (locked, or not yet written:
    with `save=False` the payment and the invoice's new balance stay in memory)."""
    _check_own_document(invoice, user, role)
    if invoice.status == Invoice.Status.DRAFT:
        raise Conflict(_("Issue the invoice before registering payments."), code="invoice_draft")
    if invoice.status == Invoice.Status.VOID:
        raise Conflict(_("The invoice is void."), code="invoice_void")
    withholdings = money(retefuente) + money(reteiva) + money(reteica)
    applied = money(amount) + withholdings
    if applied <= 0:
        raise ValidationFailed(
            _("The payment must be above 0."),
            fields={"amount": [_("The payment must be above 0.")]},
        )
    if applied > invoice.balance:
        message = _(
            "The payment (%(applied)s with withholdings) is above the balance of %(balance)s."
        ) % {"applied": shown_amount(applied), "balance": shown_amount(invoice.balance)}
        raise ValidationFailed(message, code="payment_above_balance", fields={"amount": [message]})
    if date_ is not None and not invoice.issue_date <= date_ <= timezone.localdate():
        message = _("A payment is dated between the invoice's date (%(issued)s) and today.") % {
            "issued": shown_date(invoice.issue_date)
        }
        raise ValidationFailed(message, code="payment_date", fields={"date": [message]})
    if withholdings:
        _check_withholdings(invoice, retefuente=retefuente, reteiva=reteiva, reteica=reteica)
    if shift is None:
        # Money taken by a cashier with an open shift is that shift's, whatever the method: the
        # close counts the cash and checks the card terminal's and the wallets' totals against
        # what the shift expects of each.
        shift = shift_open_for_money(user)

    payment = Payment(
        invoice=invoice,
        shift=shift,
        date=date_ or timezone.localdate(),
        method=method,
        amount=money(amount),
        retefuente=money(retefuente),
        reteiva=money(reteiva),
        reteica=money(reteica),
        applied=applied,
        tendered=tendered,
        change=money(change),
        reference=reference,
        created_by=user,
    )
    # The invoice row is locked, so its running totals move by exactly this payment.
    invoice.amount_paid += applied
    invoice.balance -= applied
    invoice.status = Invoice.Status.PAID if invoice.balance == ZERO else Invoice.Status.OPEN
    if save:
        payment.save()
        invoice.save(update_fields=["amount_paid", "balance", "status", "updated_at"])
    return payment


@transaction.atomic
def payment_void(*, payment: Payment, user, reason: str) -> Payment:
    payment = Payment.objects.select_for_update().get(pk=payment.pk)

    if not (reason or "").strip():
        raise ValidationFailed(
            _("Give the reason for voiding."), fields={"reason": [_("This field is required.")]}
        )
    if payment.status != Payment.Status.ACTIVE:
        raise Conflict(_("The payment is already void."), code="payment_void")
    invoice = _lock(payment.invoice)
    # Locked (after the invoice, the order payment_create takes them in): a close in progress
    # finishes first, and its count stays right.
    shift = (
        Shift.objects.select_for_update().get(pk=payment.shift_id)
        if payment.shift_id is not None
        else None
    )
    if shift is not None and shift.status == Shift.Status.CLOSED:
        raise Conflict(
            _("The payment belongs to a closed shift; its cash was already counted."),
            code="shift_closed",
        )
    if shift is not None and payment.method == PaymentMethod.CASH:
        # The cash goes back out of the drawer it came into: no more than it holds now (after
        # a cash out to the safe, say).
        check_drawer_holds(payment.amount, shift_cash_in_drawer(shift))
    if invoice.credit_notes.filter(Q(refund_amount__gt=0) | Q(withholding_reversed__gt=0)).exists():
        # The note gave money back against the payments; voiding one would make the customer
        # owe what was already credited and returned.
        raise Conflict(
            _("A credit note already gave this invoice's payments back: no payment can be voided."),
            code="payment_refunded",
        )
    if invoice.status == Invoice.Status.VOID:
        raise Conflict(_("The invoice is void."), code="invoice_void")
    payment.status = Payment.Status.VOID
    payment.void_reason = reason.strip()[:255]
    payment.voided_at = timezone.now()
    payment.save(update_fields=["status", "void_reason", "voided_at", "updated_at"])
    _refresh_balance(invoice)
    return payment


# --------------------------------------------------------------------------------------------
# Credit notes
# --------------------------------------------------------------------------------------------


def _refund_shift(shift: Shift | None, user, role: str) -> Shift | None:
    """The open shift a cash refund comes out of, locked (its drawer is counted next;
    `shift_open_for_money` locks the user's own)."""
    if shift is None:
        return shift_open_for_money(user)
    ensure_tenant(shift, field="refund_shift")
    shift = Shift.objects.select_for_update().get(pk=shift.pk)
    shift_check_actor(shift=shift, user=user, role=role)
    if shift.status != Shift.Status.OPEN:
        message = _("The refund comes out of an open shift's drawer.")
        raise ValidationFailed(message, fields={"refund_shift": [message]})
    return shift


def _money_to_give_back(invoice: Invoice) -> Decimal:
    """The money the customer paid (payments' amounts, not the withholdings they applied)
    less what earlier notes gave back."""
    received = invoice.payments.filter(status=Payment.Status.ACTIVE).aggregate(s=Sum("amount"))
    given_back = invoice.credit_notes.aggregate(s=Sum("refund_amount"))
    return max(ZERO, (received["s"] or ZERO) - (given_back["s"] or ZERO))


@transaction.atomic
def credit_note_create(
    *,
    invoice: Invoice,
    user,
    concept: str,
    reason: str,
    lines: list[dict] | None = None,
    return_stock: bool = False,
    refund_method: str = "",
    refund_shift: Shift | None = None,
    role: str = "",
    issue_date: date | None = None,
) -> CreditNote:
    """Correct an issued invoice: quantities returned and amounts credited never exceed what was
    invoiced minus earlier notes. The note lowers the balance; beyond it, it is a refund, paid
    in cash from `refund_shift` (or the user's open shift) so the drawer's count knows it."""
    invoice = _lock(invoice)
    if invoice.status not in (Invoice.Status.OPEN, Invoice.Status.PAID):
        raise Conflict(
            _("Credit notes apply to issued, non-void invoices."), code="invoice_not_issued"
        )
    if not (reason or "").strip():
        raise ValidationFailed(
            _("Give the reason."), fields={"reason": [_("This field is required.")]}
        )
    if return_stock and concept not in RETURN_CONCEPTS:
        message = _("Only returns (concepts 1 and 2) give stock back.")
        raise ValidationFailed(message, fields={"return_stock": [message]})
    invoice_lines = {line.pk: line for line in invoice.lines.select_related("variant")}
    so_far = credited_so_far(invoice)
    if concept == CreditNote.Concept.ANNULMENT:
        if lines:
            raise ValidationFailed(
                _("An annulment credits every remaining line: send no lines."),
                fields={"lines": [_("An annulment takes no lines.")]},
            )
        lines = []
        for line in invoice_lines.values():
            remaining = line.quantity - so_far.get(line.pk, {}).get("returned", ZERO)
            if remaining > 0:
                lines.append({"invoice_line": line, "quantity": remaining})
        if not lines:
            raise Conflict(
                _("Everything on this invoice was already credited."), code="nothing_to_credit"
            )
    if not lines:
        raise ValidationFailed(
            _("A credit note needs at least one line."),
            fields={"lines": [_("A credit note needs at least one line.")]},
        )

    built = []
    seen = set()
    for index, spec in enumerate(lines):
        field = f"lines.{index}"
        line = invoice_lines.get(spec["invoice_line"].pk)
        if line is None:
            message = _("This line is not on invoice %(number)s.") % {"number": invoice.full_number}
            raise ValidationFailed(message, fields={f"{field}.invoice_line": [message]})
        if line.pk in seen:
            raise ValidationFailed(
                _("Each invoice line appears once per note."),
                fields={f"{field}.invoice_line": [_("Repeated line.")]},
            )
        seen.add(line.pk)
        qty = spec["quantity"]
        previous = so_far.get(line.pk, {"returned": ZERO, "total": ZERO, "lines": []})

        if concept in RETURN_CONCEPTS and qty > line.quantity - previous["returned"]:
            message = _("At most %(max)s of %(item)s can still be returned.") % {
                "max": shown_quantity(line.quantity - previous["returned"]),
                "item": line.description,
            }
            raise ValidationFailed(
                message, code="above_invoiced", fields={f"{field}.quantity": [message]}
            )
        if qty > line.quantity:
            message = _("At most %(max)s were invoiced.") % {"max": shown_quantity(line.quantity)}
            raise ValidationFailed(
                message, code="above_invoiced", fields={f"{field}.quantity": [message]}
            )
        if qty > line.quantity - previous["returned"]:
            # A discount or adjustment on units already returned (and refunded) credits them
            # twice.
            message = _("Only %(max)s of %(item)s are left after returns.") % {
                "max": shown_quantity(line.quantity - previous["returned"]),
                "item": line.description,
            }
            raise ValidationFailed(
                message, code="above_invoiced", fields={f"{field}.quantity": [message]}
            )
        if line.quantity == line.quantity.to_integral_value():  # a line sold in whole units
            check_whole_units([(line.variant, qty)], field=f"{field}.quantity")

        price = spec.get("unit_price", line.unit_price)
        if price > line.unit_price:
            message = _("A credit note cannot price %(item)s above its invoiced %(price)s.") % {
                "item": line.description,
                "price": shown_price(line.unit_price),
            }
            raise ValidationFailed(
                message, code="above_invoiced", fields={f"{field}.unit_price": [message]}
            )
        remaining = line.quantity - previous["returned"]
        last_units = qty == remaining
        # Only over earlier returns at the line's own price: after one at an agreed lower price,
        # what is left of the line is worth more than its last units.
        # (Discount and adjustment notes lower the line's value, not its units' price: what is
        # left after them is still exactly what the last units are worth now.)
        at_line_price = all(
            credit.unit_price == line.unit_price
            for credit in previous["lines"]
            if credit.credit_note.concept in RETURN_CONCEPTS
        )

        # A discount or adjustment note lowered what the line's units are worth now.
        lowered = any(
            credit.credit_note.concept not in RETURN_CONCEPTS for credit in previous["lines"]
        )
        if concept == CreditNote.Concept.ANNULMENT or (
            concept in RETURN_CONCEPTS and last_units and price == line.unit_price and at_line_price
        ):
            # An annulment credits everything left of each line, whatever earlier notes took.
            amounts = line_remainder(line, previous["lines"], quantity_=qty)
        elif concept in RETURN_CONCEPTS and "unit_price" not in spec and lowered:
            # Each returned unit at its share of what is left of the line (discounts included),
            # not at the price it had before the discount: the customer gets back what was paid.
            # The last units take exactly what is left (their share would round off a cent).
            left = line_remainder(line, previous["lines"], quantity_=remaining)
            amounts = (
                left
                if last_units
                else compute_line(
                    quantity_=qty,
                    unit_price_=left.base / remaining,
                    discount_pct=ZERO,
                    taxes=[TaxRate.from_snapshot(tax) for tax in line.taxes],
                )
            )
        else:
            amounts = compute_line(
                quantity_=qty,
                unit_price_=price,
                discount_pct=line.discount_pct,
                taxes=[TaxRate.from_snapshot(tax) for tax in line.taxes],
            )
        if amounts.total > line.total - previous["total"]:
            message = _("At most %(max)s of %(item)s can still be credited.") % {
                "max": shown_amount(line.total - previous["total"]),
                "item": line.description,
            }
            raise ValidationFailed(
                message, code="above_invoiced", fields={f"{field}.quantity": [message]}
            )
        built.append((line, amounts))

    if sum((amounts.total for _line, amounts in built), ZERO) <= 0:
        # A note of nothing would still take a DIAN number.
        message = _("This note credits nothing: give a quantity or a price above 0.")
        raise ValidationFailed(message, code="nothing_credited", fields={"lines": [message]})
    if return_stock and any(_took_stock(line) for line, _amounts in built):
        _require_pdv_takes_stock(invoice)  # as a void: only goods that left stock come back
    taken = number_take(
        pdv=invoice.pdv,
        document_type=DocumentType.CREDIT_NOTE,
        on_date=issue_date or timezone.localdate(),
    )
    note = CreditNote(
        invoice=invoice,
        concept=concept,
        reason=reason.strip()[:255],
        numbering_range=taken.numbering,
        prefix=taken.prefix,
        number=taken.number,
        full_number=taken.full_number,
        issue_date=issue_date or timezone.localdate(),
        return_stock=return_stock,
        created_by=user,
    )
    apply_totals(note, [amounts for _line, amounts in built])
    excess = max(ZERO, note.total - invoice.balance)
    refund = min(excess, _money_to_give_back(invoice)) if excess > 0 else ZERO
    note.withholding_reversed = excess - refund
    if refund > 0:
        note.refund_amount = refund
        note.refund_method = refund_method or PaymentMethod.CASH
        if note.refund_method == PaymentMethod.CASH:
            note.shift = _refund_shift(refund_shift, user, role)
            if note.shift is None:
                # Cash handed back comes out of a drawer, or no shift close would count it.
                message = _(
                    "A cash refund comes out of an open shift's drawer: open one, name it in "
                    "refund_shift, or refund by another method."
                )
                raise ValidationFailed(
                    message, code="refund_needs_shift", fields={"refund_shift": [message]}
                )
            check_drawer_holds(refund, shift_cash_in_drawer(note.shift))
        else:
            # A card or wallet refund made at the counter is its shift's too: the close checks
            # the terminal's and the wallets' totals net of it. Without a shift, in none.
            note.shift = _refund_shift(refund_shift, user, role)

    note.save()
    CreditNoteLine.objects.bulk_create(
        [
            CreditNoteLine(
                credit_note=note,
                invoice_line=line,
                description=line.description,
                **amounts.as_fields(),
            )
            for line, amounts in built
        ]
    )
    if return_stock:
        stock_apply(
            [
                Movement(line.variant, invoice.pdv, amounts.quantity, "sale_return", line.unit_cost)
                for line, amounts in built
                if _took_stock(line)
            ],
            reference=Reference("credit_note", note.pk, note.full_number),
            user=user,
        )
    _refresh_balance(invoice)
    note.warnings = taken.warnings
    return note


# --------------------------------------------------------------------------------------------
# POS
# --------------------------------------------------------------------------------------------


@dataclass
class PosSale:
    """The sale as written: the invoice with its lines and payments (newest first, as
    `Payment` orders them; a new invoice has no credit notes), so the answer needs no second
    read."""

    invoice: Invoice
    lines: list[InvoiceLine]
    payments: list[Payment]
    change: Decimal
    warnings: list[str]


def _tender_payments(total: Decimal, tenders: list[dict]) -> tuple[list[dict], Decimal]:
    """Split tenders into payments and the cash change. A sale of total 0 (a gift, a 100 %
    discount) takes none."""
    if not tenders and total == ZERO:
        return [], ZERO
    if not tenders:
        raise ValidationFailed(
            _("Give at least one tender."), fields={"tenders": [_("Give at least one tender.")]}
        )
    cash = sum((money(t["amount"]) for t in tenders if t["method"] == PaymentMethod.CASH), ZERO)
    other = [t for t in tenders if t["method"] != PaymentMethod.CASH]
    other_total = sum((money(t["amount"]) for t in other), ZERO)
    if any(money(t["amount"]) <= 0 for t in tenders):
        raise ValidationFailed(
            _("Tenders are above 0."), fields={"tenders": [_("Tenders are above 0.")]}
        )
    if other_total > total:
        message = _(
            "Card, transfer and wallet tenders (%(other)s) exceed the total %(total)s: "
            "only cash gives change."
        ) % {"other": shown_amount(other_total), "total": shown_amount(total)}
        raise ValidationFailed(message, code="tender_above_total", fields={"tenders": [message]})
    if cash + other_total < total:
        message = _("The tenders (%(paid)s) do not cover the total %(total)s.") % {
            "paid": shown_amount(cash + other_total),
            "total": shown_amount(total),
        }
        raise ValidationFailed(message, code="tenders_short", fields={"tenders": [message]})
    cash_applied = total - other_total
    if cash > 0 and cash_applied == 0:
        message = _("No cash is needed: the other tenders cover the total.")
        raise ValidationFailed(message, fields={"tenders": [message]})
    payments = [
        {"method": t["method"], "amount": money(t["amount"]), "reference": t.get("reference", "")}
        for t in other
    ]
    if cash > 0:
        payments.append(
            {
                "method": PaymentMethod.CASH,
                "amount": cash_applied,
                "tendered": cash,
                "change": cash - cash_applied,
                "reference": "",
            }
        )
    return payments, cash - cash_applied


@dataclass(frozen=True)
class CompanyDefaults:
    """The company's final consumer and default price list for a sale: as read with its shift
    (`_shift_for_sale`), else read when needed."""

    consumer: Contact | None = None
    default_list: PriceList | None = None
    default_list_read: bool = False

    def final_consumer(self) -> Contact:
        return self.consumer or final_consumer()

    def price_list(self) -> PriceList | None:
        return self.default_list if self.default_list_read else default_price_list()


# The order of `Shift.objects.first()`; the price list's of `default_price_list()`.
#
# The sale's statements after this one all go to rows by key, so it also lets them take
# generic plans at once, until the transaction ends. In a write's `auto` mode
# (`ally360.db.GENERIC_PLANS_SQL`) PostgreSQL kept planning a statement whose generic plan it
# estimates a little dearer than its custom ones: the stock rows' reads (`= ANY` of an array it
# cannot see) were planned anew on every sale, 0.2–0.3 ms of PostgreSQL each.
_SHIFT_FOR_SALE = HandWritten(
    """
    SELECT {columns}
      FROM pos_shift s
      JOIN pos_cashregister r ON r.id = s.register_id
      JOIN pos_pdv d ON d.id = r.pdv_id
      CROSS JOIN (SELECT set_config('plan_cache_mode', 'force_generic_plan', true)) g
      LEFT JOIN LATERAL (
          SELECT * FROM contacts_contact
           WHERE tenant_id = %(tenant)s AND is_final_consumer LIMIT 1
      ) c ON true
      LEFT JOIN LATERAL (
          SELECT * FROM products_pricelist
           WHERE tenant_id = %(tenant)s AND is_default ORDER BY name LIMIT 1
      ) l ON true
     WHERE s.tenant_id = %(tenant)s AND s.user_id = %(user)s AND s.status = %(open)s
     ORDER BY s.opened_at DESC
     LIMIT 1
       FOR UPDATE OF s
    """,
    (Shift, "s"),
    (CashRegister, "r"),
    (PDV, "d"),
    (Contact, "c"),
    (PriceList, "l"),
)


def _shift_for_sale(user) -> tuple[Shift | None, CompanyDefaults]:
    """`shift_open_for_user(user)` — the open shift with its register and point of sale, its
    row locked — and the company's final consumer and default price list.

    On PostgreSQL one hand-written statement reads all three: for the busiest request of a shop,
    building the ORM's three queries cost more Python than PostgreSQL took to run them (a test
    compares the two). Elsewhere the ORM's, the last two read only when needed."""
    if connection.vendor != "postgresql":
        return shift_open_for_user(user), CompanyDefaults()
    rows = _SHIFT_FOR_SALE.rows(
        {"tenant": require_tenant_id(), "user": user.pk, "open": Shift.Status.OPEN.value}
    )
    if not rows:
        return None, CompanyDefaults()
    shift, register, pdv, consumer, default_list = rows[0]
    register.pdv = pdv
    shift.register = register
    return shift, CompanyDefaults(
        consumer=consumer, default_list=default_list, default_list_read=True
    )


def _pos_draft(
    *,
    shift: Shift | None,
    user,
    role: str,
    lines,
    customer,
    seller,
    price_list,
    notes: str = "",
    company_defaults: CompanyDefaults | None = None,
) -> tuple[Contact, Invoice, list[InvoiceLine]]:
    """A POS sale in `shift` built in memory, priced as it will be charged (final consumer by
    default): the sale and its quote share it."""
    if shift is None:
        raise Conflict(_("Open a shift before selling."), code="no_open_shift")
    company_defaults = company_defaults or CompanyDefaults()
    customer = customer or company_defaults.final_consumer()
    invoice, invoice_lines = _draft_create(
        company_price_list=company_defaults.price_list,
        user=user,
        role=role,
        kind=Invoice.Kind.POS,
        pdv=shift.register.pdv,
        customer=customer,
        seller=seller,
        price_list=price_list,
        due_date=None,
        notes=notes,
        lines=lines,
        shift=shift,
        save=False,
    )
    return customer, invoice, invoice_lines


@atomic_service
def pos_sale_create(
    *,
    user,
    role: str,
    lines: list[dict],
    tenders: list[dict],
    customer: Contact | None = None,
    seller=None,
    price_list: PriceList | None = None,
    notes: str = "",
) -> PosSale:
    """One request: create, issue and pay a POS sale in the cashier's open shift.

    Above 5 UVT before tax the DIAN requires an electronic invoice with an identified customer:
    without one the sale is refused (409); with one it is issued as a sales invoice from the
    PDV's invoice range.
    """
    # The sale is built in memory: the number is taken and the stock rows locked and checked,
    # and the stock, its ledger, the invoice, its lines and payments are written once,
    # finished, at the end (one statement, instead of inserts followed by updates).
    shift, company_defaults = _shift_for_sale(user)
    customer, invoice, invoice_lines = _pos_draft(
        shift=shift,
        user=user,
        role=role,
        lines=lines,
        customer=customer,
        seller=seller,
        price_list=price_list,
        notes=notes,
        company_defaults=company_defaults,
    )
    base, limit = pos_base_and_limit(invoice)
    if base > limit:
        if customer.is_final_consumer:
            raise Conflict(
                _(
                    "This sale is %(base)s before tax, above %(n)s UVT (%(limit)s): the DIAN requires "
                    "an electronic invoice with an identified customer. Choose the customer."
                )
                % {
                    "base": shown_amount(base),
                    "n": settings.POS_MAX_UVT,
                    "limit": shown_amount(limit),
                },
                code="identified_customer_required",
                extra={"limit": str(limit), "base": str(base)},
            )
        invoice.kind = Invoice.Kind.SALE
    tenders_paid, change = _tender_payments(invoice.total, tenders)
    writes = Writes()
    invoice, warnings = _issue_draft(
        invoice, invoice_lines, user, writes=writes, paid_at_once=invoice.total
    )
    payments = [
        _payment_record(invoice, user=user, role=role, shift=shift, save=False, **tender)
        for tender in tenders_paid
    ]
    writes.create(Payment, payments)
    # The stock's new values, its ledger, the invoice, its lines and payments: one statement on
    # PostgreSQL (the same UPDATE and INSERTs as bulk_update(), save() and bulk_create()).
    writes.run()
    return PosSale(
        invoice=invoice,
        lines=invoice_lines,
        payments=sorted(payments, key=lambda payment: payment.created_at, reverse=True),
        change=change,
        warnings=warnings,
    )


def pos_base_and_limit(invoice: Invoice) -> tuple[Decimal, Decimal]:
    """A POS ticket's amount before tax and the most it may be without an identified customer
    (5 UVT of its year)."""
    limit = settings.POS_MAX_UVT * uvt_value(invoice.issue_date.year)
    return invoice.subtotal - invoice.discount_total, limit


@dataclass
class PosQuote:
    """What a POS sale would charge, written nowhere (the pages show it before charging)."""

    invoice: Invoice
    lines: list[InvoiceLine]
    needs_identified_customer: bool
    limit: Decimal


def pos_sale_quote(
    *,
    user,
    role: str,
    lines: list[dict],
    customer: Contact | None = None,
    seller=None,
    price_list: PriceList | None = None,
) -> PosQuote:
    """The lines and totals `pos_sale_create` would charge in the user's open shift, built by
    the same code (prices, taxes, a seller's limits), without taking a number, moving stock or
    writing anything. Stock and tenders are checked when the sale is made."""
    from pos.selectors import open_shift_of

    customer, invoice, invoice_lines = _pos_draft(
        shift=open_shift_of(user),  # read, not locked: nothing is written
        user=user,
        role=role,
        lines=lines,
        customer=customer,
        seller=seller,
        price_list=price_list,
    )
    base, limit = pos_base_and_limit(invoice)
    return PosQuote(
        invoice=invoice,
        lines=invoice_lines,
        needs_identified_customer=base > limit and customer.is_final_consumer,
        limit=limit,
    )


def _down_payments(total: Decimal, tenders: list[dict]) -> list[dict]:
    """What a customer pays at once of a sale on credit (an "abono"): each tender a payment,
    at its amount; together less than the total (paying it all is a charge), and no change."""
    if any(money(tender["amount"]) <= 0 for tender in tenders):
        message = _("Tenders are above 0.")
        raise ValidationFailed(message, fields={"tenders": [message]})
    paid = sum((money(tender["amount"]) for tender in tenders), ZERO)
    if tenders and paid >= total:
        message = _(
            "The amounts given (%(paid)s) pay the whole sale of %(total)s: charge it instead "
            "of selling on credit."
        ) % {"paid": shown_amount(paid), "total": shown_amount(total)}
        raise ValidationFailed(
            message, code="down_payment_covers_total", fields={"tenders": [message]}
        )
    return [
        {
            "method": tender["method"],
            "amount": money(tender["amount"]),
            "reference": tender.get("reference", ""),
        }
        for tender in tenders
    ]


@atomic_service
def counter_credit_sale_create(
    *,
    user,
    role: str,
    lines: list[dict],
    customer: Contact | None,
    seller=None,
    down_payment: list[dict] = (),
) -> tuple[Invoice, list[str]]:
    """A sale on credit at the counter ("fiado"): a sales invoice to an identified customer,
    issued at once in the cashier's open shift and owing its total less the `down_payment`
    tenders (paid at once into the shift, as `_tender_payments` takes them) — `invoice_create`
    then `invoice_issue` and `payment_create`, as `POST invoices/ {"issue": true}` then
    `POST invoices/{id}/payments`, so the customer's credit limit (on what is left owing), the
    stock and the numbering rules hold. Nobody owes as the final consumer."""
    shift = shift_open_for_user(user)
    if shift is None:
        raise Conflict(_("Open a shift before selling."), code="no_open_shift")
    if customer is None or customer.is_final_consumer:
        message = _("A sale on credit needs the customer who will owe it.")
        raise ValidationFailed(message, code="customer_required", fields={"customer": [message]})
    invoice = invoice_create.within(
        user=user,
        role=role,
        pdv=shift.register.pdv,
        customer=customer,
        lines=lines,
        seller=seller,
        shift=shift,
    )
    payments = _down_payments(invoice.total, list(down_payment))
    invoice = _lock(invoice, "customer", "pdv", "seller")
    invoice, warnings = _issue_draft(
        invoice,
        list(invoice.lines.select_related("variant__product")),
        user,
        paid_at_once=sum((payment["amount"] for payment in payments), ZERO),
    )
    for payment in payments:
        _payment_record(invoice, user=user, role=role, shift=shift, **payment)
    return invoice, warnings


# --------------------------------------------------------------------------------------------
# Shifts: close
# --------------------------------------------------------------------------------------------


def shift_expected(shift: Shift) -> dict[str, Decimal]:
    """What the shift should hold per method: opening cash + cash received − cash refunds ±
    cash movements; each other method, what was received with it less what was refunded."""

    expected = {method: ZERO for method in PaymentMethod.values}
    for row in (
        Payment.objects.filter(shift=shift, status=Payment.Status.ACTIVE)
        .values("method")
        .annotate(amount=Sum("amount"))
    ):
        expected[row["method"]] += row["amount"]
    for row in (
        CreditNote.objects.filter(shift=shift)
        .exclude(refund_method="")
        .values("refund_method")
        .annotate(amount=Sum("refund_amount"))
    ):
        expected[row["refund_method"]] -= row["amount"]
    moves = {
        row["kind"]: row["amount"]
        for row in CashMovement.objects.filter(shift=shift)
        .values("kind")
        .annotate(amount=Sum("amount"))
    }
    expected[PaymentMethod.CASH] += (
        shift.opening_cash + moves.get("in", ZERO) - moves.get("out", ZERO)
    )

    return expected


def shift_cash_in_drawer(shift: Shift) -> Decimal:
    """The cash a shift's drawer should hold now (its expected cash)."""
    return shift_expected(shift)[PaymentMethod.CASH]


def drawer_cash_movement(
    *, shift: Shift, user, role: str, kind: str, amount, reason: str
) -> CashMovement:
    """Cash into or out of a shift's drawer; out at most what the drawer holds, its sales and
    refunds counted (409 `not_enough_cash`)."""
    return shift_cash_movement(
        shift=shift,
        user=user,
        role=role,
        kind=kind,
        amount=amount,
        reason=reason,
        cash_in_drawer=shift_cash_in_drawer,
    )


@transaction.atomic
def shift_close(*, shift: Shift, user, role: str, counted: dict, notes: str = "") -> Shift:
    shift = Shift.objects.select_for_update().get(pk=shift.pk)
    shift_check_actor(shift=shift, user=user, role=role)
    if shift.status != Shift.Status.OPEN:
        raise Conflict(_("This shift is already closed."), code="shift_closed")
    if PaymentMethod.CASH not in counted:
        raise ValidationFailed(
            _("Count the cash in the drawer."),
            fields={"counted.cash": [_("This field is required.")]},
        )
    counted = {method: money(amount) for method, amount in counted.items()}
    if counted[PaymentMethod.CASH] < 0:
        # A drawer holds no less than nothing; a card terminal's or a wallet's closing total
        # may be below 0 (refunds beyond what it took in the shift).
        message = _("The cash counted cannot be below 0.")
        raise ValidationFailed(message, fields={"counted.cash": [message]})
    expected = shift_expected(shift)
    # Money as written on documents (SQLite's sums come without their decimal places).
    shift.expected = {method: str(money(amount)) for method, amount in expected.items()}
    shift.counted = {method: str(amount) for method, amount in counted.items()}
    shift.expected_cash = expected[PaymentMethod.CASH]
    shift.counted_cash = counted[PaymentMethod.CASH]
    shift.difference = shift.counted_cash - shift.expected_cash
    shift.status = Shift.Status.CLOSED
    shift.closed_at = timezone.now()
    shift.closed_by = user
    if notes:
        shift.notes = f"{shift.notes}\n{notes}".strip()
    shift.save()
    return shift


# --------------------------------------------------------------------------------------------
# PDFs and e-mail
# --------------------------------------------------------------------------------------------


def document_pdf_is_fresh(document: Invoice | CreditNote) -> bool:
    """A PDF is reused until the document changes (a payment, a credit note...)."""
    return bool(
        document.pdf_id
        and document.pdf_generated_at
        and document.pdf_generated_at >= document.updated_at
    )


@transaction.atomic
def document_pdf_generate(*, document: Invoice | CreditNote):
    """Render and store the PDF unless a fresh one exists (idempotent)."""
    from files.services import file_delete, file_store

    from .pdf import render_document_pdf

    model = type(document)
    document = (
        model.objects.select_for_update(of=("self",)).select_related("pdf").get(pk=document.pk)
    )
    if isinstance(document, Invoice) and document.status == Invoice.Status.DRAFT:
        raise Conflict(_("Drafts have no PDF: issue the invoice first."), code="invoice_draft")
    if document_pdf_is_fresh(document):
        return document.pdf
    file = file_store(
        module="invoices",
        purpose="pdf",
        name=f"{document.full_number}.pdf",
        content_type="application/pdf",
        content=render_document_pdf(document),
    )
    previous = document.pdf
    # update() leaves updated_at alone, so the PDF counts as fresh until the next change.
    model.objects.filter(pk=document.pk).update(pdf=file, pdf_generated_at=timezone.now())
    # The PDF an e-mail still waits to send (its mail server down) stays: the customer gets
    # the invoice as it was sent, not an e-mail that fails for a missing attachment.
    if previous is not None and not email_waits_for(previous.key):
        try:
            file_delete(file=previous)
        except ServiceUnavailable:
            # The store blinked on the old object: the new PDF stands, and the old one, which
            # nothing points to now, is left to the purge of replaced PDFs.
            logger.warning("Replaced PDF %s left to the purge: storage unavailable", previous.pk)
    return file


def superseded_pdfs_purge() -> int:
    """The current company's PDFs that a newer one replaced while an e-mail still waited to send
    them (`document_pdf_generate` keeps those), deleted once no e-mail waits; how many. No
    document can point to them again, and no e-mail can start to wait for them: an e-mail
    attaches its document's current PDF, under the document's lock (`invoice_email` holds it
    from the PDF's generation to the e-mail's insert). The store down raises
    `StorageUnavailable`, which the job retries."""
    from files.backends import StorageUnavailable
    from files.services import file_delete

    from .selectors import superseded_pdfs

    purged = 0
    for file in superseded_pdfs():
        if not email_waits_for(file.key):
            try:
                file_delete(file=file)
            except ServiceUnavailable as exc:  # the store is down: the job's own retries
                raise StorageUnavailable(str(exc)) from exc
            purged += 1
    return purged


def document_pdf_request(*, document: Invoice | CreditNote):
    """The fresh PDF, or None after queuing its generation for when this transaction commits."""
    from .tasks import generate_document_pdf

    if isinstance(document, Invoice) and document.status == Invoice.Status.DRAFT:
        raise Conflict(_("Drafts have no PDF: issue the invoice first."), code="invoice_draft")
    if document_pdf_is_fresh(document):
        return document.pdf
    kind = "invoice" if isinstance(document, Invoice) else "credit_note"
    generate_document_pdf.delay_on_commit(kind, str(document.pk), tenant_id=str(document.tenant_id))
    return None


def invoice_send(*, invoice: Invoice, to: str | None = None) -> str:
    """Queue the invoice PDF by e-mail to the customer (or `to`)."""
    from .tasks import email_invoice

    if invoice.status == Invoice.Status.DRAFT:
        raise Conflict(_("Issue the invoice before sending it."), code="invoice_draft")
    recipient = (to or invoice.customer.email or "").strip()
    if not recipient:
        message = _("The customer has no e-mail address: give one in `to`.")
        raise ValidationFailed(message, fields={"to": [message]})
    # The e-mail's id is fixed now, so a redelivered task cannot queue it twice.
    email_invoice.delay_on_commit(
        str(invoice.pk), recipient, email_id=str(uuid.uuid4()), tenant_id=str(invoice.tenant_id)
    )
    return recipient


@transaction.atomic
def invoice_email(*, invoice: Invoice, to: str, email_id: str | None = None) -> None:
    """Task body: make sure the PDF exists, then put the e-mail in the outbox (once per
    `email_id`)."""
    from accounts.models import Company
    from accounts.services import email_queue

    pdf = document_pdf_generate(document=invoice)
    invoice.refresh_from_db()
    company = Company.objects.get(pk=invoice.tenant_id)
    email_queue(
        kind="invoice",
        to=to,
        company=company,
        template="emails/invoice.txt",
        context={"invoice": invoice, "company": company},
        attachments=[
            {
                "storage_key": pdf.key,
                "filename": f"{invoice.full_number}.pdf",
                "content_type": "application/pdf",
            }
        ],
        email_id=email_id,
    )
