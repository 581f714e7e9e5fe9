"""Purchases: supplier bills, withholdings, supplier payments, debit notes.

Mirrors sales: the same document arithmetic (`ally360.documents`), the same stock service
(`inventory.services.stock_apply`, which keeps the weighted-average cost), the same gap-free
internal numbering (`ally360.sequences`) and the same `Idempotency-Key` handling in the API.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Company
from ally360.documents import (
    LineAmounts,
    TaxRate,
    apply_totals,
    base_and_iva_left,
    compute_line,
    line_objects,
    line_remainder,
)
from ally360.exceptions import Conflict, ValidationFailed
from ally360.fiscal import uvt_value
from ally360.formatting import shown_amount, shown_date, shown_quantity
from ally360.money import ZERO, money, percent_of, unit_price
from ally360.sequences import next_number
from ally360.services import delete_unless_used, ensure_tenant, model_update, unique_or_conflict
from contacts.models import Contact
from files.services import record_attachments_forget
from inventory.models import StockMovement
from inventory.selectors import averages_before
from inventory.services import Movement, Reference, check_whole_units, stock_apply
from pos.models import PDV
from pos.services import require_pdv_moves_stock
from products.selectors import variant_description, variant_taxes, variants_with_taxes
from products.services import validate_taxes

from .models import (
    Bill,
    BillLine,
    DebitNote,
    DebitNoteLine,
    PaymentAllocation,
    SupplierPayment,
    Withholding,
    WithholdingConcept,
)

Kind = WithholdingConcept.Kind

# --------------------------------------------------------------------------------------------
# Withholding concepts (rates are data)
# --------------------------------------------------------------------------------------------

DEFAULT_CONCEPTS = [
    (Kind.RETEFUENTE, "Compras generales (declarantes)", "2.5", "10"),
    (Kind.RETEFUENTE, "Compras generales (no declarantes)", "3.5", "10"),
    (Kind.RETEFUENTE, "Servicios generales (declarantes)", "4", "2"),
    (Kind.RETEFUENTE, "Servicios generales (no declarantes)", "6", "2"),
    (Kind.RETEFUENTE, "Compras con tarjeta débito o crédito", "1.5", "0"),
    (Kind.RETEIVA, "ReteIVA 15 %", "15", "0"),
    (Kind.RETEICA, "ReteICA (ajuste la tarifa de su municipio)", "9.66", "0"),
]


def withholding_concepts_seed(*, company: Company) -> None:
    """Company set-up step: common withholding concepts, to be adjusted by each company."""
    WithholdingConcept.objects.bulk_create(
        [
            WithholdingConcept(kind=kind, name=name, rate=Decimal(rate), min_base_uvt=Decimal(uvt))
            for kind, name, rate, uvt in DEFAULT_CONCEPTS
        ]
    )


@transaction.atomic
def withholding_concept_create(
    *, kind: str, name: str, rate: Decimal, min_base_uvt: Decimal = ZERO, is_active: bool = True
) -> WithholdingConcept:
    message = _("A concept with this name already exists.")
    if WithholdingConcept.objects.filter(kind=kind, name__iexact=name).exists():
        raise Conflict(message, code="duplicate", fields={"name": [message]})
    with unique_or_conflict(message, field="name"):
        return WithholdingConcept.objects.create(
            kind=kind, name=name, rate=rate, min_base_uvt=min_base_uvt, is_active=is_active
        )


@transaction.atomic
def withholding_concept_update(*, concept: WithholdingConcept, data: dict) -> WithholdingConcept:
    # Practised withholdings snapshot the rate, so a new rate never rewrites history.
    with unique_or_conflict(_("A concept with this name already exists."), field="name"):
        model_update(concept, data, ("name", "rate", "min_base_uvt", "is_active"))
    return concept


def withholding_concept_delete(*, concept: WithholdingConcept) -> None:
    delete_unless_used(concept, message=_("Payments used this concept: deactivate it instead."))


# --------------------------------------------------------------------------------------------
# Bills
# --------------------------------------------------------------------------------------------


def _check_supplier(supplier: Contact, field: str = "supplier") -> None:
    ensure_tenant(supplier, field=field)
    if not (supplier.is_supplier and supplier.is_active):
        message = _("%(name)s is not an active supplier.") % {"name": supplier.name}
        raise ValidationFailed(message, fields={field: [message]})


def _check_pdv(pdv: PDV) -> None:
    ensure_tenant(pdv, field="pdv")
    if not pdv.is_active:
        raise ValidationFailed(
            _("The point of sale is inactive."),
            fields={"pdv": [_("The point of sale is inactive.")]},
        )


def _check_supplier_number(supplier: Contact, number: str, exclude_id=None) -> None:
    taken = (
        Bill.objects.filter(supplier=supplier, supplier_invoice_number__iexact=number)
        .exclude(status=Bill.Status.VOID)
        .exclude(pk=exclude_id)
    )
    if taken.exists():
        message = _("%(supplier)s's invoice %(number)s is already registered.") % {
            "supplier": supplier.name,
            "number": number,
        }
        raise Conflict(
            message,
            code="duplicate_supplier_invoice",
            fields={"supplier_invoice_number": [message]},
        )


def _build_lines(specs: list[dict]) -> list[tuple[dict, LineAmounts]]:
    if not specs:
        raise ValidationFailed(
            _("A document needs at least one line."),
            fields={"lines": [_("A document needs at least one line.")]},
        )
    ensure_tenant(*(spec["variant"] for spec in specs), field="lines")
    check_whole_units([(spec["variant"], spec["quantity"]) for spec in specs])
    variants = variants_with_taxes(spec["variant"] for spec in specs)

    built = []
    for index, spec in enumerate(specs):
        variant = variants[spec["variant"].pk]
        taxes = spec.get("taxes")
        if taxes is None:
            taxes = variant_taxes(variant)
        else:
            validate_taxes(taxes, field=f"lines.{index}.taxes")
        amounts = compute_line(
            quantity_=spec["quantity"],
            unit_price_=spec["unit_cost"],
            discount_pct=spec.get("discount_pct") or ZERO,
            taxes=[TaxRate.of(tax) for tax in taxes],
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


def _write_lines(bill: Bill, built: list) -> None:
    BillLine.objects.bulk_create(line_objects(BillLine, built, price_field="unit_cost", bill=bill))
    apply_totals(bill, [amounts for _spec, amounts in built])
    bill.balance = bill.total


@transaction.atomic
def bill_create(
    *,
    user,
    supplier: Contact,
    pdv: PDV,
    supplier_invoice_number: str,
    lines: list[dict],
    issue_date: date | None = None,
    due_date: date | None = None,
    notes: str = "",
) -> Bill:
    _check_supplier(supplier)
    _check_pdv(pdv)
    _check_bill_dates(issue_date or timezone.localdate(), due_date)
    number = supplier_invoice_number.strip()
    _check_supplier_number(supplier, number)
    built = _build_lines(lines)
    bill = Bill(
        supplier=supplier,
        pdv=pdv,
        supplier_invoice_number=number,
        issue_date=issue_date or timezone.localdate(),
        due_date=due_date,
        notes=notes,
        created_by=user,
    )
    apply_totals(bill, [amounts for _spec, amounts in built])
    with unique_or_conflict(
        _("This supplier invoice is already registered."),
        field="supplier_invoice_number",
        code="duplicate_supplier_invoice",
    ):
        bill.save()
    _write_lines(bill, built)
    bill.save()
    return bill


def _check_bill_dates(issue_date: date, due_date: date | None) -> None:
    # A supplier's invoice dated ahead would count in today's payables before its day.
    if issue_date > timezone.localdate():
        message = _("A supplier invoice cannot be dated after today.")
        raise ValidationFailed(message, code="bill_date", fields={"issue_date": [message]})
    # Due before its date, it would be overdue the day it is received.
    if due_date is not None and due_date < issue_date:
        message = _("A bill falls due on or after its date.")
        raise ValidationFailed(message, code="bill_date", fields={"due_date": [message]})


def _check_dated_between(day: date, bills, *, field: str, code: str) -> None:
    """A payment or a return is dated on or after its bills' date, and not after today."""
    latest = max(bill.issue_date for bill in bills)
    if not latest <= day <= timezone.localdate():
        message = _("This date must be between the bill's date (%(issued)s) and today.") % {
            "issued": shown_date(latest)
        }
        raise ValidationFailed(message, code=code, fields={field: [message]})


