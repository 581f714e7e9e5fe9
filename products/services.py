"""Catalog writes: categories, brands, taxes, units, products with variants, price lists.

Stock is not this app's business: `inventory.services.product_create_with_stock` wraps
`product_create` and records the initial stock in the same transaction.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.models import Company
from ally360.db import serialize_in_tenant
from ally360.exceptions import Conflict, NotFound, ValidationFailed
from ally360.services import delete_unless_used, ensure_tenant, model_update, unique_or_conflict
from files.models import FileObject
from files.services import IMAGE_TYPES, file_delete, file_forget, require_ready

from .models import (
    Brand,
    Category,
    PriceList,
    PriceListItem,
    Product,
    ProductImage,
    ProductTax,
    Tax,
    Unit,
    Variant,
)

logger = logging.getLogger(__name__)

DEFAULT_TAXES = [
    {
        "name": "IVA 19%",
        "kind": Tax.Kind.IVA,
        "treatment": Tax.Treatment.TAXED,
        "rate": Decimal("19"),
    },
    {
        "name": "IVA 5%",
        "kind": Tax.Kind.IVA,
        "treatment": Tax.Treatment.TAXED,
        "rate": Decimal("5"),
    },
    {
        "name": "IVA exento 0%",
        "kind": Tax.Kind.IVA,
        "treatment": Tax.Treatment.EXEMPT,
        "rate": Decimal("0"),
    },
    {
        "name": "IVA excluido",
        "kind": Tax.Kind.IVA,
        "treatment": Tax.Treatment.EXCLUDED,
        "rate": Decimal("0"),
    },
    {
        "name": "INC 8%",
        "kind": Tax.Kind.INC,
        "treatment": Tax.Treatment.TAXED,
        "rate": Decimal("8"),
    },
]
DIAN_TAX_CODES = {Tax.Kind.IVA: "01", Tax.Kind.INC: "04"}
DEFAULT_UNITS = [
    ("unit", "Unidad", "94", False),
    ("kg", "Kilogramo", "KGM", True),
    ("g", "Gramo", "GRM", True),
    ("l", "Litro", "LTR", True),
    ("ml", "Mililitro", "MLT", True),
    ("m", "Metro", "MTR", True),
    ("box", "Caja", "BX", False),
    ("pack", "Paquete", "PK", False),
    ("service", "Servicio", "E48", True),
]
DEFAULT_PRICE_LIST = "General"


def catalog_seed(*, company: Company) -> None:
    """Company set-up step: the Colombian taxes, common units and the default price list."""
    Tax.objects.bulk_create(
        [Tax(dian_code=DIAN_TAX_CODES[tax["kind"]], **tax) for tax in DEFAULT_TAXES]
    )
    Unit.objects.bulk_create(
        [
            Unit(code=code, name=name, dian_code=dian, allows_decimals=decimals)
            for code, name, dian, decimals in DEFAULT_UNITS
        ]
    )
    PriceList.objects.create(name=DEFAULT_PRICE_LIST, is_default=True)


def _duplicate(message: str, field: str) -> Conflict:
    return Conflict(message, code="duplicate", fields={field: [message]})


# --- categories ------------------------------------------------------------------------------


def _check_category_parent(category: Category | None, parent: Category | None) -> None:
    ensure_tenant(parent, field="parent")
    node, seen = parent, set()
    # `seen` ends the walk on a cycle already stored (a back-office edit): it is refused too.
    while node is not None and category is not None:
        if node.pk == category.pk or node.pk in seen:
            message = _("A category cannot be placed under itself or one of its subcategories.")
            raise ValidationFailed(message, fields={"parent": [message]})
        seen.add(node.pk)
        node = node.parent


@transaction.atomic
def category_create(
    *, name: str, parent: Category | None = None, is_active: bool = True
) -> Category:
    _check_category_parent(None, parent)
    message = _("A category named %(name)s already exists here.") % {"name": name}
    if Category.objects.filter(parent=parent, name__iexact=name).exists():
        raise _duplicate(message, "name")
    with unique_or_conflict(message, field="name"):
        return Category.objects.create(name=name, parent=parent, is_active=is_active)


@transaction.atomic
def category_update(*, category: Category, data: dict) -> Category:
    if "parent" in data:
        # Moves take turns per company, each walking the tree as the one before it left it:
        # A under B and B under A at once both passed and stored a cycle.
        serialize_in_tenant("category_tree")
        if data["parent"] is not None:
            ensure_tenant(data["parent"], field="parent")
            parent = Category.objects.filter(pk=data["parent"].pk).first()
            if parent is None:  # deleted meanwhile
                message = _("That category no longer exists.")
                raise ValidationFailed(message, fields={"parent": [message]})
            data = {**data, "parent": parent}
        _check_category_parent(category, data["parent"])
    parent = data.get("parent", category.parent)
    name = data.get("name", category.name)
    message = _("A category named %(name)s already exists here.") % {"name": name}
    if Category.objects.filter(parent=parent, name__iexact=name).exclude(pk=category.pk).exists():
        raise _duplicate(message, "name")
    with unique_or_conflict(message, field="name"):
        model_update(category, data, ("name", "parent", "is_active"))
    return category


def category_delete(*, category: Category) -> None:
    delete_unless_used(
        category,
        message=_(
            "This category has products or subcategories: move them or deactivate the category."
        ),
    )


# --- brands and units ------------------------------------------------------------------------


@transaction.atomic
def brand_create(*, name: str, is_active: bool = True) -> Brand:
    message = _("A brand named %(name)s already exists.") % {"name": name}
    if Brand.objects.filter(name__iexact=name).exists():
        raise _duplicate(message, "name")
    with unique_or_conflict(message, field="name"):
        return Brand.objects.create(name=name, is_active=is_active)


@transaction.atomic
def brand_update(*, brand: Brand, data: dict) -> Brand:
    if (
        "name" in data
        and Brand.objects.filter(name__iexact=data["name"]).exclude(pk=brand.pk).exists()
    ):
        raise _duplicate(
            _("A brand named %(name)s already exists.") % {"name": data["name"]}, "name"
        )
    with unique_or_conflict(_("A brand with this name already exists."), field="name"):
        model_update(brand, data, ("name", "is_active"))
    return brand


def brand_delete(*, brand: Brand) -> None:
    delete_unless_used(brand, message=_("This brand has products: deactivate it instead."))


@transaction.atomic
def unit_create(
    *, code: str, name: str, dian_code: str = "", allows_decimals: bool = False
) -> Unit:
    code = code.strip().lower()
    message = _("A unit with code %(code)s already exists.") % {"code": code}
    if Unit.objects.filter(code=code).exists():
        raise _duplicate(message, "code")
    with unique_or_conflict(message, field="code"):
        return Unit.objects.create(
            code=code, name=name, dian_code=dian_code, allows_decimals=allows_decimals
        )


@transaction.atomic
def unit_update(*, unit: Unit, data: dict) -> Unit:
    data = dict(data)
    if "code" in data:
        data["code"] = data["code"].strip().lower()
        if Unit.objects.filter(code=data["code"]).exclude(pk=unit.pk).exists():
            raise _duplicate(_("A unit with code %(code)s already exists.") % data, "code")
    with unique_or_conflict(_("A unit with this code already exists."), field="code"):
        model_update(unit, data, ("code", "name", "dian_code", "allows_decimals"))
    return unit


def unit_delete(*, unit: Unit) -> None:
    delete_unless_used(unit, message=_("Products use this unit: it cannot be deleted."))


# --- taxes -----------------------------------------------------------------------------------


def _validate_tax(kind: str, treatment: str, rate: Decimal) -> None:
    if treatment in (Tax.Treatment.EXEMPT, Tax.Treatment.EXCLUDED) and rate != 0:
        message = _("Exempt and excluded taxes have a zero rate.")
        raise ValidationFailed(message, fields={"rate": [message]})
    if treatment == Tax.Treatment.TAXED and rate <= 0:
        message = _("A taxed rate must be above zero; use the exempt treatment for a zero rate.")
        raise ValidationFailed(message, fields={"rate": [message]})
    if kind == Tax.Kind.INC and treatment != Tax.Treatment.TAXED:
        message = _("INC has no exempt or excluded treatment.")
        raise ValidationFailed(message, fields={"treatment": [message]})


@transaction.atomic
def tax_create(
    *,
    name: str,
    kind: str,
    rate: Decimal,
    treatment: str = Tax.Treatment.TAXED,
    dian_code: str | None = None,
    is_active: bool = True,
) -> Tax:
    _validate_tax(kind, treatment, rate)
    _check_dian_code(kind, dian_code)
    message = _("A tax named %(name)s already exists.") % {"name": name}
    if Tax.objects.filter(name__iexact=name).exists():
        raise _duplicate(message, "name")
    with unique_or_conflict(message, field="name"):
        return Tax.objects.create(
            name=name,
            kind=kind,
            rate=rate,
            treatment=treatment,
            dian_code=dian_code or DIAN_TAX_CODES[kind],
            is_active=is_active,
        )


def _check_dian_code(kind: str, dian_code: str | None) -> None:
    """The DIAN's tribute code follows from the kind (IVA 01, INC 04): documents copy it onto
    their lines, so one that contradicts the kind is refused."""
    if dian_code and dian_code != DIAN_TAX_CODES[kind]:
        message = _("The DIAN code of %(kind)s is %(code)s.") % {
            "kind": Tax.Kind(kind).label,
            "code": DIAN_TAX_CODES[kind],
        }
        raise ValidationFailed(message, fields={"dian_code": [message]})


@transaction.atomic
def tax_update(*, tax: Tax, data: dict) -> Tax:
    _validate_tax(
        data.get("kind", tax.kind), data.get("treatment", tax.treatment), data.get("rate", tax.rate)
    )
    if "dian_code" in data:
        _check_dian_code(data.get("kind", tax.kind), data["dian_code"])
    if "name" in data and Tax.objects.filter(name__iexact=data["name"]).exclude(pk=tax.pk).exists():
        raise _duplicate(_("A tax named %(name)s already exists.") % {"name": data["name"]}, "name")
    if data.get("kind", tax.kind) != tax.kind:
        # A product has at most one tax of each kind: an IVA turned INC under it would break
        # that. A tax in use keeps its kind; an unused one takes the new kind's DIAN code.
        # Locked as `_set_taxes` locks the taxes it gives: one given meanwhile is seen.
        Tax.objects.select_for_update(no_key=True).filter(pk=tax.pk).exists()
        if ProductTax.objects.filter(tax=tax).exists():
            raise Conflict(
                _("Products use this tax: its kind cannot change. Create a tax of the new kind."),
                code="tax_in_use",
            )
        data = {"dian_code": DIAN_TAX_CODES[data["kind"]], **data}

    # Documents snapshot their rates per line, so changing a rate never rewrites history.
    with unique_or_conflict(_("A tax with this name already exists."), field="name"):
        model_update(tax, data, ("name", "kind", "treatment", "rate", "dian_code", "is_active"))
    return tax


def tax_delete(*, tax: Tax) -> None:
    delete_unless_used(tax, message=_("Products use this tax: deactivate it instead."))


# --- products and variants -------------------------------------------------------------------


def validate_taxes(taxes: list[Tax], *, field: str = "taxes", kept=frozenset()) -> None:
    """At most one tax of each kind (one IVA, one INC): on a product, and on a document line
    whose taxes are given. No inactive tax is given anew (`kept`: the ids a product already
    carries, which it may keep)."""
    ensure_tenant(*taxes, field=field)
    for tax in taxes:
        if not tax.is_active and tax.pk not in kept:
            message = _("The tax %(name)s is inactive.") % {"name": tax.name}
            raise ValidationFailed(message, fields={field: [message]})
    kinds = [tax.kind for tax in taxes]
    for kind in set(kinds):
        if kinds.count(kind) > 1:
            message = _("A product has at most one tax of each kind (one IVA, one INC).")
            raise ValidationFailed(message, fields={field: [message]})


def _check_active_classification(data: dict, *, current: Product | None = None) -> None:
    """A category or brand switched off is not given to a product anew; a product that has
    it already keeps it (as with taxes)."""
    for field in ("category", "brand"):
        value = data.get(field)
        kept_id = getattr(current, f"{field}_id", None)
        if value is not None and not value.is_active and value.pk != kept_id:
            if field == "category":
                message = _("The category %(name)s is inactive.") % {"name": value.name}
            else:
                message = _("The brand %(name)s is inactive.") % {"name": value.name}
            raise ValidationFailed(message, code="inactive", fields={field: [message]})


def _set_taxes(product: Product, taxes: list[Tax]) -> None:
    existing = set(ProductTax.objects.filter(product=product).values_list("tax_id", flat=True))
    # The taxes as they are now, locked in key order as `tax_update` locks one whose kind it
    # changes: an INC turned IVA meanwhile is seen (two IVAs), and a change waits for this.
    fresh = Tax.objects.select_for_update(no_key=True).filter(pk__in=[tax.pk for tax in taxes])
    current = {tax.pk: tax for tax in fresh.order_by("pk")}
    taxes = [current.get(tax.pk, tax) for tax in taxes]  # another company's: refused below
    validate_taxes(taxes, kept=existing)
    ProductTax.objects.filter(product=product).exclude(tax__in=taxes).delete()
    ProductTax.objects.bulk_create(
        [ProductTax(product=product, tax=tax) for tax in taxes if tax.pk not in existing]
    )


def _check_sku_and_barcode(
    sku: str,
    barcode: str,
    exclude_id=None,
    index: int | None = None,
    changed=("sku", "barcode"),
):
    prefix = f"variants.{index}." if index is not None else ""
    others = Variant.objects.exclude(pk=exclude_id)
    if others.filter(sku__iexact=sku).exists():
        raise _duplicate(_("The SKU %(sku)s is already used.") % {"sku": sku}, f"{prefix}sku")
    if barcode and others.filter(barcode=barcode).exists():
        raise _duplicate(
            _("The barcode %(barcode)s is already used.") % {"barcode": barcode}, f"{prefix}barcode"
        )
    # A code typed at the till names one product (it tries barcodes, then SKUs): a new SKU is
    # no other variant's barcode, a new barcode no other's SKU (`changed`: what is new).
    if "sku" in changed and others.filter(barcode__iexact=sku).exists():
        message = _("%(code)s is another product's barcode.") % {"code": sku}
        raise _duplicate(message, f"{prefix}sku")
    if barcode and "barcode" in changed and others.filter(sku__iexact=barcode).exists():
        message = _("%(code)s is another product's SKU.") % {"code": barcode}
        raise _duplicate(message, f"{prefix}barcode")


def _create_variant(
    product: Product, spec: dict, index: int | None = None, is_default: bool = False
) -> Variant:
    sku = spec["sku"].strip()
    barcode = (spec.get("barcode") or "").strip()
    _check_sku_and_barcode(sku, barcode, index=index)
    with unique_or_conflict(_("The SKU or barcode is already used."), field="sku"):
        return Variant.objects.create(
            product=product,
            sku=sku,
            barcode=barcode,
            options=spec.get("options") or {},
            price=spec["price"],
            cost=spec.get("cost") or Decimal("0"),
            is_default=is_default,
            is_active=spec.get("is_active", True),
        )


def _options_key(options: dict) -> tuple:
    return tuple(sorted((str(k).lower(), str(v).lower()) for k, v in (options or {}).items()))


def _lock_product(product_id) -> None:
    """Lock the product row: edits of its variants' options (and of its images) run one at a
    time, so two requests cannot both find the same option combination free and take it."""
    Product.objects.select_for_update().filter(pk=product_id).first()


def _validate_new_options(variant: Variant, options: dict) -> None:
    """A variant's new options, checked against its siblings as on creation."""
    siblings = Variant.objects.filter(product_id=variant.product_id).exclude(pk=variant.pk)
    taken = {_options_key(other) for other in siblings.values_list("options", flat=True)}
    if not taken:
        return  # the only variant of a simple product
    if not options:
        message = _("Each variant of a product with several variants needs its options.")
        raise ValidationFailed(message, fields={"options": [message]})
    if _options_key(options) in taken:
        message = _("Another variant of this product has these options.")
        raise ValidationFailed(message, fields={"options": [message]})


