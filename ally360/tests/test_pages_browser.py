"""The POS counter in a real browser: headless Chromium (the Debian package at
/usr/bin/chromium, driven by Playwright; nothing is downloaded) against pytest-django's live
server. Sign in, open a shift, sell two products by barcode with cash, read the change on the
receipt, find the invoice in the list, close the shift — in Spanish, the pages' default, though
the browser asks for English. A stock count typed by a scanner, whose Enter must move from
field to field instead of sending the form. A supplier's invoice received and paid with a
withholding the page computes. And an owner's invitation that a cashier accepts from the
e-mail's link. A deletion that asks for confirmation first. A supplier's invoice sent from
the purchase's page straight to storage and attached to it."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

from accounts.tests.factories import DEFAULT_PASSWORD
from ally360.roles import Role
from ally360.tenancy import tenant_context
from conftest import _member, client_for
from inventory.models import Stock
from invoices.models import Invoice
from pos.models import Shift
from products.models import Variant

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_page(monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        if settings.REQUIRE_SERVICES:
            pytest.fail("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM reads are
    # plain synchronous code all the same.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(locale="en-US")  # the pages stay Spanish
            page = context.new_page()
            page.set_default_timeout(15_000)
            yield page
        finally:
            browser.close()
            # With Playwright's loop running, the test's ORM calls got a connection of their
            # own (asgiref's Local keeps one per context): close it, or it outlives the test.
            connections.close_all()


def sign_in(page, url: str, user) -> None:
    """Open `url`, sign in on the page it sends to, and land on `url` (the one company is
    chosen at once)."""
    page.goto(url)
    assert re.search(r"/login/\?next=", page.url)
    assert page.locator("html").get_attribute("lang") == "es-co"
    page.fill("#id_email", user.email)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(url)


def test_sell_by_barcode_with_cash_in_a_real_browser(live_server, shop_a, browser_page):
    from playwright.sync_api import expect

    shop = shop_a
    seller = _member(shop.company, Role.SELLER)
    with tenant_context(shop.company):
        Variant.objects.filter(pk=shop.variants["iva19"].pk).update(barcode="7701234000019")
        Variant.objects.filter(pk=shop.variants["inc8"].pk).update(barcode="7701234000088")
    page = browser_page
    base = live_server.url

    sign_in(page, f"{base}/pos/", seller)
    menu = page.locator("nav.menu")
    expect(menu).to_contain_text("Punto de venta")
    expect(menu).to_contain_text("Productos")
    expect(page.locator(".account")).to_contain_text("Vendedor")

    open_shift_at_the_counter(page, shop)

    # Two products by barcode: each scan ends with Enter, which prices the lines and leaves
    # the cursor on the next empty row.
    page.locator("#id_lines-0-code").fill("7701234000019")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("quote-total")).to_contain_text("11.900,00")
    expect(page.locator("#id_lines-1-code")).to_be_focused()
    page.keyboard.type("7701234000088")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("quote-total")).to_contain_text("21.080,00")
    expect(page.get_by_test_id("quote")).to_contain_text("inc8")

    # Cash: 50,000 for 21,080; Enter in the cash field charges.
    page.fill("#id_cash", "50000")
    expect(page.locator("#change-preview")).to_contain_text("28")
    page.locator("#id_cash").press("Enter")
    receipt = page.get_by_test_id("receipt")
    expect(receipt).to_be_visible()
    expect(page.get_by_test_id("receipt-change")).to_contain_text("28.920,00")
    expect(receipt).to_contain_text("Efectivo")
    number = page.get_by_test_id("invoice-number").inner_text().strip()

    with tenant_context(shop.company):
        invoice = Invoice.objects.get()
        assert invoice.full_number == number and invoice.total == 21080
        assert invoice.lines.count() == 2

    # The invoice in the list, newest first.
    page.goto(f"{base}/invoices/")
    first_row = page.get_by_test_id("invoice-list").locator("tbody tr").first
    expect(first_row).to_contain_text(number)
    expect(first_row).to_contain_text("Pagada")

    # Close the shift: 50,000 + 21,080 expected, 71,080 counted.
    page.goto(f"{base}/pos/close/")
    page.fill("#id_counted_cash", "71080")
    page.locator("form button.primary").click()
    expect(page.get_by_test_id("shift-report")).to_be_visible()
    expect(page.get_by_test_id("difference")).to_contain_text("0,00")
    with tenant_context(shop.company):
        shift = Shift.objects.get()
        assert shift.status == Shift.Status.CLOSED and shift.difference == 0


def open_shift_at_the_counter(page, shop) -> None:
    """On `/pos/` without a shift: the shop's register with 50,000, to the sale form."""
    page.select_option("#id_register", str(shop.register.id))
    page.fill("#id_opening_cash", "50000")
    page.locator("form button.primary").click()
    page.wait_for_selector("#sale-form")


