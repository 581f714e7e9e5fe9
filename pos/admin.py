from django.contrib import admin

from ally360.admin import TenantModelAdmin

from .models import PDV, Seller


@admin.register(PDV)
class PDVAdmin(TenantModelAdmin):
    list_display = ["name", "code", "city", "is_main", "is_active"]
    list_filter = ["tenant", "is_main", "is_active"]
    search_fields = ["name", "code", "city"]


@admin.register(Seller)
class SellerAdmin(TenantModelAdmin):
    list_display = ["name", "identification", "email", "commission_pct", "is_active"]
    list_filter = ["tenant", "is_active"]
    search_fields = ["name", "identification", "email"]
    raw_id_fields = ["user"]
