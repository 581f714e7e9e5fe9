"""The invoice page's return of goods: a return credit note (concept 1) through
`services.credit_note_create`, the goods back in stock, the refund out of the user's drawer."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from ally360.roles import Role
from ally360.tenancy import tenant_context
from inventory.models import Stock
from invoices.models import CreditNote, Invoice, Payment
from invoices.selectors import shift_report
from invoices.tests.test_pages import open_shift, pages_as, sale_data
from pos.models import Shift

pytestmark = pytest.mark.django_db


def returned(invoice, quantities: dict, *, key=None, **fields) -> dict:
    """The return form's POST: {line: quantity}, a new form each time unless `key` is given."""
    data = {
        "reason": "El cliente lo devolvió",
        "return_stock": "on",
        "refund_method": "cash",
        "note_key": key or str(uuid.uuid4()),
    }
    with tenant_context(invoice.tenant_id):
        for line in invoice.lines.all():
            data[f"line_{line.pk}"] = quantities.get(line.pk, "")
    data.update(fields)
    return data


def sold(shop, client, lines=(("FV-iva19", "3"),), **fields) -> Invoice:
    response = client.post("/pos/sale/", sale_data(list(lines), cash="100000", **fields))
    assert response.status_code == 302, response.content
    with tenant_context(shop.company):
        return Invoice.objects.latest("created_at")


def stock_of(shop, name="iva19") -> Decimal:
    with tenant_context(shop.company):
        return Stock.objects.get(variant=shop.variants[name]).quantity


