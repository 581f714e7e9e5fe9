"""Stock: the one movement service, initial stock, adjustments and transfers.

`stock_apply` is the only code that changes a stock balance. Invoices, bills, credit and debit
notes, adjustments and transfers all call it, inside their own transaction, with the document they
come from. It locks the stock rows in a fixed order (no deadlocks between concurrent documents),
refuses shortages unless the company allows negative stock, keeps the weighted-average cost, and
writes one ledger row per line with the balance after it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Company
from ally360.db import HandWritten
from ally360.exceptions import Conflict, ValidationFailed
from ally360.formatting import shown_quantity
from ally360.models import Writes
from ally360.money import MAX_QUANTITY, ZERO, quantity, unit_price
from ally360.sequences import next_number
from ally360.services import ensure_tenant
from ally360.tenancy import require_tenant_id
from pos.models import PDV
from pos.services import active_pdvs_taking_stock
from products.models import Product, Variant
from products.services import product_create, variant_create

from .models import Adjustment, AdjustmentLine, Stock, StockMovement, Transfer, TransferLine

Kind = StockMovement.Kind


@dataclass(frozen=True)
class Movement:
    """One line to apply: a signed quantity of a variant at a point of sale."""

    variant: Variant
    pdv: PDV
    quantity: Decimal
    kind: str
    # Incoming: its cost (None: the current average). Outgoing: None leaves at the average;
    # a cost (a return to the supplier at what was paid) takes exactly that value out.
    unit_cost: Decimal | None = None
    note: str = ""
    # Outgoing at its own cost and leaving no units: the average to go back to (a voided
    # receipt's, from before it), as value over quantity can no longer tell it.
    restore_average: Decimal | None = None


@dataclass(frozen=True)
class Reference:
    """The document a movement comes from."""

    type: str
    id: object = None
    number: str = ""


def _key(variant_id, pdv_id) -> tuple[str, str]:
    return (str(variant_id), str(pdv_id))


def lock_stocks(pairs: set[tuple]) -> dict[tuple[str, str], Stock]:
    """Create missing stock rows and lock all of them, in (variant, pdv) order.

    The missing rows are created first, in key order, while this call holds no stock row lock;
    then every row is locked in key order. So two documents touching the same rows always queue
    instead of deadlocking: one that held a row lock while it waited for another's uncommitted
    insert of a row both need could deadlock with it (a test checks the order). Must run inside
    the caller's transaction.
    """
    keys = sorted({_key(variant_id, pdv_id) for variant_id, pdv_id in pairs})
    if not keys:
        return {}
    variant_ids = sorted({variant_id for variant_id, _pdv in keys})
    pdv_ids = sorted({pdv_id for _variant, pdv_id in keys})
    if connection.vendor == "postgresql":
        # The usual case, every row there: one statement finds and locks them all.
        locked = {_key(s.variant_id, s.pdv_id): s for s in _stocks_locked_if_all_exist(keys)}
        if all(key in locked for key in keys):
            return {key: locked[key] for key in keys}
    existing = {_key(s.variant_id, s.pdv_id) for s in _stocks(variant_ids, pdv_ids, lock=False)}
    missing = [key for key in keys if key not in existing]
    if missing:
        Stock.objects.bulk_create(
            [Stock(variant_id=v, pdv_id=p) for v, p in missing], ignore_conflicts=True
        )
    stocks = {_key(s.variant_id, s.pdv_id): s for s in _stocks(variant_ids, pdv_ids, lock=True)}
    return {key: stocks[key] for key in keys}


_STOCKS = """
    SELECT {columns} FROM inventory_stock s
     WHERE s.tenant_id = %(tenant)s
       AND s.variant_id = ANY(%(variants)s::uuid[]) AND s.pdv_id = ANY(%(pdvs)s::uuid[])
     ORDER BY s.variant_id, s.pdv_id