def _validate_variant_options(specs: list[dict]) -> None:
    seen = set()
    for index, spec in enumerate(specs):
        options = spec.get("options") or {}
        if not options:
            message = _("Each variant of a product with several variants needs its options.")
            raise ValidationFailed(message, fields={f"variants.{index}.options": [message]})
        key = _options_key(options)
        if key in seen:
            message = _("Two variants have the same options.")
            raise ValidationFailed(message, fields={f"variants.{index}.options": [message]})
        seen.add(key)
    skus = [spec["sku"].strip().lower() for spec in specs]
    if len(set(skus)) != len(skus):
        raise ValidationFailed(
            _("Two variants have the same SKU."),
            fields={"variants": [_("Two variants have the same SKU.")]},
        )
    barcodes = [spec.get("barcode") for spec in specs if spec.get("barcode")]
    if len(set(barcodes)) != len(barcodes):
        raise ValidationFailed(
            _("Two variants have the same barcode."),
            fields={"variants": [_("Two variants have the same barcode.")]},
        )


@transaction.atomic
def product_create(
    *,
    name: str,
    unit: Unit | None = None,
    description: str = "",
    category: Category | None = None,
    brand: Brand | None = None,
    taxes: list[Tax] | tuple = (),
    track_inventory: bool = True,
    is_active: bool = True,
    variants: list[dict] | None = None,
    sku: str | None = None,
    barcode: str = "",
    price: Decimal | None = None,
    cost: Decimal | None = None,
) -> tuple[Product, list[Variant]]:
    """Create a product and its variants.

    A simple product is one call with `sku`, `price` (before tax), optional `barcode` and `cost`:
    it gets exactly one default variant. A product with options passes `variants`, each with its
    options, sku, barcode, price and cost.
    """
    if unit is None:
        from .selectors import default_unit

        unit = default_unit()
        if unit is None:
            raise ValidationFailed(
                _("Choose a unit."), fields={"unit": [_("This field is required.")]}
            )
    ensure_tenant(unit, field="unit")
    ensure_tenant(category, field="category")
    ensure_tenant(brand, field="brand")
    _check_active_classification({"category": category, "brand": brand})
    if variants:
        if sku or price is not None or barcode or cost is not None:
            message = _("Give either the simple product's sku and price or a list of variants.")
            raise ValidationFailed(message, fields={"variants": [message]})
        if len(variants) > 1:
            _validate_variant_options(variants)
        specs = variants
    else:
        missing = {
            field: [_("This field is required.")]
            for field, value in (("sku", sku), ("price", price))
            if value in (None, "")
        }
        if missing:
            raise ValidationFailed(_("A simple product needs a sku and a price."), fields=missing)
        specs = [{"sku": sku, "barcode": barcode, "price": price, "cost": cost, "options": {}}]
    product = Product.objects.create(
        name=name,
        description=description,
        category=category,
        brand=brand,
        unit=unit,
        track_inventory=track_inventory,
        is_active=is_active,
    )
    _set_taxes(product, list(taxes))
    created = [
        _create_variant(product, spec, index=index if variants else None, is_default=index == 0)
        for index, spec in enumerate(specs)
    ]
    return product, created


