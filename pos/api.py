from drf_spectacular.utils import extend_schema_field, extend_schema_view
from rest_framework import serializers

from accounts.models import User
from ally360.api.serializers import ModelSerializer, Serializer
from ally360.api.viewsets import ServiceModelViewSet, service_crud_schema

from . import services
from .models import PDV, CashRegister, Seller


class PDVSerializer(ModelSerializer):
    allowed_users = serializers.SerializerMethodField(
        help_text="Users allowed to sell here; empty means every member. Owners and admins "
        "are allowed everywhere."
    )

    class Meta:
        model = PDV
        fields = [
            "id",
            "name",
            "code",
            "address",
            "city",
            "phone",
            "is_main",
            "is_active",
            "allowed_users",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_allowed_users(self, pdv):
        return [str(access.user_id) for access in pdv.access.all()]


class PDVInputSerializer(Serializer):
    name = serializers.CharField(max_length=120)
    code = serializers.CharField(max_length=20)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    is_main = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(required=False)
    allowed_users = serializers.PrimaryKeyRelatedField(
        queryset=User.objects, many=True, required=False
    )


@extend_schema_view(**service_crud_schema(PDVInputSerializer, PDVSerializer, tags=["pos"]))
class PDVViewSet(ServiceModelViewSet):
    """Points of sale. Exactly one is main; one holding stock or documents is deactivated
    (`is_active: false`), not deleted (409). `allowed_users` restricts who may open shifts here."""

    model = PDV
    permission_module = "pdvs"
    serializer_class = PDVSerializer
    input_serializer_class = PDVInputSerializer
    filterset_fields = ["is_active", "is_main", "city"]
    search_fields = ["name", "code", "city"]
    ordering_fields = ["name", "code", "created_at"]

    def base_queryset(self):
        return PDV.objects.prefetch_related("access")

    def perform_create_service(self, data):
        return self.base_queryset().get(pk=services.pdv_create(**data).pk)

    def perform_update_service(self, instance, data):
        return self.base_queryset().get(pk=services.pdv_update(pdv=instance, data=data).pk)

    def perform_delete_service(self, instance):
        services.pdv_delete(pdv=instance)


class SellerSerializer(ModelSerializer):
    email = serializers.CharField(read_only=True)

    class Meta:
        model = Seller
        fields = [
            "id",
            "name",
            "identification",
            "email",
            "phone",
            "commission_pct",
            "user",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class SellerInputSerializer(Serializer):
    name = serializers.CharField(max_length=150)
    identification = serializers.CharField(max_length=20, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    commission_pct = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False
    )
    user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects, required=False, allow_null=True, help_text="A member of the company."
    )
    is_active = serializers.BooleanField(required=False)


@extend_schema_view(**service_crud_schema(SellerInputSerializer, SellerSerializer, tags=["pos"]))
class SellerViewSet(ServiceModelViewSet):
    model = Seller
    permission_module = "sellers"
    serializer_class = SellerSerializer
    input_serializer_class = SellerInputSerializer
    filterset_fields = ["is_active", "user"]
    search_fields = ["name", "identification", "email"]
    ordering_fields = ["name", "created_at"]

    def perform_create_service(self, data):
        return services.seller_create(**data)

    def perform_update_service(self, instance, data):
        return services.seller_update(seller=instance, data=data)

    def perform_delete_service(self, instance):
        services.seller_delete(seller=instance)


class CashRegisterSerializer(ModelSerializer):
    class Meta:
        model = CashRegister
        fields = ["id", "pdv", "name", "is_active", "created_at", "updated_at"]
        read_only_fields = fields


class CashRegisterInputSerializer(Serializer):
    pdv = serializers.PrimaryKeyRelatedField(queryset=PDV.objects)
    name = serializers.CharField(max_length=80)
    is_active = serializers.BooleanField(required=False)


class CashRegisterUpdateSerializer(Serializer):
    name = serializers.CharField(max_length=80)
    is_active = serializers.BooleanField()


@extend_schema_view(
    **service_crud_schema(
        CashRegisterInputSerializer,
        CashRegisterSerializer,
        tags=["pos"],
        update_serializer=CashRegisterUpdateSerializer,
    )
)
class CashRegisterViewSet(ServiceModelViewSet):
    """Cash registers of a point of sale; shifts are opened on them (`shifts/`)."""

    model = CashRegister
    permission_module = "cash_registers"
    serializer_class = CashRegisterSerializer
    input_serializer_class = CashRegisterInputSerializer
    update_serializer_class = CashRegisterUpdateSerializer
    filterset_fields = ["pdv", "is_active"]
    search_fields = ["name"]

    def perform_create_service(self, data):
        return services.cash_register_create(**data)

    def perform_update_service(self, instance, data):
        return services.cash_register_update(register=instance, data=data)

    def perform_delete_service(self, instance):
        services.cash_register_delete(register=instance)
