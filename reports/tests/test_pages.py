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
    assert urls == ["/", "/products/", "/invoices/"]
    seller_urls = [e["url"] for e in pages_as(shop.company).get("/").context["menu"]]
    assert seller_urls == ["/", "/pos/", "/products/", "/invoices/"]
