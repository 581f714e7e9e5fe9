from django.contrib import admin

from ally360.admin import ReadOnlyTenantAdmin

from .models import Contact


@admin.register(Contact)
class ContactAdmin(ReadOnlyTenantAdmin):
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
