from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ally360.models import TenantModel


class PDV(TenantModel):
    """A point of sale (store, warehouse): stock, numbering ranges and cash registers hang here."""

    name = models.CharField(_("name"), max_length=120)
    code = models.CharField(_("code"), max_length=20)
    address = models.CharField(_("address"), max_length=255, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    is_main = models.BooleanField(_("main"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("point of sale")
        verbose_name_plural = _("points of sale")
        ordering = ["-is_main", "name"]
        constraints = [
            models.UniqueConstraint(
                "tenant",
                Upper("code"),
                name="pos_pdv_unique_code",
                violation_error_message=_("A point of sale with this code already exists."),
            ),
            models.UniqueConstraint(
                fields=["tenant"], condition=models.Q(is_main=True), name="pos_pdv_one_main"
            ),
        ]

    def __str__(self):
        return self.name


class Seller(TenantModel):
    name = models.CharField(_("name"), max_length=150)
    identification = models.CharField(_("identification"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    commission_pct = models.DecimalField(
        _("commission %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("seller")
        verbose_name_plural = _("sellers")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "user"],
                condition=models.Q(user__isnull=False),
                name="pos_seller_one_per_user",
            ),
        ]

    def __str__(self):
        return self.name


class PDVAccess(TenantModel):
    """A user allowed to sell at a point of sale. A PDV without any row is open to every member;
    owners and admins are allowed everywhere."""

    pdv = models.ForeignKey(PDV, on_delete=models.CASCADE, related_name="access")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "pdv", "user"], name="pos_pdvaccess_unique"),
        ]


class CashRegister(TenantModel):
    pdv = models.ForeignKey(
        PDV,
        on_delete=models.PROTECT,
        related_name="cash_registers",
        verbose_name=_("point of sale"),
    )
    name = models.CharField(_("name"), max_length=80)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("cash register")
        verbose_name_plural = _("cash registers")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "tenant",
                "pdv",
                Upper("name"),
                name="pos_cashregister_unique_name",
                violation_error_message=_(
                    "This point of sale already has a register with this name."
                ),
            ),
        ]

    def __str__(self):
        return self.name


class Shift(TenantModel):
    """A cashier's shift on a register: opening float, sales, cash in/out, counted close."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("shift", "Open")
        CLOSED = "closed", pgettext_lazy("shift", "Closed")

    register = models.ForeignKey(
        CashRegister,
        on_delete=models.PROTECT,
        related_name="shifts",
        verbose_name=_("cash register"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("cashier"),
    )
    status = models.CharField(
        _("status"), max_length=6, choices=Status.choices, default=Status.OPEN
    )
    opening_cash = models.DecimalField(_("opening cash"), max_digits=18, decimal_places=2)
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Per payment method at close: {"cash": "150000.00", "credit_card": "..."}.
    expected = models.JSONField(_("expected per method"), default=dict, blank=True)
    counted = models.JSONField(_("counted per method"), default=dict, blank=True)
    expected_cash = models.DecimalField(
        _("expected cash"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    counted_cash = models.DecimalField(
        _("counted cash"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    difference = models.DecimalField(
        _("cash difference"),
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Counted minus expected: negative is a shortage."),
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "register"],
                condition=models.Q(status="open"),
                name="pos_shift_one_open_per_register",
            ),
            models.UniqueConstraint(
                fields=["tenant", "user"],
                condition=models.Q(status="open"),
                name="pos_shift_one_open_per_user",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "-opened_at"])]

    def __str__(self):
        return f"{self.register} {self.opened_at:%Y-%m-%d %H:%M}"


class CashMovement(TenantModel):
    class Kind(models.TextChoices):
        IN = "in", _("Cash in")
        OUT = "out", _("Cash out")

    shift = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="cash_movements")
    kind = models.CharField(_("kind"), max_length=3, choices=Kind.choices)
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("cash movement")
        verbose_name_plural = _("cash movements")
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="pos_cashmovement_positive"
            ),
        ]
