"""The catalog lists' page cache (`inventory.catalog_cache`): a page is served again only while
no catalog write has committed, whoever made the write and however, and never to another role
or company; what it keeps is bounded; stock is read on every answer, so a sale renews no page.

Writes made in a test's own transaction never commit, and a transaction that wrote catalog rows
reads its pages from the database: tests that must see a page served from the cache commit
their writes (`transaction=True`)."""

import re
import threading
from decimal import Decimal

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
from inventory.models import Stock
from products.models import Brand, Category, Product, Variant

pytestmark = pytest.mark.django_db

URL = "/api/v1/products/"
# Quoted (the ORM's) or not (hand-written statements).
TABLE = re.compile(r'(?:FROM|JOIN)\s+"?(\w+)"?', re.IGNORECASE)
committed = pytest.mark.django_db(transaction=True)


def tables_read(queries) -> set[str]:
    return {table for query in queries for table in TABLE.findall(query["sql"])}


def reads_catalog(client, url=URL, params=None) -> bool:
    """Whether answering the request read a catalog table (a page not served from the cache)."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params or {}).status_code == 200
    return bool(tables_read(queries.captured_queries) & catalog_cache.catalog_tables())


def first_name(client) -> str:
    return client.get(URL).json()["results"][0]["name"]


def stock_shown(client, sku: str) -> str:
    for product in client.get(URL, {"search": sku}).json()["results"]:
        for variant in product["variants"]:
            if variant["sku"] == sku:
                return variant["stock_total"]
    raise AssertionError(f"{sku} is not on the page")


@pytest.fixture
def renewals(monkeypatch):
    """The scopes renewed, in order (the real renewal still runs)."""
    calls = []
    renew = catalog_cache._renew
    monkeypatch.setattr(catalog_cache, "_renew", lambda scope: (calls.append(scope), renew(scope)))
    return calls


# --- what invalidates a page ---------------------------------------------------------------------


def test_every_table_a_catalog_list_reads_is_watched(
    owner_a, company_a, make_product, main_pdv, monkeypatch
):
    """What invalidates a page is a write to a table it was read from: every shape of both lists
    that may be kept (filters, search, a fixed price list, images) reads only watched tables.
    Stock is read on every answer, and pages filtered on it are never kept (below)."""
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
        if view._page_may_be_kept(view.request):
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
    assert "inventory_stock" not in read  # the shapes filtered on stock were not captured


@committed
@pytest.mark.parametrize(
    "url",
    [
        URL + "?low_stock=true",
        URL + "?low_stock=true&pdv={pdv}",
        "/api/v1/variants/?low_stock=true",
    ],
)
def test_a_page_filtered_on_stock_is_never_kept(url, owner_a, company_a, make_product, main_pdv):
    """Which rows it holds changes with every sale, which renews no page."""
    product = make_product(company_a, name="Arroz", stock={None: 10})
    with tenant_context(company_a):
        stock = Stock.objects.get(variant__product=product)
    owner_a.patch(f"/api/v1/stock/{stock.id}/", {"min_quantity": "5"}, format="json")
    url = url.format(pdv=main_pdv(company_a).id)
    assert owner_a.get(url).json()["count"] == 0
    assert reads_catalog(owner_a, url)  # built again
    with tenant_context(company_a), transaction.atomic():
        Stock.objects.filter(pk=stock.pk).update(quantity=4)  # as a sale leaves it
    assert owner_a.get(url).json()["count"] == 1


@pytest.mark.postgres
@committed
@pytest.mark.parametrize(
    "sql",
    [
        'UPDATE "products_product" SET name = %(name)s WHERE id = %(id)s',
        'WITH p AS (SELECT id FROM "products_product" WHERE id = %(id)s) '
        'UPDATE "products_product" SET name = %(name)s WHERE id IN (SELECT id FROM p)',
        '\t/* import */ UPDATE "products_product" SET name = %(name)s WHERE id = %(id)s',
        '-- rename\r\nUPDATE ONLY public."products_product" SET name = %(name)s WHERE id = %(id)s',
        "UPDATE PRODUCTS_PRODUCT SET name = %(name)s WHERE id = %(id)s",
    ],
    ids=["plain", "cte", "comment", "schema-only", "upper"],
)
def test_a_write_however_written_renews_the_page(sql, owner_a, company_a, make_product):
    product = make_product(company_a, name="Arroz")
    assert first_name(owner_a) == "Arroz"
    with tenant_context(company_a), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, {"name": "Arroz Roa", "id": product.id})
        assert cursor.rowcount == 1
    assert first_name(owner_a) == "Arroz Roa"


@committed
def test_every_write_through_the_api_shows_on_the_next_page(owner_a, company_a, make_product):
    product = make_product(company_a, name="Arroz", price="1000", stock={None: 4})
    variant = owner_a.get(URL).json()["results"][0]["variants"][0]
    owner_a.patch(f"/api/v1/variants/{variant['id']}/", {"price": "1500"}, format="json")
    assert owner_a.get(URL).json()["results"][0]["variants"][0]["sale_price"] == "1500.000000"
    owner_a.patch(f"/api/v1/products/{product.id}/", {"name": "Arroz Diana"}, format="json")
    assert first_name(owner_a) == "Arroz Diana"
    salt = make_product(company_a, name="Sal")  # never moved: it may be deleted
    assert [p["name"] for p in owner_a.get(URL).json()["results"]] == ["Arroz Diana", "Sal"]
    assert owner_a.delete(f"/api/v1/products/{salt.id}/").status_code == 204
    assert [p["name"] for p in owner_a.get(URL).json()["results"]] == ["Arroz Diana"]


@committed
def test_a_back_office_write_renews_every_company(owner_a, company_a, make_product):
    product = make_product(company_a, name="Arroz")
    assert first_name(owner_a) == "Arroz"
    with cross_tenant(), transaction.atomic():  # as the operator's back-office writes
        Product.all_tenants.filter(pk=product.pk).update(name="Arroz Roa")
    assert first_name(owner_a) == "Arroz Roa"


@committed
def test_a_transaction_renews_once_when_it_commits_and_not_when_it_rolls_back(
    owner_a, company_a, make_product, renewals
):
    product = make_product(company_a, name="Arroz")
    renewals.clear()
    with tenant_context(company_a), transaction.atomic():
        for n in range(20):
            Variant.objects.filter(product=product).update(price=1000 + n)
        assert renewals == []  # nothing before the commit: no Redis round trip under the locks
    assert renewals == [str(company_a.id)]

    class Abort(Exception):
        pass

    renewals.clear()
    with pytest.raises(Abort), tenant_context(company_a), transaction.atomic():
        Product.objects.update(name="Fantasma")
        raise Abort
    assert renewals == []


@pytest.mark.postgres
@committed
def test_a_page_read_in_the_writing_transaction_is_never_kept(owner_a, company_a, make_product):
    """Its rows may still roll back: the transaction reads its pages and keeps none."""
    make_product(company_a, name="Arroz")
    assert first_name(owner_a) == "Arroz"

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        with tenant_context(company_a):
            Product.objects.update(name="Fantasma")
        assert first_name(owner_a) == "Fantasma"  # its own write, read from the database
        raise Abort
    assert first_name(owner_a) == "Arroz"


@pytest.mark.postgres
@committed
def test_a_page_read_while_a_write_commits_is_not_served_after_it(owner_a, company_a, make_product):
    """A page read before the commit holds the old rows: the commit renews the generation."""
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
    assert box.get("write") is None, box
    after = owner_a.get(URL).json()["results"][0]["variants"][0]["sale_price"]
    assert (before, after) == ("1000.000000", "1500.000000")


@pytest.mark.postgres
@committed
def test_a_sale_committed_at_the_counter_shows_in_the_stock_and_renews_no_page(
    shop_a, seller_a, owner_a, renewals
):
    """Stock is read on every answer: the page is served from the cache before and after the
    sale, which renews nothing, and shows what the sale left."""
    shift = seller_a.post(
        "/api/v1/shifts/",
        {"register": str(shop_a.register.id), "opening_cash": "0"},
        format="json",
    )
    assert shift.status_code == 201, shift.json()
    first = owner_a.get(URL, {"search": "FV-iva19"}).json()
    assert first["results"][0]["variants"][0]["stock_total"] == "100.000"
    assert not reads_catalog(owner_a, URL, {"search": "FV-iva19"})
    renewals.clear()
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
    assert renewals == []
    with CaptureQueriesContext(connection) as queries:
        after = owner_a.get(URL, {"search": "FV-iva19"}).json()
    assert not tables_read(queries.captured_queries) & catalog_cache.catalog_tables()
    variant = after["results"][0]["variants"][0]
    assert variant["stock_total"] == "97.000"
    assert [level["quantity"] for level in variant["stock"]] == ["97.000"]
    # Apart from the stock, the answer is the kept one.
    for page in (first, after):
        for product in page["results"]:
            for shown in product["variants"]:
                shown.pop("stock"), shown.pop("stock_total")
    assert after == first


@pytest.mark.redis
@committed
def test_a_process_with_the_cache_off_still_renews_the_others_pages(
    settings, owner_a, company_a, make_product
):
    """A worker or an operator's shell run with CATALOG_CACHE_SECONDS=0 serves no page, but its
    writes still renew the pages other processes serve."""
    product = make_product(company_a, name="Arroz")
    assert first_name(owner_a) == "Arroz"
    settings.CATALOG_CACHE_SECONDS = 0  # that process's settings
    wrappers = list(connection.execute_wrappers)
    connection.execute_wrappers[:] = [
        wrapper for wrapper in wrappers if wrapper is not catalog_cache.note_catalog_writes
    ]
    catalog_cache.install(connection)  # what connection_created does in that process
    try:
        with tenant_context(company_a), transaction.atomic():
            Product.objects.filter(pk=product.pk).update(name="Arroz Roa")
    finally:
        connection.execute_wrappers[:] = wrappers
        settings.CATALOG_CACHE_SECONDS = 60
    assert first_name(owner_a) == "Arroz Roa"


# --- what is served, to whom ---------------------------------------------------------------------


@committed
def test_a_repeated_page_reads_no_catalog_table(owner_a, company_a, make_product):
    for n in range(3):
        make_product(company_a, stock={None: n + 1})
    first = owner_a.get(URL, {"limit": 2})
    with CaptureQueriesContext(connection) as queries:
        again = owner_a.get(URL, {"limit": 2})
    assert again.json() == first.json()
    assert not tables_read(queries.captured_queries) & catalog_cache.catalog_tables()
    assert len(owner_a.get(URL, {"limit": 2, "offset": 2}).json()["results"]) == 1


@committed
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


@committed
def test_an_evicted_generation_is_never_read_as_unchanged(owner_a, company_a, make_product):
    make_product(company_a, name="Arroz")
    owner_a.get(URL)
    assert not reads_catalog(owner_a)
    cache.delete(f"catalog-generation:{company_a.id}")  # Redis restarted or evicted it
    assert reads_catalog(owner_a)


# --- what is kept ---------------------------------------------------------------------------------


@committed
def test_big_pages_and_urls_with_parameters_the_list_ignores_are_never_kept(
    owner_a, company_a, make_product
):
    make_product(company_a, name="Arroz")
    big = {"limit": catalog_cache.MAX_PAGE_ROWS + 1}
    busted = {"_": "1733500000"}  # a client's cache-buster: a copy of the page per value
    for params in (big, busted):
        owner_a.get(URL, params)
        assert reads_catalog(owner_a, URL, params), params
    owner_a.get(URL, {"limit": 5, "search": "arroz"})
    assert not reads_catalog(owner_a, URL, {"limit": 5, "search": "arroz"})


@committed
def test_a_page_of_many_bytes_is_never_kept(owner_a, company_a, make_product):
    make_product(company_a, name="Arroz", description="x" * (catalog_cache.MAX_PAGE_BYTES + 1))
    owner_a.get(URL)
    assert reads_catalog(owner_a)


@committed
def test_a_company_keeps_a_bounded_size_of_new_pages_a_minute(
    owner_a, company_a, make_product, monkeypatch
):
    make_product(company_a, name="Arroz", price=Decimal("1000"))
    monkeypatch.setattr(catalog_cache, "_minute", lambda: 29_000_000)  # no minute turns meanwhile
    owner_a.get(URL, {"offset": 0})
    assert not reads_catalog(owner_a, URL, {"offset": 0})
    kept = cache.get(f"catalog-stored-bytes:{company_a.id}:29000000")
    monkeypatch.setattr(catalog_cache, "MAX_STORED_BYTES_PER_MINUTE", kept + 1)
    owner_a.get(URL, {"offset": 1})  # past the minute's budget: read, not kept
    assert reads_catalog(owner_a, URL, {"offset": 1})