"""
_STOCKS_READ = HandWritten(_STOCKS, (Stock, "s"))
_STOCKS_LOCKED = HandWritten(_STOCKS + " FOR UPDATE", (Stock, "s"))
# The rows of exactly these (variant, pdv) keys, locked one by one in the keys' order, and
# only when every one exists. The existence check is an uncorrelated subquery, evaluated once
# before anything is scanned: with a row missing the statement locks nothing and yields
# nothing (`lock_stocks` then creates it first). Each key is one probe by index, also in the
# generic plan a sale uses (a `tenant_id = $1` scan of a big catalogue is what that plan picks
# for the forms above). Stock rows are never deleted (PROTECT), so "all exist" holds on.
_STOCKS_LOCKED_IF_ALL_EXIST = HandWritten(
    """
    SELECT {columns}
      FROM unnest(%(variants)s::uuid[], %(pdvs)s::uuid[]) WITH ORDINALITY AS k(variant_id, pdv_id, n)
      JOIN LATERAL (
           SELECT * FROM inventory_stock l
            WHERE l.tenant_id = %(tenant)s AND l.variant_id = k.variant_id
              AND l.pdv_id = k.pdv_id
              FOR UPDATE
           ) s ON true
     WHERE (SELECT bool_and(EXISTS (
                   SELECT 1 FROM inventory_stock c
                    WHERE c.tenant_id = %(tenant)s AND c.variant_id = e.variant_id
                      AND c.pdv_id = e.pdv_id))
              FROM unnest(%(variants)s::uuid[], %(pdvs)s::uuid[]) AS e(variant_id, pdv_id))
     ORDER BY k.n
    """,
    (Stock, "s"),
)


def _stocks(variant_ids: list[str], pdv_ids: list[str], *, lock: bool) -> list[Stock]:
    """The stock rows of these variants at these points of sale in (variant, pdv) order, locked
    in that order with `lock`. On PostgreSQL hand-written: each sale runs both, and building the
    ORM's queries cost more Python than PostgreSQL took to run them (a test compares them)."""
    if connection.vendor != "postgresql":
        found = Stock.objects.filter(variant_id__in=variant_ids, pdv_id__in=pdv_ids)
        return list((found.select_for_update() if lock else found).order_by("variant_id", "pdv_id"))
    params = {"tenant": require_tenant_id(), "variants": variant_ids, "pdvs": pdv_ids}
    statement = _STOCKS_LOCKED if lock else _STOCKS_READ
    return [stock for (stock,) in statement.rows(params)]


def _stocks_locked_if_all_exist(keys: list[tuple[str, str]]) -> list[Stock]:
    """The stock rows of these (variant, pdv) keys, locked in the keys' order, when every one
    exists; otherwise an empty list, and no row locked (PostgreSQL only)."""
    params = {
        "tenant": require_tenant_id(),
        "variants": [variant_id for variant_id, _pdv in keys],
        "pdvs": [pdv_id for _variant, pdv_id in keys],
    }
    return [stock for (stock,) in _STOCKS_LOCKED_IF_ALL_EXIST.rows(params)]


def _shortage_error(shortages: list[dict]) -> Conflict:
    parts = [
        _("%(sku)s at %(pdv)s: %(available)s available, %(requested)s requested")
        % {
            **shortage,
            "available": shown_quantity(shortage["available"]),
            "requested": shown_quantity(shortage["requested"]),
        }
        for shortage in shortages
    ]
    return Conflict(
        _("Not enough stock. %(items)s.") % {"items": "; ".join(parts)},
        code="insufficient_stock",
        extra={
            "items": [
                {k: v for k, v in shortage.items() if k != "pdv"} | {"pdv_name": shortage["pdv"]}
                for shortage in shortages
            ]
        },
    )


def _tracked(movements: list[Movement]) -> list[Movement]:
    """Services and other untracked products never move stock."""
    loaded = {m.variant.pk: m.variant.product for m in movements if _product_loaded(m.variant)}
    unknown = {m.variant.pk for m in movements} - loaded.keys()
    tracked = {pk for pk, product in loaded.items() if product.track_inventory}
    if unknown:
        tracked |= set(
            Variant.objects.filter(pk__in=unknown, product__track_inventory=True).values_list(
                "pk", flat=True
            )
        )
    return [m for m in movements if m.variant.pk in tracked]


