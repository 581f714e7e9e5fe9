"""Inventory reads: the product list with variants, stock per PDV and prices; kardex; low stock."""

from __future__ import annotations

import uuid
from collections import defaultdict

from django.db import connection
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery

from ally360.tenancy import require_tenant_id
from files.models import FileObject
from products.models import Product, ProductImage, ProductTax, Variant

from .models import Adjustment, AdjustmentLine, Stock, StockMovement, Transfer, TransferLine

# The catalog's relations are prefetched into plain lists (`to_attr`): a prefetch into the
# related manager builds one QuerySet per row and level, which on a page of products cost more
# than the queries themselves. The serializers read `tax_links`, `variant_list`, `stock_list`.
# The product list reads the same levels as rows (`catalog_*` below), in the same order.
VARIANT_ORDER = ("-is_default", "sku")
STOCK_ORDER = ("pdv__name", "pdv_id")  # names may repeat; `_CATALOG_STOCK_SQL` orders alike
TAX_ORDER = ("tax__kind",)


def _stock_levels() -> Prefetch:
    return Prefetch(
        "stock_levels",
        queryset=Stock.objects.select_related("pdv").order_by(*STOCK_ORDER),
        to_attr="stock_list",
    )


def _tax_links(path: str = "product_taxes") -> Prefetch:
    return Prefetch(
        path,
        queryset=ProductTax.objects.select_related("tax").order_by(*TAX_ORDER),
        to_attr="tax_links",
    )


def product_catalog() -> QuerySet[Product]:
    """Products with category, brand, unit, taxes, variants and their stock per PDV.

    A constant number of queries whatever the page size: one per prefetched level. Category,
    brand and unit are prefetched, not joined: with the joins PostgreSQL expected one row and
    sorted the whole catalog for every page (see README, Tenancy, "Two rules").
    """
    return Product.objects.prefetch_related(
        "category",
        "brand",
        "unit",
        _tax_links(),
        Prefetch(
            "variants",
            queryset=Variant.objects.order_by(*VARIANT_ORDER).prefetch_related(_stock_levels()),
            to_attr="variant_list",
        ),
        Prefetch(
            "images",
            queryset=ProductImage.objects.filter(is_main=True).select_related("file", "thumbnail"),
            to_attr="main_images",
        ),
    )


def catalog_variants(product_ids) -> QuerySet[Variant]:
    return Variant.objects.filter(product_id__in=product_ids).order_by(*VARIANT_ORDER)


def catalog_stock(variant_ids) -> QuerySet[Stock]:
    return Stock.objects.filter(variant_id__in=variant_ids).order_by(*STOCK_ORDER)


# What a catalog answer shows of each stock row, keyed as `values()` keys them.
CATALOG_STOCK_COLUMNS = (
    "id",
    "variant_id",
    "pdv",
    "pdv__name",
    "quantity",
    "min_quantity",
    "average_cost",
)
_CATALOG_STOCK_SQL = """
    SELECT s.id, s.variant_id, s.pdv_id, d.name, s.quantity, s.min_quantity, s.average_cost
      FROM inventory_stock s
      JOIN pos_pdv d ON d.id = s.pdv_id
     WHERE s.tenant_id = %s AND s.variant_id = ANY(%s)
     ORDER BY d.name, s.pdv_id
"""


def catalog_stock_rows(variant_ids) -> list[dict]:
    """The stock rows of these variants with their point of sale's name (`CATALOG_STOCK_COLUMNS`),
    in the catalog's order. Every catalog answer reads them (`inventory.api.StockFiller`), so on
    PostgreSQL the statement is written by hand: building the ORM's cost more than running it."""
    if connection.vendor != "postgresql":
        return list(catalog_stock(variant_ids).values(*CATALOG_STOCK_COLUMNS))
    ids = [uuid.UUID(str(variant_id)) for variant_id in variant_ids]
    with connection.cursor() as cursor:
        cursor.execute(_CATALOG_STOCK_SQL, [require_tenant_id(), ids])
        return [dict(zip(CATALOG_STOCK_COLUMNS, row, strict=True)) for row in cursor.fetchall()]


def catalog_taxes(product_ids) -> dict:
    """{product id: [the tax's id, name, kind, treatment, rate]} as TaxRefSerializer shows it."""
    taxes = defaultdict(list)
    rows = (
        ProductTax.objects.filter(product_id__in=product_ids)
        .order_by(*TAX_ORDER)
        .values_list(
            "product_id", "tax_id", "tax__name", "tax__kind", "tax__treatment", "tax__rate"
        )
    )
    for product_id, *tax in rows:
        taxes[product_id].append(
            dict(zip(("id", "name", "kind", "treatment", "rate"), tax, strict=True))
        )
    return taxes


