"""A point of sale closed while another sells: it holds nothing, so nothing may leave it and
its minimums raise no alert."""

import pytest

from ally360.roles import Role
from ally360.tenancy import tenant_context
from ally360.tests.pages import page_client
from bills.tests.test_bills_api import Purchases, receive, return_goods
from conftest import _member
from inventory.models import Stock, StockMovement
from pos.models import PDV

pytestmark = pytest.mark.django_db


@pytest.fixture
def norte(company_a):
    with tenant_context(company_a):
        return PDV.objects.create(name="Sede Norte", code="NORTE")


@pytest.fixture
def buy_a(company_a, make_product):
    return Purchases(company_a, make_product)


def move(client, buy, origin, destination, quantity):
    moved = client.post(
        "/api/v1/transfers/",
        {
            "origin": str(origin.pk),
            "destination": str(destination.pk),
            "lines": [{"variant": str(buy.variant.id), "quantity": quantity}],
        },
        format="json",
    )
    assert moved.status_code == 201, moved.json()


def close(client, pdv):
    closed = client.patch(f"/api/v1/pdvs/{pdv.pk}/", {"is_active": False}, format="json")
    assert closed.status_code == 200, closed.json()


@pytest.mark.parametrize("how", ["void", "debit_note"])
def test_goods_are_not_sent_back_from_a_closed_store(owner_a, buy_a, norte, how):
    """With negative stock allowed, a void or a return took the goods out of a store closed
    since (it holds none): -10 there, which no count or transfer could set right."""
    assert (
        owner_a.patch(
            "/api/v1/companies/current/", {"allow_negative_stock": True}, format="json"
        ).status_code
        == 200
    )
    bill = receive(owner_a, buy_a, pdv=str(norte.pk))
    move(owner_a, buy_a, norte, buy_a.pdv, "20")
    close(owner_a, norte)
    with tenant_context(buy_a.company):
        movements = StockMovement.objects.count()
    if how == "void":
        answer = owner_a.post(f"/api/v1/bills/{bill['id']}/void", {"reason": "x"}, format="json")
    else:
        answer = return_goods(owner_a, bill, "4")
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "pdv_inactive"
    assert "Sede Norte" in answer.json()["error"]["message"]
    with tenant_context(buy_a.company):
        assert Stock.objects.get(variant=buy_a.variant, pdv=norte).quantity == 0
        assert StockMovement.objects.count() == movements


def test_a_closed_store_raises_no_low_stock_alert(owner_a, buy_a, norte, company_a):
    move(owner_a, buy_a, buy_a.pdv, norte, "5")
    with tenant_context(company_a):
        row = Stock.objects.get(variant=buy_a.variant, pdv=norte)
    owner_a.patch(f"/api/v1/stock/{row.pk}/", {"min_quantity": "3"}, format="json")
    move(owner_a, buy_a, norte, buy_a.pdv, "5")
    owner = page_client(_member(company_a, Role.OWNER), company_a)
    assert owner_a.get("/api/v1/stock/", {"low": "true"}).json()["count"] == 1  # open: low
    assert owner.get("/").context["low_stock"] == 1
    close(owner_a, norte)
    assert owner_a.get("/api/v1/stock/", {"low": "true"}).json()["count"] == 0
    assert owner_a.get("/api/v1/products/", {"low_stock": "true"}).json()["count"] == 0
    assert owner.get("/").context["low_stock"] == 0
    assert owner_a.get("/api/v1/stock/", {"low": "false"}).json()["count"] == 2