PRODUCT_FIELDS = (
    "name",
    "description",
    "category",
    "brand",
    "unit",
    "track_inventory",
    "is_active",
)


@transaction.atomic
def product_update(*, product: Product, data: dict) -> Product:
    data = dict(data)
    for field in ("category", "brand", "unit"):
        if field in data:
            ensure_tenant(data[field], field=field)
    _check_active_classification(data, current=product)
    taxes = data.pop("taxes", None)

    # Stock movements reference the variants: switching after the fact would orphan them.
    switches_tracking = (
        data.get("track_inventory", product.track_inventory) != product.track_inventory
    )
    if (
        switches_tracking
        and Variant.objects.filter(product=product, stock_movements__isnull=False).exists()
    ):
        message = _("This product already has stock movements: inventory tracking is fixed.")
        raise Conflict(message, code="has_movements", fields={"track_inventory": [message]})
    model_update(product, data, PRODUCT_FIELDS)
    if taxes is not None:
        _set_taxes(product, list(taxes))
    return product


@transaction.atomic
def product_delete(*, product: Product) -> None:
    """Delete an unused product; its images' files (and thumbnails) go with it, their objects
    once this commits."""

    files = [
        file
        # Locked, as the thumbnail task locks an image: none is added unseen meanwhile.
        for image in ProductImage.objects.filter(product=product)
        .select_related("file", "thumbnail")
        .select_for_update(of=("self",))
        for file in (image.file, image.thumbnail)
        if file is not None
    ]
    delete_unless_used(
        product,
        message=_(
            "This product has stock or appears on documents: deactivate it instead of deleting it."
        ),
    )
    for file in files:  # after the rows that pointed to them are gone; the store may be down
        file_forget(file=file)


