"""Page forms of the catalog: shape only; the services decide the rest."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ally360.exceptions import ServiceError
from ally360.forms import changed_on_page
from pos.models import PDV
from products.models import Brand, Category, PriceList, Tax, Unit
from products.selectors import variants_by_code

from .models import Adjustment

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


class ProductEditForm(forms.Form):
    """A product's name, description, taxes, unit, classification and switches:
    `products.services.product_update`, as `PATCH products/{id}`. Choices are the company's
    active rows plus the product's own (a product keeps an inactive category, brand or tax)."""

    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    iva = forms.ModelChoiceField(
        queryset=None,
        label=_("IVA"),
        required=False,  # a product may carry the INC alone (a restaurant's dishes)
        empty_label=_("(none)"),
        help_text=_("A new tax keeps the price before tax: the shelf price changes with it."),
    )
    inc = forms.ModelChoiceField(
        queryset=None, label=_("INC (consumption tax)"), required=False, empty_label=_("(none)")
    )
    unit = forms.ModelChoiceField(queryset=None, label=_("Unit"), empty_label=None)
    category = forms.ModelChoiceField(
        queryset=None, label=_("Category"), required=False, empty_label=_("(none)")
    )
    brand = forms.ModelChoiceField(
        queryset=None, label=_("Brand"), required=False, empty_label=_("(none)")
    )
    track_inventory = forms.BooleanField(label=_("Track inventory"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False)

    def __init__(self, *args, product, **kwargs):
        taxes = list(product.taxes.all())
        initial = {
            "name": product.name,
            "description": product.description,
            "iva": next((tax.pk for tax in taxes if tax.kind == Tax.Kind.IVA), None),
            "inc": next((tax.pk for tax in taxes if tax.kind == Tax.Kind.INC), None),
            "unit": product.unit_id,
            "category": product.category_id,
            "brand": product.brand_id,
            "track_inventory": product.track_inventory,
            "is_active": product.is_active,
        }
        super().__init__(*args, initial=initial, **kwargs)
        own_taxes = Q(pk__in=[tax.pk for tax in taxes])
        choices = Tax.objects.filter(Q(is_active=True) | own_taxes).order_by("-rate", "name")
        self.fields["iva"].queryset = choices.filter(kind=Tax.Kind.IVA)
        self.fields["inc"].queryset = choices.filter(kind=Tax.Kind.INC)
        self.fields["unit"].queryset = Unit.objects.order_by("name")
        self.fields["category"].queryset = Category.objects.filter(
            Q(is_active=True) | Q(pk=product.category_id)
        )
        self.fields["brand"].queryset = Brand.objects.filter(
            Q(is_active=True) | Q(pk=product.brand_id)
        )

    def product_data(self) -> dict:
        """The fields of `product_update`, as the API's input serializer gives them."""
        data = dict(self.cleaned_data)
        data["taxes"] = [tax for tax in (data.pop("iva"), data.pop("inc")) if tax]
        return data


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


class CodeLineFormSet(forms.BaseFormSet):
    """Rows of a product code (barcode or SKU, as scanned or typed) and a quantity, for any
    document the pages take lines of. `clean()` resolves every code in one query and keeps
    `lines` as the service takes them and `rows`, the row each came from; a code naming no
    product of this company is an error on its row (another company's is "not found" too: the
    lookup only sees this one's)."""

    # A service's `lines.<n>.<field>` error goes on the row's field named here.
    service_fields = {
        "variant": "code",
        "quantity": "quantity",
        "delta": "quantity",
        "counted_quantity": "quantity",
    }

    def line(self, variant, data) -> dict:
        return {"variant": variant, "quantity": data["quantity"]}

    def clean(self):
        self.lines: list[dict] = []
        self.rows: list[int] = []
        if any(self.errors):
            return
        filled = [
            (index, form.cleaned_data)
            for index, form in enumerate(self.forms)
            if form.cleaned_data.get("code")
        ]
        found = variants_by_code(data["code"] for _index, data in filled)
        for index, data in filled:
            variant = found.get(data["code"].strip())
            if variant is None:
                self.forms[index].add_error(
                    "code",
                    _("No product has the barcode or SKU %(code)s.") % {"code": data["code"]},
                )
                continue
            self.lines.append(self.line(variant, data))
            self.rows.append(index)
        if not filled:
            raise forms.ValidationError(_("Scan or type at least one product."))

    def add_service_error(self, error: ServiceError) -> bool:
        """The service's `lines.<n>[.<field>]` errors on the rows they came from; False when
        it named none (the caller puts its message on the form)."""
        placed = False
        for key, messages in (error.fields or {}).items():
            parts = key.split(".")
            if parts[0] != "lines" or len(parts) < 2 or not parts[1].isdigit():
                continue
            index = int(parts[1])
            if index >= len(self.rows):
                continue
            field = self.service_fields.get(parts[2] if len(parts) > 2 else "", "code")
            for message in messages if isinstance(messages, list) else [messages]:
                self.forms[self.rows[index]].add_error(field, str(message))
            placed = True
        return placed


class CountLineForm(forms.Form):
    code = forms.CharField(
        label=_("Barcode or SKU"),
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"class": "line-code", "autocomplete": "off"}),
    )
    quantity = forms.DecimalField(
        label=_("Quantity"),
        min_value=0,
        required=False,
        widget=forms.NumberInput(attrs={"step": "any", "class": "line-qty"}),
        **QUANTITY_FIELD,
    )

    # What a row may carry besides its code: typed without one (a code the scanner missed),
    # the row would be dropped in silence.
    filled_without_code = ("quantity",)

    def clean(self):
        data = super().clean()
        if data.get("code") and data.get("quantity") is None and "quantity" not in self.errors:
            self.add_error("quantity", _("Give the quantity."))
        if not data.get("code") and any(
            data.get(name) is not None for name in self.filled_without_code
        ):
            self.add_error("code", _("Scan or type the product's code."))
        return data


