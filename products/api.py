"""Catalog API: categories, brands, taxes, units and price lists.

`products/` and `variants/` show stock and take initial stock, so they live in the inventory app
(the app above this one), as DESIGN.md prescribes for lower-app endpoints showing upper data.
"""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from ally360.api.serializers import BulkRelatedField, ModelSerializer, Serializer
from ally360.api.viewsets import UUID_PATTERN, ServiceModelViewSet, service_crud_schema

from . import services
from .models import Brand, Category, PriceList, PriceListItem, Tax, Unit, Variant
from .selectors import document_variants, document_variants_by_id

# --- categories ------------------------------------------------------------------------------


class CategorySerializer(ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "parent", "is_active", "created_at", "updated_at"]
        read_only_fields = fields


class CategoryInputSerializer(Serializer):
    name = serializers.CharField(max_length=120)
    parent = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects, required=False, allow_null=True
    )
    is_active = serializers.BooleanField(required=False)


@extend_schema_view(
    **service_crud_schema(CategoryInputSerializer, CategorySerializer, tags=["catalog"])
)
class CategoryViewSet(ServiceModelViewSet):
    """A tree: `parent` is another category. `?parent=<id>` lists children; `?parent__isnull=true` the top."""

    model = Category
    permission_module = "catalog"
    serializer_class = CategorySerializer
    input_serializer_class = CategoryInputSerializer
    filterset_fields = {"parent": ["exact", "isnull"], "is_active": ["exact"]}
    search_fields = ["name"]
    ordering_fields = ["name", "created_at"]

    def perform_create_service(self, data):
        return services.category_create(**data)

    def perform_update_service(self, instance, data):
        return services.category_update(category=instance, data=data)

    def perform_delete_service(self, instance):
        services.category_delete(category=instance)


# --- brands ----------------------------------------------------------------------------------


class BrandSerializer(ModelSerializer):
    class Meta:
        model = Brand
        fields = ["id", "name", "is_active", "created_at", "updated_at"]
        read_only_fields = fields


class BrandInputSerializer(Serializer):
    name = serializers.CharField(max_length=120)
    is_active = serializers.BooleanField(required=False)


@extend_schema_view(**service_crud_schema(BrandInputSerializer, BrandSerializer, tags=["catalog"]))
class BrandViewSet(ServiceModelViewSet):
    model = Brand
    permission_module = "catalog"
    serializer_class = BrandSerializer
    input_serializer_class = BrandInputSerializer
    filterset_fields = ["is_active"]
    search_fields = ["name"]
    ordering_fields = ["name", "created_at"]

    def perform_create_service(self, data):
        return services.brand_create(**data)

    def perform_update_service(self, instance, data):
        return services.brand_update(brand=instance, data=data)

    def perform_delete_service(self, instance):
        services.brand_delete(brand=instance)


# --- taxes -----------------------------------------------------------------------------------


class TaxSerializer(ModelSerializer):
    class Meta:
        model = Tax
        fields = [
            "id",
            "name",
            "kind",
            "treatment",
            "rate",
            "dian_code",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class TaxInputSerializer(Serializer):
    name = serializers.CharField(max_length=60)
    kind = serializers.ChoiceField(choices=Tax.Kind.choices)
    treatment = serializers.ChoiceField(choices=Tax.Treatment.choices, required=False)
    rate = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100)
    dian_code = serializers.CharField(max_length=4, required=False)
    is_active = serializers.BooleanField(required=False)


@extend_schema_view(**service_crud_schema(TaxInputSerializer, TaxSerializer, tags=["catalog"]))
class TaxViewSet(ServiceModelViewSet):
    """Taxes are data: each company starts with IVA 19 %, IVA 5 %, IVA exento, IVA excluido and
    INC 8 %. Documents snapshot the rates per line."""

    model = Tax
    permission_module = "catalog"
    serializer_class = TaxSerializer
    input_serializer_class = TaxInputSerializer
    filterset_fields = ["kind", "treatment", "is_active"]
    search_fields = ["name"]
    ordering_fields = ["name", "rate"]

    def perform_create_service(self, data):
        return services.tax_create(**data)

    def perform_update_service(self, instance, data):
        return services.tax_update(tax=instance, data=data)

    def perform_delete_service(self, instance):
        services.tax_delete(tax=instance)


# --- units -----------------------------------------------------------------------------------


class UnitSerializer(ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "code", "name", "dian_code", "allows_decimals", "created_at", "updated_at"]
        read_only_fields = fields


