"""Reports over HTTP: sales per day and the period's taxes, against hand-computed figures;
roles, isolation, bad periods, and a statement count that does not grow with the data."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ally360.roles import Role
from ally360.tenancy import tenant_context
from bills.tests.test_bills_api import buy_a, receive, return_goods  # noqa: F401 - fixture
from conftest import ALL_ROLES, error_code
from invoices.models import Invoice
from invoices.tests.fixtures import issue_invoice
from invoices.tests.test_invoices_api import credit_note
from invoices.tests.test_pos_api import open_shift, sell

pytestmark = pytest.mark.django_db

SALES, TAXES = "/api/v1/reports/sales", "/api/v1/reports/taxes"


def _period(first, last=None):
    return {"date_from": first.isoformat(), "date_to": (last or first).isoformat()}


@pytest.fixture
def day_of_business(owner_a, shop_a, company_a, buy_a):  # noqa: F811 - pytest fixture
    """Today: a credit invoice of two IVA 19 % units with one returned, a POS sale (IVA 5 % and
    INC 8 %) in cash, a bill received with five units returned; plus a voided invoice, a draft
    and an invoice dated yesterday, which today's figures must leave out."""
    two = issue_invoice(owner_a, shop_a, [{"variant": shop_a.v("iva19"), "quantity": "2"}])
    assert credit_note(owner_a, two, "1").status_code == 201
    open_shift(owner_a, shop_a)
    sale = sell(
        owner_a,
        shop_a,
        [
            {"variant": shop_a.v("iva5"), "quantity": "3"},
            {"variant": shop_a.v("inc8"), "quantity": "1"},
        ],
        [{"method": "cash", "amount": "20000"}],
    )
    assert sale.status_code == 201, sale.json()
    voided = issue_invoice(owner_a, shop_a)
    response = owner_a.post(
        f"/api/v1/invoices/{voided['id']}/void", {"reason": "Error"}, format="json"
    )
    assert response.status_code == 200, response.json()
    draft = owner_a.post(
        "/api/v1/invoices/",
        {
            "pdv": str(shop_a.pdv.id),
            "customer": str(shop_a.customer.id),
            "lines": [{"variant": shop_a.v("iva19"), "quantity": "5"}],
        },
        format="json",
    )
    assert draft.status_code == 201, draft.json()
    yesterday = issue_invoice(owner_a, shop_a, [{"variant": shop_a.v("excluido"), "quantity": "1"}])
    today = timezone.localdate()
    with tenant_context(company_a):
        Invoice.objects.filter(pk=yesterday["id"]).update(issue_date=today - timedelta(days=1))
    bill = receive(owner_a, buy_a)  # 20 × 900 less 10 %: 16,200 + IVA 3,078
    assert return_goods(owner_a, bill, "5").status_code == 201  # 4,050 + IVA 769.50
    return today


def test_sales_per_day_leave_out_drafts_voids_and_other_days(owner_a, day_of_business):
    today = day_of_business
    response = owner_a.get(SALES, _period(today))
    assert response.status_code == 200, response.json()
    report = response.json()
    (day,) = report["days"]
    expected = {
        "date": today.isoformat(),
        "invoices": 2,  # the credit invoice and the POS sale
        "invoiced_base": "38500.00",  # 20,000 + 10,000 + 8,500
        "invoiced_tax": "4980.00",  # 3,800 + 500 + 680
        "invoiced_total": "43480.00",
        "credit_notes": 1,
        "credited_base": "10000.00",
        "credited_tax": "1900.00",
        "credited_total": "11900.00",
        "net_base": "28500.00",
        "net_tax": "3080.00",
        "net_total": "31580.00",
    }
    assert day == expected
    assert report["totals"] == {k: v for k, v in expected.items() if k != "date"}
    assert report["methods"] == [
        {
            "method": "cash",
            "payments": 1,
            "received": "19680.00",
            "refunded": "0.00",
            "net": "19680.00",
        }
    ]

    two_days = owner_a.get(SALES, _period(today - timedelta(days=1), today)).json()
    assert [d["date"] for d in two_days["days"]] == [
        (today - timedelta(days=1)).isoformat(),
        today.isoformat(),
    ]
    assert two_days["days"][0]["invoices"] == 1
    assert two_days["days"][0]["invoiced_base"] == "12345.67"  # excluded from IVA
    assert two_days["totals"]["invoices"] == 3