@transaction.atomic
def variant_create(
    *,
    product: Product,
    sku: str,
    price: Decimal,
    barcode: str = "",
    cost: Decimal | None = None,
    options: dict | None = None,
    is_active: bool = True,
) -> Variant:
    ensure_tenant(product, field="product")
    if not options:
        message = _("A new variant needs options that tell it apart (e.g. talla, color).")
        raise ValidationFailed(message, fields={"options": [message]})
    _lock_product(product.pk)
    if Variant.objects.filter(product=product, options={}).exists():
        # A simple product's single variant has no options: it needs them before another
        # variant sits beside it (each of several variants is told apart by its options).
        message = _("Give the product's existing variant its options first (e.g. talla: M).")
        raise ValidationFailed(message, fields={"options": [message]})
    siblings = [
        {"options": v.options, "sku": v.sku, "barcode": v.barcode}
        for v in Variant.objects.filter(product=product)
        if v.options
    ]
    _validate_variant_options([*siblings, {"options": options, "sku": sku, "barcode": barcode}])
    return _create_variant(
        product,
        {
            "sku": sku,
            "barcode": barcode,
            "price": price,
            "cost": cost,
            "options": options,
            "is_active": is_active,
        },
    )


@transaction.atomic
def variant_update(*, variant: Variant, data: dict) -> Variant:
    data = dict(data)
    if "sku" in data:
        data["sku"] = data["sku"].strip()
    if "barcode" in data:
        data["barcode"] = (data["barcode"] or "").strip()
    _check_sku_and_barcode(
        data.get("sku", variant.sku),
        data.get("barcode", variant.barcode),
        exclude_id=variant.pk,
        changed=[
            name
            for name in ("sku", "barcode")
            if data.get(name, getattr(variant, name)) != getattr(variant, name)
        ],
    )
    if "options" in data:
        _lock_product(variant.product_id)
        _validate_new_options(variant, data["options"])
    with unique_or_conflict(_("The SKU or barcode is already used."), field="sku"):
        model_update(variant, data, ("sku", "barcode", "options", "price", "cost", "is_active"))
    return variant


