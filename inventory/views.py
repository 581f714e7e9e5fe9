"""Catalog pages: products with their price with tax and stock per point of sale, and a new
product as a shop enters it (its shelf price, its opening stock).

Read through the API's catalog selector (`selectors.product_catalog`, one query per level
whatever the page size) and priced on the default price list with the documents' own price
helpers. Costs are shown only to the roles the matrix lets read them (never sellers, viewers).
"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ally360.exceptions import ServiceError
from ally360.money import ZERO, money
from ally360.pages import (
    amount,
    delete_page,
    forbidden,
    form_once,
    form_service_error,
    lines_document_page,
    run_service,
    search_text,
    tenant_page,
)
from products import services as product_services
from products.models import Product
from products.selectors import (
    base_for_shelf_price_on_list,
    default_price_list,
    price_with_taxes,
    prices_on_list,
    shelf_price_refusal,
    variant_price,
    variant_prices,
    variant_taxes,
    variants_with_taxes,
)

from . import selectors, services
from .forms import (
    AdjustmentLineFormSet,
    BrandForm,
    CatalogNameForm,
    CategoryForm,
    PriceListForm,
    PriceListItemForm,
    ProductCreateForm,
    ProductEditForm,
    StockAdjustmentForm,
    StockMinimumForm,
    StockTransferForm,
    TransferLineFormSet,
    VariantAddForm,
    VariantOptionsForm,
    VariantPriceForm,
    options_text,
)

PAGE_SIZE = 25
ADJUSTMENT_SCOPE = "page stock-adjustment"
PRICE_LIST_SCOPE = "page price-list"
CATEGORY_SCOPE = "page category"
BRAND_SCOPE = "page brand"
VARIANT_SCOPE = "page variant"
TRANSFER_SCOPE = "page stock-transfer"


@require_GET
@tenant_page("catalog", "read")
def product_list_view(request):
    query = search_text(request)
    low_stock = request.GET.get("low") == "1"
    paginator = Paginator(selectors.product_search(query, low_stock=low_stock), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    products = list(page.object_list)
    variants = [variant for product in products for variant in product.variant_list]
    prices = prices_on_list({v.pk: v.price for v in variants}, default_price_list())
    show_costs = request.page.show_costs
    rows = []
    for product in products:
        taxes = [link.tax for link in product.tax_links]
        for variant in product.variant_list:
            stock = [
                {
                    "pdv": level.pdv.name,
                    "quantity": level.quantity,
                    "low": level.min_quantity > 0 and level.quantity <= level.min_quantity,
                    "average_cost": level.average_cost if show_costs else None,
                }
                for level in variant.stock_list
            ]
            rows.append(
                {
                    "product": product,
                    "variant": variant,
                    "options": ", ".join(str(v) for v in (variant.options or {}).values()),
                    "price_with_tax": price_with_taxes(prices[variant.pk], taxes),
                    "taxes": ", ".join(tax.name for tax in taxes),
                    "stock": stock,
                    "stock_total": sum((level["quantity"] for level in stock), ZERO),
                    "cost": variant.cost if show_costs else None,
                }
            )
    return render(
        request,
        "inventory/product_list.html",
        {
            "page_obj": page,
            "rows": rows,
            "q": query,
            "low": low_stock,
            "show_costs": show_costs,
            "can_create": request.page.may("catalog", "write"),
            "can_adjust": request.page.may("stock", "write"),
        },
    )


def _shelf_base(form, rates, price_list=None) -> tuple | None:
    """(base price, price the till charges) for the form's `price_with_tax` under these tax
    rates, for a variant without a fixed price on `price_list`
    (`base_for_shelf_price_on_list`), or None with the form's error."""
    shelf = form.cleaned_data["price_with_tax"]
    found = base_for_shelf_price_on_list(shelf, rates, price_list)
    if found is None:
        form.add_error("price_with_tax", shelf_price_refusal(shelf, rates, price_list))
    return found