def _received_variants(bill: Bill) -> set:
    """The variants whose goods the bill's receipt put into stock (not those of a product that
    was not tracked then): only they leave stock again on a void or a return."""
    return set(
        StockMovement.objects.filter(reference_type="bill", reference_id=bill.pk).values_list(
            "variant_id", flat=True
        )
    )


def _lock(bill: Bill, *related: str) -> Bill:
    return Bill.objects.select_for_update(of=("self",)).select_related(*related).get(pk=bill.pk)


def _require_draft(bill: Bill) -> None:
    if bill.status != Bill.Status.DRAFT:
        raise Conflict(
            _("Bill %(number)s was received: it is only voided or corrected with a debit note.")
            % {"number": bill.number},
            code="bill_issued",
        )


BILL_DRAFT_FIELDS = (
    "supplier",
    "pdv",
    "supplier_invoice_number",
    "issue_date",
    "due_date",
    "notes",
)


@transaction.atomic
def bill_update(*, bill: Bill, data: dict) -> Bill:
    bill = _lock(bill)
    _require_draft(bill)
    data = dict(data)
    lines = data.pop("lines", None)
    supplier = data.get("supplier", bill.supplier)
    _check_supplier(supplier)
    _check_pdv(data.get("pdv", bill.pdv))
    if "issue_date" in data or "due_date" in data:
        _check_bill_dates(
            data.get("issue_date") or bill.issue_date, data.get("due_date", bill.due_date)
        )
    if "supplier_invoice_number" in data:
        data["supplier_invoice_number"] = data["supplier_invoice_number"].strip()
    _check_supplier_number(
        supplier,
        data.get("supplier_invoice_number", bill.supplier_invoice_number),
        exclude_id=bill.pk,
    )
    with unique_or_conflict(
        _("This supplier invoice is already registered."),
        field="supplier_invoice_number",
        code="duplicate_supplier_invoice",
    ):
        model_update(bill, data, BILL_DRAFT_FIELDS)
    if lines is not None:
        built = _build_lines(lines)
        bill.lines.all().delete()
        _write_lines(bill, built)
        bill.save()
    return bill


