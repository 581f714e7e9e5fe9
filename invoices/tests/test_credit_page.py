"""The invoice page's credit notes for value (discount, price adjustment, other) and annulments,
through `services.credit_note_create` as `POST credit-notes/`: what is credited, what stock
does, the refund out of the drawer, and every refusal on the form with nothing written."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from ally360.roles import Role
from ally360.tenancy import tenant_context
from invoices.models import CreditNote, Invoice
from invoices.selectors import shift_report
from invoices.tests.test_pages import open_shift, pages_as, sale_data
from invoices.tests.test_return_page import sold, stock_of
from pos.models import Shift

pytestmark = pytest.mark.django_db


def credit(invoice, per_line: dict, *, concept="3", key=None, **fields) -> dict:
    """The credit form's POST: {line: (value per unit, units)}, a new form each time unless
    `key` is given."""
    data = {
        "concept": concept,
        "reason": "Descuento por pronto pago",
        "refund_method": "cash",
        "note_key": key or str(uuid.uuid4()),
    }
    with tenant_context(invoice.tenant_id):
        for line in invoice.lines.all():
            price, units = per_line.get(line.pk, ("", ""))
            data[f"unit_price_{line.pk}"] = price
            data[f"quantity_{line.pk}"] = units
    data.update(fields)
    return data


def sold_on_credit(shop, owner) -> Invoice:
    open_shift(owner, shop)
    response = owner.post(
        "/pos/sale/", sale_data([("FV-iva19", "3")], action="credit", customer="900123456")
    )
    assert response.status_code == 302
    with tenant_context(shop.company):
        return Invoice.objects.get()


def only_line(shop, invoice):
    with tenant_context(shop.company):
        return invoice.lines.get()


def test_a_discount_on_every_unit_credits_it_with_its_tax_and_refunds_it_from_the_drawer(
    shop_a,
):
    owner = pages_as(shop_a.company, Role.OWNER)
    open_shift(owner, shop_a)
    invoice = sold(shop_a, owner)  # 3 × 10,000 + 19 % VAT = 35,700, paid in cash
    url = f"/invoices/{invoice.pk}/credit/"
    assert b'href="' + url.encode() + b'"' in owner.get(f"/invoices/{invoice.pk}/").content
    page = owner.get(url)
    assert page.status_code == 200 and "Nota crédito de la factura" in page.content.decode()
    line = only_line(shop_a, invoice)
    response = owner.post(url, credit(invoice, {line.pk: ("1000", "")}))
    assert response.status_code == 302 and response["Location"] == f"/invoices/{invoice.pk}/"
    with tenant_context(shop_a.company):
        note = CreditNote.objects.get()
        credited = note.lines.get()
        report = shift_report(Shift.objects.get())
    assert (note.concept, note.total, note.tax_total) == ("3", Decimal("3570.00"), 570)
    assert (credited.quantity, credited.unit_price) == (3, 1000)
    assert (note.refund_amount, note.refund_method, note.return_stock) == (3570, "cash", False)
    assert stock_of(shop_a) == 97  # a discount gives no goods back
    assert report["cash"]["expected"] == "82130.00"  # 50,000 + 35,700 - 3,570
    shown = owner.get(response["Location"]).content.decode()
    assert f"Nota crédito {note.full_number} por 3.570,00" in shown
    # What is left to credit of the line is its total less the note.
    assert owner.get(url).context["form"].lines[0]["creditable"] == Decimal("32130.00")


def test_a_price_adjustment_on_some_units_of_an_owed_invoice_lowers_its_balance(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    invoice = sold_on_credit(shop_a, owner)  # 3 × 11,900 owed
    line = only_line(shop_a, invoice)
    response = owner.post(
        f"/invoices/{invoice.pk}/credit/", credit(invoice, {line.pk: ("500", "2")}, concept="4")
    )
    assert response.status_code == 302
    with tenant_context(shop_a.company):
        invoice.refresh_from_db()
        note = CreditNote.objects.get()
    assert (note.concept, note.total, note.refund_amount) == ("4", Decimal("1190.00"), 0)
    assert invoice.balance == Decimal("34510.00")  # 35,700 - 1,190
    assert "rebaja lo que debe la factura" in owner.get(response["Location"]).content.decode()


def test_an_annulment_credits_what_is_left_and_brings_the_goods_back_when_ticked(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    invoice = sold_on_credit(shop_a, owner)  # 3 × 11,900 owed
    # A unit came back first: the annulment credits the two left.
    line = only_line(shop_a, invoice)
    back = owner.post(
        f"/invoices/{invoice.pk}/return/",
        {
            "reason": "Devuelto",
            "return_stock": "on",
            "refund_method": "cash",
            "note_key": str(uuid.uuid4()),
            f"line_{line.pk}": "1",
        },
    )
    assert back.status_code == 302
    response = owner.post(
        f"/invoices/{invoice.pk}/credit/", credit(invoice, {}, concept="2", return_stock="on")
    )
    assert response.status_code == 302, response.context["form"].errors
    with tenant_context(shop_a.company):
        invoice.refresh_from_db()
        note = CreditNote.objects.get(concept="2")
        annulled = note.lines.get().quantity
    assert (note.total, annulled, note.return_stock) == (23800, 2, True)
    assert invoice.balance == 0
    assert stock_of(shop_a) == 100


def test_after_a_return_a_discount_covers_only_the_units_the_customer_kept(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    invoice = sold_on_credit(shop_a, owner)
    line = only_line(shop_a, invoice)
    back = owner.post(
        f"/invoices/{invoice.pk}/return/",
        {
            "reason": "Devuelto",
            "refund_method": "cash",
            "note_key": str(uuid.uuid4()),
            f"line_{line.pk}": "1",
        },
    )
    assert back.status_code == 302
    url = f"/invoices/{invoice.pk}/credit/"
    assert owner.get(url).context["form"].lines[0]["held"] == 2
    above = owner.post(url, credit(invoice, {line.pk: ("1000", "3")}))
    assert above.status_code == 400
    assert "Solo quedan 2 de iva19" in " ".join(above.context["form"].errors[f"quantity_{line.pk}"])
    assert owner.post(url, credit(invoice, {line.pk: ("1000", "")})).status_code == 302
    with tenant_context(shop_a.company):
        note = CreditNote.objects.get(concept="3")
        units = note.lines.get().quantity
    assert (units, note.total) == (2, Decimal("2380.00"))  # 2 × 1,000 + 19 % VAT


def test_refusals_are_form_errors_and_write_nothing(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    open_shift(owner, shop_a)
    invoice = sold(shop_a, owner)
    url = f"/invoices/{invoice.pk}/credit/"
    line = only_line(shop_a, invoice)
    price, units = f"unit_price_{line.pk}", f"quantity_{line.pk}"

    def refused(data) -> object:
        response = owner.post(url, data)
        assert response.status_code == 400
        return response.context["form"]

    above = refused(credit(invoice, {line.pk: ("10001", "")}))
    assert "por encima de su precio facturado" in " ".join(above.errors[price])
    assert refused(credit(invoice, {line.pk: ("", "2")})).errors[price]  # units, no value
    assert refused(credit(invoice, {line.pk: ("100", "4")})).errors[units]  # 3 were sold
    assert refused(credit(invoice, {line.pk: ("-5", "")})).errors[price]
    assert refused(credit(invoice, {line.pk: ("100", "0")})).errors[units]
    assert refused(credit(invoice, {})).non_field_errors()  # a discount of nothing
    assert refused(credit(invoice, {line.pk: ("100", "")}, reason=" ")).errors["reason"]
    stocked = refused(credit(invoice, {line.pk: ("100", "")}, return_stock="on"))
    assert "Solo las devoluciones" in " ".join(stocked.errors["return_stock"])
    annulment = refused(credit(invoice, {line.pk: ("100", "")}, concept="2"))
    assert "no envíe líneas" in " ".join(annulment.non_field_errors())
    assert refused(credit(invoice, {line.pk: ("100", "")}, concept="1")).errors["concept"]
    with tenant_context(shop_a.company):
        assert not CreditNote.objects.exists()
        assert not Invoice.objects.get().credited_total
    assert stock_of(shop_a) == 97


def test_a_credit_form_sent_twice_issues_one_note(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    open_shift(owner, shop_a)
    invoice = sold(shop_a, owner)
    url = f"/invoices/{invoice.pk}/credit/"
    data = credit(invoice, {only_line(shop_a, invoice).pk: ("1000", "")})
    assert owner.post(url, data).status_code == 302
    again = owner.post(url, data)
    assert again.status_code == 302
    with tenant_context(shop_a.company):
        assert CreditNote.objects.count() == 1
    assert "Esta nota crédito ya estaba emitida" in owner.get(again["Location"]).content.decode()


def test_a_cash_refund_needs_a_drawer_another_method_does_not(shop_a):
    seller = pages_as(shop_a.company)
    open_shift(seller, shop_a)
    invoice = sold(shop_a, seller)
    owner = pages_as(shop_a.company, Role.OWNER)  # at the office, no shift of their own
    url = f"/invoices/{invoice.pk}/credit/"
    line = only_line(shop_a, invoice)
    cash = owner.post(url, credit(invoice, {line.pk: ("1000", "")}))
    assert cash.status_code == 400
    assert "sale de su turno abierto" in " ".join(cash.context["form"].errors["refund_method"])
    with tenant_context(shop_a.company):
        assert not CreditNote.objects.exists()
    transfer = owner.post(url, credit(invoice, {line.pk: ("1000", "")}, refund_method="transfer"))
    assert transfer.status_code == 302
    with tenant_context(shop_a.company):
        note = CreditNote.objects.get()
    assert (note.refund_method, note.refund_amount) == ("transfer", Decimal("3570.00"))


@pytest.mark.parametrize("role", [Role.SELLER, Role.VIEWER])
def test_roles_that_may_not_credit_get_403_and_no_link(shop_a, role):
    seller = pages_as(shop_a.company)
    open_shift(seller, shop_a)
    invoice = sold(shop_a, seller)
    client = pages_as(shop_a.company, role)
    url = f"/invoices/{invoice.pk}/credit/"
    data = credit(invoice, {only_line(shop_a, invoice).pk: ("1000", "")}, refund_method="transfer")
    assert client.get(url).status_code == 403
    assert client.post(url, data).status_code == 403
    assert url.encode() not in client.get(f"/invoices/{invoice.pk}/").content
    assert pages_as(shop_a.company, Role.ACCOUNTANT).get(url).status_code == 200
    with tenant_context(shop_a.company):
        assert not CreditNote.objects.exists()


def test_another_company_s_invoice_is_404_and_nothing_is_written(shop_a, shop_b):
    seller = pages_as(shop_a.company)
    open_shift(seller, shop_a)
    invoice = sold(shop_a, seller)
    other = pages_as(shop_b.company, Role.OWNER)
    url = f"/invoices/{invoice.pk}/credit/"
    data = credit(invoice, {only_line(shop_a, invoice).pk: ("1000", "")}, refund_method="transfer")
    assert other.get(url).status_code == 404
    assert other.post(url, data).status_code == 404
    with tenant_context(shop_a.company):
        assert not CreditNote.objects.exists()


def test_a_void_invoice_takes_no_credit_note(shop_a):
    owner = pages_as(shop_a.company, Role.OWNER)
    open_shift(owner, shop_a)
    invoice = sold(shop_a, owner)
    with tenant_context(shop_a.company):
        Invoice.objects.filter(pk=invoice.pk).update(status="void")
    response = owner.get(f"/invoices/{invoice.pk}/credit/")
    assert response.status_code == 302 and response["Location"] == f"/invoices/{invoice.pk}/"
    shown = owner.get(response["Location"]).content.decode()
    assert "Solo una factura emitida admite notas crédito" in shown
