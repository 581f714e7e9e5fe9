"""A record's files on its page ("Archivos adjuntos" under a purchase, an invoice, a customer
and a supplier): the upload URL the page's script asks for, the file sent straight to storage,
then checked and attached once per file; downloaded through a signed URL; deleted. Refusals (a
type the module does not take, a file never sent, another company's upload) attach nothing;
roles follow the record's page; another company's record or file is a 404."""

from __future__ import annotations

import re
import uuid

import pytest
from django.core.files.storage import storages
from django.test import Client

from ally360.models import IdempotencyRecord
from ally360.roles import Role
from ally360.tenancy import tenant_context
from ally360.tests.pages import row_counts
from bills.tests.test_bills_api import buy_a, buy_b  # noqa: F401 - fixtures
from files.models import FileObject
from files.services import MAX_ATTACHMENTS
from files.tests.test_attachments import draft_bill, draft_invoice, ready_files
from files.tests.test_files_api import PDF, local_put, uploaded_file
from inventory.tests.test_adjustment_page import pages_as

pytestmark = pytest.mark.django_db

WRITTEN = (FileObject, IdempotencyRecord)


def start(client, base, content=PDF, name="factura.pdf", content_type="application/pdf"):
    return client.post(
        f"{base}attachments/upload/",
        {"name": name, "content_type": content_type, "size": len(content)},
    )


def sent(client, base, content=PDF, **declared) -> str:
    """The page's script: an upload URL, the file sent there; the file's id."""
    answer = start(client, base, content, **declared)
    assert answer.status_code == 201, answer.json()
    assert local_put(answer.json()["upload"], content, "application/pdf").status_code == 201
    return answer.json()["file"]


def attached(company, record_id) -> list:
    with tenant_context(company):
        return list(
            FileObject.objects.filter(record_id=record_id, status="ready")
            .order_by("created_at")
            .values_list("original_name", flat=True)
        )


def message(response) -> str:
    found = re.findall(r'class="message[^"]*"[^>]*>([^<]+)<', response.content.decode())
    return " ".join(found)


def test_a_purchase_keeps_the_suppliers_invoice(owner_a, company_a, buy_a):  # noqa: F811
    bill = draft_bill(owner_a, buy_a)
    owner = pages_as(company_a, Role.OWNER)
    base = f"/purchases/{bill}/"
    assert b'data-testid="attachments"' in owner.get(base).content
    file_id = sent(owner, base, name="factura proveedor.pdf")
    done = owner.post(f"{base}attachments/attach/", {"file": file_id}, follow=True)
    assert "factura proveedor.pdf" in message(done)
    resent = owner.post(f"{base}attachments/attach/", {"file": file_id}, follow=True)
    assert "El archivo ya se había adjuntado." in message(resent)  # once per file
    assert attached(company_a, bill) == ["factura proveedor.pdf"]

    page = owner.get(base).content.decode()
    download = f"{base}attachments/{file_id}/"
    assert f'href="{download}"' in page
    signed = owner.get(download)
    assert signed.status_code == 302
    stored = Client().get(re.sub(r"^https?://[^/]+", "", signed["Location"]))
    assert b"".join(stored.streaming_content) == PDF

    # Listed on /files/ too, deleted only under its record (the record's rules).
    listed = owner.get("/files/").context["page_obj"]
    assert [(f.pk, f.may_delete) for f in listed] == [(uuid.UUID(file_id), False)]
    refused = owner.post(f"/files/{file_id}/delete/", follow=True)
    assert "adjunto" in message(refused) and attached(company_a, bill) == ["factura proveedor.pdf"]
    with tenant_context(company_a):
        key = FileObject.objects.get(pk=file_id).key
    deleted = owner.post(f"{download}delete/", follow=True)
    assert "factura proveedor.pdf" in message(deleted)
    assert attached(company_a, bill) == []
    assert not storages["default"].exists(key)
    assert owner.get(download).status_code == 404