def one_scanned_in_a_new_shift(page, base: str, shop, role) -> None:
    """A member of `role` signs in, opens a shift with 50,000 and scans one product (11,900)."""
    from playwright.sync_api import expect

    member = _member(shop.company, role)
    with tenant_context(shop.company):
        Variant.objects.filter(pk=shop.variants["iva19"].pk).update(barcode="7701234000019")
    sign_in(page, f"{base}/pos/", member)
    open_shift_at_the_counter(page, shop)
    page.locator("#id_lines-0-code").fill("7701234000019")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("quote-total")).to_contain_text("11.900,00")


def test_the_change_shown_at_the_counter_follows_the_lines_and_the_other_tender(
    live_server, shop_a, browser_page
):
    """The change preview showed the change of the total before a line was edited (3 units
    typed, 1 priced: 38,100 of change shown, 14,300 given) and ignored a card amount; an
    unknown code left the cursor on an empty row, so the next scan was refused with it."""
    from playwright.sync_api import expect

    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 768})
    one_scanned_in_a_new_shift(page, live_server.url, shop_a, Role.SELLER)
    preview = page.locator("#change-preview")
    page.fill("#id_cash", "50000")
    expect(preview).to_contain_text("38.100,00")
    # Three units typed, the total not updated: no change is shown for the old total.
    page.fill("#id_lines-0-quantity", "3")
    page.fill("#id_cash", "50001")
    expect(preview).to_be_hidden()
    page.locator("#id_lines-0-quantity").press("Enter")
    expect(page.get_by_test_id("quote-total")).to_contain_text("35.700,00")
    # The total beside the cash, in view at 1366 x 768 however long the ticket.
    expect(page.get_by_test_id("payment-total")).to_contain_text("35.700,00")
    expect(page.get_by_test_id("payment-total")).to_be_in_viewport()
    page.fill("#id_cash", "50000")
    expect(preview).to_contain_text("14.300,00")
    # 20,000 by card: the cash pays the 15,700 left.
    page.locator("details summary").click()
    page.fill("#id_other_amount", "20000")
    page.fill("#id_cash", "20000")
    expect(preview).to_contain_text("4.300,00")

    # Cash short: the cursor goes to the cash, with the total still shown.
    page.fill("#id_other_amount", "")
    page.fill("#id_cash", "1000")
    page.locator("#id_cash").press("Enter")
    expect(page.locator("#id_cash")).to_be_focused()
    expect(page.get_by_test_id("quote-total")).to_contain_text("35.700,00")
    page.fill("#id_cash", "40000")
    expect(preview).to_contain_text("4.300,00")

    # An unknown code: the cursor goes to it, to fix it.
    page.locator("#id_lines-1-code").fill("999")
    page.locator("#id_lines-1-code").press("Enter")
    expect(page.locator(".field-error").first).to_contain_text("999")
    expect(page.locator("#id_lines-1-code")).to_be_focused()


def test_the_counter_s_pages_fit_a_phone(live_server, shop_a, browser_page):
    """At 390 px the counter was 497 px wide (its one column sized to the lines table), the
    receipt cut its totals off and the invoice page, the shift report and the reports ran
    past the screen. A table wider than the phone now scrolls in its place."""
    from playwright.sync_api import expect

    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    base = live_server.url
    one_scanned_in_a_new_shift(page, base, shop_a, Role.OWNER)

    def page_width() -> int:
        return page.evaluate("document.documentElement.scrollWidth")

    assert page_width() <= 390, "the counter"
    page.fill("#id_cash", "20000")
    page.locator("#id_cash").press("Enter")
    expect(page.get_by_test_id("receipt")).to_be_visible()
    assert page_width() <= 390, "the receipt"
    with tenant_context(shop_a.company):
        invoice, shift = Invoice.objects.get(), Shift.objects.get()
    for url in (f"/invoices/{invoice.pk}/", f"/pos/shifts/{shift.pk}/", "/reports/"):
        page.goto(f"{base}{url}")
        assert page_width() <= 390, url


