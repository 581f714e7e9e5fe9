"""Page forms of contacts: shape only; `services.contact_create` checks the rest (the NIT's
check digit, duplicates, who may set credit terms)."""

from __future__ import annotations

import uuid

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
    email = forms.EmailField(label=_("E-mail"), required=False, max_length=254)  # its column
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
    # One contact per form, as a sale (a double click finds the contact the first made).
    contact_key = forms.UUIDField(widget=forms.HiddenInput, required=False)
    CREDIT_FIELDS = ("credit_limit", "payment_term_days")

    def __init__(self, *args, credit_terms: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not credit_terms:  # sellers keep a customer's terms as they are
            for name in self.CREDIT_FIELDS:
                del self.fields[name]
        if not self.is_bound:
            self.initial.setdefault("contact_key", uuid.uuid4())

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


class SupplierForm(CustomerForm):
    """A supplier as the office enters it, for the purchases: `contact_create`, as
    `POST contacts/ {"is_supplier": true, "is_customer": false}`; its payment term sets when its
    bills fall due."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, credit_terms=True, **kwargs)
        del self.fields["credit_limit"]  # what we may owe a supplier is not limited here
        if not self.is_bound:
            self.initial.setdefault("person_type", "legal")
            self.initial.setdefault("id_type", "31")

    def contact_data(self) -> dict:
        return {**super().contact_data(), "is_customer": False, "is_supplier": True}


class CustomerEditForm(CustomerForm):
    """A customer's details changed at the counter or the office: `services.contact_update`, as
    `PATCH contacts/{id}`. The form shows the first phone and address; the others are kept."""

    is_active = forms.BooleanField(label=_("Active"), required=False)

    def __init__(self, *args, contact, credit_terms: bool, **kwargs):
        self.contact = contact
        first_address = (contact.addresses or [{}])[0]
        initial = {
            "person_type": contact.person_type,
            "id_type": contact.id_type,
            "id_number": contact.id_number,
            "name": contact.name,
            "phone": (contact.phones or [""])[0],
            "email": contact.email,
            "address": first_address.get("line", ""),
            "city": first_address.get("city", ""),
            "credit_limit": contact.credit_limit,
            "payment_term_days": contact.payment_term_days,
            "is_active": contact.is_active,
        }
        super().__init__(*args, initial=initial, credit_terms=credit_terms, **kwargs)
        del self.fields["contact_key"]  # an edit made twice changes nothing more
        if not credit_terms:  # deactivating a customer is the office's, as deleting one
            del self.fields["is_active"]

    def contact_data(self) -> dict:
        """The fields of `contact_update`: the first phone and address replaced (or removed
        when left blank), the others kept."""
        data = super().contact_data()
        data.pop("is_customer")
        phones = list(self.contact.phones or [])
        data["phones"] = data["phones"] + phones[1:]
        addresses = list(self.contact.addresses or [])
        edited = data.pop("addresses", [])
        if edited and addresses:
            first = {**addresses[0], **edited[0]}  # its label, department, DANE code… kept
            if edited[0]["city"] != addresses[0].get("city"):
                # A DANE code or department of the old city would contradict the new one.
                for field in ("dane_code", "department"):
                    first.pop(field, None)
            edited = [first]
        data["addresses"] = edited + addresses[1:]
        if "is_active" in self.fields:
            data["is_active"] = self.cleaned_data["is_active"]
        return data


class SupplierEditForm(CustomerEditForm):
    """A supplier's details changed at the office: `services.contact_update`, as
    `PATCH contacts/{id}`: its payment term (when its next bills fall due) and whether it is
    active, the first phone and address; whether it is also a customer stays as it is."""

    def __init__(self, *args, contact, **kwargs):
        super().__init__(*args, contact=contact, credit_terms=True, **kwargs)
        del self.fields["credit_limit"]  # what we may owe a supplier is not limited here
