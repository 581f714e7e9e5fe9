"""products/ and variants/: creation in one call, variants, stock and prices in the list,
search, the barcode fast path, filters, costs by role, query counts, roles and isolation."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ally360.roles import Role
from ally360.tenancy import tenant_context
from conftest import ALL_ROLES, error_code
from inventory.models import Stock, StockMovement
from pos.models import PDV
from products.models import PriceList, Product, Tax, Variant

pytestmark = pytest.mark.django_db

URL = "/api/v1/products/"


def tax_ids(company, *names):
    with tenant_context(company):
        return [str(Tax.objects.get(name=name).id) for name in names]


def test_a_simple_product_in_one_call(owner_a, company_a, main_pdv):
    pdv = main_pdv(company_a)
    response = owner_a.post(
        URL,
        {
            "name": "Gaseosa 400 ml",
            "sku": "GAS-400",
            "barcode": "7702004003508",
            "price": "2521.008403",
            "cost": "1500",
            "taxes": tax_ids(company_a, "IVA 19%"),
            "initial_stock": [{"pdv": str(pdv.id), "quantity": "24"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    product = response.json()
    assert product["unit"]["code"] == "unit"
    assert [t["name"] for t in product["taxes"]] == ["IVA 19%"]
    (variant,) = product["variants"]
    assert variant["is_default"] is True and variant["options"] == {}
    assert variant["sale_price"] == "2521.008403"
    assert variant["sale_price_with_tax"] == "3000.00"
    assert variant["stock"][0]["quantity"] == "24.000"
    assert variant["stock"][0]["average_cost"] == "1500.000000"
    assert variant["stock_total"] == "24.000"
    with tenant_context(company_a):
        movement = StockMovement.objects.get()
        assert (movement.kind, movement.quantity, movement.balance_after) == ("initial", 24, 24)


def test_a_product_with_variants(owner_a, company_a, main_pdv):
    pdv = main_pdv(company_a)
    response = owner_a.post(
        URL,
        {
            "name": "Camiseta",
            "variants": [
                {
                    "sku": "CAM-S-R",
                    "options": {"talla": "S", "color": "rojo"},
                    "price": "30000",
                    "initial_stock": [{"pdv": str(pdv.id), "quantity": "3", "unit_cost": "12000"}],
                },
                {"sku": "CAM-M-R", "options": {"talla": "M", "color": "rojo"}, "price": "32000"},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    variants = {v["sku"]: v for v in response.json()["variants"]}
    assert variants["CAM-S-R"]["stock_total"] == "3.000"
    assert variants["CAM-M-R"]["stock"] == []
    same_options = owner_a.post(
        URL,
        {
            "name": "X",
            "variants": [
                {"sku": "A1", "options": {"talla": "S"}, "price": "1"},
                {"sku": "A2", "options": {"talla": "s"}, "price": "1"},
            ],
        },
        format="json",
    )
    assert same_options.status_code == 400
    no_options = owner_a.post(
        URL,
        {"name": "X", "variants": [{"sku": "A1", "price": "1"}, {"sku": "A2", "price": "1"}]},
        format="json",
    )
    assert no_options.status_code == 400
    extra = owner_a.post(
        "/api/v1/variants/",
        {
            "product": response.json()["id"],
            "sku": "CAM-L-R",
            "options": {"talla": "L", "color": "rojo"},
            "price": "34000",
            "initial_stock": [{"pdv": str(pdv.id), "quantity": "2"}],
        },
        format="json",
    )
    assert extra.status_code == 201 and extra.json()["stock_total"] == "2.000"
    clash = owner_a.post(
        "/api/v1/variants/",
        {
            "product": response.json()["id"],
            "sku": "CAM-S-R2",
            "options": {"color": "rojo", "talla": "S"},
            "price": "1",
        },
        format="json",
    )
    assert clash.status_code == 400
    # Editing options follows the same rules as creating them.
    medium = variants["CAM-M-R"]["id"]
    for options in ({"talla": "s", "color": "Rojo"}, {}):
        edited = owner_a.patch(f"/api/v1/variants/{medium}/", {"options": options}, format="json")
        assert edited.status_code == 400, options
    renamed = owner_a.patch(
        f"/api/v1/variants/{medium}/", {"options": {"talla": "XL", "color": "rojo"}}, format="json"
    )
    assert renamed.status_code == 200 and renamed.json()["options"]["talla"] == "XL"


def test_simple_product_needs_sku_and_price_and_one_tax_per_kind(owner_a, company_a):
    missing = owner_a.post(URL, {"name": "Sin precio", "sku": "X1"}, format="json")
    assert missing.status_code == 400 and "price" in missing.json()["error"]["fields"]
    two_iva = owner_a.post(
        URL,
        {
            "name": "Doble",
            "sku": "X2",
            "price": "1",
            "taxes": tax_ids(company_a, "IVA 19%", "IVA 5%"),
        },
        format="json",
    )
    assert two_iva.status_code == 400
    iva_and_inc = owner_a.post(
        URL,
        {
            "name": "Restaurante",
            "sku": "X3",
            "price": "1",
            "taxes": tax_ids(company_a, "IVA 19%", "INC 8%"),
        },
        format="json",
    )
    assert iva_and_inc.status_code == 201
    with tenant_context(company_a):
        assert Product.objects.count() == 1


def test_sku_and_barcode_are_unique_per_company(owner_a, owner_b):
    first = {"name": "A", "sku": "SKU-1", "barcode": "770123", "price": "1"}
    assert owner_a.post(URL, first, format="json").status_code == 201
    sku = owner_a.post(URL, {**first, "barcode": "999"}, format="json")
    assert sku.status_code == 409 and "sku" in sku.json()["error"]["fields"]
    barcode = owner_a.post(URL, {**first, "sku": "SKU-2"}, format="json")
    assert barcode.status_code == 409 and "barcode" in barcode.json()["error"]["fields"]
    assert owner_b.post(URL, first, format="json").status_code == 201


def test_a_code_typed_at_the_till_names_one_product(owner_a):
    """The till tries barcodes, then SKUs: a SKU that is another product's barcode (or the
    reverse) would sell the other product. A variant's own barcode may be its SKU."""
    first = {"name": "A", "sku": "SKU-1", "barcode": "770123", "price": "1"}
    made = owner_a.post(URL, first, format="json")
    assert made.status_code == 201
    as_sku = owner_a.post(URL, {**first, "sku": "770123", "barcode": ""}, format="json")
    assert as_sku.status_code == 409 and "sku" in as_sku.json()["error"]["fields"]
    as_barcode = owner_a.post(URL, {**first, "sku": "SKU-2", "barcode": "sku-1"}, format="json")
    assert as_barcode.status_code == 409 and "barcode" in as_barcode.json()["error"]["fields"]
    own = {"name": "B", "sku": "880", "barcode": "880", "price": "1"}
    assert owner_a.post(URL, own, format="json").status_code == 201
    other = {"name": "C", "sku": "C-1", "barcode": "5550", "price": "1"}
    assert owner_a.post(URL, other, format="json").status_code == 201
    variant = f"/api/v1/variants/{made.json()['variants'][0]['id']}/"
    taken = owner_a.patch(variant, {"sku": "5550"}, format="json")
    assert taken.status_code == 409 and "sku" in taken.json()["error"]["fields"]
    taken = owner_a.patch(variant, {"barcode": "c-1"}, format="json")
    assert taken.status_code == 409 and "barcode" in taken.json()["error"]["fields"]
    assert owner_a.patch(variant, {"price": "2"}, format="json").status_code == 200


