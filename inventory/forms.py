"""Page forms of the catalog: shape only; the services decide the rest."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from pos.models import PDV
from products.models import Brand, Category, Tax, Unit

# A variant's price and cost columns (18 digits, 6 decimals) hold 12 integer digits.
MONEY_FIELD = {"max_digits": 14, "decimal_places": 2}
QUANTITY_FIELD = {"max_digits": 18, "decimal_places": 3}
STOCK_PREFIX = "stock_"


class ProductCreateForm(forms.Form):
    """A simple product as a shop enters it: the shelf price with tax, one IVA (taxed, exempt or
    excluded) and optionally the INC, the opening stock at each active point of sale. Choices
    are the company's own active rows (the tenant's managers): another company's id is not a
    valid choice."""

    name = forms.CharField(label=_("Name"), max_length=200)
    sku = forms.CharField(label=_("SKU"), max_length=64)
    barcode = forms.CharField(label=_("Barcode"), max_length=64, required=False)
    price_with_tax = forms.DecimalField(
        label=_("Price with tax"),
        min_value=Decimal("0.01"),
        help_text=_("What the shelf says and the customer pays."),
        **MONEY_FIELD,
    )
    iva = forms.ModelChoiceField(queryset=None, label=_("IVA"), empty_label=None)
    inc = forms.ModelChoiceField(
        queryset=None, label=_("INC (consumption tax)"), required=False, empty_label=_("(none)")
    )
    cost = forms.DecimalField(label=_("Cost"), min_value=0, required=False, **MONEY_FIELD)
    unit = forms.ModelChoiceField(queryset=None, label=_("Unit"), empty_label=None)
    category = forms.ModelChoiceField(
        queryset=None, label=_("Category"), required=False, empty_label=_("(none)")
    )
    brand = forms.ModelChoiceField(
        queryset=None, label=_("Brand"), required=False, empty_label=_("(none)")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        taxes = Tax.objects.filter(is_active=True).order_by("-rate", "name")
        self.fields["iva"].queryset = taxes.filter(kind=Tax.Kind.IVA)
        self.fields["inc"].queryset = taxes.filter(kind=Tax.Kind.INC)
        self.fields["unit"].queryset = Unit.objects.order_by("name")
        self.fields["category"].queryset = Category.objects.filter(is_active=True)
        self.fields["brand"].queryset = Brand.objects.filter(is_active=True)
        if not self.is_bound:
            default_iva = self.fields["iva"].queryset.filter(rate=19).first()
            self.initial.setdefault("iva", default_iva.pk if default_iva else None)
            default_unit = Unit.objects.filter(code="unit").first()
            self.initial.setdefault("unit", default_unit.pk if default_unit else None)
        self.pdvs = list(PDV.objects.filter(is_active=True).order_by("-is_main", "name"))
        for pdv in self.pdvs:
            self.fields[f"{STOCK_PREFIX}{pdv.pk}"] = forms.DecimalField(
                label=_("Opening stock at %(pdv)s") % {"pdv": pdv.name},
                min_value=0,
                required=False,
                **QUANTITY_FIELD,
            )

    def clean(self):
        data = super().clean()
        # Opening stock typed for a point of sale closed since the form was shown would be
        # dropped without a word: refused instead, as the API refuses it.
        known = {f"{STOCK_PREFIX}{pdv.pk}" for pdv in self.pdvs}
        stray = [
            name
            for name, value in self.data.items()
            if name.startswith(STOCK_PREFIX)
            and name not in known
            and value.strip() not in ("", "0")
        ]
        if stray:
            raise forms.ValidationError(
                _(
                    "A point of sale on this form was closed meanwhile: check the opening stock "
                    "and send it again."
                )
            )
        return data

    def stock_fields(self):
        return [self[f"{STOCK_PREFIX}{pdv.pk}"] for pdv in self.pdvs]

    def taxes(self) -> list[Tax]:
        return [tax for tax in (self.cleaned_data["iva"], self.cleaned_data.get("inc")) if tax]

    def initial_stock(self) -> list[dict]:
        return [
            {"pdv": pdv, "quantity": quantity}
            for pdv in self.pdvs
            if (quantity := self.cleaned_data.get(f"{STOCK_PREFIX}{pdv.pk}"))
        ]


class VariantPriceForm(forms.Form):
    """A new shelf price (and barcode, and reference cost for the roles that see costs)."""

    price_with_tax = forms.DecimalField(
        label=_("Price with tax"),
        min_value=Decimal("0.01"),
        help_text=_("What the shelf says and the customer pays."),
        **MONEY_FIELD,
    )
    barcode = forms.CharField(label=_("Barcode"), max_length=64, required=False)
    # The reference cost as its column keeps it (6 decimals), so the value shown goes back as it
    # was; the view writes it only when it was changed.
    cost = forms.DecimalField(
        label=_("Cost"),
        min_value=0,
        max_value=Decimal("999999999999.999999"),
        required=False,
        max_digits=18,
        decimal_places=6,
    )
