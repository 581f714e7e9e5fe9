"""The catalog lists' page cache (`inventory.catalog_cache`): a page is served again only while
no catalog write has committed, whoever made the write and however, and never to another role
or company."""

import re
import threading

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from ally360.roles import Role
from ally360.tenancy import cross_tenant, tenant_context
from conftest import start_thread
from files.tests.test_uses import uploaded
from inventory import catalog_cache
from inventory.api import PricedListMixin
from products.models import Brand, Category, Product, Variant

pytestmark = pytest.mark.django_db

URL = "/api/v1/products/"
TABLE = re.compile(r'(?:FROM|JOIN)\s+"(\w+)"')


def tables_read(queries) -> set[str]:
    return {table for query in queries for table in TABLE.findall(query["sql"])}


def stock_shown(client, sku: str) -> str:
    for product in client.get(URL, {"search": sku}).json()["results"]:
        for variant in product["variants"]:
            if variant["sku"] == sku:
                return variant["stock_total"]
    raise AssertionError(f"{sku} is not on the page")


def test_every_table_a_catalog_list_reads_is_watched(
    owner_a, company_a, make_product, main_pdv, monkeypatch
):
    """What invalidates a page is a write to a table it was read from: every shape of both lists
    (filters, search, a fixed price list, images) reads only watched tables."""
    with tenant_context(company_a):
        category = Category.objects.create(name="Aseo")
        brand = Brand.objects.create(name="Marca")
    product = make_product(company_a, category=category, brand=brand, stock={None: 3})
    with tenant_context(company_a):
        variant = Variant.objects.get(product=product)
        variant.barcode = "7700000000017"
        variant.save()
    owner_a.post(
        f"/api/v1/products/{product.id}/images", {"file": uploaded(owner_a)}, format="json"
    )
    fixed = owner_a.post(
        "/api/v1/price-lists/", {"name": "Mayoristas", "kind": "fixed"}, format="json"
    ).json()
    owner_a.post(
        f"/api/v1/price-lists/{fixed['id']}/items/",
        {"variant": str(variant.id), "price": "900"},
        format="json",
    )
    captured = []
    list_page = PricedListMixin.list_page

    def capturing(view):
        with CaptureQueriesContext(connection) as queries:
            page = list_page(view)
        captured.extend(queries.captured_queries)
        return page

    monkeypatch.setattr(PricedListMixin, "list_page", capturing)
    shapes = [
        (URL, {}),
        (URL, {"category": str(category.id), "brand": str(brand.id), "is_active": "true"}),
        (URL, {"low_stock": "true", "pdv": str(main_pdv(company_a).id)}),
        (URL, {"low_stock": "false"}),
        (URL, {"search": "7700000000017", "ordering": "-created_at"}),
        (URL, {"price_list": fixed["id"]}),
        ("/api/v1/variants/", {}),
        ("/api/v1/variants/", {"barcode": "7700000000017", "price_list": fixed["id"]}),
        ("/api/v1/variants/", {"search": "SKU"}),
    ]
    for url, params in shapes:
        response = owner_a.get(url, params)
        assert response.status_code == 200, (url, params, response.json())
    read = tables_read(captured)
    assert {"products_productimage", "files_fileobject", "products_pricelistitem"} <= read
    assert read <= catalog_cache.catalog_tables(), read - catalog_cache.catalog_tables()


def test_a_repeated_page_reads_no_catalog_table(owner_a, company_a, make_product):
    for n in range(3):
        make_product(company_a, stock={None: n + 1})
    first = owner_a.get(URL, {"limit": 2})
    with CaptureQueriesContext(connection) as queries:
        again = owner_a.get(URL, {"limit": 2})
    assert again.json() == first.json()
    assert not tables_read(queries.captured_queries) & catalog_cache.catalog_tables()
    # Another URL is another page.
    with CaptureQueriesContext(connection) as queries:
        other = owner_a.get(URL, {"limit": 2, "offset": 2})
    assert len(other.json()["results"]) == 1
    assert "products_product" in tables_read(queries.captured_queries)


def test_a_page_of_more_rows_than_the_cache_keeps_is_read_every_time(owner_a, company_a):
    big = catalog_cache.MAX_PAGE_ROWS + 1
    owner_a.get(URL, {"limit": big})
    with CaptureQueriesContext(connection) as queries:
        assert owner_a.get(URL, {"limit": big}).status_code == 200
    assert "products_product" in tables_read(queries.captured_queries)