AdjustmentLineFormSet = forms.formset_factory(
    CountLineForm, formset=CodeLineFormSet, extra=20, max_num=200, validate_max=True
)


class StockAdjustmentForm(forms.Form):
    """A count or a shrinkage at one point of sale: `services.adjustment_create`, as
    `POST adjustments/`. A count (or a correction, or other) gives the quantity counted; damage,
    loss, expiry and internal use give the units that leave."""

    pdv = forms.ModelChoiceField(queryset=None, label=_("Point of sale"), empty_label=None)
    reason = forms.ChoiceField(
        label=_("Reason"), choices=Adjustment.Reason.choices, initial=Adjustment.Reason.COUNT
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    document_key = forms.UUIDField(widget=forms.HiddenInput)  # one adjustment per form

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pdv"].queryset = PDV.objects.filter(is_active=True).order_by(
            "-is_main", "name"
        )


class MovedLineForm(CountLineForm):
    """A row of goods that move (a transfer, a purchase): its quantity is above zero."""

    quantity = forms.DecimalField(
        label=_("Quantity"),
        min_value=Decimal("0.001"),
        required=False,
        widget=forms.NumberInput(attrs={"step": "any", "class": "line-qty"}),
        **QUANTITY_FIELD,
    )


TransferLineFormSet = forms.formset_factory(
    MovedLineForm, formset=CodeLineFormSet, extra=20, max_num=200, validate_max=True
)


class StockTransferForm(forms.Form):
    """Goods sent from one active point of sale to another: `services.transfer_create`, as
    `POST transfers/`."""

    origin = forms.ModelChoiceField(queryset=None, label=_("From"), empty_label=None)
    destination = forms.ModelChoiceField(queryset=None, label=_("To"), empty_label=None)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    document_key = forms.UUIDField(widget=forms.HiddenInput)  # one transfer per form

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        points = PDV.objects.filter(is_active=True).order_by("-is_main", "name")
        self.fields["origin"].queryset = points
        self.fields["destination"].queryset = points


class ReturnedLinesForm(forms.Form):
    """A document's lines given back (a customer's return, goods sent back to the supplier):
    a quantity field per line, and what can still go back of each shown beside it. The
    services decide what may go back; this only shapes the quantities."""

    price_field = "unit_price"  # the line's price column, shown beside it

    def __init__(self, *args, lines, **kwargs):
        """`lines`: the document's lines with what can still go back of each."""
        super().__init__(*args, **kwargs)
        self.lines = []
        for line, returnable in lines:
            name = f"line_{line.pk}"
            self.fields[name] = forms.DecimalField(
                label=line.description,
                min_value=0,
                required=False,
                widget=forms.NumberInput(attrs={"step": "any", "min": "0"}),
                **QUANTITY_FIELD,
            )
            self.lines.append(
                {
                    "line": line,
                    "returnable": returnable,
                    "price": getattr(line, self.price_field),
                    "field": self[name],
                }
            )

    def returned(self) -> list[tuple[object, Decimal]]:
        """The lines given a quantity above zero, with it (after `is_valid()`)."""
        return [
            (row["line"], self.cleaned_data[row["field"].name])
            for row in self.lines
            if self.cleaned_data.get(row["field"].name)
        ]

    @staticmethod
    def service_fields(returned) -> dict[str, str]:
        """The services' `lines.<i>.quantity` (and the line's own key) → this form's field."""
        fields = {}
        for index, (line, _quantity) in enumerate(returned):
            for key in ("quantity", "invoice_line", "bill_line"):
                fields[f"lines.{index}.{key}"] = f"line_{line.pk}"
        return fields