@transaction.atomic
def bill_delete(*, bill: Bill) -> None:
    bill = _lock(bill)
    _require_draft(bill)
    record_id = bill.pk  # delete() empties it
    bill.delete()
    record_attachments_forget(module="bills", record_id=record_id)


def _net_unit_cost(line: BillLine) -> Decimal:
    """The cost that enters the weighted average: the line's base (after discount) plus the
    taxes that cannot be recovered (INC, Art. 512-1 E.T.), per unit; the IVA is recoverable."""
    unrecovered = sum((Decimal(t["amount"]) for t in line.taxes if t["kind"] == "inc"), ZERO)
    return unit_price((line.subtotal - line.discount + unrecovered) / line.quantity)


@transaction.atomic
def bill_issue(*, bill: Bill, user) -> Bill:
    """Receive the bill: internal number, stock in at its net cost (weighted average), open."""
    bill = _lock(bill, "supplier", "pdv")
    _require_draft(bill)
    lines = list(bill.lines.select_related("variant"))
    if not lines:
        raise Conflict(_("A bill without lines cannot be received."), code="no_lines")
    # Under the shared lock a closing of the point of sale waits for: it then sees this stock.
    require_pdv_moves_stock(bill.pdv, _("The point of sale is inactive."))
    if not (bill.supplier.is_active and bill.supplier.is_supplier):
        # A draft keeps its supplier; one deactivated since does not bill us.
        raise Conflict(
            _("%(name)s is not an active supplier. Change the draft first.")
            % {"name": bill.supplier.name},
            code="supplier_inactive",
        )
    bill.number = next_number("bill", prefix="FC-")
    stock_apply(
        [
            Movement(line.variant, bill.pdv, line.quantity, "purchase", _net_unit_cost(line))
            for line in lines
        ],
        reference=Reference("bill", bill.pk, bill.number),
        user=user,
    )
    bill.status = Bill.Status.OPEN
    bill.issued_at = timezone.now()
    if bill.due_date is None:
        bill.due_date = bill.issue_date + timedelta(days=bill.supplier.payment_term_days)
    bill.save()
    return _refresh_balance(bill)