def _warn_if_not_exact(request, shelf, till) -> None:
    """Say so when the till cannot charge the shelf price exactly (`base_for_shelf_price`)."""
    if till != shelf:
        messages.warning(
            request,
            _(
                "No price before tax gives exactly %(shelf)s with these taxes: "
                "the till charges %(till)s."
            )
            % {"shelf": amount(shelf), "till": amount(till)},
        )


@require_http_methods(["GET", "POST"])
@tenant_page("catalog", "write")
def product_create_view(request):
    """`inventory.services.product_create_with_stock`, the API's `POST products/`, from the
    shelf price: the price before tax is the one whose till price is the shelf price, or the
    highest below it (`base_for_shelf_price`; the page says so when it is not exact)."""
    form = ProductCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        taxes = form.taxes()
        found = _shelf_base(form, [tax.rate for tax in taxes], default_price_list())
        if found is not None:
            price, till = found
            try:
                run_service(
                    services.product_create_with_stock,
                    user=request.user,
                    name=data["name"],
                    sku=data["sku"],
                    barcode=data["barcode"],
                    price=price,
                    cost=data["cost"],
                    taxes=taxes,
                    unit=data["unit"],
                    category=data["category"],
                    brand=data["brand"],
                    initial_stock=form.initial_stock(),
                )
            except ServiceError as error:
                form_service_error(form, error, {"price": "price_with_tax", "taxes": "iva"})
            else:
                _warn_if_not_exact(request, data["price_with_tax"], till)
                messages.success(request, _("Product created."))
                return redirect(f"{reverse('pages:products')}?{urlencode({'q': data['sku']})}")
    status = 400 if request.method == "POST" else 200
    return render(request, "inventory/product_form.html", {"form": form}, status=status)


def _default_list_sets_price(variant, price_list) -> bool:
    """The default list, not the variant's base price, decides what the till charges: a fixed
    price for this variant. (A percentage list takes its share off the base price.)"""
    from products.models import PriceList, PriceListItem

    if price_list is None or not price_list.is_active or price_list.kind != PriceList.Kind.FIXED:
        return False
    return PriceListItem.objects.filter(price_list=price_list, variant=variant).exists()


@require_http_methods(["GET", "POST"])
@tenant_page("catalog", "write")
def variant_price_view(request, pk):
    """A variant's new shelf price: `products.services.variant_update` with the price before
    tax whose till price is the shelf price (or the highest below it, said), as `PATCH
    variants/{id}`."""
    from products.models import Variant
    from products.services import variant_update

    variant = get_object_or_404(  # another company's too
        Variant.objects.select_related("product").prefetch_related("product__product_taxes__tax"),
        pk=pk,
    )
    taxes = [link.tax for link in variant.product.product_taxes.all()]
    price_list = default_price_list()
    # The shelf is the price on the default list, as the product list and the till price it.
    shelf = price_with_taxes(variant_price(variant, price_list), taxes)
    list_sets_it = _default_list_sets_price(variant, price_list)
    form = VariantPriceForm(
        request.POST or None,
        initial={"price_with_tax": shelf, "barcode": variant.barcode, "cost": variant.cost},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if list_sets_it:
            form.add_error(
                None,
                _("The default price list %(list)s sets this price: change it on the list.")
                % {"list": price_list.name},
            )
        elif (found := _shelf_base(form, [tax.rate for tax in taxes], price_list)) is not None:
            price, till = found
            changes = {"price": price, "barcode": data["barcode"]}
            if "cost" in form.changed_data and data["cost"] is not None:
                changes["cost"] = data["cost"]
            try:
                run_service(variant_update, variant=variant, data=changes)
            except ServiceError as error:
                form_service_error(form, error, {"price": "price_with_tax"})
            else:
                _warn_if_not_exact(request, data["price_with_tax"], till)
                messages.success(
                    request,
                    _("%(sku)s now sells at %(price)s.")
                    % {"sku": variant.sku, "price": amount(till)},
                )
                return redirect(f"{reverse('pages:products')}?{urlencode({'q': variant.sku})}")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "inventory/variant_price.html",
        {"form": form, "variant": variant, "taxes": taxes, "shelf": shelf},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@tenant_page("catalog", "write")
def product_edit_view(request, pk):
    """A product's name, description, taxes, unit, category, brand and switches:
    `product_update`, as `PATCH products/{id}`; refusals (tracking switched on a product with
    movements, an inactive category given anew…) on the form, nothing written."""
    product = _product_or_404(pk)
    form = ProductEditForm(request.POST or None, product=product)
    if request.method == "POST" and form.is_valid():
        try:
            run_service(product_services.product_update, product=product, data=form.product_data())
        except ServiceError as error:
            form_service_error(form, error)
        else:
            messages.success(request, _("Product %(name)s saved.") % {"name": product.name})
            return redirect(f"{reverse('pages:products')}?{urlencode({'q': product.name})}")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "inventory/product_edit.html", {"form": form, "product": product}, status=status
    )


