"""Sales API: numbering ranges, invoices, payments, credit notes, receivables, shifts, POS sales."""

from __future__ import annotations

from decimal import Decimal

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.filters import SearchFilter
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
    MemberEmailField,
    ModelSerializer,
    OverdueFieldsMixin,
    Serializer,
    VoidSerializer,
    answer_of,
)
from ally360.api.viewsets import (
    AS_OF_PARAMETER,
    AgingReportViewSet,
    ReadOnlyTenantViewSet,
    RowListMixin,
    ServiceModelViewSet,
    TenantViewSet,
    aging_report_schema,
)
from ally360.documents import LineAmounts, PaymentMethod
from ally360.idempotency import PARAMETER as IDEMPOTENCY_KEY
from ally360.idempotency import idempotent
from ally360.money import DRAWER_CASH, MONEY, PRICE, QUANTITY
from contacts.api import IdentificationSearchFilter, contact_ref_rows
from contacts.models import Contact
from files.api import RecordAttachmentViewSet
from inventory.api import CostFieldsMixin
from pos.models import PDV, CashMovement, CashRegister, Seller, Shift
from pos.selectors import shifts_visible_to
from pos.services import shift_open
from products.api import DocumentVariantField
from products.models import PriceList, Variant

from . import selectors, services
from .models import (
    NUMBER_MAX,
    CreditNote,
    CreditNoteLine,
    DocumentType,
    Invoice,
    InvoiceLine,
    NumberingRange,
    Payment,
)

POSITIVE_QUANTITY = Decimal("0.001")

# --- numbering ranges --------------------------------------------------------------------------


class NumberingRangeSerializer(ModelSerializer):
    warnings = serializers.SerializerMethodField()
    remaining = serializers.SerializerMethodField()

    class Meta:
        model = NumberingRange
        fields = [
            "id",
            "pdv",
            "document_type",
            "resolution_number",
            "prefix",
            "range_from",
            "range_to",
            "next_number",
            "remaining",
            "valid_from",
            "valid_to",
            "technical_key",
            "is_active",
            "warnings",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_remaining(self, numbering) -> int:
        return max(0, numbering.range_to - numbering.next_number + 1)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_warnings(self, numbering):
        return services.range_warnings(numbering)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if self.context.get("role") not in ("owner", "admin"):
            data.pop("technical_key", None)  # never shown to sellers (or anyone but managers)
        return data


class NumberingRangeInputSerializer(Serializer):
    pdv = serializers.PrimaryKeyRelatedField(queryset=PDV.objects)
    document_type = serializers.ChoiceField(choices=DocumentType.choices)
    resolution_number = serializers.CharField(max_length=40)
    prefix = serializers.CharField(max_length=4, required=False, allow_blank=True)
    range_from = serializers.IntegerField(min_value=1, max_value=NUMBER_MAX)
    range_to = serializers.IntegerField(min_value=1, max_value=NUMBER_MAX)
    next_number = serializers.IntegerField(
        min_value=1,
        max_value=NUMBER_MAX,
        required=False,
        help_text="Defaults to 'from' (a range already in use elsewhere may start later).",
    )
    valid_from = serializers.DateField()
    valid_to = serializers.DateField()
    technical_key = serializers.CharField(max_length=128, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False, default=True)


class NumberingRangeUpdateSerializer(NumberingRangeInputSerializer):
    pdv = None
    document_type = None
    next_number = None
    # Left out, an update keeps the range's state (a default would reactivate an old range).
    is_active = serializers.BooleanField(required=False)


@extend_schema_view(
    list=extend_schema(tags=["sales"]),
    retrieve=extend_schema(tags=["sales"]),
    create=extend_schema(
        request=NumberingRangeInputSerializer,
        responses={201: NumberingRangeSerializer},
        tags=["sales"],
    ),
    partial_update=extend_schema(
        request=NumberingRangeUpdateSerializer, responses=NumberingRangeSerializer, tags=["sales"]
    ),
    update=extend_schema(
        request=NumberingRangeUpdateSerializer, responses=NumberingRangeSerializer, tags=["sales"]
    ),
    destroy=extend_schema(tags=["sales"]),
)
class NumberingRangeViewSet(ServiceModelViewSet):
    """DIAN numbering authorizations per point of sale and document type (invoice, pos,
    credit_note). A new active range replaces the previous active one."""

    model = NumberingRange
    permission_module = "numbering"
    serializer_class = NumberingRangeSerializer
    input_serializer_class = NumberingRangeInputSerializer
    update_serializer_class = NumberingRangeUpdateSerializer
    filterset_fields = ["pdv", "document_type", "is_active"]
    ordering_fields = ["valid_to", "created_at"]

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "role": self.role}

    def perform_create_service(self, data):
        return services.numbering_range_create(**data)

    def perform_update_service(self, instance, data):
        return services.numbering_range_update(numbering=instance, data=data)

    def perform_delete_service(self, instance):
        services.numbering_range_delete(numbering=instance)


