"""Page forms of accounts: shape only; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

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
