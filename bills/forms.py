"""Page forms of purchases: shape only; `services.bill_create` and `bill_issue` decide the rest
(the supplier's invoice number once per supplier, dates, taxes, stock in at the net cost)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.models import Contact
from inventory.forms import CodeLineFormSet, MovedLineForm
from pos.models import PDV


class PurchaseLineForm(MovedLineForm):
    unit_cost = forms.DecimalField(
        label=_("Unit cost before tax"),
        min_value=0,
        max_digits=18,
        decimal_places=6,
        required=False,
        widget=forms.NumberInput(attrs={"step": "any", "class": "line-qty"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("code") and data.get("unit_cost") is None and "unit_cost" not in self.errors:
            self.add_error("unit_cost", _("Give the unit cost."))
        return data


class BasePurchaseLineFormSet(CodeLineFormSet):
    service_fields = {**CodeLineFormSet.service_fields, "unit_cost": "unit_cost"}

    def line(self, variant, data) -> dict:
        return {**super().line(variant, data), "unit_cost": data["unit_cost"]}


PurchaseLineFormSet = forms.formset_factory(
    PurchaseLineForm, formset=BasePurchaseLineFormSet, extra=15, max_num=200, validate_max=True
)


class PurchaseForm(forms.Form):
    """A supplier's invoice received into a point of sale: `bill_create` then `bill_issue`, as
    `POST bills/ {"issue": true}`. The due date follows the supplier's payment term."""

    supplier = forms.ModelChoiceField(queryset=None, label=_("Supplier"), empty_label=None)
    supplier_invoice_number = forms.CharField(label=_("Supplier's invoice number"), max_length=40)
    issue_date = forms.DateField(
        label=_("Invoice date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The supplier's invoice date; today when left empty."),
    )
    pdv = forms.ModelChoiceField(queryset=None, label=_("Received at"), empty_label=None)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    document_key = forms.UUIDField(widget=forms.HiddenInput)  # one purchase per form

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supplier"].queryset = Contact.objects.filter(
            is_supplier=True, is_active=True
        ).order_by("name")
        self.fields["pdv"].queryset = PDV.objects.filter(is_active=True).order_by(
            "-is_main", "name"
        )
        if not self.is_bound:
            self.initial.setdefault("issue_date", timezone.localdate())
