from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from ally360.models import TenantModel
from ally360.money import PRICE

PERCENT = {
    "max_digits": 5,
    "decimal_places": 2,
    "validators": [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
}


class Category(TenantModel):
    name = models.CharField(_("name"), max_length=120)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "tenant",
                "parent",
                Upper("name"),
                nulls_distinct=False,
                name="products_category_unique_name",
                violation_error_message=_("A category with this name already exists here."),
            ),
        ]

    def __str__(self):
        return self.name


class Brand(TenantModel):
    name = models.CharField(_("name"), max_length=120)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("brand")
        verbose_name_plural = _("brands")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "tenant",
                Upper("name"),
                name="products_brand_unique_name",
                violation_error_message=_("A brand with this name already exists."),
            ),
        ]

    def __str__(self):
        return self.name


class Tax(TenantModel):
    """A sales tax as data: IVA 19 %/5 %, exento (0 %, taxed), excluido (outside IVA), INC."""

    class Kind(models.TextChoices):
        IVA = "iva", "IVA"
        INC = "inc", "INC"

    class Treatment(models.TextChoices):
        TAXED = "taxed", _("Taxed")
        EXEMPT = "exempt", _("Exempt (0 %, taxed)")
        EXCLUDED = "excluded", _("Excluded (outside the tax)")

    name = models.CharField(_("name"), max_length=60)
    kind = models.CharField(_("kind"), max_length=3, choices=Kind.choices)
    treatment = models.CharField(
        _("treatment"), max_length=10, choices=Treatment.choices, default=Treatment.TAXED
    )
    rate = models.DecimalField(_("rate %"), **PERCENT)
    dian_code = models.CharField(_("DIAN tax code"), max_length=4, help_text=_("01 IVA, 04 INC"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("tax")
        verbose_name_plural = _("taxes")
        ordering = ["kind", "-rate", "name"]
        constraints = [
            models.UniqueConstraint(
                "tenant",
                Upper("name"),
                name="products_tax_unique_name",
                violation_error_message=_("A tax with this name already exists."),
            ),
        ]

    def __str__(self):
        return self.name


class Unit(TenantModel):
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=60)
    dian_code = models.CharField(_("DIAN unit code"), max_length=5, blank=True)
    allows_decimals = models.BooleanField(_("allows decimal quantities"), default=False)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="products_unit_unique_code"),
        ]

    def __str__(self):
        return self.name


class Product(TenantModel):
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="products",
        verbose_name=_("category"),
    )
    brand = models.ForeignKey(
        Brand,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="products",
        verbose_name=_("brand"),
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="products", verbose_name=_("unit")
    )
    taxes = models.ManyToManyField(
        Tax, through="ProductTax", related_name="products", verbose_name=_("taxes")
    )
    track_inventory = models.BooleanField(_("track inventory"), default=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name"]
        indexes = [models.Index(fields=["tenant", "name"])]

    def __str__(self):
        return self.name


class ProductTax(TenantModel):
    """The product-tax link as a tenant table (an automatic M2M table would escape RLS)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="product_taxes")
    tax = models.ForeignKey(Tax, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "product", "tax"], name="products_producttax_unique"
            ),
        ]


class Variant(TenantModel):
    # Deleting an unused product deletes its variants; stock and documents protect them.
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="variants", verbose_name=_("product")
    )

    sku = models.CharField(_("SKU"), max_length=64)
    barcode = models.CharField(_("barcode"), max_length=64, blank=True)
    options = models.JSONField(
        _("options"), default=dict, blank=True, help_text=_('e.g. {"talla": "M", "color": "rojo"}')
    )
    price = models.DecimalField(_("price before tax"), **PRICE)
    cost = models.DecimalField(_("reference cost"), default=Decimal("0"), **PRICE)
    is_default = models.BooleanField(_("default variant"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        ordering = ["product__name", "sku"]
        constraints = [
            models.UniqueConstraint(
                "tenant",
                Upper("sku"),
                name="products_variant_unique_sku",
                violation_error_message=_("The SKU or barcode is already used."),
            ),
            models.UniqueConstraint(
                fields=["tenant", "barcode"],
                condition=~models.Q(barcode=""),
                name="products_variant_unique_barcode",
            ),
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="products_variant_price_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(cost__gte=0), name="products_variant_cost_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "product"])]

    def __str__(self):
        label = ", ".join(f"{value}" for value in self.options.values())
        return f"{self.product.name} ({label})" if label else self.product.name

    @property
    def display_name(self) -> str:
        return str(self)


class PriceList(TenantModel):
    class Kind(models.TextChoices):
        PERCENTAGE = "percentage", _("Percentage off the base price")
        FIXED = "fixed", _("Fixed price per variant")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PERCENTAGE)
    percentage = models.DecimalField(_("discount %"), default=Decimal("0"), **PERCENT)
    is_default = models.BooleanField(_("default"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                "tenant",
                Upper("name"),
                name="products_pricelist_unique_name",
                violation_error_message=_("A price list with this name already exists."),
            ),
            models.UniqueConstraint(
                fields=["tenant"],
                condition=models.Q(is_default=True),
                name="products_pricelist_one_default",
            ),
        ]

    def __str__(self):
        return self.name


class PriceListItem(TenantModel):
    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="price_list_items")
    price = models.DecimalField(_("price before tax"), **PRICE)

    class Meta:
        verbose_name = _("price list item")
        verbose_name_plural = _("price list items")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "price_list", "variant"], name="products_pricelistitem_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="products_pricelistitem_price_not_negative"
            ),
        ]


class ProductImage(TenantModel):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    file = models.ForeignKey("files.FileObject", on_delete=models.PROTECT, related_name="+")
    thumbnail = models.ForeignKey(
        "files.FileObject", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    is_main = models.BooleanField(_("main image"), default=False)

    class Meta:
        verbose_name = _("product image")
        verbose_name_plural = _("product images")
        ordering = ["-is_main", "position", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "product"],
                condition=models.Q(is_main=True),
                name="products_image_one_main",
            ),
            models.UniqueConstraint(fields=["tenant", "file"], name="products_image_unique_file"),
        ]
