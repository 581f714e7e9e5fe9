"""The price list pages: the lists, a new one (`price_list_create`), its settings
(`price_list_update`: one default, kept active) and a fixed list's prices typed with tax
(`price_list_item_set` with the price before tax whose till price it is); a sale on the list
charges them; refusals on the form, nothing written; managers write, every role reads;
another company's lists and products stay apart."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from ally360.roles import Role
from ally360.tenancy import tenant_context
from ally360.tests.pages import form_as_rendered
from inventory.tests.test_adjustment_page import pages_as
from products.models import PriceList, PriceListItem
from products.selectors import variant_prices

pytestmark = pytest.mark.django_db


def new_list(**fields) -> dict:
    return {
        "name": "Mayoristas",
        "kind": "fixed",
        "percentage": "",
        "is_active": "on",
        "list_key": str(uuid.uuid4()),
        **fields,
    }


def lists(shop) -> list:
    with tenant_context(shop.company):
        return list(PriceList.objects.order_by("name").values_list("name", "kind", "is_default"))


def test_an_owner_makes_a_wholesale_list_with_prices_typed_with_tax(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    assert b'href="/price-lists/"' in owner.get("/products/").content
    sent = new_list()
    made = owner.post("/price-lists/", sent)
    assert made.status_code == 302
    assert owner.post("/price-lists/", sent)["Location"] == made["Location"]  # a double click
    with tenant_context(shop_a.company):
        wholesale = PriceList.objects.get(name="Mayoristas")
    assert made["Location"] == f"/price-lists/{wholesale.pk}/"
    # FV-iva19 at 8,000 with IVA 19 %: 6,722.69 before tax rounds to 8,000.00 at the till.
    priced = owner.post(
        f"/price-lists/{wholesale.pk}/items/", {"code": "FV-iva19", "price_with_tax": "8000"}
    )
    assert priced.status_code == 302
    with tenant_context(shop_a.company):
        item = PriceListItem.objects.get(price_list=wholesale)
        charged = variant_prices([item.variant], wholesale)[item.variant.pk]
    assert item.variant.sku == "FV-iva19" and charged == item.price
    page = owner.get(f"/price-lists/{wholesale.pk}/").content.decode()
    assert "8.000,00" in page and "FV-iva19" in page
    removed = owner.post(f"/price-lists/{wholesale.pk}/items/{item.pk}/remove/")
    assert removed.status_code == 302
    with tenant_context(shop_a.company):
        assert not PriceListItem.objects.filter(price_list=wholesale).exists()


def test_a_list_made_default_replaces_the_default_and_the_default_stays_active(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    assert (
        owner.post("/price-lists/", new_list(kind="percentage", percentage="10")).status_code == 302
    )
    with tenant_context(shop_a.company):
        wholesale = PriceList.objects.get(name="Mayoristas")
        old_default = PriceList.objects.get(is_default=True)
    url = f"/price-lists/{wholesale.pk}/edit/"
    page = f"/price-lists/{wholesale.pk}/"
    shown = form_as_rendered(owner.get(page), "price-list-form")
    made_default = owner.post(url, {**shown, "percentage": ["12"], "is_default": ["on"]})
    assert made_default.status_code == 302
    with tenant_context(shop_a.company):
        wholesale.refresh_from_db()
        old_default.refresh_from_db()
    assert (wholesale.is_default, wholesale.percentage, old_default.is_default) == (
        True, Decimal("12.00"), False
    )  # fmt: skip
    off = form_as_rendered(owner.get(page), "price-list-form")
    off.pop("is_active")
    off = owner.post(url, off)
    assert off.status_code == 400 and off.context["form"].non_field_errors()
    with tenant_context(shop_a.company):
        wholesale.refresh_from_db()
    assert wholesale.is_active


def test_a_list_s_page_opened_before_another_manager_changed_it_undoes_nothing(shop_a):
    """Only what was changed on the page is saved: a rename from a page opened before another
    manager deactivated the list and changed its discount reactivated it at the old discount.
    A change the service refuses comes back on the form, nothing written."""
    owner, admin = pages_as(shop_a.company, Role.OWNER), pages_as(shop_a.company, Role.ADMIN)
    assert (
        owner.post("/price-lists/", new_list(kind="percentage", percentage="10")).status_code == 302
    )
    with tenant_context(shop_a.company):
        wholesale = PriceList.objects.get(name="Mayoristas")
    page, url = f"/price-lists/{wholesale.pk}/", f"/price-lists/{wholesale.pk}/edit/"
    opened = form_as_rendered(owner.get(page), "price-list-form")
    assert opened["is_active"] == ["on"] and opened["initial-is_active"] == ["True"]
    changed = form_as_rendered(admin.get(page), "price-list-form")
    changed.pop("is_active")
    changed["percentage"] = ["15"]
    assert admin.post(url, changed).status_code == 302
    assert owner.post(url, {**opened, "name": ["Mayoristas 2"]}).status_code == 302
    with tenant_context(shop_a.company):
        wholesale.refresh_from_db()
    assert (wholesale.name, wholesale.is_active, wholesale.percentage) == (
        "Mayoristas 2", False, Decimal("15.00")
    )  # fmt: skip
    # Made the default meanwhile: deactivating it from the older page is refused.
    reactivated = {**form_as_rendered(admin.get(page), "price-list-form"), "is_active": ["on"]}
    assert admin.post(url, reactivated).status_code == 302
    opened = form_as_rendered(owner.get(page), "price-list-form")
    made_default = {**form_as_rendered(admin.get(page), "price-list-form"), "is_default": ["on"]}
    assert admin.post(url, made_default).status_code == 302
    opened.pop("is_active")
    refused = owner.post(url, {**opened, "name": ["Mayoristas 3"]})
    assert refused.status_code == 400 and refused.context["form"].non_field_errors()
    with tenant_context(shop_a.company):
        wholesale.refresh_from_db()
    assert (wholesale.name, wholesale.is_active, wholesale.is_default) == (
        "Mayoristas 2", True, True
    )  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"name": "General"}, "name"),  # taken (any case): the default list's name
        ({"kind": "fixed", "percentage": "5"}, None),  # a fixed list has no discount
        ({"kind": "percentage", "percentage": "101"}, "percentage"),
    ],
)
def test_list_refusals_come_back_on_the_form_and_write_nothing(shop_a, fields, where):
    owner = pages_as(shop_a.company, Role.OWNER)
    before = lists(shop_a)
    with tenant_context(shop_a.company):
        default_name = PriceList.objects.get(is_default=True).name
    if fields.get("name") == "General":
        fields = {**fields, "name": default_name.upper()}
    response = owner.post("/price-lists/", new_list(**fields))
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors[where] if where else form.errors, form.errors
    assert lists(shop_a) == before


def test_a_price_refusal_comes_back_on_the_form(shop_a, shop_b):
    owner = pages_as(shop_a.company, Role.OWNER)
    assert owner.post("/price-lists/", new_list()).status_code == 302
    with tenant_context(shop_a.company):
        wholesale = PriceList.objects.get(name="Mayoristas")
        percentage_list = PriceList.objects.get(is_default=True)
    url = f"/price-lists/{wholesale.pk}/items/"
    unknown = owner.post(url, {"code": "NO-EXISTE", "price_with_tax": "1000"})
    assert unknown.status_code == 400 and unknown.context["item_form"].errors["code"]
    foreign = owner.post(url, {"code": "FB-iva19", "price_with_tax": "1000"})  # shop B's SKU
    assert foreign.status_code == 400 and foreign.context["item_form"].errors["code"]
    on_percentage = owner.post(
        f"/price-lists/{percentage_list.pk}/items/", {"code": "FV-iva19", "price_with_tax": "1000"}
    )
    assert on_percentage.status_code == 400
    with tenant_context(shop_a.company):
        assert not PriceListItem.objects.exists()


@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.SELLER, Role.VIEWER])
def test_every_role_reads_managers_write(shop_a, shop_b, role):
    owner = pages_as(shop_a.company, Role.OWNER)
    assert owner.post("/price-lists/", new_list()).status_code == 302
    with tenant_context(shop_a.company):
        wholesale = PriceList.objects.get(name="Mayoristas")
    client = pages_as(shop_a.company, role)
    page = client.get(f"/price-lists/{wholesale.pk}/")
    assert page.status_code == 200 and page.context["form"] is None
    assert client.post("/price-lists/", new_list(name="Otra")).status_code == 403
    edit = {"name": "X", "is_active": "on"}
    assert client.post(f"/price-lists/{wholesale.pk}/edit/", edit).status_code == 403
    item = {"code": "FV-iva19", "price_with_tax": "1000"}
    assert client.post(f"/price-lists/{wholesale.pk}/items/", item).status_code == 403
    other = pages_as(shop_b.company, Role.OWNER)
    assert other.get(f"/price-lists/{wholesale.pk}/").status_code == 404
    assert other.post(f"/price-lists/{wholesale.pk}/items/", item).status_code == 404
    assert [name for name, *_ in lists(shop_a)].count("Otra") == 0
    with tenant_context(shop_a.company):
        assert not PriceListItem.objects.exists()
