"""The PDF and invoice e-mail flows with a real Celery worker on the Redis broker."""

import pytest
from django.core import mail

from ally360.tenancy import tenant_context
from conftest import wait_for
from invoices.models import Invoice
from invoices.tests.fixtures import issue_invoice

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_a_worker_generates_the_pdf_and_sends_the_invoice(
    celery_worker_redis, company_a, owner_a, make_shop
):
    shop = make_shop(company_a)
    invoice = issue_invoice(owner_a, shop)
    assert owner_a.get(f"/api/v1/invoices/{invoice['id']}/pdf").status_code == 202

    def generated():
        with tenant_context(company_a):
            return Invoice.objects.get(pk=invoice["id"]).pdf_id

    wait_for(generated)
    assert owner_a.get(f"/api/v1/invoices/{invoice['id']}/pdf").json()["status"] == "ready"

    mail.outbox.clear()
    sent = owner_a.post(
        f"/api/v1/invoices/{invoice['id']}/send", {"to": "pagos@cliente.co"}, format="json"
    )
    assert sent.status_code == 202
    wait_for(lambda: mail.outbox)
    (message,) = mail.outbox
    assert message.to == ["pagos@cliente.co"]
    assert message.attachments[0][1].startswith(b"%PDF-")


def test_the_worker_retries_the_pdf_while_the_object_store_is_down(
    celery_worker_redis,
    company_a,
    owner_a,
    make_shop,
    s3_storage,
    object_store_outage,
    task_retries,
):
    """S3 goes away after the sale: the task cannot store the PDF, backs off and retries, and
    stores it once the object store answers again."""
    from files.services import file_read

    shop = make_shop(company_a)
    invoice = issue_invoice(owner_a, shop)

    def stored_pdf():
        with tenant_context(company_a):
            return Invoice.objects.select_related("pdf").get(pk=invoice["id"]).pdf

    with object_store_outage():
        assert owner_a.get(f"/api/v1/invoices/{invoice['id']}/pdf").status_code == 202
        wait_for(lambda: task_retries)  # an attempt failed while the store is down
        assert stored_pdf() is None
    pdf = wait_for(stored_pdf, timeout=60)
    assert task_retries[0] == ("invoices.tasks.generate_document_pdf", "StorageUnavailable")

    with tenant_context(company_a):
        assert file_read(file=pdf).startswith(b"%PDF-")
