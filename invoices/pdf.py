"""Invoice and credit-note PDFs: an HTML template rendered by WeasyPrint."""

from __future__ import annotations

import base64

from django.conf import settings
from django.db.models import Sum
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from accounts.models import Company
from ally360.tenancy import require_tenant_id
from files.services import company_logo, file_read

from .models import CreditNote, Invoice, Payment


def _logo_data_uri() -> str | None:
    """Embed the logo so WeasyPrint never fetches anything over the network."""
    logo = company_logo()
    if logo is None:
        return None
    content = file_read(file=logo)
    return f"data:{logo.content_type};base64,{base64.b64encode(content).decode()}"


def render_document_pdf(document: Invoice | CreditNote) -> bytes:
    import weasyprint

    company = Company.objects.get(pk=require_tenant_id())
    if isinstance(document, Invoice):
        invoice, title = (
            None,
            (
                _("POS equivalent document")
                if document.kind == Invoice.Kind.POS
                else _("Electronic sales invoice")
            ),
        )
        payments = list(document.payments.filter(status=Payment.Status.ACTIVE))
        for payment in payments:
            payment.withholdings = payment.retefuente + payment.reteiva + payment.reteica
        lines, party, pdv = list(document.lines.all()), document.customer, document.pdv
        concept = None
        # The balance adds back what credit notes gave back (money refunded, withholdings
        # reversed): printed, so that the figures add up for whoever reads them.
        given_back = document.credit_notes.aggregate(
            refunded=Sum("refund_amount"), reversed=Sum("withholding_reversed")
        )
    else:
        invoice, title, payments, given_back = document.invoice, _("Credit note"), None, {}
        lines, party, pdv = (
            list(document.lines.all()),
            document.invoice.customer,
            document.invoice.pdv,
        )
        concept = document.get_concept_display()
    with translation.override(settings.LANGUAGE_CODE):
        html = render_to_string(
            "invoices/document_pdf.html",
            {
                "company": company,
                "logo": _logo_data_uri(),
                "document": document,
                "title": str(title),
                "lines": lines,
                "party": party,
                "party_label": str(_("Customer")),
                "pdv": pdv,
                "payments": payments,
                "invoice": invoice,
                "concept": concept,
                "numbering": document.numbering_range,
                "refunded": given_back.get("refunded") or 0,
                "withholding_reversed": given_back.get("reversed") or 0,
            },
        )
    return weasyprint.HTML(string=html).write_pdf()