def _require_pdv_gives_stock(bill: Bill) -> None:
    """Goods go back to the supplier from the point of sale that received them: not from a
    closed one, which holds none (closing it needed its stock out) and would be left below
    zero where no count or transfer could set it right. Read under the shared lock a closing
    waits for."""
    require_pdv_moves_stock(
        bill.pdv,
        _("%(pdv)s is inactive: reactivate it to send the goods back from there.")
        % {"pdv": bill.pdv.name},
    )


@transaction.atomic
def bill_void(*, bill: Bill, user, reason: str) -> Bill:
    """Undo a received bill without payments or returns: the goods leave stock again. When
    they were already sold (and negative stock is not allowed) the answer is a 409."""
    bill = _lock(bill, "pdv")
    if not (reason or "").strip():
        raise ValidationFailed(
            _("Give the reason for voiding."), fields={"reason": [_("This field is required.")]}
        )
    # What stands in the way first: a paid bill is told to void its payments, not that it is
    # paid.
    if bill.allocations.filter(payment__status=SupplierPayment.Status.ACTIVE).exists():
        raise Conflict(_("The bill has payments: void them first."), code="bill_has_payments")
    if bill.debit_notes.exists():
        raise Conflict(
            _("The bill has debit notes: it cannot be voided."), code="bill_has_debit_notes"
        )
    # A bill of nothing (goods received free) is paid on receipt, and voided like an open one.
    free = bill.status == Bill.Status.PAID and bill.total == ZERO
    if bill.status != Bill.Status.OPEN and not free:
        raise Conflict(
            _("Only an open bill can be voided (this one is %(status)s).")
            % {"status": bill.get_status_display()},
            code="bill_not_open",
        )
    lines = list(bill.lines.select_related("variant"))
    # The variants the receipt put into stock, with their average from before it: a void that
    # empties a stock puts that average back.
    received = averages_before("bill", bill.pk)
    if any(line.variant_id in received for line in lines):
        _require_pdv_gives_stock(bill)
    try:
        stock_apply(
            [
                Movement(
                    line.variant,
                    bill.pdv,
                    -line.quantity,
                    "purchase_return",
                    _net_unit_cost(line),
                    restore_average=received[line.variant_id],
                )
                for line in lines
                if line.variant_id in received
            ],
            reference=Reference("bill_void", bill.pk, bill.number),
            user=user,
        )
    except Conflict as exc:
        if exc.code != "insufficient_stock":
            raise
        raise Conflict(
            _(
                "The goods of this bill were already sold, so voiding it would leave negative "
                "stock. %(detail)s"
            )
            % {"detail": exc.message},
            code="stock_already_sold",
            extra=exc.extra,
        )
    bill.status = Bill.Status.VOID
    bill.void_reason = reason.strip()[:255]
    bill.voided_at = timezone.now()
    bill.balance = ZERO
    bill.save(update_fields=["status", "void_reason", "voided_at", "balance", "updated_at"])
    return bill


def _refresh_balance(bill: Bill) -> Bill:
    """balance = what is still owed: total − payments applied − debit notes, never below 0;
    beyond it the supplier owes the difference back, as the refund due of the notes that went
    beyond it.

    The notes are taken in the order they were made (a return may be dated back): what each
    one adds to what is owed back is its share, so a later return never rewrites an earlier
    one's refund or reversal (nor the closed year's certificate that counts it). Both follow the payments: a
    payment voided after a return was never money the supplier has to give back."""
    paid = (
        bill.allocations.filter(payment__status=SupplierPayment.Status.ACTIVE).aggregate(
            s=Sum("amount")
        )["s"]
        or ZERO
    )
    notes = list(bill.debit_notes.order_by("created_at", "pk"))
    # Of what is owed back, the supplier gives back at most the money it received: what we
    # withheld went to the DIAN in its name, so that part is a withholding to reverse, not
    # money owed to us. Money comes back first.
    withheld = (
        bill.withholdings.filter(payment__status=SupplierPayment.Status.ACTIVE).aggregate(
            s=Sum("amount")
        )["s"]
        or ZERO
    )
    debited = owed_before = money_before = ZERO
    changed = []
    for note in notes:
        debited += note.total
        owed = max(ZERO, paid + debited - bill.total)
        money_back = min(owed, paid - withheld)
        share, refund = owed - owed_before, money_back - money_before
        owed_before, money_before = owed, money_back
        if (note.refund_amount, note.withholding_reversed) != (refund, share - refund):
            note.refund_amount, note.withholding_reversed = refund, share - refund
            note.updated_at = timezone.now()
            changed.append(note)
    if changed:
        DebitNote.objects.bulk_update(
            changed, ["refund_amount", "withholding_reversed", "updated_at"]
        )

    bill.amount_paid = paid
    bill.debited_total = debited
    bill.balance = max(ZERO, bill.total - paid - debited)

    if bill.status in (Bill.Status.OPEN, Bill.Status.PAID):
        bill.status = Bill.Status.PAID if bill.balance == ZERO else Bill.Status.OPEN
    bill.save(update_fields=["amount_paid", "debited_total", "balance", "status", "updated_at"])
    return bill


