from django.contrib import admin

from ally360.admin import ReadOnlyTenantAdmin, ReadOnlyTenantInline

from .models import (
    Brand,
    Category,
    PriceList,
    PriceListItem,
    Product,
    ProductImage,
    ProductTax,
    Tax,
    Unit,
    Variant,
)


@admin.register(Category)
class CategoryAdmin(ReadOnlyTenantAdmin):
    list_display = ["name", "parent", "is_active"]
    search_fields = ["name"]


@admin.register(Brand)
class BrandAdmin(ReadOnlyTenantAdmin):
    list_display = ["name", "is_active"]
    search_fields = ["name"]


@admin.register(Tax)
class TaxAdmin(ReadOnlyTenantAdmin):
    list_display = ["name", "kind", "treatment", "rate", "dian_code", "is_active"]
    list_filter = ["tenant", "kind", "treatment"]


@admin.register(Unit)
class UnitAdmin(ReadOnlyTenantAdmin):
    list_display = ["code", "name", "dian_code", "allows_decimals"]


class VariantInline(ReadOnlyTenantInline):
    model = Variant
    fields = ["sku", "barcode", "options", "price", "cost", "is_default", "is_active"]


class ProductTaxInline(ReadOnlyTenantInline):
    model = ProductTax
    fields = ["tax"]
    related = ("tax",)


class ProductImageInline(ReadOnlyTenantInline):
    model = ProductImage
    fields = ["file", "thumbnail", "position", "is_main"]
    related = ("file", "thumbnail")


@admin.register(Product)
class ProductAdmin(ReadOnlyTenantAdmin):
    list_display = ["name", "category", "brand", "unit", "track_inventory", "is_active"]
    list_filter = ["tenant", "track_inventory", "is_active"]
    search_fields = ["name", "variants__sku", "variants__barcode"]
    inlines = [VariantInline, ProductTaxInline, ProductImageInline]


@admin.register(Variant)
class VariantAdmin(ReadOnlyTenantAdmin):
    list_display = ["sku", "barcode", "product", "price", "cost", "is_active"]
    search_fields = ["sku", "barcode", "product__name"]
    list_select_related = ["tenant", "product"]


class PriceListItemInline(ReadOnlyTenantInline):
    model = PriceListItem
    fields = ["variant", "price"]
    related = ("variant",)


@admin.register(PriceList)
class PriceListAdmin(ReadOnlyTenantAdmin):
    list_display = ["name", "kind", "percentage", "is_default", "is_active"]
    inlines = [PriceListItemInline]
