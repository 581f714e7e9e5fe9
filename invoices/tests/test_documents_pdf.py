"""Invoice and credit-note PDFs (WeasyPrint, stored as files) and the invoice e-mail."""

import re
from decimal import Decimal

import pytest
from django.core import mail

from ally360.tenancy import tenant_context
from conftest import error_code
from files.models import FileObject
from files.services import file_read
from files.tests.test_uses import fetch
from invoices.models import Invoice
from invoices.tests.fixtures import issue_invoice

pytestmark = pytest.mark.django_db


def _issued_invoice(client, shop):
    return issue_invoice(
        client,
        shop,
        [
            {"variant": shop.v("iva19"), "quantity": "2"},
            {"variant": shop.v("inc8"), "quantity": "1"},
        ],
    )


def test_invoice_pdf_is_generated_stored_reused_and_refreshed(
    owner_a, company_a, make_shop, django_capture_on_commit_callbacks
):
    shop = make_shop(company_a)
    invoice = _issued_invoice(owner_a, shop)
    with django_capture_on_commit_callbacks(execute=True):
        first = owner_a.get(f"/api/v1/invoices/{invoice['id']}/pdf")
    assert first.status_code == 202 and first.json()["status"] == "generating"
    ready = owner_a.get(f"/api/v1/invoices/{invoice['id']}/pdf")
    assert ready.status_code == 200, ready.json()
    pdf = fetch(ready.json()["url"])
    assert pdf.startswith(b"%PDF-")
    with tenant_context(company_a):
        stored = Invoice.objects.get(pk=invoice["id"]).pdf
        assert stored.module == "invoices" and stored.key.startswith(f"ally360/{company_a.id}/")
        assert file_read(file=stored) == pdf
    text = _pdf_text(pdf)
    assert "FV1" in text and "Cliente SAS" in text and "900123456-8" in text
    assert "18760000FV" in text  # the DIAN resolution printed in the footer
    # Amounts as Colombians write them (es-co: "." groups thousands, "," marks decimals), the
    # tax box included.
    total = Decimal(invoice["total"])
    assert f"{total:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".") in text
    iva = next(t for t in invoice["tax_breakdown"] if t["kind"] == "iva")
    grouped = f"{Decimal(iva['base']):,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    assert grouped in text

    # Reused while nothing changes; a payment makes it stale.
    assert owner_a.get(f"/api/v1/invoices/{invoice['id']}/pdf").status_code == 200
    owner_a.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        {"method": "cash", "amount": "1000"},
        format="json",
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert owner_a.get(f"/api/v1/invoices/{invoice['id']}/pdf").status_code == 202
    with tenant_context(company_a):
        assert FileObject.objects.filter(purpose="pdf", status="deleted").count() == 1
    draft = owner_a.post(
        "/api/v1/invoices/",
        {
            "pdv": str(shop.pdv.id),
            "customer": str(shop.customer.id),
            "lines": [{"variant": shop.v("iva19"), "quantity": "1"}],
        },
        format="json",
    ).json()
    assert owner_a.get(f"/api/v1/invoices/{draft['id']}/pdf").status_code == 409


def _pdf_text(pdf: bytes) -> str:
    from io import BytesIO

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


def test_credit_note_pdf(owner_a, company_a, make_shop, django_capture_on_commit_callbacks):
    shop = make_shop(company_a)
    invoice = _issued_invoice(owner_a, shop)
    note = owner_a.post(
        "/api/v1/credit-notes/",
        {
            "invoice": invoice["id"],
            "concept": "1",
            "reason": "Devolución",
            "return_stock": True,
            "lines": [{"invoice_line": invoice["lines"][0]["id"], "quantity": "1"}],
        },
        format="json",
    ).json()
    with django_capture_on_commit_callbacks(execute=True):
        assert owner_a.get(f"/api/v1/credit-notes/{note['id']}/pdf").status_code == 202
    ready = owner_a.get(f"/api/v1/credit-notes/{note['id']}/pdf")
    assert ready.status_code == 200 and fetch(ready.json()["url"]).startswith(b"%PDF-")


