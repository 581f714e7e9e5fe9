"""The categories and brands page: managers add one (`category_create`, `brand_create`, once
per form), rename or deactivate it (`category_update`, `brand_update`), or delete one no
product uses; a name already used, or a deletion of one in use, is refused with nothing
written; every role reads; another company's rows are 404 and stay."""

from __future__ import annotations

import uuid

import pytest

from ally360.roles import Role
from ally360.tenancy import tenant_context
from inventory.tests.test_adjustment_page import pages_as
from products.models import Brand, Category, Product

pytestmark = pytest.mark.django_db

URL = "/categories/"


def new_category(name, parent=None, key=None) -> dict:
    return {
        "category-name": name,
        "category-parent": str(parent.pk) if parent else "",
        "category-key": key or str(uuid.uuid4()),
    }


def new_brand(name) -> dict:
    return {"brand-name": name, "brand-key": str(uuid.uuid4())}


def categories(shop) -> list:
    with tenant_context(shop.company):
        return list(
            Category.objects.order_by("name").values_list("name", "parent__name", "is_active")
        )


def test_an_owner_files_categories_under_others_and_adds_a_brand(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    assert b'href="/categories/"' in owner.get("/products/").content
    sent = new_category("Bebidas")
    assert owner.post(URL, sent).status_code == 302
    assert owner.post(URL, sent).status_code == 302  # a double click adds it once
    with tenant_context(shop_a.company):
        drinks = Category.objects.get(name="Bebidas")
    assert owner.post(URL, new_category("Gaseosas", drinks)).status_code == 302
    assert owner.post(URL, new_brand("Postobón")).status_code == 302
    assert categories(shop_a) == [("Bebidas", None, True), ("Gaseosas", "Bebidas", True)]
    page = owner.get(URL).content.decode()
    assert "Categoría Gaseosas creada" in page and "Marca Postobón creada" in page
    with tenant_context(shop_a.company):
        assert Brand.objects.filter(name="Postobón").exists()


def test_a_name_already_used_comes_back_on_the_form_and_writes_nothing(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    assert owner.post(URL, new_category("Aseo")).status_code == 302
    again = owner.post(URL, new_category("aseo"))
    assert again.status_code == 400
    assert "Ya existe" in " ".join(again.context["category_form"].errors["name"])
    blank = owner.post(URL, new_brand(" "))
    assert blank.status_code == 400 and blank.context["brand_form"].errors["name"]
    assert categories(shop_a) == [("Aseo", None, True)]
    with tenant_context(shop_a.company):
        assert not Brand.objects.exists()


def test_a_category_is_renamed_and_deactivated_or_deleted_unless_products_use_it(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    owner.post(URL, new_category("Aseo"))
    owner.post(URL, new_category("Lácteos"))
    with tenant_context(shop_a.company):
        cleaning, dairy = Category.objects.get(name="Aseo"), Category.objects.get(name="Lácteos")
        Product.objects.filter(pk=shop_a.variants["iva19"].product_id).update(category=dairy)
    renamed = owner.post(f"/categories/{cleaning.pk}/", {f"{cleaning.pk}-name": "Aseo hogar"})
    assert renamed.status_code == 302  # the unticked box: deactivated
    clash = owner.post(
        f"/categories/{dairy.pk}/",
        {f"{dairy.pk}-name": "ASEO HOGAR", f"{dairy.pk}-is_active": "on"},
    )
    assert (
        "Ya existe aquí una categoría llamada ASEO HOGAR"
        in owner.get(clash["Location"]).content.decode()
    )
    assert categories(shop_a) == [("Aseo hogar", None, False), ("Lácteos", None, True)]
    used = owner.post(f"/categories/{dairy.pk}/delete/")
    assert "tiene productos" in owner.get(used["Location"]).content.decode()
    deleted = owner.post(f"/categories/{cleaning.pk}/delete/")
    assert "Categoría Aseo hogar eliminada" in owner.get(deleted["Location"]).content.decode()
    assert categories(shop_a) == [("Lácteos", None, True)]


def test_a_brand_is_renamed_or_deleted_unless_products_use_it(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    owner.post(URL, new_brand("Alpina"))
    owner.post(URL, new_brand("Colanta"))
    with tenant_context(shop_a.company):
        alpina, colanta = Brand.objects.get(name="Alpina"), Brand.objects.get(name="Colanta")
        Product.objects.filter(pk=shop_a.variants["iva19"].product_id).update(brand=colanta)
    data = {f"{alpina.pk}-name": "Alpina S.A.", f"{alpina.pk}-is_active": "on"}
    assert owner.post(f"/brands/{alpina.pk}/", data).status_code == 302
    used = owner.post(f"/brands/{colanta.pk}/delete/")
    assert "tiene productos" in owner.get(used["Location"]).content.decode()
    deleted = owner.post(f"/brands/{alpina.pk}/delete/")
    assert "Marca Alpina S.A. eliminada" in owner.get(deleted["Location"]).content.decode()
    with tenant_context(shop_a.company):
        assert list(Brand.objects.values_list("name", "is_active")) == [("Colanta", True)]


@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.SELLER, Role.VIEWER])
def test_every_role_reads_managers_write(shop_a, role):
    owner = pages_as(shop_a.company, Role.OWNER)
    owner.post(URL, new_category("Aseo"))
    owner.post(URL, new_brand("Alpina"))
    with tenant_context(shop_a.company):
        category, brand = Category.objects.get(), Brand.objects.get()
    client = pages_as(shop_a.company, role)
    page = client.get(URL)
    assert page.status_code == 200 and "Aseo" in page.content.decode()
    assert page.context["category_form"] is None and b"/delete/" not in page.content
    assert client.post(URL, new_category("Otra")).status_code == 403
    for url in (f"/categories/{category.pk}/", f"/brands/{brand.pk}/"):
        assert (
            client.post(url, {f"{category.pk}-name": "X", f"{brand.pk}-name": "X"}).status_code
            == 403
        )
        assert client.post(f"{url}delete/").status_code == 403
    assert categories(shop_a) == [("Aseo", None, True)]
    with tenant_context(shop_a.company):
        assert list(Brand.objects.values_list("name", flat=True)) == ["Alpina"]


def test_another_company_s_rows_are_404_and_stay(shop_a, shop_b):
    owner = pages_as(shop_a.company, Role.OWNER)
    owner.post(URL, new_category("Aseo"))
    owner.post(URL, new_brand("Alpina"))
    with tenant_context(shop_a.company):
        category, brand = Category.objects.get(), Brand.objects.get()
    other = pages_as(shop_b.company, Role.OWNER)
    assert "Aseo" not in other.get(URL).content.decode()
    for url, prefix in (
        (f"/categories/{category.pk}/", category.pk),
        (f"/brands/{brand.pk}/", brand.pk),
    ):
        assert other.post(url, {f"{prefix}-name": "Robado"}).status_code == 404
        assert other.post(f"{url}delete/").status_code == 404
    # A parent of another company is not a choice.
    refused = other.post(URL, new_category("Hija", category))
    assert refused.status_code == 400 and refused.context["category_form"].errors["parent"]
    assert categories(shop_a) == [("Aseo", None, True)]
    with tenant_context(shop_a.company):
        assert list(Brand.objects.values_list("name", flat=True)) == ["Alpina"]
