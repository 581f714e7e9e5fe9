"""Deleting from the pages what nothing uses yet, through the API's services: a price list
(`price_list_delete`), a product's variant (`variant_delete`), a DIAN range that issued no
number (`numbering_range_delete`). What is in use, or the default, is refused with the
service's message and stays; managers delete, other roles get 403; another company's rows are
404 and stay."""

from __future__ import annotations

import pytest

from ally360.roles import Role
from ally360.tenancy import tenant_context
from contacts.models import Contact
from inventory.models import Stock
from inventory.tests.test_adjustment_page import pages_as
from inventory.tests.test_price_list_pages import new_list
from inventory.tests.test_variant_pages import add
from invoices.models import NumberingRange
from invoices.tests.test_numbering_page import resolution
from products.models import PriceList, Variant

pytestmark = pytest.mark.django_db


def shown(client, response) -> str:
    return client.get(response["Location"]).content.decode()


def wholesale(shop, owner) -> PriceList:
    assert owner.post("/price-lists/", new_list()).status_code == 302
    with tenant_context(shop.company):
        return PriceList.objects.get(name="Mayoristas")


def second_variant(shop, owner) -> Variant:
    first = shop.variants["iva19"]
    owner.post(f"/products/variants/{first.pk}/options/", {f"{first.pk}-options": "Talla: S"})
    assert owner.post(f"/products/{first.product_id}/variants/", add()).status_code == 302
    with tenant_context(shop.company):
        return Variant.objects.get(sku="CAM-M")


def unused_range(shop, owner) -> NumberingRange:
    sent = resolution(shop.pdv, is_active="")  # loaded for later: it issued nothing
    assert owner.post("/numbering/new/", sent).status_code == 302
    with tenant_context(shop.company):
        return NumberingRange.objects.get(prefix="PFN")


def deletable(shop) -> tuple:
    """A price list, a variant and a range that nothing uses, made by the owner's pages."""
    owner = pages_as(shop.company, Role.OWNER)
    return wholesale(shop, owner), second_variant(shop, owner), unused_range(shop, owner)


def delete_urls(rows) -> list[str]:
    price_list, variant, numbering = rows
    return [
        f"/price-lists/{price_list.pk}/delete/",
        f"/products/variants/{variant.pk}/delete/",
        f"/numbering/{numbering.pk}/delete/",
    ]


def exists(shop, model, pk) -> bool:
    with tenant_context(shop.company):
        return model.objects.filter(pk=pk).exists()


def test_an_unused_price_list_is_deleted_the_default_or_a_used_one_stays(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    price_list = wholesale(shop_a, owner)
    url = f"/price-lists/{price_list.pk}/delete/"
    assert url.encode() in owner.get(f"/price-lists/{price_list.pk}/").content
    with tenant_context(shop_a.company):
        customer = Contact.objects.filter(is_customer=True, is_final_consumer=False).first()
        Contact.objects.filter(pk=customer.pk).update(default_price_list=price_list)
    used = owner.post(url)
    assert used["Location"] == f"/price-lists/{price_list.pk}/"
    assert "desactívela" in shown(owner, used) and exists(shop_a, PriceList, price_list.pk)
    with tenant_context(shop_a.company):
        Contact.objects.filter(pk=customer.pk).update(default_price_list=None)
        default = PriceList.objects.get(is_default=True)
    deleted = owner.post(url)
    assert deleted["Location"] == "/price-lists/"
    assert "Lista de precios Mayoristas eliminada" in shown(owner, deleted)
    assert not exists(shop_a, PriceList, price_list.pk)
    kept = owner.post(f"/price-lists/{default.pk}/delete/")
    assert "no se puede eliminar" in shown(owner, kept) and exists(shop_a, PriceList, default.pk)
    assert f"/price-lists/{default.pk}/delete/".encode() not in owner.get(kept["Location"]).content


def test_a_variant_nothing_uses_is_deleted_the_default_or_a_stocked_one_stays(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    variant = second_variant(shop_a, owner)
    page = f"/products/{variant.product_id}/variants/"
    url = f"/products/variants/{variant.pk}/delete/"
    assert url.encode() in owner.get(page).content
    with tenant_context(shop_a.company):
        stock = Stock.objects.create(variant=variant, pdv=shop_a.pdv, quantity=0)
    stocked = owner.post(url)
    assert stocked["Location"] == page and "desactívela" in shown(owner, stocked)
    assert exists(shop_a, Variant, variant.pk)
    with tenant_context(shop_a.company):
        stock.delete()
    deleted = owner.post(url)
    assert deleted["Location"] == page and "Variante CAM-M eliminada" in shown(owner, deleted)
    assert not exists(shop_a, Variant, variant.pk)
    default = shop_a.variants["iva19"]
    kept = owner.post(f"/products/variants/{default.pk}/delete/")
    assert "variante predeterminada" in shown(owner, kept) and exists(shop_a, Variant, default.pk)


def test_a_range_that_issued_no_number_is_deleted_a_used_one_stays(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    numbering = unused_range(shop_a, owner)
    url = f"/numbering/{numbering.pk}/delete/"
    with tenant_context(shop_a.company):
        used = NumberingRange.objects.get(pdv=shop_a.pdv, document_type="pos", is_active=True)
        NumberingRange.objects.filter(pk=used.pk).update(next_number=used.range_from + 1)
    page = owner.get("/numbering/").content
    assert url.encode() in page and f"/numbering/{used.pk}/delete/".encode() not in page
    deleted = owner.post(url)
    assert deleted["Location"] == "/numbering/"
    assert "Rango 18764000000099 eliminado" in shown(owner, deleted)
    assert not exists(shop_a, NumberingRange, numbering.pk)
    kept = owner.post(f"/numbering/{used.pk}/delete/")
    assert "desactívelo" in shown(owner, kept) and exists(shop_a, NumberingRange, used.pk)


@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.SELLER, Role.VIEWER])
def test_roles_that_may_not_write_get_403_and_nothing_is_deleted(shop_a, role):
    rows = deletable(shop_a)
    client = pages_as(shop_a.company, role)
    for url in delete_urls(rows):
        assert client.post(url).status_code == 403, url
    assert all(exists(shop_a, type(row), row.pk) for row in rows)


def test_another_company_s_rows_are_404_and_stay(shop_a, shop_b):
    rows = deletable(shop_a)
    owner, other = pages_as(shop_a.company, Role.OWNER), pages_as(shop_b.company, Role.OWNER)
    for url in delete_urls(rows):
        assert other.post(url).status_code == 404, url
        assert owner.get(url).status_code == 405  # a deletion is a POST
    assert all(exists(shop_a, type(row), row.pk) for row in rows)