def test_send_emails_the_pdf_to_the_customer(
    owner_a, company_a, make_shop, django_capture_on_commit_callbacks
):
    shop = make_shop(company_a)
    invoice = _issued_invoice(owner_a, shop)
    no_email = owner_a.post(f"/api/v1/invoices/{invoice['id']}/send", {}, format="json")
    assert no_email.status_code == 400 and error_code(no_email) == "validation_error"
    # A valid address the outbox cannot hold (255 to 320 characters) is refused at once.
    too_long = "c" * 64 + "@" + ".".join(["b" * 60] * 4) + ".co"
    refused = owner_a.post(
        f"/api/v1/invoices/{invoice['id']}/send", {"to": too_long}, format="json"
    )
    assert refused.status_code == 400 and "to" in refused.json()["error"]["fields"]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sent = owner_a.post(
            f"/api/v1/invoices/{invoice['id']}/send", {"to": "compras@cliente.co"}, format="json"
        )
    assert sent.status_code == 202 and sent.json()["to"] == "compras@cliente.co"
    (message,) = mail.outbox
    assert message.to == ["compras@cliente.co"]
    assert "FV1" in message.subject
    # The figures as the pages show them (they were "32440.00").
    total = f"{Decimal(invoice['total']):,.2f}".translate(str.maketrans(",.", ".,"))
    assert f"por {total} (saldo {total})" in message.body, message.body
    (attachment,) = message.attachments
    assert attachment[0] == "FV1.pdf" and attachment[1].startswith(b"%PDF-")
    assert attachment[2] == "application/pdf"


def test_a_redelivered_send_task_queues_the_email_once(
    owner_a, company_a, make_shop, django_capture_on_commit_callbacks
):
    """Tasks are acknowledged late: a worker lost mid-task gets the message again. The e-mail's
    id is fixed when the request is accepted, so the second run finds it and sends nothing."""
    import uuid

    from accounts.models import OutboundEmail
    from ally360.tenancy import tenant_context
    from invoices.tasks import email_invoice

    shop = make_shop(company_a)
    invoice = _issued_invoice(owner_a, shop)
    mail.outbox.clear()
    email_id = str(uuid.uuid4())
    with django_capture_on_commit_callbacks(execute=True):
        for _delivery in range(2):
            with tenant_context(company_a):
                email_invoice.run(
                    invoice["id"], "x@cliente.co", tenant_id=str(company_a.id), email_id=email_id
                )
    assert OutboundEmail.objects.filter(kind="invoice").count() == 1
    assert len(mail.outbox) == 1


def test_an_invoice_sent_while_the_store_is_down_is_sent_once_it_is_back(
    owner_a, company_a, make_shop, monkeypatch, django_capture_on_commit_callbacks
):
    """The send task retries on the store's outage (not only is configured to): its PDF could
    not be written three times, the fourth run sends the e-mail, once."""
    from accounts.models import OutboundEmail
    from files.backends import LocalBackend, StorageUnavailable
    from invoices.tasks import email_invoice

    shop = make_shop(company_a)
    invoice = _issued_invoice(owner_a, shop)
    mail.outbox.clear()
    runs = []
    save = LocalBackend.save

    def blinking(self, key, content, content_type):
        runs.append(key)
        if len(runs) <= 3:
            raise StorageUnavailable("503 SlowDown")
        return save(self, key, content, content_type)

    monkeypatch.setattr(LocalBackend, "save", blinking)
    # Eager, each retry runs at once, without its countdown; an eager retry that propagated
    # would end the run at the first.
    monkeypatch.setitem(email_invoice.app.conf, "task_eager_propagates", False)
    with django_capture_on_commit_callbacks(execute=True):
        result = email_invoice.apply(
            args=[invoice["id"], "x@cliente.co"], kwargs={"tenant_id": str(company_a.id)}
        )
    assert result.state == "SUCCESS" and result.result == "queued", repr(result.result)
    assert len(runs) == 4
    assert OutboundEmail.objects.filter(kind="invoice").count() == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].attachments[0][0] == "FV1.pdf"


