"""Serializers shared by several apps' APIs."""

import copy
import uuid
from datetime import date

from django.utils import timezone
from rest_framework import serializers

from ally360.documents import aging_bucket
from ally360.money import MONEY


class ModelSerializer(serializers.ModelSerializer):
    """DRF's ModelSerializer, introspecting the model once per class instead of on every
    instantiation (building the fields was about 2 ms of every request, more for a document
    with nested lines and payments). Each instance gets its own copies of the fields, as DRF
    does with declared fields; a test checks they equal DRF's own for every serializer."""

    def get_fields(self):
        cls = type(self)
        prototypes = cls.__dict__.get("_field_prototypes")
        if prototypes is None:
            prototypes = super().get_fields()
            cls._field_prototypes = prototypes
        return copy.deepcopy(prototypes)


class ContactRefSerializer(serializers.Serializer):
    """A customer or supplier as shown inside a document."""

    id = serializers.UUIDField()
    name = serializers.CharField()
    identification = serializers.CharField()


class VoidSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255)


class BulkRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary key that, in the items of a `BulkLookupListSerializer`, resolves from one query
    for the whole list instead of one query per item. Unknown ids (and ids of another company,
    which the tenant-scoped queryset cannot see) fall back to the usual lookup and its error."""

    def to_internal_value(self, data):
        lookup = getattr(getattr(self.parent, "parent", None), "bulk_lookup", None)
        if lookup is not None:
            found = lookup.get(self.field_name, {}).get(_uuid_key(data))
            if found is not None:
                return found
        return super().to_internal_value(data)


class BulkLookupListSerializer(serializers.ListSerializer):
    """`many=True` items whose `BulkRelatedField`s are fetched in one query per field."""

    def to_internal_value(self, data):
        self.bulk_lookup = {}
        if isinstance(data, list):
            for name, field in self.child.fields.items():
                if not isinstance(field, BulkRelatedField):
                    continue
                keys = {_uuid_key(item.get(name)) for item in data if isinstance(item, dict)}
                keys.discard(None)
                self.bulk_lookup[name] = {
                    str(obj.pk): obj for obj in field.get_queryset().filter(pk__in=keys)
                }
        return super().to_internal_value(data)


def _uuid_key(value) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except (TypeError, ValueError, AttributeError):
        return None


class AgingBalanceSerializer(serializers.Serializer):
    """An open balance and its split by days past due (`ally360.documents.AGING_BUCKETS`):
    receivables per customer, payables per supplier, and their totals."""

    balance = serializers.DecimalField(source="open_balance", **MONEY)
    current = serializers.DecimalField(**MONEY)
    days_1_30 = serializers.DecimalField(**MONEY)
    days_31_60 = serializers.DecimalField(**MONEY)
    days_61_90 = serializers.DecimalField(**MONEY)
    over_90 = serializers.DecimalField(**MONEY)


def as_of_date(request) -> date:
    """`?as_of=` (an ISO date; 400 when malformed) or today in the company's time zone."""
    value = request.query_params.get("as_of")
    return serializers.DateField().run_validation(value) if value else timezone.localdate()


class OverdueFieldsMixin(serializers.Serializer):
    """Days past due and aging bucket of an open invoice or bill, as of `context["as_of"]`."""

    days_overdue = serializers.SerializerMethodField()
    bucket = serializers.SerializerMethodField()

    def get_days_overdue(self, document) -> int:
        if document.due_date is None:
            return 0
        return max(0, (self.context["as_of"] - document.due_date).days)

    def get_bucket(self, document) -> str:
        return aging_bucket(self.get_days_overdue(document))