def _tax_row(kind, treatment, rate, base, tax, returns_base="0.00", returns_tax="0.00"):
    net_base = str(Decimal(base) - Decimal(returns_base))
    net_tax = str(Decimal(tax) - Decimal(returns_tax))
    return {
        "kind": kind,
        "treatment": treatment,
        "rate": rate,
        "base": base,
        "tax": tax,
        "returns_base": returns_base,
        "returns_tax": returns_tax,
        "net_base": net_base,
        "net_tax": net_tax,
    }


def test_the_tax_report_keeps_returns_apart_and_gives_the_iva_balance(owner_a, day_of_business):
    report = owner_a.get(TAXES, _period(day_of_business)).json()
    assert report["sales"] == [
        _tax_row("inc", "taxed", "8.00", "8500.00", "680.00"),
        _tax_row("iva", "taxed", "19.00", "20000.00", "3800.00", "10000.00", "1900.00"),
        _tax_row("iva", "taxed", "5.00", "10000.00", "500.00"),
    ]
    assert report["purchases"] == [
        _tax_row("iva", "taxed", "19.00", "16200.00", "3078.00", "4050.00", "769.50")
    ]
    # Generated: sales' IVA and the IVA given back with the goods returned to the supplier;
    # deductible: purchases' IVA and the IVA of the customer's return.
    assert (report["iva_generated"], report["iva_deductible"]) == ("5069.50", "4978.00")
    assert (report["iva_balance"], report["inc_generated"]) == ("91.50", "680.00")
    # Yesterday's excluded sale is a base with no tax: it is in the period that covers it.
    wider = owner_a.get(TAXES, _period(day_of_business - timedelta(days=1), day_of_business))
    assert _tax_row("iva", "excluded", "0.00", "12345.67", "0.00") in wider.json()["sales"]


def test_a_return_of_last_months_sale_is_a_return_not_a_negative_sale(owner_a, shop_a, company_a):
    """Form 300 declares sales and their returns on separate lines: this month's return of
    last month's sale leaves this month's sales at 0 and shows the return."""
    sold = issue_invoice(owner_a, shop_a, [{"variant": shop_a.v("iva19"), "quantity": "1"}])
    today = timezone.localdate()
    with tenant_context(company_a):
        Invoice.objects.filter(pk=sold["id"]).update(issue_date=today - timedelta(days=40))
    assert credit_note(owner_a, sold, "1").status_code == 201
    report = owner_a.get(TAXES, _period(today)).json()
    assert report["sales"] == [
        _tax_row("iva", "taxed", "19.00", "0.00", "0.00", "10000.00", "1900.00")
    ]
    assert (report["iva_generated"], report["iva_deductible"]) == ("0.00", "1900.00")
    assert report["iva_balance"] == "-1900.00"  # in the shop's favour


def test_money_counts_at_the_point_of_sale_whose_drawer_took_it(owner_a, shop_a, company_a):
    """A Bodega invoice paid in cash at Principal's register: the cash is in Principal's
    drawer (its shift's close counts it there), so Principal's report shows it, Bodega's not;
    the sale itself stays Bodega's."""
    from invoices.tests.fixtures import make_ranges
    from pos.services import pdv_create

    with tenant_context(company_a):
        bodega = pdv_create(name="Bodega", code="BOD")
        make_ranges(bodega, prefix="FB", pos_prefix="PB", note_prefix="NB")
    company_a.allow_negative_stock = True
    company_a.save()
    made = owner_a.post(
        "/api/v1/invoices/",
        {
            "pdv": str(bodega.id),
            "customer": str(shop_a.customer.id),
            "issue": True,
            "lines": [{"variant": shop_a.v("iva19"), "quantity": "1"}],
        },
        format="json",
    )
    assert made.status_code == 201, made.json()
    open_shift(owner_a, shop_a)  # at Principal
    paid = owner_a.post(
        f"/api/v1/invoices/{made.json()['id']}/payments",
        {"method": "cash", "amount": "11900.00"},
        format="json",
    )
    assert paid.status_code == 201, paid.json()
    today = timezone.localdate()
    principal = owner_a.get(SALES, {**_period(today), "pdv": str(shop_a.pdv.id)}).json()
    at_bodega = owner_a.get(SALES, {**_period(today), "pdv": str(bodega.id)}).json()
    assert [(m["method"], m["received"]) for m in principal["methods"]] == [("cash", "11900.00")]
    assert principal["totals"]["invoices"] == 0
    assert at_bodega["methods"] == [] and at_bodega["totals"]["invoices"] == 1


