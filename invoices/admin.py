from django.contrib import admin

from ally360.admin import ReadOnlyTenantAdmin, ReadOnlyTenantInline

from .models import CreditNote, CreditNoteLine, Invoice, InvoiceLine, NumberingRange, Payment


@admin.register(NumberingRange)
class NumberingRangeAdmin(ReadOnlyTenantAdmin):
    list_display = [
        "pdv",
        "document_type",
        "prefix",
        "range_from",
        "range_to",
        "next_number",
        "valid_from",
        "valid_to",
        "is_active",
    ]
    list_filter = ["tenant", "document_type", "is_active"]


class InvoiceLineInline(ReadOnlyTenantInline):
    model = InvoiceLine
    fields = ["description", "quantity", "unit_price", "discount_pct", "tax_total", "total"]


class PaymentInline(ReadOnlyTenantInline):
    model = Payment
    fields = ["date", "method", "amount", "applied", "status"]


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyTenantAdmin):
    """Issued documents never change: the back-office only reads them."""

    list_display = ["full_number", "kind", "status", "customer", "issue_date", "total", "balance"]
    list_filter = ["tenant", "kind", "status"]
    search_fields = ["full_number", "customer__name", "customer__id_number"]
    list_select_related = ["tenant", "customer"]
    inlines = [InvoiceLineInline, PaymentInline]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyTenantAdmin):
    list_display = ["invoice", "date", "method", "amount", "applied", "status"]
    list_filter = ["tenant", "method", "status"]
    list_select_related = ["tenant", "invoice"]


class CreditNoteLineInline(ReadOnlyTenantInline):
    model = CreditNoteLine
    fields = ["description", "quantity", "unit_price", "total"]


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyTenantAdmin):
    list_display = ["full_number", "invoice", "concept", "issue_date", "total", "refund_amount"]
    list_filter = ["tenant", "concept"]
    list_select_related = ["tenant", "invoice"]
    inlines = [CreditNoteLineInline]