# --- stock counts and shrinkage ----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@tenant_page("stock", "write")
def stock_adjustment_view(request):
    """A count or a shrinkage at one point of sale, by barcode or SKU: a count (or correction,
    or other) gives the quantity counted; damage, loss, expiry and internal use the units that
    leave. `services.adjustment_create`, as `POST adjustments/`."""

    def adjust(data, lines) -> dict:
        leaves = data["reason"] in services.SHRINKAGE_REASONS
        adjustment = services.adjustment_create(
            pdv=data["pdv"],
            reason=data["reason"],
            lines=[
                {"variant": line["variant"], "delta": -line["quantity"]}
                if leaves
                else {"variant": line["variant"], "counted_quantity": line["quantity"]}
                for line in lines
            ],
            note=data["note"],
            user=request.user,
        )
        return {"id": str(adjustment.pk), "number": adjustment.number}

    return lines_document_page(
        request,
        form_class=StockAdjustmentForm,
        formset_class=AdjustmentLineFormSet,
        template="inventory/adjustment_form.html",
        scope=ADJUSTMENT_SCOPE,
        create=adjust,
        texts={
            "used": _("This form was already used for an adjustment: open the page again."),
            "registered": _("Adjustment %(number)s registered."),
            "again": _("This adjustment was already registered."),
            "page": "pages:stock-adjustment",
        },
    )


@require_http_methods(["GET", "POST"])
@tenant_page("stock", "write")
def stock_transfer_view(request):
    """Goods sent from one point of sale to another, by barcode or SKU:
    `services.transfer_create`, as `POST transfers/` (the destination receives them at the
    origin's average cost)."""

    def send(data, lines) -> dict:
        transfer = services.transfer_create(
            origin=data["origin"],
            destination=data["destination"],
            lines=lines,
            note=data["note"],
            user=request.user,
        )
        return {"id": str(transfer.pk), "number": transfer.number}

    return lines_document_page(
        request,
        form_class=StockTransferForm,
        formset_class=TransferLineFormSet,
        template="inventory/transfer_form.html",
        scope=TRANSFER_SCOPE,
        create=send,
        texts={
            "used": _("This form was already used for a transfer: open the page again."),
            "registered": _("Transfer %(number)s registered."),
            "again": _("This transfer was already registered."),
            "page": "pages:stock-transfer",
        },
    )


@require_GET
@tenant_page("stock", "read")
def stock_adjustment_detail_view(request, pk):
    adjustment = get_object_or_404(selectors.adjustment_detail(), pk=pk)  # another company's too
    return _stock_document_detail(
        request, adjustment, "inventory/adjustment_detail.html", moved=lambda line: line.delta
    )


@require_GET
@tenant_page("stock", "read")
def stock_transfer_detail_view(request, pk):
    transfer = get_object_or_404(selectors.transfer_detail(), pk=pk)  # another company's too
    return _stock_document_detail(
        request, transfer, "inventory/transfer_detail.html", moved=lambda line: line.quantity
    )


