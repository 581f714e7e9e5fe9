"""The price page (`/products/variants/<id>/price/`): the form as shown goes back, the default
price list decides what the till charges, money shown as the pages show it."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from ally360.roles import Role
from ally360.tenancy import tenant_context
from inventory.tests.test_pages import pages_as
from products.models import PriceList, Tax, Variant
from products.selectors import price_with_taxes

pytestmark = pytest.mark.django_db


def _shown_values(html: str) -> dict:
    """The form's inputs as the browser would send them untouched."""
    values = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or name.group(1) == "csrfmiddlewaretoken":
            continue
        value = re.search(r'value="([^"]*)"', tag)
        values[name.group(1)] = value.group(1) if value else ""
    return values


def test_the_form_sent_back_as_shown_with_a_new_price_is_accepted(shop_a):
    """The owner opens the page, types a new price and presses Save: the prefilled cost
    (a 6-decimal column) goes back too."""
    variant = shop_a.variants["iva19"]
    client = pages_as(shop_a.company, Role.OWNER)
    url = f"/products/variants/{variant.pk}/price/"
    data = _shown_values(client.get(url).content.decode())
    assert "cost" in data, data
    data["price_with_tax"] = "12500"
    response = client.post(url, data)
    errors = response.context["form"].errors if response.status_code == 400 else None
    assert response.status_code == 302, (data, errors)


def test_the_new_price_is_what_the_list_and_the_till_show_with_a_discounting_default_list(
    shop_a,
):
    """The shelf (product list, till) is the price on the default list: with a 10 % default
    list the base price is set above the price before tax, so that the list charges the shelf
    price typed."""
    variant = shop_a.variants["iva19"]
    with tenant_context(shop_a.company):
        PriceList.objects.filter(is_default=True).update(percentage=Decimal("10"))
    client = pages_as(shop_a.company, Role.OWNER)
    url = f"/products/variants/{variant.pk}/price/"
    response = client.post(url, {"price_with_tax": "11900", "barcode": ""})
    assert response.status_code == 302
    listed = client.get(response["Location"])
    assert "ahora se vende a 11.900,00" in listed.content.decode()
    assert listed.context["rows"][0]["price_with_tax"] == Decimal("11900.00")
    with tenant_context(shop_a.company):
        variant.refresh_from_db()
    assert variant.price == Decimal("11111.111111")


def test_a_fixed_price_on_the_default_list_is_changed_on_the_list(shop_a):
    from products.services import price_list_item_set

    variant = shop_a.variants["iva19"]
    with tenant_context(shop_a.company):
        PriceList.objects.filter(is_default=True).update(kind="fixed", percentage=0)
        price_list_item_set(
            price_list=PriceList.objects.get(is_default=True),
            variant=variant,
            price=Decimal("9000"),
        )
    client = pages_as(shop_a.company, Role.OWNER)
    url = f"/products/variants/{variant.pk}/price/"
    response = client.post(url, {"price_with_tax": "11900", "barcode": ""})
    assert response.status_code == 400
    assert "cámbielo en la lista" in str(response.context["form"].non_field_errors())
    with tenant_context(shop_a.company):
        variant.refresh_from_db()
    assert variant.price == Decimal("10000.000000")


def test_the_page_s_now_is_the_list_s_shelf_with_a_discounting_default_list(shop_a):
    variant = shop_a.variants["iva19"]
    with tenant_context(shop_a.company):
        PriceList.objects.filter(is_default=True).update(percentage=Decimal("10"))
    client = pages_as(shop_a.company, Role.OWNER)
    listed = client.get(f"/products/?q={variant.sku}").context["rows"][0]["price_with_tax"]
    now = client.get(f"/products/variants/{variant.pk}/price/").context["shelf"]
    assert now == listed, (now, listed)


def test_the_cent_below_warning_shows_money_as_the_page_does(shop_a):
    variant = shop_a.variants["iva19"]
    client = pages_as(shop_a.company, Role.OWNER)
    url = f"/products/variants/{variant.pk}/price/"
    response = client.post(url, {"price_with_tax": "13", "barcode": ""}, follow=True)
    warnings = [str(m) for m in response.context["messages"] if m.level_tag == "warning"]
    assert warnings, [str(m) for m in response.context["messages"]]
    assert "13,00" in warnings[0] and "12,99" in warnings[0], warnings


def test_iva_and_inc_and_a_second_variant(shop_a, make_product):
    from products.services import variant_create

    with tenant_context(shop_a.company):
        taxes = [Tax.objects.get(name="IVA 19%"), Tax.objects.get(name="INC 8%")]
    product = make_product(shop_a.company, sku="DUO-1", price="1000", taxes=taxes)
    with tenant_context(shop_a.company):
        first = Variant.objects.get(product=product)
        Variant.objects.filter(pk=first.pk).update(options={"talla": "S"})
        second = variant_create(
            product=product, sku="DUO-2", price=Decimal("1000"), options={"talla": "M"}
        )
    client = pages_as(shop_a.company, Role.ADMIN)
    response = client.post(
        f"/products/variants/{second.pk}/price/", {"price_with_tax": "12700", "barcode": ""}
    )
    assert response.status_code == 302, response.content.decode()[:1500]
    with tenant_context(shop_a.company):
        second.refresh_from_db()
        first.refresh_from_db()
    assert price_with_taxes(second.price, taxes) == Decimal("12700")
    assert first.price == Decimal("1000")
    rows = {r["variant"].sku: r for r in client.get(response["Location"]).context["rows"]}
    assert rows["DUO-2"]["price_with_tax"] == Decimal("12700.00"), rows.keys()


def test_huge_and_negative_are_form_errors(shop_a):
    variant = shop_a.variants["iva19"]
    client = pages_as(shop_a.company, Role.OWNER)
    client.raise_request_exception = False
    url = f"/products/variants/{variant.pk}/price/"
    for change in (
        {"price_with_tax": "9999999999999999"},
        {"price_with_tax": "-5"},
        {"price_with_tax": "1000", "cost": "9999999999999999"},
        {"price_with_tax": "1000", "cost": "-1"},
    ):
        response = client.post(url, {"barcode": "", **change})
        assert response.status_code == 400, (change, response.status_code)
    with tenant_context(shop_a.company):
        variant.refresh_from_db()
    assert variant.price == Decimal("10000.000000")
