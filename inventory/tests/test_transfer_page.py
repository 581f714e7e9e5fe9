"""The stock transfer page: `transfer_create` by barcode or SKU between active points of sale,
once per form, refusals on the form, roles and other companies kept apart."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ally360.models import IdempotencyRecord
from ally360.roles import Role
from ally360.tenancy import tenant_context
from ally360.tests.pages import row_counts
from inventory.models import Stock, StockMovement, Transfer, TransferLine
from inventory.tests.test_adjustment_page import adjustment, code_lines, pages_as
from pos.models import PDV

pytestmark = pytest.mark.django_db

URL = "/stock/transfers/new/"
WRITTEN = (Transfer, TransferLine, StockMovement, IdempotencyRecord)


@pytest.fixture
def branch(shop_a):
    with tenant_context(shop_a.company):
        return PDV.objects.create(name="Sucursal Norte", code="NORTE")


def transfer(origin, destination, lines, *, key=None) -> dict:
    return code_lines(
        lines,
        key=key,
        origin=str(origin.id),
        destination=str(destination.id),
        note="Surtido semanal",
    )


def stock_at(shop, pdv, name="iva19") -> Decimal:
    with tenant_context(shop.company):
        row = Stock.objects.filter(variant=shop.variants[name], pdv=pdv).first()
    return row.quantity if row else Decimal("0")


def test_goods_move_between_points_of_sale_at_the_origin_s_cost(shop_a, branch):
    owner = pages_as(shop_a.company)
    assert "Traslado de inventario" in owner.get(URL).content.decode()
    response = owner.post(URL, transfer(shop_a.pdv, branch, [("FV-iva19", "10"), ("fv-inc8", "4")]))
    assert response.status_code == 302, response.context and response.context["form"].errors
    with tenant_context(shop_a.company):
        made = Transfer.objects.get()
    assert response["Location"] == f"/stock/transfers/{made.pk}/"
    assert (stock_at(shop_a, shop_a.pdv), stock_at(shop_a, branch)) == (90, 10)
    assert (stock_at(shop_a, shop_a.pdv, "inc8"), stock_at(shop_a, branch, "inc8")) == (96, 4)
    detail = owner.get(response["Location"])
    assert f"Traslado {made.number} registrado" in detail.content.decode()
    values = {r["line"].variant.sku: r["value"] for r in detail.context["lines"]}
    assert values == {"FV-iva19": Decimal("60000.00"), "FV-inc8": Decimal("16000.00")}


@pytest.mark.parametrize(
    ("lines", "same_place", "where"),
    [
        ([("FV-iva19", "0")], False, "quantity"),
        ([("NO-EXISTE", "1")], False, "code"),
        ([("FV-iva19", "101")], False, "form"),  # more than the origin has
        ([("FV-iva19", "1")], True, "destination"),
        ([], False, None),
    ],
)
def test_refusals_come_back_on_the_form_and_write_nothing(shop_a, branch, lines, same_place, where):
    owner = pages_as(shop_a.company)
    before = row_counts(shop_a.company, *WRITTEN)
    destination = shop_a.pdv if same_place else branch
    response = owner.post(URL, transfer(shop_a.pdv, destination, lines))
    assert response.status_code == 400
    form, formset = response.context["form"], response.context["formset"]
    if where is None:
        assert formset.non_form_errors()
    elif where == "form":
        assert "FV-iva19" in " ".join(form.non_field_errors())
    elif where == "destination":
        assert form.errors["destination"]
    else:
        assert formset.forms[0].errors[where]
    assert row_counts(shop_a.company, *WRITTEN) == before
    assert stock_at(shop_a, shop_a.pdv) == 100


def test_a_transfer_form_sent_twice_moves_once(shop_a, branch):
    owner = pages_as(shop_a.company)
    data = transfer(shop_a.pdv, branch, [("FV-iva19", "5")])
    assert owner.post(URL, data).status_code == 302
    again = owner.post(URL, data)
    assert again.status_code == 302
    assert (stock_at(shop_a, shop_a.pdv), stock_at(shop_a, branch)) == (95, 5)
    assert "Este traslado ya estaba registrado" in owner.get(again["Location"]).content.decode()


@pytest.mark.parametrize("role", [Role.SELLER, Role.VIEWER])
def test_roles_that_may_not_move_stock_get_403(shop_a, branch, role):
    client = pages_as(shop_a.company, role)
    assert client.get(URL).status_code == 403
    assert client.post(URL, transfer(shop_a.pdv, branch, [("FV-iva19", "1")])).status_code == 403
    assert URL.encode() not in client.get("/products/").content
    assert stock_at(shop_a, branch) == 0


def test_another_company_s_points_of_sale_products_and_transfers_stay_apart(shop_a, shop_b, branch):
    owner_b = pages_as(shop_b.company)
    foreign = owner_b.post(URL, transfer(shop_a.pdv, branch, [("FB-iva19", "1")]))
    assert foreign.status_code == 400
    assert foreign.context["form"].errors.keys() == {"origin", "destination"}
    with tenant_context(shop_b.company):
        other_branch = PDV.objects.create(name="Otra", code="OTRA")
    foreign_code = owner_b.post(URL, transfer(shop_b.pdv, other_branch, [("FV-iva19", "1")]))
    assert foreign_code.status_code == 400
    assert foreign_code.context["formset"].forms[0].errors["code"]
    made = pages_as(shop_a.company).post(URL, transfer(shop_a.pdv, branch, [("FV-iva19", "2")]))
    assert made.status_code == 302
    assert owner_b.get(made["Location"]).status_code == 404
    assert pages_as(shop_a.company, Role.VIEWER).get(made["Location"]).status_code == 200
    assert stock_at(shop_a, branch) == 2


def test_a_transfer_a_stock_cannot_hold_is_a_form_error_not_a_500(shop_a, branch):
    """A count may set a stock at its column's limit; one more unit in is refused."""
    owner = pages_as(shop_a.company)
    huge = "999999999999999"  # 15 digits: exact in SQLite too, whose decimals are floats
    # A product sold by the kg: a fraction is fine.
    counted = owner.post(
        "/stock/adjustments/new/", adjustment(branch, "count", [("FV-exento", huge)])
    )
    assert counted.status_code == 302
    before = row_counts(shop_a.company, *WRITTEN)
    response = owner.post(URL, transfer(shop_a.pdv, branch, [("FV-exento", "1")]))
    assert response.status_code == 400
    assert "más de lo que un inventario puede tener" in " ".join(
        response.context["form"].non_field_errors()
    )
    assert row_counts(shop_a.company, *WRITTEN) == before


def test_a_co_worker_s_e_mail_only_to_who_reads_the_members(shop_a, branch):
    owner = pages_as(shop_a.company)
    moved = owner.post(URL, transfer(shop_a.pdv, branch, [("FV-iva19", "1")]))
    shown = pages_as(shop_a.company, Role.SELLER).get(moved["Location"]).content.decode()
    assert owner.user.email not in shown