@pytest.mark.parametrize("role", ALL_ROLES)
def test_reports_are_for_owners_admins_and_accountants(role, company_a, client_as):
    client = client_as(company_a, role)
    today = timezone.localdate()
    allowed = role in {Role.OWNER, Role.ADMIN, Role.ACCOUNTANT}
    for url in (SALES, TAXES, "/api/v1/reports/products", "/api/v1/reports/sellers"):
        assert client.get(url, _period(today)).status_code == (200 if allowed else 403)


def test_a_company_sees_only_its_own_documents_and_points_of_sale(
    owner_a, owner_b, shop_a, day_of_business
):
    today = day_of_business
    other = owner_b.get(SALES, _period(today)).json()
    assert other["days"] == [] and other["totals"]["invoices"] == 0
    assert owner_b.get(TAXES, _period(today)).json()["sales"] == []
    assert owner_b.get("/api/v1/reports/products", _period(today)).json()["results"] == []
    assert owner_b.get("/api/v1/reports/sellers", _period(today)).json()["sellers"] == []
    for url in (SALES, "/api/v1/reports/products", "/api/v1/reports/sellers"):
        foreign = owner_b.get(url, {**_period(today), "pdv": str(shop_a.pdv.id)})
        assert foreign.status_code == 400 and "pdv" in foreign.json()["error"]["fields"]

    mine = owner_a.get(SALES, {**_period(today), "pdv": str(shop_a.pdv.id)}).json()
    assert mine["totals"]["invoices"] == 2 and mine["pdv"] == str(shop_a.pdv.id)


@pytest.mark.parametrize(
    "params, field",
    [
        ({}, "date_from"),
        ({"date_from": "2026-01-01"}, "date_to"),
        ({"date_from": "2026-02-01", "date_to": "2026-01-31"}, "date_to"),
        ({"date_from": "2025-01-01", "date_to": "2026-01-02"}, "date_to"),  # over 366 days
        ({"date_from": "2026-13-01", "date_to": "2026-12-31"}, "date_from"),
        ({"date_from": "2026-01-01", "date_to": "2026-01-31", "pdv": "caja-1"}, "pdv"),
    ],
)
def test_a_bad_period_is_a_400_naming_the_parameter(owner_a, params, field):
    for url in (SALES, TAXES):
        if field == "pdv" and url == TAXES:
            continue
        response = owner_a.get(url, params)
        assert response.status_code == 400, response.json()
        assert error_code(response) == "validation_error"

        assert field in response.json()["error"]["fields"], response.json()


def test_a_report_reads_the_same_statements_whatever_the_documents(owner_a, shop_a):
    today = timezone.localdate()
    counts = []
    for extra in (1, 4):
        for _ in range(extra):
            issue_invoice(owner_a, shop_a)
        for url in (SALES, TAXES, "/api/v1/reports/products", "/api/v1/reports/sellers"):
            with CaptureQueriesContext(connection) as queries:
                assert (
                    owner_a.get(url, _period(today - timedelta(days=30), today)).status_code == 200
                )
            counts.append((url, len(queries)))
    assert counts[:4] == counts[4:], counts

    assert dict(counts[4:])[SALES] <= 8 and dict(counts[4:])[TAXES] <= 8, counts


PRODUCTS = "/api/v1/reports/products"


def test_products_sold_net_of_returns_with_their_cost_and_margin(owner_a, day_of_business):
    report = owner_a.get(PRODUCTS, _period(day_of_business)).json()
    rows = [
        (r["sku"], r["quantity"], r["sales"], r["cost"], r["margin"], r["margin_pct"])
        for r in report["results"]
    ]
    assert rows == [
        # Two sold, one returned without going back to stock: its cost stays a cost.
        ("FV-iva19", "1.000", "10000.00", "12000.00", "-2000.00", "-20.00"),
        ("FV-iva5", "3.000", "10000.00", "6000.00", "4000.00", "40.00"),
        ("FV-inc8", "1.000", "8500.00", "4000.00", "4500.00", "52.94"),
    ]
    assert report["count"] == 3
    assert report["totals"] == {
        "sales": "28500.00",
        "cost": "22000.00",
        "margin": "6500.00",
        "margin_pct": "22.81",
    }
    second = owner_a.get(PRODUCTS, {**_period(day_of_business), "limit": 1, "offset": 1}).json()
    assert [r["sku"] for r in second["results"]] == ["FV-iva5"] and second["count"] == 3


