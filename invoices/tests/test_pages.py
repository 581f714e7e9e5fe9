"""The sales pages: POS counter (shift, sale, receipt, close, report), invoices."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from ally360.models import IdempotencyRecord
from ally360.roles import Role
from ally360.tenancy import tenant_context
from ally360.tests.pages import page_client, row_counts
from conftest import _member, client_for
from contacts.models import Contact
from inventory.models import Stock, StockMovement
from invoices.models import Invoice, InvoiceLine, Payment
from invoices.services import shift_cash_in_drawer
from pos.models import Shift
from products.models import Variant

pytestmark = pytest.mark.django_db

WRITTEN = (Invoice, InvoiceLine, Payment, StockMovement, IdempotencyRecord)
BARCODES = {"iva19": "7701234000019", "inc8": "7701234000088"}


def pages_as(company, role=Role.SELLER):
    return page_client(_member(company, role), company)


@pytest.fixture
def shop(shop_a):
    with tenant_context(shop_a.company):
        for name, barcode in BARCODES.items():
            Variant.objects.filter(pk=shop_a.variants[name].pk).update(barcode=barcode)
    return shop_a


def open_shift(client, shop, cash="50000"):
    response = client.post(
        "/pos/shift/open/", {"register": str(shop.register.id), "opening_cash": cash}
    )
    assert response.status_code == 302 and response["Location"] == "/pos/", response.content
    return response


def sale_data(lines, *, action="charge", key=None, **fields):
    """The POST of the sale form: `lines` as [(code, quantity)] or [(code, quantity, discount)]."""
    data = {
        "lines-TOTAL_FORMS": str(len(lines) + 1),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "200",
        "action": action,
        "sale_key": key or str(uuid.uuid4()),  # a new form each time unless given
        "customer": "",
        "cash": "",
        "other_method": "credit_card",
        "other_amount": "",
        "other_reference": "",
    }
    for index, line in enumerate([*lines, ("", "")]):
        code, quantity, *discount = line
        data[f"lines-{index}-code"] = code
        data[f"lines-{index}-quantity"] = quantity
        data[f"lines-{index}-discount_pct"] = discount[0] if discount else ""
    data.update(fields)
    return data


# --- the counter -------------------------------------------------------------------------------


def test_counter_opens_a_shift_then_sells_by_barcode_with_cash(shop):
    client = pages_as(shop.company)
    page = client.get("/pos/")
    assert page.status_code == 200 and b"Caja 1" in page.content
    open_shift(client, shop)
    with tenant_context(shop.company):
        shift = Shift.objects.get(user=client.user, status=Shift.Status.OPEN)
        assert shift.opening_cash == Decimal("50000.00")
    assert b"sale-form" in client.get("/pos/").content

    lines = [(BARCODES["iva19"], "2"), (BARCODES["inc8"], "1")]
    quote = client.post("/pos/sale/", sale_data(lines, action="quote"))
    assert quote.status_code == 200
    # 2 x 10,000 + 19 % and 8,500 + 8 %: 23,800 + 9,180
    assert quote.context["quote"].invoice.total == Decimal("32980.00")
    assert row_counts(shop.company, *WRITTEN) == dict.fromkeys((m.__name__ for m in WRITTEN), 0) | {
        "StockMovement": 6
    }  # the shop's initial stock only

    before = row_counts(shop.company, *WRITTEN)
    response = client.post("/pos/sale/", sale_data(lines, cash="50000"))
    assert response.status_code == 302, response.content
    after = row_counts(shop.company, *WRITTEN)
    assert after["Invoice"] == before["Invoice"] + 1
    assert after["InvoiceLine"] == before["InvoiceLine"] + 2
    assert after["Payment"] == before["Payment"] + 1
    assert after["StockMovement"] == before["StockMovement"] + 2
    with tenant_context(shop.company):
        invoice = Invoice.objects.get()
        payment = Payment.objects.get()
        stock = Stock.objects.get(variant=shop.variants["iva19"], pdv=shop.pdv)
    assert response["Location"] == f"/pos/receipts/{invoice.pk}/"
    assert invoice.kind == Invoice.Kind.POS and invoice.status == Invoice.Status.PAID
    assert invoice.shift_id == shift.pk and invoice.customer_id == shop.consumer.pk
    assert (payment.method, payment.tendered, payment.change) == (
        "cash",
        Decimal("50000.00"),
        Decimal("17020.00"),
    )
    assert stock.quantity == Decimal("98")

    receipt = client.get(response["Location"])
    assert receipt.status_code == 200
    text = receipt.content.decode()
    assert invoice.full_number in text and "17.020,00" in text and "32.980,00" in text
    assert "Efectivo" in text  # Spanish by default
    # What the DIAN asks of a POS receipt: the seller's NIT and the numbering authorization.
    assert f"NIT {shop.company.nit_display}" in text
    numbering = invoice.numbering_range
    assert f"No. {numbering.resolution_number}" in text
    assert f"del {numbering.range_from} al {numbering.range_to}, vigente hasta" in text


def test_sku_without_case_and_quantity_one_by_default(shop):
    client = pages_as(shop.company)
    open_shift(client, shop)
    response = client.post("/pos/sale/", sale_data([("fv-iva5", "")], cash="4000", action="charge"))
    assert response.status_code == 302, response.content
    with tenant_context(shop.company):
        line = InvoiceLine.objects.get()
    assert line.variant_id == shop.variants["iva5"].pk and line.quantity == 1


def test_double_submit_sells_once_and_shows_the_first_receipt(shop):
    client = pages_as(shop.company)
    open_shift(client, shop)
    key = str(uuid.uuid4())
    data = sale_data([("FV-iva19", "1")], cash="20000", key=key)
    first = client.post("/pos/sale/", data)
    second = client.post("/pos/sale/", data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert row_counts(shop.company, Invoice) == {"Invoice": 1}
    # The same form with other lines is refused, nothing written.
    other = client.post("/pos/sale/", sale_data([("FV-iva5", "1")], cash="20000", key=key))
    assert other.status_code == 400
    assert row_counts(shop.company, Invoice) == {"Invoice": 1}


@pytest.mark.parametrize(
    ("lines", "fields", "field", "fragment"),
    [
        # no stock: 100 in stock (an identified customer: above 5 UVT)
        ([("FV-iva19", "101")], {"cash": "2000000", "customer": "900123456"}, None, "FV-iva19"),
        # tenders short
        ([("FV-iva19", "1")], {"cash": "1000"}, "cash", "(1.000,00) no cubre el total 11.900,00"),
        # no tender at all
        ([("FV-iva19", "1")], {}, "cash", None),
        # card above the total: only cash gives change
        ([("FV-iva19", "1")], {"other_amount": "20000"}, "cash", None),
        # above 5 UVT with the final consumer (50 x 11,900)
        ([("FV-iva19", "50")], {"cash": "1000000"}, None, "UVT"),
        # an unknown code
        ([("NO-SUCH", "1")], {"cash": "1000"}, "code", "NO-SUCH"),
        # a seller's discount above the company's limit (0 %)
        ([("FV-iva19", "1", "10")], {"cash": "20000"}, "discount_pct", None),
        # whole units only
        ([("FV-iva19", "1.5")], {"cash": "20000"}, "quantity", None),
    ],
)
def test_service_errors_show_on_the_form_and_write_nothing(shop, lines, fields, field, fragment):
    client = pages_as(shop.company)
    open_shift(client, shop)
    before = row_counts(shop.company, *WRITTEN)
    response = client.post("/pos/sale/", sale_data(lines, **fields))
    assert response.status_code == 400
    assert row_counts(shop.company, *WRITTEN) == before
    form, formset = response.context["form"], response.context["formset"]
    if field in ("code", "quantity", "discount_pct"):
        errors = formset.forms[0].errors[field]
    elif field:
        errors = form.errors[field]
    else:
        errors = form.non_field_errors()
    assert errors, (form.errors, formset.errors)
    if fragment:
        assert any(fragment in str(error) for error in errors), errors
    # The total stays shown when the lines price (not for a code, discount or quantity refused).
    quote = response.context["quote"]
    if field in ("code", "quantity", "discount_pct"):
        assert quote is None
    else:
        assert quote is not None and 'data-testid="quote-total"' in response.content.decode()


def test_identified_customer_above_5_uvt_is_a_sales_invoice(shop):
    client = pages_as(shop.company)
    open_shift(client, shop)
    response = client.post(
        "/pos/sale/",
        sale_data([("FV-iva19", "50")], cash="1000000", customer="900.123.456-8"),
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    with tenant_context(shop.company):
        invoice = Invoice.objects.get()
    assert invoice.kind == Invoice.Kind.SALE and invoice.customer_id == shop.customer.pk


def test_quote_warns_when_an_identified_customer_is_needed(shop):
    client = pages_as(shop.company)
    open_shift(client, shop)
    response = client.post("/pos/sale/", sale_data([("FV-iva19", "50")], action="quote"))
    assert response.status_code == 200 and response.context["form"].errors["customer"]
    limit = response.context["quote"].limit  # 5 UVT, as the page shows money
    shown = f"{limit:,.2f}".translate(str.maketrans(",.", ".,"))
    assert f"Por encima de {shown} antes de impuestos" in response.content.decode()
    assert row_counts(shop.company, Invoice) == {"Invoice": 0}


def test_sale_without_an_open_shift_goes_back_to_the_counter(shop):
    client = pages_as(shop.company)
    response = client.post("/pos/sale/", sale_data([("FV-iva19", "1")], cash="20000"))
    assert response.status_code == 302 and response["Location"] == "/pos/"
    assert row_counts(shop.company, Invoice) == {"Invoice": 0}


# --- cross-tenant ------------------------------------------------------------------------------


def test_another_company_s_variant_or_customer_is_a_form_error(shop, shop_b):
    with tenant_context(shop.company):
        only_a = Contact.objects.create(id_type="13", id_number="52999111", name="Solo de A")
    client_b = pages_as(shop_b.company)
    open_shift(client_b, shop_b)
    tables = (*WRITTEN, Contact, Shift)
    before_a = row_counts(shop.company, *tables)
    before_b = row_counts(shop_b.company, *tables)
    attempts = [
        # A's variant: its barcode and its SKU are not B's, its id is no code of B's
        sale_data([(BARCODES["iva19"], "1")], cash="20000"),
        sale_data([("FV-iva19", "1")], cash="20000"),
        sale_data([(str(shop.variants["iva19"].pk), "1")], cash="20000"),
        # A's customer by id and by number
        sale_data([("FB-iva19", "1")], cash="20000", customer=str(only_a.pk)),
        sale_data([("FB-iva19", "1")], cash="20000", customer="52999111"),
    ]
    for data in attempts:
        response = client_b.post("/pos/sale/", data)
        assert response.status_code == 400
        form, formset = response.context["form"], response.context["formset"]
        assert form.errors.get("customer") or formset.forms[0].errors.get("code")
    assert row_counts(shop.company, *tables) == before_a
    assert row_counts(shop_b.company, *tables) == before_b


def test_another_company_s_invoice_receipt_and_shift_are_404(shop, shop_b):
    seller_a = pages_as(shop.company)
    open_shift(seller_a, shop)
    seller_a.post("/pos/sale/", sale_data([("FV-iva19", "1")], cash="20000"))
    with tenant_context(shop.company):
        invoice = Invoice.objects.get()
        shift = Shift.objects.get()
    owner_b = pages_as(shop_b.company, Role.OWNER)
    for url in (
        f"/invoices/{invoice.pk}/",
        f"/invoices/{invoice.pk}/pdf/",
        f"/pos/receipts/{invoice.pk}/",
        f"/pos/shifts/{shift.pk}/",
    ):
        response = owner_b.get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"].startswith("text/html")
    # The register of A is no choice of B's either.
    response = owner_b.post(
        "/pos/shift/open/", {"register": str(shop.register.id), "opening_cash": "0"}
    )
    assert response.status_code == 400 and response.context["form"].errors["register"]
    assert row_counts(shop.company, Shift) == {"Shift": 1}
    assert row_counts(shop_b.company, Shift) == {"Shift": 0}


# --- roles -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ACCOUNTANT])
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/pos/"),
        ("post", "/pos/shift/open/"),
        ("post", "/pos/sale/"),
        ("get", "/pos/close/"),
    ],
)
def test_roles_that_do_not_sell_get_403(shop, role, method, url):
    client = pages_as(shop.company, role)
    response = getattr(client, method)(url, {})
    assert response.status_code == 403
    assert b"<html" in response.content
    assert row_counts(shop.company, Shift, Invoice) == {"Shift": 0, "Invoice": 0}


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.SELLER])
def test_roles_that_sell_open_the_counter(shop, role):
    assert pages_as(shop.company, role).get("/pos/").status_code == 200


def test_a_seller_reads_only_their_own_shift_report_every_other_role_any(shop):
    seller = pages_as(shop.company)
    open_shift(seller, shop)
    with tenant_context(shop.company):
        shift = Shift.objects.get()
    assert pages_as(shop.company, Role.SELLER).get(f"/pos/shifts/{shift.pk}/").status_code == 404
    email = seller.user.email
    assert email in seller.get(f"/pos/shifts/{shift.pk}/").content.decode()
    # Every other role reads every shift, on the page as by the API's `shifts/{id}/report`; the
    # cashier's e-mail only those who read the members (`cashier`: null for the others).
    for role, sees_email in (
        (Role.OWNER, True),
        (Role.ADMIN, True),
        (Role.ACCOUNTANT, False),
        (Role.VIEWER, False),
    ):
        page = pages_as(shop.company, role).get(f"/pos/shifts/{shift.pk}/")
        assert page.status_code == 200
        assert (email in page.content.decode()) is sees_email, role


# --- close -------------------------------------------------------------------------------------


def test_close_the_shift_then_the_report(shop):
    client = pages_as(shop.company)
    open_shift(client, shop, cash="50000")
    client.post("/pos/sale/", sale_data([("FV-iva19", "1")], cash="20000"))
    assert client.get("/pos/close/").status_code == 200
    missing = client.post("/pos/close/", {"counted_cash": ""})
    assert missing.status_code == 400 and missing.context["form"].errors["counted_cash"]
    response = client.post("/pos/close/", {"counted_cash": "61000", "notes": "Cuadre"})
    assert response.status_code == 302
    with tenant_context(shop.company):
        shift = Shift.objects.get()
    assert response["Location"] == f"/pos/shifts/{shift.pk}/"
    assert shift.status == Shift.Status.CLOSED
    assert (shift.expected_cash, shift.counted_cash, shift.difference) == (
        Decimal("61900.00"),
        Decimal("61000.00"),
        Decimal("-900.00"),
    )
    report = client.get(response["Location"])
    assert report.status_code == 200
    assert report.context["report"]["invoices"] == 1
    assert "-900,00" in report.content.decode()
    # Closed: the counter offers a new shift; closing again sends back to it.
    assert b"pos/shift/open" in client.get("/pos/").content
    assert client.post("/pos/close/", {"counted_cash": "0"})["Location"] == "/pos/"


def test_a_close_form_shown_for_a_shift_closed_since_does_not_close_the_next_one(shop):
    """The cashier counts while an owner closes that shift elsewhere, then opens a new one in
    another tab: the count sent is refused, the new shift stays open (it was closed with the
    old count)."""
    from invoices.services import shift_close

    seller = pages_as(shop.company)
    open_shift(seller, shop, cash="10000")
    shown = seller.get("/pos/close/").context["form"]
    owner = pages_as(shop.company, Role.OWNER)
    with tenant_context(shop.company):
        first = Shift.objects.get(status=Shift.Status.OPEN)
        with transaction.atomic():
            shift_close(shift=first, user=owner.user, role="owner", counted={"cash": "10000"})
    open_shift(seller, shop, cash="20000")
    refused = seller.post("/pos/close/", {"counted_cash": "10000", "shift": shown["shift"].value()})
    assert refused.status_code == 400 and refused.context["form"].non_field_errors()
    with tenant_context(shop.company):
        second = Shift.objects.exclude(pk=first.pk).get()
    assert second.status == Shift.Status.OPEN


def test_the_close_counts_the_card_terminal_and_each_wallet_too(shop):
    """Each method the shift took money by gets its own count on the close (the close page
    shows nothing of what is expected), stored with the cash's; the report sets each against what it
    should hold. A method left empty is not counted; a negative cash count is refused (a
    terminal's closing total may be below 0, when its refunds exceeded what it took)."""
    client = pages_as(shop.company)
    open_shift(client, shop, cash="0")
    card = sale_data([("FV-iva19", "1")], cash="", other_method="credit_card", other_amount="11900")
    assert client.post("/pos/sale/", card).status_code == 302
    nequi = sale_data([("FV-iva19", "1")], cash="", other_method="nequi", other_amount="11900")
    assert client.post("/pos/sale/", nequi).status_code == 302
    form = client.get("/pos/close/").context["form"]
    assert list(form.fields) == [
        "counted_cash",
        "counted_credit_card",
        "counted_nequi",
        "notes",
        "shift",
    ]
    assert "11.900" not in client.get("/pos/close/").content.decode()  # nothing expected shown
    refused = client.post("/pos/close/", {"counted_cash": "-1", "counted_credit_card": "-1"})
    assert refused.status_code == 400 and list(refused.context["form"].errors) == ["counted_cash"]
    with tenant_context(shop.company):
        assert Shift.objects.get().status == Shift.Status.OPEN
    closed = client.post(
        "/pos/close/", {"counted_cash": "0", "counted_credit_card": "11800", "counted_nequi": ""}
    )
    assert closed.status_code == 302
    with tenant_context(shop.company):
        shift = Shift.objects.get()
    assert shift.counted == {"cash": "0.00", "credit_card": "11800.00"}
    report = client.get(closed["Location"])
    assert report.context["report"]["counted_by_method"]["credit_card"] == {
        "expected": "11900.00",
        "counted": "11800.00",
        "difference": "-100.00",
    }
    counted = report.content.decode().split('data-testid="counted-by-method"')[1]
    assert "Tarjeta crédito" in counted and "-100,00" in counted and "Nequi" not in counted


# --- invoices ----------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["/invoices/", "/customers/", "/suppliers/", "/products/"])
def test_a_search_with_a_nul_character_is_no_server_error(shop, page):
    """PostgreSQL's text holds no NUL: the search drops it (`ally360.pages.search_text`)."""
    client = pages_as(shop.company, Role.OWNER)
    response = client.get(page, {"q": "FV\x001"})
    assert response.status_code == 200


def test_invoice_list_newest_first_search_and_detail(shop):
    client = pages_as(shop.company)
    open_shift(client, shop)
    for code in ("FV-iva19", "FV-iva5", "FV-inc8"):
        client.post(
            "/pos/sale/",
            sale_data([(code, "1")], cash="20000"),
        )
    with tenant_context(shop.company):
        invoices = list(Invoice.objects.order_by("-created_at"))
    assert len(invoices) == 3
    response = client.get("/invoices/")
    assert [i.pk for i in response.context["page_obj"]] == [i.pk for i in invoices]
    found = client.get("/invoices/", {"q": invoices[1].full_number})
    assert [i.pk for i in found.context["page_obj"]] == [invoices[1].pk]
    by_customer = client.get("/invoices/", {"q": "consumidor"})
    assert len(by_customer.context["page_obj"]) == 3
    assert list(client.get("/invoices/", {"q": "nadie"}).context["page_obj"]) == []
    # The customer's NIT as people type it (dots, dash groups, its check digit, zeros ahead).
    from invoices.tests.fixtures import issue_invoice

    owner = client_for(_member(shop.company, Role.OWNER), shop.company)
    on_credit = issue_invoice(owner, shop)
    for typed in ("900.123.456-8", "900-123-456-8", "0900123456"):
        by_nit = client.get("/invoices/", {"q": typed}).context["page_obj"]
        assert [str(i.pk) for i in by_nit] == [on_credit["id"]], typed

    detail = client.get(f"/invoices/{invoices[0].pk}/")
    assert detail.status_code == 200
    text = detail.content.decode()
    assert invoices[0].full_number in text and "Efectivo" in text and "Pagada" in text
    assert "Unit cost" not in text and "unit_cost" not in text  # a seller sees no costs


def test_invoice_pdf_link_goes_through_the_files_mechanism(
    shop, django_capture_on_commit_callbacks
):
    client = pages_as(shop.company)
    open_shift(client, shop)
    client.post("/pos/sale/", sale_data([("FV-iva19", "1")], cash="20000"))
    with tenant_context(shop.company):
        invoice = Invoice.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        first = client.get(f"/invoices/{invoice.pk}/pdf/")
    assert first.status_code == 302 and first["Location"] == f"/invoices/{invoice.pk}/"
    ready = client.get(f"/invoices/{invoice.pk}/pdf/")
    assert ready.status_code == 302 and "/files/local/download/" in ready["Location"]


def test_page_not_found_is_a_page_and_the_api_keeps_json(shop):
    client = pages_as(shop.company)
    page = client.get("/invoices/00000000-0000-0000-0000-000000000000/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
    assert client.get("/no-such-page/").status_code == 404
    api = client.get("/api/v1/no-such-endpoint/")
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"


# --- query counts ------------------------------------------------------------------------------


def _queries(client, url, monkeypatch, module, page_size) -> int:
    monkeypatch.setattr(module, "PAGE_SIZE", page_size)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", ["/invoices/", "/invoices/?q=consumidor"])
def test_invoice_list_queries_do_not_grow_with_the_page(shop, monkeypatch, url):
    from invoices import views

    client = pages_as(shop.company)
    open_shift(client, shop)
    for index in range(4):
        client.post(
            "/pos/sale/",
            sale_data([("FV-iva19", "1")], cash="20000"),
        )
    one = _queries(client, url, monkeypatch, views, 1)
    every = _queries(client, url, monkeypatch, views, 50)
    assert one == every


# --- found by the review of the pages ---------------------------------------------------------


@pytest.mark.django_db
def test_the_change_preview_reads_the_total_unlocalized(shop):
    """pages.js parses data-total with parseFloat: it must be '12345.67', not the localized
    '12345,67' (parseFloat -> 12345, the change preview is off by the cents)."""
    client = pages_as(shop.company)
    open_shift(client, shop)
    # an IVA-excluded product at 12,345.67
    quote = client.post("/pos/sale/", sale_data([("FV-excluido", "1")], action="quote"))
    assert quote.status_code == 200, quote.content.decode()
    assert quote.context["quote"].invoice.total == Decimal("12345.67")
    attr = re.search(r'data-total="([^"]*)"', quote.content.decode()).group(1)
    assert float(attr) == 12345.67, attr  # what parseFloat reads (float() is stricter)


@pytest.mark.postgres  # a foreign key checked at commit (deferred): PostgreSQL's
@pytest.mark.django_db(transaction=True)
def test_a_commit_failure_leaves_no_success_message(shop, monkeypatch):
    """A page whose commit fails (a deferred foreign key: the register deleted meanwhile)
    shows the "nothing was saved" page; the next page must not say "Shift opened"."""
    import invoices.views as views

    real = views.shift_open

    def shift_open_then_conflict(**kwargs):
        shift = real(**kwargs)
        with connection.cursor() as cursor:  # as if a concurrent request deleted the register
            cursor.execute(
                "UPDATE pos_shift SET register_id = %s WHERE id = %s", [uuid.uuid4(), shift.pk]
            )
        return shift

    monkeypatch.setattr(views, "shift_open", shift_open_then_conflict)
    client = pages_as(shop.company)
    client.raise_request_exception = False
    response = client.post(
        "/pos/shift/open/", {"register": str(shop.register.id), "opening_cash": "1000"}
    )
    assert response.status_code == 409 and b"try-again" in response.content
    with tenant_context(shop.company):
        assert not Shift.objects.exists()  # nothing was saved
    following = client.get("/pos/")
    text = following.content.decode()
    assert "Turno abierto" not in text and "Shift opened" not in text, text


@pytest.mark.django_db
def test_a_huge_page_number_is_not_a_500(shop):
    client = pages_as(shop.company)
    client.raise_request_exception = False
    response = client.get("/invoices/?page=99999999999999999999")
    assert response.status_code in (200, 404), response.status_code


@pytest.mark.django_db
def test_the_expired_form_page_is_spanish_for_an_english_browser(shop):
    from django.test import Client

    from ally360.roles import Role
    from ally360.tests.pages import page_client
    from conftest import _member

    user = _member(shop.company, Role.SELLER)
    client = page_client(user, shop.company)
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.cookies = client.cookies
    response = csrf_client.post("/pos/close/", {"counted_cash": "1"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert "El formulario venció" in response.content.decode(), response.content.decode()[:600]


@pytest.mark.django_db
def test_card_and_cash_give_the_change_of_the_cash(shop):
    client = pages_as(shop.company)
    open_shift(client, shop)
    data = sale_data(
        [("FV-iva19", "1")],
        cash="10000",
        other_method="credit_card",
        other_amount="5000",
        other_reference="1234",
    )
    response = client.post("/pos/sale/", data)
    assert response.status_code == 302, response.content.decode()
    receipt = client.get(response["Location"])
    assert receipt.context["change"] == Decimal("3100.00")
    # card above total
    data = sale_data([("FV-iva19", "1")], other_method="credit_card", other_amount="20000")
    assert client.post("/pos/sale/", data).status_code == 400


# --- sales on credit and their payments --------------------------------------------------------


def test_a_sale_on_credit_is_an_invoice_the_customer_owes(shop):
    client = pages_as(shop.company)
    open_shift(client, shop)
    key = str(uuid.uuid4())
    data = sale_data([("FV-iva19", "2")], action="credit", key=key, customer="900123456")
    response = client.post("/pos/sale/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    with tenant_context(shop.company):
        invoice = Invoice.objects.get()
        shift = Shift.objects.get()
        stock = Stock.objects.get(variant=shop.variants["iva19"], pdv=shop.pdv)
        assert not invoice.payments.exists()
    assert response["Location"] == f"/invoices/{invoice.pk}/"
    assert (invoice.kind, invoice.status, invoice.customer_id) == ("sale", "open", shop.customer.pk)
    assert invoice.balance == invoice.total == Decimal("23800.00")
    assert invoice.shift_id == shift.pk
    assert stock.quantity == 98
    page = client.get(response["Location"]).content.decode()
    assert "Vendido a crédito" in page and 'data-testid="payment-form"' in page
    # The same form sent again: the same sale, not a second one.
    again = client.post("/pos/sale/", data)
    assert again["Location"] == f"/invoices/{invoice.pk}/"
    with tenant_context(shop.company):
        assert Invoice.objects.count() == 1


@pytest.mark.parametrize(
    ("customer", "limit", "field"),
    [
        ("", None, "customer"),  # the final consumer owes nobody
        ("900123456", "1000", None),  # above the customer's credit limit
    ],
)
def test_a_sale_on_credit_needs_a_customer_within_its_limit(shop, customer, limit, field):
    if limit:
        with tenant_context(shop.company):
            Contact.objects.filter(pk=shop.customer.pk).update(credit_limit=Decimal(limit))
    client = pages_as(shop.company)
    open_shift(client, shop)
    before = row_counts(shop.company, *WRITTEN)
    response = client.post(
        "/pos/sale/", sale_data([("FV-iva19", "2")], action="credit", customer=customer)
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors.get(field) if field else errors.get("__all__"), errors
    assert row_counts(shop.company, *WRITTEN) == before


def test_what_is_typed_with_a_sale_on_credit_is_paid_at_once_into_the_shift(shop):
    """A down payment ("abono"): the drawer takes what the customer paid, and the invoice owes
    the rest — the typed amounts are not dropped while the cash sits in the drawer."""
    with tenant_context(shop.company):
        # 23,800 is above the limit; 23,800 less the 15,000 paid at once is within it.
        Contact.objects.filter(pk=shop.customer.pk).update(credit_limit=Decimal("10000"))
    client = pages_as(shop.company)
    open_shift(client, shop)
    data = sale_data(
        [("FV-iva19", "2")],
        action="credit",
        customer="900123456",
        cash="10000",
        other_method="transfer",
        other_amount="5000",
        other_reference="TRX-1",
    )
    response = client.post("/pos/sale/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    with tenant_context(shop.company):
        invoice = Invoice.objects.get()
        shift = Shift.objects.get()
        payments = {p.method: p for p in invoice.payments.all()}
        cash_in_drawer = shift_cash_in_drawer(shift)
    assert (invoice.total, invoice.amount_paid, invoice.balance, invoice.status) == (
        Decimal("23800.00"),
        Decimal("15000.00"),
        Decimal("8800.00"),
        "open",
    )
    assert payments["cash"].amount == Decimal("10000.00") and payments["cash"].change == 0
    assert (payments["transfer"].amount, payments["transfer"].reference) == (
        Decimal("5000.00"),
        "TRX-1",
    )
    assert {p.shift_id for p in payments.values()} == {shift.pk}
    assert cash_in_drawer == Decimal("60000.00")  # 50,000 opening + 10,000
    page = client.get(response["Location"]).content.decode()
    assert "pagó 15.000,00 y debe 8.800,00" in page, page


@pytest.mark.parametrize(
    ("cash", "other", "limit"),
    [
        ("23800", "", None),  # pays it all: a charge, not a sale on credit
        ("20000", "5000", None),  # more than all, and no change on credit
        ("5000", "", "10000"),  # 18,800 left owing is above the limit
    ],
)
def test_a_sale_on_credit_paid_in_full_or_owing_above_the_limit_is_refused(
    shop, cash, other, limit
):
    if limit:
        with tenant_context(shop.company):
            Contact.objects.filter(pk=shop.customer.pk).update(credit_limit=Decimal(limit))
    client = pages_as(shop.company)
    open_shift(client, shop)
    before = row_counts(shop.company, *WRITTEN)
    data = sale_data(
        [("FV-iva19", "2")], action="credit", customer="900123456", cash=cash, other_amount=other
    )
    response = client.post("/pos/sale/", data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors.get("__all__" if limit else "cash"), errors
    assert row_counts(shop.company, *WRITTEN) == before


def pay(method, amount, reference=""):
    """The invoice page's payment form, a new form each time (its one-time key)."""
    return {
        "method": method,
        "amount": amount,
        "reference": reference,
        "payment_key": str(uuid.uuid4()),
    }


def _credit_invoice(shop, client):
    open_shift(client, shop)
    response = client.post(
        "/pos/sale/", sale_data([("FV-iva19", "2")], action="credit", customer="900123456")
    )
    assert response.status_code == 302
    with tenant_context(shop.company):
        return Invoice.objects.get()


def test_a_customer_pays_part_of_an_invoice_in_cash_into_the_shift(shop):
    client = pages_as(shop.company)
    invoice = _credit_invoice(shop, client)
    url = f"/invoices/{invoice.pk}/payments/"
    response = client.post(url, pay("cash", "10000", ""))
    assert response.status_code == 302 and response["Location"] == f"/invoices/{invoice.pk}/"
    with tenant_context(shop.company):
        invoice.refresh_from_db()
        payment = Payment.objects.get()
        shift = Shift.objects.get()
    assert invoice.balance == Decimal("13800.00") and payment.shift_id == shift.pk
    assert "13.800,00" in client.get(response["Location"]).content.decode()
    # Above what is owed: on the form, nothing written.
    above = client.post(url, pay("transfer", "20000", "TRX"))
    assert above.status_code == 400 and above.context["payment_form"].errors["amount"]
    with tenant_context(shop.company):
        assert Payment.objects.count() == 1


def test_a_seller_is_shown_the_payment_form_on_their_own_invoices_only(shop):
    """The service refuses a seller's payment on another's invoice: the form it could only be
    refused on is not shown (the files' form already was not)."""
    maker = pages_as(shop.company)
    invoice = _credit_invoice(shop, maker)
    url = f"/invoices/{invoice.pk}/"
    assert 'data-testid="payment-form"' in maker.get(url).content.decode()
    other = pages_as(shop.company)
    assert 'data-testid="payment-form"' not in other.get(url).content.decode()
    refused = other.post(f"{url}payments/", pay("cash", "1000"))
    assert refused.status_code in (400, 403)
    with tenant_context(shop.company):
        assert not Payment.objects.exists()
    admin = pages_as(shop.company, Role.ADMIN)
    assert 'data-testid="payment-form"' in admin.get(url).content.decode()


def test_money_taken_by_someone_without_a_shift_is_in_no_drawer(shop):
    """As the API: a cash payment goes into the open shift of whoever takes it; an owner
    recording at the office, with no shift, records it outside any drawer's count."""
    seller = pages_as(shop.company)
    invoice = _credit_invoice(shop, seller)
    owner = pages_as(shop.company, Role.OWNER)  # no shift of their own
    url = f"/invoices/{invoice.pk}/payments/"
    assert owner.post(url, pay("cash", "1000", "")).status_code == 302
    transfer = owner.post(url, pay("transfer", "1000", "TRX-1"))
    assert transfer.status_code == 302
    with tenant_context(shop.company):
        payments = {p.method: p.shift_id for p in Payment.objects.all()}
    assert payments == {"cash": None, "transfer": None}


def test_payments_on_pages_keep_roles_and_companies_apart(shop, shop_b):
    invoice = _credit_invoice(shop, pages_as(shop.company))
    url = f"/invoices/{invoice.pk}/payments/"
    data = pay("transfer", "1000", "")
    viewer = pages_as(shop.company, Role.VIEWER)
    assert viewer.post(url, data).status_code == 403
    assert b"payment-form" not in viewer.get(f"/invoices/{invoice.pk}/").content
    other = pages_as(shop_b.company, Role.OWNER)
    assert other.post(url, data).status_code == 404
    with tenant_context(shop.company):
        assert not Payment.objects.exists()


def test_a_payment_form_sent_twice_records_one_payment(shop):
    client = pages_as(shop.company)
    invoice = _credit_invoice(shop, client)  # owes 23,800
    url = f"/invoices/{invoice.pk}/payments/"
    data = pay("cash", "5000")
    assert client.post(url, data).status_code == 302
    again = client.post(url, data)  # a double click, or the form sent again
    assert again.status_code == 302
    with tenant_context(shop.company):
        invoice.refresh_from_db()
        assert Payment.objects.count() == 1
    assert invoice.balance == Decimal("18800.00")
    assert "Este pago ya estaba registrado" in client.get(again["Location"]).content.decode()


def void_data(payment, reason="Pago duplicado", key=None) -> dict:
    prefix = str(payment.pk)
    return {f"{prefix}-reason": reason, f"{prefix}-void_key": key or str(uuid.uuid4())}


def test_an_owner_voids_a_payment_and_the_invoice_owes_it_again(shop):
    """A cash payment voided from the invoice's page: the invoice owes it again, the drawer
    gives the cash back (its expected cash goes down), the payment shows void with its reason;
    once per form; without a reason, nothing is written."""
    seller = pages_as(shop.company)
    invoice = _credit_invoice(shop, seller)  # owes 23,800
    assert seller.post(f"/invoices/{invoice.pk}/payments/", pay("cash", "10000")).status_code == 302
    with tenant_context(shop.company):
        payment = Payment.objects.get()
        shift = Shift.objects.get()
    owner = pages_as(shop.company, Role.OWNER)
    page = owner.get(f"/invoices/{invoice.pk}/")
    assert 'data-testid="payment-voiding-form"' in page.content.decode()
    url = f"/invoices/{invoice.pk}/payments/{payment.pk}/void/"
    blank = owner.post(url, void_data(payment, reason=""))
    assert blank.status_code == 400
    refused = [p for p in blank.context["payments"] if p.pk == payment.pk][0]
    assert refused.void_form.errors["reason"]
    data = void_data(payment)
    voided = owner.post(url, data)
    assert voided.status_code == 302 and voided["Location"] == f"/invoices/{invoice.pk}/"
    assert owner.post(url, data).status_code == 302  # sent again: voided once
    with tenant_context(shop.company):
        payment.refresh_from_db()
        invoice.refresh_from_db()
        expected_cash = shift_cash_in_drawer(shift)
    assert (payment.status, payment.void_reason) == ("void", "Pago duplicado")
    assert (invoice.status, invoice.balance) == ("open", Decimal("23800.00"))
    assert expected_cash == Decimal("50000.00")  # the opening cash only
    detail = owner.get(voided["Location"]).content.decode()
    assert "Pago duplicado" in detail and 'data-testid="payment-voiding-form"' not in detail


def test_a_payment_whose_cash_left_the_drawer_cannot_be_voided_and_nothing_is_written(shop):
    seller = pages_as(shop.company)
    invoice = _credit_invoice(shop, seller)  # the shift opened with 50,000
    assert seller.post(f"/invoices/{invoice.pk}/payments/", pay("cash", "10000")).status_code == 302
    taken = {"kind": "out", "amount": "60000", "reason": "A la caja fuerte"}  # all of it
    assert (
        seller.post("/pos/cash/", {**taken, "movement_key": str(uuid.uuid4())}).status_code == 302
    )
    with tenant_context(shop.company):
        payment = Payment.objects.get()
    owner = pages_as(shop.company, Role.OWNER)
    before = row_counts(shop.company, IdempotencyRecord)
    response = owner.post(f"/invoices/{invoice.pk}/payments/{payment.pk}/void/", void_data(payment))
    assert response.status_code == 400
    refused = [p for p in response.context["payments"] if p.pk == payment.pk][0]
    assert refused.void_form.non_field_errors()
    with tenant_context(shop.company):
        payment.refresh_from_db()
    assert payment.status == "active"
    assert row_counts(shop.company, IdempotencyRecord) == before


@pytest.mark.parametrize("role", [Role.SELLER, Role.VIEWER])
def test_roles_that_do_not_void_payments_get_403_and_no_form(shop, shop_b, role):
    seller = pages_as(shop.company)
    invoice = _credit_invoice(shop, seller)
    assert (
        seller.post(f"/invoices/{invoice.pk}/payments/", pay("transfer", "1000")).status_code == 302
    )
    with tenant_context(shop.company):
        payment = Payment.objects.get()
    url = f"/invoices/{invoice.pk}/payments/{payment.pk}/void/"
    client = pages_as(shop.company, role)
    assert client.post(url, void_data(payment)).status_code == 403
    assert b"payment-voiding-form" not in client.get(f"/invoices/{invoice.pk}/").content
    assert pages_as(shop_b.company, Role.OWNER).post(url, void_data(payment)).status_code == 404
    another = seller.post(
        "/pos/sale/", sale_data([("FV-iva19", "1")], action="credit", customer="900123456")
    )
    wrong = f"{another['Location']}payments/{payment.pk}/void/"  # another invoice's payment
    assert pages_as(shop.company, Role.OWNER).post(wrong, void_data(payment)).status_code == 404
    with tenant_context(shop.company):
        payment.refresh_from_db()
    assert payment.status == "active"


def test_the_shift_report_page_shows_what_each_method_should_total(shop):
    """Collections on earlier invoices and the expected total per method: what the close is
    checked against (the drawer's cash, the card terminal's total)."""
    client = pages_as(shop.company)
    invoice = _credit_invoice(shop, client)
    with tenant_context(shop.company):
        Invoice.objects.filter(pk=invoice.pk).update(shift=None)  # an earlier invoice
    url = f"/invoices/{invoice.pk}/payments/"
    assert client.post(url, pay("credit_card", "23800", "V-1")).status_code == 302
    with tenant_context(shop.company):
        shift = Shift.objects.get()
    response = client.get(f"/pos/shifts/{shift.pk}/")
    page = response.content.decode()
    assert dict(response.context["collections"])["Tarjeta crédito"]["amount"] == "23800.00"
    assert 'data-testid="expected-by-method"' in page and "23.800,00" in page


# --- cash in and out of the drawer -------------------------------------------------------------


def cash_data(kind, amount, reason="Retiro a la caja fuerte"):
    return {"kind": kind, "amount": amount, "reason": reason, "movement_key": str(uuid.uuid4())}


def test_cash_in_and_out_of_the_drawer_once_per_form_and_never_below_zero(shop):
    from pos.models import CashMovement

    client = pages_as(shop.company)
    open_shift(client, shop, cash="50000")
    assert client.get("/pos/cash/").status_code == 200
    taken = cash_data("out", "20000")
    response = client.post("/pos/cash/", taken)
    assert response.status_code == 302 and response["Location"] == "/pos/"
    assert "30.000,00" in client.get("/pos/").content.decode()  # what the drawer should hold
    assert client.post("/pos/cash/", taken).status_code == 302  # sent again: one movement
    too_much = client.post("/pos/cash/", cash_data("out", "30000.01"))
    assert too_much.status_code == 400 and too_much.context["form"].errors
    no_reason = client.post("/pos/cash/", cash_data("in", "1000", reason=""))
    assert no_reason.status_code == 400 and no_reason.context["form"].errors["reason"]
    with tenant_context(shop.company):
        assert [(m.kind, m.amount) for m in CashMovement.objects.all()] == [
            ("out", Decimal("20000.00"))
        ]


def test_cash_movements_need_an_open_shift_and_a_role_that_sells(shop):
    client = pages_as(shop.company)
    response = client.post("/pos/cash/", cash_data("in", "1000"))
    assert response.status_code == 302 and response["Location"] == "/pos/"  # no shift
    assert pages_as(shop.company, Role.VIEWER).get("/pos/cash/").status_code == 403
    assert pages_as(shop.company, Role.ACCOUNTANT).get("/pos/cash/").status_code == 403
