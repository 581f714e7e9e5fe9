from django.contrib import admin

from ally360.admin import TenantModelAdmin

from .models import Contact


@admin.register(Contact)
class ContactAdmin(TenantModelAdmin):
    list_display = [
        "name",
        "id_type",
        "identification",
        "city",
        "is_customer",
        "is_supplier",
        "is_active",
    ]
    list_filter = ["tenant", "is_customer", "is_supplier", "is_active", "id_type"]
    search_fields = ["name", "trade_name", "id_number", "email"]
    readonly_fields = ["tenant", "city", "is_final_consumer", "created_at", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        # Every POS sale without a customer is the final consumer's: it stays active.
        return [*fields, "is_active"] if obj is not None and obj.is_final_consumer else fields