def test_goods_returned_to_stock_take_their_cost_back(owner_a, shop_a):
    invoice = issue_invoice(owner_a, shop_a, [{"variant": shop_a.v("iva19"), "quantity": "3"}])
    assert credit_note(owner_a, invoice, "1", return_stock=True).status_code == 201
    (row,) = owner_a.get(PRODUCTS, _period(timezone.localdate())).json()["results"]
    assert (row["quantity"], row["sales"], row["cost"]) == ("2.000", "20000.00", "12000.00")


def test_sales_per_seller_net_of_credit_notes_with_their_commission(owner_a, shop_a, company_a):
    from ally360.money import money
    from pos.models import Seller

    with tenant_context(company_a):
        luisa = Seller.objects.create(name="Luisa", commission_pct=Decimal("5"))
        pedro = Seller.objects.create(name="Pedro", commission_pct=Decimal("2.5"))
        Seller.objects.create(name="Sin ventas", commission_pct=Decimal("9"))

    def sold(seller, quantity) -> dict:
        response = owner_a.post(
            "/api/v1/invoices/",
            {
                "pdv": str(shop_a.pdv.id),
                "customer": str(shop_a.customer.id),
                "seller": str(seller.pk) if seller else None,
                "issue": True,
                "lines": [{"variant": shop_a.v("iva19"), "quantity": quantity}],
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
        return response.json()

    def base(document) -> Decimal:
        return Decimal(document["subtotal"]) - Decimal(document["discount_total"])

    first, second = sold(luisa, "2"), sold(luisa, "1")
    pedros, nobodys = sold(pedro, "1"), sold(None, "1")
    note = credit_note(owner_a, first, "1")
    assert note.status_code == 201, note.json()
    today = timezone.localdate()
    report = owner_a.get("/api/v1/reports/sellers", _period(today)).json()
    luisa_net = base(first) + base(second) - base(note.json())
    assert [
        (row["name"], row["invoices"], row["credit_notes"], Decimal(row["net"]), row["commission"])
        for row in report["sellers"]
    ] == [
        ("Luisa", 2, 1, luisa_net, str(money(luisa_net * 5 / 100))),
        ("Pedro", 1, 0, base(pedros), str(money(base(pedros) * Decimal("2.5") / 100))),
        ("", 1, 0, base(nobodys), "0.00"),
    ]
    assert report["sellers"][2]["seller"] is None
    totals = report["totals"]
    assert (totals["invoices"], totals["credit_notes"]) == (4, 1)
    assert Decimal(totals["net"]) == luisa_net + base(pedros) + base(nobodys)
    assert Decimal(totals["commission"]) == money(luisa_net * 5 / 100) + money(
        base(pedros) * Decimal("2.5") / 100
    )
    yesterday = owner_a.get("/api/v1/reports/sellers", _period(today - timedelta(days=1)))
    assert yesterday.json()["sellers"] == []
    # The nets add up to the sales report's net base: one set of books.
    sales = owner_a.get(SALES, _period(today)).json()["totals"]
    assert Decimal(totals["net"]) == Decimal(sales["net_base"])


def test_a_return_of_last_months_sale_lowers_this_months_commission(owner_a, shop_a, company_a):
    from pos.models import Seller

    with tenant_context(company_a):
        luisa = Seller.objects.create(name="Luisa", commission_pct=Decimal("5"))
    sale = owner_a.post(
        "/api/v1/invoices/",
        {
            "pdv": str(shop_a.pdv.id),
            "customer": str(shop_a.customer.id),
            "seller": str(luisa.pk),
            "issue": True,
            "lines": [{"variant": shop_a.v("iva19"), "quantity": "1"}],
        },
        format="json",
    ).json()
    today = timezone.localdate()
    with tenant_context(company_a):
        Invoice.objects.filter(pk=sale["id"]).update(issue_date=today - timedelta(days=40))
    assert credit_note(owner_a, sale, "1").status_code == 201
    (row,) = owner_a.get("/api/v1/reports/sellers", _period(today)).json()["sellers"]
    assert (row["invoices"], row["credit_notes"]) == (0, 1)
    assert Decimal(row["net"]) < 0 and Decimal(row["commission"]) < 0
