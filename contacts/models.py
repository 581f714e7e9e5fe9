from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from ally360.models import TenantModel


class IdType(models.TextChoices):
    """Identification types with their DIAN codes as values."""

    CC = "13", _("Cédula de ciudadanía (CC)")
    NIT = "31", _("NIT")
    CE = "22", _("Cédula de extranjería (CE)")
    TI = "12", _("Tarjeta de identidad (TI)")
    PP = "41", _("Pasaporte (PP)")
    PEP = "47", _("Permiso especial de permanencia (PEP)")
    DIE = "42", _("Documento de identificación extranjero (DIE)")
    FOREIGN_NIT = "50", _("NIT de otro país")
    RC = "11", _("Registro civil (RC)")
    TE = "21", _("Tarjeta de extranjería (TE)")
    NUIP = "91", _("NUIP")


class PersonType(models.TextChoices):
    NATURAL = "natural", _("Natural person")
    LEGAL = "legal", _("Legal entity")


class FiscalResponsibility(models.TextChoices):
    O13 = "O-13", _("O-13 Gran contribuyente")
    O15 = "O-15", _("O-15 Autorretenedor")
    O23 = "O-23", _("O-23 Agente de retención IVA")
    O47 = "O-47", _("O-47 Régimen simple de tributación")
    R99PN = "R-99-PN", _("R-99-PN No aplica – Otros")


class TaxRegime(models.TextChoices):
    IVA = "iva", _("Responsable de IVA")
    NOT_IVA = "no_iva", _("No responsable de IVA")
    INC = "inc", _("Responsable de INC")
    IVA_INC = "iva_inc", _("Responsable de IVA e INC")
    SIMPLE = "simple", _("Régimen simple")
    SPECIAL = "special", _("Régimen especial")


class Contact(TenantModel):
    """A customer, a supplier, or both."""

    is_customer = models.BooleanField(_("customer"), default=True)
    is_supplier = models.BooleanField(_("supplier"), default=False)
    person_type = models.CharField(
        _("person type"), max_length=10, choices=PersonType.choices, default=PersonType.NATURAL
    )
    id_type = models.CharField(_("identification type"), max_length=2, choices=IdType.choices)
    id_number = models.CharField(_("identification number"), max_length=20)
    check_digit = models.CharField(
        _("check digit"), max_length=1, blank=True, help_text=_("NIT only.")
    )
    name = models.CharField(_("name or business name"), max_length=200)
    trade_name = models.CharField(_("trade name"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phones = models.JSONField(_("phones"), default=list, blank=True)
    fiscal_responsibilities = models.JSONField(
        _("fiscal responsibilities"), default=list, blank=True
    )
    tax_regime = models.CharField(
        _("tax regime"), max_length=10, choices=TaxRegime.choices, blank=True
    )
    addresses = models.JSONField(_("addresses"), default=list, blank=True)
    # The first address's city, kept by the services for filtering and indexing.
    city = models.CharField(_("city"), max_length=100, blank=True, editable=False)
    payment_term_days = models.PositiveIntegerField(_("payment term (days)"), default=0)
    credit_limit = models.DecimalField(
        _("credit limit"),
        max_digits=18,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    default_seller = models.ForeignKey(
        "pos.Seller",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("default seller"),
    )
    default_price_list = models.ForeignKey(
        "products.PriceList",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("default price list"),
    )
    notes = models.TextField(_("notes"), blank=True)
    is_final_consumer = models.BooleanField(_("final consumer"), default=False, editable=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "id_type", "id_number"],
                name="contacts_contact_unique_identification",
            ),
            models.CheckConstraint(
                condition=models.Q(is_customer=True) | models.Q(is_supplier=True),
                name="contacts_contact_customer_or_supplier",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "name"]),
            models.Index(fields=["tenant", "city"]),
        ]

    def __str__(self):
        return self.name

    @property
    def identification(self) -> str:
        return identification(self.id_number, self.check_digit)


def identification(id_number: str, check_digit: str) -> str:
    """The number as documents show it: a NIT with its check digit."""
    return f"{id_number}-{check_digit}" if check_digit else id_number