def variant_delete(*, variant: Variant) -> None:
    if variant.is_default:
        raise Conflict(
            _(
                "The default variant goes with its product: delete or deactivate the "
                "product instead."
            ),
            code="default_variant",
        )
    delete_unless_used(
        variant,
        message=_(
            "This variant has stock or appears on documents: deactivate it instead of deleting it."
        ),
    )


# --- price lists -----------------------------------------------------------------------------


@transaction.atomic
def price_list_create(
    *,
    name: str,
    kind: str = PriceList.Kind.PERCENTAGE,
    percentage: Decimal = Decimal("0"),
    is_default: bool = False,
    is_active: bool = True,
) -> PriceList:
    message = _("A price list named %(name)s already exists.") % {"name": name}
    if PriceList.objects.filter(name__iexact=name).exists():
        raise _duplicate(message, "name")
    if kind == PriceList.Kind.FIXED and percentage:
        raise ValidationFailed(
            _("A fixed price list has no percentage."),
            fields={"percentage": [_("A fixed price list has no percentage.")]},
        )
    if is_default and not is_active:
        raise Conflict(_("The default price list is active."), code="default_price_list")
    with unique_or_conflict(message, field="name"):
        price_list = PriceList.objects.create(
            name=name, kind=kind, percentage=percentage, is_active=is_active
        )
    if is_default:
        _make_default(price_list)
    return price_list


