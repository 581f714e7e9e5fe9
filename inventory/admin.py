from django.contrib import admin

from ally360.admin import ReadOnlyTenantAdmin, ReadOnlyTenantInline

from .models import Adjustment, AdjustmentLine, Stock, StockMovement, Transfer, TransferLine


@admin.register(Stock)
class StockAdmin(ReadOnlyTenantAdmin):
    """Balances change only through documents: read-only in the back-office."""

    list_display = ["variant", "pdv", "quantity", "min_quantity", "average_cost"]
    list_select_related = ["tenant", "variant", "variant__product", "pdv"]
    search_fields = ["variant__sku", "variant__product__name"]


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyTenantAdmin):
    list_display = [
        "created_at",
        "kind",
        "variant",
        "pdv",
        "quantity",
        "unit_cost",
        "balance_after",
        "reference_number",
    ]
    list_filter = ["tenant", "kind"]
    list_select_related = ["tenant", "variant", "variant__product", "pdv"]
    search_fields = ["variant__sku", "reference_number"]


class AdjustmentLineInline(ReadOnlyTenantInline):
    model = AdjustmentLine
    fields = ["variant", "counted_quantity", "previous_quantity", "delta", "unit_cost"]
    related = ("variant",)


@admin.register(Adjustment)
class AdjustmentAdmin(ReadOnlyTenantAdmin):
    list_display = ["number", "pdv", "reason", "user", "created_at"]
    list_filter = ["tenant", "reason"]
    search_fields = ["number"]
    inlines = [AdjustmentLineInline]


class TransferLineInline(ReadOnlyTenantInline):
    model = TransferLine
    fields = ["variant", "quantity", "unit_cost"]
    related = ("variant",)


@admin.register(Transfer)
class TransferAdmin(ReadOnlyTenantAdmin):
    list_display = ["number", "origin", "destination", "user", "created_at"]
    search_fields = ["number"]
    inlines = [TransferLineInline]