def test_count_stock_with_a_scanner_in_a_real_browser(live_server, shop_a, browser_page):
    """A scanner types the code and Enter: the cursor goes to that row's quantity, and Enter
    there to the next row's code, so a count is never sent half filled."""
    from playwright.sync_api import expect

    shop = shop_a
    owner = _member(shop.company, Role.OWNER)
    with tenant_context(shop.company):
        Variant.objects.filter(pk=shop.variants["iva19"].pk).update(barcode="7701234000019")
    page = browser_page
    base = live_server.url
    sign_in(page, f"{base}/products/", owner)
    page.get_by_role("link", name="Conteo o merma").click()
    page.wait_for_selector("#count-form")

    page.locator("#id_lines-0-code").fill("7701234000019")
    page.keyboard.press("Enter")
    expect(page.locator("#id_lines-0-quantity")).to_be_focused()
    page.keyboard.type("97")
    page.keyboard.press("Enter")
    expect(page.locator("#id_lines-1-code")).to_be_focused()
    page.keyboard.type("fv-inc8")  # a SKU typed without its case
    page.keyboard.press("Enter")
    page.keyboard.type("103")
    page.get_by_role("button", name="Registrar el ajuste").click()

    lines = page.get_by_test_id("adjustment-lines")
    expect(lines).to_be_visible()
    expect(page.locator("body")).to_contain_text("registrado")
    expect(lines.locator("tr", has_text="FV-iva19")).to_contain_text("-3")
    expect(lines.locator("tr", has_text="FV-inc8")).to_contain_text("3")
    with tenant_context(shop.company):
        quantities = dict(
            Stock.objects.filter(pdv=shop.pdv).values_list("variant__sku", "quantity")
        )
    assert (quantities["FV-iva19"], quantities["FV-inc8"]) == (97, 103)


def test_receive_a_purchase_and_pay_it_with_a_withholding_in_a_real_browser(
    live_server, shop_a, browser_page
):
    """A supplier's invoice typed in, then paid in full from its page by transfer with ReteIVA
    chosen: the page computes the withholding (15 % of the bill's IVA), the bill is paid, and
    the money sent is the balance less what was withheld."""
    from playwright.sync_api import expect

    from bills.models import Bill, SupplierPayment
    from bills.tests.test_purchase_pages import supplier_of

    shop = shop_a
    owner = _member(shop.company, Role.OWNER)
    supplier = supplier_of(shop.company)
    page = browser_page
    base = live_server.url
    sign_in(page, f"{base}/purchases/new/", owner)
    page.select_option("#id_supplier", str(supplier.pk))
    page.fill("#id_supplier_invoice_number", "FE-501")
    page.fill("#id_lines-0-code", "FV-iva19")
    page.fill("#id_lines-0-quantity", "10")
    page.fill("#id_lines-0-unit_cost", "7100")
    page.get_by_role("button", name="Recibir la compra").click()
    expect(page.get_by_test_id("balance")).to_contain_text("84.490,00")

    form = page.get_by_test_id("payment-form")
    expect(form.locator("#id_amount")).to_have_value("84490.00")
    form.locator("#id_method").select_option("transfer")
    form.locator("#id_reference").fill("TR-77")
    form.locator("#id_concept").select_option(label="ReteIVA 15 %")
    form.get_by_role("button", name="Registrar pago").click()
    expect(page.locator("body")).to_contain_text("Pago CE-00001")
    expect(page.get_by_test_id("balance")).to_contain_text("0,00")
    expect(page.get_by_test_id("purchase-payments")).to_contain_text("TR-77")
    expect(page.get_by_test_id("payment-form")).to_have_count(0)
    with tenant_context(shop.company):
        bill = Bill.objects.get(supplier_invoice_number="FE-501")
        paid = SupplierPayment.objects.get()
    assert (bill.status, bill.balance) == ("paid", 0)
    assert (paid.withholding_total, paid.amount) == (Decimal("2023.50"), Decimal("82466.50"))