def test_a_service_takes_no_stock(owner_a, company_a, main_pdv):
    pdv = main_pdv(company_a)
    response = owner_a.post(
        URL,
        {
            "name": "Domicilio",
            "sku": "SRV-1",
            "price": "5000",
            "track_inventory": False,
            "initial_stock": [{"pdv": str(pdv.id), "quantity": "3"}],
        },
        format="json",
    )
    assert response.status_code == 400
    ok = owner_a.post(
        URL,
        {"name": "Domicilio", "sku": "SRV-1", "price": "5000", "track_inventory": False},
        format="json",
    )
    assert ok.status_code == 201


def test_search_by_name_sku_and_barcode(owner_a, company_a, make_product):
    make_product(company_a, name="Arroz Diana 500g", sku="ARZ-500", barcode="7702511000014")
    make_product(company_a, name="Aceite", sku="ACE-1")
    names = lambda **q: [p["name"] for p in owner_a.get(URL, q).json()["results"]]
    assert names(search="diana") == ["Arroz Diana 500g"]
    assert names(search="ACE-1") == ["Aceite"]
    assert names(search="7702511000014") == ["Arroz Diana 500g"]


def test_barcode_exact_lookup(owner_a, company_a, make_product):
    make_product(company_a, name="Leche", sku="LEC-1", barcode="7702001000019", stock={None: 6})
    make_product(company_a, name="Leche deslactosada", sku="LEC-2", barcode="77020010000191")
    found = owner_a.get("/api/v1/variants/", {"barcode": "7702001000019"}).json()["results"]
    assert [(v["sku"], v["product_name"], v["stock_total"]) for v in found] == [
        ("LEC-1", "Leche", "6.000")
    ]
    assert owner_a.get("/api/v1/variants/", {"barcode": "770200100001"}).json()["count"] == 0


