"""Voiding an open invoice from its page: `invoice_void`, goods back to stock, the number kept;
refused with payments; managers only; another company's invoice is a 404."""

from __future__ import annotations

import uuid

import pytest

from ally360.roles import Role
from ally360.tenancy import tenant_context
from inventory.models import Stock
from invoices.models import Invoice
from invoices.tests.test_pages import _credit_invoice, open_shift, pages_as, sale_data

pytestmark = pytest.mark.django_db


def void(reason="Cliente desistió", key=None) -> dict:
    return {"reason": reason, "void_key": key or str(uuid.uuid4())}


def on_credit(shop) -> Invoice:
    """A sale on credit of 2 × iva19 (owes 23,800) by a seller with a shift."""
    return _credit_invoice(shop, pages_as(shop.company))


def stock(shop) -> int:
    with tenant_context(shop.company):
        return Stock.objects.get(variant=shop.variants["iva19"]).quantity


def test_an_open_invoice_is_voided_and_its_goods_come_back(shop_a):
    invoice = on_credit(shop_a)
    assert stock(shop_a) == 98
    owner = pages_as(shop_a.company, Role.OWNER)
    url = f"/invoices/{invoice.pk}/void/"
    assert b"void-form" in owner.get(f"/invoices/{invoice.pk}/").content
    data = void()
    response = owner.post(url, data)
    assert response.status_code == 302 and response["Location"] == f"/invoices/{invoice.pk}/"
    with tenant_context(shop_a.company):
        invoice.refresh_from_db()
    assert (invoice.status, invoice.void_reason, invoice.balance) == ("void", "Cliente desistió", 0)
    assert stock(shop_a) == 100
    page = owner.get(response["Location"]).content.decode()
    assert f"Factura {invoice.full_number} anulada" in page and "void-form" not in page
    assert owner.post(url, data).status_code == 302  # the same form again: nothing more
    assert stock(shop_a) == 100


def test_a_paid_invoice_or_no_reason_is_refused_on_the_form(shop_a):
    invoice = on_credit(shop_a)
    owner = pages_as(shop_a.company, Role.OWNER)
    url = f"/invoices/{invoice.pk}/void/"
    blank = owner.post(url, void(reason=" "))
    assert blank.status_code == 400 and blank.context["void_form"].errors["reason"]
    paid = owner.post(
        f"/invoices/{invoice.pk}/payments/",
        {"method": "transfer", "amount": "1000", "reference": "T1", "payment_key": uuid.uuid4()},
    )
    assert paid.status_code == 302
    refused = owner.post(url, void())
    assert refused.status_code == 400
    assert "pagos" in " ".join(refused.context["void_form"].non_field_errors())
    with tenant_context(shop_a.company):
        invoice.refresh_from_db()
    assert invoice.status == "open" and stock(shop_a) == 98


@pytest.mark.parametrize("role", [Role.SELLER, Role.ACCOUNTANT, Role.VIEWER])
def test_only_owners_and_admins_void(shop_a, role):
    invoice = on_credit(shop_a)
    client = pages_as(shop_a.company, role)
    assert client.post(f"/invoices/{invoice.pk}/void/", void()).status_code == 403
    assert b"void-form" not in client.get(f"/invoices/{invoice.pk}/").content
    with tenant_context(shop_a.company):
        assert Invoice.objects.get().status == "open"


def test_another_company_s_invoice_is_404(shop_a, shop_b):
    invoice = on_credit(shop_a)
    other = pages_as(shop_b.company, Role.OWNER)
    assert other.post(f"/invoices/{invoice.pk}/void/", void()).status_code == 404
    with tenant_context(shop_a.company):
        assert Invoice.objects.get().status == "open"
    assert stock(shop_a) == 98


def test_the_void_form_is_not_offered_on_a_paid_sale_it_can_never_void(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    open_shift(owner, shop_a)
    sold = owner.post("/pos/sale/", sale_data([("FV-iva19", "1")], cash="20000"))
    assert sold.status_code == 302
    with tenant_context(shop_a.company):
        invoice = Invoice.objects.get()
    assert invoice.status == "paid"
    assert b"void-form" not in owner.get(f"/invoices/{invoice.pk}/").content


def test_a_void_form_sent_again_says_so(shop_a):
    invoice = on_credit(shop_a)
    owner = pages_as(shop_a.company, Role.OWNER)
    data = void()
    assert owner.post(f"/invoices/{invoice.pk}/void/", data).status_code == 302
    again = owner.post(f"/invoices/{invoice.pk}/void/", data)
    assert "Esta factura ya estaba anulada" in owner.get(again["Location"]).content.decode()
