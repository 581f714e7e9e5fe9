"""The stock page of a product's variant: its stock at each point of sale and the minimum under
which it shows as low there (`stock_set_minimum`, as `PATCH stock/{id}/`); the back office
sets it, every role reads; a fraction for a product sold whole, or a negative one, is refused
and nothing written; another company's variants and stock rows are 404."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ally360.roles import Role
from ally360.tenancy import tenant_context
from inventory.models import Stock
from inventory.tests.test_adjustment_page import pages_as

pytestmark = pytest.mark.django_db


def stock_of(shop) -> Stock:
    with tenant_context(shop.company):
        return Stock.objects.get(variant=shop.variants["iva19"], pdv=shop.pdv)


def test_a_minimum_above_the_stock_shows_the_product_as_low(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    variant = shop_a.variants["iva19"]
    url = f"/products/variants/{variant.pk}/stock/"
    assert url.encode() in owner.get("/products/", {"q": "FV-iva19"}).content
    stock = stock_of(shop_a)  # 100 units
    saved = owner.post(url, {"stock": str(stock.pk), "min_quantity": "120"})
    assert saved.status_code == 302 and saved["Location"] == url
    assert stock_of(shop_a).min_quantity == Decimal("120.000")
    page = owner.get(url).content.decode()
    assert "Mínimo en" in page and "Bajo" in page
    low = owner.get("/products/", {"low": "1"}).content.decode()
    assert "FV-iva19" in low
    owner.post(url, {"stock": str(stock.pk), "min_quantity": "0"})  # the alert off
    assert "FV-iva19" not in owner.get("/products/", {"low": "1"}).content.decode()


@pytest.mark.parametrize("value", ["2.5", "-1", ""])
def test_a_minimum_the_product_cannot_have_is_refused(shop_a, value):
    owner = pages_as(shop_a.company, Role.OWNER)
    url = f"/products/variants/{shop_a.variants['iva19'].pk}/stock/"
    refused = owner.post(url, {"stock": str(stock_of(shop_a).pk), "min_quantity": value})
    assert refused.status_code == 302
    assert 'class="message error"' in owner.get(refused["Location"]).content.decode()
    assert stock_of(shop_a).min_quantity == 0


def test_another_variant_s_stock_row_is_404(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    other_variant = shop_a.variants["inc8"]
    url = f"/products/variants/{other_variant.pk}/stock/"
    response = owner.post(url, {"stock": str(stock_of(shop_a).pk), "min_quantity": "5"})
    assert response.status_code == 404
    assert stock_of(shop_a).min_quantity == 0


@pytest.mark.parametrize("role", [Role.SELLER, Role.VIEWER])
def test_every_role_reads_the_back_office_sets(shop_a, role):
    url = f"/products/variants/{shop_a.variants['iva19'].pk}/stock/"
    client = pages_as(shop_a.company, role)
    page = client.get(url)
    assert page.status_code == 200 and b"minimum-form" not in page.content
    assert (
        client.post(url, {"stock": str(stock_of(shop_a).pk), "min_quantity": "5"}).status_code
        == 403
    )
    accountant = pages_as(shop_a.company, Role.ACCOUNTANT)
    assert b"minimum-form" in accountant.get(url).content
    assert stock_of(shop_a).min_quantity == 0


def test_another_company_s_variant_is_404_and_nothing_is_written(shop_a, shop_b):
    url = f"/products/variants/{shop_a.variants['iva19'].pk}/stock/"
    other = pages_as(shop_b.company, Role.OWNER)
    assert other.get(url).status_code == 404
    assert (
        other.post(url, {"stock": str(stock_of(shop_a).pk), "min_quantity": "5"}).status_code == 404
    )
    own = f"/products/variants/{shop_b.variants['iva19'].pk}/stock/"
    assert (
        other.post(own, {"stock": str(stock_of(shop_a).pk), "min_quantity": "5"}).status_code == 404
    )
    assert stock_of(shop_a).min_quantity == 0