# --------------------------------------------------------------------------------------------
# Withholdings and supplier payments
# --------------------------------------------------------------------------------------------


def _bill_base_and_iva(bill: Bill) -> tuple[Decimal, Decimal]:
    """The base and IVA still billed: the bill's less what its debit notes returned."""
    return base_and_iva_left(bill, bill.debit_notes.all())


def _already_withheld(bill: Bill) -> dict:
    """Per figure (amount, base) and kind, what active payments already withheld on the bill."""
    rows = list(
        Withholding.objects.filter(bill=bill, payment__status=SupplierPayment.Status.ACTIVE)
        .values("kind")
        .annotate(amount=Sum("amount"), base=Sum("base"))
    )
    return {figure: {row["kind"]: row[figure] for row in rows} for figure in ("amount", "base")}


def _check_withholding_ceilings(bills: dict, rows: list[Withholding]) -> None:
    """A withholding is a share of the bill's own amounts: ReteFuente and ReteICA of its base,
    ReteIVA of its IVA, with earlier payments' counted (the yearly certificates sum them). Its
    declared base is bounded the same way, and its amount by that base: the certificate reports
    both."""
    withheld: dict = defaultdict(Decimal)
    declared: dict = defaultdict(Decimal)
    for index, row in enumerate(rows):
        if row.amount > row.base:
            message = _("A withholding cannot exceed its base.")
            raise ValidationFailed(
                message,
                code="withholding_above_base",
                fields={f"withholdings.{index}.amount": [message]},
            )
        withheld[(row.bill_id, row.kind)] += row.amount
        declared[(row.bill_id, row.kind)] += row.base
    kinds_by_bill: dict = defaultdict(list)
    for bill_id, kind in withheld:
        kinds_by_bill[bill_id].append(kind)
    for bill_id, kinds in kinds_by_bill.items():
        bill = bills[bill_id]
        base, iva = _bill_base_and_iva(bill)
        earlier = _already_withheld(bill)
        # Only the kinds this payment withholds: a return can leave an earlier ReteFuente's
        # base above what the bill has left, which must not refuse a later ReteIVA.
        for kind in kinds:
            ceiling = iva if kind == Kind.RETEIVA else base
            for figure, this_payment in (("amount", withheld), ("base", declared)):
                if this_payment[(bill_id, kind)] + earlier[figure].get(kind, ZERO) <= ceiling:
                    continue
                if figure == "base":
                    message = _(
                        "The base of %(kind)s on bill %(number)s cannot exceed %(ceiling)s in "
                        "all (its %(of)s)."
                    )
                else:
                    message = _(
                        "%(kind)s on bill %(number)s cannot exceed %(ceiling)s in all (its %(of)s)."
                    )
                message = message % {
                    "kind": Kind(kind).label,
                    "number": bill.number,
                    "ceiling": shown_amount(ceiling),
                    "of": "IVA" if kind == Kind.RETEIVA else "base",
                }
                raise ValidationFailed(
                    message, code="withholding_above_base", fields={"withholdings": [message]}
                )


def withholding_amount(concept: WithholdingConcept, base: Decimal) -> Decimal:

    rate = concept.rate / Decimal("10") if concept.kind == Kind.RETEICA else concept.rate
    return money(percent_of(base, rate))


