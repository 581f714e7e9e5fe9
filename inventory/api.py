"""Inventory API, and the `products/` and `variants/` endpoints (they show stock and take initial
stock, so they live here, above the products app)."""

from __future__ import annotations

import functools
from collections import defaultdict
from decimal import Decimal

import django_filters
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _
from django_filters import rest_framework as drf_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings

from ally360.api.filters import (
    CursorOrder,
    TenantChoiceFilter,
    TenantFilterBackend,
    TenantFilterSet,
)
from ally360.api.pagination import CursorPagination
from ally360.api.serializers import MemberEmailField, ModelSerializer, RowRenderer, Serializer
from ally360.api.viewsets import (
    ReadOnlyTenantViewSet,
    ServiceModelViewSet,
    TenantViewSet,
)
from ally360.money import PRICE, QUANTITY, ZERO, money, quantity
from files.models import FileObject
from files.services import signed_url
from pos.models import PDV
from products import services as product_services
from products.models import (
    Brand,
    Category,
    PriceList,
    Product,
    ProductImage,
    Tax,
    Unit,
    Variant,
)
from products.selectors import (
    category_subtree_ids,
    default_price_list,
    price_with_rates,
    price_with_taxes,
    prices_on_list,
    variant_prices,
)

from . import catalog_cache, selectors, services
from .models import Adjustment, AdjustmentLine, Stock, StockMovement, Transfer, TransferLine

# Method fields return decimals as strings, like DRF's DecimalField (COERCE_DECIMAL_TO_STRING).
money_field = extend_schema_field(serializers.DecimalField(max_digits=18, decimal_places=2))
price_field = extend_schema_field(serializers.DecimalField(max_digits=18, decimal_places=6))
quantity_field = extend_schema_field(serializers.DecimalField(max_digits=18, decimal_places=3))


class CostFieldsMixin:
    """Drops cost fields for roles that may not see costs (sellers, viewers)."""

    cost_fields: tuple[str, ...] = ()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("show_costs", False):
            for field in self.cost_fields:
                data.pop(field, None)
        return data


# --- output shapes -----------------------------------------------------------------------------


class StockLevelSerializer(CostFieldsMixin, ModelSerializer):
    cost_fields = ("average_cost",)
    pdv_name = serializers.CharField(source="pdv.name", read_only=True)

    class Meta:
        model = Stock
        fields = ["id", "pdv", "pdv_name", "quantity", "min_quantity", "average_cost"]
        read_only_fields = fields