def _product_loaded(variant: Variant) -> bool:
    return Variant.product.is_cached(variant)


def check_whole_units(lines: list[tuple[Variant, Decimal]], *, field: str = "lines") -> None:
    """Refuse a fraction of a product counted in whole units (400). Reads the units of the
    fractional lines only, in one query: most documents have none and pay nothing."""
    fractional = {variant.pk for variant, qty in lines if qty != qty.to_integral_value()}
    if not fractional:
        return
    whole = dict(
        Variant.objects.filter(pk__in=fractional, product__unit__allows_decimals=False).values_list(
            "pk", "sku"
        )
    )
    if whole:
        message = _("%(skus)s are counted in whole units.") % {
            "skus": ", ".join(sorted(whole.values()))
        }
        raise ValidationFailed(message, code="whole_units", fields={field: [message]})


def current_cost(stock: Stock, variant: Variant) -> Decimal:
    """What a unit of this stock is worth now: its average while it holds units, even an
    average of 0 (goods received free), and after it sold out; the variant's catalogue cost
    only for a stock that never took units in (it has no average yet)."""
    if stock.quantity > 0 or stock.average_cost:
        return stock.average_cost
    # An average of 0 is either free goods' (kept after they sold out) or none yet: the ledger
    # tells, in the rare case of an empty stock at 0.
    took_in = StockMovement.objects.filter(
        variant_id=stock.variant_id, pdv_id=stock.pdv_id, quantity__gt=0
    ).exists()
    return stock.average_cost if took_in else unit_price(variant.cost)


def stock_apply(
    movements: list[Movement],
    *,
    reference: Reference,
    user=None,
    allow_negative: bool | None = None,
    writes: Writes | None = None,
) -> list[StockMovement]:
    """Apply movements atomically: all of them, or none and a 409 naming each short item.

    The stock rows are locked and checked at once; with `writes` their new values and the
    ledger are added to it, for the caller to write with its document (`Writes`)."""
    if not movements:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("stock_apply() must run inside the document's transaction.")
    ensure_tenant(*(m.variant for m in movements), field="variant")
    ensure_tenant(*(m.pdv for m in movements), field="pdv")
    movements = _tracked(movements)
    if not movements:
        return []

    stocks = lock_stocks({(m.variant.pk, m.pdv.pk) for m in movements})

    net: dict[tuple, Decimal] = defaultdict(Decimal)
    for m in movements:
        net[_key(m.variant.pk, m.pdv.pk)] += quantity(m.quantity)
    for m in movements:
        held = stocks[_key(m.variant.pk, m.pdv.pk)].quantity + net[_key(m.variant.pk, m.pdv.pk)]
        if abs(held) >= MAX_QUANTITY:
            message = _("%(sku)s at %(pdv)s would hold %(quantity)s: more than a stock can hold.")
            raise ValidationFailed(
                message
                % {"sku": m.variant.sku, "pdv": m.pdv.name, "quantity": shown_quantity(held)},
                code="value_out_of_range",
            )
    goes_negative = any(
        change < 0 and stocks[key].quantity + change < 0 for key, change in net.items()
    )
    if goes_negative and allow_negative is None:
        # The company's setting only matters when stock would go below zero.
        allow_negative = Company.objects.values_list("allow_negative_stock", flat=True).get(
            pk=require_tenant_id()
        )
    if goes_negative and not allow_negative:
        shortages = []

        seen = set()
        for m in movements:
            key = _key(m.variant.pk, m.pdv.pk)
            stock = stocks[key]
            if key in seen or net[key] >= 0 or stock.quantity + net[key] >= 0:
                continue
            seen.add(key)
            shortages.append(
                {
                    "variant_id": str(m.variant.pk),
                    "sku": m.variant.sku,
                    "pdv_id": str(m.pdv.pk),
                    "pdv": m.pdv.name,
                    "available": str(stock.quantity),
                    "requested": str(-net[key]),
                }
            )
        if shortages:
            raise _shortage_error(shortages)

    ledger = []
    now = timezone.now()
    for m in movements:
        stock = stocks[_key(m.variant.pk, m.pdv.pk)]
        qty = quantity(m.quantity)
        if qty > 0:
            # Incoming: its own cost (purchase, initial, return, transfer) enters the average.
            cost = unit_price(
                m.unit_cost if m.unit_cost is not None else current_cost(stock, m.variant)
            )
            if stock.quantity > 0:
                stock.average_cost = unit_price(
                    (stock.quantity * stock.average_cost + qty * cost) / (stock.quantity + qty)
                )
            else:
                stock.average_cost = cost
        elif m.unit_cost is None:
            # Outgoing: valued at the current average cost; the average does not change.
            cost = current_cost(stock, m.variant)
        else:
            # Outgoing at its own cost (a purchase returned or voided): that value leaves the
            # stock, so the average of what stays moves back (never below zero).
            cost = unit_price(m.unit_cost)
            remaining = stock.quantity + qty
            if remaining > 0:
                value = max(ZERO, stock.quantity * stock.average_cost + qty * cost)
                stock.average_cost = unit_price(value / remaining)
            elif m.restore_average is not None:
                stock.average_cost = m.restore_average
        stock.quantity += qty
        stock.updated_at = now
        ledger.append(
            StockMovement(
                variant=m.variant,
                pdv=m.pdv,
                kind=m.kind,
                quantity=qty,
                unit_cost=cost,
                balance_after=stock.quantity,
                average_cost_after=stock.average_cost,
                reference_type=reference.type,
                reference_id=reference.id,
                reference_number=reference.number,
                user=user,
                note=m.note[:255],
            )
        )
    changed = ["quantity", "average_cost", "updated_at"]
    if writes is not None:
        writes.update(Stock, stocks.values(), changed)
        return writes.create(StockMovement, ledger)
    Stock.objects.bulk_update(list(stocks.values()), changed)
    return StockMovement.objects.bulk_create(ledger)