def test_invoice_pdf_shows_lines_taxes_totals_payments_and_the_logo(owner_a, company_a, make_shop):
    """What the customer reads: every line, the tax breakdown, the totals, the payments with
    their withholdings, and the company's logo embedded as an image."""
    from files.tests.test_uses import uploaded
    from invoices.pdf import render_document_pdf

    shop = make_shop(company_a)
    logo = uploaded(owner_a, module="company", name="logo.png")
    set_logo = owner_a.put("/api/v1/companies/current/logo", {"file": logo}, format="json")
    assert set_logo.status_code == 200
    invoice = _issued_invoice(owner_a, shop)
    paid = owner_a.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        {"method": "transfer", "amount": "10000", "retefuente": "500", "reference": "TRX-77"},
        format="json",
    )
    assert paid.status_code == 201, paid.json()
    with tenant_context(company_a):
        pdf = render_document_pdf(Invoice.objects.get(pk=invoice["id"]))
    text = _pdf_text(pdf)
    compact = text.replace(".", "").replace(",", ".")  # es-co: 23.800,00 -> 23800.00
    for line in invoice["lines"]:
        assert line["description"] in text
        assert line["total"] in compact
    for tax in invoice["tax_breakdown"]:
        assert tax["name"] in text and tax["amount"] in compact
    for amount in (invoice["subtotal"], invoice["tax_total"], invoice["total"]):
        assert amount in compact
    balance = str(Decimal(invoice["total"]) - Decimal("10500.00"))

    assert "TRX-77" in text and "10500.00" in compact and balance in compact
    from io import BytesIO

    from pypdf import PdfReader

    assert len(PdfReader(BytesIO(pdf)).pages[0].images) == 1  # the logo


@pytest.mark.parametrize(
    ("price", "printed"),
    [
        ("1234.500000", "1.234,50"),
        ("333.335000", "333,335"),
        ("2000000.000000", "2.000.000,00"),
        ("2521.008403", "2.521,008403"),
    ],
)
def test_unit_prices_print_like_amounts_with_their_own_places(price, printed):
    from django.utils import translation

    from invoices.templatetags.document_numbers import unit_price

    with translation.override("es-co"):
        assert unit_price(Decimal(price)) == printed