def _lock_company_price_lists() -> None:
    """Changes to which list is the default take turns."""
    serialize_in_tenant("price_list_default")


def _locked_price_list(price_list: PriceList) -> PriceList:
    """The list as it is now, locked; gone meanwhile (deleted by a request at the same moment,
    a double click): 404, as if the request had come after."""
    fresh = PriceList.objects.select_for_update(no_key=True).filter(pk=price_list.pk).first()
    if fresh is None:
        raise NotFound(_("Price list not found."), code="not_found")
    return fresh


def _make_default(price_list: PriceList) -> None:
    # One default per company: two switches at once cannot both find the old default gone
    # and then collide on the unique default.
    _lock_company_price_lists()
    for current in (
        PriceList.objects.select_for_update(no_key=True)
        .filter(is_default=True)
        .exclude(pk=price_list.pk)
    ):
        current.is_default = False
        current.save(update_fields=["is_default", "updated_at"])
    price_list.is_default = True
    price_list.is_active = True
    price_list.save(update_fields=["is_default", "is_active", "updated_at"])


@transaction.atomic
def price_list_update(*, price_list: PriceList, data: dict) -> PriceList:
    data = dict(data)
    make_default = data.pop("is_default", None)
    if make_default is not None or "is_active" in data:
        # The default's rules are checked on the list as it is now, in turn with the switches
        # of the default (`_make_default`): a list made default meanwhile is not deactivated.
        _lock_company_price_lists()
        price_list = _locked_price_list(price_list)
    if price_list.is_default and (make_default is False or data.get("is_active") is False):
        raise Conflict(_("Make another price list the default first."), code="default_price_list")
    if make_default and data.get("is_active") is False:
        raise Conflict(_("The default price list is active."), code="default_price_list")
    if (
        "name" in data
        and PriceList.objects.filter(name__iexact=data["name"]).exclude(pk=price_list.pk).exists()
    ):
        raise _duplicate(_("A price list named %(name)s already exists.") % data, "name")
    kind = data.get("kind", price_list.kind)
    if kind == PriceList.Kind.FIXED and data.get("percentage", price_list.percentage):
        raise ValidationFailed(
            _("A fixed price list has no percentage."),
            fields={"percentage": [_("A fixed price list has no percentage.")]},
        )
    with unique_or_conflict(_("A price list with this name already exists."), field="name"):
        model_update(price_list, data, ("name", "kind", "percentage", "is_active"))
    if make_default and not price_list.is_default:
        _make_default(price_list)
    return price_list