# --- products with their initial stock --------------------------------------------------------


def _require_initial_stock_pdvs(entries_per_variant: list[list[dict]]) -> None:
    """Every variant's points of sale at once: shared locks in key order, which one call per
    variant would not keep (against a closing, which locks in key order too)."""
    entries = [entry for stock in entries_per_variant for entry in stock]
    ensure_tenant(*(entry["pdv"] for entry in entries), field="initial_stock")
    _require_active_pdvs(
        [
            (entry["pdv"], f"initial_stock.{index}.pdv")
            for stock in entries_per_variant
            for index, entry in enumerate(stock)
        ]
    )


def _initial_movements(variant: Variant, entries: list[dict]) -> list[Movement]:
    pdvs = [entry["pdv"].pk for entry in entries]
    if len(set(pdvs)) != len(pdvs):
        message = _("Each point of sale appears once in the initial stock.")
        raise ValidationFailed(message, fields={"initial_stock": [message]})
    return [
        Movement(
            variant=variant,
            pdv=entry["pdv"],
            quantity=entry["quantity"],
            kind=Kind.INITIAL,
            unit_cost=entry.get("unit_cost", variant.cost),
        )
        for entry in entries
        if entry["quantity"] > 0
    ]


def _record_initial_stock(product: Product, movements: list[Movement], user) -> None:
    if movements and not product.track_inventory:
        message = _("A product without inventory tracking has no stock.")
        raise ValidationFailed(message, fields={"initial_stock": [message]})
    check_whole_units([(m.variant, m.quantity) for m in movements], field="initial_stock")
    stock_apply(movements, reference=Reference("product", product.pk, ""), user=user)


@transaction.atomic
def product_create_with_stock(
    *,
    user=None,
    initial_stock: list[dict] | None = None,
    variants: list[dict] | None = None,
    **product_fields,
):
    """Create a product (simple, or with variants) and record its initial stock per PDV.

    A simple product takes `initial_stock`; each variant spec may carry its own.
    """
    per_variant = [spec.pop("initial_stock", []) for spec in variants] if variants else None
    if variants and initial_stock:
        message = _("With variants, give the initial stock inside each variant.")
        raise ValidationFailed(message, fields={"initial_stock": [message]})
    product, created = product_create(variants=variants, **product_fields)
    entries = per_variant if variants else [initial_stock or []]
    _require_initial_stock_pdvs(entries)
    movements = [
        m
        for variant, stock in zip(created, entries, strict=True)
        for m in _initial_movements(variant, stock)
    ]
    _record_initial_stock(product, movements, user)
    return product


