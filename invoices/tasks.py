from celery import shared_task

from files.backends import STORAGE_RETRY

from . import services
from .models import CreditNote, Invoice

DOCUMENTS = {"invoice": Invoice, "credit_note": CreditNote}


@shared_task(tenant_required=True, **STORAGE_RETRY)
def generate_document_pdf(kind: str, document_id: str, *, tenant_id: str) -> str:
    """Idempotent: a fresh PDF is kept."""
    document = DOCUMENTS[kind].objects.filter(pk=document_id).first()
    if document is None:
        return "gone"
    return services.document_pdf_generate(document=document).key


@shared_task(tenant_required=True, **STORAGE_RETRY)
def email_invoice(invoice_id: str, to: str, *, tenant_id: str, email_id: str | None = None) -> str:
    invoice = Invoice.objects.select_related("customer").filter(pk=invoice_id).first()
    if invoice is None:
        return "gone"
    services.invoice_email(invoice=invoice, to=to, email_id=email_id)
    return "queued"