def withholdings_suggest(*, bills: list[Bill], concepts: list[WithholdingConcept]) -> list[dict]:
    """Withholdings to practise on these bills with these concepts: ReteFuente on the base when
    it reaches the concept's minimum (UVT of the bill's year), ReteIVA on the IVA, ReteICA per
    mil of the base; minus what earlier payments already withheld. Editable by the user."""
    ensure_tenant(*bills, field="bills")
    ensure_tenant(*concepts, field="concepts")
    not_open = [bill for bill in bills if bill.status in (Bill.Status.DRAFT, Bill.Status.VOID)]
    if not_open:
        message = _(
            "Only received bills take withholdings, not drafts or void ones: %(bills)s."
        ) % {"bills": ", ".join(bill.number or str(bill.pk) for bill in not_open)}
        raise ValidationFailed(message, code="bill_not_open", fields={"bills": [message]})
    inactive = [concept.name for concept in concepts if not concept.is_active]
    if inactive:  # the payment would refuse them
        message = _("Inactive concepts are not withheld: %(names)s.") % {
            "names": ", ".join(inactive)
        }
        raise ValidationFailed(message, fields={"concepts": [message]})
    kinds = [concept.kind for concept in concepts]
    if len(set(kinds)) != len(kinds):
        message = _("Choose at most one concept of each kind.")
        raise ValidationFailed(message, fields={"concepts": [message]})
    suggestions = []
    prefetch_related_objects(bills, "debit_notes")  # one query for every bill's returns
    for bill in bills:
        base, iva = _bill_base_and_iva(bill)

        done = _already_withheld(bill)
        for concept in concepts:
            if concept.kind == Kind.RETEFUENTE and base < concept.min_base_uvt * uvt_value(
                bill.issue_date.year
            ):
                continue
            whole = iva if concept.kind == Kind.RETEIVA else base
            amount = withholding_amount(concept, whole) - done["amount"].get(concept.kind, ZERO)
            # On the base earlier payments left: the ceilings count their declared bases too.
            taxed = whole - done["base"].get(concept.kind, ZERO)
            amount = min(amount, taxed)
            if amount > 0:
                suggestions.append(
                    {
                        "bill": bill,
                        "concept": concept,
                        "kind": concept.kind,
                        "name": concept.name,
                        "base": taxed,
                        "rate": concept.rate,
                        "amount": amount,
                    }
                )
    return suggestions


