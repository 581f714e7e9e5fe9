from django.contrib import admin

from ally360.admin import ReadOnlyTenantAdmin

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


class AdjustmentLineInline(admin.TabularInline):
    model = AdjustmentLine
    extra = 0
    can_delete = False
    readonly_fields = ["variant", "counted_quantity", "previous_quantity", "delta", "unit_cost"]

    def get_queryset(self, request):
        return AdjustmentLine.all_tenants.select_related("variant")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Adjustment)
class AdjustmentAdmin(ReadOnlyTenantAdmin):
    list_display = ["number", "pdv", "reason", "user", "created_at"]
    list_filter = ["tenant", "reason"]
    search_fields = ["number"]
    inlines = [AdjustmentLineInline]


class TransferLineInline(admin.TabularInline):
    model = TransferLine
    extra = 0
    can_delete = False
    readonly_fields = ["variant", "quantity", "unit_cost"]

    def get_queryset(self, request):
        return TransferLine.all_tenants.select_related("variant")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Transfer)
class TransferAdmin(ReadOnlyTenantAdmin):
    list_display = ["number", "origin", "destination", "user", "created_at"]
    search_fields = ["number"]
    inlines = [TransferLineInline]