# --- PDFs --------------------------------------------------------------------------------------


class PdfSerializer(Serializer):
    status = serializers.ChoiceField(choices=["ready", "generating"])
    url = serializers.URLField(required=False)
    expires_at = serializers.DateTimeField(required=False)


class SendSerializer(Serializer):
    # 254: what the outbox's column holds (DRF's field takes 320, then the e-mail was lost).
    to = serializers.EmailField(
        max_length=254, required=False, help_text="Defaults to the customer's e-mail."
    )


def pdf_response(request, document):
    """200 with a download URL when the PDF is fresh; 202 while a worker generates it."""
    from files.services import file_download

    pdf = services.document_pdf_request(document=document)
    if pdf is None:
        return Response({"status": "generating"}, status=status.HTTP_202_ACCEPTED)
    url, expires_at = file_download(file=pdf, base_url=request.build_absolute_uri("/"))
    return Response({"status": "ready", "url": url, "expires_at": expires_at})


# --- invoices ----------------------------------------------------------------------------------


class InvoiceLineSerializer(CostFieldsMixin, ModelSerializer):
    cost_fields = ("unit_cost",)

    class Meta:
        model = InvoiceLine
        fields = [
            "id",
            "position",
            "variant",
            "description",
            *LineAmounts.field_names(),
            "unit_cost",
        ]
        read_only_fields = fields


class PaymentSerializer(ModelSerializer):
    invoice_number = serializers.CharField(source="invoice.full_number", read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "invoice",
            "invoice_number",
            "shift",
            "date",
            "method",
            "amount",
            "retefuente",
            "reteiva",
            "reteica",
            "applied",
            "tendered",
            "change",
            "reference",
            "status",
            "void_reason",
            "voided_at",
            "created_at",
        ]
        read_only_fields = fields


class CreditNoteSummarySerializer(ModelSerializer):
    class Meta:
        model = CreditNote
        fields = [
            "id",
            "full_number",
            "concept",
            "issue_date",
            "total",
            "refund_amount",
            "withholding_reversed",
        ]
        read_only_fields = fields


class InvoiceListSerializer(ModelSerializer):
    customer = ContactRefSerializer(read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "id",
            "kind",
            "status",
            "full_number",
            "pdv",
            "customer",
            "seller",
            "shift",
            "issue_date",
            "due_date",
            "subtotal",
            "discount_total",
            "tax_total",
            "total",
            "amount_paid",
            "credited_total",
            "balance",
            "created_at",
        ]
        read_only_fields = fields


class InvoiceSerializer(InvoiceListSerializer):
    lines = InvoiceLineSerializer(many=True, read_only=True)
    payments = PaymentSerializer(many=True, read_only=True)
    credit_notes = CreditNoteSummarySerializer(many=True, read_only=True)

    class Meta(InvoiceListSerializer.Meta):
        fields = [
            *InvoiceListSerializer.Meta.fields,
            "prefix",
            "number",
            "price_list",
            "notes",
            "tax_breakdown",
            "issued_at",
            "voided_at",
            "void_reason",
            "lines",
            "payments",
            "credit_notes",
        ]
        read_only_fields = fields


