from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

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
            models.UniqueConstraint(fields=["tenant", "code"], name="pos_pdv_unique_code"),
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
