"""Editing a product from its page: `product_update` with the API's rules; a product keeps its
inactive category; tracking cannot be switched once stock moved; owners and admins only;
another company's product is a 404."""

from __future__ import annotations

import pytest

from ally360.roles import Role
from ally360.tenancy import tenant_context
from inventory.tests.test_adjustment_page import pages_as
from products.models import Brand, Category, Product, Tax, Unit

pytestmark = pytest.mark.django_db


def url(product) -> str:
    return f"/products/{product.pk}/edit/"


def edit_data(company, product, **fields) -> dict:
    with tenant_context(company):
        taxes = {tax.name: tax.pk for tax in Tax.objects.all()}
        unit = Unit.objects.get(code="unit").pk
    data = {
        "name": product.name,
        "description": "",
        "iva": taxes["IVA 19%"],
        "inc": "",
        "unit": unit,
        "category": "",
        "brand": "",
        "track_inventory": "on",
        "is_active": "on",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def test_an_owner_renames_reclassifies_and_changes_the_taxes(company_a, make_product):
    product = make_product(company_a, name="Gaseosa", price="1000", stock={None: 2})
    with tenant_context(company_a):
        category = Category.objects.create(name="Bebidas")
        taxes = {tax.name: tax.pk for tax in Tax.objects.all()}
    owner = pages_as(company_a, Role.OWNER)
    assert owner.get(url(product)).status_code == 200
    assert url(product).encode() in owner.get("/products/").content
    response = owner.post(
        url(product),
        edit_data(
            company_a,
            product,
            name="Gaseosa 400 ml",
            category=str(category.pk),
            iva=taxes["IVA 5%"],
            inc=taxes["INC 8%"],
        ),
    )
    assert response.status_code == 302, response.context["form"].errors
    with tenant_context(company_a):
        product.refresh_from_db()
        names = sorted(tax.name for tax in product.taxes.all())
    assert (product.name, product.category_id) == ("Gaseosa 400 ml", category.pk)
    assert names == ["INC 8%", "IVA 5%"]
    listed = owner.get(response["Location"])
    assert "Producto Gaseosa 400 ml guardado" in listed.content.decode()
    # The price before tax stays: 1,000 + 5 % + 8 % on the shelf.
    assert str(listed.context["rows"][0]["price_with_tax"]) == "1130.00"


def test_an_inactive_category_stays_but_is_not_given_anew(company_a, make_product):
    with tenant_context(company_a):
        old = Category.objects.create(name="Vieja")
        other = Category.objects.create(name="Otra", is_active=False)
        Brand.objects.create(name="Marca")
    product = make_product(company_a, name="Jabón", category=old)
    with tenant_context(company_a):
        Category.objects.filter(pk=old.pk).update(is_active=False)
    owner = pages_as(company_a, Role.OWNER)
    kept = owner.post(url(product), edit_data(company_a, product, category=str(old.pk)))
    assert kept.status_code == 302
    refused = owner.post(url(product), edit_data(company_a, product, category=str(other.pk)))
    assert refused.status_code == 400 and refused.context["form"].errors["category"]
    with tenant_context(company_a):
        product.refresh_from_db()
    assert product.category_id == old.pk


def test_tracking_is_fixed_once_stock_moved(company_a, make_product):
    product = make_product(company_a, name="Arroz", stock={None: 5})
    owner = pages_as(company_a, Role.OWNER)
    data = edit_data(company_a, product, track_inventory=None)  # unticked: not sent
    response = owner.post(url(product), data)
    assert response.status_code == 400
    assert response.context["form"].errors["track_inventory"]
    with tenant_context(company_a):
        assert Product.objects.get(pk=product.pk).track_inventory is True


@pytest.mark.parametrize("role", [Role.SELLER, Role.ACCOUNTANT, Role.VIEWER])
def test_only_owners_and_admins_edit_products(company_a, make_product, role):
    product = make_product(company_a, name="Arroz")
    client = pages_as(company_a, role)
    assert client.get(url(product)).status_code == 403
    assert client.post(url(product), edit_data(company_a, product, name="X")).status_code == 403
    assert url(product).encode() not in client.get("/products/").content
    with tenant_context(company_a):
        assert Product.objects.get(pk=product.pk).name == "Arroz"


def test_another_company_s_product_or_tax_stays_apart(company_a, company_b, make_product):
    product = make_product(company_a, name="Arroz")
    other = pages_as(company_b, Role.OWNER)
    assert other.get(url(product)).status_code == 404
    assert other.post(url(product), edit_data(company_a, product, name="X")).status_code == 404
    own = make_product(company_b, name="Frijol")
    with tenant_context(company_a):
        foreign_tax = Tax.objects.get(name="IVA 5%").pk
    refused = other.post(url(own), edit_data(company_b, own, iva=foreign_tax))
    assert refused.status_code == 400 and refused.context["form"].errors["iva"]
    with tenant_context(company_a):
        assert Product.objects.get(pk=product.pk).name == "Arroz"


def test_a_product_with_the_inc_alone_keeps_no_iva(shop_a):
    """A restaurant's dish carries the INC and no IVA: renaming it gives it none."""
    with tenant_context(shop_a.company):
        product = shop_a.variants["inc8"].product
        inc = Tax.objects.get(name="INC 8%")
    owner = pages_as(shop_a.company, Role.OWNER)
    form = owner.get(url(product)).context["form"]
    assert form.initial["iva"] is None and form.initial["inc"] == inc.pk
    data = edit_data(shop_a.company, product, name="Bandeja paisa", iva="", inc=str(inc.pk))
    assert owner.post(url(product), data).status_code == 302
    with tenant_context(shop_a.company):
        assert [tax.name for tax in product.taxes.all()] == ["INC 8%"]
