"""The operator's back-office: the admin site runs every view inside `cross_tenant()`.

Staff see every company's rows through `Model.all_tenants`; related-field choices on a change
form are limited to the edited object's company, so the back-office cannot link two tenants.
"""

from functools import wraps

from django import forms
from django.contrib import admin
from django.http import HttpResponse
from django.utils.translation import gettext as _

from .models import TenantModel
from .tenancy import cross_tenant, tenant_context


class Ally360AdminSite(admin.AdminSite):
    site_header = "Ally360 back-office"
    site_title = "Ally360"
    index_title = "Back-office"

    def login(self, request, extra_context=None):
        """Django's admin sign-in, counted in the buckets of `/login/` and `auth/login` (the
        one that opens every company's data was the one without a limit)."""
        if request.method == "POST":
            from accounts.limits import login_limit_wait
            from accounts.services import normalize_email

            email = normalize_email(str(request.POST.get("username", "")))
            wait = login_limit_wait(request, email=email)
            if wait is not None:
                message = _("Too many sign-in attempts. Try again in %(seconds)s seconds.")
                response = HttpResponse(
                    message % {"seconds": wait},
                    status=429,
                    content_type="text/plain; charset=utf-8",
                )
                response["Retry-After"] = str(wait)
                return response
        return super().login(request, extra_context)

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        @wraps(inner)
        def cross_tenant_view(request, *args, **kwargs):
            with cross_tenant():
                response = inner(request, *args, **kwargs)
                # Admin querysets are lazy: render while the escape is still active.
                if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                    response.render()
                return response

        return cross_tenant_view


class TenantAdminForm(forms.ModelForm):
    """Unique constraints that include the company (a PDV's code, a register's name) are
    checked on the form, in the edited row's company. The company is not a form field, so
    Django would skip them and the database would answer with an error page instead."""

    def _get_validation_exclusions(self):
        exclude = super()._get_validation_exclusions()
        exclude.discard("tenant")
        if self.instance.pk is not None:
            # A read-only foreign key (a register's PDV) keeps its stored value: the unique
            # constraints that include it are checked with that value instead of skipped.
            exclude -= {
                field.name
                for field in self.instance._meta.concrete_fields
                if field.many_to_one and field.name not in self.fields
            }
        return exclude

    def _post_clean(self):
        with tenant_context(self.instance.tenant_id):  # the checks query through `objects`
            super()._post_clean()


class TenantModelAdmin(admin.ModelAdmin):
    """Base admin for TenantModels: cross-tenant list, company column and filter.

    Business rows are created through the product's services (which take the tenant from the
    context), never from the back-office.
    """

    form = TenantAdminForm
    list_select_related = ["tenant"]
    list_filter = ["tenant"]
    readonly_fields = ["tenant", "created_at", "updated_at"]

    def get_queryset(self, request):
        return self.model.all_tenants.select_related("tenant")

    def get_list_display(self, request):
        display = list(super().get_list_display(request))
        return display if "tenant" in display else [*display, "tenant"]

    def has_add_permission(self, request):
        return False

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        request._admin_tenant_id = getattr(obj, "tenant_id", None)
        return obj

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if issubclass(related, TenantModel):
            tenant_id = getattr(request, "_admin_tenant_id", None)
            kwargs["queryset"] = related.all_tenants.filter(tenant_id=tenant_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        related = db_field.related_model
        if issubclass(related, TenantModel):
            tenant_id = getattr(request, "_admin_tenant_id", None)
            kwargs["queryset"] = related.all_tenants.filter(tenant_id=tenant_id)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ReadOnlyTenantAdmin(TenantModelAdmin):
    """A company's documents and master data: visible to staff, never edited from the
    back-office. Their rules (taxes, numbering, SKUs, price lists, stock) live in the services,
    which the company reaches through the API; an operator's form would bypass them."""

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyTenantInline(admin.TabularInline):
    """The lines of an issued document inside its read-only admin page (all companies)."""

    extra = 0
    can_delete = False
    related: tuple = ()  # joined in the inline's query

    def get_queryset(self, request):
        return self.model.all_tenants.select_related(*self.related)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
