"""Page forms of purchases: shape only; the services decide the rest (`bill_create` and
`bill_issue`: the supplier's invoice number once per supplier, dates, taxes, stock in at the net
cost; `supplier_payment_create`: balances, dates, withholdings' ceilings)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ally360.documents import PaymentMethod
from ally360.forms import DateInput
from ally360.pages import VoidForm
from contacts.models import Contact
from inventory.forms import CodeLineFormSet, MovedLineForm, ReturnedLinesForm
from pos.models import PDV

from .models import WithholdingConcept


class PurchaseLineForm(MovedLineForm):
    unit_cost = forms.DecimalField(
        label=_("Unit cost before tax"),
        min_value=0,
        max_digits=18,
        decimal_places=6,
        required=False,
        widget=forms.NumberInput(attrs={"step": "any", "class": "line-qty"}),
    )
    filled_without_code = ("quantity", "unit_cost")

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
        widget=DateInput(),
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


class SupplierPaymentFieldsForm(forms.Form):
    """What every supplier payment page asks besides its amounts: the date, the method, the
    reference and the form's key (one payment per form)."""

    date = forms.DateField(
        label=_("Payment date"),
        required=False,
        widget=DateInput(),
        help_text=_("Today when left empty."),
    )
    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices)
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)
    payment_key = forms.UUIDField(widget=forms.HiddenInput)


class SupplierPaymentForm(SupplierPaymentFieldsForm):
    """Paying (part of) what a received bill owes: `supplier_payment_create` with the bill as
    its one allocation, as `POST supplier-payments/`. A withholding practised (ReteFuente,
    ReteIVA, ReteICA) counts toward the bill's balance but is not paid out; its base and amount
    default to what `withholdings_suggest` computes for the bill."""

    amount = forms.DecimalField(
        label=_("Applied to the bill"),
        min_value=Decimal("0.01"),
        max_digits=18,
        decimal_places=2,
        help_text=_("What the bill's balance goes down by, withholdings included."),
    )
    concept = forms.ModelChoiceField(
        queryset=None, label=_("Withholding"), required=False, empty_label=_("None")
    )
    withholding_base = forms.DecimalField(
        label=_("Withholding base"), min_value=0, max_digits=18, decimal_places=2, required=False
    )
    withholding_amount = forms.DecimalField(
        label=_("Amount withheld"),
        min_value=Decimal("0.01"),
        max_digits=18,
        decimal_places=2,
        required=False,
        help_text=_("Leave the base and the amount empty to have them computed."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["concept"].queryset = WithholdingConcept.objects.filter(
            is_active=True
        ).order_by("kind", "name")

    def clean(self):
        data = super().clean()
        base, withheld = data.get("withholding_base"), data.get("withholding_amount")
        given = [name for name in ("withholding_base", "withholding_amount") if data.get(name)]
        if data.get("concept") is None:
            for name in given:
                self.add_error(name, _("Choose the withholding first."))
        elif (base is None) != (withheld is None):
            missing = "withholding_base" if base is None else "withholding_amount"
            self.add_error(missing, _("Give both the base and the amount, or neither."))
        return data


class BillReturnForm(ReturnedLinesForm):
    """Goods sent back to the supplier: a debit note for the quantities given
    (`services.debit_note_create`, as `POST debit-notes/`): never above what was received less
    earlier returns; the goods leave stock and the bill's balance goes down."""

    reason = forms.CharField(label=_("Reason"), max_length=255)
    issue_date = forms.DateField(
        label=_("Date"),
        required=False,
        widget=DateInput(),
        help_text=_("Today when left empty."),
    )
    note_key = forms.UUIDField(widget=forms.HiddenInput)  # one note per form
    price_field = "unit_cost"


class SupplierBillsPaymentForm(SupplierPaymentFieldsForm):
    """One payment to a supplier over several of its open bills
    (`services.supplier_payment_create`, as `POST supplier-payments/` with its allocations): an
    amount per bill (left empty: not paid now), never above a bill's balance."""

    def __init__(self, *args, bills, **kwargs):
        super().__init__(*args, **kwargs)
        self.bills = []
        for bill in bills:
            name = f"bill_{bill.pk}"
            self.fields[name] = forms.DecimalField(
                label=bill.number,
                min_value=Decimal("0.01"),
                max_digits=18,
                decimal_places=2,
                required=False,
                widget=forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
            )
            self.bills.append({"bill": bill, "field": self[name]})

    def amounts_for_closed_bills(self) -> bool:
        """Whether an amount was typed for a bill paid or voided since the page was opened (it
        has no field now): paying the rest without it would pay less than the user meant."""
        return any(
            name.startswith("bill_") and name not in self.fields and str(value).strip()
            for name, value in self.data.items()
        )

    def allocations(self) -> list[dict]:
        """{"bill", "amount"} of each bill given an amount (after `is_valid()`)."""
        return [
            {"bill": row["bill"], "amount": self.cleaned_data[row["field"].name]}
            for row in self.bills
            if self.cleaned_data.get(row["field"].name)
        ]

    def service_fields(self, allocations) -> dict[str, str]:
        """The service's `allocations.<i>.*` → this form's field of that bill."""
        fields = {}
        for index, allocation in enumerate(allocations):
            for key in ("amount", "bill"):
                fields[f"allocations.{index}.{key}"] = f"bill_{allocation['bill'].pk}"
        return fields


class SupplierPaymentVoidForm(VoidForm):
    """A supplier payment voided with its reason (`services.supplier_payment_void`, as
    `POST supplier-payments/{id}/void`): every bill it paid owes it again."""
