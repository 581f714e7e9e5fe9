"""Purchases API: bills, supplier payments with withholdings, debit notes, payables."""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from ally360.api.filters import (
    CursorOrder,
    TenantChoiceFilter,
    TenantFilterBackend,
    TenantFilterSet,
)
from ally360.api.pagination import CursorPagination
from ally360.api.serializers import (
    AgingBalanceSerializer,
    BulkLookupListSerializer,
    BulkRelatedField,
    ContactRefSerializer,
    ModelSerializer,
    OverdueFieldsMixin,
    Serializer,
    VoidSerializer,
)
from ally360.api.viewsets import (
    AS_OF_PARAMETER,
    AgingReportViewSet,
    ReadOnlyTenantViewSet,
    RowListMixin,
    ServiceModelViewSet,
    aging_report_schema,
    service_crud_schema,
)
from ally360.documents import LineAmounts, PaymentMethod
from ally360.idempotency import PARAMETER as IDEMPOTENCY_KEY
from ally360.idempotency import idempotent
from ally360.money import MONEY, PRICE, QUANTITY
from contacts.api import IdentificationSearchFilter, contact_ref_rows
from contacts.models import Contact
from files.api import RecordAttachmentViewSet
from pos.models import PDV
from products.api import DocumentVariantField
from products.models import Tax, Variant

from . import selectors, services
from .models import (
    Bill,
    BillLine,
    DebitNote,
    DebitNoteLine,
    PaymentAllocation,
    SupplierPayment,
    Withholding,
    WithholdingConcept,
)

POSITIVE_QUANTITY = Decimal("0.001")


# --- bills -------------------------------------------------------------------------------------


class BillLineSerializer(ModelSerializer):
    class Meta:
        model = BillLine
        fields = [
            "id",
            "position",
            "variant",
            "description",
            *LineAmounts.field_names(price_field="unit_cost"),
        ]
        read_only_fields = fields


class AllocationSerializer(ModelSerializer):
    payment_number = serializers.CharField(source="payment.number", read_only=True)
    payment_status = serializers.CharField(source="payment.status", read_only=True)
    date = serializers.DateField(source="payment.date", read_only=True)

    class Meta:
        model = PaymentAllocation
        fields = ["id", "payment", "payment_number", "payment_status", "date", "bill", "amount"]
        read_only_fields = fields


class BillListSerializer(ModelSerializer):
    supplier = ContactRefSerializer(read_only=True)

    class Meta:
        model = Bill
        fields = [
            "id",
            "status",
            "number",
            "supplier_invoice_number",
            "supplier",
            "pdv",
            "issue_date",
            "due_date",
            "subtotal",
            "discount_total",
            "tax_total",
            "total",
            "amount_paid",
            "debited_total",
            "balance",
            "created_at",
        ]
        read_only_fields = fields


class DebitNoteSummarySerializer(ModelSerializer):
    class Meta:
        model = DebitNote
        fields = ["id", "number", "issue_date", "total", "refund_amount"]
        read_only_fields = fields


class BillSerializer(BillListSerializer):
    lines = BillLineSerializer(many=True, read_only=True)
    allocations = AllocationSerializer(many=True, read_only=True)
    debit_notes = DebitNoteSummarySerializer(many=True, read_only=True)

    class Meta(BillListSerializer.Meta):
        fields = [
            *BillListSerializer.Meta.fields,
            "notes",
            "tax_breakdown",
            "issued_at",
            "voided_at",
            "void_reason",
            "lines",
            "allocations",
            "debit_notes",
        ]
        read_only_fields = fields


class BillLineInputSerializer(Serializer):
    class Meta:
        list_serializer_class = BulkLookupListSerializer

    variant = DocumentVariantField(queryset=Variant.objects)
    quantity = serializers.DecimalField(min_value=POSITIVE_QUANTITY, **QUANTITY)
    unit_cost = serializers.DecimalField(min_value=0, help_text="Before tax.", **PRICE)
    discount_pct = serializers.DecimalField(
        min_value=0, max_value=100, required=False, max_digits=5, decimal_places=2
    )
    taxes = serializers.PrimaryKeyRelatedField(
        queryset=Tax.objects,
        many=True,
        required=False,
        help_text="Defaults to the product's taxes.",
    )
    description = serializers.CharField(max_length=255, required=False)


