"""Every list endpoint runs the same number of SQL statements for a page of one row as for a page
of all rows: related rows are joined or prefetched, never fetched per row (no N+1).

The endpoints come from the OpenAPI schema, so a new list is checked without being listed here.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ally360.roles import Role
from ally360.tests.test_cross_tenant_probe import build_world, ids_by_model
from conftest import png_bytes
from files.tests.test_uses import uploaded

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

# {id} in a nested list path -> the model whose row owns the listed children.
PARENTS = {
    "/api/v1/invoices/{id}/payments/": "invoices.Invoice",
    "/api/v1/price-lists/{id}/items/": "products.PriceList",
    "/api/v1/products/{product_pk}/images/": "products.Product",
    "/api/v1/shifts/{id}/cash-movements/": "pos.Shift",
    "/api/v1/invoices/{record_pk}/attachments/": "invoices.Invoice",
    "/api/v1/bills/{record_pk}/attachments/": "bills.Bill",
    "/api/v1/contacts/{record_pk}/attachments/": "contacts.Contact",
}


def created(response) -> dict:
    assert response.status_code in (200, 201), response.content
    return response.json()


def second_round(company, owner, admin, shop) -> None:
    """A second row of each kind `build_world` makes once, so every list holds several rows."""
    post = lambda path, body: created(owner.post(path, body, format="json"))  # noqa: E731
    iva19, iva5 = shop.v("iva19"), shop.v("iva5")
    post("/api/v1/brands/", {"name": "Marca 2"})
    post("/api/v1/categories/", {"name": "Cat 2"})
    post("/api/v1/sellers/", {"name": "Vendedor 2"})
    register = post("/api/v1/cash-registers/", {"pdv": str(shop.pdv.id), "name": "Caja 2"})
    created(
        admin.post(
            "/api/v1/shifts/", {"register": register["id"], "opening_cash": "0"}, format="json"
        )
    )
    fixed = post("/api/v1/price-lists/", {"name": "Fija 2", "kind": "fixed"})
    for variant, price in ((iva19, "900"), (iva5, "300")):
        post(f"/api/v1/price-lists/{fixed['id']}/items", {"variant": variant, "price": price})
    post(
        "/api/v1/adjustments/",
        {"pdv": str(shop.pdv.id), "reason": "count", "lines": [{"variant": iva5, "delta": "2"}]},
    )
    norte = post("/api/v1/pdvs/", {"name": "Sur", "code": "S2"})
    post(
        "/api/v1/transfers/",
        {
            "origin": str(shop.pdv.id),
            "destination": norte["id"],
            "lines": [{"variant": iva19, "quantity": "1"}],
        },
    )
    customer = post(
        "/api/v1/contacts/", {"id_type": "13", "id_number": "52123456", "name": "Cliente 2"}
    )
    for customer_id in (customer["id"], str(shop.customer.id)):
        invoice = post(
            "/api/v1/invoices/",
            {
                "pdv": str(shop.pdv.id),
                "customer": customer_id,
                "issue": True,
                "lines": [{"variant": iva19, "quantity": "1"}],
            },
        )
    post(
        "/api/v1/credit-notes/",
        {
            "invoice": invoice["id"],
            "concept": "1",
            "reason": "r",
            "return_stock": True,
            "lines": [{"invoice_line": invoice["lines"][0]["id"], "quantity": "1"}],
        },
    )
    supplier = post(
        "/api/v1/contacts/",
        {
            "id_type": "13",
            "id_number": "79123456",
            "name": "Proveedor 2",
            "is_supplier": True,
            "is_customer": False,
        },
    )
    bill = post(
        "/api/v1/bills/",
        {
            "supplier": supplier["id"],
            "pdv": str(shop.pdv.id),
            "supplier_invoice_number": "F2",
            "issue": True,
            "lines": [{"variant": iva19, "quantity": "2", "unit_cost": "500"}],
        },
    )
    post(
        "/api/v1/supplier-payments/",
        {
            "supplier": supplier["id"],
            "method": "cash",
            "allocations": [{"bill": bill["id"], "amount": "100"}],
        },
    )
    post(
        "/api/v1/debit-notes/",
        {
            "bill": bill["id"],
            "reason": "r",
            "lines": [{"bill_line": bill["lines"][0]["id"], "quantity": "1"}],
        },
    )
    uploaded(owner, png_bytes())
    post("/api/v1/invitations/", {"email": "segundo@example.co", "role": "viewer"})


def list_paths(spec) -> list[str]:
    paths = []
    for path, operations in spec["paths"].items():
        get = operations.get("get")
        if get and get["operationId"].endswith("_list"):
            paths.append(path)
    return paths


def test_list_endpoints_do_not_query_per_row(company_a, owner_a, make_shop, client_as, settings):
    settings.API_RATE_LIMIT = "100000/m"
    shop = build_world(company_a, owner_a, make_shop, "FA")
    admin = client_as(company_a, Role.ADMIN)
    for role in (Role.SELLER, Role.VIEWER):
        client_as(company_a, role)  # members/ has several rows
    second_round(company_a, owner_a, admin, shop)
    required = {"/api/v1/kardex/": {"variant": shop.v("iva19")}}
    ids = ids_by_model(company_a)
    spec = owner_a.get("/api/v1/schema/?format=json").json()
    checked, single_row, unpaginated, failures = [], [], [], []
    for template in list_paths(spec):
        path = template
        for placeholder in ("{id}", "{product_pk}", "{record_pk}"):
            if placeholder in path:
                path = path.replace(placeholder, str(ids[PARENTS[template]][0]))
        counts = {}
        for limit in (1, 500):
            with CaptureQueriesContext(connection) as queries:
                response = owner_a.get(path, {"limit": limit, **required.get(template, {})})
            assert response.status_code == 200, (path, response.status_code, response.content)
            body = response.json()
            counts[limit] = (len(queries), body)
        if isinstance(counts[1][1], list):  # unpaginated: a short, bounded list
            unpaginated.append(path)
            continue
        (few, first), (many, full) = counts[1], counts[500]
        one_row, rows = len(first["results"]), len(full["results"])

        assert one_row <= 1, (path, "limit=1 returned more than one row")
        if rows < 2:
            single_row.append(path)
            continue
        checked.append(path)
        if many != few:
            failures.append(f"{path}: {few} queries for 1 row, {many} for {rows} rows")
    assert not failures, "\n".join(failures)
    # The world really has several rows behind most lists, so the comparison means something.
    assert len(checked) >= 30, f"checked {checked}, one row only {single_row}"
    print(
        f"list query counts: {len(checked)} lists checked; one row only: {single_row}; "
        f"unpaginated: {unpaginated}"
    )