def test_an_owner_invites_a_cashier_who_joins_from_the_e_mail_in_a_real_browser(
    live_server, shop_a, browser_page
):
    """The team page sends the invitation; its e-mail's link (the path under `FRONTEND_URL`)
    opens the accept page, the cashier chooses a password and lands signed in on the company
    with the counter in the menu and no team page."""
    from urllib.parse import urlsplit

    from django.core import mail
    from playwright.sync_api import expect

    from accounts.models import Membership

    shop = shop_a
    owner = _member(shop.company, Role.OWNER)
    page = browser_page
    base = live_server.url
    sign_in(page, f"{base}/members/", owner)
    mail.outbox.clear()
    form = page.get_by_test_id("invite-form")
    form.locator("#id_email").fill("cajera@example.co")
    form.locator("#id_role").select_option("seller")
    form.get_by_role("button", name="Enviar la invitación").click()
    expect(page.locator("body")).to_contain_text("Invitación enviada a cajera@example.co")
    expect(page.locator("body")).to_contain_text("Invitaciones pendientes")
    link = re.search(r"\S+/accept-invitation\?token=\S+", mail.outbox[-1].body).group(0)

    # The cashier, in a fresh browser session, opens the e-mail's link on this server.
    page.context.clear_cookies()
    parts = urlsplit(link)
    page.goto(f"{base}{parts.path}?{parts.query}")
    expect(page.get_by_test_id("invitation")).to_contain_text("Unirse a Tienda A")
    page.fill("#id_first_name", "Ana")
    page.fill("#id_last_name", "Ruiz")
    page.fill("#id_password", "Clave-segura-2026")
    page.get_by_role("button", name="Aceptar la invitación").click()
    expect(page.locator("body")).to_contain_text("Bienvenido a Tienda A")
    menu = page.locator("nav.menu")
    expect(menu).to_contain_text("Punto de venta")
    expect(menu).not_to_contain_text("Equipo")
    membership = Membership.objects.get(user__email="cajera@example.co", company=shop.company)
    assert membership.role == Role.SELLER and membership.is_active


def test_a_price_list_is_deleted_only_once_the_confirmation_is_accepted_in_a_real_browser(
    live_server, shop_a, browser_page
):
    """The delete button asks first (pages.js): dismissed, nothing is sent and the list stays;
    accepted, the list is deleted and the price lists page says so."""
    from playwright.sync_api import expect

    from products.models import PriceList

    shop = shop_a
    owner = _member(shop.company, Role.OWNER)
    with tenant_context(shop.company):
        wholesale = PriceList.objects.create(name="Mayoristas", kind=PriceList.Kind.PERCENTAGE)
    page = browser_page
    url = f"{live_server.url}/price-lists/{wholesale.pk}/"
    sign_in(page, url, owner)
    asked = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="Eliminar la lista").click()
    expect(page.locator("h1")).to_contain_text("Mayoristas")
    assert asked == ["¿Eliminar esta lista de precios?"]
    with tenant_context(shop.company):
        assert PriceList.objects.filter(pk=wholesale.pk).exists()

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Eliminar la lista").click()
    page.wait_for_url(f"{live_server.url}/price-lists/")
    expect(page.locator("body")).to_contain_text("Lista de precios Mayoristas eliminada")
    with tenant_context(shop.company):
        assert not PriceList.objects.filter(pk=wholesale.pk).exists()


def test_an_owner_opens_a_second_store_and_its_register_is_offered_at_the_till(
    live_server, shop_a, browser_page
):
    """From the menu to the till: a new point of sale, a register for it, the cashier it is
    kept for, and the register offered when a shift opens."""
    from playwright.sync_api import expect

    from pos.models import PDV, PDVAccess

    shop = shop_a
    owner = _member(shop.company, Role.OWNER)
    cashier = _member(shop.company, Role.SELLER)
    page = browser_page
    sign_in(page, f"{live_server.url}/", owner)
    page.locator("nav.menu").get_by_text("Sedes y cajas").click()
    page.wait_for_url(f"{live_server.url}/points-of-sale/")
    page.fill("#id_name", "Sede Norte")
    page.fill("#id_code", "norte")
    page.fill("#id_city", "Bogotá")
    page.get_by_role("button", name="Agregar el punto de venta").click()
    expect(page.locator("h1")).to_contain_text("Sede Norte")
    expect(page.locator("body")).to_contain_text("Punto de venta Sede Norte creado")

    page.fill("#id_register-name", "Caja Norte")
    page.get_by_role("button", name="Agregar la caja").click()
    expect(page.get_by_test_id("registers")).to_contain_text("Caja Norte")
    page.get_by_label(cashier.email).check()
    page.get_by_role("button", name="Guardar", exact=True).first.click()
    expect(page.locator("body")).to_contain_text("Se guardó Sede Norte")
    with tenant_context(shop.company):
        north = PDV.objects.get(code="NORTE")
        assert list(PDVAccess.objects.filter(pdv=north).values_list("user", flat=True)) == [
            cashier.pk
        ]

    page.goto(f"{live_server.url}/pos/")
    expect(page.locator("#id_register")).to_contain_text("Sede Norte · Caja Norte")


