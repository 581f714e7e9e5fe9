"""The home page: today's figures per role, and the menu the role matrix gives."""

from decimal import Decimal

import pytest

from ally360.roles import Role
from ally360.tenancy import tenant_context
from inventory.models import Stock
from invoices.tests.test_pages import open_shift, pages_as, sale_data, shop  # noqa: F401

pytestmark = pytest.mark.django_db


def test_dashboard_shows_today_s_sales_shift_receivables_and_low_stock(shop):  # noqa: F811
    client = pages_as(shop.company)
    open_shift(client, shop, cash="10000")
    client.post("/pos/sale/", sale_data([("FV-iva19", "2")], cash="30000"))
    with tenant_context(shop.company):
        Stock.objects.filter(variant=shop.variants["iva5"]).update(min_quantity=500)
    owner = pages_as(shop.company, Role.OWNER)
    from conftest import client_for
    from invoices.tests.fixtures import issue_invoice

    issue_invoice(client_for(owner.user, shop.company), shop)  # on credit: 11,900 owed
    response = client.get("/")
    assert response.status_code == 200
    context = response.context
    assert context["sales"] == {"count": 2, "total": Decimal("35700.00")}
    assert context["shift"].register_id == shop.register.pk
    assert context["cash_in_drawer"] == Decimal("33800.00")
    assert context["receivables"]["open_balance"] == Decimal("11900.00")
    assert context["low_stock"] == 1


def test_dashboard_for_a_viewer_has_no_counter_in_the_menu(shop):  # noqa: F811
    response = pages_as(shop.company, Role.VIEWER).get("/")
    assert response.status_code == 200
    assert b'data-testid="shift"' not in response.content  # a viewer has no shift to show
    assert b'data-testid="sales-today"' in response.content
    urls = [entry["url"] for entry in response.context["menu"]]
    assert urls == ["/", "/products/", "/invoices/", "/customers/", "/files/"]
    seller_urls = [e["url"] for e in pages_as(shop.company).get("/").context["menu"]]
    assert seller_urls == ["/", "/pos/", "/products/", "/invoices/", "/customers/", "/files/"]


def test_the_reports_page_shows_the_period_s_sales_products_and_taxes(shop):  # noqa: F811
    from django.utils import timezone

    client = pages_as(shop.company)
    open_shift(client, shop)
    client.post("/pos/sale/", sale_data([("FV-iva19", "2")], cash="30000"))  # 23,800
    owner = pages_as(shop.company, Role.OWNER)
    today = timezone.localdate().isoformat()
    response = owner.get("/reports/", {"date_from": today, "date_to": today})
    assert response.status_code == 200
    page = response.content.decode()
    assert response.context["sales"]["totals"]["net_total"] == Decimal("23800.00")
    assert [row["sku"] for row in response.context["products"]] == ["FV-iva19"]
    assert response.context["taxes"]["iva_generated"] == Decimal("3800.00")
    assert "23.800,00" in page and "Efectivo" in page and "Gravado" in page
    (no_seller,) = response.context["sellers"]  # the counter's sale named no seller
    assert no_seller["seller"] is None and no_seller["net"] == Decimal("20000.00")
    assert 'data-testid="sellers-report"' in page and "Sin vendedor" in page
    # This month by default.
    assert owner.get("/reports/").context["sales"]["totals"]["invoices"] == 1


def test_the_reports_page_is_for_the_back_office_and_checks_its_period(shop):  # noqa: F811
    for role, status in ((Role.SELLER, 403), (Role.VIEWER, 403), (Role.ACCOUNTANT, 200)):
        assert pages_as(shop.company, role).get("/reports/").status_code == status
    seller_menu = [e["url"] for e in pages_as(shop.company).get("/").context["menu"]]
    assert "/reports/" not in seller_menu
    owner = pages_as(shop.company, Role.OWNER)
    assert "/reports/" in [e["url"] for e in owner.get("/").context["menu"]]
    for period in (
        {"date_from": "2026-02-01", "date_to": "2026-01-01"},
        {"date_from": "2025-01-01", "date_to": "2026-06-01"},
        {"date_from": "ayer", "date_to": "2026-01-01"},
    ):
        response = owner.get("/reports/", period)
        assert response.status_code == 400 and "sales" not in response.context