@transaction.atomic
def supplier_payment_create(
    *,
    user,
    supplier: Contact,
    method: str,
    allocations: list[dict],
    withholdings: list[dict] | None = None,
    date_: date | None = None,
    reference: str = "",
) -> SupplierPayment:
    """Pay one or more bills of a supplier; withholdings practised reduce the money paid but
    count toward each bill's balance. A supplier deactivated since still gets paid what the
    company owes it (each bill is checked to be the supplier's and open)."""
    ensure_tenant(supplier, field="supplier")
    withholdings = withholdings or []
    if not allocations:
        raise ValidationFailed(
            _("Allocate the payment to at least one bill."),
            fields={"allocations": [_("This field is required.")]},
        )
    bill_ids = [item["bill"].pk for item in allocations]
    if len(set(bill_ids)) != len(bill_ids):
        raise ValidationFailed(
            _("Each bill appears once per payment."),
            fields={"allocations": [_("Each bill appears once per payment.")]},
        )
    ensure_tenant(*(item["bill"] for item in allocations), field="allocations")
    bills = {
        bill.pk: bill
        for bill in Bill.objects.select_for_update().filter(pk__in=bill_ids).order_by("pk")
    }
    for index, item in enumerate(allocations):
        bill = bills[item["bill"].pk]
        field = f"allocations.{index}"
        if bill.supplier_id != supplier.pk:
            message = _("Bill %(number)s is not from %(supplier)s.") % {
                "number": bill.number or bill.supplier_invoice_number,
                "supplier": supplier.name,
            }
            raise ValidationFailed(message, fields={f"{field}.bill": [message]})
        if bill.status != Bill.Status.OPEN:
            message = _("Bill %(number)s is not open (%(status)s).") % {
                "number": bill.number or bill.supplier_invoice_number,
                "status": bill.get_status_display(),
            }
            raise ValidationFailed(
                message, code="bill_not_open", fields={f"{field}.bill": [message]}
            )
        if money(item["amount"]) > bill.balance:
            message = _("%(amount)s is above the balance of bill %(number)s (%(balance)s).") % {
                "amount": shown_amount(item["amount"]),
                "number": bill.number,
                "balance": shown_amount(bill.balance),
            }
            raise ValidationFailed(
                message, code="payment_above_balance", fields={f"{field}.amount": [message]}
            )
    per_bill = defaultdict(Decimal)
    rows, seen = [], set()
    for index, item in enumerate(withholdings):
        field = f"withholdings.{index}"
        concept, bill = item["concept"], item["bill"]
        ensure_tenant(concept, bill, field=field)
        if bill.pk not in bills:
            message = _("A withholding applies to a bill of this payment.")
            raise ValidationFailed(message, fields={f"{field}.bill": [message]})
        if (bill.pk, concept.pk) in seen:
            # Twice would count twice in the supplier's yearly certificate.
            message = _("Each concept is withheld once per bill in a payment.")
            raise ValidationFailed(message, fields={f"{field}.concept": [message]})
        seen.add((bill.pk, concept.pk))

        if not concept.is_active:
            message = _("The concept %(name)s is inactive.") % {"name": concept.name}
            raise ValidationFailed(message, fields={f"{field}.concept": [message]})
        amount = money(item["amount"])
        if amount <= 0:
            # A row of nothing would still count the payment in the yearly certificate.
            message = _("A withholding is above 0: leave out the ones not practised.")
            raise ValidationFailed(message, fields={f"{field}.amount": [message]})
        per_bill[bill.pk] += amount
        rows.append(
            Withholding(
                bill=bill,
                concept=concept,
                kind=concept.kind,
                name=concept.name,
                base=money(item["base"]),
                rate=concept.rate,
                amount=amount,
            )
        )
    if date_ is not None:
        _check_dated_between(date_, bills.values(), field="date", code="payment_date")
    applied = {item["bill"].pk: money(item["amount"]) for item in allocations}
    for bill_id, withheld in per_bill.items():
        if withheld > applied[bill_id]:
            message = _("The withholdings on a bill cannot exceed what the payment applies to it.")
            raise ValidationFailed(message, fields={"withholdings": [message]})
    _check_withholding_ceilings(bills, rows)

    applied_total = sum(applied.values(), ZERO)
    withholding_total = sum(per_bill.values(), ZERO)
    payment = SupplierPayment.objects.create(
        number=next_number("supplier_payment", prefix="CE-"),
        supplier=supplier,
        date=date_ or timezone.localdate(),
        method=method,
        reference=reference,
        applied_total=applied_total,
        withholding_total=withholding_total,
        amount=applied_total - withholding_total,
        created_by=user,
    )
    PaymentAllocation.objects.bulk_create(
        [
            PaymentAllocation(payment=payment, bill=bills[bill_id], amount=amount)
            for bill_id, amount in applied.items()
        ]
    )
    for row in rows:
        row.payment = payment
    Withholding.objects.bulk_create(rows)
    for bill in bills.values():
        _refresh_balance(bill)
    return payment


@transaction.atomic
def supplier_payment_void(*, payment: SupplierPayment, user, reason: str) -> SupplierPayment:
    payment = SupplierPayment.objects.select_for_update().get(pk=payment.pk)
    if not (reason or "").strip():
        raise ValidationFailed(
            _("Give the reason for voiding."), fields={"reason": [_("This field is required.")]}
        )
    if payment.status != SupplierPayment.Status.ACTIVE:
        raise Conflict(_("The payment is already void."), code="payment_void")
    bills = list(
        Bill.objects.select_for_update(of=("self",))
        .filter(allocations__payment=payment)
        .order_by("pk")
    )
    if any(bill.status == Bill.Status.VOID for bill in bills):
        raise Conflict(_("A bill of this payment is void."), code="bill_void")
    payment.status = SupplierPayment.Status.VOID
    payment.void_reason = reason.strip()[:255]
    payment.voided_at = timezone.now()
    payment.save(update_fields=["status", "void_reason", "voided_at", "updated_at"])
    for bill in bills:
        _refresh_balance(bill)
    return payment