def _stock_document_detail(request, document, template: str, *, moved):
    """A count's or a transfer's page: its lines, their value (`moved(line)` units at their
    cost) for the roles that read costs, and who made it for those that read the members."""
    show_costs = request.page.show_costs
    lines = [
        {"line": line, "value": money(moved(line) * line.unit_cost) if show_costs else None}
        for line in document.lines.all()
    ]
    return render(
        request,
        template,
        {
            "document": document,
            "lines": lines,
            "show_costs": show_costs,
            # Co-workers' e-mails only to who may read the members, as the API's documents.
            "show_members": request.page.may("members", "read"),
        },
    )


# --- price lists ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@tenant_page("catalog", "read")
def price_list_list_view(request):
    """The company's price lists; managers create one (`price_list_create`)."""
    from products.models import PriceList

    form = None
    if request.page.may("catalog", "write"):
        form = PriceListForm(request.POST or None, initial={"list_key": uuid.uuid4()})
    elif request.method == "POST":
        return forbidden(request)
    if request.method == "POST" and form.is_valid():

        def create() -> dict:
            price_list = product_services.price_list_create(**form.list_data())
            return {"id": str(price_list.pk), "name": price_list.name}

        made = form_once(
            request,
            form,
            key=str(form.cleaned_data["list_key"]),
            scope=PRICE_LIST_SCOPE,
            act=create,
            done=_("Price list %(name)s created."),
            again=_("This price list was already created."),
        )
        if made:
            return redirect("pages:price-list", pk=made["id"])
    lists = PriceList.objects.annotate(item_count=Count("items")).order_by("-is_default", "name")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "inventory/price_lists.html", {"lists": lists, "form": form}, status=status
    )


# --- low-stock minimums --------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@tenant_page("stock", "read")
def variant_stock_view(request, pk):
    """A product's stock at each point of sale, and the minimum under which it shows as low
    there (`stock_set_minimum`, as `PATCH stock/{id}/`): the back office sets it, every role
    reads it. A fraction for a product sold whole is refused with the service's message."""
    from products.models import Variant

    from .models import Stock

    variant = get_object_or_404(Variant.objects.select_related("product"), pk=pk)
    may_write = request.page.may("stock", "write")
    if request.method == "POST":
        if not may_write:
            return forbidden(request)
        form = StockMinimumForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
            return redirect("pages:variant-stock", pk=variant.pk)
        # Another variant's row, or another company's: 404.
        stock = get_object_or_404(Stock, pk=form.cleaned_data["stock"], variant=variant)
        try:
            run_service(
                services.stock_set_minimum,
                stock=stock,
                min_quantity=form.cleaned_data["min_quantity"],
            )
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Minimum at %(pdv)s saved.") % {"pdv": stock.pdv.name})
        return redirect("pages:variant-stock", pk=variant.pk)
    levels = list(Stock.objects.filter(variant=variant).select_related("pdv").order_by("pdv__name"))
    for level in levels:
        level.is_low = level.min_quantity > 0 and level.quantity <= level.min_quantity
        level.form = (
            StockMinimumForm(initial={"stock": level.pk, "min_quantity": level.min_quantity})
            if may_write
            else None
        )
    return render(request, "inventory/variant_stock.html", {"variant": variant, "levels": levels})


