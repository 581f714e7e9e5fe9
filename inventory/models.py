from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ally360.models import TenantModel
from ally360.money import QUANTITY

COST = {"max_digits": 18, "decimal_places": 6}


class Stock(TenantModel):
    """The balance of one variant at one point of sale. Always equals the sum of its movements;
    only `inventory.services.stock_apply` changes `quantity` and `average_cost`."""

    variant = models.ForeignKey(
        "products.Variant",
        on_delete=models.PROTECT,
        related_name="stock_levels",
        verbose_name=_("variant"),
    )
    pdv = models.ForeignKey(
        "pos.PDV",
        on_delete=models.PROTECT,
        related_name="stock_levels",
        verbose_name=_("point of sale"),
    )
    quantity = models.DecimalField(_("quantity"), default=Decimal("0"), **QUANTITY)
    average_cost = models.DecimalField(_("average cost"), default=Decimal("0"), **COST)
    min_quantity = models.DecimalField(_("minimum quantity"), default=Decimal("0"), **QUANTITY)

    class Meta:
        verbose_name = _("stock")
        verbose_name_plural = _("stock")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "variant", "pdv"], name="inventory_stock_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(min_quantity__gte=0), name="inventory_stock_min_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "pdv"])]

    def __str__(self):
        return f"{self.variant_id} @ {self.pdv_id}: {self.quantity}"


class StockMovement(TenantModel):
    """The ledger: one signed quantity per variant, point of sale and originating document."""

    class Kind(models.TextChoices):
        INITIAL = "initial", _("Initial stock")
        PURCHASE = "purchase", _("Purchase")
        SALE = "sale", _("Sale")
        SALE_RETURN = "sale_return", _("Sale return")
        PURCHASE_RETURN = "purchase_return", _("Purchase return")
        ADJUSTMENT = "adjustment", _("Adjustment")
        TRANSFER_IN = "transfer_in", _("Transfer in")
        TRANSFER_OUT = "transfer_out", _("Transfer out")

    variant = models.ForeignKey(
        "products.Variant", on_delete=models.PROTECT, related_name="stock_movements"
    )
    pdv = models.ForeignKey("pos.PDV", on_delete=models.PROTECT, related_name="stock_movements")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    unit_cost = models.DecimalField(_("unit cost"), **COST)
    balance_after = models.DecimalField(_("balance after"), **QUANTITY)
    average_cost_after = models.DecimalField(_("average cost after"), **COST)
    reference_type = models.CharField(_("document type"), max_length=30, blank=True)
    reference_id = models.UUIDField(_("document id"), null=True, blank=True)
    reference_number = models.CharField(_("document number"), max_length=40, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["tenant", "variant", "pdv", "created_at"]),
            models.Index(fields=["tenant", "reference_type", "reference_id"]),
            models.Index(fields=["tenant", "created_at"]),
        ]

    def __str__(self):
        return f"{self.kind} {self.quantity}"


class Adjustment(TenantModel):
    class Reason(models.TextChoices):
        COUNT = "count", _("Physical count")
        DAMAGE = "damage", _("Damage")
        LOSS = "loss", _("Loss or theft")
        EXPIRY = "expiry", _("Expiry")
        INTERNAL_USE = "internal_use", _("Internal use")
        CORRECTION = "correction", _("Correction")
        OTHER = "other", _("Other")

    number = models.CharField(_("number"), max_length=20)
    pdv = models.ForeignKey("pos.PDV", on_delete=models.PROTECT, related_name="adjustments")
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    note = models.TextField(_("note"), blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("stock adjustment")
        verbose_name_plural = _("stock adjustments")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "number"], name="inventory_adjustment_number"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "-created_at"])]

    def __str__(self):
        return self.number


class AdjustmentLine(TenantModel):
    adjustment = models.ForeignKey(Adjustment, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey("products.Variant", on_delete=models.PROTECT, related_name="+")
    counted_quantity = models.DecimalField(_("counted quantity"), null=True, blank=True, **QUANTITY)
    previous_quantity = models.DecimalField(_("quantity before"), **QUANTITY)
    delta = models.DecimalField(_("change"), **QUANTITY)
    unit_cost = models.DecimalField(_("unit cost"), **COST)


class Transfer(TenantModel):
    number = models.CharField(_("number"), max_length=20)
    origin = models.ForeignKey(
        "pos.PDV", on_delete=models.PROTECT, related_name="+", verbose_name=_("from")
    )
    destination = models.ForeignKey(
        "pos.PDV", on_delete=models.PROTECT, related_name="+", verbose_name=_("to")
    )
    note = models.TextField(_("note"), blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="inventory_transfer_number"),
            models.CheckConstraint(
                condition=~models.Q(origin=models.F("destination")),
                name="inventory_transfer_distinct_pdvs",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "-created_at"])]

    def __str__(self):
        return self.number


class TransferLine(TenantModel):
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey("products.Variant", on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    unit_cost = models.DecimalField(_("unit cost"), **COST)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="inventory_transferline_positive"
            ),
        ]