class BillInputSerializer(Serializer):
    supplier = serializers.PrimaryKeyRelatedField(queryset=Contact.objects)
    pdv = serializers.PrimaryKeyRelatedField(
        queryset=PDV.objects, help_text="Where the goods are received."
    )
    supplier_invoice_number = serializers.CharField(max_length=40)
    issue_date = serializers.DateField(required=False, help_text="The supplier's invoice date.")
    due_date = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="Defaults to the issue date + the supplier's term.",
    )
    notes = serializers.CharField(required=False, allow_blank=True)
    lines = BillLineInputSerializer(many=True, allow_empty=False)


class BillCreateSerializer(BillInputSerializer):
    issue = serializers.BooleanField(
        required=False, default=False, help_text="Receive at once (number, stock in)."
    )


class BillFilter(TenantFilterSet):
    issued_from = django_filters.DateFilter(field_name="issue_date", lookup_expr="gte")
    issued_to = django_filters.DateFilter(field_name="issue_date", lookup_expr="lte")

    class Meta:
        model = Bill
        fields = ["status", "supplier", "pdv", "supplier_invoice_number", "number"]


@extend_schema_view(
    list=extend_schema(tags=["purchases"], responses=BillListSerializer(many=True)),
    retrieve=extend_schema(tags=["purchases"]),
    create=extend_schema(
        request=BillCreateSerializer,
        responses={201: BillSerializer},
        parameters=[IDEMPOTENCY_KEY],
        tags=["purchases"],
    ),
    update=extend_schema(request=BillInputSerializer, responses=BillSerializer, tags=["purchases"]),
    partial_update=extend_schema(
        request=BillInputSerializer, responses=BillSerializer, tags=["purchases"]
    ),
    destroy=extend_schema(tags=["purchases"]),
)
class BillViewSet(RowListMixin, ServiceModelViewSet):
    """Supplier bills. `issue` receives the goods into the PDV's stock and updates the
    weighted-average cost; `void` (no payments) takes them out again."""

    model = Bill
    permission_module = "bills"
    serializer_class = BillSerializer
    input_serializer_class = BillInputSerializer
    filterset_class = BillFilter
    search_fields = ["number", "supplier_invoice_number", "supplier__name", "supplier__id_number"]
    identification_search_field = "supplier__id_number"
    pagination_class = CursorPagination
    # The cursor owns the order: it cannot page past rows with no value.
    filter_backends = [TenantFilterBackend, IdentificationSearchFilter, CursorOrder]
    list_related = {"supplier": contact_ref_rows}
    action_permissions = {"issue": "write", "void": "void"}

    def base_queryset(self):
        return selectors.bill_list() if self.action == "list" else selectors.bill_detail()

    def get_serializer_class(self):
        return BillListSerializer if self.action == "list" else BillSerializer

    def _detail(self, bill, status_code=status.HTTP_200_OK):
        return self.output(selectors.bill_detail().get(pk=bill.pk), status_code=status_code)

    @idempotent
    def create(self, request, *args, **kwargs):
        data = dict(self.validated_input(BillCreateSerializer))
        issue = data.pop("issue")
        bill = services.bill_create(user=request.user, **data)
        if issue:
            bill = services.bill_issue(bill=bill, user=request.user)
        return self._detail(bill, status.HTTP_201_CREATED)

    def perform_update_service(self, instance, data):
        return selectors.bill_detail().get(pk=services.bill_update(bill=instance, data=data).pk)

    def perform_delete_service(self, instance):
        services.bill_delete(bill=instance)

    @extend_schema(request=None, responses=BillSerializer, tags=["purchases"])
    @action(detail=True, methods=["post"])
    def issue(self, request, pk=None):
        return self._detail(services.bill_issue(bill=self.get_object(), user=request.user))

    @extend_schema(request=VoidSerializer, responses=BillSerializer, tags=["purchases"])
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        data = self.validated_input(VoidSerializer)
        return self._detail(services.bill_void(bill=self.get_object(), user=request.user, **data))


# --- withholding concepts ----------------------------------------------------------------------


