from django.contrib import admin

from ally360.admin import ReadOnlyTenantInline, TenantModelAdmin

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
class CategoryAdmin(TenantModelAdmin):
    list_display = ["name", "parent", "is_active"]
    search_fields = ["name"]


@admin.register(Brand)
class BrandAdmin(TenantModelAdmin):
    list_display = ["name", "is_active"]
    search_fields = ["name"]


@admin.register(Tax)
class TaxAdmin(TenantModelAdmin):
    list_display = ["name", "kind", "treatment", "rate", "dian_code", "is_active"]
    list_filter = ["tenant", "kind", "treatment"]


@admin.register(Unit)
class UnitAdmin(TenantModelAdmin):
    list_display = ["code", "name", "dian_code", "allows_decimals"]


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    fields = ["sku", "barcode", "options", "price", "cost", "is_default", "is_active"]

    def get_queryset(self, request):
        return Variant.all_tenants.all()

    def has_add_permission(self, request, obj=None):
        return False


class ProductTaxInline(admin.TabularInline):
    model = ProductTax
    extra = 0
    readonly_fields = ["tax"]

    def get_queryset(self, request):
        return ProductTax.all_tenants.all()

    def has_add_permission(self, request, obj=None):
        return False


class ProductImageInline(ReadOnlyTenantInline):
    model = ProductImage
    fields = ["file", "thumbnail", "position", "is_main"]
    related = ("file", "thumbnail")


@admin.register(Product)
class ProductAdmin(TenantModelAdmin):
    list_display = ["name", "category", "brand", "unit", "track_inventory", "is_active"]
    list_filter = ["tenant", "track_inventory", "is_active"]
    search_fields = ["name", "variants__sku", "variants__barcode"]
    inlines = [VariantInline, ProductTaxInline, ProductImageInline]


@admin.register(Variant)
class VariantAdmin(TenantModelAdmin):
    list_display = ["sku", "barcode", "product", "price", "cost", "is_active"]
    search_fields = ["sku", "barcode", "product__name"]
    list_select_related = ["tenant", "product"]


class PriceListItemInline(admin.TabularInline):
    model = PriceListItem
    extra = 0
    # Read-only: a raw-id widget would look the variant up outside any company (and fail).
    readonly_fields = ["variant"]

    def get_queryset(self, request):
        return PriceListItem.all_tenants.all()

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PriceList)
class PriceListAdmin(TenantModelAdmin):
    list_display = ["name", "kind", "percentage", "is_default", "is_active"]
    inlines = [PriceListItemInline]
