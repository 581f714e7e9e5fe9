from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ally360.documents import PaymentMethod
from ally360.models import DocumentTotalsFields, TenantModel
from ally360.money import MONEY as MONEY_DIGITS
from ally360.money import PRICE, QUANTITY

MONEY = {**MONEY_DIGITS, "default": Decimal("0")}  # stored amounts start at zero
PERCENT = {
    "max_digits": 5,
    "decimal_places": 2,
    "default": Decimal("0"),
    "validators": [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
}


class DocumentType(models.TextChoices):
    INVOICE = "invoice", _("Sales invoice")
    POS = "pos", _("POS document")
    CREDIT_NOTE = "credit_note", _("Credit note")


# The largest number a range may hold: its columns are bigints and `range_to + 1` must fit.
NUMBER_MAX = 2**63 - 2


class NumberingRange(TenantModel):
    """A DIAN numbering authorization for one point of sale and document type."""

    pdv = models.ForeignKey(
        "pos.PDV",
        on_delete=models.PROTECT,
        related_name="numbering_ranges",
        verbose_name=_("point of sale"),
    )
    document_type = models.CharField(
        _("document type"), max_length=12, choices=DocumentType.choices
    )
    resolution_number = models.CharField(_("DIAN resolution number"), max_length=40)
    prefix = models.CharField(_("prefix"), max_length=4, blank=True)
    range_from = models.PositiveBigIntegerField(_("from"))
    range_to = models.PositiveBigIntegerField(_("to"))
    next_number = models.PositiveBigIntegerField(_("next number"))
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"))
    technical_key = models.CharField(_("technical key"), max_length=128, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("numbering range")
        verbose_name_plural = _("numbering ranges")
        ordering = ["pdv", "document_type", "-valid_to"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "pdv", "document_type"],
                condition=models.Q(is_active=True),
                name="invoices_range_one_active",
            ),
            models.CheckConstraint(
                condition=models.Q(range_from__lte=models.F("range_to")),
                name="invoices_range_from_le_to",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    next_number__gte=models.F("range_from"),
                    next_number__lte=models.F("range_to") + 1,
                ),
                name="invoices_range_next_inside",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_from__lte=models.F("valid_to")),
                name="invoices_range_dates",
            ),
        ]

    def __str__(self):
        return (
            f"{self.prefix}{self.range_from}-{self.range_to} ({self.get_document_type_display()})"
        )


class Invoice(TenantModel, DocumentTotalsFields):
    class Kind(models.TextChoices):
        SALE = "sale", _("Sales invoice")
        POS = "pos", _("POS sale")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        PAID = "paid", _("Paid")
        VOID = "void", _("Void")

    kind = models.CharField(_("kind"), max_length=4, choices=Kind.choices, default=Kind.SALE)
    status = models.CharField(
        _("status"), max_length=5, choices=Status.choices, default=Status.DRAFT
    )
    pdv = models.ForeignKey("pos.PDV", on_delete=models.PROTECT, related_name="invoices")
    customer = models.ForeignKey(
        "contacts.Contact", on_delete=models.PROTECT, related_name="invoices"
    )
    seller = models.ForeignKey(
        "pos.Seller", on_delete=models.PROTECT, null=True, blank=True, related_name="invoices"
    )
    price_list = models.ForeignKey(
        "products.PriceList",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoices",
    )
    shift = models.ForeignKey(
        "pos.Shift", on_delete=models.PROTECT, null=True, blank=True, related_name="invoices"
    )
    numbering_range = models.ForeignKey(
        NumberingRange, on_delete=models.PROTECT, null=True, blank=True, related_name="invoices"
    )
    prefix = models.CharField(_("prefix"), max_length=4, blank=True)
    number = models.PositiveBigIntegerField(_("number"), null=True, blank=True)
    full_number = models.CharField(_("number"), max_length=24, blank=True)
    issue_date = models.DateField(_("issue date"))
    due_date = models.DateField(_("due date"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    amount_paid = models.DecimalField(_("paid"), **MONEY)
    credited_total = models.DecimalField(_("credited"), **MONEY)
    balance = models.DecimalField(_("balance"), **MONEY)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    void_reason = models.CharField(_("void reason"), max_length=255, blank=True)
    pdf = models.ForeignKey(
        "files.FileObject", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    pdf_generated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "prefix", "number"],
                condition=models.Q(number__isnull=False),
                name="invoices_invoice_unique_number",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at"]),
            models.Index(fields=["tenant", "customer", "status"]),
            # Covers the receivables report (ally360.documents.aging_filters): PostgreSQL reads
            # the open book from the index alone instead of one heap page per open invoice.
            models.Index(
                fields=["tenant", "status", "due_date"],
                include=["customer", "balance"],
                name="invoice_open_book_idx",
            ),
            models.Index(fields=["tenant", "shift"]),
            models.Index(fields=["tenant", "full_number"]),
            # Period reports and the home page read a company's invoices by issue date.
            models.Index(fields=["tenant", "issue_date"], name="invoice_issue_date_idx"),
        ]

    def __str__(self):
        return self.full_number or f"{self.get_status_display()} {self.pk}"


class InvoiceLine(TenantModel):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    variant = models.ForeignKey("products.Variant", on_delete=models.PROTECT, related_name="+")
    description = models.CharField(_("description"), max_length=255)
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    unit_price = models.DecimalField(_("unit price before tax"), **PRICE)
    discount_pct = models.DecimalField(_("discount %"), **PERCENT)
    subtotal = models.DecimalField(_("subtotal"), **MONEY)
    discount = models.DecimalField(_("discount"), **MONEY)
    tax_total = models.DecimalField(_("taxes"), **MONEY)
    total = models.DecimalField(_("total"), **MONEY)
    # Tax snapshots at the time the line was written: [{tax_id, name, kind, treatment, rate,
    # dian_code, base, amount}].
    taxes = models.JSONField(_("taxes"), default=list, blank=True)
    unit_cost = models.DecimalField(_("unit cost"), null=True, blank=True, **PRICE)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="invoices_line_quantity_positive"
            ),
        ]