class WithholdingConceptSerializer(ModelSerializer):
    class Meta:
        model = WithholdingConcept
        fields = [
            "id",
            "kind",
            "name",
            "rate",
            "min_base_uvt",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class WithholdingConceptInputSerializer(Serializer):
    kind = serializers.ChoiceField(choices=WithholdingConcept.Kind.choices)
    name = serializers.CharField(max_length=120)
    rate = serializers.DecimalField(
        max_digits=7,
        decimal_places=4,
        min_value=0,
        max_value=100,
        help_text="Percent (ReteFuente, ReteIVA); per mil (ReteICA).",
    )
    min_base_uvt = serializers.DecimalField(
        max_digits=9, decimal_places=2, min_value=0, required=False
    )
    is_active = serializers.BooleanField(required=False)


class WithholdingConceptUpdateSerializer(WithholdingConceptInputSerializer):
    kind = None


@extend_schema_view(
    **service_crud_schema(
        WithholdingConceptInputSerializer,
        WithholdingConceptSerializer,
        tags=["purchases"],
        update_serializer=WithholdingConceptUpdateSerializer,
    )
)
class WithholdingConceptViewSet(ServiceModelViewSet):
    """Withholding rates as data (seeded per company; adjust to your municipality and year)."""

    model = WithholdingConcept
    permission_module = "supplier_payments"
    serializer_class = WithholdingConceptSerializer
    input_serializer_class = WithholdingConceptInputSerializer
    update_serializer_class = WithholdingConceptUpdateSerializer
    filterset_fields = ["kind", "is_active"]
    search_fields = ["name"]

    def perform_create_service(self, data):
        return services.withholding_concept_create(**data)

    def perform_update_service(self, instance, data):
        return services.withholding_concept_update(concept=instance, data=data)

    def perform_delete_service(self, instance):
        services.withholding_concept_delete(concept=instance)


# --- supplier payments -------------------------------------------------------------------------


class WithholdingSerializer(ModelSerializer):
    class Meta:
        model = Withholding
        fields = ["id", "bill", "concept", "kind", "name", "base", "rate", "amount"]
        read_only_fields = fields


class SupplierPaymentSerializer(ModelSerializer):
    # Read from the lists `selectors.supplier_payments()` prefetches.
    allocations = AllocationSerializer(source="allocation_list", many=True, read_only=True)
    withholdings = WithholdingSerializer(source="withholding_list", many=True, read_only=True)

    class Meta:
        model = SupplierPayment
        fields = [
            "id",
            "number",
            "supplier",
            "date",
            "method",
            "reference",
            "applied_total",
            "withholding_total",
            "amount",
            "status",
            "void_reason",
            "voided_at",
            "allocations",
            "withholdings",
            "created_at",
        ]
        read_only_fields = fields


class AllocationInputSerializer(Serializer):
    bill = serializers.PrimaryKeyRelatedField(queryset=Bill.objects)
    amount = serializers.DecimalField(
        min_value=Decimal("0.01"),
        **MONEY,
        help_text="Applied to the bill's balance, withholdings included.",
    )


class WithholdingInputSerializer(Serializer):
    bill = serializers.PrimaryKeyRelatedField(queryset=Bill.objects)
    concept = serializers.PrimaryKeyRelatedField(queryset=WithholdingConcept.objects)
    base = serializers.DecimalField(min_value=0, **MONEY)
    amount = serializers.DecimalField(min_value=0, **MONEY)


class SupplierPaymentInputSerializer(Serializer):
    supplier = serializers.PrimaryKeyRelatedField(queryset=Contact.objects)
    date = serializers.DateField(required=False)
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True)
    allocations = AllocationInputSerializer(many=True, allow_empty=False)
    withholdings = WithholdingInputSerializer(many=True, required=False)


class SuggestInputSerializer(Serializer):
    bills = serializers.PrimaryKeyRelatedField(queryset=Bill.objects, many=True, allow_empty=False)
    concepts = serializers.PrimaryKeyRelatedField(
        queryset=WithholdingConcept.objects, many=True, help_text="At most one concept per kind."
    )


class SuggestionSerializer(Serializer):
    bill = serializers.UUIDField(source="bill.pk")
    concept = serializers.UUIDField(source="concept.pk")
    kind = serializers.CharField()
    name = serializers.CharField()
    base = serializers.DecimalField(**MONEY)
    rate = serializers.DecimalField(max_digits=7, decimal_places=4)
    amount = serializers.DecimalField(**MONEY)


