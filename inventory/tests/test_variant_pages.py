"""The variants page: a product's variants with their shelf price, their options
(`variant_update`), and a new variant (`variant_create_with_stock`) priced as the shelf shows
it; a simple product's variant gets its options first; refusals on the form, nothing
written; managers write, every role reads; another company's products stay apart."""

from __future__ import annotations

import uuid

import pytest

from ally360.roles import Role
from ally360.tenancy import tenant_context
from inventory.forms import options_text, parse_options
from inventory.tests.test_adjustment_page import pages_as
from products.models import Variant

pytestmark = pytest.mark.django_db


def variants(shop, product_id) -> list:
    with tenant_context(shop.company):
        return list(
            Variant.objects.filter(product_id=product_id)
            .order_by("sku")
            .values_list("sku", "options", "price")
        )


def add(sku="CAM-M", options="Talla: M", price="11900", **fields) -> dict:
    return {
        "options": options,
        "sku": sku,
        "barcode": "",
        "price_with_tax": price,
        "cost": "",
        "variant_key": str(uuid.uuid4()),
        **fields,
    }


def test_a_shirt_gets_its_sizes(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    product_id = shop_a.variants["iva19"].product_id
    url = f"/products/{product_id}/variants/"
    assert url.encode() in owner.get(f"/products/{product_id}/edit/").content
    first = shop_a.variants["iva19"]
    # A second variant beside one without options is refused: give it its options first.
    early = owner.post(url, add())
    assert early.status_code == 400 and early.context["add_form"].errors["options"]
    assert len(variants(shop_a, product_id)) == 1
    named = owner.post(
        f"/products/variants/{first.pk}/options/", {f"{first.pk}-options": "Talla: S"}
    )
    assert named.status_code == 302 and named["Location"] == url
    sent = add()
    added = owner.post(url, sent)
    assert added.status_code == 302
    assert owner.post(url, sent).status_code == 302  # a double click adds it once
    listed = variants(shop_a, product_id)
    assert [(sku, options) for sku, options, _price in listed] == [
        ("CAM-M", {"Talla": "M"}),
        ("FV-iva19", {"Talla": "S"}),
    ]
    page = owner.get(url).content.decode()
    assert "Talla: M" in page and "11.900,00" in page


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"options": "Talla M"}, "options"),  # no colon
        ({"options": "Talla: M, talla: L"}, "options"),  # a name twice
        ({"options": "Talla: S"}, "options"),  # the same options as a sibling
        ({"sku": "FV-inc8"}, "sku"),  # another product's SKU
        ({"price": "0"}, "price_with_tax"),
    ],
)
def test_variant_refusals_come_back_on_the_form_and_write_nothing(shop_a, fields, where):
    owner = pages_as(shop_a.company, Role.OWNER)
    first = shop_a.variants["iva19"]
    owner.post(f"/products/variants/{first.pk}/options/", {f"{first.pk}-options": "Talla: S"})
    before = variants(shop_a, first.product_id)
    response = owner.post(f"/products/{first.product_id}/variants/", add(**fields))
    assert response.status_code == 400
    errors = response.context["add_form"].errors
    assert errors.get(where) or errors.get("__all__"), errors
    assert variants(shop_a, first.product_id) == before


def test_a_default_list_of_100_percent_off_is_a_form_error_not_a_500(shop_a):
    from products.models import PriceList

    with tenant_context(shop_a.company):
        PriceList.objects.filter(is_default=True).update(kind="percentage", percentage=100)
    owner = pages_as(shop_a.company, Role.OWNER)
    first = shop_a.variants["iva19"]
    owner.post(f"/products/variants/{first.pk}/options/", {f"{first.pk}-options": "Talla: S"})
    before = variants(shop_a, first.product_id)
    response = owner.post(f"/products/{first.product_id}/variants/", add())
    assert response.status_code == 400
    assert "todo" in response.context["add_form"].errors["price_with_tax"][0]
    assert variants(shop_a, first.product_id) == before


@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.SELLER, Role.VIEWER])
def test_every_role_reads_managers_write(shop_a, shop_b, role):
    first = shop_a.variants["iva19"]
    client = pages_as(shop_a.company, role)
    page = client.get(f"/products/{first.product_id}/variants/")
    assert page.status_code == 200 and page.context["add_form"] is None
    assert client.post(f"/products/{first.product_id}/variants/", add()).status_code == 403
    options = {f"{first.pk}-options": "Talla: S"}
    assert client.post(f"/products/variants/{first.pk}/options/", options).status_code == 403
    other = pages_as(shop_b.company, Role.OWNER)
    assert other.get(f"/products/{first.product_id}/variants/").status_code == 404
    assert other.post(f"/products/variants/{first.pk}/options/", options).status_code == 404
    assert variants(shop_a, first.product_id) == [(first.sku, {}, first.price)]


def test_options_are_read_as_written():
    assert parse_options(" Talla: M ,Color:  Rojo ,") == {"Talla": "M", "Color": "Rojo"}
    assert parse_options(options_text({"Talla": "M", "Color": "Rojo"})) == {
        "Talla": "M",
        "Color": "Rojo",
    }


def test_a_new_variant_sells_at_the_shelf_price_typed_under_a_percentage_default_list(shop_a):
    from decimal import Decimal

    from products.models import PriceList
    from products.selectors import price_with_rates, variant_prices

    with tenant_context(shop_a.company):
        PriceList.objects.filter(is_default=True).update(kind="percentage", percentage=10)
    owner = pages_as(shop_a.company, Role.OWNER)
    first = shop_a.variants["iva19"]
    owner.post(f"/products/variants/{first.pk}/options/", {f"{first.pk}-options": "Talla: S"})
    added = owner.post(f"/products/{first.product_id}/variants/", add(price="11900"), follow=True)
    assert "CAM-M agregado a 11.900,00" in added.content.decode()
    with tenant_context(shop_a.company):
        variant = Variant.objects.get(sku="CAM-M")
        default = PriceList.objects.get(is_default=True)
        charged = variant_prices([variant], default)[variant.pk]
    # The base is above the list's price: the till charges 10 % off it, 11,900.00 with IVA.
    assert variant.price > charged and price_with_rates(charged, [Decimal("19")]) == Decimal(
        "11900.00"
    )
    page = owner.get(f"/products/{first.product_id}/variants/").content.decode()
    assert "11.900,00" in page
