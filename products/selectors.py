"""Catalog reads, including the one price resolution every document uses."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db import connection
from django.db.models import Prefetch
from django.utils.translation import gettext as _

from ally360.db import HandWritten
from ally360.money import HUNDRED, money, unit_price
from ally360.tenancy import require_tenant_id

from .models import Category, PriceList, PriceListItem, Product, ProductTax, Tax, Unit, Variant


def category_subtree_ids(category: Category) -> list:
    """The category and every category under it, one query per level of the tree (shops
    keep two or three)."""
    ids, level = [category.pk], [category.pk]
    while level:
        level = [
            pk
            for pk in Category.objects.filter(parent_id__in=level).values_list("pk", flat=True)
            if pk not in ids  # the services refuse cycles; this never loops on one anyway
        ]
        ids += level
    return ids


def default_price_list() -> PriceList | None:
    return PriceList.objects.filter(is_default=True).first()


def _apply_list(base: Decimal, price_list: PriceList | None, fixed: Decimal | None) -> Decimal:
    if price_list is None or not price_list.is_active:
        return unit_price(base)
    if price_list.kind == PriceList.Kind.FIXED:
        return unit_price(fixed if fixed is not None else base)
    return unit_price(base * (HUNDRED - price_list.percentage) / HUNDRED)


def variant_prices(variants: Iterable[Variant], price_list: PriceList | None) -> dict:
    """Price before tax of each variant on `price_list` (base price without a list).

    A fixed list without an entry for a variant falls back to the base price. One query at most.
    """
    return prices_on_list({variant.pk: variant.price for variant in variants}, price_list)


def prices_on_list(base_prices: dict, price_list: PriceList | None) -> dict:
    """`variant_prices` for variants given as {id: base price}."""
    fixed: dict = {}
    if price_list is not None and price_list.kind == PriceList.Kind.FIXED and base_prices:
        fixed = dict(
            PriceListItem.objects.filter(
                price_list=price_list, variant_id__in=list(base_prices)
            ).values_list("variant_id", "price")
        )
    return {
        variant_id: _apply_list(base, price_list, fixed.get(variant_id))
        for variant_id, base in base_prices.items()
    }


def variant_price(variant: Variant, price_list: PriceList | None = None) -> Decimal:
    return variant_prices([variant], price_list)[variant.pk]


def price_with_taxes(price: Decimal, taxes: Iterable[Tax]) -> Decimal:
    """The shelf price: IVA and INC both apply on the price before tax."""
    return price_with_rates(price, [tax.rate for tax in taxes])


def price_with_rates(price: Decimal, rates: Iterable[Decimal]) -> Decimal:
    """What the till charges for one unit, rounded as a document line is
    (`ally360.documents.compute_line`): the price to cents, then each tax on it to cents. One
    rounding of price × (1 + rates) differs from it by a cent for about one price in six."""
    base = money(price)
    return base + sum((money(base * rate / HUNDRED) for rate in rates), Decimal("0"))


def base_for_shelf_price(
    shelf: Decimal, rates: Iterable[Decimal]
) -> tuple[Decimal, Decimal] | None:
    """The price before tax whose till price (`price_with_rates`: the price to cents, then each
    tax to cents) is the shelf price, and that till price. About one shelf price in six cannot
    be reached exactly (a cent before tax adds two with 19 % IVA): then the highest till price
    below it — a customer never pays more than the shelf says. None when even 0.01 before tax
    is above it."""
    rates = list(rates)
    estimate = money(shelf / (1 + sum(rates, Decimal("0")) / HUNDRED))
    candidates = [estimate + step * Decimal("0.01") for step in range(-3, 4)]
    below = [
        (price_with_rates(base, rates), base)
        for base in candidates
        if base >= 0 and price_with_rates(base, rates) <= shelf
    ]
    if not below:
        return None
    till, base = max(below)
    return base, till


def base_for_shelf_price_on_list(
    shelf: Decimal, rates: Iterable[Decimal], price_list: PriceList | None
) -> tuple[Decimal, Decimal] | None:
    """`base_for_shelf_price` for a variant `price_list` has no fixed price for: the base
    price for which the list (the default one: what the till charges) gives the shelf price
    with these taxes, and that till price. Under a percentage list the base is above the price
    before tax; unit prices keep six places, so the list gives that price back to the cent.
    None when no base price reaches the shelf price, as under a list of 100 % off."""
    found = base_for_shelf_price(shelf, rates)
    if (
        found is None
        or price_list is None
        or not price_list.is_active
        or price_list.kind != PriceList.Kind.PERCENTAGE
        or not price_list.percentage
    ):
        return found
    price, till = found
    if price_list.percentage >= HUNDRED:
        return found if till == 0 else None
    return unit_price(price * HUNDRED / (HUNDRED - price_list.percentage)), till


def shelf_price_refusal(shelf: Decimal, rates: Iterable[Decimal], price_list: PriceList) -> str:
    """Why `base_for_shelf_price_on_list` found no base price, for the user."""
    if base_for_shelf_price(shelf, rates) is None:  # a shelf price of a few cents
        return _("Too low a price for these taxes.")
    return _("The default price list %(list)s takes everything off: no price gives this one.") % {
        "list": price_list.name
    }


def default_unit() -> Unit | None:
    return Unit.objects.filter(code="unit").first()


def document_variants():
    """Variants with what a document line needs: product, unit and taxes (`product.tax_links`),
    in two queries. The line input serializers look variants up through it, so the services
    find them loaded instead of reading them again."""
    return Variant.objects.select_related("product", "product__unit").prefetch_related(
        Prefetch(
            "product__product_taxes",
            # The taxes' own order, whatever order they were linked in (as
            # `document_variants_by_id`), so a line's tax snapshot is the same either way.
            queryset=ProductTax.objects.select_related("tax").order_by(
                "tax__kind", "-tax__rate", "tax__name"
            ),
            to_attr="tax_links",
        )
    )


def _line_ready(variant: Variant) -> bool:
    return Variant.product.is_cached(variant) and hasattr(variant.product, "tax_links")


def variants_with_taxes(variants: Iterable[Variant]) -> dict:
    """The variants by id, loaded as `document_variants()` loads them; only those not already
    loaded so are read."""
    variants = list(variants)
    ready = {variant.pk: variant for variant in variants if _line_ready(variant)}
    missing = [variant.pk for variant in variants if variant.pk not in ready]
    if missing:
        ready.update({variant.pk: variant for variant in document_variants_by_id(missing)})
    return ready


_DOCUMENT_VARIANTS = HandWritten(
    """
    SELECT {columns}
      FROM products_variant v
      JOIN products_product p ON p.id = v.product_id
      JOIN products_unit u ON u.id = p.unit_id
      LEFT JOIN products_producttax pt ON pt.product_id = p.id AND pt.tenant_id = %(tenant)s
      LEFT JOIN products_tax t ON t.id = pt.tax_id
     WHERE v.tenant_id = %(tenant)s AND v.id = ANY(%(ids)s)
     ORDER BY v.id, t.kind, t.rate DESC, t.name
    """,
    (Variant, "v"),
    (Product, "p"),
    (Unit, "u"),
    (ProductTax, "pt"),
    (Tax, "t"),
)


def document_variants_by_id(ids: Iterable) -> list[Variant]:
    """The variants of these ids (of the current company) loaded as `document_variants()` loads
    them. On PostgreSQL in one hand-written statement: every document line input reads it, and
    building the ORM's two queries cost more Python than PostgreSQL took to run them (a test
    compares the two)."""
    ids = [Variant._meta.pk.to_python(pk) for pk in ids]
    if connection.vendor != "postgresql":
        return list(document_variants().filter(pk__in=ids))
    variants: dict = {}
    for variant, product, unit, link, tax in _DOCUMENT_VARIANTS.rows(
        {"tenant": require_tenant_id(), "ids": ids}
    ):
        if variant.pk not in variants:
            product.unit = unit
            product.tax_links = []
            variant.product = product
            variants[variant.pk] = variant
        if link is not None:
            link.tax = tax
            link.product = variants[variant.pk].product  # as the ORM's prefetch caches it
            variants[variant.pk].product.tax_links.append(link)
    return list(variants.values())


def variant_taxes(variant: Variant) -> list[Tax]:
    """The taxes of a variant from `variants_with_taxes`."""
    return [link.tax for link in variant.product.tax_links]


def variant_description(variant: Variant) -> str:
    """The line description a document snapshots: product name and option values."""
    options = ", ".join(str(value) for value in (variant.options or {}).values())
    return f"{variant.product.name} ({options})" if options else variant.product.name


def variants_by_code(codes: Iterable[str]) -> dict[str, Variant]:
    """{code: variant} for codes a cashier typed or scanned: a barcode (exact) first, else a SKU
    (without case). Loaded as `document_variants()` loads them, in one query for all codes;
    a code naming nothing is missing from the answer."""
    from django.db.models import Q

    codes = {code.strip() for code in codes if code and code.strip()}
    if not codes:
        return {}
    # The database compares without case (`UPPER` on both sides, as the SKUs' unique index):
    # Python's upper() differs from it for ß and ligatures, so it only pairs what was found.
    skus = Q()
    for code in codes:
        skus |= Q(sku__iexact=code)
    variants = list(document_variants().filter(Q(barcode__in=codes) | skus))
    by_barcode = {variant.barcode: variant for variant in variants if variant.barcode}
    by_sku = {variant.sku.casefold(): variant for variant in variants}
    found = {}
    for code in codes:
        variant = by_barcode.get(code) or by_sku.get(code.casefold())
        if variant is not None:
            found[code] = variant
    return found