def test_filters_category_brand_active_and_low_stock(owner_a, company_a, make_product, main_pdv):
    category = owner_a.post("/api/v1/categories/", {"name": "Aseo"}, format="json").json()
    brand = owner_a.post("/api/v1/brands/", {"name": "Fab"}, format="json").json()
    with tenant_context(company_a):
        from products.models import Brand, Category

        cat, br = Category.objects.get(pk=category["id"]), Brand.objects.get(pk=brand["id"])
    low = make_product(company_a, name="Jabón", category=cat, brand=br, stock={None: 2})
    make_product(company_a, name="Cloro", category=cat, stock={None: 50})
    make_product(company_a, name="Viejo", is_active=False)
    with tenant_context(company_a):
        Stock.objects.filter(variant__product=low).update(min_quantity=5)
    names = lambda **q: sorted(p["name"] for p in owner_a.get(URL, q).json()["results"])
    assert names(category=category["id"]) == ["Cloro", "Jabón"]
    # A category takes in its subcategories, level by level.
    pisos = owner_a.post(
        "/api/v1/categories/", {"name": "Pisos", "parent": category["id"]}, format="json"
    ).json()
    madera = owner_a.post(
        "/api/v1/categories/", {"name": "Madera", "parent": pisos["id"]}, format="json"
    ).json()
    with tenant_context(company_a):
        make_product(company_a, name="Cera", category=Category.objects.get(pk=madera["id"]))
    assert names(category=category["id"]) == ["Cera", "Cloro", "Jabón"]
    assert names(category=pisos["id"]) == ["Cera"]
    assert names(brand=brand["id"]) == ["Jabón"]
    assert names(is_active="false") == ["Viejo"]
    assert names(low_stock="true") == ["Jabón"]
    assert names(low_stock="true", pdv=str(main_pdv(company_a).id)) == ["Jabón"]
    low_variants = owner_a.get("/api/v1/variants/", {"low_stock": "true"}).json()["results"]
    assert [v["product_name"] for v in low_variants] == ["Jabón"]


def test_sale_price_follows_the_requested_price_list(owner_a, company_a, make_product):
    make_product(company_a, name="Café", price="20000")
    vip = owner_a.post(
        "/api/v1/price-lists/", {"name": "VIP", "percentage": "10"}, format="json"
    ).json()
    variant = owner_a.get(URL, {"price_list": vip["id"]}).json()["results"][0]["variants"][0]
    assert (variant["price"], variant["sale_price"]) == ("20000.000000", "18000.000000")
    unknown = owner_a.get(URL, {"price_list": "00000000-0000-0000-0000-000000000000"})
    assert unknown.status_code == 400
    owner_a.patch(f"/api/v1/price-lists/{vip['id']}/", {"is_active": False}, format="json")
    inactive = owner_a.get(URL, {"price_list": vip["id"]})
    assert inactive.status_code == 400 and "price_list" in inactive.json()["error"]["fields"]


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
def test_costs_are_hidden_from_sellers_and_viewers(
    company_a, client_as, make_product, role, sees_costs
):
    make_product(company_a, stock={None: 3})
    client = client_as(company_a, role)
    variant = client.get(URL).json()["results"][0]["variants"][0]
    assert ("cost" in variant) is sees_costs
    assert ("average_cost" in variant["stock"][0]) is sees_costs
    stock_row = client.get("/api/v1/stock/").json()["results"][0]
    assert ("average_cost" in stock_row and "value" in stock_row) is sees_costs
    movement = client.get("/api/v1/stock-movements/").json()["results"][0]
    assert ("unit_cost" in movement) is sees_costs
    # Documents and the kardex carry costs too.
    owner = client_as(company_a, Role.OWNER)
    variant_id = variant["id"]
    norte = owner.post("/api/v1/pdvs/", {"name": "Norte", "code": "N1"}, format="json").json()
    main = owner.get("/api/v1/pdvs/", {"is_main": "true"}).json()["results"][0]
    owner.post(
        "/api/v1/adjustments/",
        {"pdv": main["id"], "reason": "count", "lines": [{"variant": variant_id, "delta": "1"}]},
        format="json",
    )
    owner.post(
        "/api/v1/transfers/",
        {
            "origin": main["id"],
            "destination": norte["id"],
            "lines": [{"variant": variant_id, "quantity": "1"}],
        },
        format="json",
    )
    adjustment = client.get("/api/v1/adjustments/").json()["results"][0]["lines"][0]
    transfer = client.get("/api/v1/transfers/").json()["results"][0]["lines"][0]
    kardex = client.get("/api/v1/kardex/", {"variant": variant_id}).json()["results"][0]
    assert ("unit_cost" in adjustment) is sees_costs
    assert ("unit_cost" in transfer) is sees_costs
    assert ("unit_cost" in kardex and "value_after" in kardex) is sees_costs