class SupplierPaymentFilter(TenantFilterSet):
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")
    # Through the allocations, without DISTINCT: a payment has at most one allocation per bill
    # (unique), so it cannot repeat. (A DISTINCT on every list made the page 46 ms.)
    bill = TenantChoiceFilter("bills.Bill", field_name="allocations__bill")

    class Meta:
        model = SupplierPayment
        fields = ["supplier", "method", "status", "bill"]


@extend_schema_view(
    list=extend_schema(tags=["purchases"]),
    retrieve=extend_schema(tags=["purchases"]),
    create=extend_schema(
        request=SupplierPaymentInputSerializer,
        responses={201: SupplierPaymentSerializer},
        parameters=[IDEMPOTENCY_KEY],
        tags=["purchases"],
    ),
)
class SupplierPaymentViewSet(mixins.CreateModelMixin, ReadOnlyTenantViewSet):
    """Payments to suppliers, allocated over one or more bills, with the withholdings practised
    (ReteFuente by concept, ReteIVA, ReteICA): they reduce the money paid and count toward each
    bill's balance. `suggest` proposes them from the configured rates; `certificate` sums them
    per supplier and year."""

    model = SupplierPayment
    permission_module = "supplier_payments"
    serializer_class = SupplierPaymentSerializer
    filterset_class = SupplierPaymentFilter
    search_fields = ["number", "reference", "supplier__name"]
    ordering_fields = ["date", "created_at"]
    action_permissions = {"void": "void", "suggest": "read", "certificate": "read"}

    def base_queryset(self):
        return selectors.supplier_payments()

    @idempotent
    def create(self, request, *args, **kwargs):
        data = dict(self.validated_input(SupplierPaymentInputSerializer))
        if "date" in data:
            data["date_"] = data.pop("date")
        payment = services.supplier_payment_create(user=request.user, **data)
        return self.output(
            self.get_queryset().get(pk=payment.pk), status_code=status.HTTP_201_CREATED
        )

    @extend_schema(request=VoidSerializer, responses=SupplierPaymentSerializer, tags=["purchases"])
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        data = self.validated_input(VoidSerializer)
        payment = services.supplier_payment_void(
            payment=self.get_object(), user=request.user, **data
        )
        return self.output(self.get_queryset().get(pk=payment.pk))

    @extend_schema(
        request=SuggestInputSerializer,
        responses=SuggestionSerializer(many=True),
        filters=False,  # a POST with a body: the list's filters are not its parameters
        tags=["purchases"],
    )
    @action(detail=False, methods=["post"], pagination_class=None)  # the whole list
    def suggest(self, request):

        data = self.validated_input(SuggestInputSerializer)
        suggestions = services.withholdings_suggest(bills=data["bills"], concepts=data["concepts"])
        return Response(SuggestionSerializer(suggestions, many=True).data)

    @extend_schema(
        tags=["purchases"],
        parameters=[
            OpenApiParameter("supplier", OpenApiTypes.UUID, required=True),
            OpenApiParameter("year", int),
        ],
        responses=inline_serializer(
            "WithholdingCertificate",
            {
                "supplier": ContactRefSerializer(),
                "year": serializers.IntegerField(),
                "withholdings": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    @action(detail=False, methods=["get"])
    def certificate(self, request):
        query = inline_serializer(
            "CertificateQuery",
            {
                "supplier": serializers.PrimaryKeyRelatedField(queryset=Contact.objects),
                "year": serializers.IntegerField(min_value=2000, max_value=2100, required=False),
            },
        )
        query = query.__class__(data=request.query_params, context=self.get_serializer_context())
        query.is_valid(raise_exception=True)
        supplier = query.validated_data["supplier"]
        year = query.validated_data.get("year", timezone.localdate().year)
        return Response(
            {
                "supplier": ContactRefSerializer(supplier).data,
                "year": year,
                "withholdings": selectors.withholding_certificate(supplier=supplier, year=year),
            }
        )


# --- debit notes -------------------------------------------------------------------------------


class DebitNoteLineSerializer(ModelSerializer):
    class Meta:
        model = DebitNoteLine
        fields = [
            "id",
            "bill_line",
            "description",
            *LineAmounts.field_names(price_field="unit_cost"),
        ]
        read_only_fields = fields


class DebitNoteSerializer(ModelSerializer):
    bill_number = serializers.CharField(source="bill.number", read_only=True)
    lines = DebitNoteLineSerializer(many=True, read_only=True)

    class Meta:
        model = DebitNote
        fields = [
            "id",
            "bill",
            "bill_number",
            "number",
            "reason",
            "issue_date",
            "subtotal",
            "discount_total",
            "tax_total",
            "total",
            "tax_breakdown",
            "refund_amount",
            "withholding_reversed",
            "lines",
            "created_at",
        ]
        read_only_fields = fields


class DebitNoteLineInputSerializer(Serializer):
    class Meta:
        list_serializer_class = BulkLookupListSerializer

    bill_line = BulkRelatedField(queryset=BillLine.objects)
    quantity = serializers.DecimalField(min_value=POSITIVE_QUANTITY, **QUANTITY)


class DebitNoteInputSerializer(Serializer):
    bill = serializers.PrimaryKeyRelatedField(queryset=Bill.objects)
    reason = serializers.CharField(max_length=255)
    issue_date = serializers.DateField(required=False)
    lines = DebitNoteLineInputSerializer(many=True, allow_empty=False)


@extend_schema_view(
    list=extend_schema(tags=["purchases"]),
    retrieve=extend_schema(tags=["purchases"]),
    create=extend_schema(
        request=DebitNoteInputSerializer,
        responses={201: DebitNoteSerializer},
        parameters=[IDEMPOTENCY_KEY],
        tags=["purchases"],
    ),
)
class DebitNoteViewSet(mixins.CreateModelMixin, ReadOnlyTenantViewSet):
    """Returns to suppliers: quantities up to what was received minus earlier returns; the goods
    leave stock and the bill's balance goes down."""

    model = DebitNote
    permission_module = "bills"
    serializer_class = DebitNoteSerializer
    filterset_fields = ["bill"]
    search_fields = ["number", "reason", "bill__number"]
    ordering_fields = ["created_at"]

    def base_queryset(self):
        return DebitNote.objects.prefetch_related("bill", "lines")

    @idempotent
    def create(self, request, *args, **kwargs):
        note = services.debit_note_create(
            user=request.user, **self.validated_input(DebitNoteInputSerializer)
        )
        return self.output(self.get_queryset().get(pk=note.pk), status_code=status.HTTP_201_CREATED)


# --- payables ----------------------------------------------------------------------------------


class PayableTotalsSerializer(AgingBalanceSerializer):
    bills = serializers.IntegerField()


class SupplierPayableSerializer(AgingBalanceSerializer):
    supplier_id = serializers.UUIDField()
    supplier__name = serializers.CharField()
    supplier__id_number = serializers.CharField()
    bills = serializers.IntegerField()


class OpenBillSerializer(OverdueFieldsMixin, BillListSerializer):
    class Meta(BillListSerializer.Meta):
        fields = [*BillListSerializer.Meta.fields, "balance_as_of", "days_overdue", "bucket"]
        read_only_fields = fields


@extend_schema(tags=["purchases"], parameters=[AS_OF_PARAMETER])
@extend_schema_view(
    list=extend_schema(
        responses=aging_report_schema(
            "Payables", PayableTotalsSerializer, SupplierPayableSerializer
        )
    )
)
class PayableViewSet(AgingReportViewSet):
    """Accounts payable: balance per supplier in the same aging buckets as receivables."""

    model = Bill
    permission_module = "payables"
    serializer_class = OpenBillSerializer
    party_field = "supplier"
    party_queryset = Contact.objects
    row_serializer_class = SupplierPayableSerializer
    totals_serializer_class = PayableTotalsSerializer

    def report(self, as_of):
        return selectors.payables(as_of=as_of)

    def open_documents(self, as_of):
        return selectors.bills_open_on(as_of)

    @extend_schema(
        responses=OpenBillSerializer(many=True),
        parameters=[
            OpenApiParameter("supplier", OpenApiTypes.UUID),
            OpenApiParameter("overdue", bool),
        ],
    )
    @action(detail=False, methods=["get"])
    def bills(self, request):
        return self.open_documents_page(request)


class BillAttachmentViewSet(RecordAttachmentViewSet):
    """A supplier bill's files (the supplier's invoice as PDF or XML, its scan)."""

    record_model = Bill
    file_module = "bills"
    permission_module = "bills"
