"""The products page: search, pagination, price with tax, stock per point of sale, costs only
for the roles that read them; queries do not grow with the page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ally360.roles import Role
from ally360.tenancy import tenant_context
from ally360.tests.pages import page_client
from conftest import _member
from inventory import views
from inventory.models import Stock
from products.models import Variant

pytestmark = pytest.mark.django_db


def pages_as(company, role):
    return page_client(_member(company, role), company)


def test_products_with_price_with_tax_and_stock(shop_a):
    response = pages_as(shop_a.company, Role.SELLER).get("/products/")
    assert response.status_code == 200
    rows = {row["variant"].sku: row for row in response.context["rows"]}
    assert len(rows) == 6
    assert str(rows["FV-iva19"]["price_with_tax"]) == "11900.00"
    assert [(s["pdv"], s["quantity"]) for s in rows["FV-iva19"]["stock"]] == [
        (shop_a.pdv.name, 100)
    ]
    assert "11.900,00" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("iva1", {"FV-iva19"}),
        ("fv-INC", {"FV-inc8"}),
        ("7709999000012", {"FV-exento"}),
        ("nada", set()),
    ],
)
def test_search_by_name_sku_or_barcode(shop_a, query, expected):
    with tenant_context(shop_a.company):
        Variant.objects.filter(pk=shop_a.variants["exento"].pk).update(barcode="7709999000012")
    response = pages_as(shop_a.company, Role.VIEWER).get("/products/", {"q": query})
    assert {row["variant"].sku for row in response.context["rows"]} == expected


def test_low_stock_filter(shop_a):
    with tenant_context(shop_a.company):
        Stock.objects.filter(variant=shop_a.variants["inc8"]).update(min_quantity=100)
    response = pages_as(shop_a.company, Role.SELLER).get("/products/", {"low": "1"})
    assert [row["variant"].sku for row in response.context["rows"]] == ["FV-inc8"]
    assert 'class="stock low"' in response.content.decode()


@pytest.mark.parametrize(
    ("role", "sees_costs"),
    [
        (Role.OWNER, True),
        (Role.ADMIN, True),
        (Role.ACCOUNTANT, True),
        (Role.SELLER, False),
        (Role.VIEWER, False),
    ],
)
def test_costs_only_for_the_roles_that_read_them(shop_a, role, sees_costs):
    response = pages_as(shop_a.company, role).get("/products/", {"q": "iva19"})
    row = response.context["rows"][0]
    assert (row["cost"] is not None) is sees_costs
    assert (row["stock"][0]["average_cost"] is not None) is sees_costs
    # The reference cost of iva19 is 6,000: nowhere in a seller's page.
    assert ("6.000" in response.content.decode()) is sees_costs


def test_another_company_s_products_are_not_listed(shop_a, shop_b):
    response = pages_as(shop_b.company, Role.OWNER).get("/products/")
    assert {row["variant"].sku[:2] for row in response.context["rows"]} == {"FB"}


def test_pagination_and_queries_do_not_grow_with_the_page(shop_a, monkeypatch):
    client = pages_as(shop_a.company, Role.OWNER)
    monkeypatch.setattr(views, "PAGE_SIZE", 4)
    first = client.get("/products/")
    second = client.get("/products/", {"page": "2"})
    skus = [row["variant"].sku for row in first.context["rows"] + second.context["rows"]]
    assert len(skus) == len(set(skus)) == 6
    assert first.context["page_obj"].has_next() and not second.context["page_obj"].has_next()

    counts = []
    for size in (1, 50):
        monkeypatch.setattr(views, "PAGE_SIZE", size)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/products/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
