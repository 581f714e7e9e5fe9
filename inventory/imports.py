"""Products with their opening stock from a spreadsheet (`manage.py import_products`).

One row is one simple product (its single variant), created by the service the API's
`POST products/` calls, initial stock included. Taxes, units and points of sale are named as
the shop knows them and must exist (taxes are fiscal data: never invented by an import);
categories ("Bebidas > Gaseosas") and brands are found by name, without case, or created.
"""

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from ally360.formatting import shown_amount
from ally360.imports import ImportResult, RowInvalid, import_rows, read_csv, split_list, yes_no
from ally360.tenancy import tenant_context
from pos.models import PDV
from products.models import Brand, Category, Tax, Unit
from products.selectors import (
    base_for_shelf_price_on_list,
    default_price_list,
    shelf_price_refusal,
)
from products.services import brand_create, category_create

from . import services
from .api import ProductCreateSerializer

STOCK_PREFIX = "stock:"
COLUMNS = (
    "name",
    "sku",
    "barcode",
    "price",
    "price_with_tax",
    "cost",
    "taxes",
    "category",
    "brand",
    "unit",
    "description",
    "track_inventory",
    "is_active",
    f"{STOCK_PREFIX}*",
)
REQUIRED = ("name", "sku")
CATEGORY_SEPARATOR = ">"
CENT = Decimal("0.01")
NAME_MAX = Category._meta.get_field("name").max_length  # a brand's too
MAX_DIGITS = 16  # a price's integer digits (numeric(18, 2))


def _invalid(column: str, message: str) -> RowInvalid:
    return RowInvalid({column: [message]})


def _taxes(names: list[str]) -> list[Tax]:
    taxes = []
    for name in names:
        tax = Tax.objects.filter(name__iexact=name).first()
        if tax is None:
            raise _invalid("taxes", _("There is no tax named %(name)s.") % {"name": name})
        taxes.append(tax)
    return taxes


def _category(path: str) -> Category:
    parent = None
    for name in (part.strip() for part in path.split(CATEGORY_SEPARATOR)):
        if not name:
            raise _invalid("category", _("A category path has no empty names."))
        if len(name) > NAME_MAX:
            message = _("At most %(count)s characters per name.") % {"count": NAME_MAX}
            raise _invalid("category", message)
        found = Category.objects.filter(parent=parent, name__iexact=name).first()
        parent = found or category_create(name=name, parent=parent)
    return parent


def _brand(name: str) -> Brand:
    if len(name) > NAME_MAX:
        raise _invalid("brand", _("At most %(count)s characters per name.") % {"count": NAME_MAX})
    return Brand.objects.filter(name__iexact=name).first() or brand_create(name=name)


def price_before_tax(
    shelf_price: str, rates: list[Decimal], price_list=None
) -> tuple[Decimal, Decimal]:
    """A shelf price cell read as `products.selectors.base_for_shelf_price_on_list` reads it:
    the base price for which `price_list` (the default one) charges it, and the till price (at
    most the shelf price)."""
    try:
        shelf = Decimal(shelf_price)
    except InvalidOperation:
        raise _invalid("price_with_tax", _("A valid number is required.")) from None
    if (
        not shelf.is_finite()
        or shelf < 0
        or shelf.adjusted() >= MAX_DIGITS
        or shelf != shelf.quantize(CENT)
    ):
        raise _invalid("price_with_tax", _("A price in pesos with at most two decimals."))
    found = base_for_shelf_price_on_list(shelf, rates, price_list)
    if found is None:
        raise _invalid("price_with_tax", shelf_price_refusal(shelf, rates, price_list))
    return found


def product_payload(cells: dict, warn, price_list=None) -> dict:
    """A row as `POST products/` takes it; a shelf price is set on `price_list` (the default
    one, which the till charges)."""
    payload = {
        column: cells[column]
        for column in ("name", "sku", "barcode", "price", "cost", "description")
        if column in cells
    }
    for column in ("track_inventory", "is_active"):
        if column in cells:
            payload[column] = yes_no(cells[column])
    taxes = _taxes(split_list(cells.get("taxes", "")))
    payload["taxes"] = [tax.pk for tax in taxes]
    if "unit" in cells:
        unit = Unit.objects.filter(code=cells["unit"].lower()).first()
        if unit is None:
            message = _("There is no unit with code %(code)s.") % {"code": cells["unit"]}
            raise _invalid("unit", message)

        payload["unit"] = unit.pk
    if "category" in cells:
        payload["category"] = _category(cells["category"]).pk
    if "brand" in cells:
        payload["brand"] = _brand(cells["brand"]).pk
    if "price_with_tax" in cells:
        if "price" in cells:
            raise _invalid("price", _("Give either price (before tax) or price_with_tax."))
        shelf = cells["price_with_tax"]
        rates = [tax.rate for tax in taxes]
        base, till = price_before_tax(shelf, rates, price_list)
        if till != Decimal(shelf):
            warn(
                _(
                    "No price before tax gives exactly %(shelf)s with these taxes: the till "
                    "charges %(till)s."
                )
                % {"shelf": shown_amount(shelf), "till": shown_amount(till)}
            )
        payload["price"] = str(base)

    payload["initial_stock"] = [
        {"pdv": _pdv(column), "quantity": quantity}  # at the variant's cost
        for column, quantity in cells.items()
        if column.startswith(STOCK_PREFIX)
    ]
    return payload


def _pdv(column: str):
    code = column.removeprefix(STOCK_PREFIX).strip().upper()
    pdv = PDV.objects.filter(code__iexact=code).values_list("pk", flat=True).first()

    if pdv is None:
        raise _invalid(column, _("There is no point of sale with code %(code)s.") % {"code": code})
    return pdv


def products_import(*, company, path: str, dry_run: bool = False) -> ImportResult:
    with tenant_context(company):
        price_list = default_price_list()  # read once for every row
    return import_rows(
        company=company,
        rows=read_csv(path, columns=COLUMNS, required=REQUIRED),
        to_payload=lambda cells, warn: product_payload(cells, warn, price_list),
        serializer_class=ProductCreateSerializer,
        create=lambda data: services.product_create_with_stock(**data),
        dry_run=dry_run,
    )