def test_product_list_query_count_does_not_grow_with_page_size(owner_a, company_a, make_product):
    second = owner_a.post("/api/v1/pdvs/", {"name": "Norte", "code": "N1"}, format="json").json()
    with tenant_context(company_a):
        norte = PDV.objects.get(pk=second["id"])
        iva = Tax.objects.get(name="IVA 19%")
    for index in range(25):
        make_product(company_a, name=f"P{index:02d}", taxes=[iva], stock={None: 5, norte: 2})
    fixed = owner_a.post(
        "/api/v1/price-lists/", {"name": "F", "kind": "fixed"}, format="json"
    ).json()

    def count(limit, **params):
        with CaptureQueriesContext(connection) as queries:
            response = owner_a.get(URL, {"limit": limit, **params})
        assert response.status_code == 200
        assert len(response.json()["results"]) == limit
        assert len(response.json()["results"][-1]["variants"][0]["stock"]) == 2
        return len(queries)

    assert count(5) == count(20)
    assert count(5, price_list=fixed["id"]) == count(20, price_list=fixed["id"])
    assert count(20) <= 12
    with CaptureQueriesContext(connection) as small:
        owner_a.get("/api/v1/variants/", {"limit": 3})
    with CaptureQueriesContext(connection) as large:
        owner_a.get("/api/v1/variants/", {"limit": 20})
    assert len(small) == len(large)