class InvoiceIssuedSerializer(InvoiceSerializer):
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta(InvoiceSerializer.Meta):
        fields = [*InvoiceSerializer.Meta.fields, "warnings"]
        read_only_fields = fields


class LineInputSerializer(Serializer):
    class Meta:
        list_serializer_class = BulkLookupListSerializer

    variant = DocumentVariantField(queryset=Variant.objects)
    quantity = serializers.DecimalField(min_value=POSITIVE_QUANTITY, **QUANTITY)
    unit_price = serializers.DecimalField(
        min_value=0, required=False, **PRICE, help_text="Before tax; defaults from the price list."
    )
    discount_pct = serializers.DecimalField(
        min_value=0, max_value=100, required=False, max_digits=5, decimal_places=2
    )
    description = serializers.CharField(max_length=255, required=False)


class InvoiceInputSerializer(Serializer):
    pdv = serializers.PrimaryKeyRelatedField(queryset=PDV.objects)
    customer = serializers.PrimaryKeyRelatedField(queryset=Contact.objects)
    seller = serializers.PrimaryKeyRelatedField(
        queryset=Seller.objects, required=False, allow_null=True
    )
    price_list = serializers.PrimaryKeyRelatedField(
        queryset=PriceList.objects, required=False, allow_null=True
    )
    due_date = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="Defaults to the issue date + the customer's term.",
    )
    notes = serializers.CharField(required=False, allow_blank=True)
    lines = LineInputSerializer(many=True, allow_empty=False)


class InvoiceCreateSerializer(InvoiceInputSerializer):
    issue = serializers.BooleanField(
        required=False, default=False, help_text="Issue at once (number, stock out)."
    )


class PaymentInputSerializer(Serializer):
    date = serializers.DateField(required=False)
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    amount = serializers.DecimalField(min_value=0, help_text="Money received.", **MONEY)
    retefuente = serializers.DecimalField(min_value=0, required=False, **MONEY)
    reteiva = serializers.DecimalField(min_value=0, required=False, **MONEY)
    reteica = serializers.DecimalField(min_value=0, required=False, **MONEY)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True)


class PaymentCreateSerializer(PaymentInputSerializer):
    invoice = serializers.PrimaryKeyRelatedField(queryset=Invoice.objects)


class InvoiceFilter(TenantFilterSet):
    issued_from = django_filters.DateFilter(field_name="issue_date", lookup_expr="gte")
    issued_to = django_filters.DateFilter(field_name="issue_date", lookup_expr="lte")
    number = django_filters.CharFilter(field_name="full_number", lookup_expr="iexact")

    class Meta:
        model = Invoice
        fields = ["status", "kind", "customer", "pdv", "seller", "shift"]


def _payment_args(data: dict) -> dict:
    data = dict(data)
    if "date" in data:
        data["date_"] = data.pop("date")
    return data