@transaction.atomic
def price_list_delete(*, price_list: PriceList) -> None:
    _lock_company_price_lists()  # in turn with the default's switches, on the list as it is now
    price_list = _locked_price_list(price_list)
    if price_list.is_default:
        raise Conflict(_("The default price list cannot be deleted."), code="default_price_list")
    delete_unless_used(
        price_list, message=_("Contacts or documents use this price list: deactivate it instead.")
    )


@transaction.atomic
def price_list_item_set(
    *, price_list: PriceList, variant: Variant, price: Decimal
) -> PriceListItem:
    ensure_tenant(price_list, variant, field="variant")
    if price_list.kind != PriceList.Kind.FIXED:
        raise Conflict(
            _("Only a fixed price list holds prices per variant."), code="not_fixed_price_list"
        )
    item, _created = PriceListItem.objects.update_or_create(
        price_list=price_list, variant=variant, defaults={"price": price}
    )
    return item


def price_list_item_remove(*, item: PriceListItem) -> None:
    item.delete()


# --- images ------------------------------------------------------------------------------------


def _make_main(image: ProductImage) -> None:
    ProductImage.objects.filter(product_id=image.product_id, is_main=True).exclude(
        pk=image.pk
    ).update(is_main=False)
    # Written whatever the instance says: it may have been read before another became main.
    image.is_main = True
    image.save(update_fields=["is_main", "updated_at"])


