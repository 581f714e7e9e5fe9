from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Company, Invitation, Membership, OutboundEmail, User
from .services import membership_cache_invalidate


def forget_cached_roles(memberships) -> None:
    """Operator edits reach the API at once: the cached role of each membership is dropped."""
    for membership in memberships:
        membership_cache_invalidate(user_id=membership.user_id, company_id=membership.company_id)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = [
        "email",
        "first_name",
        "last_name",
        "is_active",
        "is_staff",
        "email_verified_at",
        "date_joined",
    ]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    search_fields = ["email", "first_name", "last_name", "phone"]
    readonly_fields = ["date_joined", "last_login"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "phone")}),
        (
            _("Status"),
            {
                "fields": (
                    "is_active",
                    "email_verified_at",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "nit_display",
        "city",
        "is_active",
        "allow_negative_stock",
        "created_at",
    ]
    list_filter = ["is_active", "city"]
    search_fields = ["name", "legal_name", "nit", "email"]
    inlines = [MembershipInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data:
            forget_cached_roles(Membership.objects.filter(company=obj))

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        changed = [membership for membership, _fields in formset.changed_objects]
        forget_cached_roles([*formset.new_objects, *changed, *formset.deleted_objects])


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "company", "role", "is_active", "created_at"]
    list_filter = ["role", "is_active", "company"]
    search_fields = ["user__email", "company__name"]
    autocomplete_fields = ["user", "company"]

    def save_model(self, request, obj, form, change):
        if change:
            # The membership may have moved to another user or company: forget the old pair too.
            forget_cached_roles([Membership.objects.get(pk=obj.pk)])
        super().save_model(request, obj, form, change)
        forget_cached_roles([obj])

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        forget_cached_roles([obj])

    def delete_queryset(self, request, queryset):
        memberships = list(queryset)
        super().delete_queryset(request, queryset)
        forget_cached_roles(memberships)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "company", "role", "status", "expires_at", "created_at"]
    list_filter = ["status", "role"]
    search_fields = ["email", "company__name"]
    readonly_fields = ["token_hash", "accepted_at", "accepted_by", "invited_by"]


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ["kind", "to", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "kind"]
    search_fields = ["to", "subject"]
    readonly_fields = [f.name for f in OutboundEmail._meta.fields]
