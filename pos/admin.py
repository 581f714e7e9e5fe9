from django.contrib import admin

from accounts.models import User
from ally360.admin import (
    ReadOnlyTenantAdmin,
    ReadOnlyTenantInline,
    TenantAdminForm,
    TenantModelAdmin,
)

from .models import PDV, CashMovement, CashRegister, PDVAccess, Seller, Shift


class PDVAccessInline(ReadOnlyTenantInline):
    """Who may sell here (empty: everyone with a selling role); changed through the API."""

    model = PDVAccess
    fields = ["user"]
    related = ("user",)


# Fields whose changes carry rules the services enforce (one main PDV, no open shift on a
# register that moves or closes) are read-only here: the company changes them through the API.


class PDVAdminForm(TenantAdminForm):
    def clean_code(self):
        return self.cleaned_data["code"].strip().upper()  # as the API stores codes


@admin.register(PDV)
class PDVAdmin(TenantModelAdmin):
    form = PDVAdminForm

    list_display = ["name", "code", "city", "is_main", "is_active"]
    list_filter = ["tenant", "is_main", "is_active"]
    search_fields = ["name", "code", "city"]
    readonly_fields = [*TenantModelAdmin.readonly_fields, "is_main", "is_active"]
    inlines = [PDVAccessInline]

    def has_delete_permission(self, request, obj=None):
        return False  # through the API, which keeps the main PDV and a used one


@admin.register(Seller)
class SellerAdmin(TenantModelAdmin):
    list_display = ["name", "identification", "email", "commission_pct", "is_active"]
    list_filter = ["tenant", "is_active"]
    search_fields = ["name", "identification", "email"]
    raw_id_fields = ["user"]

    def has_delete_permission(self, request, obj=None):
        return False  # through the API, which keeps one used by documents

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":  # users are not tenant rows: only the company's members
            kwargs["queryset"] = User.objects.filter(
                memberships__company_id=getattr(request, "_admin_tenant_id", None),
                memberships__is_active=True,
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(CashRegister)
class CashRegisterAdmin(TenantModelAdmin):
    list_display = ["name", "pdv", "is_active"]
    readonly_fields = [*TenantModelAdmin.readonly_fields, "pdv", "is_active"]

    def has_delete_permission(self, request, obj=None):
        return False  # through the API, which keeps one with shifts


class CashMovementInline(admin.TabularInline):
    model = CashMovement
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "amount", "reason", "user", "created_at"]

    def get_queryset(self, request):
        return CashMovement.all_tenants.all()

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Shift)
class ShiftAdmin(ReadOnlyTenantAdmin):
    list_display = [
        "register",
        "user",
        "status",
        "opened_at",
        "closed_at",
        "expected_cash",
        "counted_cash",
        "difference",
    ]
    list_filter = ["tenant", "status"]
    inlines = [CashMovementInline]
