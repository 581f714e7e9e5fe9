"""django-filter pieces that respect tenancy.

django-filter builds a model-choice filter's queryset when the FilterSet class is created, which
for a module-level class is import time: a queryset frozen for whichever tenant (or none) was
active then. Here every model-choice filter resolves its queryset per request instead.
"""

import django_filters
from django_filters.rest_framework import DjangoFilterBackend


def _per_request(model, limit_choices_to):
    def queryset(request):
        return model._default_manager.complex_filter(limit_choices_to or {})

    return queryset


class TenantFilterSet(django_filters.FilterSet):
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
    filterset_base = TenantFilterSet