class NamedRefSerializer(Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class UnitRefSerializer(Serializer):
    id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()


class TaxRefSerializer(Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    kind = serializers.CharField()
    treatment = serializers.CharField()
    rate = serializers.DecimalField(max_digits=5, decimal_places=2)


def _taxes_of(product: Product) -> list[Tax]:
    links = getattr(product, "tax_links", None)  # prefetched by the catalog selectors
    if links is None:
        links = product.product_taxes.all()
    return [link.tax for link in links]


def _stock_of(variant: Variant) -> list[Stock]:
    levels = getattr(variant, "stock_list", None)  # prefetched by the catalog selectors
    return variant.stock_levels.all() if levels is None else levels


def _tax_refs(serializer: serializers.Serializer, product: Product) -> list[dict]:
    """The product's taxes, rendered by one TaxRefSerializer per response: building a
    serializer deep-copies its fields, which cost more than the rows themselves on a page."""
    refs = serializer.__dict__.get("_tax_ref_serializer")
    if refs is None:
        refs = serializer._tax_ref_serializer = TaxRefSerializer(many=True)
    return refs.to_representation(_taxes_of(product))


class VariantSerializer(CostFieldsMixin, ModelSerializer):
    cost_fields = ("cost",)
    sale_price = serializers.SerializerMethodField(
        help_text="Price before tax on the requested price list (?price_list=, default list)."
    )
    sale_price_with_tax = serializers.SerializerMethodField()
    stock = serializers.SerializerMethodField()
    stock_total = serializers.SerializerMethodField()

    class Meta:
        model = Variant
        fields = [
            "id",
            "product",
            "sku",
            "barcode",
            "options",
            "price",
            "sale_price",
            "sale_price_with_tax",
            "cost",
            "is_default",
            "is_active",
            "stock",
            "stock_total",
        ]
        read_only_fields = fields

    def _sale_price(self, variant):
        return self.context.get("prices", {}).get(variant.pk, variant.price)

    @price_field
    def get_sale_price(self, variant):
        return str(self._sale_price(variant))

    @money_field
    def get_sale_price_with_tax(self, variant):
        return str(price_with_taxes(self._sale_price(variant), _taxes_of(variant.product)))

    @extend_schema_field(StockLevelSerializer(many=True))
    def get_stock(self, variant):
        # One StockLevelSerializer per response (see _tax_refs), sharing this one's context.
        levels = self.__dict__.get("_stock_serializer")
        if levels is None:
            levels = self._stock_serializer = StockLevelSerializer(many=True, context=self.context)
        return levels.to_representation(_stock_of(variant))

    @quantity_field
    def get_stock_total(self, variant):
        return str(quantity(sum((level.quantity for level in _stock_of(variant)), ZERO)))


class VariantDetailSerializer(VariantSerializer):
    product_name = serializers.CharField(source="product.name", read_only=True)
    unit = serializers.CharField(source="product.unit.code", read_only=True)
    taxes = serializers.SerializerMethodField()

    class Meta(VariantSerializer.Meta):
        fields = [*VariantSerializer.Meta.fields, "product_name", "unit", "taxes"]
        read_only_fields = fields

    @extend_schema_field(TaxRefSerializer(many=True))
    def get_taxes(self, variant):
        return _tax_refs(self, variant.product)


class ProductSerializer(ModelSerializer):
    category = NamedRefSerializer(allow_null=True, read_only=True)
    brand = NamedRefSerializer(allow_null=True, read_only=True)
    unit = UnitRefSerializer(read_only=True)
    taxes = serializers.SerializerMethodField()
    image = serializers.SerializerMethodField(
        help_text="The main image's thumbnail (or the image while the thumbnail is being made)."
    )
    variants = VariantSerializer(source="variant_list", many=True, read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "description",
            "category",
            "brand",
            "unit",
            "taxes",
            "image",
            "track_inventory",
            "is_active",
            "variants",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_image(self, product):
        images = getattr(product, "main_images", None)
        if not images:
            return None
        main = images[0]
        return signed_url(main.thumbnail or main.file, base_url=self.context["base_url"])

    @extend_schema_field(TaxRefSerializer(many=True))
    def get_taxes(self, product):
        return _tax_refs(self, product)


class CatalogRowsRenderer:
    """Variants read as rows and rendered exactly as their serializer renders the catalog's model
    instances (tests compare the two), like the invoice list (`RowRenderer`).

    The catalog's levels of model instances cost more than its statements: rows halve the
    reading. Each level is a `RowRenderer` over its serializer, so the fields and their formats
    stay the serializers'; the method fields are rendered here from the page's rows with the same
    helpers (`prices_on_list`, `price_with_rates`, `signed_url`).
    """

    # Columns of the product that `VariantDetailSerializer` shows, read with the variant.
    PRODUCT_COLUMNS = ("product__name", "product__unit__code")

    def __init__(self, context: dict, variant_serializer=VariantDetailSerializer):
        self.context = context
        costs = context.get("show_costs", False)
        self.tax_refs = TaxRefSerializer(many=True)
        self.variants = RowRenderer(
            variant_serializer(context=context),
            handlers={
                "sale_price": lambda row: str(self.prices[row["id"]]),
                "sale_price_with_tax": self._sale_price_with_tax,
                # Kept in their place, filled on every answer (`StockFiller`).
                "stock": lambda row: None,
                "stock_total": lambda row: None,
                "product_name": lambda row: row["product__name"],
                "unit": lambda row: row["product__unit__code"],
                "taxes": lambda row: self._taxes(row["product"]),
            },
            omit=() if costs else variant_serializer.cost_fields,
        )

    def rows(self, queryset):
        """The page's query as rows holding what the renderer shows."""
        return self.variants.rows(queryset, *self.PRODUCT_COLUMNS)

    def render(self, rows, price_list: PriceList | None) -> list[dict]:
        """Read the page's taxes and prices, then render it (its stock left to `StockFiller`)."""
        rows = list(rows)
        self._read_levels(rows, {row["product"] for row in rows}, price_list)
        return self.variants.render(rows)

    def _read_levels(self, variants: list[dict], product_ids, price_list) -> None:
        self.taxes_of = selectors.catalog_taxes(product_ids)
        self.prices = prices_on_list({v["id"]: v["price"] for v in variants}, price_list)

    def _taxes(self, product_id) -> list[dict]:
        return self.tax_refs.to_representation(self.taxes_of[product_id])

    def _sale_price_with_tax(self, row) -> str:
        rates = [tax["rate"] for tax in self.taxes_of[row["product"]]]
        return str(price_with_rates(self.prices[row["id"]], rates))


class StockFiller:
    """The stock of a rendered catalog page's variants (`stock`, `stock_total`), read as it is
    now on every answer, cached page or not: one statement for the page. Stock changes with
    every sale and the rest of the catalog seldom, so `catalog_cache` keeps pages without it and
    a sale renews no page. Rendered as `VariantSerializer.get_stock` renders it."""

    def __init__(self, context: dict):
        self.levels = _stock_levels_renderer(context.get("show_costs", False))

    def fill(self, variants: list[dict]) -> None:
        if not variants:
            return
        rows = selectors.catalog_stock_rows([variant["id"] for variant in variants])
        rows_of = defaultdict(list)
        for row in rows:
            rows_of[str(row["variant_id"])].append(row)
        for variant in variants:
            levels = rows_of[variant["id"]]
            variant["stock"] = self.levels.render(levels)
            total = sum((level["quantity"] for level in levels), ZERO)
            variant["stock_total"] = str(quantity(total))


@functools.cache
def _stock_levels_renderer(show_costs: bool) -> RowRenderer:
    """One per process and cost visibility: rendering keeps no state, and building one
    deep-copies the serializer's fields."""
    return RowRenderer(
        StockLevelSerializer(context={"show_costs": show_costs}),
        handlers={"pdv_name": lambda row: row["pdv__name"]},
        omit=() if show_costs else StockLevelSerializer.cost_fields,
    )


class ProductRowsRenderer(CatalogRowsRenderer):
    """A page of products read as rows and rendered exactly as `ProductSerializer` renders the
    catalog, variants included."""

    def __init__(self, context: dict):
        super().__init__(context, VariantSerializer)
        self.products = RowRenderer(
            ProductSerializer(context=context),
            handlers={
                "taxes": lambda row: self._taxes(row["id"]),
                "image": self._image,
                "variants": lambda row: self.variants.render(self.variants_of[row["id"]]),
            },
        )

    def rows(self, queryset):
        return self.products.rows(queryset)

    def render(self, rows, price_list: PriceList | None) -> list[dict]:
        """Read the page's variants, their stock, taxes, prices and main images, then render it."""
        product_ids = [row["id"] for row in rows]
        variants = list(self.variants.rows(selectors.catalog_variants(product_ids)))
        self.variants_of = defaultdict(list)
        for variant in variants:
            self.variants_of[variant["product"]].append(variant)
        self._read_levels(variants, product_ids, price_list)
        self.images = selectors.catalog_main_images(product_ids)
        return self.products.render(rows)

    def _image(self, row) -> str | None:
        shown = self.images.get(row["id"])
        return None if shown is None else signed_url(shown, base_url=self.context["base_url"])


# --- input shapes ------------------------------------------------------------------------------


class InitialStockSerializer(Serializer):
    pdv = serializers.PrimaryKeyRelatedField(queryset=PDV.objects)
    quantity = serializers.DecimalField(min_value=0, **QUANTITY)
    unit_cost = serializers.DecimalField(min_value=0, required=False, **PRICE)


class OptionsField(serializers.DictField):
    """A variant's options, {"talla": "M"}: names trimmed and never blank, so "Talla " and
    "talla" are one option (values are trimmed by their CharField)."""

    child = serializers.CharField(max_length=60)

    def to_internal_value(self, data):
        options = super().to_internal_value(data)
        names = [str(name).strip() for name in options]
        if any(not name or len(name) > 60 for name in names):
            raise serializers.ValidationError(_("Option names have 1 to 60 characters."))
        if len({name.lower() for name in names}) != len(names):
            raise serializers.ValidationError(_("Each option name appears once."))
        return dict(zip(names, options.values(), strict=True))


class VariantSpecSerializer(Serializer):
    sku = serializers.CharField(max_length=64)
    barcode = serializers.CharField(max_length=64, required=False, allow_blank=True)
    options = OptionsField(required=False)
    price = serializers.DecimalField(min_value=0, **PRICE)
    cost = serializers.DecimalField(min_value=0, required=False, **PRICE)
    is_active = serializers.BooleanField(required=False)
    initial_stock = InitialStockSerializer(many=True, required=False)


class ProductCreateSerializer(Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects, required=False, allow_null=True
    )
    brand = serializers.PrimaryKeyRelatedField(
        queryset=Brand.objects, required=False, allow_null=True
    )
    unit = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects, required=False, help_text="Defaults to the unit 'unit'."
    )
    taxes = serializers.PrimaryKeyRelatedField(queryset=Tax.objects, many=True, required=False)
    track_inventory = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(required=False)
    sku = serializers.CharField(
        max_length=64, required=False, help_text="Simple product: its single variant's SKU."
    )
    barcode = serializers.CharField(max_length=64, required=False, allow_blank=True)
    price = serializers.DecimalField(min_value=0, required=False, help_text="Before tax.", **PRICE)
    cost = serializers.DecimalField(min_value=0, required=False, **PRICE)
    initial_stock = InitialStockSerializer(many=True, required=False)
    variants = VariantSpecSerializer(
        many=True, required=False, help_text="A product with options: one entry per variant."
    )


class ProductUpdateSerializer(Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(allow_blank=True)
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects, allow_null=True)
    brand = serializers.PrimaryKeyRelatedField(queryset=Brand.objects, allow_null=True)
    unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects)
    taxes = serializers.PrimaryKeyRelatedField(queryset=Tax.objects, many=True)
    track_inventory = serializers.BooleanField()
    is_active = serializers.BooleanField()


class VariantCreateSerializer(VariantSpecSerializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects)
    options = OptionsField()


class VariantUpdateSerializer(Serializer):
    sku = serializers.CharField(max_length=64)
    barcode = serializers.CharField(max_length=64, allow_blank=True)
    options = OptionsField()
    price = serializers.DecimalField(min_value=0, **PRICE)
    cost = serializers.DecimalField(min_value=0, **PRICE)
    is_active = serializers.BooleanField()


# --- products/ and variants/ -------------------------------------------------------------------


PRICE_LIST_PARAMETER = OpenApiParameter(
    "price_list",
    OpenApiTypes.UUID,
    description="Resolve sale prices on this list (default list when omitted).",
)


class PricedListMixin:
    """Lists and reads priced on `?price_list=` (or the default list), resolved in one query per
    page. Lists are read as rows and rendered by `rows_renderer_class` (same answer as the
    serializer); a single object is serialized from the catalog's model instances."""

    rows_renderer_class: type[CatalogRowsRenderer]

    def price_list(self) -> PriceList | None:
        value = self.request.query_params.get("price_list")
        if not value:
            return default_price_list()
        price_list = PriceList.objects.filter(pk=value).first() if _is_uuid(value) else None
        if price_list is None:
            raise ValidationError({"price_list": ["This price list does not exist."]})
        if not price_list.is_active:  # as a document refuses it: no prices a sale would not take
            raise ValidationError({"price_list": ["This price list is inactive."]})
        return price_list

    def instance_variants(self, instance) -> list[Variant]:
        raise NotImplementedError

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context.setdefault("prices", {})
        context["base_url"] = self.request.build_absolute_uri("/")
        return context

    def priced_response(self, instance):
        prices = variant_prices(self.instance_variants(instance), self.price_list())
        context = {**self.get_serializer_context(), "prices": prices}
        return self.get_serializer_class()(instance, context=context).data

    # Filters on stock levels: which rows such a page holds changes with every sale.
    stock_filters = frozenset({"low_stock", "pdv"})

    def list(self, request, *args, **kwargs):
        if self._page_may_be_kept(request):
            page = catalog_cache.cached_page(request, self.tenant_id, self.role, self.list_page)
        else:
            page = self.list_page()
        StockFiller(self.get_serializer_context()).fill(self.page_variants(page["results"]))
        return Response(page)

    def page_variants(self, results: list[dict]) -> list[dict]:
        """The rendered variants of a page of results."""
        return results

    def _page_may_be_kept(self, request) -> bool:
        """Small pages whose URL holds only what the list reads, and no stock filter, are
        kept: a parameter it ignores (a client's cache-buster) would keep copies of one
        page."""
        if self.paginator.get_limit(request) > catalog_cache.MAX_PAGE_ROWS:
            return False
        read = {
            *(set(self.filterset_class.base_filters) - self.stock_filters),
            api_settings.SEARCH_PARAM,
            api_settings.ORDERING_PARAM,
            self.paginator.limit_query_param,
            self.paginator.offset_query_param,
            "price_list",
        }
        return set(request.query_params) <= read

    def list_page(self):
        """The page's answer as read from the database (`catalog_cache` keeps it)."""
        renderer = self.rows_renderer_class(self.get_serializer_context())
        queryset = self.filter_queryset(self.get_queryset().prefetch_related(None))
        rows = self.paginate_queryset(renderer.rows(queryset))
        return self.get_paginated_response(renderer.render(rows, self.price_list())).data

    def retrieve(self, request, *args, **kwargs):
        return self._respond(self.get_object())

    def _respond(self, instance, status_code=status.HTTP_200_OK):
        """The instance re-read with its catalog relations, priced."""
        instance = self.base_queryset().get(pk=instance.pk)
        return Response(self.priced_response(instance), status=status_code)

    def output(self, instance, *, status_code=status.HTTP_200_OK, serializer_class=None):
        return self._respond(instance, status_code)


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


class ProductFilter(TenantFilterSet):
    category = TenantChoiceFilter(
        "products.Category",
        method="filter_category",
        help_text="Products of this category or of any category under it.",
    )
    low_stock = drf_filters.BooleanFilter(
        method="filter_low_stock",
        help_text="Products with a variant at or under its minimum at some point of sale.",
    )
    pdv = TenantChoiceFilter(
        "pos.PDV", method="filter_pdv", help_text="With low_stock: only at this point of sale."
    )

    class Meta:
        model = Product
        fields = ["category", "brand", "is_active", "track_inventory"]

    def filter_category(self, queryset, name, value):
        return queryset.filter(category_id__in=category_subtree_ids(value))

    def filter_pdv(self, queryset, name, value):
        return queryset  # read by filter_low_stock

    def filter_low_stock(self, queryset, name, value):
        pdv = self.form.cleaned_data.get("pdv")
        pdv = pdv.pk if pdv else None
        low = Exists(
            Variant.objects.filter(product=OuterRef("pk")).filter(
                selectors.low_stock_condition("variant", pdv_id=pdv)
            )
        )
        return queryset.filter(low) if value else queryset.exclude(low)


@extend_schema_view(
    list=extend_schema(tags=["catalog"], parameters=[PRICE_LIST_PARAMETER]),
    retrieve=extend_schema(tags=["catalog"], parameters=[PRICE_LIST_PARAMETER]),
    create=extend_schema(
        request=ProductCreateSerializer, responses={201: ProductSerializer}, tags=["catalog"]
    ),
    update=extend_schema(
        request=ProductUpdateSerializer, responses=ProductSerializer, tags=["catalog"]
    ),
    partial_update=extend_schema(
        request=ProductUpdateSerializer, responses=ProductSerializer, tags=["catalog"]
    ),
    destroy=extend_schema(tags=["catalog"]),
)
class ProductViewSet(PricedListMixin, ServiceModelViewSet):
    """Products with their variants, stock per point of sale and sale price, in one response.

    A simple product is created in one call (`sku`, `price`, `initial_stock`); a product with
    options passes `variants`. Search covers name, SKU and barcode.
    """

    model = Product
    permission_module = "catalog"
    serializer_class = ProductSerializer
    rows_renderer_class = ProductRowsRenderer
    input_serializer_class = ProductCreateSerializer
    update_serializer_class = ProductUpdateSerializer
    filterset_class = ProductFilter
    search_fields = ["name", "variants__sku", "variants__barcode"]
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["name"]

    def base_queryset(self):
        return selectors.product_catalog()

    def instance_variants(self, product):
        return product.variant_list

    def page_variants(self, results):
        return [variant for product in results for variant in product["variants"]]

    def perform_create_service(self, data):
        return services.product_create_with_stock(user=self.request.user, **data)

    def perform_update_service(self, instance, data):
        return product_services.product_update(product=instance, data=data)

    def perform_delete_service(self, instance):
        product_services.product_delete(product=instance)


# --- product images ----------------------------------------------------------------------------


class ProductImageSerializer(ModelSerializer):
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = ProductImage
        fields = ["id", "file", "url", "thumbnail_url", "position", "is_main", "created_at"]
        read_only_fields = fields

    def get_url(self, image) -> str:
        return signed_url(image.file, base_url=self.context["base_url"])

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_thumbnail_url(self, image):
        if image.thumbnail is None:
            return None
        return signed_url(image.thumbnail, base_url=self.context["base_url"])


class ProductImageInputSerializer(Serializer):
    file = serializers.PrimaryKeyRelatedField(
        queryset=FileObject.objects, help_text="A confirmed upload of module `products`."
    )
    is_main = serializers.BooleanField(required=False, default=False)
    position = serializers.IntegerField(min_value=0, required=False)


class ProductImageUpdateSerializer(Serializer):
    is_main = serializers.BooleanField(required=False)
    position = serializers.IntegerField(min_value=0, required=False)


class ProductImageViewSet(TenantViewSet):
    """`products/{id}/images`: attach confirmed uploads, order them, pick the main one, remove.
    Thumbnails are made in the background (Pillow, WebP, 320 px)."""

    model = ProductImage
    permission_module = "catalog"
    serializer_class = ProductImageSerializer
    # A product's few images, whole and in their order: no pages, filters or ordering (the
    # schema said otherwise).
    pagination_class = None
    filter_backends: list = []
    action_permissions = {
        "list": "read",
        "create": "write",
        "partial_update": "write",
        "destroy": "write",
    }

    def get_serializer_context(self):
        return {
            **super().get_serializer_context(),
            "base_url": self.request.build_absolute_uri("/"),
        }

    def product(self) -> Product:
        from django.shortcuts import get_object_or_404

        return get_object_or_404(Product.objects.all(), pk=self.kwargs["product_pk"])

    def base_queryset(self):
        return ProductImage.objects.filter(product=self.product()).select_related(
            "file", "thumbnail"
        )

    @extend_schema(responses=ProductImageSerializer(many=True), tags=["catalog"])
    def list(self, request, product_pk=None):
        images = self.get_queryset()
        return Response(self.get_serializer(images, many=True).data)

    @extend_schema(
        request=ProductImageInputSerializer,
        responses={201: ProductImageSerializer},
        tags=["catalog"],
    )
    def create(self, request, product_pk=None):
        data = self.validated_input(ProductImageInputSerializer)
        image = product_services.product_image_attach(product=self.product(), **data)
        return self.output(
            self.get_queryset().get(pk=image.pk), status_code=status.HTTP_201_CREATED
        )

    @extend_schema(
        request=ProductImageUpdateSerializer, responses=ProductImageSerializer, tags=["catalog"]
    )
    def partial_update(self, request, product_pk=None, pk=None):
        data = self.validated_input(ProductImageUpdateSerializer)
        image = product_services.product_image_update(image=self.get_object(), data=data)
        return self.output(self.get_queryset().get(pk=image.pk))

    @extend_schema(responses={204: None}, tags=["catalog"])
    def destroy(self, request, product_pk=None, pk=None):
        product_services.product_image_remove(image=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class VariantFilter(TenantFilterSet):
    barcode = django_filters.CharFilter(
        field_name="barcode", lookup_expr="exact", help_text="Exact match: the scanner's fast path."
    )
    sku = django_filters.CharFilter(field_name="sku", lookup_expr="iexact")
    low_stock = drf_filters.BooleanFilter(method="filter_low_stock")

    class Meta:
        model = Variant
        fields = ["product", "is_active", "barcode", "sku"]

    def filter_low_stock(self, queryset, name, value):
        low = selectors.low_stock_condition("variant")
        return queryset.filter(low) if value else queryset.exclude(low)


@extend_schema_view(
    list=extend_schema(tags=["catalog"], parameters=[PRICE_LIST_PARAMETER]),
    retrieve=extend_schema(tags=["catalog"], parameters=[PRICE_LIST_PARAMETER]),
    create=extend_schema(
        request=VariantCreateSerializer, responses={201: VariantDetailSerializer}, tags=["catalog"]
    ),
    update=extend_schema(
        request=VariantUpdateSerializer, responses=VariantDetailSerializer, tags=["catalog"]
    ),
    partial_update=extend_schema(
        request=VariantUpdateSerializer, responses=VariantDetailSerializer, tags=["catalog"]
    ),
    destroy=extend_schema(tags=["catalog"]),
)
class VariantViewSet(PricedListMixin, ServiceModelViewSet):
    """Variants with price and stock. `?barcode=` is an exact, indexed lookup for scanners."""

    model = Variant
    permission_module = "catalog"
    serializer_class = VariantDetailSerializer
    rows_renderer_class = CatalogRowsRenderer
    input_serializer_class = VariantCreateSerializer
    update_serializer_class = VariantUpdateSerializer
    filterset_class = VariantFilter
    search_fields = ["sku", "barcode", "product__name"]
    ordering_fields = ["sku", "created_at"]
    ordering = ["sku"]

    def base_queryset(self):
        return selectors.variant_catalog()

    def instance_variants(self, variant):
        return [variant]

    def perform_create_service(self, data):
        return services.variant_create_with_stock(user=self.request.user, **data)

    def perform_update_service(self, instance, data):
        return product_services.variant_update(variant=instance, data=data)

    def perform_delete_service(self, instance):
        product_services.variant_delete(variant=instance)


# --- stock, movements, kardex ------------------------------------------------------------------


class StockSerializer(CostFieldsMixin, ModelSerializer):
    cost_fields = ("average_cost", "value")
    sku = serializers.CharField(source="variant.sku", read_only=True)
    product_name = serializers.CharField(source="variant.product.name", read_only=True)
    pdv_name = serializers.CharField(source="pdv.name", read_only=True)
    value = serializers.SerializerMethodField()
    is_low = serializers.SerializerMethodField()

    class Meta:
        model = Stock
        fields = [
            "id",
            "variant",
            "sku",
            "product_name",
            "pdv",
            "pdv_name",
            "quantity",
            "min_quantity",
            "is_low",
            "average_cost",
            "value",
            "updated_at",
        ]
        read_only_fields = fields

    @money_field
    def get_value(self, stock):

        return str(money(stock.quantity * stock.average_cost))

    def get_is_low(self, stock) -> bool:
        return stock.min_quantity > 0 and stock.quantity <= stock.min_quantity


class StockMinimumSerializer(Serializer):
    min_quantity = serializers.DecimalField(min_value=0, **QUANTITY)


class StockFilter(TenantFilterSet):
    low = drf_filters.BooleanFilter(method="filter_low")
    product = TenantChoiceFilter("products.Product", field_name="variant__product")

    class Meta:
        model = Stock
        fields = ["pdv", "variant", "product"]

    def filter_low(self, queryset, name, value):
        low = selectors.low_stock()
        return queryset.filter(low) if value else queryset.exclude(low)


@extend_schema_view(
    list=extend_schema(tags=["inventory"]),
    retrieve=extend_schema(tags=["inventory"]),
    partial_update=extend_schema(
        request=StockMinimumSerializer, responses=StockSerializer, tags=["inventory"]
    ),
)
class StockViewSet(mixins.UpdateModelMixin, ReadOnlyTenantViewSet):
    """Balances per variant and point of sale. PATCH sets the minimum quantity (low-stock alert);
    quantities change only through documents (adjustments, transfers, invoices, bills)."""

    model = Stock
    permission_module = "stock"
    serializer_class = StockSerializer
    filterset_class = StockFilter
    search_fields = ["variant__sku", "variant__barcode", "variant__product__name"]
    ordering_fields = ["quantity", "updated_at", "variant__sku"]
    ordering = ["variant__sku"]
    http_method_names = ["get", "patch", "head", "options"]

    def base_queryset(self):
        return Stock.objects.select_related("variant", "variant__product", "pdv")

    def partial_update(self, request, *args, **kwargs):
        data = self.validated_input(StockMinimumSerializer)
        return self.output(services.stock_set_minimum(stock=self.get_object(), **data))


class StockMovementSerializer(CostFieldsMixin, ModelSerializer):
    cost_fields = ("unit_cost", "average_cost_after", "value_after")
    sku = serializers.CharField(source="variant.sku", read_only=True)
    pdv_name = serializers.CharField(source="pdv.name", read_only=True)
    user_email = MemberEmailField(source="user.email")
    value_after = serializers.SerializerMethodField()

    class Meta:
        model = StockMovement
        fields = [
            "id",
            "created_at",
            "kind",
            "variant",
            "sku",
            "pdv",
            "pdv_name",
            "quantity",
            "unit_cost",
            "balance_after",
            "average_cost_after",
            "value_after",
            "reference_type",
            "reference_id",
            "reference_number",
            "user_email",
            "note",
        ]
        read_only_fields = fields

    @money_field
    def get_value_after(self, movement):

        return str(money(movement.balance_after * movement.average_cost_after))


class StockMovementFilter(TenantFilterSet):
    created_from = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_to = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = StockMovement
        fields = ["variant", "pdv", "kind", "reference_type", "reference_id"]


@extend_schema_view(
    list=extend_schema(tags=["inventory"]), retrieve=extend_schema(tags=["inventory"])
)
class StockMovementViewSet(ReadOnlyTenantViewSet):
    """The ledger, newest first (cursor pagination: `?cursor=`, `?limit=`)."""

    model = StockMovement
    permission_module = "stock"
    serializer_class = StockMovementSerializer
    filterset_class = StockMovementFilter
    pagination_class = CursorPagination
    filter_backends = [TenantFilterBackend, CursorOrder]  # the cursor orders

    def base_queryset(self):
        return StockMovement.objects.prefetch_related("variant", "pdv", "user")


class KardexEntrySerializer(StockMovementSerializer):
    """A kardex line (its own schema component: the kardex pages by offset, the ledger by
    cursor)."""


class KardexQuerySerializer(Serializer):
    variant = serializers.PrimaryKeyRelatedField(queryset=Variant.objects)
    pdv = serializers.PrimaryKeyRelatedField(queryset=PDV.objects, required=False)


@extend_schema(
    tags=["inventory"],
    parameters=[
        OpenApiParameter("variant", OpenApiTypes.UUID, required=True),
        OpenApiParameter("pdv", OpenApiTypes.UUID),
    ],
    responses=KardexEntrySerializer(many=True),
)
class KardexViewSet(mixins.ListModelMixin, TenantViewSet):
    """The kardex of a variant (at one point of sale, or all): movements oldest first, each with
    the running balance, average cost and value after it."""

    model = StockMovement
    permission_module = "stock"
    serializer_class = KardexEntrySerializer
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return super().get_queryset()
        query = KardexQuerySerializer(
            data=self.request.query_params, context=self.get_serializer_context()
        )
        query.is_valid(raise_exception=True)
        return selectors.kardex(**query.validated_data)


# --- adjustments and transfers -----------------------------------------------------------------


class AdjustmentLineSerializer(CostFieldsMixin, ModelSerializer):
    cost_fields = ("unit_cost",)
    sku = serializers.CharField(source="variant.sku", read_only=True)

    class Meta:
        model = AdjustmentLine
        fields = ["variant", "sku", "counted_quantity", "previous_quantity", "delta", "unit_cost"]
        read_only_fields = fields


class AdjustmentSerializer(ModelSerializer):
    lines = AdjustmentLineSerializer(many=True, read_only=True)
    user_email = MemberEmailField(source="user.email")

    class Meta:
        model = Adjustment
        fields = ["id", "number", "pdv", "reason", "note", "user_email", "lines", "created_at"]
        read_only_fields = fields


class AdjustmentLineInputSerializer(Serializer):
    variant = serializers.PrimaryKeyRelatedField(queryset=Variant.objects)
    counted_quantity = serializers.DecimalField(
        min_value=0, required=False, **QUANTITY, help_text="Set the balance to this count."
    )
    delta = serializers.DecimalField(
        required=False, **QUANTITY, help_text="Or change the balance by this signed quantity."
    )
    unit_cost = serializers.DecimalField(min_value=0, required=False, **PRICE)

    def validate(self, attrs):
        if ("counted_quantity" in attrs) == ("delta" in attrs):
            raise serializers.ValidationError("Give either counted_quantity or delta.")
        if "delta" in attrs and attrs["delta"] == 0:
            raise serializers.ValidationError({"delta": ["A change of 0 changes nothing."]})
        return attrs


class AdjustmentInputSerializer(Serializer):
    pdv = serializers.PrimaryKeyRelatedField(queryset=PDV.objects)
    reason = serializers.ChoiceField(choices=Adjustment.Reason.choices)
    note = serializers.CharField(required=False, allow_blank=True)
    lines = AdjustmentLineInputSerializer(many=True, allow_empty=False)


class DocumentCreateViewSet(mixins.CreateModelMixin, ReadOnlyTenantViewSet):
    create_service = None

    def create(self, request, *args, **kwargs):
        document = type(self).create_service(user=request.user, **self.validated_input())
        document = self.get_queryset().get(pk=document.pk)
        return self.output(document, status_code=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(tags=["inventory"]),
    retrieve=extend_schema(tags=["inventory"]),
    create=extend_schema(
        request=AdjustmentInputSerializer, responses={201: AdjustmentSerializer}, tags=["inventory"]
    ),
)
class AdjustmentViewSet(DocumentCreateViewSet):
    """Stock adjustments: counted quantities or signed changes, with a reason; numbered AJ-…"""

    model = Adjustment
    permission_module = "stock"
    serializer_class = AdjustmentSerializer
    input_serializer_class = AdjustmentInputSerializer
    filterset_fields = ["pdv", "reason"]
    search_fields = ["number", "note"]
    ordering_fields = ["created_at", "number"]
    create_service = services.adjustment_create

    def base_queryset(self):
        return Adjustment.objects.prefetch_related("user", "lines", "lines__variant")


class TransferLineSerializer(CostFieldsMixin, ModelSerializer):
    cost_fields = ("unit_cost",)
    sku = serializers.CharField(source="variant.sku", read_only=True)

    class Meta:
        model = TransferLine
        fields = ["variant", "sku", "quantity", "unit_cost"]
        read_only_fields = fields


class TransferSerializer(ModelSerializer):
    lines = TransferLineSerializer(many=True, read_only=True)
    user_email = MemberEmailField(source="user.email")

    class Meta:
        model = Transfer
        fields = [
            "id",
            "number",
            "origin",
            "destination",
            "note",
            "user_email",
            "lines",
            "created_at",
        ]
        read_only_fields = fields


class TransferLineInputSerializer(Serializer):
    variant = serializers.PrimaryKeyRelatedField(queryset=Variant.objects)
    quantity = serializers.DecimalField(min_value=Decimal("0.001"), **QUANTITY)


class TransferInputSerializer(Serializer):
    origin = serializers.PrimaryKeyRelatedField(queryset=PDV.objects)
    destination = serializers.PrimaryKeyRelatedField(queryset=PDV.objects)
    note = serializers.CharField(required=False, allow_blank=True)
    lines = TransferLineInputSerializer(many=True, allow_empty=False)


@extend_schema_view(
    list=extend_schema(tags=["inventory"]),
    retrieve=extend_schema(tags=["inventory"]),
    create=extend_schema(
        request=TransferInputSerializer, responses={201: TransferSerializer}, tags=["inventory"]
    ),
)
class TransferViewSet(DocumentCreateViewSet):
    """Transfers between points of sale: one numbered document (TR-…), stock out of the origin
    and into the destination at the origin's average cost, atomically."""

    model = Transfer
    permission_module = "stock"
    serializer_class = TransferSerializer
    input_serializer_class = TransferInputSerializer
    filterset_fields = ["origin", "destination"]
    search_fields = ["number", "note"]
    ordering_fields = ["created_at", "number"]
    create_service = services.transfer_create

    def base_queryset(self):
        return Transfer.objects.prefetch_related("user", "lines", "lines__variant")