# --------------------------------------------------------------------------------------------
# Debit notes (returns to the supplier)
# --------------------------------------------------------------------------------------------


@transaction.atomic
def debit_note_create(
    *, bill: Bill, user, reason: str, lines: list[dict], issue_date: date | None = None
) -> DebitNote:
    """Return goods to the supplier: quantities never above what was received minus earlier
    returns; the goods leave stock; the bill's balance goes down (beyond it, the supplier owes
    the difference back)."""
    bill = _lock(bill, "pdv")
    if bill.status not in (Bill.Status.OPEN, Bill.Status.PAID):
        raise Conflict(_("Debit notes apply to received, non-void bills."), code="bill_not_issued")
    if issue_date is not None:
        _check_dated_between(issue_date, [bill], field="issue_date", code="note_date")
    if not (reason or "").strip():
        raise ValidationFailed(
            _("Give the reason."), fields={"reason": [_("This field is required.")]}
        )
    if not lines:
        raise ValidationFailed(
            _("A debit note needs at least one line."),
            fields={"lines": [_("A debit note needs at least one line.")]},
        )
    bill_lines = {line.pk: line for line in bill.lines.select_related("variant")}
    earlier = defaultdict(list)  # bill line -> its debit lines
    for debit in DebitNoteLine.objects.filter(debit_note__bill=bill):
        earlier[debit.bill_line_id].append(debit)
    returned = {pk: sum((d.quantity for d in debits), ZERO) for pk, debits in earlier.items()}
    built, seen = [], set()
    for index, spec in enumerate(lines):
        field = f"lines.{index}"
        line = bill_lines.get(spec["bill_line"].pk)
        if line is None:
            message = _("This line is not on bill %(number)s.") % {"number": bill.number}
            raise ValidationFailed(message, fields={f"{field}.bill_line": [message]})
        if line.pk in seen:
            raise ValidationFailed(
                _("Each bill line appears once per note."),
                fields={f"{field}.bill_line": [_("Repeated line.")]},
            )
        seen.add(line.pk)
        if line.quantity == line.quantity.to_integral_value():  # a line received in whole units
            check_whole_units([(line.variant, spec["quantity"])], field=f"{field}.quantity")
        available = line.quantity - returned.get(line.pk, ZERO)

        if spec["quantity"] > available:
            message = _("At most %(max)s of %(item)s can still be returned.") % {
                "max": shown_quantity(available),
                "item": line.description,
            }
            raise ValidationFailed(
                message, code="above_received", fields={f"{field}.quantity": [message]}
            )
        if spec["quantity"] == available:  # the last units: exactly what is left of the line
            amounts = line_remainder(
                line, earlier[line.pk], quantity_=available, price_field="unit_cost"
            )
        else:
            amounts = compute_line(
                quantity_=spec["quantity"],
                unit_price_=line.unit_cost,
                discount_pct=line.discount_pct,
                taxes=[TaxRate.from_snapshot(tax) for tax in line.taxes],
            )
        built.append((line, amounts))

    note = DebitNote(
        bill=bill,
        number=next_number("debit_note", prefix="ND-"),
        reason=reason.strip()[:255],
        issue_date=issue_date or timezone.localdate(),
        created_by=user,
    )
    apply_totals(note, [amounts for _line, amounts in built])
    note.refund_amount = ZERO  # set with the bill's balance, below
    note.save()

    DebitNoteLine.objects.bulk_create(
        [
            DebitNoteLine(
                debit_note=note,
                bill_line=line,
                description=line.description,
                **amounts.as_fields(price_field="unit_cost"),
            )
            for line, amounts in built
        ]
    )
    received = _received_variants(bill)
    if any(line.variant_id in received for line, _amounts in built):
        _require_pdv_gives_stock(bill)
    stock_apply(
        [
            Movement(
                line.variant, bill.pdv, -amounts.quantity, "purchase_return", _net_unit_cost(line)
            )
            for line, amounts in built
            if line.variant_id in received
        ],
        reference=Reference("debit_note", note.pk, note.number),
        user=user,
    )
    _refresh_balance(bill)
    note.refresh_from_db(fields=["refund_amount", "withholding_reversed", "updated_at"])

    return note
