from celery import shared_task

from ally360.tenancy import cross_tenant
from files.backends import STORAGE_RETRY

from . import selectors, services
from .models import CreditNote, Invoice

DOCUMENTS = {"invoice": Invoice, "credit_note": CreditNote}

# Sending an invoice makes its PDF first. The store down, the user was told the e-mail is
# queued, so it waits about as long as an e-mail waits for its mail server (hours, where
# STORAGE_RETRY gives up within a minute), each countdown well under the broker's visibility
# timeout (a longer one is delivered twice).
PDF_FOR_EMAIL_RETRY = {
    **STORAGE_RETRY,
    "retry_backoff": 60,
    "retry_backoff_max": 600,
    "max_retries": 48,
}


@shared_task(tenant_required=True, **STORAGE_RETRY)
def generate_document_pdf(kind: str, document_id: str, *, tenant_id: str) -> str:
    """Idempotent: a fresh PDF is kept."""
    document = DOCUMENTS[kind].objects.filter(pk=document_id).first()
    if document is None:
        return "gone"
    return services.document_pdf_generate(document=document).key


@shared_task(tenant_required=True, **PDF_FOR_EMAIL_RETRY)
def email_invoice(invoice_id: str, to: str, *, tenant_id: str, email_id: str | None = None) -> str:
    invoice = Invoice.objects.select_related("customer").filter(pk=invoice_id).first()
    if invoice is None:
        return "gone"
    services.invoice_email(invoice=invoice, to=to, email_id=email_id)
    return "queued"


@shared_task
def purge_superseded_pdfs() -> int:
    """Beat: one job per company holding a PDF that a newer one replaced while an e-mail waited
    to send it (`services.superseded_pdfs_purge`)."""
    with cross_tenant():
        superseded = selectors.superseded_pdfs(all_tenants=True)
        # order_by(): the model's ordering would make DISTINCT one row per file, not company.
        tenants = list(superseded.order_by().values_list("tenant_id", flat=True).distinct())
    for tenant_id in tenants:
        purge_superseded_pdfs_for_tenant.delay(tenant_id=str(tenant_id))
    return len(tenants)


@shared_task(tenant_required=True, **STORAGE_RETRY)
def purge_superseded_pdfs_for_tenant(*, tenant_id: str) -> int:
    return services.superseded_pdfs_purge()