def test_an_invoice_e_mail_waiting_for_its_mail_server_keeps_its_pdf_when_a_new_one_is_made(
    owner_a, company_a, make_shop, settings, django_capture_on_commit_callbacks
):
    """The mail server is down when the invoice is sent, so the e-mail waits in the outbox.
    Meanwhile a payment changes the invoice and its PDF is made again, which deletes the old
    one, unless an e-mail still waits for it: then it stays, and the e-mail goes out with it
    once the server is back (it used to fail for a missing attachment)."""
    from celery.exceptions import Retry

    from accounts.models import OutboundEmail
    from accounts.tasks import send_outbound_email
    from accounts.tests.test_email_worker import FlakySMTPBackend
    from files.backends import backend
    from invoices.tasks import purge_superseded_pdfs

    shop = make_shop(company_a)
    invoice = _issued_invoice(owner_a, shop)
    settings.EMAIL_BACKEND = f"{FlakySMTPBackend.__module__}.FlakySMTPBackend"
    FlakySMTPBackend.failures = 1000  # the mail server is down
    # Inline tasks: the delivery's retry surfaces here; the row stays in the outbox.
    with pytest.raises(Retry), django_capture_on_commit_callbacks(execute=True):
        sent = owner_a.post(
            f"/api/v1/invoices/{invoice['id']}/send", {"to": "c@cliente.co"}, format="json"
        )
    assert sent.status_code == 202
    email = OutboundEmail.objects.get(kind="invoice")
    assert email.status == OutboundEmail.Status.PENDING and mail.outbox == []
    waiting_key = email.attachments[0]["storage_key"]

    paid = owner_a.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        {"method": "cash", "amount": "1000"},
        format="json",
    )
    assert paid.status_code == 201, paid.json()
    with django_capture_on_commit_callbacks(execute=True):
        assert owner_a.get(f"/api/v1/invoices/{invoice['id']}/pdf").status_code == 202
    with tenant_context(company_a):
        current = Invoice.objects.select_related("pdf").get(pk=invoice["id"]).pdf
        assert current.key != waiting_key  # a new PDF was made
        assert FileObject.objects.get(key=waiting_key).status == FileObject.Status.READY
    assert purge_superseded_pdfs.apply().get() == 1  # the company has one: its job keeps it
    with tenant_context(company_a):
        assert FileObject.objects.get(key=waiting_key).status == FileObject.Status.READY

    FlakySMTPBackend.failures = 0  # the server is back: the sweeper's next attempt
    assert send_outbound_email.apply(args=[str(email.pk)]).get() == "sent"
    (message,) = mail.outbox
    assert message.attachments[0][1].startswith(b"%PDF-")

    # Sent, it waits no more: the hourly job deletes it with its object; the current PDF stays.
    assert purge_superseded_pdfs.apply().get() == 1
    with tenant_context(company_a):
        assert FileObject.objects.get(key=waiting_key).status == FileObject.Status.DELETED
        assert FileObject.objects.get(pk=current.pk).status == FileObject.Status.READY
    assert backend().info(waiting_key) is None and backend().info(current.key) is not None
    assert purge_superseded_pdfs.apply().get() == 0

    # With no e-mail waiting for it, a superseded PDF is deleted as before.
    owner_a.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        {"method": "cash", "amount": "1000"},
        format="json",
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert owner_a.get(f"/api/v1/invoices/{invoice['id']}/pdf").status_code == 202
    with tenant_context(company_a):
        assert FileObject.objects.get(pk=current.pk).status == FileObject.Status.DELETED


def test_the_invoice_pdf_adds_up_after_a_note_gave_money_back(owner_a, company_a, make_shop):
    """Total 11,900 − paid 11,900 − credited 11,900 + refunded 9,400 + withholding reversed
    2,500 = balance 0: with the last two printed, the figures add up (they were missing)."""
    from invoices.pdf import render_document_pdf

    shop = make_shop(company_a)
    invoice = issue_invoice(owner_a, shop, [{"variant": shop.v("iva19"), "quantity": "1"}])
    paid = owner_a.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        {"method": "transfer", "amount": "9400", "reteica": "2500"},
        format="json",
    )
    assert paid.status_code == 201, paid.json()
    annulled = owner_a.post(
        "/api/v1/credit-notes/",
        {
            "invoice": invoice["id"],
            "concept": "2",
            "reason": "Anulación",
            "refund_method": "transfer",
        },
        format="json",
    )
    assert annulled.status_code == 201, annulled.json()
    (summary,) = owner_a.get(f"/api/v1/invoices/{invoice['id']}/").json()["credit_notes"]
    assert (summary["refund_amount"], summary["withholding_reversed"]) == ("9400.00", "2500.00")
    with tenant_context(company_a):
        text = _pdf_text(render_document_pdf(Invoice.objects.get(pk=invoice["id"])))
    assert "Devuelto 9.400,00" in text, text
    assert re.search(r"Retenciones\s+revertidas\s+2\.500,00", text), text  # the label may wrap


def test_superseded_pdfs_are_purged_per_company_and_only_its_own(company_a, company_b):
    """The beat finds the companies holding a PDF no document points to; each company's job
    deletes its own and never another company's."""
    from files.services import file_store
    from invoices.tasks import purge_superseded_pdfs, purge_superseded_pdfs_for_tenant

    def stored_pdf(company):
        with tenant_context(company):
            return file_store(
                module="invoices",
                purpose="pdf",
                name="FV1.pdf",
                content_type="application/pdf",
                content=b"%PDF-1.4\n%%EOF\n",
            ).pk

    pdf_a, pdf_b, other_b = stored_pdf(company_a), stored_pdf(company_b), stored_pdf(company_b)
    assert (
        purge_superseded_pdfs_for_tenant.apply(kwargs={"tenant_id": str(company_a.id)}).get() == 1
    )
    with tenant_context(company_a):
        assert FileObject.objects.get(pk=pdf_a).status == FileObject.Status.DELETED
    with tenant_context(company_b):
        assert FileObject.objects.get(pk=pdf_b).status == FileObject.Status.READY
    assert purge_superseded_pdfs.apply().get() == 1  # one job for company B's two
    with tenant_context(company_b):
        assert FileObject.objects.filter(pk__in=[pdf_b, other_b], status="deleted").count() == 2


