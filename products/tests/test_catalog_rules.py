"""Catalog rules under unusual input and races: defaults, options, taxes, price lists."""

import pytest

from ally360.tenancy import tenant_context
from conftest import start_thread
from products.models import PriceList, Product, Tax, Variant

pytestmark = pytest.mark.django_db


def test_a_new_list_cannot_be_made_the_default_and_inactive_at_once(owner_a, company_a):
    """Update answers 409 default_price_list for {"is_default": true, "is_active": false}; create
    must not silently turn the same contradictory input into an active default."""
    response = owner_a.post(
        "/api/v1/price-lists/",
        {"name": "Cerrada", "percentage": "5", "is_default": True, "is_active": False},
        format="json",
    )
    assert response.status_code == 409, response.json()
    with tenant_context(company_a):
        assert PriceList.objects.get(is_default=True).name == "General"
        assert not PriceList.objects.filter(name="Cerrada").exists()


def test_options_differing_only_by_key_case_or_spaces_are_the_same_options(owner_a, company_a):
    """Option names are trimmed like their values and compared without case: {"talla": "S"} and
    {"Talla ": "S"} are the same options (they made two variants shown alike)."""
    response = owner_a.post(
        "/api/v1/products/",
        {
            "name": "Camiseta",
            "variants": [
                {"sku": "CAM-S1", "options": {"talla": "S"}, "price": "1"},
                {"sku": "CAM-S2", "options": {"Talla ": "S"}, "price": "1"},
            ],
        },
        format="json",
    )
    assert response.status_code == 400, response.json()
    with tenant_context(company_a):
        assert not Product.objects.exists()


def test_a_blank_option_name_is_refused(owner_a, company_a):
    response = owner_a.post(
        "/api/v1/products/",
        {
            "name": "Camiseta",
            "variants": [
                {"sku": "CAM-1", "options": {"": "S"}, "price": "1"},
                {"sku": "CAM-2", "options": {" ": "M"}, "price": "1"},
            ],
        },
        format="json",
    )
    assert response.status_code == 400, response.json()


def test_a_simple_product_gets_a_second_variant_once_its_own_has_options(
    owner_a, company_a, make_product
):
    """Several variants are told apart by their options: a second variant beside a simple
    product's option-less one is a 400 naming `options`; once the existing variant has its
    options, the second one joins it, and both stay editable as they are."""
    product = make_product(company_a, sku="SIMPLE-1")
    with tenant_context(company_a):
        default = Variant.objects.get(product=product)
    second = {
        "product": str(product.id),
        "sku": "SIMPLE-1-L",
        "options": {"talla": "L"},
        "price": "5",
    }
    refused = owner_a.post("/api/v1/variants/", second, format="json")
    assert refused.status_code == 400 and "options" in refused.json()["error"]["fields"]
    own = {
        "sku": "SIMPLE-1",
        "barcode": "",
        "options": {"talla": "M"},
        "price": "1000",
        "cost": "600",
        "is_active": True,
    }
    assert owner_a.put(f"/api/v1/variants/{default.id}/", own, format="json").status_code == 200
    added = owner_a.post("/api/v1/variants/", second, format="json")
    assert added.status_code == 201, added.json()
    again = owner_a.put(f"/api/v1/variants/{default.id}/", own, format="json")
    assert again.status_code == 200, again.json()
    with tenant_context(company_a):
        assert sorted(v.options["talla"] for v in Variant.objects.filter(product=product)) == [
            "L",
            "M",
        ]


def test_a_tax_code_contradicting_its_kind_is_refused(owner_a, company_a):
    """dian_code is what documents snapshot for the DIAN (01 IVA, 04 INC): an IVA filed under the
    INC code (or any free text) must not be accepted silently."""
    response = owner_a.post(
        "/api/v1/taxes/",
        {"name": "IVA raro", "kind": "iva", "rate": "19", "dian_code": "04"},
        format="json",
    )
    assert response.status_code == 400, response.json()
    with tenant_context(company_a):
        assert not Tax.objects.filter(name="IVA raro").exists()


# --- races (real threads on PostgreSQL) ------------------------------------------------------

import threading  # noqa: E402
import time  # noqa: E402

from django.db import transaction  # noqa: E402


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_deleting_a_list_while_it_is_made_the_default_leaves_a_default(company_a):
    from products import services

    with tenant_context(company_a):
        vip = services.price_list_create(name="VIP", percentage=5)
    made_default, box = threading.Event(), {}

    def make_default():
        with tenant_context(company_a), transaction.atomic():
            services.price_list_update(
                price_list=PriceList.objects.get(pk=vip.pk), data={"is_default": True}
            )
            made_default.set()
            time.sleep(1.0)  # the delete below reads the list meanwhile, then waits on its row
        return "default"

    def delete():
        made_default.wait(10)
        with tenant_context(company_a), transaction.atomic():
            # The API's get_object ran before the switch committed: the list it holds is not
            # the default yet.
            services.price_list_delete(price_list=vip)
        return "deleted"

    first = start_thread(make_default, box, "default")
    with tenant_context(company_a):
        stale = PriceList.objects.get(pk=vip.pk)
    vip = stale
    second = start_thread(delete, box, "delete")
    first.join(30)
    second.join(30)
    with tenant_context(company_a):
        defaults = list(PriceList.objects.filter(is_default=True).values_list("name", flat=True))
    assert defaults, f"no default price list left: {box}"


@pytest.mark.parametrize("field, path", [("category", "categories"), ("brand", "brands")])
def test_an_inactive_category_or_brand_is_not_given_anew_but_is_kept(
    owner_a, company_a, field, path
):
    """Switched off means "no new products under it": a new product or a product moved to it is
    refused (400 `inactive`, nothing written); a product that has it keeps it on its edits."""
    made = owner_a.post(f"/api/v1/{path}/", {"name": "Temporada"}, format="json")
    assert made.status_code == 201, made.json()
    old = owner_a.post(
        "/api/v1/products/",
        {"name": "Gorro", "sku": "GOR-1", "price": "1000", field: made.json()["id"]},
        format="json",
    )
    assert old.status_code == 201, old.json()
    other = owner_a.post(
        "/api/v1/products/", {"name": "Bufanda", "sku": "BUF-1", "price": "1000"}, format="json"
    )
    switched = owner_a.patch(
        f"/api/v1/{path}/{made.json()['id']}/", {"is_active": False}, format="json"
    )
    assert switched.status_code == 200, switched.json()

    new = owner_a.post(
        "/api/v1/products/",
        {"name": "Guantes", "sku": "GUA-1", "price": "1000", field: made.json()["id"]},
        format="json",
    )
    assert new.status_code == 400, new.json()
    error = new.json()["error"]
    assert error["code"] == "inactive" and field in error["fields"]
    moved = owner_a.patch(
        f"/api/v1/products/{other.json()['id']}/", {field: made.json()["id"]}, format="json"
    )
    assert moved.status_code == 400, moved.json()
    kept = owner_a.patch(
        f"/api/v1/products/{old.json()['id']}/",
        {"name": "Gorro de lana", field: made.json()["id"]},
        format="json",
    )
    assert kept.status_code == 200, kept.json()
    with tenant_context(company_a):
        assert not Product.objects.filter(name="Guantes").exists()
        assert getattr(Product.objects.get(name="Bufanda"), f"{field}_id") is None
