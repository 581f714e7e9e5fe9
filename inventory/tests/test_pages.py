"""The products page: search, pagination, price with tax, stock per point of sale, costs only
for the roles that read them; queries do not grow with the page."""

from __future__ import annotations

from decimal import Decimal

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


# --- a new product ------------------------------------------------------------------------------


def _new_product(company, **fields):
    from pos.models import PDV
    from products.models import Tax, Unit

    with tenant_context(company):
        iva = Tax.objects.get(name="IVA 19%")
        unit = Unit.objects.get(code="unit")
        main = PDV.objects.get(is_main=True)
    data = {
        "name": "Gaseosa 400 ml",
        "sku": "GAS-400",
        "barcode": "7702004003508",
        "price_with_tax": "3000",
        "iva": str(iva.pk),
        "inc": "",
        "cost": "1500",
        "unit": str(unit.pk),
        "category": "",
        "brand": "",
        f"stock_{main.pk}": "24",
    }
    data.update(fields)
    return data


def test_an_owner_creates_a_product_from_its_shelf_price_with_opening_stock(company_a):
    from pos.services import pdv_create

    with tenant_context(company_a):
        bodega = pdv_create(name="Bodega", code="BOD")
    client = pages_as(company_a, Role.OWNER)
    assert client.get("/products/new/").status_code == 200
    response = client.post("/products/new/", _new_product(company_a, **{f"stock_{bodega.pk}": "6"}))
    assert response.status_code == 302, response.content.decode()
    assert response["Location"] == "/products/?q=GAS-400"
    with tenant_context(company_a):
        variant = Variant.objects.select_related("product").get(sku="GAS-400")
        stock = {s.pdv.code: s.quantity for s in Stock.objects.filter(variant=variant)}
    assert variant.price.quantize(1) == 2521 and str(variant.price) == "2521.010000"
    assert stock == {"PRINCIPAL": 24, "BOD": 6}
    listed = client.get(response["Location"])
    assert "Producto creado" in listed.content.decode()
    assert str(listed.context["rows"][0]["price_with_tax"]) == "3000.00"


def test_under_a_percentage_default_list_the_till_charges_the_shelf_price_typed(company_a):
    """The till charges the price on the default list: 10 % off the base price here, so the
    base price is above the price before tax that the shelf price gives."""
    from products.models import PriceList
    from products.selectors import price_with_rates, variant_price

    with tenant_context(company_a):
        PriceList.objects.filter(is_default=True).update(kind="percentage", percentage=10)
    client = pages_as(company_a, Role.OWNER)
    response = client.post("/products/new/", _new_product(company_a, price_with_tax="11900"))
    assert response.status_code == 302
    with tenant_context(company_a):
        variant = Variant.objects.get(sku="GAS-400")
        charged = variant_price(variant, PriceList.objects.get(is_default=True))
    assert variant.price == Decimal("11111.111111")
    assert price_with_rates(charged, [Decimal("19")]) == Decimal("11900.00")
    listed = client.get(response["Location"])
    assert str(listed.context["rows"][0]["price_with_tax"]) == "11900.00"
    assert "No price before tax" not in listed.content.decode()


def test_a_default_list_of_100_percent_off_is_a_form_error_not_a_500(company_a):
    from products.models import PriceList

    with tenant_context(company_a):
        PriceList.objects.filter(is_default=True).update(kind="percentage", percentage=100)
    response = pages_as(company_a, Role.OWNER).post("/products/new/", _new_product(company_a))
    assert response.status_code == 400
    assert "todo" in response.context["form"].errors["price_with_tax"][0]
    with tenant_context(company_a):
        assert not Variant.objects.filter(sku="GAS-400").exists()