@extend_schema_view(
    list=extend_schema(tags=["sales"], responses=InvoiceListSerializer(many=True)),
    retrieve=extend_schema(tags=["sales"]),
    create=extend_schema(
        request=InvoiceCreateSerializer,
        responses={201: InvoiceIssuedSerializer},
        parameters=[IDEMPOTENCY_KEY],
        tags=["sales"],
    ),
    partial_update=extend_schema(
        request=InvoiceInputSerializer, responses=InvoiceSerializer, tags=["sales"]
    ),
    update=extend_schema(
        request=InvoiceInputSerializer, responses=InvoiceSerializer, tags=["sales"]
    ),
    destroy=extend_schema(tags=["sales"]),
)
class InvoiceViewSet(RowListMixin, ServiceModelViewSet):
    """Sales invoices and POS sales. Drafts are edited freely; `issue` takes the number and
    moves the stock; issued invoices are only voided or corrected with credit notes."""

    model = Invoice
    permission_module = "invoices"
    serializer_class = InvoiceSerializer
    input_serializer_class = InvoiceInputSerializer
    filterset_class = InvoiceFilter
    search_fields = ["full_number", "customer__name", "customer__id_number"]
    identification_search_field = "customer__id_number"
    pagination_class = CursorPagination
    # The cursor owns the order: it cannot page past rows with no value (a draft's due date).
    filter_backends = [TenantFilterBackend, IdentificationSearchFilter, CursorOrder]
    list_related = {"customer": contact_ref_rows}
    action_permissions = {
        "issue": "write",
        "pdf": "read",
        "send": "write",
        "void": "void",
        "payments": {"GET": "payments.read", "POST": "payments.write"},
    }

    def base_queryset(self):
        if self.action == "list":
            return selectors.invoice_list()
        return selectors.invoice_detail()

    def get_serializer_class(self):
        return InvoiceListSerializer if self.action == "list" else InvoiceSerializer

    def _issued(self, invoice, warnings, status_code=status.HTTP_200_OK):
        invoice = selectors.invoice_detail().get(pk=invoice.pk)
        invoice.warnings = warnings
        return self.output(
            invoice, status_code=status_code, serializer_class=InvoiceIssuedSerializer
        )

    @idempotent
    def create(self, request, *args, **kwargs):
        data = dict(self.validated_input(InvoiceCreateSerializer))
        issue = data.pop("issue")
        invoice = services.invoice_create(user=request.user, role=self.role, **data)
        warnings = []
        if issue:
            invoice, warnings = services.invoice_issue(invoice=invoice, user=request.user)
        return self._issued(invoice, warnings, status.HTTP_201_CREATED)

    def perform_update_service(self, instance, data):
        return services.invoice_update(
            invoice=instance, user=self.request.user, role=self.role, data=data
        )

    def perform_delete_service(self, instance):
        services.invoice_delete(invoice=instance)

    @extend_schema(request=None, responses=InvoiceIssuedSerializer, tags=["sales"])
    @action(detail=True, methods=["post"])
    def issue(self, request, pk=None):
        invoice, warnings = services.invoice_issue(invoice=self.get_object(), user=request.user)
        return self._issued(invoice, warnings)

    @extend_schema(request=VoidSerializer, responses=InvoiceSerializer, tags=["sales"])
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        data = self.validated_input(VoidSerializer)
        invoice = services.invoice_void(invoice=self.get_object(), user=request.user, **data)
        return self.output(selectors.invoice_detail().get(pk=invoice.pk))

    @extend_schema(responses={200: PdfSerializer, 202: PdfSerializer}, tags=["sales"])
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        return pdf_response(request, self.get_object())

    @extend_schema(
        request=SendSerializer,
        responses={
            202: inline_serializer(
                "InvoiceSent", {"status": serializers.CharField(), "to": serializers.EmailField()}
            )
        },
        parameters=[IDEMPOTENCY_KEY],
        tags=["sales"],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def send(self, request, pk=None):
        data = self.validated_input(SendSerializer)
        recipient = services.invoice_send(invoice=self.get_object(), to=data.get("to"))
        return Response({"status": "queued", "to": recipient}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        methods=["GET"], responses=PaymentSerializer(many=True), filters=False, tags=["sales"]
    )
    @extend_schema(
        methods=["POST"],
        request=PaymentInputSerializer,
        responses={201: PaymentSerializer},
        parameters=[IDEMPOTENCY_KEY],
        tags=["sales"],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)  # the whole list
    @idempotent
    def payments(self, request, pk=None):
        invoice = self.get_object()
        if request.method == "GET":
            payments = Payment.objects.filter(invoice=invoice).select_related("invoice")
            return Response(PaymentSerializer(payments, many=True).data)
        data = _payment_args(self.validated_input(PaymentInputSerializer))
        payment = services.payment_create(
            invoice=invoice, user=request.user, role=self.role, **data
        )
        return self.output(
            payment, status_code=status.HTTP_201_CREATED, serializer_class=PaymentSerializer
        )


# --- payments ----------------------------------------------------------------------------------


class PaymentFilter(TenantFilterSet):
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")
    customer = TenantChoiceFilter("contacts.Contact", field_name="invoice__customer")

    class Meta:
        model = Payment
        fields = ["invoice", "method", "status", "shift", "customer"]


@extend_schema_view(
    list=extend_schema(tags=["sales"]),
    retrieve=extend_schema(tags=["sales"]),
    create=extend_schema(
        request=PaymentCreateSerializer,
        responses={201: PaymentSerializer},
        parameters=[IDEMPOTENCY_KEY],
        tags=["sales"],
    ),
)
class PaymentViewSet(mixins.CreateModelMixin, ReadOnlyTenantViewSet):
    """Customer payments. Withholdings the customer practised (ReteFuente, ReteIVA, ReteICA)
    reduce the cash received but count toward the balance."""

    model = Payment
    permission_module = "payments"
    serializer_class = PaymentSerializer
    filterset_class = PaymentFilter
    search_fields = ["reference", "invoice__full_number"]
    # A ledger as long as the invoices: newest first through a cursor, without counting it all.
    pagination_class = CursorPagination
    filter_backends = [TenantFilterBackend, SearchFilter, CursorOrder]  # the cursor orders
    action_permissions = {"void": "void"}

    def base_queryset(self):
        return selectors.payment_list()

    @idempotent
    def create(self, request, *args, **kwargs):
        data = _payment_args(self.validated_input(PaymentCreateSerializer))
        payment = services.payment_create(user=request.user, role=self.role, **data)
        return self.output(payment, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=VoidSerializer, responses=PaymentSerializer, tags=["sales"])
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        data = self.validated_input(VoidSerializer)
        return self.output(
            services.payment_void(payment=self.get_object(), user=request.user, **data)
        )


# --- credit notes ------------------------------------------------------------------------------


class CreditNoteLineSerializer(ModelSerializer):
    class Meta:
        model = CreditNoteLine
        fields = [
            "id",
            "invoice_line",
            "description",
            *LineAmounts.field_names(),
        ]
        read_only_fields = fields


class CreditNoteSerializer(ModelSerializer):
    invoice_number = serializers.CharField(source="invoice.full_number", read_only=True)
    # Blank when nothing was refunded (declared: a read-only model field loses `allow_blank`, and
    # the schema then leaves "" out of the values).
    refund_method = serializers.ChoiceField(
        choices=PaymentMethod.choices, allow_blank=True, read_only=True
    )
    lines = CreditNoteLineSerializer(many=True, read_only=True)
    warnings = serializers.SerializerMethodField()

    class Meta:
        model = CreditNote
        fields = [
            "id",
            "invoice",
            "invoice_number",
            "concept",
            "reason",
            "prefix",
            "number",
            "full_number",
            "issue_date",
            "return_stock",
            "subtotal",
            "discount_total",
            "tax_total",
            "total",
            "tax_breakdown",
            "refund_amount",
            "refund_method",
            "withholding_reversed",
            "shift",
            "lines",
            "warnings",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_warnings(self, note):
        return getattr(note, "warnings", [])


class CreditNoteLineInputSerializer(Serializer):
    class Meta:
        list_serializer_class = BulkLookupListSerializer

    invoice_line = BulkRelatedField(queryset=InvoiceLine.objects)
    quantity = serializers.DecimalField(min_value=POSITIVE_QUANTITY, **QUANTITY)
    unit_price = serializers.DecimalField(
        min_value=0,
        required=False,
        **PRICE,
        help_text="Defaults to the invoiced price; lower it for a price adjustment or discount.",
    )


class CreditNoteInputSerializer(Serializer):
    invoice = serializers.PrimaryKeyRelatedField(queryset=Invoice.objects)
    concept = serializers.ChoiceField(choices=CreditNote.Concept.choices)
    reason = serializers.CharField(max_length=255)
    lines = CreditNoteLineInputSerializer(many=True, required=False)
    return_stock = serializers.BooleanField(required=False, default=False)
    refund_shift = serializers.PrimaryKeyRelatedField(
        queryset=Shift.objects,
        required=False,
        help_text="A cash refund comes out of this open shift's drawer (default: your open shift).",
    )
    refund_method = serializers.ChoiceField(
        choices=PaymentMethod.choices,
        required=False,
        help_text="When the invoice was paid: how the refund is given (default cash).",
    )


@extend_schema_view(
    list=extend_schema(tags=["sales"]),
    retrieve=extend_schema(tags=["sales"]),
    create=extend_schema(
        request=CreditNoteInputSerializer,
        responses={201: CreditNoteSerializer},
        parameters=[IDEMPOTENCY_KEY],
        tags=["sales"],
    ),
)
class CreditNoteViewSet(mixins.CreateModelMixin, ReadOnlyTenantViewSet):
    """Credit notes with the DIAN concepts (1 partial return, 2 annulment, 3 discount, 4 price
    adjustment, 5 other), their own numbering range and optional stock return."""

    model = CreditNote
    permission_module = "credit_notes"
    serializer_class = CreditNoteSerializer
    filterset_fields = ["invoice", "concept"]
    search_fields = ["full_number", "invoice__full_number", "reason"]
    ordering_fields = ["created_at", "number"]

    action_permissions = {"pdf": "read"}

    def base_queryset(self):
        return CreditNote.objects.prefetch_related("invoice", "lines")

    @extend_schema(responses={200: PdfSerializer, 202: PdfSerializer}, tags=["sales"])
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        return pdf_response(request, self.get_object())

    @idempotent
    def create(self, request, *args, **kwargs):
        data = self.validated_input(CreditNoteInputSerializer)
        note = services.credit_note_create(user=request.user, role=self.role, **data)

        warnings = note.warnings
        note = self.get_queryset().get(pk=note.pk)
        note.warnings = warnings
        return self.output(note, status_code=status.HTTP_201_CREATED)


# --- receivables -------------------------------------------------------------------------------


class ReceivableTotalsSerializer(AgingBalanceSerializer):
    invoices = serializers.IntegerField()


class CustomerReceivableSerializer(AgingBalanceSerializer):
    customer_id = serializers.UUIDField()
    customer__name = serializers.CharField()
    customer__id_number = serializers.CharField()
    invoices = serializers.IntegerField()


class OpenInvoiceSerializer(OverdueFieldsMixin, InvoiceListSerializer):
    class Meta(InvoiceListSerializer.Meta):
        fields = [*InvoiceListSerializer.Meta.fields, "balance_as_of", "days_overdue", "bucket"]
        read_only_fields = fields


@extend_schema(tags=["sales"], parameters=[AS_OF_PARAMETER])
@extend_schema_view(
    list=extend_schema(
        responses=aging_report_schema(
            "Receivables", ReceivableTotalsSerializer, CustomerReceivableSerializer
        )
    )
)
class ReceivableViewSet(AgingReportViewSet):
    """Accounts receivable: balance per customer in aging buckets (current, 1–30, 31–60, 61–90,
    over 90 days past due), and the open invoices behind it."""

    model = Invoice
    permission_module = "receivables"
    serializer_class = OpenInvoiceSerializer
    party_field = "customer"
    party_queryset = Contact.objects
    row_serializer_class = CustomerReceivableSerializer
    totals_serializer_class = ReceivableTotalsSerializer

    def report(self, as_of):
        return selectors.receivables(as_of=as_of)

    def open_documents(self, as_of):
        return selectors.invoices_open_on(as_of)

    @extend_schema(
        responses=OpenInvoiceSerializer(many=True),
        parameters=[OpenApiParameter("customer", str), OpenApiParameter("overdue", bool)],
    )
    @action(detail=False, methods=["get"])
    def invoices(self, request):
        return self.open_documents_page(request)


# --- shifts and POS sales ----------------------------------------------------------------------


class CashMovementSerializer(ModelSerializer):
    class Meta:
        model = CashMovement
        fields = ["id", "kind", "amount", "reason", "user", "created_at"]
        read_only_fields = fields


class CashMovementInputSerializer(Serializer):
    kind = serializers.ChoiceField(choices=CashMovement.Kind.choices)
    amount = serializers.DecimalField(min_value=Decimal("0.01"), **DRAWER_CASH)
    reason = serializers.CharField(max_length=255)


class ShiftSerializer(ModelSerializer):
    pdv = serializers.UUIDField(source="register.pdv_id", read_only=True)
    cashier = MemberEmailField(source="user.email")

    class Meta:
        model = Shift
        fields = [
            "id",
            "register",
            "pdv",
            "user",
            "cashier",
            "status",
            "opening_cash",
            "opened_at",
            "closed_at",
            "closed_by",
            "expected",
            "counted",
            "expected_cash",
            "counted_cash",
            "difference",
            "notes",
        ]
        read_only_fields = fields


class ShiftOpenSerializer(Serializer):
    register = serializers.PrimaryKeyRelatedField(queryset=CashRegister.objects)
    opening_cash = serializers.DecimalField(min_value=0, **DRAWER_CASH)
    notes = serializers.CharField(required=False, allow_blank=True)


class ShiftCloseSerializer(Serializer):
    counted = serializers.DictField(
        child=serializers.DecimalField(**MONEY),
        help_text='Counted amount per method, at least cash: {"cash": "152000", "credit_card": '
        '"48000"}. Cash is at least 0; another method\'s closing total may be below 0 (refunds '
        "beyond what it took).",
    )
    notes = serializers.CharField(required=False, allow_blank=True)

    def validate_counted(self, value):
        unknown = set(value) - set(PaymentMethod.values)
        if unknown:
            raise serializers.ValidationError(f"Unknown methods: {', '.join(sorted(unknown))}.")
        return value


class ShiftFilter(TenantFilterSet):
    class Meta:
        model = Shift
        fields = ["register", "user", "status"]


@extend_schema_view(
    list=extend_schema(tags=["pos"]),
    retrieve=extend_schema(tags=["pos"]),
    create=extend_schema(
        request=ShiftOpenSerializer, responses={201: ShiftSerializer}, tags=["pos"]
    ),
)
class ShiftViewSet(mixins.CreateModelMixin, ReadOnlyTenantViewSet):
    """Cash-register shifts: open with an opening float, cash in/out with a reason, close with
    the counted amounts; expected = opening + cash sales − cash refunds ± movements. Sellers see
    and work their own shifts; owners and admins any."""

    model = Shift
    permission_module = "shifts"
    serializer_class = ShiftSerializer
    filterset_class = ShiftFilter
    ordering_fields = ["opened_at", "closed_at"]
    action_permissions = {
        "close": "write",
        "report": "read",
        "cash_movements": {"GET": "read", "POST": "write"},
    }

    def base_queryset(self):
        return shifts_visible_to(self.request.user, self.role).prefetch_related("register", "user")

    def create(self, request, *args, **kwargs):
        data = self.validated_input(ShiftOpenSerializer)
        shift = shift_open(user=request.user, role=self.role, **data)
        return self.output(shift, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        request=ShiftCloseSerializer,
        responses=inline_serializer(
            "ShiftClosed", {"shift": ShiftSerializer(), "report": serializers.DictField()}
        ),
        tags=["pos"],
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        data = self.validated_input(ShiftCloseSerializer)
        shift = services.shift_close(
            shift=self.get_object(), user=request.user, role=self.role, **data
        )
        shown = ShiftSerializer(shift, context=self.get_serializer_context()).data
        return Response({"shift": shown, "report": selectors.shift_report(shift)})

    @extend_schema(responses=OpenApiTypes.OBJECT, tags=["pos"])
    @action(detail=True, methods=["get"])
    def report(self, request, pk=None):
        return Response(selectors.shift_report(self.get_object()))

    @extend_schema(
        methods=["GET"], responses=CashMovementSerializer(many=True), filters=False, tags=["pos"]
    )
    @extend_schema(
        methods=["POST"],
        request=CashMovementInputSerializer,
        responses={201: CashMovementSerializer},
        tags=["pos"],
    )
    @action(detail=True, methods=["get", "post"], url_path="cash-movements", pagination_class=None)
    def cash_movements(self, request, pk=None):
        shift = self.get_object()
        if request.method == "GET":
            return Response(CashMovementSerializer(shift.cash_movements.all(), many=True).data)
        data = self.validated_input(CashMovementInputSerializer)
        movement = services.drawer_cash_movement(
            shift=shift, user=request.user, role=self.role, **data
        )
        return self.output(
            movement, status_code=status.HTTP_201_CREATED, serializer_class=CashMovementSerializer
        )


class TenderSerializer(Serializer):
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    amount = serializers.DecimalField(min_value=Decimal("0.01"), **MONEY)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True)


class PosSaleInputSerializer(Serializer):
    customer = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects,
        required=False,
        allow_null=True,
        help_text="Defaults to the final consumer.",
    )
    seller = serializers.PrimaryKeyRelatedField(
        queryset=Seller.objects, required=False, allow_null=True
    )
    price_list = serializers.PrimaryKeyRelatedField(
        queryset=PriceList.objects, required=False, allow_null=True
    )
    notes = serializers.CharField(required=False, allow_blank=True)
    lines = LineInputSerializer(many=True, allow_empty=False)
    tenders = TenderSerializer(many=True, help_text="None only for a sale of total 0.")


class PosSaleSerializer(Serializer):
    invoice = InvoiceSerializer()
    change = serializers.DecimalField(**MONEY)
    warnings = serializers.ListField(child=serializers.CharField())


@extend_schema(tags=["pos"])
class PosSaleViewSet(TenantViewSet):
    """POST pos/sales/: one request creates, issues and pays a POS sale in your open shift."""

    model = Invoice
    permission_module = "pos_sales"
    serializer_class = PosSaleSerializer

    @extend_schema(
        request=PosSaleInputSerializer,
        responses={201: PosSaleSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def create(self, request):
        data = self.validated_input(PosSaleInputSerializer, kept=True)
        # Inside the request's transaction, which rolls back as a whole on any error.
        sale = services.pos_sale_create.within(user=request.user, role=self.role, **data)
        invoice = sale.invoice
        # The sale holds every row the answer shows: serialize it as written, like a read of
        # invoices/{id} would (a test compares the two), without reading it back.
        invoice._prefetched_objects_cache = {
            "lines": sale.lines,
            "payments": sale.payments,
            "credit_notes": [],
        }
        context = self.get_serializer_context()
        return Response(
            {
                "invoice": answer_of(InvoiceSerializer, invoice, context),
                "change": str(sale.change),
                "warnings": sale.warnings,
            },
            status=status.HTTP_201_CREATED,
        )


class InvoiceAttachmentViewSet(RecordAttachmentViewSet):
    """A sales invoice's files (the customer's purchase order, a signed delivery note)."""

    record_model = Invoice
    file_module = "invoices"
    permission_module = "invoices"

    def check_record(self, record) -> None:
        services.invoice_files_check(invoice=record, user=self.request.user, role=self.role)
