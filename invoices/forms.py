"""Page forms of sales (POS counter, shifts): shape only. Codes and customers are resolved
through selectors, as the API's related fields resolve ids; the services decide the rest."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from ally360.documents import PaymentMethod
from ally360.forms import DateInput, changed_on_page
from ally360.money import DRAWER_CASH, PRICE, QUANTITY, QUANTITY_STEP
from ally360.pages import VoidForm
from contacts.selectors import customer_by_reference
from inventory.forms import CodeLineFormSet, ReturnedLinesForm
from pos.models import PDV, CashMovement, Seller

from .models import NUMBER_MAX, CreditNote, DocumentType
from .services import RANGE_FIELDS

MONEY_FIELD = {"max_digits": 18, "decimal_places": 2}
NON_CASH_METHODS = [(value, label) for value, label in PaymentMethod.choices if value != "cash"]
BLANK_LINES = 3
MAX_LINES = 200


class ShiftOpenForm(forms.Form):
    register = forms.ModelChoiceField(queryset=None, label=_("Cash register"), empty_label=None)
    opening_cash = forms.DecimalField(
        label=_("Opening cash"), min_value=0, initial=Decimal("0"), **DRAWER_CASH
    )

    def __init__(self, *args, registers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["register"].queryset = registers
        self.fields["register"].label_from_instance = lambda register: (
            f"{register.pdv.name} · {register.name}"
        )


class ShiftCloseForm(forms.Form):
    """The close's count: the drawer's cash (required), and the closing total of each other
    method the shift took money by (the card terminal's, each wallet's; optional), as
    `POST shifts/{id}/close {"counted": {...}}`. The close page shows nothing of what is
    expected; the shift's report does."""

    counted_cash = forms.DecimalField(
        label=_("Cash counted in the drawer"), min_value=0, **MONEY_FIELD
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    shift = forms.UUIDField(widget=forms.HiddenInput, required=False)  # the shift it was shown for

    def __init__(self, *args, methods=(), **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(PaymentMethod.choices)
        for method in methods:
            if method != PaymentMethod.CASH:
                self.fields[f"counted_{method}"] = forms.DecimalField(
                    label=_("%(method)s: closing total") % {"method": labels[method]},
                    required=False,
                    help_text=_(
                        "From the terminal's or the app's closing report (below 0 when its "
                        "refunds exceeded what it took); may be left empty."
                    ),
                    **MONEY_FIELD,
                )
        last = ("notes", "shift")
        self.order_fields([*(name for name in self.fields if name not in last), *last])

    def counted(self) -> dict:
        """{method: amount} of what was counted, cash first."""
        data = self.cleaned_data
        counted = {PaymentMethod.CASH.value: data["counted_cash"]}
        for name, value in data.items():
            if name.startswith("counted_") and name != "counted_cash" and value is not None:
                counted[name.removeprefix("counted_")] = value
        return counted


class SaleLineForm(forms.Form):
    code = forms.CharField(
        label=_("Barcode or SKU"),
        max_length=64,
        required=False,
        widget=forms.TextInput(
            attrs={"class": "line-code", "autocomplete": "off", "inputmode": "text"}
        ),
    )
    quantity = forms.DecimalField(
        label=_("Quantity"),
        min_value=Decimal("0.001"),
        max_digits=18,
        decimal_places=3,
        required=False,
        widget=forms.NumberInput(attrs={"step": "any", "class": "line-qty"}),
    )
    discount_pct = forms.DecimalField(
        label=_("Discount %"),
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput(attrs={"step": "any", "class": "line-discount"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("code") and data.get("quantity") is None and "quantity" not in self.errors:
            data["quantity"] = Decimal("1")
        return data


class BaseSaleLineFormSet(CodeLineFormSet):
    service_fields = {"variant": "code", "quantity": "quantity", "discount_pct": "discount_pct"}

    def line(self, variant, data) -> dict:
        line = super().line(variant, data)
        if data.get("discount_pct"):
            line["discount_pct"] = data["discount_pct"]
        return line


SaleLineFormSet = forms.formset_factory(
    SaleLineForm,
    formset=BaseSaleLineFormSet,
    extra=BLANK_LINES,
    max_num=MAX_LINES,
    validate_max=True,
)


class PosSaleForm(forms.Form):
    customer = forms.CharField(
        label=_("Customer"),
        required=False,
        max_length=64,
        help_text=_("ID or NIT number; empty: final consumer."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    seller = forms.ModelChoiceField(
        queryset=None, label=_("Seller"), required=False, empty_label=_("(none)")
    )
    cash = forms.DecimalField(
        label=_("Cash received"),
        min_value=0,
        required=False,
        widget=forms.NumberInput(attrs={"step": "any", "class": "tender-cash"}),
        **MONEY_FIELD,
    )
    other_method = forms.ChoiceField(
        label=_("Other payment"), choices=NON_CASH_METHODS, required=False
    )
    other_amount = forms.DecimalField(
        label=_("Amount"),
        min_value=0,
        required=False,
        widget=forms.NumberInput(attrs={"step": "any"}),
        **MONEY_FIELD,
    )
    other_reference = forms.CharField(label=_("Reference"), max_length=100, required=False)
    sale_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["seller"].queryset = Seller.objects.filter(is_active=True).order_by(
            "name", "id"
        )

    def clean_customer(self):
        found = customer_by_reference(self.cleaned_data.get("customer", ""))
        if isinstance(found, list):
            raise forms.ValidationError(
                _("Several customers have this number: use the customer's exact ID.")
            )
        if found is None and self.cleaned_data.get("customer"):
            raise forms.ValidationError(_("No customer has this ID or NIT."))
        return found

    def tenders(self) -> list[dict]:
        """The tenders as the service takes them: cash, and one other method when given."""
        data = self.cleaned_data
        tenders = []
        if data.get("other_amount"):
            tenders.append(
                {
                    "method": data.get("other_method") or PaymentMethod.DEBIT_CARD,
                    "amount": data["other_amount"],
                    "reference": data.get("other_reference", ""),
                }
            )
        if data.get("cash"):
            tenders.append({"method": PaymentMethod.CASH, "amount": data["cash"]})
        return tenders


class InvoicePaymentForm(forms.Form):
    """A customer paying (part of) what an invoice owes: `services.payment_create`, as
    `POST invoices/{id}/payments`. Cash goes into the cashier's open shift (the service
    refuses it without one)."""

    method = forms.ChoiceField(
        label=_("Method"), choices=PaymentMethod.choices, initial=PaymentMethod.CASH
    )
    amount = forms.DecimalField(label=_("Amount"), min_value=Decimal("0.01"), **MONEY_FIELD)
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)
    payment_key = forms.UUIDField(widget=forms.HiddenInput)  # one payment per form


class CashMovementForm(forms.Form):
    """Cash put into or taken out of the drawer (change for the float, a withdrawal to the
    safe, a small expense): `services.drawer_cash_movement`, as `POST shifts/{id}/cash-movements`."""

    kind = forms.ChoiceField(label=_("Movement"), choices=CashMovement.Kind.choices)
    amount = forms.DecimalField(label=_("Amount"), min_value=Decimal("0.01"), **DRAWER_CASH)
    reason = forms.CharField(label=_("Reason"), max_length=255)
    movement_key = forms.UUIDField(widget=forms.HiddenInput)  # one movement per form
    shift = forms.UUIDField(widget=forms.HiddenInput, required=False)  # the shift it was shown for


class CreditNoteForm(forms.Form):
    """What every credit-note page asks besides its lines: the reason, whether goods go back to
    stock, how to refund what was paid beyond what the invoice still owes (cash from the user's
    open shift by default), and the form's key (one note per form)."""

    reason = forms.CharField(label=_("Reason"), max_length=255)
    return_stock = forms.BooleanField(label=_("Put the goods back in stock"), required=False)
    refund_method = forms.ChoiceField(
        label=_("Refund by"),
        choices=PaymentMethod.choices,
        initial=PaymentMethod.CASH,
        help_text=_("Only what was paid beyond what the invoice still owes is refunded."),
    )
    note_key = forms.UUIDField(widget=forms.HiddenInput)


class InvoiceReturnForm(ReturnedLinesForm, CreditNoteForm):
    """Goods a customer brings back: a return credit note (DIAN concept 1) for the quantities
    given, as `POST credit-notes/` — `services.credit_note_create` decides what may be returned
    and refunds beyond the balance by the method chosen. The goods go back to stock unless
    unticked (damaged goods)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["return_stock"].initial = True


class InvoiceCreditForm(CreditNoteForm):
    """A credit note for value rather than goods brought back, as `POST credit-notes/`: a
    discount, a price adjustment or another correction (DIAN concepts 3 to 5: per line, the
    value credited per unit on the unit price's terms — the line's discount and taxes follow —
    and the units it covers, those not returned when left empty), or an annulment (concept 2: everything left of the
    invoice, its goods back in stock if ticked). What was paid beyond the balance is refunded by
    the method chosen. `services.credit_note_create` decides what may still be credited."""

    concept = forms.ChoiceField(
        label=_("Concept"),
        choices=[
            (value, label)
            for value, label in CreditNote.Concept.choices
            if value != CreditNote.Concept.PARTIAL_RETURN  # the return page's
        ],
        initial=CreditNote.Concept.DISCOUNT,
    )

    def __init__(self, *args, lines, **kwargs):
        """`lines`: each invoice line with the quantity that can still be returned and the
        value that can still be credited (`selectors.creditable_lines`)."""
        super().__init__(*args, **kwargs)
        self.fields["return_stock"].help_text = _("Only for an annulment: the goods come back.")
        self.lines = []
        for line, held, creditable in lines:
            price, units = f"unit_price_{line.pk}", f"quantity_{line.pk}"
            self.fields[price] = forms.DecimalField(
                label=line.description,
                min_value=0,
                required=False,
                widget=forms.NumberInput(attrs={"step": "any", "min": "0"}),
                **PRICE,
            )
            self.fields[units] = forms.DecimalField(
                label=line.description,
                min_value=QUANTITY_STEP,
                required=False,
                widget=forms.NumberInput(attrs={"step": "any", "min": "0"}),
                **QUANTITY,
            )
            self.lines.append(
                {
                    "line": line,
                    "held": held,
                    "creditable": creditable,
                    "unit_price": self[price],
                    "quantity": self[units],
                }
            )

    def clean(self):
        data = super().clean()
        for row in self.lines:
            price, units = row["unit_price"].name, row["quantity"].name
            if data.get(units) and not data.get(price):
                self.add_error(price, _("Give the value credited per unit."))
        return data

    def credited(self) -> list[dict]:
        """The service's lines: each line given a value per unit above zero, with its units —
        those the customer still holds (not returned) when left empty (after `is_valid()`)."""
        return [
            {
                "invoice_line": row["line"],
                "unit_price": self.cleaned_data[row["unit_price"].name],
                "quantity": self.cleaned_data.get(row["quantity"].name) or row["held"],
            }
            for row in self.lines
            if self.cleaned_data.get(row["unit_price"].name)
        ]

    @staticmethod
    def service_fields(credited) -> dict[str, str]:
        """The service's `lines.<i>.…` → this form's fields of that line."""
        fields = {}
        for index, spec in enumerate(credited):
            pk = spec["invoice_line"].pk
            fields[f"lines.{index}.unit_price"] = f"unit_price_{pk}"
            fields[f"lines.{index}.quantity"] = fields[f"lines.{index}.invoice_line"] = (
                f"quantity_{pk}"
            )
        return fields


class PaymentVoidForm(VoidForm):
    """A customer's payment voided with its reason (`services.payment_void`, as
    `POST payments/{id}/void`): the invoice owes it again; cash goes back out of the drawer it
    came into, no more than the drawer holds. The service refuses a payment of a closed shift
    or one a credit note already gave back."""


class InvoiceVoidForm(VoidForm):
    """An open invoice voided (its number stays used, its goods come back): `services.invoice_void`,
    as `POST invoices/{id}/void`. One with payments or credit notes is refused (the service's
    message says what to do instead)."""


class NumberingRangeForm(forms.Form):
    """A DIAN numbering resolution loaded for a point of sale and document type
    (`services.numbering_range_create`, as `POST numbering-ranges/`): an active one replaces the
    active range of that point of sale and type (not before it starts); overlapping numbers of
    the same prefix, a range or validity backwards are the service's refusals."""

    pdv = forms.ModelChoiceField(queryset=None, label=_("Point of sale"), empty_label=None)
    document_type = forms.ChoiceField(label=_("Document"), choices=DocumentType.choices)
    resolution_number = forms.CharField(label=_("DIAN resolution"), max_length=40)
    prefix = forms.CharField(label=_("Prefix"), max_length=4, required=False)
    range_from = forms.IntegerField(label=_("From"), min_value=1, max_value=NUMBER_MAX)
    range_to = forms.IntegerField(label=_("To"), min_value=1, max_value=NUMBER_MAX)
    next_number = forms.IntegerField(
        label=_("Next number"),
        min_value=1,
        max_value=NUMBER_MAX,
        required=False,
        help_text=_("'From' when left empty (a range already used elsewhere may go on)."),
    )
    valid_from = forms.DateField(label=_("Valid from"), widget=DateInput())
    valid_to = forms.DateField(label=_("Valid to"), widget=DateInput())
    technical_key = forms.CharField(label=_("Technical key"), max_length=128, required=False)
    is_active = forms.BooleanField(
        label=_("Use it now"),
        required=False,
        initial=True,
        help_text=_(
            "Untick it for a resolution that starts later: it takes over by itself once the "
            "range in use can no longer issue."
        ),
    )
    range_key = forms.UUIDField(widget=forms.HiddenInput)  # one resolution per form

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pdv"].queryset = PDV.objects.filter(is_active=True).order_by(
            "-is_main", "name"
        )

    def range_data(self) -> dict:
        data = dict(self.cleaned_data)
        del data["range_key"]
        if data["next_number"] is None:
            del data["next_number"]
        return data


class NumberingRangeEditForm(NumberingRangeForm):
    """A resolution's range changed (`services.numbering_range_update`, as
    `PATCH numbering-ranges/{id}`): its point of sale and document stay; once numbers were
    used, its prefix, first number, resolution and start stay too (the service says so)."""

    def __init__(self, *args, numbering, **kwargs):
        initial = {name: getattr(numbering, name) for name in RANGE_FIELDS}
        super().__init__(*args, initial=initial, **kwargs)
        for name in ("pdv", "document_type", "next_number", "range_key"):
            del self.fields[name]
        # Each field carries the value the page showed (a hidden "initial-" input): what
        # changed is judged against the page as it was opened (`range_data`).
        for field in self.fields.values():
            field.show_hidden_initial = True

    def range_data(self) -> dict:
        """Only what was changed on the page, as a PATCH: a page opened before another manager
        ended the range, moved its validity or switched it off does not undo that by saving
        another field."""
        return {name: self.cleaned_data[name] for name in changed_on_page(self)}
