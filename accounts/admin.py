from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from ally360.exceptions import ServiceUnavailable, ValidationFailed
from ally360.fiscal import normalize_nit
from ally360.roles import Role

from .models import Company, Invitation, Membership, OutboundEmail, User
from .services import membership_cache_invalidate, normalize_email
from .tasks import ONE_TIME_LINK_KINDS

LAST_OWNER = _("A company needs at least one active owner. Make someone else owner first.")


def _is_active_owner(role, is_active) -> bool:
    return role == Role.OWNER and bool(is_active)


def _other_active_owners(membership: Membership) -> bool:
    return (
        Membership.objects.filter(
            company_id=membership.company_id, role=Role.OWNER, is_active=True, user__is_active=True
        )
        .exclude(pk=membership.pk)
        .exists()
    )


def _leaves_no_owner(memberships) -> bool:
    """Would deleting these memberships leave a company that had an owner with none?"""
    removed = {m.pk for m in memberships}
    for company_id in {m.company_id for m in memberships if _is_active_owner(m.role, m.is_active)}:
        remaining = Membership.objects.filter(
            company_id=company_id, role=Role.OWNER, is_active=True, user__is_active=True
        ).exclude(pk__in=removed)
        if not remaining.exists():
            return True
    return False


class MembershipAdminForm(forms.ModelForm):
    """The API's last-owner rule holds in the back-office too."""

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            before = Membership.objects.get(pk=self.instance.pk)
            still_owner = (
                _is_active_owner(cleaned.get("role"), cleaned.get("is_active"))
                and cleaned.get("company") == before.company
            )
            if (
                _is_active_owner(before.role, before.is_active)
                and not still_owner
                and not _other_active_owners(before)
            ):
                raise ValidationError(LAST_OWNER)
        return cleaned


class OwnerKeepingFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        had_owner = any(
            _is_active_owner(form.initial.get("role"), form.initial.get("is_active"))
            for form in self.forms
            if form.instance.pk
        )
        keeps_owner = any(
            _is_active_owner(form.cleaned_data.get("role"), form.cleaned_data.get("is_active"))
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        )
        if had_owner and not keeps_owner:
            raise ValidationError(LAST_OWNER)


class RoleCacheOutageMixin:
    """A change to who may do what must reach the API's role cache (Redis), or a removed
    member would keep access once it answers again: with the cache down the change is rolled
    back (as the API's 503) and the page says so instead of an error page."""

    def changeform_view(self, request, *args, **kwargs):
        return self._rolled_back_on_outage(super().changeform_view, request, *args, **kwargs)

    def delete_view(self, request, *args, **kwargs):
        return self._rolled_back_on_outage(super().delete_view, request, *args, **kwargs)

    def changelist_view(self, request, *args, **kwargs):  # the bulk "delete selected" action
        return self._rolled_back_on_outage(super().changelist_view, request, *args, **kwargs)

    def _rolled_back_on_outage(self, view, request, *args, **kwargs):
        try:
            with transaction.atomic():
                return view(request, *args, **kwargs)
        except ServiceUnavailable as exc:
            self.message_user(request, f"{exc.message} {NOTHING_CHANGED}", level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


NOTHING_CHANGED = _("Nothing was changed.")


def forget_cached_roles(memberships) -> None:
    """Operator edits reach the API at once: the cached role of each membership is dropped."""
    for membership in memberships:
        membership_cache_invalidate(user_id=membership.user_id, company_id=membership.company_id)


class MembershipInline(admin.TabularInline):
    model = Membership
    formset = OwnerKeepingFormSet
    extra = 0
    autocomplete_fields = ["user"]


class LowercaseEmailMixin:
    """Logins, resets and invitations look e-mails up lowercased: the back-office stores them
    so, or a user it creates could never log in."""

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])


class UserAddForm(LowercaseEmailMixin, AdminUserCreationForm):
    pass


class UserEditForm(LowercaseEmailMixin, UserChangeForm):
    pass


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserAddForm

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


class CompanyAdminForm(forms.ModelForm):
    """The NIT and its check digit are verified as the API verifies them (python-stdnum)."""

    def clean(self):
        cleaned = super().clean()
        if "nit" in cleaned and "nit_dv" in cleaned:
            try:
                cleaned["nit"], cleaned["nit_dv"] = normalize_nit(cleaned["nit"], cleaned["nit_dv"])
            except ValidationFailed as exc:
                raise ValidationError({"nit_dv": exc.message}) from exc
        return cleaned


@admin.register(Company)
class CompanyAdmin(RoleCacheOutageMixin, admin.ModelAdmin):
    form = CompanyAdminForm
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
        # A row may have moved to another user: the old user's cached role goes too.
        edited = [f.instance.pk for f in formset.forms if f.instance.pk and f.has_changed()]
        before = list(Membership.objects.filter(pk__in=edited))
        super().save_formset(request, form, formset, change)
        changed = [membership for membership, _fields in formset.changed_objects]
        forget_cached_roles([*before, *formset.new_objects, *changed, *formset.deleted_objects])


@admin.register(Membership)
class MembershipAdmin(RoleCacheOutageMixin, admin.ModelAdmin):
    form = MembershipAdminForm
    list_display = ["user", "company", "role", "is_active", "created_at"]
    list_filter = ["role", "is_active", "company"]
    search_fields = ["user__email", "company__name"]
    autocomplete_fields = ["user", "company"]

    def has_delete_permission(self, request, obj=None):
        if obj is not None and _leaves_no_owner([obj]):
            return False
        return super().has_delete_permission(request, obj)

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
        if _leaves_no_owner(memberships):
            self.message_user(request, LAST_OWNER, level=messages.ERROR)
            return
        super().delete_queryset(request, queryset)
        forget_cached_roles(memberships)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Read and delete only: an invitation's e-mail, company and role are what its sender
    was allowed to grant (the API checks it); deleting one revokes its link."""

    list_display = ["email", "company", "role", "status", "expires_at", "created_at"]
    list_filter = ["status", "role"]
    search_fields = ["email", "company__name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ["kind", "to", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "kind"]
    search_fields = ["to", "subject"]
    # The body of a reset, verification or invitation e-mail is its one-time link until it is
    # sent: shown to staff, it would let one who may read e-mails take over any account.
    exclude = ["body"]
    readonly_fields = [f.name for f in OutboundEmail._meta.fields if f.name != "body"] + [
        "shown_body"
    ]

    @admin.display(description=_("body"))
    def shown_body(self, email):
        if email.kind in ONE_TIME_LINK_KINDS:
            return _("[hidden: it carries a one-time link]")
        return email.body