class Payment(TenantModel):
    """A customer payment on one invoice. `amount` is what was received; the withholdings the
    customer practised reduce that cash but count toward the balance (`applied`)."""

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("payment", "Active")
        VOID = "void", pgettext_lazy("payment", "Void")

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    shift = models.ForeignKey(
        "pos.Shift", on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    date = models.DateField(_("date"))
    method = models.CharField(_("method"), max_length=12, choices=PaymentMethod.choices)
    amount = models.DecimalField(_("amount received"), **MONEY)
    retefuente = models.DecimalField(_("ReteFuente"), **MONEY)
    reteiva = models.DecimalField(_("ReteIVA"), **MONEY)
    reteica = models.DecimalField(_("ReteICA"), **MONEY)
    applied = models.DecimalField(_("applied to the balance"), **MONEY)
    # POS: what the customer handed over and the change returned (cash only).
    tendered = models.DecimalField(
        _("tendered"), null=True, blank=True, max_digits=18, decimal_places=2
    )
    change = models.DecimalField(_("change"), **MONEY)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=6, choices=Status.choices, default=Status.ACTIVE
    )
    void_reason = models.CharField(_("void reason"), max_length=255, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"]),
            models.Index(fields=["tenant", "invoice"]),
            models.Index(fields=["tenant", "shift"]),
            models.Index(fields=["tenant", "date"], name="payment_date_idx"),  # period reports
        ]

        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0, applied__gt=0), name="invoices_payment_positive"
            ),
        ]


class CreditNote(TenantModel, DocumentTotalsFields):
    class Concept(models.TextChoices):
        PARTIAL_RETURN = "1", _("1 Partial return")
        ANNULMENT = "2", _("2 Annulment")
        DISCOUNT = "3", _("3 Discount")
        PRICE_ADJUSTMENT = "4", _("4 Price adjustment")
        OTHER = "5", _("5 Other")

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    concept = models.CharField(_("DIAN concept"), max_length=1, choices=Concept.choices)
    reason = models.CharField(_("reason"), max_length=255)
    numbering_range = models.ForeignKey(
        NumberingRange, on_delete=models.PROTECT, related_name="credit_notes"
    )
    prefix = models.CharField(_("prefix"), max_length=4, blank=True)
    number = models.PositiveBigIntegerField(_("number"))
    full_number = models.CharField(_("number"), max_length=24)
    issue_date = models.DateField(_("issue date"))
    return_stock = models.BooleanField(_("return stock"), default=False)
    # When the invoice was already paid, what the note gives back to the customer: at most the
    # money received. The rest of the excess was withheld by the customer (retefuente, reteIVA,
    # reteICA declared to the DIAN for us), so it is not money to give back: their withholding
    # is reversed instead.
    refund_amount = models.DecimalField(_("refund"), **MONEY)
    withholding_reversed = models.DecimalField(_("withholding reversed"), **MONEY)

    refund_method = models.CharField(
        _("refund method"), max_length=12, choices=PaymentMethod.choices, blank=True
    )
    shift = models.ForeignKey(
        "pos.Shift", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_notes"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    pdf = models.ForeignKey(
        "files.FileObject", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    pdf_generated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "prefix", "number"], name="invoices_creditnote_unique_number"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "-created_at"])]

    def __str__(self):
        return self.full_number


# The concepts that give goods back (and may put them back in stock).
RETURN_CONCEPTS = frozenset({CreditNote.Concept.PARTIAL_RETURN, CreditNote.Concept.ANNULMENT})


class CreditNoteLine(TenantModel):
    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="lines")
    invoice_line = models.ForeignKey(
        InvoiceLine, on_delete=models.PROTECT, related_name="credit_lines"
    )
    description = models.CharField(_("description"), max_length=255)
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    unit_price = models.DecimalField(_("unit price before tax"), **PRICE)
    discount_pct = models.DecimalField(_("discount %"), **PERCENT)
    subtotal = models.DecimalField(_("subtotal"), **MONEY)
    discount = models.DecimalField(_("discount"), **MONEY)
    tax_total = models.DecimalField(_("taxes"), **MONEY)
    total = models.DecimalField(_("total"), **MONEY)
    taxes = models.JSONField(_("taxes"), default=list, blank=True)
