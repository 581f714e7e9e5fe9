"""categories/, brands/, taxes/, units/, price-lists/: seeds, rules, prices, roles, isolation."""

from decimal import Decimal

import pytest

from ally360.roles import Role
from ally360.tenancy import tenant_context
from conftest import ALL_ROLES, error_code
from products.models import Category, PriceList, PriceListItem, Tax, Variant
from products.selectors import price_with_taxes, variant_price

pytestmark = pytest.mark.django_db

MANAGERS = {Role.OWNER, Role.ADMIN}


def test_a_new_company_gets_the_colombian_taxes_units_and_a_default_price_list(owner_a):
    taxes = {
        t["name"]: (t["kind"], t["treatment"], t["rate"], t["dian_code"])
        for t in owner_a.get("/api/v1/taxes/").json()["results"]
    }
    assert taxes == {
        "IVA 19%": ("iva", "taxed", "19.00", "01"),
        "IVA 5%": ("iva", "taxed", "5.00", "01"),
        "IVA exento 0%": ("iva", "exempt", "0.00", "01"),
        "IVA excluido": ("iva", "excluded", "0.00", "01"),
        "INC 8%": ("inc", "taxed", "8.00", "04"),
    }
    units = {u["code"] for u in owner_a.get("/api/v1/units/").json()["results"]}
    assert {"unit", "kg", "g", "l", "ml", "m", "box", "service"} <= units
    lists = owner_a.get("/api/v1/price-lists/").json()["results"]
    assert [(p["name"], p["is_default"]) for p in lists] == [("General", True)]


def test_tax_rules(owner_a):
    for payload in (
        {"name": "x", "kind": "iva", "treatment": "exempt", "rate": "5"},
        {"name": "x", "kind": "iva", "treatment": "taxed", "rate": "0"},
        {"name": "x", "kind": "inc", "treatment": "excluded", "rate": "0"},
    ):
        assert owner_a.post("/api/v1/taxes/", payload, format="json").status_code == 400
    inc4 = owner_a.post(
        "/api/v1/taxes/", {"name": "INC 4%", "kind": "inc", "rate": "4"}, format="json"
    )
    assert inc4.status_code == 201 and inc4.json()["dian_code"] == "04"
    duplicate = owner_a.post(
        "/api/v1/taxes/", {"name": "inc 4%", "kind": "inc", "rate": "4"}, format="json"
    )
    assert duplicate.status_code == 409


def test_a_tax_used_by_products_keeps_its_kind_and_an_unused_one_takes_the_new_code(
    owner_a, company_a, make_product
):
    with tenant_context(company_a):
        iva, inc = Tax.objects.get(name="IVA 19%"), Tax.objects.get(name="INC 8%")
    make_product(company_a, taxes=[iva, inc])
    refused = owner_a.patch(f"/api/v1/taxes/{inc.id}/", {"kind": "iva"}, format="json")
    assert refused.status_code == 409 and error_code(refused) == "tax_in_use"
    with tenant_context(company_a):
        assert Tax.objects.get(pk=inc.pk).kind == "inc"
    unused = owner_a.post(
        "/api/v1/taxes/", {"name": "INC 4%", "kind": "inc", "rate": "4"}, format="json"
    ).json()
    changed = owner_a.patch(
        f"/api/v1/taxes/{unused['id']}/", {"kind": "iva", "name": "IVA 4%"}, format="json"
    )
    assert changed.status_code == 200
    assert (changed.json()["kind"], changed.json()["dian_code"]) == ("iva", "01")


def test_a_tax_used_by_products_is_not_deleted(owner_a, company_a, make_product):

    with tenant_context(company_a):
        iva = Tax.objects.get(name="IVA 19%")
    make_product(company_a, taxes=[iva])
    response = owner_a.delete(f"/api/v1/taxes/{iva.id}/")
    assert response.status_code == 409 and error_code(response) == "in_use"