class UnitInputSerializer(Serializer):
    code = serializers.CharField(max_length=20)
    name = serializers.CharField(max_length=60)
    dian_code = serializers.CharField(max_length=5, required=False, allow_blank=True)
    allows_decimals = serializers.BooleanField(required=False)


@extend_schema_view(**service_crud_schema(UnitInputSerializer, UnitSerializer, tags=["catalog"]))
class UnitViewSet(ServiceModelViewSet):
    model = Unit
    permission_module = "catalog"
    serializer_class = UnitSerializer
    input_serializer_class = UnitInputSerializer
    search_fields = ["code", "name"]
    ordering_fields = ["name", "code"]

    def perform_create_service(self, data):
        return services.unit_create(**data)

    def perform_update_service(self, instance, data):
        return services.unit_update(unit=instance, data=data)

    def perform_delete_service(self, instance):
        services.unit_delete(unit=instance)


# --- price lists -----------------------------------------------------------------------------


class PriceListSerializer(ModelSerializer):
    class Meta:
        model = PriceList
        fields = [
            "id",
            "name",
            "kind",
            "percentage",
            "is_default",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PriceListInputSerializer(Serializer):
    name = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=PriceList.Kind.choices, required=False)
    percentage = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        required=False,
        help_text="Percentage off the base price.",
    )
    is_default = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(required=False)


class PriceListItemSerializer(ModelSerializer):
    sku = serializers.CharField(source="variant.sku", read_only=True)

    class Meta:
        model = PriceListItem
        fields = ["id", "variant", "sku", "price", "updated_at"]
        read_only_fields = fields


class PriceListItemInputSerializer(Serializer):
    variant = serializers.PrimaryKeyRelatedField(queryset=Variant.objects)
    price = serializers.DecimalField(max_digits=18, decimal_places=6, min_value=0)


@extend_schema_view(
    **service_crud_schema(PriceListInputSerializer, PriceListSerializer, tags=["catalog"])
)
class PriceListViewSet(ServiceModelViewSet):
    """Price lists: a percentage off the base price, or fixed prices per variant
    (`items`; a variant without an item keeps its base price). One list is the default."""

    model = PriceList
    permission_module = "catalog"
    serializer_class = PriceListSerializer
    input_serializer_class = PriceListInputSerializer
    filterset_fields = ["kind", "is_active", "is_default"]
    search_fields = ["name"]
    ordering_fields = ["name"]
    action_permissions = {"items": {"GET": "read", "POST": "write"}, "item_remove": "write"}

    def perform_create_service(self, data):
        return services.price_list_create(**data)

    def perform_update_service(self, instance, data):
        return services.price_list_update(price_list=instance, data=data)

    def perform_delete_service(self, instance):
        services.price_list_delete(price_list=instance)

    @extend_schema(
        methods=["GET"],
        responses=PriceListItemSerializer(many=True),
        filters=False,  # the items of one list, whole: the lists' own filters do not apply
        tags=["catalog"],
    )
    @extend_schema(
        methods=["POST"],
        request=PriceListItemInputSerializer,
        responses={201: PriceListItemSerializer},
        tags=["catalog"],
    )
    @action(detail=True, methods=["get", "post"])
    def items(self, request, pk=None):
        price_list = self.get_object()
        if request.method == "POST":
            data = self.validated_input(PriceListItemInputSerializer)
            item = services.price_list_item_set(price_list=price_list, **data)
            return self.output(
                item, status_code=status.HTTP_201_CREATED, serializer_class=PriceListItemSerializer
            )
        items = PriceListItem.objects.filter(price_list=price_list).select_related("variant")
        page = self.paginate_queryset(items.order_by("variant__sku"))
        data = PriceListItemSerializer(page, many=True).data
        return self.get_paginated_response(data)

    @extend_schema(responses={204: None}, tags=["catalog"])
    @action(
        detail=True,
        methods=["delete"],
        url_path=f"items/(?P<item_id>{UUID_PATTERN})",
        url_name="item-remove",
    )
    def item_remove(self, request, pk=None, item_id=None):
        price_list = self.get_object()
        item = PriceListItem.objects.filter(price_list=price_list, pk=item_id).first()
        if item is None:
            from rest_framework.exceptions import NotFound

            raise NotFound()
        services.price_list_item_remove(item=item)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DocumentVariantField(BulkRelatedField):
    """A document line's variant, looked up with its product, unit and taxes
    (`products.selectors.document_variants`), so the service pricing the line reads nothing
    again."""

    def get_queryset(self):
        return document_variants()

    def objects_by_pk(self, keys: set[str]) -> dict:
        return {str(variant.pk): variant for variant in document_variants_by_id(keys)}