@transaction.atomic
def product_image_attach(
    *,
    product: Product,
    file: FileObject,
    is_main: bool = False,
    position: int | None = None,
    confirm_as: str | None = None,
) -> ProductImage:
    """Attach a confirmed image; a thumbnail is made in the background. `confirm_as`: a
    pending upload is confirmed once the product is locked (`require_ready`), for the page."""
    from .tasks import product_image_thumbnail

    ensure_tenant(product, field="product")
    ensure_tenant(file, field="file")
    _lock_product(product.pk)  # serialize main switching; the product before its file
    # Locked: a delete of the file waits, and so does another product attaching it.
    file = require_ready(file, module="products", types=IMAGE_TYPES, confirm_as=confirm_as)
    # A file is one image's: attached, or made as one's thumbnail (removing that image deletes
    # its thumbnail).
    if ProductImage.objects.filter(Q(file=file) | Q(thumbnail=file)).exists():
        raise Conflict(_("This file is already attached to a product."), code="duplicate")
    existing = ProductImage.objects.filter(product=product)
    if position is None:
        position = existing.count()
    image = ProductImage.objects.create(product=product, file=file, position=position)
    if is_main or not existing.exclude(pk=image.pk).exists():
        _make_main(image)
    product_image_thumbnail.delay_on_commit(str(image.pk), tenant_id=str(image.tenant_id))
    return image


@transaction.atomic
def product_image_update(*, image: ProductImage, data: dict) -> ProductImage:
    _lock_product(image.product_id)
    image = ProductImage.objects.select_for_update(of=("self",)).get(pk=image.pk)
    if data.get("is_main") is False and image.is_main:
        # A product with images always shows one: the main changes by naming another.
        message = _("Make another image the main one instead.")
        raise Conflict(message, code="main_image", fields={"is_main": [message]})
    if "position" in data:
        image.position = data["position"]
        image.save(update_fields=["position", "updated_at"])
    if data.get("is_main"):
        _make_main(image)
    return image


@transaction.atomic
def product_image_remove(*, image: ProductImage) -> None:
    _lock_product(image.product_id)
    # Read again under the image's own lock, which the thumbnail task takes: a thumbnail it
    # made meanwhile goes too, instead of staying in storage unreferenced.
    image = (
        ProductImage.objects.select_for_update(of=("self",))
        .select_related("file", "thumbnail")
        .get(pk=image.pk)
    )
    files = [image.file] + ([image.thumbnail] if image.thumbnail else [])
    was_main = image.is_main
    product_id = image.product_id
    image.delete()
    for file in files:
        file_delete(file=file)
    if was_main:
        successor = (
            ProductImage.objects.filter(product_id=product_id)
            .order_by("position", "created_at")
            .first()
        )
        if successor is not None:
            _make_main(successor)


THUMBNAIL_SIZE = (320, 320)


@transaction.atomic
def product_image_make_thumbnail(*, image: ProductImage) -> ProductImage:
    """Idempotent: an image with a thumbnail is left alone."""
    import io

    from PIL import Image, ImageOps

    from files.services import file_read, file_store

    image = (
        ProductImage.objects.select_for_update(of=("self",)).select_related("file").get(pk=image.pk)
    )
    if image.thumbnail_id is not None:
        return image
    content = file_read(file=image.file)  # an unreachable store raises, and is retried
    buffer = io.BytesIO()
    try:
        with Image.open(io.BytesIO(content)) as picture:
            picture = ImageOps.exif_transpose(picture)
            picture.thumbnail(THUMBNAIL_SIZE)
            picture.convert("RGB").save(buffer, format="WEBP", quality=82)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        # A damaged picture (right first bytes, broken body) has no thumbnail; no retry
        # mends it. The image stays, shown as it is.
        logger.warning("No thumbnail for product image %s: %s", image.pk, exc)
        return image
    stem = image.file.original_name.rsplit(".", 1)[0]
    image.thumbnail = file_store(
        module="products",
        purpose="thumbnail",
        name=f"{stem}-thumb.webp",
        content_type="image/webp",
        content=buffer.getvalue(),
    )
    image.save(update_fields=["thumbnail", "updated_at"])
    return image
