"""Catalog page: products with their price with tax and stock per point of sale.

Read through the API's catalog selector (`selectors.product_catalog`, one query per level
whatever the page size) and priced on the default price list with the documents' own price
helpers. Costs are shown only to the roles the matrix lets read them (never sellers, viewers).
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ally360.money import ZERO
from ally360.pages import tenant_page
from products.selectors import default_price_list, price_with_taxes, prices_on_list

from . import selectors

PAGE_SIZE = 25


@require_GET
@tenant_page("catalog", "read")
def product_list_view(request):
    query = request.GET.get("q", "").strip()[:100]
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
        {"page_obj": page, "rows": rows, "q": query, "low": low_stock, "show_costs": show_costs},
    )