@transaction.atomic
def variant_create_with_stock(
    *, user=None, initial_stock: list[dict] | None = None, **variant_fields
) -> Variant:
    variant = variant_create(**variant_fields)
    _require_initial_stock_pdvs([initial_stock or []])
    _record_initial_stock(variant.product, _initial_movements(variant, initial_stock or []), user)
    return variant


# --- minimum quantities -----------------------------------------------------------------------


@transaction.atomic
def stock_set_minimum(*, stock: Stock, min_quantity: Decimal) -> Stock:
    check_whole_units([(stock.variant, quantity(min_quantity))], field="min_quantity")
    stock.min_quantity = quantity(min_quantity)
    stock.save(update_fields=["min_quantity", "updated_at"])
    return stock


# --- adjustments ------------------------------------------------------------------------------


def _check_lines_unique(lines: list[dict], field: str = "lines") -> None:
    ids = [line["variant"].pk for line in lines]
    if len(set(ids)) != len(ids):
        message = _("Each variant appears once per document.")
        raise ValidationFailed(message, fields={field: [message]})


def _check_tracked(lines: list[dict]) -> None:
    untracked = set(
        Variant.objects.filter(
            pk__in=[line["variant"].pk for line in lines],
            product__track_inventory=False,
        ).values_list("pk", flat=True)
    )
    for index, line in enumerate(lines):
        if line["variant"].pk in untracked:
            message = _("%(sku)s does not track inventory.") % {"sku": line["variant"].sku}
            raise ValidationFailed(message, fields={f"lines.{index}.variant": [message]})


def _require_active_pdvs(pdvs: list[tuple[PDV, str]]) -> None:
    """Stock comes into (or is counted at) active points of sale only: an inactive one could
    never move or count it out. Read under the shared lock of `active_pdvs_taking_stock`, so a
    point of sale being closed meanwhile either sees this document's stock or is seen closed
    (one deleted meanwhile counts as closed)."""
    open_now = active_pdvs_taking_stock(pdv.pk for pdv, _field in pdvs)
    for pdv, field in pdvs:
        if not open_now.get(pdv.pk, False):
            message = _("The point of sale %(name)s is inactive.") % {"name": pdv.name}
            raise ValidationFailed(message, fields={field: [message]})


# Reasons that only ever take units out (a count, a correction or "other" go either way).
SHRINKAGE_REASONS = {
    Adjustment.Reason.DAMAGE,
    Adjustment.Reason.LOSS,
    Adjustment.Reason.EXPIRY,
    Adjustment.Reason.INTERNAL_USE,
}


