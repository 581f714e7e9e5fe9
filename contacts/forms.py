"""Page forms of contacts: shape only; `services.contact_create` checks the rest (the NIT's
check digit, duplicates, who may set credit terms)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import IdType, PersonType


class CustomerForm(forms.Form):
    person_type = forms.ChoiceField(
        label=_("Person type"), choices=PersonType.choices, initial=PersonType.NATURAL
    )
    id_type = forms.ChoiceField(label=_("ID type"), choices=IdType.choices, initial=IdType.CC)
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=25,
        help_text=_("A NIT may carry its check digit: 900123456-8."),
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    address = forms.CharField(label=_("Address"), max_length=255, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    credit_limit = forms.DecimalField(
        label=_("Credit limit"),
        min_value=0,
        max_digits=18,
        decimal_places=2,
        required=False,
        help_text=_("0: no limit."),
    )
    payment_term_days = forms.IntegerField(
        label=_("Payment term (days)"), min_value=0, max_value=365, required=False
    )
    CREDIT_FIELDS = ("credit_limit", "payment_term_days")

    def __init__(self, *args, credit_terms: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not credit_terms:  # sellers keep a new customer's terms at the defaults
            for name in self.CREDIT_FIELDS:
                del self.fields[name]

    def clean(self):
        data = super().clean()
        if data.get("address") and not data.get("city"):
            self.add_error("city", _("An address needs its city."))
        return data

    def contact_data(self) -> dict:
        """The keywords of `contact_create`, as the API's input serializer gives them."""
        data = self.cleaned_data
        contact = {
            "person_type": data["person_type"],
            "id_type": data["id_type"],
            "id_number": data["id_number"],
            "name": data["name"],
            "email": data["email"],
            "phones": [data["phone"]] if data["phone"] else [],
            "is_customer": True,
        }
        if data["address"]:
            contact["addresses"] = [{"line": data["address"], "city": data["city"]}]
        for name in self.CREDIT_FIELDS:
            if data.get(name) is not None:
                contact[name] = data[name]
        return contact