class PriceListForm(forms.Form):
    """A price list (`products.services.price_list_create` / `price_list_update`, as
    `POST`/`PATCH price-lists/`): a percentage off every base price, or fixed prices per
    product; the default list is what the till charges when the customer has none."""

    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=PriceList.Kind.choices)
    percentage = forms.DecimalField(
        label=_("Discount %"),
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        required=False,
        help_text=_("Off the base price, for a percentage list."),
    )
    is_default = forms.BooleanField(label=_("Default list"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    list_key = forms.UUIDField(widget=forms.HiddenInput)  # one new list per form

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing:  # a list keeps its kind (its prices are of that kind); saving twice is harmless
            del self.fields["kind"], self.fields["list_key"]
            # Each field carries the value the page showed (a hidden "initial-" input): what
            # changed is judged against the page as it was opened (`list_data`).
            for field in self.fields.values():
                field.show_hidden_initial = True

    def list_data(self) -> dict:
        """What to save. On the edit page only what was changed on it, as a PATCH: a page
        opened before another manager deactivated the list, made it the default or renamed it
        does not undo that by saving another field."""
        if self.editing:
            data = {name: self.cleaned_data[name] for name in changed_on_page(self)}
        else:
            data = dict(self.cleaned_data)
            data.pop("list_key", None)
        if "percentage" in data and data["percentage"] is None:  # left empty: kept
            del data["percentage"]
        return data


class PriceListItemForm(forms.Form):
    """A product's price on a fixed list, typed as the shelf shows it (with tax): the price
    before tax kept is the one whose till price it is, or the highest below it."""

    code = forms.CharField(label=_("Barcode or SKU"), max_length=64)
    price_with_tax = forms.DecimalField(
        label=_("Price with tax"), min_value=Decimal("0.01"), **MONEY_FIELD
    )

    def clean_code(self):
        code = self.cleaned_data["code"].strip()
        variant = variants_by_code([code]).get(code)
        if variant is None:
            raise forms.ValidationError(_("No product has this barcode or SKU."))
        self.variant = variant
        return code


def options_text(options: dict) -> str:
    """A variant's options as `parse_options` reads them: "Talla: M, Color: Rojo"."""
    return ", ".join(f"{name}: {value}" for name, value in (options or {}).items())


def parse_options(text: str) -> dict:
    """ "Talla: M, Color: Rojo" → {"Talla": "M", "Color": "Rojo"}; a pair without its colon,
    an empty name or value, or a name twice is a form error."""
    options = {}
    for pair in (part.strip() for part in text.split(",")):
        if not pair:
            continue
        name, colon, value = pair.partition(":")
        name, value = name.strip(), value.strip()
        if not colon or not name or not value:
            raise forms.ValidationError(
                _("Write each option as name: value, separated by commas (Talla: M, Color: Rojo).")
            )
        if name.casefold() in (known.casefold() for known in options):
            raise forms.ValidationError(_("%(name)s appears twice.") % {"name": name})
        options[name] = value
    if not options:
        raise forms.ValidationError(_("Give at least one option (Talla: M)."))
    return options


class VariantOptionsForm(forms.Form):
    """What tells a variant apart from its siblings (`variant_update`'s options)."""

    options = forms.CharField(
        label=_("Options"),
        max_length=255,
        help_text=_("name: value, separated by commas (Talla: M, Color: Rojo)."),
    )

    def clean_options(self):
        return parse_options(self.cleaned_data["options"])


class VariantAddForm(VariantOptionsForm):
    """A new variant of a product (`variant_create_with_stock`, as `POST variants/`), priced as
    the shelf shows it (with the product's taxes); its stock comes in by a count or a purchase."""

    sku = forms.CharField(label=_("SKU"), max_length=64)
    barcode = forms.CharField(label=_("Barcode"), max_length=64, required=False)
    price_with_tax = forms.DecimalField(
        label=_("Price with tax"), min_value=Decimal("0.01"), **MONEY_FIELD
    )
    cost = forms.DecimalField(
        label=_("Cost"), min_value=0, required=False, max_digits=18, decimal_places=6
    )
    variant_key = forms.UUIDField(widget=forms.HiddenInput)  # one new variant per form


class CategoryForm(forms.Form):
    """A new category (`category_create`, as `POST categories/`), at the top or under another
    one (a product filed under a category is found under its parents too)."""

    name = forms.CharField(label=_("Name"), max_length=120)
    parent = forms.ModelChoiceField(
        queryset=None, label=_("Under"), required=False, empty_label=_("— (top level)")
    )
    key = forms.UUIDField(widget=forms.HiddenInput)  # one new category per form

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="category", **kwargs)
        self.fields["parent"].queryset = Category.objects.filter(is_active=True)


class BrandForm(forms.Form):
    """A new brand (`brand_create`, as `POST brands/`)."""

    name = forms.CharField(label=_("Name"), max_length=120)
    key = forms.UUIDField(widget=forms.HiddenInput)  # one new brand per form

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="brand", **kwargs)