def test_updating_a_product_and_its_taxes(owner_a, company_a, make_product):
    product = make_product(company_a)
    response = owner_a.patch(
        f"{URL}{product.id}/",
        {"name": "Renombrado", "taxes": tax_ids(company_a, "IVA 5%")},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["name"] == "Renombrado"
    assert [t["name"] for t in response.json()["taxes"]] == ["IVA 5%"]


def test_tracking_cannot_be_switched_once_stock_moved(owner_a, company_a, make_product):
    product = make_product(company_a, stock={None: 1})
    response = owner_a.patch(f"{URL}{product.id}/", {"track_inventory": False}, format="json")
    assert response.status_code == 409


def test_a_product_with_stock_is_deactivated_not_deleted(owner_a, company_a, make_product):
    stocked = make_product(company_a, stock={None: 1})
    blank = make_product(company_a)
    assert error_code(owner_a.delete(f"{URL}{stocked.id}/")) == "in_use"
    assert owner_a.delete(f"{URL}{blank.id}/").status_code == 204
    with tenant_context(company_a):
        assert list(Product.objects.values_list("pk", flat=True)) == [stocked.pk]
        default = Variant.objects.get(product=stocked)
    assert owner_a.delete(f"/api/v1/variants/{default.id}/").status_code == 409


@pytest.mark.parametrize("role", ALL_ROLES)
def test_product_and_variant_roles(company_a, client_as, make_product, role):
    product = make_product(company_a)
    with tenant_context(company_a):
        variant = Variant.objects.get(product=product)
    client = client_as(company_a, role)
    allowed = role in {Role.OWNER, Role.ADMIN}
    assert client.get(URL).status_code == 200
    assert client.get(f"/api/v1/variants/{variant.id}/").status_code == 200
    created = client.post(URL, {"name": "Nuevo", "sku": "NEW-1", "price": "1"}, format="json")
    assert created.status_code == (201 if allowed else 403)
    assert client.patch(f"{URL}{product.id}/", {"name": "X"}, format="json").status_code == (
        200 if allowed else 403
    )
    assert client.patch(
        f"/api/v1/variants/{variant.id}/", {"price": "2"}, format="json"
    ).status_code == (200 if allowed else 403)
    with tenant_context(company_a):
        assert Product.objects.filter(name="Nuevo").exists() is allowed


def test_another_companys_products_and_variants(owner_a, company_a, company_b, make_product):
    theirs = make_product(company_b, stock={None: 4})
    with tenant_context(company_b):
        variant_b = Variant.objects.get(product=theirs)
        pdv_b = PDV.objects.get(is_main=True)
        category_b_tax = Tax.objects.first()
    for url in (f"{URL}{theirs.id}/", f"/api/v1/variants/{variant_b.id}/"):
        assert owner_a.get(url).status_code == 404
        assert owner_a.patch(url, {"name": "x", "price": "1"}, format="json").status_code == 404
        assert owner_a.delete(url).status_code == 404
    assert owner_a.get(URL).json()["count"] == 0
    assert (
        owner_a.get(
            "/api/v1/variants/", {"barcode": variant_b.barcode or "x", "search": variant_b.sku}
        ).json()["count"]
        == 0
    )
    refused = [
        owner_a.post(
            URL,
            {
                "name": "X",
                "sku": "S",
                "price": "1",
                "initial_stock": [{"pdv": str(pdv_b.id), "quantity": "1"}],
            },
            format="json",
        ),
        owner_a.post(
            URL,
            {"name": "X", "sku": "S", "price": "1", "taxes": [str(category_b_tax.id)]},
            format="json",
        ),
        owner_a.post(
            "/api/v1/variants/",
            {"product": str(theirs.id), "sku": "S", "options": {"a": "b"}, "price": "1"},
            format="json",
        ),
    ]
    assert [r.status_code for r in refused] == [400, 400, 400]
    with tenant_context(company_a):
        assert not Product.objects.exists() and not Stock.objects.exists()
    with tenant_context(company_b):
        assert Stock.objects.get(variant=variant_b).quantity == 4


def _every_shape_of_product(company, client_as, make_product, capture_on_commit) -> dict:
    """A catalog with category and brand or none, taxes of both kinds or none, variants with stock
    at two points of sale or none, a service, a main image with and without its thumbnail, and a
    fixed price list pricing one variant. Returns the price list."""
    from files.tests.test_uses import uploaded
    from products.models import Brand, Category

    owner = client_as(company, Role.OWNER)
    norte = owner.post("/api/v1/pdvs/", {"name": "Norte", "code": "N1"}, format="json").json()
    category = owner.post("/api/v1/categories/", {"name": "Bebidas"}, format="json").json()
    brand = owner.post("/api/v1/brands/", {"name": "Postobón"}, format="json").json()
    with tenant_context(company):
        norte_pdv = PDV.objects.get(pk=norte["id"])
        taxes = list(Tax.objects.filter(name__in=["IVA 19%", "INC 8%"]))
        bebidas, postobon = (
            Category.objects.get(pk=category["id"]),
            Brand.objects.get(pk=brand["id"]),
        )
    simple = make_product(
        company,
        name="Gaseosa",
        barcode="7702004003508",
        price="2521.008403",
        category=bebidas,
        brand=postobon,
        taxes=taxes,
        stock={None: "24", norte_pdv: "3"},
    )
    make_product(company, name="Servicio técnico", track_inventory=False)
    shirt = owner.post(
        URL,
        {
            "name": "Camiseta",
            "variants": [
                {"sku": "CAM-S", "options": {"talla": "S"}, "price": "30000", "cost": "12000"},
                {"sku": "CAM-M", "options": {"talla": "M"}, "price": "32000"},
            ],
        },
        format="json",
    ).json()
    images = "/api/v1/products/{}/images"
    with capture_on_commit(execute=True):  # the thumbnail is made
        made = owner.post(images.format(simple.id), {"file": uploaded(owner)}, format="json")
    pending = owner.post(images.format(shirt["id"]), {"file": uploaded(owner)}, format="json")
    assert made.status_code == pending.status_code == 201
    price_list = owner.post(
        "/api/v1/price-lists/", {"name": "Mayoristas", "kind": "fixed"}, format="json"
    ).json()
    item = {"variant": shirt["variants"][0]["id"], "price": "25000"}
    items = f"/api/v1/price-lists/{price_list['id']}/items"
    assert owner.post(items, item, format="json").status_code == 201
    return price_list


def _as_json(data):
    import json

    from rest_framework.renderers import JSONRenderer

    return json.loads(JSONRenderer().render(data))


def _context(role, variants, price_list) -> dict:
    from products.selectors import variant_prices

    return {
        "show_costs": role == Role.OWNER,
        "base_url": "http://testserver/",
        "prices": variant_prices(variants, PriceList.objects.get(pk=price_list["id"])),
    }


@pytest.mark.parametrize("role", [Role.OWNER, Role.SELLER])
def test_the_product_list_answers_what_the_product_serializer_renders(
    company_a, client_as, make_product, role, django_capture_on_commit_callbacks
):
    """The list is rendered from rows (ProductRowsRenderer): every shape of product must come out
    exactly as ProductSerializer renders the catalog's model instances, on a price list, with and
    without costs."""
    from files.tests.test_uses import fetch
    from inventory import selectors
    from inventory.api import ProductSerializer

    price_list = _every_shape_of_product(
        company_a, client_as, make_product, django_capture_on_commit_callbacks
    )
    listed = client_as(company_a, role).get(URL, {"price_list": price_list["id"]}).json()
    listed = listed["results"]
    with tenant_context(company_a):
        products = list(selectors.product_catalog().order_by("name"))
        variants = [v for product in products for v in product.variant_list]
        context = _context(role, variants, price_list)
        expected = _as_json(ProductSerializer(products, many=True, context=context).data)
    # Signed URLs differ per signing: compare what they serve.
    shown = [fetch(p.pop("image")) if p["image"] else None for p in listed]
    assert shown == [fetch(p.pop("image")) if p["image"] else None for p in expected]
    assert shown[0] is not None and shown[1] is not None  # Camiseta (its image), Gaseosa (thumb)
    assert listed == expected
    by_sku = {v["sku"]: v for p in listed for v in p["variants"]}
    assert by_sku["CAM-S"]["sale_price"] == "25000.000000"
    assert ("cost" in by_sku["CAM-S"]) is (role == Role.OWNER)
    gaseosa = next(p for p in listed if p["name"] == "Gaseosa")
    assert len(gaseosa["variants"][0]["stock"]) == 2 and len(gaseosa["taxes"]) == 2
    assert gaseosa["category"]["name"] == "Bebidas" and gaseosa["brand"]["name"] == "Postobón"


@pytest.mark.parametrize("role", [Role.OWNER, Role.SELLER])
def test_the_variant_list_and_barcode_lookup_answer_what_the_variant_serializer_renders(
    company_a, client_as, make_product, role, django_capture_on_commit_callbacks
):
    """variants/ is rendered from rows too (CatalogRowsRenderer), barcode lookup included."""
    from inventory import selectors
    from inventory.api import VariantDetailSerializer
    from products.selectors import default_price_list, variant_prices

    price_list = _every_shape_of_product(
        company_a, client_as, make_product, django_capture_on_commit_callbacks
    )
    client = client_as(company_a, role)
    listed = client.get("/api/v1/variants/", {"price_list": price_list["id"]}).json()["results"]
    scanned = client.get("/api/v1/variants/", {"barcode": "7702004003508"}).json()["results"]
    with tenant_context(company_a):
        variants = list(selectors.variant_catalog().order_by("sku"))
        context = _context(role, variants, price_list)
        expected = _as_json(VariantDetailSerializer(variants, many=True, context=context).data)
        default = {**context, "prices": variant_prices(variants, default_price_list())}
        expected_default = _as_json(
            VariantDetailSerializer(variants, many=True, context=default).data
        )
    assert len(listed) == 4 and listed == expected
    assert {v["sku"]: v["sale_price"] for v in listed}["CAM-S"] == "25000.000000"
    (gaseosa,) = scanned
    assert gaseosa == next(v for v in expected_default if v["barcode"] == "7702004003508")
    assert gaseosa["unit"] == "unit" and len(gaseosa["taxes"]) == 2 and len(gaseosa["stock"]) == 2