@pytest.mark.postgres  # the column's limit: SQLite stores any number
def test_a_base_price_beyond_its_column_under_a_discounting_list_is_a_form_error(company_a):
    """Half off the base: the base for a shelf price of 12 digits has 13 (a 500 before)."""
    from products.models import PriceList

    with tenant_context(company_a):
        PriceList.objects.filter(is_default=True).update(kind="percentage", percentage=50)
    huge = _new_product(company_a, price_with_tax="999999999999")
    response = pages_as(company_a, Role.OWNER).post("/products/new/", huge)
    assert response.status_code == 400
    with tenant_context(company_a):
        assert not Variant.objects.filter(sku="GAS-400").exists()


def test_a_shelf_price_the_till_cannot_charge_is_taken_a_cent_below_and_said(company_a):
    client = pages_as(company_a, Role.ADMIN)
    response = client.post("/products/new/", _new_product(company_a, price_with_tax="13"))
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "12.99" in page or "12,99" in page
    with tenant_context(company_a):
        assert str(Variant.objects.get(sku="GAS-400").price) == "10.920000"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sku": "FV-iva19"}, "sku"),  # taken, in another case too
        ({"sku": "fv-IVA19"}, "sku"),
        ({"price_with_tax": "3.000,50"}, "price_with_tax"),
        ({"price_with_tax": "0"}, "price_with_tax"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_input_is_a_form_error_and_writes_nothing(shop_a, change, field):
    client = pages_as(shop_a.company, Role.OWNER)
    with tenant_context(shop_a.company):
        before = Variant.objects.count()
    response = client.post("/products/new/", _new_product(shop_a.company, **change))
    assert response.status_code == 400
    assert response.context["form"].errors.get(field), response.context["form"].errors
    with tenant_context(shop_a.company):
        assert Variant.objects.count() == before


def test_sellers_and_viewers_cannot_create_products(company_a):
    for role in (Role.SELLER, Role.VIEWER, Role.ACCOUNTANT):
        client = pages_as(company_a, role)
        assert client.get("/products/new/").status_code == 403
        assert client.post("/products/new/", _new_product(company_a)).status_code == 403
        assert b"pages:product-new" not in client.get("/products/").content
        assert b'href="/products/new/"' not in client.get("/products/").content
    with tenant_context(company_a):
        assert not Variant.objects.exists()


def test_another_company_s_category_or_tax_is_not_a_choice(company_a, company_b):
    from products.models import Tax
    from products.services import category_create

    with tenant_context(company_b):
        theirs = category_create(name="Bebidas")
        their_iva = Tax.objects.get(name="IVA 19%")
    client = pages_as(company_a, Role.OWNER)
    for change, field in (
        ({"category": str(theirs.pk)}, "category"),
        ({"iva": str(their_iva.pk)}, "iva"),
    ):
        response = client.post("/products/new/", _new_product(company_a, **change))
        assert response.status_code == 400 and response.context["form"].errors.get(field)
    with tenant_context(company_a):
        assert not Variant.objects.exists()


@pytest.mark.parametrize(
    "change",
    [{"price_with_tax": "9999999999999999"}, {"cost": "9999999999999999"}],
)
def test_a_huge_price_or_cost_is_a_form_error_not_a_500(company_a, change):
    client = pages_as(company_a, Role.OWNER)
    client.raise_request_exception = False
    response = client.post("/products/new/", _new_product(company_a, **change))
    assert response.status_code == 400, response.status_code
    with tenant_context(company_a):
        assert not Variant.objects.exists()


def test_opening_stock_at_a_pdv_closed_since_the_form_was_shown_is_refused(company_a):
    from pos.models import PDV
    from pos.services import pdv_create

    with tenant_context(company_a):
        bodega = pdv_create(name="Bodega", code="BOD")
    client = pages_as(company_a, Role.OWNER)
    assert client.get("/products/new/").status_code == 200
    with tenant_context(company_a):
        PDV.objects.filter(pk=bodega.pk).update(is_active=False)
    response = client.post("/products/new/", _new_product(company_a, **{f"stock_{bodega.pk}": "6"}))
    # The owner typed 6 units at Bodega: not a product created silently without them.
    with tenant_context(company_a):
        stock = {s.pdv.code: s.quantity for s in Stock.objects.filter(variant__sku="GAS-400")}
    assert response.status_code == 400, (response.status_code, stock)


def test_a_shelf_price_with_iva_and_inc_is_charged_exactly(company_a):
    from products.models import Tax
    from products.selectors import price_with_taxes

    with tenant_context(company_a):
        inc = Tax.objects.filter(kind=Tax.Kind.INC, rate=8).first()
    client = pages_as(company_a, Role.OWNER)
    response = client.post(
        "/products/new/", _new_product(company_a, price_with_tax="12700", inc=str(inc.pk))
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    with tenant_context(company_a):
        variant = Variant.objects.get(sku="GAS-400")
        taxes = [link.tax for link in variant.product.product_taxes.select_related("tax")]
        assert sorted(t.rate for t in taxes) == [8, 19]
        assert price_with_taxes(variant.price, taxes) == 12700


def test_a_fractional_opening_stock_of_whole_units_is_refused(company_a):
    client = pages_as(company_a, Role.OWNER)
    from pos.models import PDV

    with tenant_context(company_a):
        main = PDV.objects.get(is_main=True)
    response = client.post("/products/new/", _new_product(company_a, **{f"stock_{main.pk}": "2.5"}))
    assert response.status_code == 400
    with tenant_context(company_a):
        assert not Variant.objects.exists()


# --- a new shelf price ---------------------------------------------------------------------------


def test_an_owner_changes_a_shelf_price(shop_a):
    variant = shop_a.variants["iva19"]
    client = pages_as(shop_a.company, Role.OWNER)
    url = f"/products/variants/{variant.pk}/price/"
    page = client.get(url)
    assert page.status_code == 200 and page.context["shelf"] == Decimal("11900.00")
    assert url.encode() in client.get("/products/").content  # the list links to it
    response = client.post(url, {"price_with_tax": "12500", "barcode": "7701234000019"})
    assert response.status_code == 302, response.content.decode()[:1500]
    with tenant_context(shop_a.company):
        variant.refresh_from_db()
    assert (variant.price, variant.barcode) == (Decimal("10504.200000"), "7701234000019")
    listed = client.get(response["Location"])
    assert str(listed.context["rows"][0]["price_with_tax"]) == "12500.00"
    assert "ahora se vende a 12.500,00" in listed.content.decode()


def test_a_barcode_taken_is_a_form_error_and_changes_nothing(shop_a):
    with tenant_context(shop_a.company):
        Variant.objects.filter(pk=shop_a.variants["iva5"].pk).update(barcode="7700000000001")
    variant = shop_a.variants["iva19"]
    client = pages_as(shop_a.company, Role.ADMIN)
    response = client.post(
        f"/products/variants/{variant.pk}/price/",
        {"price_with_tax": "99999", "barcode": "7700000000001"},
    )
    assert response.status_code == 400 and response.context["form"].errors
    with tenant_context(shop_a.company):
        variant.refresh_from_db()
    assert variant.price == Decimal("10000.000000")


def test_only_managers_change_prices_and_only_their_company_s(shop_a, shop_b):
    variant = shop_a.variants["iva19"]
    url = f"/products/variants/{variant.pk}/price/"
    for role in (Role.SELLER, Role.ACCOUNTANT, Role.VIEWER):
        client = pages_as(shop_a.company, role)
        assert client.get(url).status_code == 403
        assert client.post(url, {"price_with_tax": "1", "barcode": ""}).status_code == 403
        assert url.encode() not in client.get("/products/").content
    other = pages_as(shop_b.company, Role.OWNER)
    assert other.post(url, {"price_with_tax": "1", "barcode": ""}).status_code == 404
    with tenant_context(shop_a.company):
        variant.refresh_from_db()
    assert variant.price == Decimal("10000.000000")