class CatalogNameForm(forms.Form):
    """A category's or a brand's name, and whether product forms offer it
    (`category_update` / `brand_update`, as `PATCH categories/{id}/` / `brands/{id}/`)."""

    name = forms.CharField(label=_("Name"), max_length=120)
    is_active = forms.BooleanField(label=_("Active"), required=False)


class StockMinimumForm(forms.Form):
    """A stock row's low-stock minimum (`stock_set_minimum`, as `PATCH stock/{id}/`): at or
    under it, the product shows as low at that point of sale. 0 turns the alert off."""

    stock = forms.UUIDField(widget=forms.HiddenInput)
    min_quantity = forms.DecimalField(
        label=_("Minimum"),
        min_value=0,
        widget=forms.NumberInput(attrs={"step": "any", "min": "0"}),
        **QUANTITY_FIELD,
    )


class TaxForm(forms.Form):
    """A sales tax (`tax_create` / `tax_update`, as `POST` / `PATCH taxes/`). Its DIAN code
    follows from its kind; the rules (a zero rate only exempt or excluded, INC only taxed, the
    kind of a tax in use kept) are the service's."""

    name = forms.CharField(label=_("Name"), max_length=60)
    kind = forms.ChoiceField(label=_("Kind"), choices=Tax.Kind.choices)
    treatment = forms.ChoiceField(label=_("Treatment"), choices=Tax.Treatment.choices)
    rate = forms.DecimalField(
        label=_("Rate %"), max_digits=5, decimal_places=2, min_value=0, max_value=100
    )
    is_active = forms.BooleanField(
        label=_("Active"),
        required=False,
        help_text=_("An inactive tax is not offered for products; those that have it keep it."),
    )
    key = forms.UUIDField(widget=forms.HiddenInput, required=False)  # one new tax per form

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, prefix=None if editing else "tax", **kwargs)
        if editing:
            del self.fields["key"]
        else:
            del self.fields["is_active"]
            self.fields["key"].required = True

    def tax_data(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if name != "key"}


class UnitForm(forms.Form):
    """A unit of measure (`unit_create` / `unit_update`, as `POST` / `PATCH units/`): its code
    (lower-cased, unique), name, DIAN code and whether quantities may have decimals."""

    code = forms.CharField(label=_("Code"), max_length=20)
    name = forms.CharField(label=_("Name"), max_length=60)
    dian_code = forms.CharField(
        label=_("DIAN unit code"),
        max_length=5,
        required=False,
        help_text=_("The electronic invoice's code: 94 unit, KGM kilogram, LTR litre…"),
    )
    allows_decimals = forms.BooleanField(
        label=_("Sold in fractions"),
        required=False,
        help_text=_("Quantities such as 0.5 kg; otherwise whole units only."),
    )
    key = forms.UUIDField(widget=forms.HiddenInput, required=False)  # one new unit per form

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, prefix=None if editing else "unit", **kwargs)
        if editing:
            del self.fields["key"]
        else:
            self.fields["key"].required = True

    def unit_data(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if name != "key"}