def test_superseded_pdfs_stay_while_the_store_is_down_and_the_job_retries(company_a, monkeypatch):
    """The store down is StorageUnavailable, which the job's STORAGE_RETRY retries (an API
    error, ServiceUnavailable, would fail the job for the hour)."""
    from files.backends import LocalBackend, StorageUnavailable
    from files.services import file_store
    from invoices.services import superseded_pdfs_purge

    with tenant_context(company_a):
        pdf = file_store(
            module="invoices",
            purpose="pdf",
            name="FV1.pdf",
            content_type="application/pdf",
            content=b"%PDF-1.4\n%%EOF\n",
        )

    def down(self, key):
        raise StorageUnavailable("connection refused")

    monkeypatch.setattr(LocalBackend, "delete", down)
    with tenant_context(company_a):
        with pytest.raises(StorageUnavailable):
            superseded_pdfs_purge()
        assert FileObject.objects.get(pk=pdf.pk).status == FileObject.Status.READY


def test_a_new_pdf_stands_when_the_store_blinks_on_the_old_one(
    owner_a, company_a, make_shop, monkeypatch, django_capture_on_commit_callbacks
):
    """Deleting the replaced PDF met the store down: the job failed for good (the old object's
    error, not retried). Now the new PDF stands and the old one is left to the purge."""
    from files.backends import LocalBackend, StorageUnavailable
    from invoices.selectors import superseded_pdfs
    from invoices.tasks import generate_document_pdf

    shop = make_shop(company_a)
    invoice = _issued_invoice(owner_a, shop)
    with django_capture_on_commit_callbacks(execute=True):
        assert owner_a.get(f"/api/v1/invoices/{invoice['id']}/pdf").status_code == 202
    with tenant_context(company_a):
        first = Invoice.objects.get(pk=invoice["id"]).pdf_id
    paid = owner_a.post(
        f"/api/v1/invoices/{invoice['id']}/payments",
        {"method": "cash", "amount": "1000"},
        format="json",
    )
    assert paid.status_code == 201

    def down(self, key):
        raise StorageUnavailable("503 SlowDown")

    monkeypatch.setattr(LocalBackend, "delete", down)
    result = generate_document_pdf.apply(
        args=["invoice", invoice["id"]], kwargs={"tenant_id": str(company_a.id)}, throw=False
    )
    assert result.state == "SUCCESS", repr(result.result)
    with tenant_context(company_a):
        second = Invoice.objects.get(pk=invoice["id"]).pdf_id
        assert second not in (None, first)
        assert [file.pk for file in superseded_pdfs()] == [first]


def test_an_invoice_sent_while_the_store_is_down_waits_hours_for_its_pdf():
    """The user was told the e-mail is queued: its PDF is waited for about as long as an e-mail
    waits for its mail server (it gave up within a minute, and nothing sent it later), each
    wait shorter than the broker's visibility timeout (a longer one is delivered twice)."""
    from celery.utils.time import get_exponential_backoff_interval
    from django.conf import settings

    from invoices.tasks import email_invoice

    waits = [
        get_exponential_backoff_interval(
            email_invoice.retry_backoff, retries, email_invoice.retry_backoff_max, False
        )
        for retries in range(email_invoice.max_retries)
    ]
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert max(waits) < visibility
    # Jitter draws each wait between 0 and its ceiling: half of the ceilings, hours still.
    assert sum(waits) / 2 >= 3 * 3600