def test_an_inactive_tax_is_not_given_to_products(owner_a, company_a, make_product):
    with tenant_context(company_a):
        iva5 = Tax.objects.get(name="IVA 5%")
    carrier = make_product(company_a, taxes=[iva5])
    assert (
        owner_a.patch(f"/api/v1/taxes/{iva5.id}/", {"is_active": False}, format="json").status_code
        == 200
    )
    refused = owner_a.post(
        "/api/v1/products/",
        {"name": "Queso", "sku": "QSO-1", "price": "1000", "taxes": [str(iva5.id)]},
        format="json",
    )
    assert refused.status_code == 400 and "taxes" in refused.json()["error"]["fields"]
    with tenant_context(company_a):
        assert not Variant.objects.filter(sku="QSO-1").exists()
    # A product that already carries it may keep it when edited whole.
    edited = owner_a.patch(
        f"/api/v1/products/{carrier.id}/",
        {"name": "Otro nombre", "taxes": [str(iva5.id)]},
        format="json",
    )
    assert edited.status_code == 200, edited.json()


def test_category_tree_rules(owner_a, company_a):
    post = lambda **data: owner_a.post("/api/v1/categories/", data, format="json")
    bebidas = post(name="Bebidas").json()
    gaseosas = post(name="Gaseosas", parent=bebidas["id"]).json()
    assert gaseosas["parent"] == bebidas["id"]
    assert post(name="Gaseosas", parent=bebidas["id"]).status_code == 409
    assert post(name="Gaseosas").status_code == 201  # same name elsewhere in the tree
    assert post(name="bebidas").status_code == 409  # case-insensitive at the root
    cycle = owner_a.patch(
        f"/api/v1/categories/{bebidas['id']}/", {"parent": gaseosas["id"]}, format="json"
    )
    assert cycle.status_code == 400
    own = owner_a.patch(
        f"/api/v1/categories/{bebidas['id']}/", {"parent": bebidas["id"]}, format="json"
    )
    assert own.status_code == 400
    children = owner_a.get("/api/v1/categories/", {"parent": bebidas["id"]}).json()["results"]
    assert [c["name"] for c in children] == ["Gaseosas"]
    roots = owner_a.get("/api/v1/categories/", {"parent__isnull": "true"}).json()["results"]
    assert sorted(c["name"] for c in roots) == ["Bebidas", "Gaseosas"]
    has_children = owner_a.delete(f"/api/v1/categories/{bebidas['id']}/")
    assert has_children.status_code == 409
    assert owner_a.delete(f"/api/v1/categories/{gaseosas['id']}/").status_code == 204
    with tenant_context(company_a):
        assert Category.objects.filter(parent_id=bebidas["id"]).count() == 0


def test_brand_and_unit_crud(owner_a):
    brand = owner_a.post("/api/v1/brands/", {"name": "Postobón"}, format="json")
    assert brand.status_code == 201
    assert owner_a.post("/api/v1/brands/", {"name": "postobón"}, format="json").status_code == 409
    assert (
        owner_a.patch(
            f"/api/v1/brands/{brand.json()['id']}/", {"is_active": False}, format="json"
        ).json()["is_active"]
        is False
    )
    unit = owner_a.post(
        "/api/v1/units/", {"code": "DOC", "name": "Docena", "dian_code": "DZN"}, format="json"
    )
    assert unit.status_code == 201 and unit.json()["code"] == "doc"
    assert (
        owner_a.post("/api/v1/units/", {"code": "doc", "name": "x"}, format="json").status_code
        == 409
    )
    assert owner_a.delete(f"/api/v1/units/{unit.json()['id']}/").status_code == 204


