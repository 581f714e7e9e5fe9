"""The cash page (`/pos/cash/`): what the drawer can hold and give, whose shift, once per form."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from ally360.roles import Role
from ally360.tenancy import tenant_context
from invoices.tests.test_pages import cash_data, open_shift, pages_as, shop  # noqa: F401
from pos.models import CashMovement, Shift

pytestmark = pytest.mark.django_db


def test_a_huge_cash_in_leaves_the_shift_closable(shop):  # noqa: F811
    """The form takes 16 integer digits, as the movement's column; the drawer's expected cash
    (same column) then overflows at the close: a 500 and a shift that cannot be closed."""
    client = pages_as(shop.company)
    client.raise_request_exception = False
    open_shift(client, shop, cash="50000")
    response = client.post("/pos/cash/", cash_data("in", "9999999999999999.99", reason="x"))
    if response.status_code == 400:
        return  # refused at the form: fine
    assert response.status_code == 302, response.status_code
    closed = client.post("/pos/close/", {"counted_cash": "50000"})
    assert closed.status_code == 302, closed.status_code


def test_the_not_enough_cash_error_shows_money_as_the_page_does(shop):  # noqa: F811
    client = pages_as(shop.company)
    open_shift(client, shop, cash="30000")
    response = client.post("/pos/cash/", cash_data("out", "30000.01"))
    assert response.status_code == 400
    errors = [" ".join(e) for e in response.context["form"].errors.values()]
    assert errors and "30.000,00" in errors[0] and "30.000,01" in errors[0], errors


def test_sellers_move_only_their_own_shift_s_cash_and_tenants_stay_apart(shop, shop_b):  # noqa: F811
    one, other = pages_as(shop.company), pages_as(shop.company)
    open_shift(one, shop, cash="50000")
    # the other seller has no shift: nothing moves in the first seller's shift
    assert other.post("/pos/cash/", cash_data("out", "100"))["Location"] == "/pos/"
    # a member of company B with the same session trick reaches only B's shifts
    theirs = pages_as(shop_b.company)
    assert theirs.post("/pos/cash/", cash_data("out", "100"))["Location"] == "/pos/"
    with tenant_context(shop.company):
        assert not CashMovement.objects.exists()


def test_a_form_opened_in_one_shift_is_not_spent_in_the_next(shop):  # noqa: F811
    """Form shown during shift 1, shift closed and reopened, the old form sent: the
    withdrawal lands in shift 2 without a word (the form names no shift)."""
    client = pages_as(shop.company)
    open_shift(client, shop, cash="50000")
    shown = client.get("/pos/cash/").content.decode()
    form = cash_data("out", "20000")
    hidden = re.search(r'name="shift" value="([^"]+)"', shown)
    if hidden:  # the form as the page shows it
        form["shift"] = hidden.group(1)
    client.post("/pos/close/", {"counted_cash": "50000"})
    open_shift(client, shop, cash="50000")
    client.post("/pos/cash/", form)
    with tenant_context(shop.company):
        second = Shift.objects.get(status=Shift.Status.OPEN)
        moved = list(CashMovement.objects.filter(shift=second).values_list("amount", flat=True))
    assert moved == [], moved


def test_the_same_form_resent_after_a_refusal_with_a_fixed_amount_goes_through(shop):  # noqa: F811
    """Too much out, the seller fixes the amount on the same form (same key): one movement."""
    client = pages_as(shop.company)
    open_shift(client, shop, cash="30000")
    form = cash_data("out", "40000")
    assert client.post("/pos/cash/", form).status_code == 400
    form["amount"] = "10000"
    response = client.post("/pos/cash/", form)
    assert response.status_code == 302, response.context["form"].errors
    with tenant_context(shop.company):
        assert [m.amount for m in CashMovement.objects.all()] == [Decimal("10000.00")]


def test_an_accountant_or_viewer_post_is_403(shop):  # noqa: F811
    for role in (Role.ACCOUNTANT, Role.VIEWER):
        assert (
            pages_as(shop.company, role).post("/pos/cash/", cash_data("in", "1")).status_code == 403
        )