# --- categories and brands -----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@tenant_page("catalog", "read")
def category_list_view(request):
    """The company's categories (each with the one it is under) and brands; managers add one
    (`category_create`, `brand_create`, once per form), rename or deactivate it, or delete one
    no product uses."""
    from products.models import Brand, Category

    may_write = request.page.may("catalog", "write")
    if request.method == "POST" and not may_write:
        return forbidden(request)
    posted = request.POST if request.method == "POST" else None
    adding_brand = posted is not None and "brand-name" in posted
    category_form = brand_form = None
    if may_write:
        category_form = CategoryForm(
            None if adding_brand else posted, initial={"key": uuid.uuid4()}
        )
        brand_form = BrandForm(posted if adding_brand else None, initial={"key": uuid.uuid4()})
    form = brand_form if adding_brand else category_form
    if posted is not None and form.is_valid():
        data = form.cleaned_data
        if adding_brand:

            def create() -> dict:
                return {"name": product_services.brand_create(name=data["name"]).name}

            scope, done = BRAND_SCOPE, _("Brand %(name)s created.")
        else:

            def create() -> dict:
                made = product_services.category_create(name=data["name"], parent=data["parent"])
                return {"name": made.name}

            scope, done = CATEGORY_SCOPE, _("Category %(name)s created.")
        if form_once(
            request,
            form,
            key=str(data["key"]),
            scope=scope,
            act=create,
            done=done,
            again=_("It was already created."),
        ):
            return redirect("pages:categories")
    categories = _with_name_forms(
        Category.objects.select_related("parent").order_by("name"), may_write
    )
    brands = _with_name_forms(Brand.objects.order_by("name"), may_write)
    return render(
        request,
        "inventory/categories.html",
        {
            "categories": categories,
            "brands": brands,
            "category_form": category_form,
            "brand_form": brand_form,
        },
        status=400 if posted is not None else 200,
    )


@require_POST
@tenant_page("catalog", "write")
def category_update_view(request, pk):
    from products.models import Category

    return _catalog_name_update(request, Category, pk, product_services.category_update, "category")


@require_POST
@tenant_page("catalog", "write")
def brand_update_view(request, pk):
    from products.models import Brand

    return _catalog_name_update(request, Brand, pk, product_services.brand_update, "brand")


def _catalog_name_update(request, model, pk, service, argument: str):
    """A category's or brand's name and state (`CatalogNameForm`); a refusal (a name already
    used) as a message, nothing written."""
    row = get_object_or_404(model, pk=pk)
    form = CatalogNameForm(request.POST, prefix=str(row.pk))
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("pages:categories")
    try:
        run_service(service, **{argument: row, "data": form.cleaned_data})
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("%(name)s saved.") % {"name": form.cleaned_data["name"]})
    return redirect("pages:categories")


def _with_name_forms(rows, may_write: bool) -> list:
    """Categories or brands, each with its name form for those who may write."""
    rows = list(rows)
    for row in rows:
        row.name_form = (
            CatalogNameForm(
                prefix=str(row.pk), initial={"name": row.name, "is_active": row.is_active}
            )
            if may_write
            else None
        )
    return rows


@require_POST
@tenant_page("catalog", "write")
def category_delete_view(request, pk):
    """A category deleted (`category_delete`): not one with products or subcategories."""
    from products.models import Category

    return _catalog_row_delete(
        request,
        Category,
        pk,
        product_services.category_delete,
        "category",
        _("Category %(name)s deleted."),
    )


@require_POST
@tenant_page("catalog", "write")
def brand_delete_view(request, pk):
    """A brand deleted (`brand_delete`): not one with products."""
    from products.models import Brand

    return _catalog_row_delete(
        request, Brand, pk, product_services.brand_delete, "brand", _("Brand %(name)s deleted.")
    )


def _catalog_row_delete(request, model, pk, service, argument: str, done: str):
    row = get_object_or_404(model, pk=pk)
    back = redirect("pages:categories")
    return delete_page(
        request, service, **{argument: row}, done=done % {"name": row.name}, gone=back, back=back
    )


def _price_list_or_404(pk):
    from products.models import PriceList

    return get_object_or_404(PriceList, pk=pk)  # another company's too