def test_price_resolution(owner_a, company_a, make_product):
    product = make_product(company_a, price="10000")
    with tenant_context(company_a):
        variant = Variant.objects.get(product=product)
        general = PriceList.objects.get(is_default=True)
        assert variant_price(variant) == Decimal("10000")
        assert variant_price(variant, general) == Decimal("10000")
    mayorista = owner_a.post(
        "/api/v1/price-lists/", {"name": "Mayorista", "percentage": "12.5"}, format="json"
    ).json()
    fixed = owner_a.post(
        "/api/v1/price-lists/", {"name": "Especial", "kind": "fixed"}, format="json"
    ).json()
    item = owner_a.post(
        f"/api/v1/price-lists/{fixed['id']}/items",
        {"variant": str(variant.id), "price": "8123.456789"},
        format="json",
    )
    assert item.status_code == 201
    on_percentage = owner_a.post(
        f"/api/v1/price-lists/{mayorista['id']}/items",
        {"variant": str(variant.id), "price": "1"},
        format="json",
    )
    assert on_percentage.status_code == 409
    with tenant_context(company_a):
        assert variant_price(variant, PriceList.objects.get(pk=mayorista["id"])) == Decimal("8750")
        assert variant_price(variant, PriceList.objects.get(pk=fixed["id"])) == Decimal(
            "8123.456789"
        )
        other = Variant.objects.get(product=make_product(company_a, price="500"))
        assert variant_price(other, PriceList.objects.get(pk=fixed["id"])) == Decimal("500")
    listed = owner_a.get(f"/api/v1/price-lists/{fixed['id']}/items").json()["results"]
    assert [(i["sku"], i["price"]) for i in listed] == [(variant.sku, "8123.456789")]
    update = owner_a.post(
        f"/api/v1/price-lists/{fixed['id']}/items",
        {"variant": str(variant.id), "price": "9000"},
        format="json",
    )
    assert update.json()["price"] == "9000.000000"
    assert (
        owner_a.delete(f"/api/v1/price-lists/{fixed['id']}/items/{listed[0]['id']}").status_code
        == 204
    )
    with tenant_context(company_a):
        assert not PriceListItem.objects.exists()


def test_price_with_taxes():
    iva19 = Tax(rate=Decimal("19"))
    inc8 = Tax(rate=Decimal("8"))
    assert price_with_taxes(Decimal("4201.680672"), [iva19]) == Decimal("5000.00")
    assert price_with_taxes(Decimal("10000"), [iva19, inc8]) == Decimal("12700.00")
    assert price_with_taxes(Decimal("10000"), []) == Decimal("10000.00")


def test_the_shelf_price_is_what_the_till_charges_for_one_unit():
    """Back-calculated prices (6 places, from round shelf prices) are where one rounding of
    price × (1 + rate) and a document line's rounding part: they must agree on every one."""
    from ally360.documents import TaxRate, compute_line

    iva19, iva5 = (
        Tax(name="IVA 19%", kind="iva", rate=Decimal("19")),
        Tax(name="IVA 5%", kind="iva", rate=Decimal("5")),
    )
    inc8 = Tax(name="INC 8%", kind="inc", rate=Decimal("8"))
    for taxes in ([iva19], [iva5], [inc8], [iva19, inc8], []):
        factor = 1 + sum((tax.rate for tax in taxes), Decimal(0)) / 100
        for shelf in range(50, 20001, 50):
            price = (Decimal(shelf) / factor).quantize(Decimal("0.000001"))
            line = compute_line(
                quantity_=1, unit_price_=price, taxes=[TaxRate.of(t) for t in taxes]
            )
            assert price_with_taxes(price, taxes) == line.total, (shelf, taxes)


def test_the_default_price_list_rules(owner_a):
    general = owner_a.get("/api/v1/price-lists/").json()["results"][0]
    assert owner_a.delete(f"/api/v1/price-lists/{general['id']}/").status_code == 409
    assert (
        owner_a.patch(
            f"/api/v1/price-lists/{general['id']}/", {"is_default": False}, format="json"
        ).status_code
        == 409
    )
    vip = owner_a.post(
        "/api/v1/price-lists/",
        {"name": "VIP", "percentage": "5", "is_default": True},
        format="json",
    ).json()
    assert vip["is_default"] is True
    lists = {
        p["name"]: p["is_default"] for p in owner_a.get("/api/v1/price-lists/").json()["results"]
    }
    assert lists == {"General": False, "VIP": True}
    fixed_with_percentage = owner_a.post(
        "/api/v1/price-lists/", {"name": "Mal", "kind": "fixed", "percentage": "3"}, format="json"
    )
    assert fixed_with_percentage.status_code == 400


