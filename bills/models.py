from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Upper
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


class Bill(TenantModel, DocumentTotalsFields):
    """A supplier's invoice: receiving it puts the goods in stock at its cost."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        PAID = "paid", _("Paid")
        VOID = "void", _("Void")

    status = models.CharField(
        _("status"), max_length=5, choices=Status.choices, default=Status.DRAFT
    )
    supplier = models.ForeignKey("contacts.Contact", on_delete=models.PROTECT, related_name="bills")
    pdv = models.ForeignKey(
        "pos.PDV",
        on_delete=models.PROTECT,
        related_name="bills",
        verbose_name=_("receiving point of sale"),
    )
    supplier_invoice_number = models.CharField(_("supplier's invoice number"), max_length=40)
    number = models.CharField(_("internal number"), max_length=20, blank=True)
    issue_date = models.DateField(_("issue date"))
    due_date = models.DateField(_("due date"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    amount_paid = models.DecimalField(_("paid"), **MONEY)
    debited_total = models.DecimalField(_("returned"), **MONEY)
    balance = models.DecimalField(_("balance"), **MONEY)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(_("received at"), null=True, blank=True)
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    void_reason = models.CharField(_("void reason"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("supplier bill")
        verbose_name_plural = _("supplier bills")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                "tenant",
                "supplier",
                Upper("supplier_invoice_number"),
                condition=~models.Q(status="void"),
                name="bills_bill_unique_supplier_number",
            ),
            models.UniqueConstraint(
                fields=["tenant", "number"],
                condition=~models.Q(number=""),
                name="bills_bill_unique_number",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at"]),
            models.Index(fields=["tenant", "supplier", "status"]),
            # Covers the payables report, like invoice_open_book_idx.
            models.Index(
                fields=["tenant", "status", "due_date"],
                include=["supplier", "balance"],
                name="bill_open_book_idx",
            ),
        ]

    def __str__(self):
        return self.number or f"{self.supplier_invoice_number} ({self.get_status_display()})"


class BillLine(TenantModel):
    bill = models.ForeignKey(Bill, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    variant = models.ForeignKey("products.Variant", on_delete=models.PROTECT, related_name="+")
    description = models.CharField(_("description"), max_length=255)
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    unit_cost = models.DecimalField(_("unit cost before tax"), **PRICE)
    discount_pct = models.DecimalField(_("discount %"), **PERCENT)
    subtotal = models.DecimalField(_("subtotal"), **MONEY)
    discount = models.DecimalField(_("discount"), **MONEY)
    tax_total = models.DecimalField(_("taxes"), **MONEY)
    total = models.DecimalField(_("total"), **MONEY)
    taxes = models.JSONField(_("taxes"), default=list, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="bills_line_quantity_positive"
            ),
        ]


class WithholdingConcept(TenantModel):
    """A withholding rate as data: ReteFuente per concept (percent, minimum base in UVT),
    ReteIVA (percent of the IVA), ReteICA (per mil of the base)."""

    class Kind(models.TextChoices):
        RETEFUENTE = "retefuente", "ReteFuente"
        RETEIVA = "reteiva", "ReteIVA"
        RETEICA = "reteica", "ReteICA"

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=120)
    rate = models.DecimalField(
        _("rate"), max_digits=7, decimal_places=4, help_text=_("Percent; per mil for ReteICA.")
    )
    min_base_uvt = models.DecimalField(
        _("minimum base (UVT)"), max_digits=9, decimal_places=2, default=Decimal("0")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("withholding concept")
        verbose_name_plural = _("withholding concepts")
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(
                "tenant",
                "kind",
                Upper("name"),
                name="bills_withholdingconcept_unique",
            ),
        ]

    def __str__(self):
        return self.name


class SupplierPayment(TenantModel):
    """A payment to a supplier allocated over one or more of its bills. `amount` is the money
    paid; the withholdings practised reduce it but count toward the bills' balances."""

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("payment", "Active")
        VOID = "void", pgettext_lazy("payment", "Void")

    number = models.CharField(_("number"), max_length=20)
    supplier = models.ForeignKey(
        "contacts.Contact", on_delete=models.PROTECT, related_name="supplier_payments"
    )
    date = models.DateField(_("date"))
    method = models.CharField(_("method"), max_length=12, choices=PaymentMethod.choices)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    applied_total = models.DecimalField(_("applied to bills"), **MONEY)
    withholding_total = models.DecimalField(_("withholdings"), **MONEY)
    amount = models.DecimalField(_("amount paid"), **MONEY)
    status = models.CharField(
        _("status"), max_length=6, choices=Status.choices, default=Status.ACTIVE
    )
    void_reason = models.CharField(_("void reason"), max_length=255, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("supplier payment")
        verbose_name_plural = _("supplier payments")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "number"], name="bills_supplierpayment_unique_number"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "-created_at"])]

    def __str__(self):
        return self.number


class PaymentAllocation(TenantModel):
    payment = models.ForeignKey(
        SupplierPayment, on_delete=models.CASCADE, related_name="allocations"
    )
    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="allocations")
    amount = models.DecimalField(_("applied"), max_digits=18, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "payment", "bill"], name="bills_allocation_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="bills_allocation_positive"
            ),
        ]


class Withholding(TenantModel):
    """A withholding practised on a payment, per bill and concept: the source of the yearly
    certificates (certificados de retención)."""

    payment = models.ForeignKey(
        SupplierPayment, on_delete=models.CASCADE, related_name="withholdings"
    )
    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="withholdings")
    concept = models.ForeignKey(WithholdingConcept, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=WithholdingConcept.Kind.choices)
    name = models.CharField(_("concept"), max_length=120)
    base = models.DecimalField(_("base"), max_digits=18, decimal_places=2)
    rate = models.DecimalField(_("rate"), max_digits=7, decimal_places=4)
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)

    class Meta:
        indexes = [models.Index(fields=["tenant", "kind"])]


class DebitNote(TenantModel, DocumentTotalsFields):
    """A return to the supplier: goods leave stock and the bill's balance goes down."""

    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="debit_notes")
    number = models.CharField(_("number"), max_length=20)
    reason = models.CharField(_("reason"), max_length=255)
    issue_date = models.DateField(_("issue date"))
    # When the bill was already paid: what the supplier now owes back.
    refund_amount = models.DecimalField(_("refund due"), **MONEY)
    # Beyond the balance, the part of the return that we had withheld from the supplier's
    # payments (not money it received, so not money it gives back).
    withholding_reversed = models.DecimalField(_("withholding reversed"), **MONEY)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("debit note")
        verbose_name_plural = _("debit notes")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "number"], name="bills_debitnote_unique_number"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "-created_at"])]

    def __str__(self):
        return self.number


class DebitNoteLine(TenantModel):
    debit_note = models.ForeignKey(DebitNote, on_delete=models.CASCADE, related_name="lines")
    bill_line = models.ForeignKey(BillLine, on_delete=models.PROTECT, related_name="debit_lines")
    description = models.CharField(_("description"), max_length=255)
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    unit_cost = models.DecimalField(_("unit cost before tax"), **PRICE)
    discount_pct = models.DecimalField(_("discount %"), **PERCENT)
    subtotal = models.DecimalField(_("subtotal"), **MONEY)
    discount = models.DecimalField(_("discount"), **MONEY)
    tax_total = models.DecimalField(_("taxes"), **MONEY)
    total = models.DecimalField(_("total"), **MONEY)
    taxes = models.JSONField(_("taxes"), default=list, blank=True)