def test_roles_and_companies_never_share_a_page(
    company_a, company_b, client_as, owner_a, owner_b, make_product
):
    make_product(company_a, name="Arroz", cost="600", stock={None: 4})
    make_product(company_b, name="Frijol", cost="800", stock={None: 5})
    seller_a = client_as(company_a, Role.SELLER)
    owned = owner_a.get(URL).json()["results"][0]["variants"][0]
    sold = seller_a.get(URL).json()["results"][0]["variants"][0]
    assert owned["cost"] == "600.000000" and "cost" not in sold
    assert [p["name"] for p in owner_b.get(URL).json()["results"]] == ["Frijol"]
    assert [p["name"] for p in owner_a.get(URL).json()["results"]] == ["Arroz"]
    assert "cost" not in seller_a.get(URL).json()["results"][0]["variants"][0]


def test_every_write_through_the_api_shows_on_the_next_page(owner_a, company_a, make_product):
    """In one test transaction nothing commits: the generation renewed at the write itself is
    what a later read of the same transaction needs."""
    product = make_product(company_a, name="Arroz", price="1000", stock={None: 4})
    variant = owner_a.get(URL).json()["results"][0]["variants"][0]
    owner_a.patch(f"/api/v1/variants/{variant['id']}/", {"price": "1500"}, format="json")
    assert owner_a.get(URL).json()["results"][0]["variants"][0]["sale_price"] == "1500.000000"
    owner_a.patch(f"/api/v1/products/{product.id}/", {"name": "Arroz Diana"}, format="json")
    assert owner_a.get(URL).json()["results"][0]["name"] == "Arroz Diana"
    salt = make_product(company_a, name="Sal")  # never moved: it may be deleted
    assert [p["name"] for p in owner_a.get(URL).json()["results"]] == ["Arroz Diana", "Sal"]
    assert owner_a.delete(f"/api/v1/products/{salt.id}/").status_code == 204
    assert [p["name"] for p in owner_a.get(URL).json()["results"]] == ["Arroz Diana"]


def test_a_back_office_write_renews_every_company(owner_a, company_a, make_product):
    product = make_product(company_a, name="Arroz")
    assert owner_a.get(URL).json()["results"][0]["name"] == "Arroz"
    with cross_tenant(), transaction.atomic():  # as the operator's back-office writes
        Product.all_tenants.filter(pk=product.pk).update(name="Arroz Roa")
    assert owner_a.get(URL).json()["results"][0]["name"] == "Arroz Roa"


def test_an_evicted_generation_is_never_read_as_unchanged(owner_a, company_a, make_product):
    make_product(company_a, name="Arroz")
    owner_a.get(URL)
    cache.delete(f"catalog-generation:{company_a.id}")  # Redis restarted or evicted it
    with CaptureQueriesContext(connection) as queries:
        owner_a.get(URL)
    assert "products_product" in tables_read(queries.captured_queries)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_page_read_while_a_write_commits_is_not_served_after_it(owner_a, company_a, make_product):
    """The write renews the generation at once; a page read before its commit still holds the
    old rows under that new generation, so the commit renews it again."""
    product = make_product(company_a, name="Arroz", price="1000")
    written, go_on = threading.Event(), threading.Event()

    def reprice():
        with tenant_context(company_a), transaction.atomic():
            Variant.objects.filter(product=product).update(price=1500)
            written.set()
            assert go_on.wait(10)

    box = {}
    thread = start_thread(reprice, box, "write")
    assert written.wait(10)
    before = owner_a.get(URL).json()["results"][0]["variants"][0]["sale_price"]
    go_on.set()
    thread.join(10)
    assert "write" not in box or box["write"] is None, box
    after = owner_a.get(URL).json()["results"][0]["variants"][0]["sale_price"]
    assert (before, after) == ("1000.000000", "1500.000000")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_sale_committed_at_the_counter_shows_in_the_stock(shop_a, seller_a, owner_a):
    sku = "FV-iva19"
    assert stock_shown(owner_a, sku) == "100.000"
    shift = seller_a.post(
        "/api/v1/shifts/",
        {"register": str(shop_a.register.id), "opening_cash": "0"},
        format="json",
    )
    assert shift.status_code == 201, shift.json()
    sale = seller_a.post(
        "/api/v1/pos/sales/",
        {
            "lines": [{"variant": shop_a.v("iva19"), "quantity": "3"}],
            "tenders": [{"method": "cash", "amount": "40000"}],
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="cache-sale-1",
    )
    assert sale.status_code == 201, sale.json()
    assert stock_shown(owner_a, sku) == "97.000"