CATALOG_URLS = [
    "/api/v1/categories/",
    "/api/v1/brands/",
    "/api/v1/taxes/",
    "/api/v1/units/",
    "/api/v1/price-lists/",
]
CREATE_PAYLOADS = {
    "/api/v1/categories/": {"name": "Nueva"},
    "/api/v1/brands/": {"name": "Nueva"},
    "/api/v1/taxes/": {"name": "INC 16%", "kind": "inc", "rate": "16"},
    "/api/v1/units/": {"code": "par", "name": "Par"},
    "/api/v1/price-lists/": {"name": "Nueva", "percentage": "1"},
}


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("url", CATALOG_URLS)
def test_catalog_roles(company_a, client_as, owner_a, role, url):
    seed = {**CREATE_PAYLOADS[url], "name": "Semilla"} | (
        {"code": "seed"} if "code" in CREATE_PAYLOADS[url] else {}
    )
    target = owner_a.post(url, seed, format="json").json()
    client = client_as(company_a, role)
    allowed = role in MANAGERS
    listed = client.get(url)
    assert listed.status_code == 200
    created = client.post(url, CREATE_PAYLOADS[url], format="json")
    assert created.status_code == (201 if allowed else 403)
    patched = client.patch(f"{url}{target['id']}/", {}, format="json")
    assert patched.status_code == (200 if allowed else 403)
    if not allowed:
        assert client.delete(f"{url}{target['id']}/").status_code == 403
        assert client.get(url).json()["count"] == listed.json()["count"]


@pytest.mark.parametrize("url", CATALOG_URLS)
def test_another_companys_catalog_rows_are_not_found(owner_a, owner_b, url):
    theirs = owner_b.post(url, CREATE_PAYLOADS[url], format="json").json()
    assert owner_a.get(f"{url}{theirs['id']}/").status_code == 404
    assert (
        owner_a.patch(f"{url}{theirs['id']}/", {"name": "hack"}, format="json").status_code == 404
    )
    assert owner_a.delete(f"{url}{theirs['id']}/").status_code == 404
    assert owner_b.get(f"{url}{theirs['id']}/").status_code == 200


def test_another_companys_ids_in_catalog_payloads_are_refused(
    owner_a, owner_b, company_b, make_product
):
    parent_b = owner_b.post("/api/v1/categories/", {"name": "B"}, format="json").json()
    response = owner_a.post(
        "/api/v1/categories/", {"name": "Hija", "parent": parent_b["id"]}, format="json"
    )
    assert response.status_code == 400 and "parent" in response.json()["error"]["fields"]
    variant_b = make_product(company_b).variants
    with tenant_context(company_b):
        variant_b_id = str(variant_b.get().id)
    fixed = owner_a.post(
        "/api/v1/price-lists/", {"name": "F", "kind": "fixed"}, format="json"
    ).json()
    item = owner_a.post(
        f"/api/v1/price-lists/{fixed['id']}/items",
        {"variant": variant_b_id, "price": "1"},
        format="json",
    )
    assert item.status_code == 400 and "variant" in item.json()["error"]["fields"]
    list_b = owner_b.get("/api/v1/price-lists/").json()["results"][0]
    cross = owner_a.get(f"/api/v1/price-lists/{list_b['id']}/items")
    assert cross.status_code == 404


def test_a_cycle_stored_by_the_back_office_is_refused_not_walked_forever(owner_a, company_a):
    post = lambda **data: owner_a.post("/api/v1/categories/", data, format="json").json()  # noqa: E731
    a = post(name="A")
    b = post(name="B", parent=a["id"])
    c = post(name="C")
    with tenant_context(company_a):
        Category.objects.filter(pk=a["id"]).update(parent_id=b["id"])  # A ↔ B, as an edit could
    moved = owner_a.patch(f"/api/v1/categories/{c['id']}/", {"parent": a["id"]}, format="json")
    assert moved.status_code == 400
