import django_filters
from drf_spectacular.utils import extend_schema_view
from rest_framework import serializers
from rest_framework.filters import SearchFilter

from ally360.api.filters import TenantFilterBackend, TenantFilterSet, TotalOrderingFilter
from ally360.api.serializers import ContactRefSerializer, ModelSerializer, RowRenderer, Serializer
from ally360.api.viewsets import ServiceModelViewSet, service_crud_schema
from files.api import RecordAttachmentViewSet
from pos.models import Seller
from products.models import PriceList

from . import services
from .models import Contact, FiscalResponsibility, IdType, PersonType, TaxRegime, identification
from .selectors import identification_numbers


class AddressSerializer(Serializer):
    label = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    line = serializers.CharField(max_length=255)
    city = serializers.CharField(max_length=100)
    department = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    dane_code = serializers.RegexField(
        r"^\d{5}$",
        required=False,
        allow_blank=True,
        default="",
        help_text="DANE municipality code, e.g. 11001 (Bogotá).",
    )
    country = serializers.RegexField(
        r"^[A-Z]{2}$", required=False, default="CO", help_text="ISO 3166-1 alpha-2."
    )
    postal_code = serializers.CharField(max_length=10, required=False, allow_blank=True, default="")


class ContactSerializer(ModelSerializer):
    addresses = AddressSerializer(many=True, read_only=True)
    phones = serializers.ListField(child=serializers.CharField(), read_only=True)
    fiscal_responsibilities = serializers.ListField(child=serializers.CharField(), read_only=True)
    identification = serializers.CharField(read_only=True)
    # May be blank: plain strings in the schema (no e-mail format, "" is a valid regime).
    email = serializers.CharField(read_only=True)
    tax_regime = serializers.ChoiceField(
        choices=TaxRegime.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Contact
        fields = [
            "id",
            "is_customer",
            "is_supplier",
            "person_type",
            "id_type",
            "id_number",
            "check_digit",
            "identification",
            "name",
            "trade_name",
            "email",
            "phones",
            "fiscal_responsibilities",
            "tax_regime",
            "addresses",
            "city",
            "payment_term_days",
            "credit_limit",
            "default_seller",
            "default_price_list",
            "notes",
            "is_final_consumer",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ContactInputSerializer(Serializer):
    is_customer = serializers.BooleanField(required=False, default=True)
    is_supplier = serializers.BooleanField(required=False, default=False)
    person_type = serializers.ChoiceField(
        choices=PersonType.choices, required=False, default=PersonType.NATURAL
    )
    id_type = serializers.ChoiceField(
        choices=IdType.choices,
        help_text="DIAN code: 13 CC, 31 NIT, 22 CE, 12 TI, 41 PP, "
        "47 PEP, 42 DIE, 50 NIT de otro país, 11 RC, "
        "21 TE, 91 NUIP.",
    )
    id_number = serializers.CharField(
        max_length=25, help_text="For a NIT, optionally with -DV: 800197268-4."
    )
    check_digit = serializers.CharField(
        max_length=1,
        required=False,
        allow_blank=True,
        help_text="NIT only: verified when given, else computed.",
    )
    name = serializers.CharField(max_length=200)
    trade_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    phones = serializers.ListField(
        child=serializers.CharField(max_length=30), required=False, max_length=5
    )
    fiscal_responsibilities = serializers.ListField(
        child=serializers.ChoiceField(choices=FiscalResponsibility.choices), required=False
    )
    tax_regime = serializers.ChoiceField(
        choices=TaxRegime.choices, required=False, allow_blank=True
    )
    addresses = AddressSerializer(many=True, required=False)
    payment_term_days = serializers.IntegerField(min_value=0, max_value=365, required=False)
    credit_limit = serializers.DecimalField(
        max_digits=18, decimal_places=2, min_value=0, required=False
    )
    default_seller = serializers.PrimaryKeyRelatedField(
        queryset=Seller.objects, required=False, allow_null=True
    )
    default_price_list = serializers.PrimaryKeyRelatedField(
        queryset=PriceList.objects, required=False, allow_null=True
    )
    notes = serializers.CharField(required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class ContactFilter(TenantFilterSet):
    city = django_filters.CharFilter(field_name="city", lookup_expr="iexact")

    class Meta:
        model = Contact
        fields = ["is_customer", "is_supplier", "is_active", "id_type", "person_type", "city"]


class IdentificationSearchFilter(SearchFilter):
    """DRF's `?search=`, and also a contact's identification number typed as documents print
    it — with its check digit, dots, dashes or leading zeros (`800.197.268-4`) — found whole,
    as the pages find it: the view's `identification_search_field` names the number's column
    (`id_number`, `customer__id_number`). DRF's search alone compared it in part with the
    clean stored number, and missed it."""

    def filter_queryset(self, request, queryset, view):
        searched = super().filter_queryset(request, queryset, view)
        text = " ".join(self.get_search_terms(request))
        field = getattr(view, "identification_search_field", None)
        if field is None or not text:
            return searched
        return searched | queryset.filter(**{f"{field}__in": identification_numbers(text)})


@extend_schema_view(
    **service_crud_schema(ContactInputSerializer, ContactSerializer, tags=["contacts"])
)
class ContactViewSet(ServiceModelViewSet):
    """Customers and suppliers. A contact used by any document is not deleted: DELETE answers
    409 and the contact can be deactivated (`is_active: false`). The final consumer
    (222222222222) can be neither deleted nor deactivated."""

    model = Contact
    permission_module = "contacts"
    serializer_class = ContactSerializer
    input_serializer_class = ContactInputSerializer
    filterset_class = ContactFilter
    search_fields = ["name", "trade_name", "id_number", "email"]
    identification_search_field = "id_number"
    filter_backends = [TenantFilterBackend, IdentificationSearchFilter, TotalOrderingFilter]
    ordering_fields = ["name", "id_number", "created_at", "city"]

    def perform_create_service(self, data):
        return services.contact_create(role=self.role, **data)

    def perform_update_service(self, instance, data):
        return services.contact_update(contact=instance, role=self.role, data=data)

    def perform_delete_service(self, instance):
        services.contact_delete(contact=instance)


def contact_ref_rows() -> RowRenderer:
    """A document list's customers or suppliers, as `ContactRefSerializer` renders them, read
    and rendered as rows: no model instance per contact (half the cost on an invoice page)."""
    return RowRenderer(
        ContactRefSerializer(),
        model=Contact,
        reads=("id_number", "check_digit"),
        handlers={
            "identification": lambda row: identification(row["id_number"], row["check_digit"])
        },
    )


class ContactAttachmentViewSet(RecordAttachmentViewSet):
    """A customer's or supplier's files (the RUT, a chamber of commerce certificate)."""

    record_model = Contact
    file_module = "contacts"
    permission_module = "contacts"
