"""Shifts and POS sales over HTTP."""

from decimal import Decimal

import pytest

from ally360.api.renderers import ORJSONRenderer
from ally360.models import IdempotencyRecord
from ally360.roles import Role
from ally360.tenancy import tenant_context
from conftest import ALL_ROLES, error_code
from inventory.models import Stock, StockMovement
from invoices.models import Invoice, Payment
from invoices.tests.fixtures import issue_invoice
from invoices.tests.test_invoices_api import credit_note
from pos.models import CashMovement, CashRegister, PDVAccess, Shift

pytestmark = pytest.mark.django_db

SALES = "/api/v1/pos/sales/"


def open_shift(client, shop, cash="100000"):
    response = client.post(
        "/api/v1/shifts/", {"register": str(shop.register.id), "opening_cash": cash}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()


def sell(client, shop, lines, tenders, **extra):
    return client.post(SALES, {"lines": lines, "tenders": tenders, **extra}, format="json")


def allow_seller_discounts(owner, max_pct, may_change_price=False):
    response = owner.patch(
        "/api/v1/companies/current/",
        {"seller_max_discount_pct": max_pct, "sellers_may_change_price": may_change_price},
        format="json",
    )
    assert response.status_code == 200, response.json()


def test_sellers_sell_at_list_prices_and_discount_within_the_companys_maximum(
    seller_a, owner_a, shop_a, company_a
):
    """A cashier cannot type a lower price or give any discount unless the company allows it;
    owners and admins can. A refused sale takes no number and moves no stock."""
    open_shift(seller_a, shop_a)
    cash = [{"method": "cash", "amount": "50000"}]
    with tenant_context(company_a):
        stock_before = {s.variant_id: s.quantity for s in Stock.objects.filter(pdv=shop_a.pdv)}

    typed = sell(
        seller_a,
        shop_a,
        [{"variant": shop_a.v("iva19"), "quantity": "1", "unit_price": "100"}],
        cash,
    )
    assert typed.status_code == 403
    assert error_code(typed) == "price_change_not_allowed"
    assert "lines.0.unit_price" in typed.json()["error"]["fields"]
    discounted = sell(
        seller_a,
        shop_a,
        [{"variant": shop_a.v("iva19"), "quantity": "1", "discount_pct": "5"}],
        cash,
    )
    assert discounted.status_code == 403
    assert error_code(discounted) == "discount_above_limit"
    assert "lines.0.discount_pct" in discounted.json()["error"]["fields"]
    with tenant_context(company_a):
        assert not Invoice.objects.exists()
        assert {
            s.variant_id: s.quantity for s in Stock.objects.filter(pdv=shop_a.pdv)
        } == stock_before
    # The list's own price, typed, is no change.
    same = sell(
        seller_a,
        shop_a,
        [{"variant": shop_a.v("iva19"), "quantity": "1", "unit_price": "10000"}],
        cash,
    )
    assert same.status_code == 201, same.json()
    assert same.json()["invoice"]["full_number"] == "PFV1"

    allow_seller_discounts(owner_a, "10")
    above = sell(
        seller_a,
        shop_a,
        [{"variant": shop_a.v("iva19"), "quantity": "1", "discount_pct": "10.01"}],
        cash,
    )
    assert above.status_code == 403 and above.json()["error"]["max_discount_pct"] == "10.00"
    at_max = sell(
        seller_a,
        shop_a,
        [{"variant": shop_a.v("iva19"), "quantity": "1", "discount_pct": "10"}],
        cash,
    )
    assert at_max.status_code == 201, at_max.json()
    assert at_max.json()["invoice"]["full_number"] == "PFV2"
    assert (
        error_code(
            sell(
                seller_a,
                shop_a,
                [{"variant": shop_a.v("iva19"), "quantity": "1", "unit_price": "9000"}],
                cash,
            )
        )
        == "price_change_not_allowed"
    )

    allow_seller_discounts(owner_a, "10", may_change_price=True)
    cheaper = sell(
        seller_a,
        shop_a,
        [{"variant": shop_a.v("iva19"), "quantity": "1", "unit_price": "9000"}],
        cash,
    )
    assert cheaper.status_code == 201, cheaper.json()
    assert cheaper.json()["invoice"]["subtotal"] == "9000.00"

    # Managers are not limited (the register is the seller's: the owner sells on credit).
    allow_seller_discounts(owner_a, "0")
    line = {
        "variant": shop_a.v("iva19"),
        "quantity": "1",
        "unit_price": "5000",
        "discount_pct": "50",
    }
    owner_sale = owner_a.post(
        "/api/v1/invoices/",
        {
            "pdv": str(shop_a.pdv.id),
            "customer": str(shop_a.customer.id),
            "lines": [line],
            "issue": True,
        },
        format="json",
    )
    assert owner_sale.status_code == 201, owner_sale.json()
    assert owner_sale.json()["total"] == "2975.00"


def test_the_sellers_limits_hold_on_drafts_and_their_edits(seller_a, owner_a, shop_a, company_a):
    lines = [{"variant": shop_a.v("iva19"), "quantity": "1"}]
    body = {"pdv": str(shop_a.pdv.id), "customer": str(shop_a.customer.id), "lines": lines}
    created = seller_a.post("/api/v1/invoices/", body, format="json")
    assert created.status_code == 201, created.json()
    url = f"/api/v1/invoices/{created.json()['id']}/"
    edit = seller_a.patch(url, {"lines": [{**lines[0], "discount_pct": "20"}]}, format="json")
    assert edit.status_code == 403 and error_code(edit) == "discount_above_limit"
    typed = seller_a.post(
        "/api/v1/invoices/", {**body, "lines": [{**lines[0], "unit_price": "1"}]}, format="json"
    )
    assert typed.status_code == 403 and error_code(typed) == "price_change_not_allowed"
    with tenant_context(company_a):
        (draft,) = Invoice.objects.all()
        assert [line.discount_pct for line in draft.lines.all()] == [0]
    # An owner's discount on the draft stays when the seller issues it.
    assert (
        owner_a.patch(
            url, {"lines": [{**lines[0], "discount_pct": "20"}]}, format="json"
        ).status_code
        == 200
    )
    issued = seller_a.post(f"{url}issue/")
    assert issued.status_code == 200, issued.json()
    assert issued.json()["subtotal"] == "10000.00" and issued.json()["discount_total"] == "2000.00"


def test_a_seller_sells_on_the_customers_price_list_unless_prices_may_change(
    seller_a, owner_a, shop_a
):
    """Choosing another (cheaper) list is a change of prices too."""
    wholesale = owner_a.post(
        "/api/v1/price-lists/",
        {"name": "Mayoristas", "kind": "percentage", "percentage": "20"},
        format="json",
    )
    assert wholesale.status_code == 201, wholesale.json()
    open_shift(seller_a, shop_a)
    lines = [{"variant": shop_a.v("iva19"), "quantity": "1"}]
    cash = [{"method": "cash", "amount": "50000"}]
    cheaper = sell(seller_a, shop_a, lines, cash, price_list=wholesale.json()["id"])
    assert cheaper.status_code == 403 and error_code(cheaper) == "price_change_not_allowed"
    assert "price_list" in cheaper.json()["error"]["fields"]
    body = {"pdv": str(shop_a.pdv.id), "customer": str(shop_a.customer.id), "lines": lines}
    created = seller_a.post("/api/v1/invoices/", body, format="json")
    assert created.status_code == 201
    moved = seller_a.patch(
        f"/api/v1/invoices/{created.json()['id']}/",
        {"price_list": wholesale.json()["id"], "lines": lines},
        format="json",
    )
    assert moved.status_code == 403 and error_code(moved) == "price_change_not_allowed"

    allow_seller_discounts(owner_a, "0", may_change_price=True)
    allowed = sell(seller_a, shop_a, lines, cash, price_list=wholesale.json()["id"])
    assert allowed.status_code == 201, allowed.json()
    assert allowed.json()["invoice"]["subtotal"] == "8000.00"


def test_voiding_a_cash_payment_takes_no_more_than_its_drawer_holds(seller_a, owner_a, shop_a):
    """The cash goes back out of the drawer it came into: after it went to the safe, the void
    is refused (409 not_enough_cash) and the drawer is never expected to hold less than 0."""
    shift = open_shift(seller_a, shop_a, cash="0")
    sale = sell(
        seller_a,
        shop_a,
        [{"variant": shop_a.v("iva19"), "quantity": "1"}],
        [{"method": "cash", "amount": "11900"}],
    )
    assert sale.status_code == 201, sale.json()
    movements = f"/api/v1/shifts/{shift['id']}/cash-movements"
    to_safe = {"kind": "out", "amount": "11900", "reason": "a la caja fuerte"}
    assert seller_a.post(movements, to_safe, format="json").status_code == 201
    payment = sale.json()["invoice"]["payments"][0]["id"]
    void = f"/api/v1/payments/{payment}/void"
    refused = owner_a.post(void, {"reason": "cobro errado"}, format="json")
    assert refused.status_code == 409 and error_code(refused) == "not_enough_cash"
    assert refused.json()["error"]["in_drawer"] == "0.00"
    back = {"kind": "in", "amount": "11900", "reason": "de la caja fuerte"}
    assert seller_a.post(movements, back, format="json").status_code == 201
    assert owner_a.post(void, {"reason": "cobro errado"}, format="json").status_code == 200
    report = owner_a.get(f"/api/v1/shifts/{shift['id']}/report").json()
    assert Decimal(report["cash"]["expected"]) == 0


def test_the_sellers_limits_are_company_settings_within_bounds(owner_a, seller_a):
    for bad in ("-1", "100.01", "abc"):
        response = owner_a.patch(
            "/api/v1/companies/current/", {"seller_max_discount_pct": bad}, format="json"
        )
        assert response.status_code == 400, bad
        assert "seller_max_discount_pct" in response.json()["error"]["fields"]
    current = owner_a.get("/api/v1/companies/current/").json()
    assert (current["seller_max_discount_pct"], current["sellers_may_change_price"]) == (
        "0.00",
        False,
    )
    refused = seller_a.patch(
        "/api/v1/companies/current/", {"seller_max_discount_pct": "100"}, format="json"
    )
    assert refused.status_code == 403


def test_pos_sale_with_change(seller_a, shop_a, company_a):
    open_shift(seller_a, shop_a)
    response = sell(
        seller_a,
        shop_a,
        [
            {"variant": shop_a.v("iva19"), "quantity": "2"},
            {"variant": shop_a.v("inc8"), "quantity": "1"},
        ],
        [{"method": "cash", "amount": "50000"}],
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    invoice = body["invoice"]
    # 2 x 10,000 + 19 % = 23,800; 8,500 + 8 % = 9,180 -> 32,980; change from 50,000.
    assert (invoice["kind"], invoice["status"], invoice["full_number"]) == ("pos", "paid", "PFV1")
    assert invoice["total"] == "32980.00" and body["change"] == "17020.00"
    assert invoice["customer"]["identification"] == "222222222222"
    (payment,) = invoice["payments"]
    assert (payment["method"], payment["amount"], payment["tendered"], payment["change"]) == (
        "cash",
        "32980.00",
        "50000.00",
        "17020.00",
    )
    with tenant_context(company_a):
        assert Invoice.objects.get().shift.user_id == seller_a.user.id
        # The goods left the shop's stock, each with its ledger line naming the sale.
        stock = {s.variant_id: s.quantity for s in Stock.objects.filter(pdv=shop_a.pdv)}
        assert stock[shop_a.variants["iva19"].id] == 98
        assert stock[shop_a.variants["inc8"].id] == 99
        sold = StockMovement.objects.filter(kind="sale", reference_number=invoice["full_number"])
        assert sorted(m.quantity for m in sold) == [-2, -1]


def test_the_sale_answer_is_the_invoice_as_stored(seller_a, shop_a, owner_a):
    """The sale answers from what it wrote, without reading it back: that answer must be
    exactly what a later read of the invoice returns (totals, lines, costs hidden, payments)."""
    allow_seller_discounts(owner_a, "10")
    open_shift(seller_a, shop_a)
    response = sell(
        seller_a,
        shop_a,
        [
            {"variant": shop_a.v("iva19"), "quantity": "2", "discount_pct": "10"},
            {"variant": shop_a.v("inc8"), "quantity": "1"},
            {"variant": shop_a.v("excluido"), "quantity": "3", "description": "Bolsa"},
        ],
        [
            {"method": "nequi", "amount": "5000", "reference": "N1"},
            {"method": "cash", "amount": "100000"},
        ],
        customer=str(shop_a.customer.id),
        notes="Mostrador",
    )
    assert response.status_code == 201, response.json()
    answered = response.json()["invoice"]
    stored = seller_a.get(f"/api/v1/invoices/{answered['id']}/")
    assert stored.status_code == 200
    assert answered == stored.json()
    assert len(answered["lines"]) == 3 and len(answered["payments"]) == 2


def test_each_sale_answers_for_its_own_request(seller_a, owner_a, shop_a, company_a):
    """The answer's serializer is kept between requests (`answer_of`): one sale's answer holds
    nothing of the one before, and each shows what its own role may see (costs)."""
    open_shift(seller_a, shop_a)
    with tenant_context(company_a):
        register2 = CashRegister.objects.create(pdv=shop_a.pdv, name="Caja 2")
    response = owner_a.post(
        "/api/v1/shifts/", {"register": str(register2.id), "opening_cash": "0"}, format="json"
    )
    assert response.status_code == 201, response.json()
    answers = []
    for client, lines in [
        (seller_a, [{"variant": shop_a.v("iva19"), "quantity": "2"}]),
        (owner_a, [{"variant": shop_a.v("inc8"), "quantity": "1"}] * 2),
        (seller_a, [{"variant": shop_a.v("excluido"), "quantity": "3"}]),
    ]:
        response = sell(client, shop_a, lines, [{"method": "cash", "amount": "500000"}])
        assert response.status_code == 201, response.json()
        answered = response.json()["invoice"]
        assert answered == client.get(f"/api/v1/invoices/{answered['id']}/").json()
        answers.append(answered)
    shown = [["unit_cost" in line for line in answer["lines"]] for answer in answers]
    assert shown == [[False], [True, True], [False]]
    assert len({answer["id"] for answer in answers}) == 3


def test_each_sale_is_validated_on_its_own(seller_a, owner_b, shop_a, shop_b, company_a):
    """The input's serializer is kept between requests (`validated_by_kept`): a refused sale
    leaves nothing for the next, each request's company decides which ids exist, and each
    error names its own request's problem."""
    open_shift(seller_a, shop_a)
    line = {"variant": shop_a.v("iva19"), "quantity": "1"}
    cash = [{"method": "cash", "amount": "50000"}]
    refused = sell(seller_a, shop_a, [{**line, "quantity": "-1"}], cash)
    assert refused.status_code == 400 and set(refused.json()["error"]["fields"]) == {"lines"}
    sold = sell(seller_a, shop_a, [line], cash, notes="first")
    assert sold.status_code == 201 and sold.json()["invoice"]["notes"] == "first"
    refused = sell(seller_a, shop_a, [line], [{"method": "gold", "amount": "1"}])
    assert refused.status_code == 400 and set(refused.json()["error"]["fields"]) == {"tenders"}
    sold = sell(seller_a, shop_a, [line, line], cash)
    assert sold.status_code == 201 and len(sold.json()["invoice"]["lines"]) == 2
    assert sold.json()["invoice"]["notes"] == ""  # nothing kept of the sale before
    # Another company's request, the same kept serializer: company A's variant is unknown there.
    open_shift(owner_b, shop_b)
    refused = sell(owner_b, shop_b, [line], cash)
    assert refused.status_code == 400 and set(refused.json()["error"]["fields"]) == {"lines"}
    sold = sell(owner_b, shop_b, [{**line, "variant": shop_b.v("iva19")}], cash)
    assert sold.status_code == 201, sold.json()
    with tenant_context(company_a):
        assert Invoice.objects.count() == 2


def test_several_tenders(seller_a, shop_a):

    open_shift(seller_a, shop_a)
    lines = [{"variant": shop_a.v("iva19"), "quantity": "1"}]  # 11,900
    split = sell(
        seller_a,
        shop_a,
        lines,
        [
            {"method": "nequi", "amount": "5000", "reference": "N1"},
            {"method": "debit_card", "amount": "4000"},
            {"method": "cash", "amount": "5000"},
        ],
    )
    assert split.status_code == 201
    methods = {p["method"]: (p["amount"], p["change"]) for p in split.json()["invoice"]["payments"]}
    assert methods == {
        "nequi": ("5000.00", "0.00"),
        "debit_card": ("4000.00", "0.00"),
        "cash": ("2900.00", "2100.00"),
    }
    short = sell(seller_a, shop_a, lines, [{"method": "cash", "amount": "11899.99"}])
    assert short.status_code == 400 and error_code(short) == "tenders_short"
    card_over = sell(seller_a, shop_a, lines, [{"method": "credit_card", "amount": "20000"}])
    assert card_over.status_code == 400 and error_code(card_over) == "tender_above_total"
    no_tenders = sell(seller_a, shop_a, lines, [])
    assert no_tenders.status_code == 400


def test_a_sale_needs_an_open_shift(seller_a, shop_a, company_a):
    response = sell(
        seller_a,
        shop_a,
        [{"variant": shop_a.v("iva19"), "quantity": "1"}],
        [{"method": "cash", "amount": "20000"}],
    )
    assert response.status_code == 409 and error_code(response) == "no_open_shift"
    with tenant_context(company_a):
        assert not Invoice.objects.exists()


def test_above_five_uvt_an_identified_customer_is_required(seller_a, shop_a, settings, company_a):
    settings.UVT_VALUES = {2020: 10000}  # 5 UVT = 50,000 before tax
    open_shift(seller_a, shop_a)
    lines = [{"variant": shop_a.v("iva19"), "quantity": "6"}]  # 60,000 before tax
    refused = sell(seller_a, shop_a, lines, [{"method": "cash", "amount": "71400"}])
    assert refused.status_code == 409 and error_code(refused) == "identified_customer_required"
    assert refused.json()["error"]["limit"] == "50000"
    with tenant_context(company_a):
        assert not Invoice.objects.exists()
    identified = sell(
        seller_a,
        shop_a,
        lines,
        [{"method": "cash", "amount": "71400"}],
        customer=str(shop_a.customer.id),
    )
    assert identified.status_code == 201
    invoice = identified.json()["invoice"]
    # Issued as a sales invoice from the PDV's invoice range, paid in the shift.
    assert (invoice["kind"], invoice["full_number"], invoice["status"]) == ("sale", "FV1", "paid")
    below = sell(
        seller_a,
        shop_a,
        [{"variant": shop_a.v("iva19"), "quantity": "5"}],
        [{"method": "cash", "amount": "59500"}],
    )
    assert below.status_code == 201 and below.json()["invoice"]["kind"] == "pos"


def test_a_sale_paid_at_the_counter_is_not_held_to_the_credit_limit(
    seller_a, shop_a, settings, company_a
):
    """Above 5 UVT the sale is a sales invoice for the customer, but paid in full it owes
    nothing: the credit limit (1,000 here) does not refuse it."""
    from contacts.models import Contact

    settings.UVT_VALUES = {2020: 10000}
    with tenant_context(company_a):
        Contact.objects.filter(pk=shop_a.customer.pk).update(credit_limit=Decimal("1000"))
    open_shift(seller_a, shop_a)
    sold = sell(
        seller_a,
        shop_a,
        [{"variant": shop_a.v("iva19"), "quantity": "6"}],
        [{"method": "cash", "amount": "71400"}],
        customer=str(shop_a.customer.id),
    )
    assert sold.status_code == 201, sold.json()
    assert (sold.json()["invoice"]["kind"], sold.json()["invoice"]["balance"]) == ("sale", "0.00")


def test_shift_rules(seller_a, shop_a, company_a, client_as):
    shift = open_shift(seller_a, shop_a)
    again = seller_a.post(
        "/api/v1/shifts/", {"register": str(shop_a.register.id), "opening_cash": "0"}, format="json"
    )
    assert again.status_code == 409
    other_seller = client_as(company_a, Role.SELLER)
    busy = other_seller.post(
        "/api/v1/shifts/", {"register": str(shop_a.register.id), "opening_cash": "0"}, format="json"
    )
    assert busy.status_code == 409 and error_code(busy) == "shift_already_open"
    assert (
        other_seller.post(
            f"/api/v1/shifts/{shift['id']}/cash-movements",
            {"kind": "in", "amount": "1", "reason": "x"},
            format="json",
        ).status_code
        == 404
    )  # sellers see their own shifts
    with tenant_context(company_a):
        PDVAccess.objects.create(pdv=shop_a.pdv, user=seller_a.user)
        from pos.models import CashRegister

        register2 = CashRegister.objects.create(pdv=shop_a.pdv, name="Caja 2")
    not_allowed = other_seller.post(
        "/api/v1/shifts/", {"register": str(register2.id), "opening_cash": "0"}, format="json"
    )
    assert not_allowed.status_code == 403 and error_code(not_allowed) == "pdv_not_allowed"


def test_closing_a_shift_computes_expected_cash_and_the_difference(
    seller_a, owner_a, shop_a, company_a
):
    shift = open_shift(seller_a, shop_a, cash="100000")
    sale = sell(
        seller_a,
        shop_a,
        [{"variant": shop_a.v("iva19"), "quantity": "2"}],
        [{"method": "cash", "amount": "30000"}],
    ).json()  # 23,800 cash
    sell(
        seller_a,
        shop_a,
        [{"variant": shop_a.v("iva5"), "quantity": "3"}],
        [{"method": "credit_card", "amount": "10500"}],
    )
    for bad in ({"reason": ""}, {"reason": "   "}, {"amount": "0"}, {"kind": "loan"}):
        refused = seller_a.post(
            f"/api/v1/shifts/{shift['id']}/cash-movements",
            {"kind": "out", "amount": "1000", "reason": "Proveedor", **bad},
            format="json",
        )
        assert refused.status_code == 400, (bad, refused.json())
    with tenant_context(company_a):
        assert not CashMovement.objects.exists()
    for kind, amount in (("in", "20000"), ("out", "15000")):
        moved = seller_a.post(
            f"/api/v1/shifts/{shift['id']}/cash-movements",
            {"kind": kind, "amount": amount, "reason": "Sencillo / proveedor"},
            format="json",
        )
        assert moved.status_code == 201
    # A cash refund from a return lowers the cash expected in the drawer.
    refund = owner_a.post(
        "/api/v1/credit-notes/",
        {
            "invoice": sale["invoice"]["id"],
            "concept": "1",
            "reason": "Devolución",
            "return_stock": True,
            "refund_shift": shift["id"],
            "lines": [{"invoice_line": sale["invoice"]["lines"][0]["id"], "quantity": "1"}],
        },
        format="json",
    )
    assert refund.status_code == 201, refund.json()
    assert (refund.json()["refund_amount"], refund.json()["shift"]) == ("11900.00", shift["id"])
    report = seller_a.get(f"/api/v1/shifts/{shift['id']}/report").json()
    # 100,000 + 23,800 - 11,900 + 20,000 - 15,000
    assert report["cash"]["expected"] == "116900.00"
    closed = seller_a.post(
        f"/api/v1/shifts/{shift['id']}/close",
        {"counted": {"cash": "116500", "credit_card": "10500"}},
        format="json",
    )
    assert closed.status_code == 200, closed.json()
    data = closed.json()
    assert (
        data["shift"]["status"],
        data["shift"]["expected_cash"],
        data["shift"]["counted_cash"],
        data["shift"]["difference"],
    ) == ("closed", "116900.00", "116500.00", "-400.00")
    report = data["report"]
    assert report["sales_by_method"] == {
        "cash": {"count": 1, "amount": "23800.00"},
        "credit_card": {"count": 1, "amount": "10500.00"},
    }
    assert report["numbers_used"] == [  # the refund's credit note numbered from its own range
        {"prefix": "PFV", "kind": "pos", "first": "PFV1", "last": "PFV2", "count": 2},
        {"prefix": "NFV", "kind": "credit_note", "first": "NFV1", "last": "NFV1", "count": 1},
    ]
    assert report["sales_total"] == "34300.00" and report["tax_total"] == "4300.00"
    assert {t["name"]: t["amount"] for t in report["taxes"]} == {
        "IVA 19%": "3800.00",
        "IVA 5%": "500.00",
    }
    assert report["top_items"][0]["sku"] == "FV-iva5"
    assert report["counted_by_method"] == {
        "cash": {"expected": "116900.00", "counted": "116500.00", "difference": "-400.00"},
        "credit_card": {"expected": "10500.00", "counted": "10500.00", "difference": "0.00"},
    }
    assert (
        seller_a.post(
            f"/api/v1/shifts/{shift['id']}/close", {"counted": {"cash": "1"}}, format="json"
        ).status_code
        == 409
    )
    late = sell(
        seller_a,
        shop_a,
        [{"variant": shop_a.v("iva19"), "quantity": "1"}],
        [{"method": "cash", "amount": "20000"}],
    )
    assert late.status_code == 409
    with tenant_context(company_a):
        payment = Payment.objects.filter(method="cash").first()
    closed_void = owner_a.post(
        f"/api/v1/payments/{payment.id}/void", {"reason": "x"}, format="json"
    )
    assert closed_void.status_code == 409 and error_code(closed_void) == "shift_closed"


def test_cash_comes_out_of_a_drawer_only_if_it_holds_it(seller_a, owner_a, shop_a, company_a):
    shift = open_shift(seller_a, shop_a, cash="10000")
    # The cashier's own e-mail, and the owner's view of it (co-workers without the members
    # permission get null: inventory/tests/test_stock_api.py).
    assert shift["cashier"] == seller_a.user.email
    assert owner_a.get(f"/api/v1/shifts/{shift['id']}/").json()["cashier"] == seller_a.user.email
    sale = sell(
        seller_a,
        shop_a,
        [{"variant": shop_a.v("iva19"), "quantity": "2"}],
        [{"method": "credit_card", "amount": "23800"}],
    ).json()  # paid by card: the drawer still holds the opening 10,000

    def cash_out(amount):
        return seller_a.post(
            f"/api/v1/shifts/{shift['id']}/cash-movements",
            {"kind": "out", "amount": amount, "reason": "Proveedor"},
            format="json",
        )

    too_much = cash_out("10000.01")
    assert too_much.status_code == 409 and error_code(too_much) == "not_enough_cash"
    assert too_much.json()["error"]["in_drawer"] == "10000.00"
    refund = owner_a.post(
        "/api/v1/credit-notes/",
        {
            "invoice": sale["invoice"]["id"],
            "concept": "1",
            "reason": "Devolución",
            "refund_shift": shift["id"],
            "lines": [{"invoice_line": sale["invoice"]["lines"][0]["id"], "quantity": "1"}],
        },
        format="json",
    )  # 11,900 in cash from a drawer of 10,000
    assert refund.status_code == 409 and error_code(refund) == "not_enough_cash"
    with tenant_context(company_a):
        assert not CashMovement.objects.exists()
        assert not Invoice.objects.get(pk=sale["invoice"]["id"]).credit_notes.exists()
    assert cash_out("10000").status_code == 201
    assert cash_out("0.01").status_code == 409  # now empty
    closed = seller_a.post(
        f"/api/v1/shifts/{shift['id']}/close", {"counted": {"cash": "0"}}, format="json"
    )
    assert closed.status_code == 200 and closed.json()["shift"]["cashier"] == seller_a.user.email
    report = seller_a.get(f"/api/v1/shifts/{shift['id']}/report").json()
    assert report["cash"]["expected"] == "0.00"


def test_close_needs_the_cash_count_and_known_methods(seller_a, shop_a):
    shift = open_shift(seller_a, shop_a)
    assert (
        seller_a.post(
            f"/api/v1/shifts/{shift['id']}/close", {"counted": {}}, format="json"
        ).status_code
        == 400
    )
    assert (
        seller_a.post(
            f"/api/v1/shifts/{shift['id']}/close",
            {"counted": {"cash": "1", "bitcoin": "2"}},
            format="json",
        ).status_code
        == 400
    )


def test_an_admin_closes_another_cashiers_shift_a_seller_cannot(
    seller_a, shop_a, company_a, client_as
):
    shift = open_shift(seller_a, shop_a)
    other = client_as(company_a, Role.SELLER)
    assert (
        other.post(
            f"/api/v1/shifts/{shift['id']}/close", {"counted": {"cash": "0"}}, format="json"
        ).status_code
        == 404
    )
    admin = client_as(company_a, Role.ADMIN)
    closed = admin.post(
        f"/api/v1/shifts/{shift['id']}/close", {"counted": {"cash": "100000"}}, format="json"
    )
    assert closed.status_code == 200 and closed.json()["shift"]["difference"] == "0.00"


def test_idempotent_pos_sale(seller_a, shop_a, company_a):
    open_shift(seller_a, shop_a)
    body = {
        "lines": [{"variant": shop_a.v("iva19"), "quantity": "1"}],
        "tenders": [{"method": "cash", "amount": "20000"}],
    }
    first = seller_a.post(SALES, body, format="json", HTTP_IDEMPOTENCY_KEY="ticket-77")
    retry = seller_a.post(SALES, body, format="json", HTTP_IDEMPOTENCY_KEY="ticket-77")
    assert first.status_code == retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    # The first answer is rendered once, before it is stored: DRF's own rendering of its data,
    # and what the retry gets back.
    assert first["Content-Type"] == retry["Content-Type"] == "application/json"
    assert first.content == ORJSONRenderer().render(first.data)
    assert retry.json() == first.json()
    with tenant_context(company_a):
        stored = IdempotencyRecord.objects.get(key="ticket-77")
        assert stored.status_code == 201 and stored.response_body == first.json()

    assert (
        seller_a.post(
            SALES, {**body, "notes": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="ticket-77"
        ).status_code
        == 409
    )
    with tenant_context(company_a):
        assert Invoice.objects.count() == 1 and Payment.objects.count() == 1


def test_an_idempotent_answer_is_rendered_once_and_stored_as_rendered(
    seller_a, shop_a, company_a, monkeypatch
):
    """The sale's answer is encoded to JSON once, by DRF's renderer: the bytes sent are the
    bytes stored, never the answer encoded again for the record (by the JSON field's encoder,
    as before)."""
    from django.core.serializers.json import DjangoJSONEncoder

    open_shift(seller_a, shop_a)
    rendered, encoded_again = [], []

    def spy(original, seen):
        def call(self, data, *args, **kwargs):
            if isinstance(data, dict) and "invoice" in data:  # not the request's own body
                seen.append(data)
            return original(self, data, *args, **kwargs)

        return call

    monkeypatch.setattr(ORJSONRenderer, "render", spy(ORJSONRenderer.render, rendered))
    monkeypatch.setattr(DjangoJSONEncoder, "encode", spy(DjangoJSONEncoder.encode, encoded_again))
    body = {
        "lines": [{"variant": shop_a.v("iva19"), "quantity": "1"}],
        "tenders": [{"method": "cash", "amount": "20000"}],
    }
    sale = seller_a.post(SALES, body, format="json", HTTP_IDEMPOTENCY_KEY="ticket-78")
    assert sale.status_code == 201
    assert len(rendered) == 1 and encoded_again == []
    with tenant_context(company_a):
        assert IdempotencyRecord.objects.get(key="ticket-78").response_body == sale.json()


def test_idempotency_keys_belong_to_the_user_who_sent_them(seller_a, shop_a, company_a, client_as):
    """Two tills counting keys from 1 make two sales; nobody replays another user's answer."""
    other_seller = client_as(company_a, Role.SELLER)
    with tenant_context(company_a):
        other_register = CashRegister.objects.create(pdv=shop_a.pdv, name="Caja 2")
    open_shift(seller_a, shop_a)
    opened = other_seller.post(
        "/api/v1/shifts/", {"register": str(other_register.id), "opening_cash": "0"}, format="json"
    )
    assert opened.status_code == 201
    body = {
        "lines": [{"variant": shop_a.v("iva19"), "quantity": "1"}],
        "tenders": [{"method": "cash", "amount": "20000"}],
    }
    mine = seller_a.post(SALES, body, format="json", HTTP_IDEMPOTENCY_KEY="1")
    theirs = other_seller.post(SALES, body, format="json", HTTP_IDEMPOTENCY_KEY="1")
    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert theirs.json()["invoice"]["id"] != mine.json()["invoice"]["id"]
    with tenant_context(company_a):
        assert Invoice.objects.count() == 2
        assert Payment.objects.filter(shift_id=opened.json()["id"]).count() == 1


def test_an_idempotency_key_names_the_operation_not_the_spelling_of_its_url(
    owner_a, shop_a, company_a
):
    """A payment retried with the invoice's UUID written without hyphens is the same request."""
    invoice = issue_invoice(owner_a, shop_a)
    pay = {"method": "transfer", "amount": "5000"}
    first = owner_a.post(
        f"/api/v1/invoices/{invoice['id']}/payments", pay, format="json", HTTP_IDEMPOTENCY_KEY="p"
    )
    retry = owner_a.post(
        f"/api/v1/invoices/{invoice['id'].replace('-', '')}/payments",
        pay,
        format="json",
        HTTP_IDEMPOTENCY_KEY="p",
    )
    assert first.status_code == retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true" and retry.json() == first.json()
    with tenant_context(company_a):
        assert Payment.objects.count() == 1


@pytest.mark.parametrize("role", ALL_ROLES)
def test_pos_roles(shop_a, company_a, client_as, role):
    client = client_as(company_a, role)
    sells = role in {Role.OWNER, Role.ADMIN, Role.SELLER}
    opened = client.post(
        "/api/v1/shifts/", {"register": str(shop_a.register.id), "opening_cash": "0"}, format="json"
    )
    assert opened.status_code == (201 if sells else 403)
    sale = sell(
        client,
        shop_a,
        [{"variant": shop_a.v("iva19"), "quantity": "1"}],
        [{"method": "cash", "amount": "11900"}],
    )
    assert sale.status_code == (201 if sells else 403)
    assert client.get("/api/v1/shifts/").status_code == 200
    registers = client.post(
        "/api/v1/cash-registers/", {"pdv": str(shop_a.pdv.id), "name": "Caja X"}, format="json"
    )
    assert registers.status_code == (201 if role in {Role.OWNER, Role.ADMIN} else 403)
    with tenant_context(company_a):
        assert Shift.objects.count() == (1 if sells else 0)


def test_cross_tenant_ids_in_pos_payloads(seller_a, shop_a, shop_b, company_a, company_b, owner_a):
    open_shift(seller_a, shop_a)
    own_line = [{"variant": shop_a.v("iva19"), "quantity": "1"}]
    cash = [{"method": "cash", "amount": "20000"}]
    for payload in (
        {"customer": str(shop_b.customer.id)},
        {"lines": [{"variant": shop_b.v("iva19"), "quantity": "1"}]},
    ):
        response = seller_a.post(
            SALES, {"lines": own_line, "tenders": cash, **payload}, format="json"
        )
        assert response.status_code == 400, payload
    with tenant_context(company_b):
        from pos.models import CashRegister

        register_b = CashRegister.objects.get()
        shift_b = Shift.objects.create(register=register_b, user=seller_a.user, opening_cash=0)
    assert (
        seller_a.post(
            "/api/v1/shifts/", {"register": str(register_b.id), "opening_cash": "0"}, format="json"
        ).status_code
        == 400
    )
    for url in (f"/api/v1/shifts/{shift_b.id}/", f"/api/v1/shifts/{shift_b.id}/report"):
        assert owner_a.get(url).status_code == 404
    assert (
        owner_a.post(
            f"/api/v1/shifts/{shift_b.id}/close", {"counted": {"cash": "0"}}, format="json"
        ).status_code
        == 404
    )
    assert (
        owner_a.post(
            f"/api/v1/shifts/{shift_b.id}/cash-movements",
            {"kind": "out", "amount": "5", "reason": "x"},
            format="json",
        ).status_code
        == 404
    )
    assert owner_a.get(f"/api/v1/cash-registers/{register_b.id}/").status_code == 404
    with tenant_context(company_a):
        assert not Invoice.objects.exists()
    with tenant_context(company_b):
        assert Shift.objects.get(pk=shift_b.pk).status == "open"
        assert not CashMovement.objects.exists()


def test_pos_sale_queries_do_not_grow_with_lines(seller_a, shop_a):
    """Variants are resolved, priced, locked and moved in bulk: one line or five cost the same
    number of SQL statements (the cashier's scanner adds lines, not round trips). The count is
    pinned: a statement added to the sale must be a decision, not an accident."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    open_shift(seller_a, shop_a)
    names = ["iva19", "iva5", "excluido", "inc8", "rounding"]
    counts = []
    for chosen in (names[:1], names):
        lines = [{"variant": shop_a.v(name), "quantity": "1"} for name in chosen]
        with CaptureQueriesContext(connection) as queries:
            response = sell(seller_a, shop_a, lines, [{"method": "cash", "amount": "100000"}])
        assert response.status_code == 201, response.json()
        assert len(response.json()["invoice"]["lines"]) == len(chosen)
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    # The user, the tenant setting, the plan mode; variants and their taxes; shift, customer,
    # price list; the number; stock rows found, locked and updated; ledger, invoice, lines and
    # payment inserted: 16, plus the savepoint pair of the test's transaction (no
    # Idempotency-Key here, which adds its reservation and the stored answer).
    assert counts[0] <= 18, counts


def test_a_sale_of_total_zero_is_paid_takes_no_tender_and_can_be_voided(owner_a, shop_a, company_a):
    open_shift(owner_a, shop_a)
    gift = [{"variant": shop_a.v("iva19"), "quantity": "1", "discount_pct": "100"}]
    sold = sell(owner_a, shop_a, gift, [])
    assert sold.status_code == 201, sold.json()
    invoice = sold.json()["invoice"]
    assert (invoice["total"], invoice["balance"], invoice["status"]) == ("0.00", "0.00", "paid")
    assert invoice["payments"] == []
    assert (
        sell(owner_a, shop_a, [{"variant": shop_a.v("iva19"), "quantity": "1"}], []).status_code
        == 400
    )
    issued = owner_a.post(
        "/api/v1/invoices/",
        {
            "pdv": str(shop_a.pdv.id),
            "customer": str(shop_a.customer.id),
            "issue": True,
            "lines": gift,
        },
        format="json",
    ).json()
    assert (issued["status"], issued["balance"]) == ("paid", "0.00")
    voided = owner_a.post(
        f"/api/v1/invoices/{issued['id']}/void", {"reason": "Error"}, format="json"
    )
    assert voided.status_code == 200 and voided.json()["status"] == "void"
    with tenant_context(company_a):
        assert Payment.objects.count() == 0


def test_the_shift_report_tells_sales_from_collections(owner_a, shop_a):
    """Cash taken on an earlier credit invoice is in the drawer, not in the shift's sales."""
    credit = issue_invoice(owner_a, shop_a)
    shift = open_shift(owner_a, shop_a, cash="0")
    sold = sell(
        owner_a,
        shop_a,
        [{"variant": shop_a.v("iva19"), "quantity": "1"}],
        [{"method": "cash", "amount": "11900"}],
    )
    assert sold.status_code == 201
    collected = owner_a.post(
        f"/api/v1/invoices/{credit['id']}/payments",
        {"method": "cash", "amount": "5000"},
        format="json",
    )
    assert collected.status_code == 201
    report = owner_a.get(f"/api/v1/shifts/{shift['id']}/report").json()
    assert report["sales_by_method"] == {"cash": {"count": 1, "amount": "11900.00"}}
    assert report["collections_by_method"] == {"cash": {"count": 1, "amount": "5000.00"}}
    assert (report["cash"]["cash_sales"], report["cash"]["cash_collections"]) == (
        "11900.00",
        "5000.00",
    )
    assert report["cash"]["expected"] == "16900.00"


def test_a_cashier_with_an_open_shift_is_not_left_out_of_the_point_of_sale(
    owner_a, seller_a, shop_a, company_a, make_member
):
    open_shift(seller_a, shop_a)
    other = make_member(company_a, Role.SELLER)
    url = f"/api/v1/pdvs/{shop_a.pdv.id}/"
    refused = owner_a.patch(url, {"allowed_users": [str(other.id)]}, format="json")
    assert refused.status_code == 409 and error_code(refused) == "shift_open"
    with tenant_context(company_a):
        assert not PDVAccess.objects.exists()
    kept = owner_a.patch(
        url, {"allowed_users": [str(other.id), str(seller_a.user.id)]}, format="json"
    )
    assert kept.status_code == 200
    # A suspended cashier's open shift cannot sell: it does not hold the list back.
    from accounts.models import Membership

    Membership.objects.filter(user=seller_a.user, company=company_a).update(is_active=False)
    assert owner_a.patch(url, {"allowed_users": [str(other.id)]}, format="json").status_code == 200


def test_a_deactivated_default_seller_does_not_stop_sales_to_its_customers(owner_a, shop_a):
    """The final consumer's (a "house seller") and a customer's: the sale is then made without
    a seller, as a customer's inactive price list gives way to the default one."""
    seller = owner_a.post("/api/v1/sellers/", {"name": "Casa"}, format="json").json()
    for contact in (shop_a.consumer, shop_a.customer):
        patched = owner_a.patch(
            f"/api/v1/contacts/{contact.id}/", {"default_seller": seller["id"]}, format="json"
        )
        assert patched.status_code == 200, patched.json()
    open_shift(owner_a, shop_a)
    line = [{"variant": shop_a.v("iva19"), "quantity": "1"}]
    cash = [{"method": "cash", "amount": "20000"}]
    before = sell(owner_a, shop_a, line, cash)
    assert before.status_code == 201 and before.json()["invoice"]["seller"] == seller["id"]
    off = owner_a.patch(f"/api/v1/sellers/{seller['id']}/", {"is_active": False}, format="json")
    assert off.status_code == 200
    counter = sell(owner_a, shop_a, line, cash)
    assert counter.status_code == 201, counter.json()
    on_account = sell(owner_a, shop_a, line, cash, customer=str(shop_a.customer.id))
    assert on_account.status_code == 201, on_account.json()
    invoice = owner_a.post(
        "/api/v1/invoices/",
        {
            "pdv": str(shop_a.pdv.id),
            "customer": str(shop_a.customer.id),
            "issue": True,
            "lines": line,
        },
        format="json",
    )
    assert invoice.status_code == 201, invoice.json()
    sellers = [sale.json()["invoice"]["seller"] for sale in (counter, on_account)]
    assert sellers + [invoice.json()["seller"]] == [None, None, None]


def test_a_float_or_cash_in_the_close_could_not_add_up_is_refused(owner_a, shop_a):
    """12 integer digits at most (`DRAWER_CASH`), as on the pages: a cash in of 16 was taken
    and every close of the shift then overflowed the expected cash."""
    huge = "9999999999999999.99"
    refused = owner_a.post(
        "/api/v1/shifts/",
        {"register": str(shop_a.register.id), "opening_cash": huge},
        format="json",
    )
    assert refused.status_code == 400 and "opening_cash" in refused.json()["error"]["fields"]
    shift = open_shift(owner_a, shop_a, cash="999999999999.99")  # the most a float may be
    movements = f"/api/v1/shifts/{shift['id']}/cash-movements"
    cash_in = {"kind": "in", "amount": huge, "reason": "cambio"}
    refused = owner_a.post(movements, cash_in, format="json")
    assert refused.status_code == 400 and "amount" in refused.json()["error"]["fields"]
    with tenant_context(shop_a.company):
        assert not CashMovement.objects.exists()
    # The services hold the same limit, whoever calls them.
    from ally360.exceptions import ValidationFailed
    from pos.models import Shift as ShiftRow
    from pos.services import shift_cash_movement

    with tenant_context(shop_a.company), pytest.raises(ValidationFailed):
        shift_cash_movement(
            shift=ShiftRow.objects.get(pk=shift["id"]),
            user=owner_a.user,
            role="owner",
            kind="in",
            amount=Decimal("1000000000000"),
            reason="cambio",
            cash_in_drawer=lambda _shift: Decimal("0"),
        )
    cash_in["amount"] = "999999999999.99"
    assert owner_a.post(movements, cash_in, format="json").status_code == 201
    counted = {"counted": {"cash": "1999999999999.98"}}
    closed = owner_a.post(f"/api/v1/shifts/{shift['id']}/close", counted, format="json")
    assert closed.status_code == 200, closed.json()
    assert closed.json()["shift"]["difference"] == "0.00"


def test_a_cash_refund_from_a_named_drawer_is_its_cashiers_or_a_managers(
    seller_a, owner_a, shop_a, company_a, client_as
):
    """An accountant keeps no drawer: naming a cashier's shift is a 403 `not_your_shift`,
    nothing written; a refund by transfer needs none; an admin refunds from any drawer."""
    shift = open_shift(seller_a, shop_a, cash="50000")
    sale = sell(
        seller_a,
        shop_a,
        [{"variant": shop_a.v("iva19"), "quantity": "3"}],
        [{"method": "cash", "amount": "35700"}],
    ).json()

    def refund(client, **extra):
        return credit_note(client, sale["invoice"], "1", **extra)

    accountant = client_as(company_a, Role.ACCOUNTANT)
    refused = refund(accountant, refund_shift=shift["id"])
    assert refused.status_code == 403 and error_code(refused) == "not_your_shift"
    with tenant_context(company_a):
        assert not Invoice.objects.get(pk=sale["invoice"]["id"]).credit_notes.exists()
    by_transfer = refund(accountant, refund_method="transfer")
    assert by_transfer.status_code == 201, by_transfer.json()
    admin = client_as(company_a, Role.ADMIN)
    from_drawer = refund(admin, refund_shift=shift["id"])
    assert from_drawer.status_code == 201, from_drawer.json()
    report = seller_a.get(f"/api/v1/shifts/{shift['id']}/report").json()
    assert report["cash"]["expected"] == "73800.00"  # 50,000 + 35,700 − 11,900


def test_a_card_terminal_s_closing_total_below_0_is_counted_cash_is_not(seller_a, owner_a, shop_a):
    """A refund to a card beyond what the card took in the shift: the terminal closes below 0
    and the close takes it as counted (it answered 400, so the report showed a surplus)."""
    shift = open_shift(seller_a, shop_a, cash="0")
    sale = sell(
        seller_a,
        shop_a,
        [{"variant": shop_a.v("iva19"), "quantity": "2"}],
        [{"method": "cash", "amount": "23800"}],
    ).json()
    refund = credit_note(
        owner_a, sale["invoice"], "1", refund_method="credit_card", refund_shift=shift["id"]
    )
    assert refund.status_code == 201, refund.json()
    close = f"/api/v1/shifts/{shift['id']}/close"
    below = seller_a.post(close, {"counted": {"cash": "-1"}}, format="json")
    assert below.status_code == 400 and "counted.cash" in below.json()["error"]["fields"]
    assert seller_a.get(f"/api/v1/shifts/{shift['id']}/").json()["status"] == "open"
    counted = {"cash": "23800", "credit_card": "-11900"}
    closed = seller_a.post(close, {"counted": counted}, format="json")
    assert closed.status_code == 200, closed.json()
    report = seller_a.get(f"/api/v1/shifts/{shift['id']}/report").json()
    card = report["counted_by_method"]["credit_card"]
    assert (card["expected"], card["counted"], card["difference"]) == (
        "-11900.00",
        "-11900.00",
        "0.00",
    )