def catalog_main_images(product_ids) -> dict:
    """{product id: the file to show for its main image}: the thumbnail, or the image while the
    thumbnail is being made. Unsaved FileObjects holding what a signed URL needs."""
    shown = {}
    columns = ("key", "original_name", "content_type")
    rows = ProductImage.objects.filter(product_id__in=product_ids, is_main=True).values_list(
        "product_id",
        "thumbnail_id",
        *(f"file__{column}" for column in columns),
        *(f"thumbnail__{column}" for column in columns),
    )
    for product_id, thumbnail_id, *files in rows:
        if product_id not in shown:  # the first in the images' own order, as `main_images[0]`
            values = files[len(columns) :] if thumbnail_id else files[: len(columns)]
            shown[product_id] = FileObject(**dict(zip(columns, values, strict=True)))
    return shown


def variant_catalog() -> QuerySet[Variant]:
    return Variant.objects.select_related("product", "product__unit").prefetch_related(
        _stock_levels(), _tax_links("product__product_taxes")
    )


def low_stock() -> Q:
    """A stock row at or under its minimum, at an open point of sale: a closed one holds
    nothing and takes no stock, so its minimums can never be met again."""
    return Q(min_quantity__gt=0, quantity__lte=F("min_quantity"), pdv__is_active=True)


def low_stock_condition(variant_path: str = "variant", pdv_id=None):
    """Exists(a stock row of the variant at or under its minimum) for filtering."""
    rows = Stock.objects.filter(low_stock())
    if pdv_id is not None:
        rows = rows.filter(pdv_id=pdv_id)
    return Exists(rows.filter(**{variant_path: OuterRef("pk")}))


def kardex(*, variant, pdv=None) -> QuerySet[StockMovement]:
    """The movements of a variant (at one PDV or all), oldest first, each with the balance and
    average cost after it at its own PDV: a kardex is kept per point of sale, so without `pdv`
    the cards of every PDV are interleaved by date (each row names its PDV)."""

    movements = StockMovement.objects.filter(variant=variant).select_related(
        "variant", "pdv", "user"
    )
    if pdv is not None:
        movements = movements.filter(pdv=pdv)
    return movements.order_by("created_at", "id")


def averages_before(reference_type: str, reference_id) -> dict:
    """Per variant the document moved, the average cost its stock had before the document's
    movements (the ledger's row before them at that point of sale), or None when it had none:
    one statement."""
    own = {"reference_type": reference_type, "reference_id": reference_id}
    before = (
        StockMovement.objects.filter(
            variant_id=OuterRef("variant_id"),
            pdv_id=OuterRef("pdv_id"),
            created_at__lt=OuterRef("created_at"),
        )
        .exclude(**own)  # the document's own rows (several lines of one variant) never count
        .order_by("-created_at", "-pk")
        .values("average_cost_after")[:1]
    )
    return dict(
        StockMovement.objects.filter(**own)
        .annotate(average_before=Subquery(before))
        .values_list("variant_id", "average_before")
    )


def low_stock_count() -> int:
    """Stock rows (a variant at a point of sale) at or under their minimum."""
    return Stock.objects.filter(low_stock()).count()


def product_search(query: str = "", *, low_stock: bool = False) -> QuerySet[Product]:
    """The catalog (`product_catalog`) by name, ordered by name: `query` matches the name or a
    variant's SKU (in part) or barcode (whole), as the API's search; `low_stock` keeps products
    with a variant at or under its minimum somewhere."""
    from django.db.models import Q

    products = product_catalog()
    query = query.strip()
    if query:
        variants = Variant.objects.filter(product=OuterRef("pk")).filter(
            Q(sku__icontains=query) | Q(barcode=query)
        )
        products = products.filter(Q(name__icontains=query) | Exists(variants))
    if low_stock:
        low = Variant.objects.filter(product=OuterRef("pk")).filter(low_stock_condition("variant"))
        products = products.filter(Exists(low))
    return products.order_by("name", "id")


def adjustment_detail() -> QuerySet[Adjustment]:
    """An adjustment with its point of sale, user and lines (each with its product)."""
    return Adjustment.objects.select_related("pdv", "user").prefetch_related(
        Prefetch(
            "lines",
            queryset=AdjustmentLine.objects.select_related("variant__product").order_by(
                "variant__product__name", "variant__sku"
            ),
        )
    )


def transfer_detail() -> QuerySet[Transfer]:
    """A transfer with its points of sale, user and lines (each with its product)."""
    return Transfer.objects.select_related("origin", "destination", "user").prefetch_related(
        Prefetch(
            "lines",
            queryset=TransferLine.objects.select_related("variant__product").order_by(
                "variant__product__name", "variant__sku"
            ),
        )
    )
