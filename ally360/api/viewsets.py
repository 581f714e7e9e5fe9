"""Base viewsets: tenant-scoped querysets, role permissions, UUID lookups, service-backed writes."""

from __future__ import annotations

import functools

from django.core.exceptions import ImproperlyConfigured
from drf_spectacular.drainage import set_override
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from ally360.roles import can_see_costs, has_permission

from .filters import BOOLEAN_WORDS
from .permissions import RolePermission, current_role
from .serializers import RowRenderer, as_of_date, validated_by_kept

UUID_PATTERN = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"


class TenantViewSet(viewsets.GenericViewSet):
    """A viewset over a TenantModel.

    `get_queryset()` starts from the scoped manager, so another tenant's id in the URL is a 404;
    related fields declared with `queryset=Model.objects` are resolved per request through the
    same manager, so another tenant's id in a payload is "does not exist" (400).
    """

    model = None
    permission_module: str = ""
    permission_classes = [IsAuthenticated, RolePermission]
    lookup_value_regex = UUID_PATTERN

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            # Schema generation only needs the model; no tenant exists then.
            return self.model._base_manager.none()
        return self.base_queryset()

    def base_queryset(self):
        return self.model.objects.all()

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["show_costs"] = can_see_costs(self.role) if self.request else False
        context["show_members"] = (
            has_permission(self.role, "members", "read") if self.request else False
        )
        return context

    @property
    def role(self) -> str | None:
        return current_role(self.request)

    @property
    def tenant_id(self):
        return self.request.auth.company_id

    def validated_input(
        self, serializer_class=None, *, partial=False, data=None, kept=False
    ) -> dict:
        """The request's input, validated. `kept`: by a serializer kept between requests
        (`validated_by_kept`, for the busiest input; a whole input, never a partial one)."""
        serializer_class = serializer_class or self.input_serializer_class
        if kept:
            if partial:
                raise ValueError("A kept serializer validates whole inputs only.")
            data = self.request.data if data is None else data
            return validated_by_kept(serializer_class, data, self.get_serializer_context())
        serializer = serializer_class(
            data=self.request.data if data is None else data,
            partial=partial,
            context=self.get_serializer_context(),
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def output(self, instance, *, status_code=status.HTTP_200_OK, serializer_class=None):
        serializer_class = serializer_class or self.get_serializer_class()
        data = serializer_class(instance, context=self.get_serializer_context()).data
        return Response(data, status=status_code)


class ReadOnlyTenantViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    pass


class RowListMixin:
    """`list` read as `values()` rows and rendered by `RowRenderer` (same answer as the list
    serializer over model instances, at a fraction of the cost), for lists of documents.
    `list_related` maps a nested foreign key to a function giving the RowRenderer that reads
    and renders its page of objects as rows."""

    list_related: dict = {}

    def list(self, request, *args, **kwargs):
        renderer = _list_renderer(type(self), self.get_serializer_class())
        rows = self.paginate_queryset(self.filter_queryset(renderer.rows(self.get_queryset())))
        return self.get_paginated_response(renderer.render(rows))


@functools.cache
def _list_renderer(view_class, serializer_class) -> RowRenderer:
    """One per list for every request and company: building one deep-copies the serializer's
    fields (4 % of an invoice page), and rendering keeps no state. So a list serializer here
    renders without a context and must not read one (no role- or request-dependent fields),
    and what the renderer keeps holds no queryset (scoped to the company it was made for)."""
    related = {source: selector() for source, selector in view_class.list_related.items()}
    if not all(isinstance(renderer, RowRenderer) for renderer in related.values()):
        # A queryset is scoped to the company current when it was made: never kept.
        raise ImproperlyConfigured(f"{view_class.__name__}.list_related: RowRenderers only")
    return RowRenderer(serializer_class(), related)


class ServiceModelViewSet(ReadOnlyTenantViewSet):
    """CRUD whose writes call services: subclasses implement `perform_create_service`,
    `perform_update_service` and `perform_delete_service` as one-line calls."""

    input_serializer_class = None
    update_serializer_class = None  # when updates take other fields than creation

    def perform_create_service(self, data: dict):
        raise NotImplementedError

    def perform_update_service(self, instance, data: dict):
        raise NotImplementedError

    def perform_delete_service(self, instance) -> None:
        raise NotImplementedError

    def create(self, request, *args, **kwargs):
        instance = self.perform_create_service(self.validated_input())
        return self.output(instance, status_code=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        instance = self.get_object()  # another company's id is a 404 before any input error
        data = self.validated_input(
            self.update_serializer_class, partial=kwargs.pop("partial", False)
        )
        return self.output(self.perform_update_service(instance, data))

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        self.perform_delete_service(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


def service_crud_schema(input_serializer, output_serializer, *, tags, update_serializer=None):
    """drf-spectacular schemas for a ServiceModelViewSet's write methods."""
    write = {
        "request": update_serializer or input_serializer,
        "responses": output_serializer,
        "tags": tags,
    }
    return {
        "list": extend_schema(tags=tags),
        "retrieve": extend_schema(tags=tags),
        "create": extend_schema(
            request=input_serializer, responses={201: output_serializer}, tags=tags
        ),
        "update": extend_schema(**write),
        "partial_update": extend_schema(**write),
        "destroy": extend_schema(tags=tags),
    }


class AgingReportViewSet(TenantViewSet):
    """Receivables or payables: the open balance per party in aging buckets (`list`), and the
    open documents behind it (`open_documents_page`, exposed by each subclass's own action).

    Subclasses name the party field (`customer`, `supplier`), the queryset a `?<party>=` filter
    resolves against, the report (rows and totals), the open documents and the serializers.
    """

    filter_backends: list = []
    party_field: str = ""
    party_queryset = None
    row_serializer_class = None
    totals_serializer_class = None

    def report(self, as_of) -> tuple[list[dict], dict]:
        raise NotImplementedError

    def open_documents(self, as_of):
        """The documents open at the end of `as_of`, with `balance_on`, their balance then."""
        raise NotImplementedError

    def list(self, request):
        as_of = as_of_date(request)
        rows, totals = self.report(as_of)
        page = self.paginate_queryset(rows)
        response = self.get_paginated_response(self.row_serializer_class(page, many=True).data)
        response.data = {
            "as_of": as_of,
            "totals": self.totals_serializer_class(totals).data,
            **response.data,
        }
        return response

    def open_documents_page(self, request):
        """Open documents, oldest due first; `?<party>=` and `?overdue=true` narrow them."""
        as_of = as_of_date(request)
        documents = (
            self.open_documents(as_of)
            .prefetch_related(self.party_field)
            .order_by("due_date", "pk")  # a total order: offset pages never skip or repeat
        )
        party = request.query_params.get(self.party_field)
        if party:
            # pk_field: a malformed id is a field error too (else Django's own, unnamed).
            field = serializers.PrimaryKeyRelatedField(
                queryset=self.party_queryset, pk_field=serializers.UUIDField()
            )

            try:
                documents = documents.filter(**{self.party_field: field.run_validation(party)})
            except serializers.ValidationError as exc:  # named after the parameter
                raise serializers.ValidationError({self.party_field: exc.detail})
        overdue = request.query_params.get("overdue", "").lower()
        if overdue not in BOOLEAN_WORDS | {""}:  # as the lists' yes/no filters
            raise serializers.ValidationError(
                {"overdue": [f"'{request.query_params['overdue']}' is not one of: true, false."]}
            )
        if overdue in ("true", "1"):
            documents = documents.filter(due_date__lt=as_of)
        page = self.paginate_queryset(documents)
        data = self.get_serializer_class()(page, many=True, context={"as_of": as_of}).data
        return self.get_paginated_response(data)


AS_OF_PARAMETER = OpenApiParameter(
    "as_of",
    OpenApiTypes.DATE,
    description=(
        "Report what was owed at the end of this day (default today). A past day is rebuilt "
        "from the documents' dates (voided documents count on no day); a later day counts more "
        "days past due over today's balances."
    ),
)


def aging_report_schema(name: str, totals_serializer, row_serializer):
    """The OpenAPI answer of an aging report's `list`: one object (its rows paged inside), not
    the list of objects drf-spectacular assumes for a `list` action."""
    report = inline_serializer(
        name,
        {
            "as_of": serializers.DateField(),
            "totals": totals_serializer(),
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": row_serializer(many=True),
        },
    )
    return set_override(report, "many", False)
