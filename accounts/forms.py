"""Page forms of accounts: shape only; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ally360.forms import changed_on_page
from ally360.roles import Role


class LoginForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CompanyChoiceForm(forms.Form):
    company = forms.UUIDField(widget=forms.HiddenInput)


class InvitationAcceptForm(forms.Form):
    """Accepting an invitation from its e-mail's link (`services.invitation_accept`): a new
    account chooses its name and password; an existing one proves it is theirs with its
    password (or by being signed in)."""

    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, new_account: bool, signed_in: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not new_account:
            del self.fields["first_name"], self.fields["last_name"]
            self.fields["password"].label = _("Your password")
            self.fields["password"].widget.attrs["autocomplete"] = "current-password"
            if signed_in:  # signed in as the invited account: nothing to prove
                del self.fields["password"]
        else:
            self.fields["first_name"].required = True


class InviteForm(forms.Form):
    """An invitation by e-mail with a role (`services.invitation_create`, as
    `POST invitations/`): valid for `INVITATION_TTL_DAYS`; only an owner invites an owner."""

    email = forms.EmailField(label=_("E-mail"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.SELLER)


class MemberForm(forms.Form):
    """A member's role and whether the membership is active (`services.membership_update`, as
    `PATCH members/{id}/`): only an owner changes an owner's; the last owner stays one."""

    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    is_active = forms.BooleanField(label=_("Active"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Each field carries the value the page showed (a hidden "initial-" input): what
        # changed is judged against the page as it was opened (`changes`).
        for field in self.fields.values():
            field.show_hidden_initial = True

    def changes(self) -> dict:
        """Only what was changed on the page, as a PATCH: a page opened before another manager
        suspended the member or changed their role does not undo that by saving the other."""
        return {name: self.cleaned_data[name] for name in changed_on_page(self)}


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"), max_length=254)


class PasswordResetForm(forms.Form):
    """A new password from a reset e-mail's link (`services.password_reset_confirm`), typed
    twice; Django's password rules are the service's."""

    new_password = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password_again = forms.CharField(
        label=_("New password, again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password") != data.get("new_password_again"):
            self.add_error("new_password_again", _("The two passwords differ."))
        return data


class CompanySettingsForm(forms.Form):
    """The company's data printed on its documents and its counter rules (`company_update`, as
    `PATCH companies/current/`): the NIT's check digit is verified when typed after a dash and
    computed otherwise."""

    name = forms.CharField(label=_("Trade name"), max_length=200)
    legal_name = forms.CharField(label=_("Legal name"), max_length=200, required=False)
    nit = forms.CharField(
        label=_("NIT"), max_length=20, help_text=_("With or without its check digit: 900123456-8")
    )
    email = forms.EmailField(label=_("E-mail"), max_length=254, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    address = forms.CharField(label=_("Address"), max_length=255, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    allow_negative_stock = forms.BooleanField(
        label=_("Sell without stock"),
        required=False,
        help_text=_("Sales and counts may leave a product's stock below zero."),
    )
    sellers_may_change_price = forms.BooleanField(
        label=_("Sellers may change prices"),
        required=False,
        help_text=_("Sellers may type a price other than the price list's at the counter."),
    )
    seller_max_discount_pct = forms.DecimalField(
        label=_("Largest discount a seller gives (%)"),
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Each field carries the value the page showed (a hidden "initial-" input), so what
        # changed is judged against the page as opened, not against the row as it is now.
        for field in self.fields.values():
            field.show_hidden_initial = True

    def changes(self) -> dict:
        """Only what was changed on the page, as a PATCH: a value someone else changed since it
        was opened is not written back, and an untouched NIT is not checked again."""
        return {name: self.cleaned_data[name] for name in changed_on_page(self)}

    @classmethod
    def for_company(cls, company, data=None):
        fields = ("name", "legal_name", "email", "phone", "address", "city")
        initial = {name: getattr(company, name) for name in fields}
        initial.update(
            nit=company.nit_display,
            allow_negative_stock=company.allow_negative_stock,
            sellers_may_change_price=company.sellers_may_change_price,
            seller_max_discount_pct=company.seller_max_discount_pct,
        )
        return cls(data, initial=initial)
