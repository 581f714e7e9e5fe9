from django.contrib import admin

from ally360.admin import ReadOnlyTenantAdmin, ReadOnlyTenantInline

from .models import (
    Bill,
    BillLine,
    DebitNote,
    DebitNoteLine,
    PaymentAllocation,
    SupplierPayment,
    Withholding,
    WithholdingConcept,
)


class BillLineInline(ReadOnlyTenantInline):
    model = BillLine
    fields = ["description", "quantity", "unit_cost", "discount_pct", "tax_total", "total"]


@admin.register(Bill)
class BillAdmin(ReadOnlyTenantAdmin):
    list_display = [
        "number",
        "supplier_invoice_number",
        "supplier",
        "status",
        "issue_date",
        "total",
        "balance",
    ]
    list_filter = ["tenant", "status"]
    search_fields = ["number", "supplier_invoice_number", "supplier__name"]
    list_select_related = ["tenant", "supplier"]
    inlines = [BillLineInline]


class WithholdingInline(ReadOnlyTenantInline):
    model = Withholding
    fields = ["bill", "kind", "name", "base", "rate", "amount"]


class AllocationInline(ReadOnlyTenantInline):
    model = PaymentAllocation
    fields = ["bill", "amount"]
    related = ("bill",)


@admin.register(SupplierPayment)
class SupplierPaymentAdmin(ReadOnlyTenantAdmin):
    list_display = ["number", "supplier", "date", "method", "amount", "withholding_total", "status"]
    list_filter = ["tenant", "method", "status"]
    list_select_related = ["tenant", "supplier"]
    inlines = [AllocationInline, WithholdingInline]


@admin.register(WithholdingConcept)
class WithholdingConceptAdmin(ReadOnlyTenantAdmin):
    list_display = ["name", "kind", "rate", "min_base_uvt", "is_active"]
    list_filter = ["tenant", "kind"]


class DebitNoteLineInline(ReadOnlyTenantInline):
    model = DebitNoteLine
    fields = ["description", "quantity", "unit_cost", "tax_total", "total"]


@admin.register(DebitNote)
class DebitNoteAdmin(ReadOnlyTenantAdmin):
    list_display = ["number", "bill", "issue_date", "total", "refund_amount"]
    list_select_related = ["tenant", "bill"]
    inlines = [DebitNoteLineInline]