def _price_list_page(request, price_list, form=None, item_form=None, status=200):
    """A list's settings and, for a fixed list, its prices with tax (the shelf's)."""
    from products.models import PriceList, PriceListItem

    may_write = request.page.may("catalog", "write")
    if form is None and may_write:
        form = PriceListForm(
            editing=True,
            initial={
                "name": price_list.name,
                "percentage": price_list.percentage,
                "is_default": price_list.is_default,
                "is_active": price_list.is_active,
            },
        )
    items = []
    if price_list.kind == PriceList.Kind.FIXED:
        items = list(
            PriceListItem.objects.filter(price_list=price_list)
            .select_related("variant__product")
            .prefetch_related("variant__product__product_taxes__tax")
            .order_by("variant__sku")
        )
        for item in items:
            taxes = [link.tax for link in item.variant.product.product_taxes.all()]
            item.price_with_tax = price_with_taxes(item.price, taxes)
        if item_form is None and may_write:
            item_form = PriceListItemForm()
    return render(
        request,
        "inventory/price_list.html",
        {"price_list": price_list, "form": form, "items": items, "item_form": item_form},
        status=status,
    )


@require_GET
@tenant_page("catalog", "read")
def price_list_detail_view(request, pk):
    return _price_list_page(request, _price_list_or_404(pk))


@require_POST
@tenant_page("catalog", "write")
def price_list_edit_view(request, pk):
    """A list's name, discount, default and active (`price_list_update`: the default list stays
    active and there is always one)."""
    price_list = _price_list_or_404(pk)
    form = PriceListForm(request.POST, editing=True)
    if form.is_valid():
        try:
            run_service(
                product_services.price_list_update, price_list=price_list, data=form.list_data()
            )
        except ServiceError as error:
            form_service_error(form, error)
        else:
            messages.success(
                request, _("Price list %(name)s saved.") % {"name": form.cleaned_data["name"]}
            )
            return redirect("pages:price-list", pk=price_list.pk)
    return _price_list_page(request, price_list, form=form, status=400)


@require_POST
@tenant_page("catalog", "write")
def price_list_item_view(request, pk):
    """A product's price on a fixed list, typed with tax (`price_list_item_set` with the price
    before tax whose till price it is, or the highest below it, said)."""
    price_list = _price_list_or_404(pk)
    form = PriceListItemForm(request.POST)
    if form.is_valid():
        variant = variants_with_taxes([form.variant])[form.variant.pk]
        rates = [tax.rate for tax in variant_taxes(variant)]
        found = _shelf_base(form, rates)
        if found is not None:
            price, till = found
            try:
                run_service(
                    product_services.price_list_item_set,
                    price_list=price_list,
                    variant=variant,
                    price=price,
                )
            except ServiceError as error:
                form_service_error(form, error)
            else:
                _warn_if_not_exact(request, form.cleaned_data["price_with_tax"], till)
                messages.success(
                    request,
                    _("%(sku)s sells at %(price)s on %(list)s.")
                    % {"sku": variant.sku, "price": amount(till), "list": price_list.name},
                )
                return redirect("pages:price-list", pk=price_list.pk)
    return _price_list_page(request, price_list, item_form=form, status=400)


@require_POST
@tenant_page("catalog", "write")
def price_list_item_remove_view(request, pk, item_pk):
    """A product off a fixed list: it sells at its base price on it again."""
    from products.models import PriceListItem

    price_list = _price_list_or_404(pk)
    item = get_object_or_404(PriceListItem, price_list=price_list, pk=item_pk)
    run_service(product_services.price_list_item_remove, item=item)
    messages.success(request, _("%(sku)s left the list.") % {"sku": item.variant.sku})
    return redirect("pages:price-list", pk=price_list.pk)


@require_POST
@tenant_page("catalog", "write")
def price_list_delete_view(request, pk):
    """A price list deleted (`price_list_delete`, as `DELETE price-lists/{id}/`): not the
    default one, nor one a contact or a document uses (deactivate it instead)."""
    price_list = _price_list_or_404(pk)
    return delete_page(
        request,
        product_services.price_list_delete,
        price_list=price_list,
        done=_("Price list %(name)s deleted.") % {"name": price_list.name},
        gone=redirect("pages:price-lists"),
        back=redirect("pages:price-list", pk=price_list.pk),
    )


# --- variants (sizes, colours…) -----------------------------------------------------------------


