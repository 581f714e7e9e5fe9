"""The stock count and shrinkage page: `adjustment_create` by barcode or SKU, once per form,
refusals on the rows, roles and other companies kept apart."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from ally360.models import IdempotencyRecord
from ally360.roles import Role
from ally360.tenancy import tenant_context
from ally360.tests.pages import page_client, row_counts
from conftest import _member
from inventory.models import Adjustment, AdjustmentLine, Stock, StockMovement
from products.models import Variant

pytestmark = pytest.mark.django_db

URL = "/stock/adjustments/new/"
WRITTEN = (Adjustment, AdjustmentLine, StockMovement, IdempotencyRecord)


def pages_as(company, role=Role.OWNER):
    return page_client(_member(company, role), company)


def code_lines(lines, *, key=None, **fields) -> dict:
    """A stock document's POST: `lines` as [(code, quantity)], a blank row after them, and a
    new form each time unless `key` is given."""
    data = {
        **fields,
        "document_key": key or str(uuid.uuid4()),
        "lines-TOTAL_FORMS": str(len(lines) + 1),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "200",
    }
    for index, (code, qty) in enumerate([*lines, ("", "")]):
        data[f"lines-{index}-code"] = code
        data[f"lines-{index}-quantity"] = qty
    return data


def adjustment(pdv, reason, lines, *, key=None, note="") -> dict:
    return code_lines(lines, key=key, pdv=str(pdv.id), reason=reason, note=note)


def stock(shop, name) -> Decimal:
    with tenant_context(shop.company):
        return Stock.objects.get(variant=shop.variants[name], pdv=shop.pdv).quantity


@pytest.fixture
def shop(shop_a):
    with tenant_context(shop_a.company):
        Variant.objects.filter(pk=shop_a.variants["iva19"].pk).update(barcode="7701234000019")
    return shop_a


@pytest.mark.parametrize("reason", ["damage", "count"])
def test_a_quantity_typed_without_its_code_is_a_form_error_not_dropped(shop, reason):
    owner = pages_as(shop.company)
    before = stock(shop, "iva19")
    response = owner.post(URL, adjustment(shop.pdv, reason, [("FV-iva19", "1"), ("", "3")]))
    assert response.status_code == 400
    assert response.context["formset"].forms[1].errors["code"]
    with tenant_context(shop.company):
        assert not Adjustment.objects.exists()
    assert stock(shop, "iva19") == before


def test_a_count_sets_the_stock_and_shows_the_differences(shop):
    owner = pages_as(shop.company)
    page = owner.get(URL)
    assert page.status_code == 200 and "Conteo o merma" in page.content.decode()
    counted = [("7701234000019", "97"), ("fv-inc8", "103.000")]  # barcode; SKU in any case
    response = owner.post(URL, adjustment(shop.pdv, "count", counted, note="Conteo mensual"))
    assert response.status_code == 302, response.context and response.context["formset"].errors
    with tenant_context(shop.company):
        made = Adjustment.objects.get()
    assert response["Location"] == f"/stock/adjustments/{made.pk}/"
    assert (stock(shop, "iva19"), stock(shop, "inc8"), made.note) == (97, 103, "Conteo mensual")
    detail = owner.get(response["Location"])
    text = detail.content.decode()
    assert f"Ajuste {made.number} registrado" in text
    assert [r["line"].previous_quantity for r in detail.context["lines"]] == [100, 100]
    deltas = {r["line"].variant.sku: r["line"].delta for r in detail.context["lines"]}
    assert deltas == {"FV-iva19": -3, "FV-inc8": 3}
    values = {r["line"].variant.sku: r["value"] for r in detail.context["lines"]}
    assert values == {"FV-iva19": Decimal("-18000.00"), "FV-inc8": Decimal("12000.00")}


def test_shrinkage_takes_the_units_typed_out(shop):
    owner = pages_as(shop.company)
    response = owner.post(URL, adjustment(shop.pdv, "damage", [("FV-iva19", "2")]))
    assert response.status_code == 302
    assert stock(shop, "iva19") == 98
    with tenant_context(shop.company):
        line = AdjustmentLine.objects.get()
    assert (line.counted_quantity, line.delta) == (None, -2)


@pytest.mark.parametrize(
    ("lines", "reason", "where"),
    [
        ([("NO-EXISTE", "1")], "count", "code"),
        ([("FV-iva19", "")], "count", "quantity"),
        ([("FV-iva19", "-1")], "count", "quantity"),
        # The service's refusals name the product: on the form.
        ([("FV-iva19", "1.5")], "count", "form"),  # counted in whole units
        ([("FV-iva19", "101")], "loss", "form"),  # more than there is: no negative stock
        ([], "count", None),
    ],
)
def test_refusals_come_back_on_the_rows_and_write_nothing(shop, lines, reason, where):
    owner = pages_as(shop.company)
    before = row_counts(shop.company, *WRITTEN)
    response = owner.post(URL, adjustment(shop.pdv, reason, lines))
    assert response.status_code == 400
    formset = response.context["formset"]
    if where is None:
        assert formset.non_form_errors()
    elif where == "form":
        assert "FV-iva19" in " ".join(response.context["form"].non_field_errors())
    else:
        assert formset.forms[0].errors.get(where), formset.errors
    assert row_counts(shop.company, *WRITTEN) == before
    assert stock(shop, "iva19") == 100


def test_an_adjustment_form_sent_twice_adjusts_once(shop):
    owner = pages_as(shop.company)
    data = adjustment(shop.pdv, "loss", [("FV-iva19", "1")])
    first = owner.post(URL, data)
    again = owner.post(URL, data)
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert stock(shop, "iva19") == 99
    with tenant_context(shop.company):
        assert Adjustment.objects.count() == 1
    assert "Este ajuste ya estaba registrado" in owner.get(again["Location"]).content.decode()


@pytest.mark.parametrize("role", [Role.SELLER, Role.VIEWER])
def test_roles_that_may_not_adjust_get_403_and_no_button(shop, role):
    client = pages_as(shop.company, role)
    assert client.get(URL).status_code == 403
    assert client.post(URL, adjustment(shop.pdv, "count", [("FV-iva19", "1")])).status_code == 403
    assert URL.encode() not in client.get("/products/").content
    assert stock(shop, "iva19") == 100
    assert pages_as(shop.company, Role.ACCOUNTANT).get(URL).status_code == 200
    assert URL.encode() in pages_as(shop.company, Role.ADMIN).get("/products/").content


def test_another_company_s_point_of_sale_product_and_adjustment_stay_apart(shop, shop_b):
    owner_b = pages_as(shop_b.company)
    foreign_pdv = owner_b.post(URL, adjustment(shop.pdv, "count", [("FB-iva19", "1")]))
    assert foreign_pdv.status_code == 400 and foreign_pdv.context["form"].errors["pdv"]
    foreign_code = owner_b.post(URL, adjustment(shop_b.pdv, "count", [("7701234000019", "1")]))
    assert foreign_code.status_code == 400
    assert foreign_code.context["formset"].forms[0].errors["code"]
    assert row_counts(shop_b.company, Adjustment, AdjustmentLine) == {
        "Adjustment": 0,
        "AdjustmentLine": 0,
    }
    made = pages_as(shop.company).post(URL, adjustment(shop.pdv, "count", [("FV-iva19", "9")]))
    assert made.status_code == 302
    assert owner_b.get(made["Location"]).status_code == 404
    viewer = pages_as(shop.company, Role.VIEWER)
    shown = viewer.get(made["Location"])
    assert shown.status_code == 200 and shown.context["show_costs"] is False
    assert stock(shop, "iva19") == 9


# --- found in review ---------------------------------------------------------------------------

HUGE = "999999999999999.000"  # the form's 15 integer digits, at a stock column's limit


def test_a_shrinkage_of_zero_units_is_refused_not_a_numbered_empty_document(shop):
    owner = pages_as(shop.company)
    response = owner.post(URL, adjustment(shop.pdv, "damage", [("FV-iva19", "0")]))
    assert response.status_code == 400
    assert response.context["formset"].forms[0].errors["quantity"]
    with tenant_context(shop.company):
        assert not Adjustment.objects.exists()


def test_a_count_whose_difference_a_stock_cannot_hold_is_a_form_error(shop):
    """With negative stock allowed a loss can take a stock near -10^15; counting it back would
    be a difference of 16 integer digits: refused, not a 500."""
    from accounts.models import Company

    Company.objects.filter(pk=shop.company.pk).update(allow_negative_stock=True)
    owner = pages_as(shop.company)
    assert owner.post(URL, adjustment(shop.pdv, "loss", [("FV-iva19", HUGE)])).status_code == 302
    before = row_counts(shop.company, *WRITTEN)
    response = owner.post(URL, adjustment(shop.pdv, "count", [("FV-iva19", HUGE)]))
    assert response.status_code == 400
    assert row_counts(shop.company, *WRITTEN) == before


def test_quantities_in_messages_read_as_a_spanish_reader_reads_them(shop):
    """ "100.000 disponibles" reads one hundred thousand in Spanish: quantities say 100."""
    response = pages_as(shop.company).post(URL, adjustment(shop.pdv, "loss", [("FV-iva19", "101")]))
    error = " ".join(response.context["form"].non_field_errors())
    assert "100 disponibles, 101 solicitadas" in error and "100.000" not in error, error


def test_a_sku_with_sharp_s_is_found_as_the_database_compares_it(shop, make_product):
    """Python's upper() makes "STRASSE-1" of "straße-1", PostgreSQL's UPPER() "STRAßE-1": the
    database decides what matches."""
    make_product(shop.company, sku="STRAßE-1", stock={None: 5})
    owner = pages_as(shop.company)
    for typed in ("STRAßE-1", "straße-1"):
        response = owner.post(URL, adjustment(shop.pdv, "count", [(typed, "3")]))
        assert response.status_code == 302, response.context["formset"].errors


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ACCOUNTANT])
def test_a_co_worker_s_e_mail_only_to_who_reads_the_members(shop, role):
    owner = pages_as(shop.company)
    made = owner.post(URL, adjustment(shop.pdv, "loss", [("FV-iva19", "1")]))
    assert owner.user.email in owner.get(made["Location"]).content.decode()
    shown = pages_as(shop.company, role).get(made["Location"]).content.decode()
    assert owner.user.email not in shown
