"""Money taken at the counter belongs to the cashier's open shift, whatever its method: the
close counts the cash and checks the card terminal's and the wallets' totals against it."""

import pytest

from ally360.tenancy import tenant_context
from invoices.models import Payment
from invoices.tests.fixtures import issue_invoice
from invoices.tests.test_pos_api import open_shift

pytestmark = pytest.mark.django_db


def test_a_card_payment_at_the_counter_is_in_the_shift_and_its_close(owner_a, shop_a):
    invoice = issue_invoice(owner_a, shop_a)  # on credit: 11,900
    shift = open_shift(owner_a, shop_a, cash="0")
    paid = owner_a.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        {"method": "credit_card", "amount": "11900", "reference": "VOUCHER-1"},
        format="json",
    )
    assert paid.status_code == 201, paid.json()
    with tenant_context(shop_a.company):
        assert str(Payment.objects.get().shift_id) == shift["id"]
    report = owner_a.get(f"/api/v1/shifts/{shift['id']}/report").json()
    assert report["expected_by_method"]["credit_card"] == "11900.00"
    closed = owner_a.post(
        f"/api/v1/shifts/{shift['id']}/close", {"counted": {"cash": "0"}}, format="json"
    )
    assert closed.status_code == 200, closed.json()
    shift, report = closed.json()["shift"], closed.json()["report"]
    assert shift["expected"]["credit_card"] == "11900.00"
    assert shift["difference"] == "0.00"  # the drawer's cash: no card in it
    assert report["collections_by_method"] == {"credit_card": {"count": 1, "amount": "11900.00"}}


def test_money_recorded_by_someone_without_a_shift_is_in_none(owner_a, shop_a):
    invoice = issue_invoice(owner_a, shop_a)
    paid = owner_a.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        {"method": "transfer", "amount": "1000", "reference": "TRX-1"},
        format="json",
    )
    assert paid.status_code == 201
    with tenant_context(shop_a.company):
        assert Payment.objects.get().shift_id is None


def test_a_card_refund_at_the_counter_lowers_the_shift_s_card_total(owner_a, shop_a):
    from invoices.tests.test_invoices_api import credit_note

    shift = open_shift(owner_a, shop_a, cash="0")
    invoice = issue_invoice(owner_a, shop_a)
    paid = owner_a.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        {"method": "credit_card", "amount": "11900", "reference": "VOUCHER-1"},
        format="json",
    )
    assert paid.status_code == 201
    refunded = credit_note(owner_a, invoice, "1", refund_method="credit_card")
    assert refunded.status_code == 201, refunded.json()
    assert refunded.json()["refund_amount"] == "11900.00"
    report = owner_a.get(f"/api/v1/shifts/{shift['id']}/report").json()
    assert report["expected_by_method"].get("credit_card", "0.00") in ("0.00", "0")


def test_the_shift_report_explains_each_method_s_expected_total(owner_a, shop_a):
    """Sales plus collections less refunds, per method, is what the close expects: a card
    refund of a payment taken before the shift shows as a refund, not as an unexplained
    negative."""
    from invoices.tests.test_invoices_api import credit_note

    invoice = issue_invoice(owner_a, shop_a)
    owner_a.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        {"method": "credit_card", "amount": "11900", "reference": "V"},
        format="json",
    )  # no shift yet: at the office
    shift = open_shift(owner_a, shop_a, cash="0")
    assert credit_note(owner_a, invoice, "1", refund_method="credit_card").status_code == 201
    report = owner_a.get(f"/api/v1/shifts/{shift['id']}/report").json()
    assert report["refunds_by_method"] == {"credit_card": {"count": 1, "amount": "11900.00"}}
    assert report["expected_by_method"]["credit_card"] == "-11900.00"