def test_goods_brought_back_go_to_stock_and_the_cash_comes_out_of_the_drawer(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    open_shift(owner, shop_a)
    invoice = sold(shop_a, owner)  # 3 × 11,900 paid in cash
    assert stock_of(shop_a) == 97
    url = f"/invoices/{invoice.pk}/return/"
    assert b'href="' + url.encode() + b'"' in owner.get(f"/invoices/{invoice.pk}/").content
    page = owner.get(url)
    assert page.status_code == 200 and "Devolución de mercancía" in page.content.decode()
    with tenant_context(shop_a.company):
        line = invoice.lines.get()
        response = owner.post(url, returned(invoice, {line.pk: "1"}))
    assert response.status_code == 302 and response["Location"] == f"/invoices/{invoice.pk}/"
    with tenant_context(shop_a.company):
        note = CreditNote.objects.get()
        shift = Shift.objects.get()
        report = shift_report(shift)
    assert (note.concept, note.total, note.refund_amount) == ("1", Decimal("11900.00"), 11900)
    assert note.refund_method == "cash" and note.return_stock
    assert stock_of(shop_a) == 98
    assert report["cash"]["expected"] == "73800.00"  # 50,000 + 3 × 11,900 - 11,900
    shown = owner.get(response["Location"]).content.decode()
    assert f"Nota crédito {note.full_number} por 11.900,00" in shown
    # What is left to return is what was sold less what came back.
    assert "Se puede devolver" in owner.get(url).content.decode()
    assert owner.get(url).context["form"].lines[0]["returnable"] == 2


def test_more_than_is_left_nothing_or_no_reason_is_a_form_error_and_writes_nothing(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    open_shift(owner, shop_a)
    invoice = sold(shop_a, owner)
    url = f"/invoices/{invoice.pk}/return/"
    with tenant_context(shop_a.company):
        line = invoice.lines.get()
    above = owner.post(url, returned(invoice, {line.pk: "4"}))
    assert above.status_code == 400
    assert "como máximo 3" in " ".join(above.context["form"].errors[f"line_{line.pk}"])
    nothing = owner.post(url, returned(invoice, {}))
    assert nothing.status_code == 400 and nothing.context["form"].non_field_errors()
    no_reason = owner.post(url, returned(invoice, {line.pk: "1"}, reason=" "))
    assert no_reason.status_code == 400 and no_reason.context["form"].errors["reason"]
    negative = owner.post(url, returned(invoice, {line.pk: "-1"}))
    assert negative.status_code == 400
    with tenant_context(shop_a.company):
        assert not CreditNote.objects.exists()
    assert stock_of(shop_a) == 97


def test_a_return_form_sent_twice_issues_one_note(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    open_shift(owner, shop_a)
    invoice = sold(shop_a, owner)
    url = f"/invoices/{invoice.pk}/return/"
    with tenant_context(shop_a.company):
        data = returned(invoice, {invoice.lines.get().pk: "1"})
    assert owner.post(url, data).status_code == 302
    again = owner.post(url, data)
    assert again.status_code == 302
    with tenant_context(shop_a.company):
        assert CreditNote.objects.count() == 1
    assert stock_of(shop_a) == 98
    assert "Esta devolución ya estaba registrada" in owner.get(again["Location"]).content.decode()


def test_without_restocking_and_on_an_invoice_owed_nothing_is_refunded(shop_a):
    """Goods returned damaged stay out of stock; on a sale on credit the note lowers the balance
    and no money moves."""
    owner = pages_as(shop_a.company, Role.OWNER)
    open_shift(owner, shop_a)
    response = owner.post(
        "/pos/sale/", sale_data([("FV-iva19", "2")], action="credit", customer="900123456")
    )
    assert response.status_code == 302
    with tenant_context(shop_a.company):
        invoice = Invoice.objects.get()
        data = returned(invoice, {invoice.lines.get().pk: "1"})
    data.pop("return_stock")  # an unticked box is not sent
    response = owner.post(f"/invoices/{invoice.pk}/return/", data)
    assert response.status_code == 302
    with tenant_context(shop_a.company):
        invoice.refresh_from_db()
        note = CreditNote.objects.get()
    assert (note.return_stock, note.refund_amount, invoice.balance) == (False, 0, 11900)
    assert stock_of(shop_a) == 98
    assert "rebaja lo que debe la factura" in owner.get(response["Location"]).content.decode()


def test_a_cash_refund_needs_a_drawer_another_method_does_not(shop_a):
    seller = pages_as(shop_a.company)
    open_shift(seller, shop_a)
    invoice = sold(shop_a, seller)
    owner = pages_as(shop_a.company, Role.OWNER)  # at the office, no shift of their own
    url = f"/invoices/{invoice.pk}/return/"
    with tenant_context(shop_a.company):
        line = invoice.lines.get()
    cash = owner.post(url, returned(invoice, {line.pk: "1"}))
    assert cash.status_code == 400 and cash.context["form"].errors
    with tenant_context(shop_a.company):
        assert not CreditNote.objects.exists()
    transfer = owner.post(url, returned(invoice, {line.pk: "1"}, refund_method="transfer"))
    assert transfer.status_code == 302
    with tenant_context(shop_a.company):
        note = CreditNote.objects.get()
    assert (note.refund_method, note.refund_amount) == ("transfer", Decimal("11900.00"))


@pytest.mark.parametrize("role", [Role.SELLER, Role.VIEWER])
def test_roles_that_may_not_credit_get_403_and_no_link(shop_a, role):
    seller = pages_as(shop_a.company)
    open_shift(seller, shop_a)
    invoice = sold(shop_a, seller)
    client = pages_as(shop_a.company, role)
    url = f"/invoices/{invoice.pk}/return/"
    with tenant_context(shop_a.company):
        data = returned(invoice, {invoice.lines.get().pk: "1"}, refund_method="transfer")
    assert client.get(url).status_code == 403
    assert client.post(url, data).status_code == 403
    assert url.encode() not in client.get(f"/invoices/{invoice.pk}/").content
    accountant = pages_as(shop_a.company, Role.ACCOUNTANT)
    assert accountant.get(url).status_code == 200
    with tenant_context(shop_a.company):
        assert not CreditNote.objects.exists()


def test_another_company_s_invoice_is_404_and_nothing_is_written(shop_a, shop_b):
    seller = pages_as(shop_a.company)
    open_shift(seller, shop_a)
    invoice = sold(shop_a, seller)
    other = pages_as(shop_b.company, Role.OWNER)
    url = f"/invoices/{invoice.pk}/return/"
    with tenant_context(shop_a.company):
        data = returned(invoice, {invoice.lines.get().pk: "1"}, refund_method="transfer")
    assert other.get(url).status_code == 404
    assert other.post(url, data).status_code == 404
    with tenant_context(shop_a.company):
        assert not CreditNote.objects.exists()
        assert Payment.objects.count() == 1
    assert stock_of(shop_a) == 97


def test_the_limit_is_written_as_a_spanish_reader_reads_it(shop_a):
    """ "como máximo 3.000" reads three thousand in Spanish: it says 3."""
    owner = pages_as(shop_a.company, Role.OWNER)
    open_shift(owner, shop_a)
    invoice = sold(shop_a, owner)
    with tenant_context(shop_a.company):
        line = invoice.lines.get()
    above = owner.post(f"/invoices/{invoice.pk}/return/", returned(invoice, {line.pk: "4"}))
    error = " ".join(above.context["form"].errors[f"line_{line.pk}"])
    assert "como máximo 3 de iva19" in error, error


def test_a_return_a_stock_cannot_hold_is_a_form_error_not_a_500(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    open_shift(owner, shop_a)
    invoice = sold(shop_a, owner, lines=(("FV-iva19", "1"),))
    with tenant_context(shop_a.company):
        Stock.objects.filter(variant=shop_a.variants["iva19"]).update(
            quantity=Decimal("999999999999999.000")
        )
        line = invoice.lines.get()
    response = owner.post(f"/invoices/{invoice.pk}/return/", returned(invoice, {line.pk: "1"}))
    assert response.status_code == 400
    with tenant_context(shop_a.company):
        assert not CreditNote.objects.exists()


def test_a_void_invoice_takes_no_return(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    open_shift(owner, shop_a)
    invoice = sold(shop_a, owner)
    with tenant_context(shop_a.company):
        Invoice.objects.filter(pk=invoice.pk).update(status="void")
    response = owner.get(f"/invoices/{invoice.pk}/return/")
    assert response.status_code == 302 and response["Location"] == f"/invoices/{invoice.pk}/"
    assert (
        "Solo una factura emitida admite devoluciones"
        in owner.get(response["Location"]).content.decode()
    )
