"""Serializers shared by several apps' APIs."""

import uuid

from rest_framework import serializers


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
