"""Forms of the points-of-sale and sellers pages. They check the shape of the input; the rules
(codes unique per company, exactly one main point of sale, a seller's user a member, a
register's name unique at its point of sale) are the services' and come back on the form."""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership, User
from ally360.forms import changed_on_page
from ally360.tenancy import require_tenant_id

from .models import PDV, PDVAccess, Seller
from .services import PDV_FIELDS, SELLER_FIELDS


def active_members(*, also=None):
    """The company's active members, as the choices of a seller's user or a point of sale's
    cashiers (the services refuse anyone else); `also`, a user id kept as a choice (a seller's
    member since suspended, so that saving the seller does not unlink them)."""
    members = Membership.objects.filter(company_id=require_tenant_id(), is_active=True)
    return User.objects.filter(Q(pk__in=members.values("user_id")) | Q(pk=also)).order_by("email")


def member_label(user) -> str:
    return user.email if user.full_name == user.email else f"{user.full_name} ({user.email})"


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return member_label(user)


class MembersChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, user):
        return member_label(user)


class PDVForm(forms.ModelForm):
    """A point of sale's details (`pdv_create` / `pdv_update`, as `POST` / `PATCH pdvs/`). On
    the edit page, also whether it is main or open, and who may open shifts there."""

    allowed_users = MembersChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Cashiers allowed here"),
        help_text=_("None ticked: every member. Owners and admins may always sell here."),
    )
    key = forms.UUIDField(widget=forms.HiddenInput, required=False)  # one new PDV per form

    class Meta:
        model = PDV
        fields = ["name", "code", "address", "city", "phone", "is_main", "is_active"]

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["key"]
            members = active_members()
            self.fields["allowed_users"].queryset = members
            self.initial["allowed_users"] = list(
                PDVAccess.objects.filter(pdv=self.instance, user__in=members).values_list(
                    "user_id", flat=True
                )
            )
            # Sent only when changed (`pdv_data`), judged against the page as it was opened (a
            # hidden "initial-" input): a page opened before another manager closed the store or
            # chose its cashiers must not undo that by a rename.
            for name in ("is_main", "is_active", "allowed_users"):
                self.fields[name].show_hidden_initial = True
        else:
            for name in ("is_active", "allowed_users"):
                del self.fields[name]
            self.fields["key"].required = True

    def clean(self):
        data = super().clean()
        if "is_active" in self.fields and data.get("is_main") and not data.get("is_active"):
            self.add_error("is_active", _("The main point of sale must stay active."))
        return data

    def _post_clean(self):
        """The model's own checks (unique code, one main) are the service's, under its lock."""

    def pdv_data(self) -> dict:
        """What to save. On the edit page, whether it is main or active and who may sell there
        only when changed: a rename takes no lock on the main point of sale, and cashiers since
        suspended (not among the choices) keep the store closed to the others."""
        data = {
            name: self.cleaned_data[name]
            for name in (*PDV_FIELDS, "is_main")
            if name in self.fields
        }
        if "allowed_users" in self.fields:  # editing
            changed = changed_on_page(self)
            for name in ("is_main", "is_active"):
                if name not in changed:
                    del data[name]
            if "allowed_users" in changed:
                data["allowed_users"] = list(self.cleaned_data["allowed_users"])
        return data


class CashRegisterForm(forms.Form):
    """A new register at a point of sale (`cash_register_create`, as `POST cash-registers/`)."""

    name = forms.CharField(label=_("Name"), max_length=80)
    key = forms.UUIDField(widget=forms.HiddenInput)  # one new register per form

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="register", **kwargs)


class CashRegisterEditForm(forms.Form):
    """A register's name, and whether shifts open on it (`cash_register_update`)."""

    name = forms.CharField(label=_("Name"), max_length=80)
    is_active = forms.BooleanField(label=_("Active"), required=False)


class SellerForm(forms.ModelForm):
    """A seller (`seller_create` / `seller_update`, as `POST` / `PATCH sellers/`): the person
    credited with an invoice (chosen on it, or a customer's default seller), optionally linked
    to a team member."""

    user = MemberChoiceField(
        queryset=None,
        required=False,
        label=_("Member"),
        empty_label=_("— (not a member)"),
        help_text=_("The team member this seller is, if any (one seller per member)."),
    )
    # The model's bounds, which the page's model form would only check in full_clean.
    commission_pct = forms.DecimalField(
        label=capfirst(Seller._meta.get_field("commission_pct").verbose_name),
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
    )
    key = forms.UUIDField(widget=forms.HiddenInput, required=False)  # one new seller per form

    class Meta:
        model = Seller
        fields = ["name", "identification", "email", "phone", "commission_pct", "user", "is_active"]

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = active_members(also=self.instance.user_id)
        if editing:
            del self.fields["key"]
            # The member is sent only when changed on the page as it was opened (`seller_data`).
            self.fields["user"].show_hidden_initial = True
        else:
            del self.fields["is_active"]
            self.fields["key"].required = True

    def _post_clean(self):
        """The one-seller-per-member rule is the service's."""

    def seller_data(self) -> dict:
        """What to save; on the edit page the member only when changed (the service checks a
        new one)."""
        data = {name: self.cleaned_data[name] for name in SELLER_FIELDS if name in self.fields}
        if "key" not in self.fields and "user" not in changed_on_page(self):
            del data["user"]
        return data
