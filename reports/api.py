"""Reports API: sales per day and the period's taxes (owner, admin, accountant)."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from ally360.api.serializers import Serializer
from ally360.api.viewsets import TenantViewSet
from ally360.documents import PaymentMethod
from ally360.money import MONEY
from pos.models import PDV
from products.models import PERCENT, Tax

from . import selectors

MAX_DAYS = 366  # a year (and a leap day): what a return or a yearly review covers


class PeriodQuerySerializer(Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()

    def validate(self, attrs):
        days = (attrs["date_to"] - attrs["date_from"]).days + 1
        if days < 1:
            message = _("The period ends before it starts.")
            raise serializers.ValidationError({"date_to": [message]})
        if days > MAX_DAYS:
            message = _("A report covers at most %(days)s days.") % {"days": MAX_DAYS}
            raise serializers.ValidationError({"date_to": [message]})
        return attrs


class SalesQuerySerializer(PeriodQuerySerializer):
    pdv = serializers.PrimaryKeyRelatedField(
        queryset=PDV.objects, required=False, pk_field=serializers.UUIDField()
    )


def _money(**kwargs):
    return serializers.DecimalField(**MONEY, **kwargs)


class SalesFiguresSerializer(Serializer):
    invoices = serializers.IntegerField()
    invoiced_base = _money(help_text="Before tax, after discounts.")
    invoiced_tax = _money()
    invoiced_total = _money()
    credit_notes = serializers.IntegerField()
    credited_base = _money()
    credited_tax = _money()
    credited_total = _money()
    net_base = _money()
    net_tax = _money()
    net_total = _money()


class SalesDaySerializer(SalesFiguresSerializer):
    date = serializers.DateField()


class MethodSerializer(Serializer):
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    payments = serializers.IntegerField()
    received = _money()
    refunded = _money(help_text="Paid back on credit notes with this method.")
    net = _money()


class SalesReportSerializer(Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    pdv = serializers.UUIDField(allow_null=True)
    days = SalesDaySerializer(many=True, help_text="Days with any document, oldest first.")
    totals = SalesFiguresSerializer()
    methods = MethodSerializer(many=True)


class TaxRowSerializer(Serializer):
    kind = serializers.ChoiceField(choices=Tax.Kind.choices)
    treatment = serializers.ChoiceField(choices=Tax.Treatment.choices)
    rate = serializers.DecimalField(**PERCENT)
    base = _money(help_text="The period's sales (or purchases).")
    tax = _money()
    returns_base = _money(help_text="Their returns: credit notes (or debit notes).")
    returns_tax = _money()
    net_base = _money()
    net_tax = _money()


class TaxReportSerializer(Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    sales = TaxRowSerializer(many=True, help_text="Invoices, and credit notes as returns.")
    purchases = TaxRowSerializer(many=True, help_text="Received bills, and debit notes as returns.")
    iva_generated = _money(help_text="On sales, plus the IVA of purchases returned.")
    iva_deductible = _money(
        help_text="On purchases, plus the IVA of sales returned (whether a purchase's IVA may "
        "be deducted is the accountant's call)."
    )
    iva_balance = _money(help_text="Generated less deductible: positive is owed.")
    inc_generated = _money()


class ProductSoldSerializer(Serializer):
    variant = serializers.UUIDField()
    sku = serializers.CharField()
    product = serializers.UUIDField()
    name = serializers.CharField()
    options = serializers.DictField(child=serializers.CharField())
    quantity = serializers.DecimalField(
        max_digits=18, decimal_places=3, help_text="Sold less returned."
    )
    sales = _money(help_text="Before tax, less credit notes.")
    cost = _money(help_text="At each sale's cost, less the goods back in stock.")
    margin = _money()
    margin_pct = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)


class ProductTotalsSerializer(Serializer):
    sales = _money()
    cost = _money()
    margin = _money()
    margin_pct = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)


class ProductsReportSerializer(Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    pdv = serializers.UUIDField(allow_null=True)
    totals = ProductTotalsSerializer()
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ProductSoldSerializer(many=True)


class SellerFiguresSerializer(Serializer):
    invoices = serializers.IntegerField()
    credit_notes = serializers.IntegerField()
    sales = _money(help_text="The invoices' sales before tax, after discounts.")
    credited = _money(
        help_text="The period's credit notes, whatever their invoice's date, against its seller."
    )
    net = _money()
    commission = _money(help_text="The net at the seller's rate.")


class SellerRowSerializer(SellerFiguresSerializer):
    seller = serializers.UUIDField(allow_null=True, help_text="null: invoices naming no seller.")
    name = serializers.CharField()
    commission_pct = serializers.DecimalField(**PERCENT)


class SellersReportSerializer(Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    pdv = serializers.UUIDField(allow_null=True)
    sellers = SellerRowSerializer(many=True, help_text="By net sales; no seller last.")
    totals = SellerFiguresSerializer()


PERIOD_PARAMETERS = [
    OpenApiParameter("date_from", str, required=True, description="YYYY-MM-DD"),
    OpenApiParameter("date_to", str, required=True, description="YYYY-MM-DD"),
]
PDV_PARAMETER = OpenApiParameter("pdv", str, description="Only this point of sale's documents.")


@extend_schema(tags=["reports"])
class ReportViewSet(TenantViewSet):
    """Period reports. Documents count on their issue date; drafts and voided documents never
    count; a return lowers the figures of its own date."""

    permission_module = "reports"
    action_permissions = {"sales": "read", "taxes": "read", "products": "read", "sellers": "read"}
    filter_backends: list = []

    def _query(self, serializer_class) -> dict:
        return self.validated_input(serializer_class, data=self.request.query_params)

    def _sales_query(self) -> tuple[dict, dict]:
        """The period and the point of sale asked for: the selector's arguments, and the
        answer's heading."""
        query = self._query(SalesQuerySerializer)
        pdv_id = query["pdv"].pk if query.get("pdv") else None
        period = {"date_from": query["date_from"], "date_to": query["date_to"]}
        return {**period, "pdv_id": pdv_id}, {**period, "pdv": pdv_id}

    @extend_schema(parameters=[*PERIOD_PARAMETERS, PDV_PARAMETER], responses=SalesReportSerializer)
    @action(detail=False, methods=["get"])
    def sales(self, request):
        """Sales per day: invoices, credit notes and what is left (net), and the money received
        per method."""
        arguments, heading = self._sales_query()
        report = selectors.sales_summary(**arguments)
        return Response(SalesReportSerializer({**heading, **report}).data)

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=TaxReportSerializer)
    @action(detail=False, methods=["get"])
    def taxes(self, request):
        """IVA and INC of the period per kind, treatment and rate, sales and purchases, and the
        IVA balance: what a tax return is filled from."""
        query = self._query(PeriodQuerySerializer)
        report = selectors.tax_summary(date_from=query["date_from"], date_to=query["date_to"])
        data = {"date_from": query["date_from"], "date_to": query["date_to"], **report}
        return Response(TaxReportSerializer(data).data)

    @extend_schema(
        parameters=[
            *PERIOD_PARAMETERS,
            PDV_PARAMETER,
            OpenApiParameter("limit", int),
            OpenApiParameter("offset", int),
        ],
        responses=ProductsReportSerializer,
    )
    @action(detail=False, methods=["get"])
    def products(self, request):
        """What sold and what it earned, per variant, best sellers first: quantity sold less
        returned, net sales before tax, the cost of the goods that left and the margin."""
        arguments, heading = self._sales_query()
        rows, totals = selectors.products_sold(**arguments)
        page = self.paginate_queryset(rows)
        response = self.get_paginated_response(ProductSoldSerializer(page, many=True).data)
        response.data = {
            **heading,
            "totals": ProductTotalsSerializer(totals).data,
            **response.data,
        }
        return response

    @extend_schema(
        parameters=[*PERIOD_PARAMETERS, PDV_PARAMETER], responses=SellersReportSerializer
    )
    @action(detail=False, methods=["get"])
    def sellers(self, request):
        """Sales per seller and their commission: the period's invoices before tax less the
        period's credit notes (on their own date, against their invoice's seller), and the net
        at each seller's rate."""
        arguments, heading = self._sales_query()
        rows, totals = selectors.sales_by_seller(**arguments)
        data = {**heading, "sellers": rows, "totals": totals}
        return Response(SellersReportSerializer(data).data)