def test_refusals_attach_nothing(
    owner_a,
    owner_b,
    company_a,
    company_b,
    buy_a,  # noqa: F811
    buy_b,  # noqa: F811
):
    bill = draft_bill(owner_a, buy_a)
    owner = pages_as(company_a, Role.OWNER)
    base = f"/purchases/{bill}/"
    wrong_type = start(owner, base, b"GIF89a", name="foto.gif", content_type="image/gif")
    assert wrong_type.status_code == 400 and wrong_type.json()["error"]
    never_sent = start(owner, base).json()["file"]
    refused = owner.post(f"{base}attachments/attach/", {"file": never_sent}, follow=True)
    assert message(refused)
    not_a_pdf = sent(owner, base, content=b"%PDX not a pdf", name="falsa.pdf")
    refused = owner.post(f"{base}attachments/attach/", {"file": not_a_pdf}, follow=True)
    assert "falsa" not in message(refused) and "application/pdf" in message(refused)
    with tenant_context(company_a):
        assert FileObject.objects.get(pk=not_a_pdf).status == FileObject.Status.PENDING
    assert attached(company_a, bill) == []

    # Another company's upload is "not found"; its purchase, a 404.
    theirs = uploaded_file(owner_b, "bills")
    refused = owner.post(f"{base}attachments/attach/", {"file": theirs}, follow=True)
    assert message(refused) and attached(company_a, bill) == []
    with tenant_context(company_b):
        assert FileObject.objects.get(pk=theirs).record_id is None
    before = row_counts(company_b, *WRITTEN)
    stranger = pages_as(company_b, Role.OWNER)
    assert stranger.get(f"{base}").status_code == 404
    assert start(stranger, base).status_code == 404
    assert stranger.post(f"{base}attachments/attach/", {"file": theirs}).status_code == 404
    assert row_counts(company_b, *WRITTEN) == before

    # Company A's attachment through B's pages: its purchase, or B's own purchase, is a 404.
    kept = sent(owner, base, name="de A.pdf")
    owner.post(f"{base}attachments/attach/", {"file": kept})
    assert stranger.get(f"{base}attachments/{kept}/").status_code == 404
    assert stranger.post(f"{base}attachments/{kept}/delete/").status_code == 404
    own = f"/purchases/{draft_bill(owner_b, buy_b)}/"
    assert stranger.get(f"{own}attachments/{kept}/").status_code == 404
    assert stranger.post(f"{own}attachments/{kept}/delete/").status_code == 404
    assert attached(company_a, bill) == ["de A.pdf"]


def test_roles_follow_the_records_page(owner_a, company_a, buy_a, shop_a):  # noqa: F811
    bill = draft_bill(owner_a, buy_a)
    customer = shop_a.customer.pk
    seller, viewer = pages_as(company_a, Role.SELLER), pages_as(company_a, Role.VIEWER)
    # Purchases and suppliers' pages are the back office's: a seller or a viewer reaches
    # neither the page nor its files.
    supplier = f"/suppliers/{buy_a.supplier.pk}/"
    for outsider in (seller, viewer):
        assert outsider.get(f"/purchases/{bill}/").status_code == 403
        assert start(outsider, f"/purchases/{bill}/").status_code == 403
        assert outsider.get(f"{supplier}edit/").status_code == 403
        assert start(outsider, supplier).status_code == 403
    # A seller attaches to a customer; a viewer only sees an invoice's files.
    file_id = sent(seller, f"/customers/{customer}/", name="rut.pdf")
    seller.post(f"/customers/{customer}/attachments/attach/", {"file": file_id})
    assert attached(company_a, customer) == ["rut.pdf"]
    assert b"rut.pdf" in seller.get(f"/customers/{customer}/edit/").content
    invoice = draft_invoice(owner_a, shop_a)
    page = viewer.get(f"/invoices/{invoice}/")
    assert b'data-testid="attachments"' in page.content
    assert b'data-testid="attachment-form"' not in page.content
    assert start(viewer, f"/invoices/{invoice}/").status_code == 403
    owner = pages_as(company_a, Role.OWNER)
    order = sent(owner, f"/invoices/{invoice}/", name="orden de compra.pdf")
    owner.post(f"/invoices/{invoice}/attachments/attach/", {"file": order})
    assert attached(company_a, invoice) == ["orden de compra.pdf"]
    assert b"orden de compra.pdf" in viewer.get(f"/invoices/{invoice}/").content
    assert viewer.post(f"/invoices/{invoice}/attachments/{order}/delete/").status_code == 403
    assert attached(company_a, invoice) == ["orden de compra.pdf"]
    # A seller changes the files of their own invoices only: no form on another's.
    assert b'data-testid="attachment-form"' not in seller.get(f"/invoices/{invoice}/").content
    assert start(seller, f"/invoices/{invoice}/").status_code == 403
    refused = seller.post(f"/invoices/{invoice}/attachments/{order}/delete/", follow=True)
    assert "propias" in message(refused)
    assert attached(company_a, invoice) == ["orden de compra.pdf"]


def test_a_suppliers_files_on_its_page(owner_a, company_a, buy_a):  # noqa: F811
    accountant = pages_as(company_a, Role.ACCOUNTANT)
    base = f"/suppliers/{buy_a.supplier.pk}/"
    file_id = sent(accountant, base, name="rut proveedor.pdf")
    accountant.post(f"{base}attachments/attach/", {"file": file_id})
    assert attached(company_a, buy_a.supplier.pk) == ["rut proveedor.pdf"]
    assert b"rut proveedor.pdf" in accountant.get(f"{base}edit/").content
    # The customers' pages do not reach a supplier that is not a customer.
    other = f"/customers/{buy_a.supplier.pk}/attachments/{file_id}/"
    assert pages_as(company_a, Role.OWNER).get(other).status_code == 404


def test_a_full_record_shows_a_note_instead_of_the_form(owner_a, company_a, buy_a):  # noqa: F811
    bill = draft_bill(owner_a, buy_a)
    ready_files(company_a, "bills", MAX_ATTACHMENTS, record_id=bill)
    page = pages_as(company_a, Role.OWNER).get(f"/purchases/{bill}/").content.decode()
    assert page.count('data-testid="attachment-list"') == 1
    assert 'data-testid="attachment-form"' not in page
    assert f"Hasta {MAX_ATTACHMENTS} archivos" in page