@transaction.atomic
def adjustment_create(
    *, pdv: PDV, reason: str, lines: list[dict], note: str = "", user=None
) -> Adjustment:
    """Set counted quantities (`counted_quantity`) or apply changes (`delta`), with a reason."""
    ensure_tenant(pdv, field="pdv")
    ensure_tenant(*(line["variant"] for line in lines), field="lines")
    _require_active_pdvs([(pdv, "pdv")])
    _check_lines_unique(lines)
    _check_tracked(lines)
    # What the user typed: a count, or a change (a count back to a whole number may change a
    # fractional balance by a fraction, which is how such a balance gets corrected).
    check_whole_units(
        [
            (line["variant"], line.get("counted_quantity", line.get("delta")) or ZERO)
            for line in lines
        ]
    )
    stocks = lock_stocks({(line["variant"].pk, pdv.pk) for line in lines})
    adjustment = Adjustment.objects.create(
        number=next_number("adjustment", prefix="AJ-"),
        pdv=pdv,
        reason=reason,
        note=note,
        user=user,
    )
    records, movements = [], []
    for index, line in enumerate(lines):
        variant = line["variant"]
        stock = stocks[_key(variant.pk, pdv.pk)]
        counted = line.get("counted_quantity")
        delta = (
            quantity(counted - stock.quantity) if counted is not None else quantity(line["delta"])
        )
        if counted is None and delta == ZERO:
            message = _("A change of 0 changes nothing.")
            raise ValidationFailed(message, fields={f"lines.{index}.delta": [message]})
        if abs(delta) >= MAX_QUANTITY:
            message = _("A difference of %(delta)s is more than a stock can hold.") % {
                "delta": shown_quantity(delta)
            }
            raise ValidationFailed(
                message, code="value_out_of_range", fields={f"lines.{index}": [message]}
            )
        if reason in SHRINKAGE_REASONS and delta > 0:
            message = _("%(reason)s only takes units out: use a count or a correction.") % {
                "reason": Adjustment.Reason(reason).label
            }
            raise ValidationFailed(message, fields={f"lines.{index}": [message]})
        given = line.get("unit_cost")  # 0 is a cost: a found surplus that cost nothing
        if given is not None and delta < 0:
            # What leaves stock leaves at its average: a cost typed here would be shown on the
            # adjustment and not be the one in the kardex.
            message = _("A unit cost is given for units found only: a loss leaves at its cost.")
            raise ValidationFailed(message, fields={f"lines.{index}.unit_cost": [message]})
        cost = unit_price(given if given is not None else current_cost(stock, variant))
        records.append(
            AdjustmentLine(
                adjustment=adjustment,
                variant=variant,
                counted_quantity=counted,
                previous_quantity=stock.quantity,
                delta=delta,
                unit_cost=cost,
            )
        )
        if delta != ZERO:
            movements.append(
                Movement(
                    variant=variant,
                    pdv=pdv,
                    quantity=delta,
                    kind=Kind.ADJUSTMENT,
                    # A shrinkage leaves at the average; a found surplus enters at its cost.
                    unit_cost=cost if delta > 0 else None,
                    note=adjustment.get_reason_display(),
                )
            )

    AdjustmentLine.objects.bulk_create(records)
    stock_apply(
        movements, reference=Reference("adjustment", adjustment.pk, adjustment.number), user=user
    )
    return adjustment


# --- transfers --------------------------------------------------------------------------------


@transaction.atomic
def transfer_create(
    *, origin: PDV, destination: PDV, lines: list[dict], note: str = "", user=None
) -> Transfer:
    """Move stock between two points of sale: one document, an atomic pair of movements per
    line, the destination receiving the origin's average cost."""
    ensure_tenant(origin, field="origin")
    ensure_tenant(destination, field="destination")
    ensure_tenant(*(line["variant"] for line in lines), field="lines")
    if origin.pk == destination.pk:
        message = _("Origin and destination must be different points of sale.")
        raise ValidationFailed(message, fields={"destination": [message]})
    _require_active_pdvs([(origin, "origin"), (destination, "destination")])
    _check_lines_unique(lines)
    _check_tracked(lines)
    check_whole_units([(line["variant"], line["quantity"]) for line in lines])
    stocks = lock_stocks(
        {(line["variant"].pk, pdv.pk) for line in lines for pdv in (origin, destination)}
    )
    transfer = Transfer.objects.create(
        number=next_number("transfer", prefix="TR-"),
        origin=origin,
        destination=destination,
        note=note,
        user=user,
    )
    records, movements = [], []
    for line in lines:
        variant, qty = line["variant"], quantity(line["quantity"])
        cost = current_cost(stocks[_key(variant.pk, origin.pk)], variant)

        records.append(
            TransferLine(transfer=transfer, variant=variant, quantity=qty, unit_cost=cost)
        )
        movements.append(
            Movement(
                variant=variant,
                pdv=origin,
                quantity=-qty,
                kind=Kind.TRANSFER_OUT,
                note=destination.name,
            )
        )
        movements.append(
            Movement(
                variant=variant,
                pdv=destination,
                quantity=qty,
                kind=Kind.TRANSFER_IN,
                unit_cost=cost,
                note=origin.name,
            )
        )
    TransferLine.objects.bulk_create(records)
    stock_apply(movements, reference=Reference("transfer", transfer.pk, transfer.number), user=user)
    return transfer