def _variants_page(request, product, add_form=None, refused=None, status=200):
    """A product's variants with their shelf price on the default list; for managers, the
    options of each and a new one. `refused`: (variant id, bound options form)."""
    from products.models import Variant

    may_write = request.page.may("catalog", "write")
    taxes = list(product.taxes.all())
    price_list = default_price_list()
    variants = list(Variant.objects.filter(product=product).order_by("-is_default", "sku"))
    prices = variant_prices(variants, price_list) if variants else {}
    refused_id, refused_form = refused or (None, None)
    for variant in variants:
        variant.shelf = price_with_taxes(prices[variant.pk], taxes)
        variant.options_text = options_text(variant.options)
        if may_write:
            variant.options_form = (
                refused_form
                if variant.pk == refused_id
                else VariantOptionsForm(
                    initial={"options": variant.options_text}, prefix=str(variant.pk)
                )
            )
    if add_form is None and may_write:
        add_form = VariantAddForm(initial={"variant_key": uuid.uuid4()})
    return render(
        request,
        "inventory/variants.html",
        {"product": product, "variants": variants, "add_form": add_form},
        status=status,
    )


def _product_or_404(pk) -> Product:
    return get_object_or_404(Product.objects.prefetch_related("taxes"), pk=pk)  # another's too


@require_http_methods(["GET", "POST"])
@tenant_page("catalog", "read")
def product_variants_view(request, pk):
    """A product's variants; a POST adds one (`variant_create_with_stock`) at the shelf price
    typed (the price before tax whose till price it is, or the highest below it, said)."""
    product = _product_or_404(pk)
    if request.method == "GET":
        return _variants_page(request, product)
    if not request.page.may("catalog", "write"):
        return forbidden(request)
    form = VariantAddForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        found = _shelf_base(form, [tax.rate for tax in product.taxes.all()], default_price_list())
        if found is not None:
            price, till = found

            def add() -> dict:
                variant = services.variant_create_with_stock(
                    user=request.user,
                    product=product,
                    sku=data["sku"],
                    barcode=data["barcode"],
                    price=price,
                    cost=data["cost"],
                    options=data["options"],
                )
                _warn_if_not_exact(request, data["price_with_tax"], till)
                return {"sku": variant.sku, "price": amount(till)}

            if form_once(
                request,
                form,
                key=f"{product.pk}:{data['variant_key']}",
                scope=VARIANT_SCOPE,
                act=add,
                done=_("%(sku)s added at %(price)s."),
                again=_("This variant was already added."),
                fields={"price": "price_with_tax"},
            ):
                return redirect("pages:product-variants", pk=product.pk)
    return _variants_page(request, product, add_form=form, status=400)


@require_POST
@tenant_page("catalog", "write")
def variant_options_view(request, pk):
    """A variant's options (`variant_update`): what tells it apart from its siblings; a
    simple product's variant gets them before a second one is added."""
    from products.models import Variant

    variant = get_object_or_404(Variant, pk=pk)
    form = VariantOptionsForm(request.POST, prefix=str(variant.pk))
    if form.is_valid():
        try:
            run_service(
                product_services.variant_update,
                variant=variant,
                data={"options": form.cleaned_data["options"]},
            )
        except ServiceError as error:
            form_service_error(form, error)
        else:
            messages.success(request, _("%(sku)s saved.") % {"sku": variant.sku})
            return redirect("pages:product-variants", pk=variant.product_id)
    product = _product_or_404(variant.product_id)
    return _variants_page(request, product, refused=(variant.pk, form), status=400)


@require_POST
@tenant_page("catalog", "write")
def variant_delete_view(request, pk):
    """A variant deleted (`variant_delete`, as `DELETE variants/{id}/`): not the product's
    default one, nor one with stock or on documents (deactivate it instead)."""
    from products.models import Variant

    variant = get_object_or_404(Variant, pk=pk)
    variants = redirect("pages:product-variants", pk=variant.product_id)
    return delete_page(
        request,
        product_services.variant_delete,
        variant=variant,
        done=_("Variant %(sku)s deleted.") % {"sku": variant.sku},
        gone=variants,
        back=variants,
    )
