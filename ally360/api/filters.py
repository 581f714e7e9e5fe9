"""django-filter pieces that respect tenancy.

django-filter builds a model-choice filter's queryset when the FilterSet class is created, which
for a module-level class is import time: a queryset frozen for whichever tenant (or none) was
active then. Here every model-choice filter resolves its queryset per request instead, so another
company's id in a filter is "not a valid choice" (400), as in a payload.
"""

import django_filters
from django.apps import apps
from django.conf import settings
from django.utils.translation import gettext as _
from django_filters import rest_framework as drf_filters
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend, OrderingFilter
from rest_framework.pagination import CursorPagination
from rest_framework.settings import api_settings

from ally360.tenancy import get_current_tenant_id


def _per_request(model, limit_choices_to=None):
    def queryset(request):
        if model._meta.label == settings.AUTH_USER_MODEL:
            # Users are not tenant rows: only the current company's members are choices.
            return model._default_manager.filter(memberships__company_id=get_current_tenant_id())
        return model._default_manager.complex_filter(limit_choices_to or {})

    return queryset


@extend_schema_field(OpenApiTypes.UUID)
class IdChoiceFilter(django_filters.ModelChoiceFilter):
    """A model-choice filter documented as a UUID (also when it filters through a method)."""


def TenantChoiceFilter(model: str, **kwargs) -> IdChoiceFilter:  # noqa: N802
    """A filter on another model's id, e.g. TenantChoiceFilter("contacts.Contact",
    field_name="invoice__customer")."""
    return IdChoiceFilter(queryset=_per_request(apps.get_model(model)), **kwargs)


class TenantFilterSet(drf_filters.FilterSet):
    # (django-filter's DRF FilterSet: yes/no filters read true/false and 1/0, in any case)

    @classmethod
    def filter_for_lookup(cls, field, lookup_type):
        filter_class, params = super().filter_for_lookup(field, lookup_type)
        if "queryset" in params and getattr(field, "remote_field", None) is not None:
            params = {
                **params,
                "queryset": _per_request(field.remote_field.model, field.get_limit_choices_to()),
            }
        return filter_class, params


class TenantFilterBackend(DjangoFilterBackend):
    """Builds the FilterSet only when the request names one of its filters.

    A FilterSet binds and validates a form of all its filters on every request, also when no
    filter is given: about a tenth of a cheap list request. With none of its parameters (a
    filter's name, or its name plus a widget suffix such as `_after`) the answer is the same
    without it.
    """

    filterset_base = TenantFilterSet

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or not _names_a_filter(filterset_class, request.query_params):
            return queryset
        filterset = filterset_class(**self.get_filterset_kwargs(request, queryset, view))
        if not filterset.is_valid() and self.raise_exception:
            raise translate_validation(filterset.errors)
        _refuse_unknown_booleans(filterset, request.query_params)
        return filterset.qs


BOOLEAN_WORDS = {"true", "false", "1", "0"}  # what django-filter's BooleanWidget reads, any case


def _refuse_unknown_booleans(filterset, params) -> None:
    """django-filter reads a yes/no filter it cannot parse (`?low=yes`) as no filter at all, and
    answers everything: a client that misspelled it takes the whole list for the filtered one.
    Here such a value is a 400 like any other bad filter value."""
    errors = {
        name: [f"'{params[name]}' is not one of: true, false."]
        for name, field in filterset.filters.items()
        if isinstance(field, django_filters.BooleanFilter)
        and name in params
        and params[name].lower() not in BOOLEAN_WORDS
        and params[name] != ""
    }
    if errors:
        raise ValidationError(errors)


def _names_a_filter(filterset_class, params) -> bool:
    names = filterset_class.base_filters.keys()
    return any(key == name or key.startswith(f"{name}_") for key in params for name in names)


class CursorOrder(BaseFilterBackend):
    """On a cursor-paged list (newest first, the order the cursor encodes) `?ordering=` is a
    400, as an unknown ordering term is elsewhere, rather than silently ignored."""

    def filter_queryset(self, request, queryset, view):
        param = api_settings.ORDERING_PARAM
        if getattr(view, "action", "list") == "list" and param in request.query_params:
            message = _("This list is ordered by its cursor, newest first: it takes no ordering.")
            raise ValidationError({param: [message]})
        return queryset


class TotalOrderingFilter(OrderingFilter):
    """`?ordering=` (or the view's default order), then the primary key: rows that tie on the
    chosen fields keep one order, so offset pages never skip or repeat them. Cursor pages keep
    their own single-field order."""

    def remove_invalid_fields(self, queryset, fields, view, request):
        valid = super().remove_invalid_fields(queryset, fields, view, request)
        unknown = [term for term in fields if term and term not in valid]
        if unknown:  # DRF drops them: a typo would answer in some other order
            message = _("Not an ordering field: %(terms)s.") % {"terms": ", ".join(unknown)}
            raise ValidationError({self.ordering_param: [message]})
        return valid

    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view)
        if isinstance(getattr(view, "paginator", None), CursorPagination):
            return ordering
        if not ordering:  # the queryset's own order, or the model's
            ordering = list(queryset.query.order_by) or list(queryset.model._meta.ordering)
        if not ordering or not all(isinstance(field, str) for field in ordering):
            return ordering or None
        if {field.lstrip("-") for field in ordering} & {"pk", "id"}:
            return ordering
        return [*ordering, "pk"]