def test_a_product_image_goes_straight_to_storage_from_a_real_browser(
    live_server, shop_a, browser_page
):
    """The page's script asks for an upload URL, sends the picture there and posts the file's
    id: the image is attached as the main one and shown by its thumbnail."""
    from playwright.sync_api import expect

    from conftest import png_bytes
    from files.models import FileObject
    from products.models import ProductImage

    shop = shop_a
    owner = _member(shop.company, Role.OWNER)
    product = shop.variants["iva19"].product_id
    page = browser_page
    url = f"{live_server.url}/products/{product}/images/"
    sign_in(page, url, owner)
    page.get_by_role("button", name="Agregar la imagen").click()
    expect(page.locator("[data-upload-status]")).to_have_text("Elija un archivo.")

    picture = {"name": "frente.png", "mimeType": "image/png", "buffer": png_bytes((600, 400))}
    page.set_input_files("#image-form-input", picture)
    page.get_by_role("button", name="Agregar la imagen").dblclick()  # one upload all the same
    expect(page.locator("body")).to_contain_text("Imagen frente.png agregada")
    shown = page.get_by_test_id("image").locator("img")
    expect(shown).to_have_count(1)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=image] img').naturalWidth > 0"
    )
    assert page.evaluate("document.querySelector('[data-testid=image] img').naturalWidth") == 320
    with tenant_context(shop.company):
        image = ProductImage.objects.select_related("file").get()
        assert image.is_main and image.file.status == "ready"
        assert image.thumbnail_id is not None
        assert FileObject.objects.filter(module="products", purpose="").count() == 1


def test_a_document_is_kept_in_the_folder_chosen_from_a_real_browser(
    live_server, company_a, browser_page
):
    """The files page's script sends the chosen folder with the upload's declaration."""
    from playwright.sync_api import expect

    from files.models import FileObject
    from files.tests.test_files_api import PDF

    owner = _member(company_a, Role.OWNER)
    page = browser_page
    sign_in(page, f"{live_server.url}/files/", owner)
    page.select_option("#file-form-module", "bills")
    page.set_input_files(
        "#file-form-input", {"name": "factura.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.get_by_role("button", name="Guardar el archivo").click()
    expect(page.locator("body")).to_contain_text("Archivo factura.pdf guardado")
    expect(page.get_by_test_id("files")).to_contain_text("Compras")
    with tenant_context(company_a):
        kept = FileObject.objects.get(original_name="factura.pdf")
        assert (kept.module, kept.status) == ("bills", "ready")


def test_a_suppliers_invoice_is_attached_to_its_purchase_from_a_real_browser(
    live_server, company_a, make_product, browser_page
):
    """The purchase page's script sends the file straight to storage and posts its id: the
    file is listed under the purchase and downloads as sent."""
    from playwright.sync_api import expect

    from bills.tests.test_bills_api import Purchases
    from files.models import FileObject
    from files.tests.test_attachments import draft_bill
    from files.tests.test_files_api import PDF

    buy = Purchases(company_a, make_product)
    accountant = _member(company_a, Role.ACCOUNTANT)
    bill = draft_bill(client_for(accountant, company_a), buy, number="F-9")
    page = browser_page
    url = f"{live_server.url}/purchases/{bill}/"
    sign_in(page, url, accountant)
    expect(page.get_by_test_id("attachments")).to_contain_text("No hay archivos adjuntos")
    scan = {"name": "factura F-9.pdf", "mimeType": "application/pdf", "buffer": PDF}
    page.set_input_files("#attachment-form-input", scan)
    page.get_by_role("button", name="Adjuntar el archivo").click()
    expect(page.locator("body")).to_contain_text("Archivo factura F-9.pdf adjuntado")
    link = page.get_by_test_id("attachment-list").get_by_role("link", name="factura F-9.pdf")
    with page.expect_download() as download:
        link.click()
    assert Path(download.value.path()).read_bytes() == PDF
    with tenant_context(company_a):
        kept = FileObject.objects.get(original_name="factura F-9.pdf")
        assert (kept.module, kept.status, str(kept.record_id)) == ("bills", "ready", bill)
