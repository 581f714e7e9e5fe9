"""`ally360.api.serializers.ModelSerializer` builds its fields once per class, and
`ally360.api.serializers.Serializer` copies its declared fields without DRF's deep copy: every
project serializer must get exactly the fields DRF would build, and fresh copies on each
instance."""

import pytest
from django.urls import get_resolver
from rest_framework import serializers

from ally360.api.serializers import ModelSerializer, Serializer


def all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from all_subclasses(sub)


def project_serializers(base=ModelSerializer):
    get_resolver().url_patterns  # import every API module
    return sorted(set(all_subclasses(base)), key=lambda cls: cls.__qualname__)


LIBRARIES = {"rest_framework", "rest_framework_simplejwt", "drf_spectacular", "django"}


def is_project_class(cls) -> bool:
    return cls.__module__.split(".")[0] not in LIBRARIES


def test_every_model_serializer_of_the_project_uses_the_cached_base():
    found = project_serializers()
    assert len(found) >= 40, [cls.__qualname__ for cls in found]
    plain = [
        cls.__qualname__
        for cls in all_subclasses(serializers.ModelSerializer)
        if is_project_class(cls) and not issubclass(cls, ModelSerializer)
    ]
    assert plain == []


def test_every_plain_serializer_of_the_project_uses_the_shallow_copying_base():
    found = project_serializers(Serializer)
    assert len(found) >= 60, [cls.__qualname__ for cls in found]
    plain = [
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in all_subclasses(serializers.Serializer)
        if is_project_class(cls)
        and not issubclass(cls, (Serializer, serializers.ModelSerializer))
        # a mixin of model serializers takes their get_fields()
        and not any(issubclass(sub, ModelSerializer) for sub in all_subclasses(cls))
    ]
    assert plain == []


@pytest.mark.parametrize(
    "serializer_class", project_serializers(Serializer), ids=lambda c: c.__qualname__
)
def test_copied_declared_fields_equal_drfs_and_are_not_shared(serializer_class):
    first, second = serializer_class(), serializer_class()
    built_by_drf = serializers.Serializer.get_fields(serializer_class())
    assert {name: repr(field) for name, field in first.fields.items()} == {
        name: repr(field) for name, field in built_by_drf.items()
    }
    for name, field in first.fields.items():
        prototype = serializer_class._declared_fields[name]
        assert field is not second.fields[name] and field is not prototype
        assert field.parent is first and second.fields[name].parent is second
        assert getattr(prototype, "parent", None) is None  # the class's own fields stay unbound


@pytest.mark.parametrize("serializer_class", project_serializers(), ids=lambda c: c.__qualname__)
def test_cached_fields_equal_drfs_and_are_not_shared(serializer_class):
    first, second = serializer_class(), serializer_class()
    built_by_drf = serializers.ModelSerializer.get_fields(serializer_class())
    assert repr(first.fields) == repr(second.fields)
    assert {name: repr(field) for name, field in first.fields.items()} == {
        name: repr(field) for name, field in built_by_drf.items()
    }
    for name, field in first.fields.items():
        assert field is not second.fields[name]
        assert field.parent is first and second.fields[name].parent is second


def test_the_row_renderer_refuses_fields_it_cannot_render_like_the_serializer():
    from django.core.exceptions import ImproperlyConfigured

    from ally360.api.serializers import ContactRefSerializer, RowRenderer
    from contacts.models import Contact
    from invoices.models import Invoice

    def serializer(model, **declared):
        meta = type("Meta", (), {"model": model, "fields": ["id", *declared]})
        return type("Probe", (ModelSerializer,), {"Meta": meta, **declared})()

    refused = [
        serializer(Contact, identification=serializers.CharField(read_only=True)),  # property
        serializer(Invoice, pdv_name=serializers.CharField(source="pdv.name", read_only=True)),
        serializer(Invoice, extra=serializers.SerializerMethodField()),
        serializer(Invoice, pdv=serializers.SlugRelatedField(slug_field="name", read_only=True)),
        serializer(Invoice, lines=serializers.PrimaryKeyRelatedField(many=True, read_only=True)),
    ]
    for probe in refused:
        with pytest.raises(ImproperlyConfigured):
            RowRenderer(probe)
    accepted = serializer(Invoice, customer=ContactRefSerializer(read_only=True))
    assert [name for name, *_ in RowRenderer(accepted).plan] == ["id", "customer"]
    # A nested RowRenderer is read in the page's statement as JSON: text columns only.
    with_dates = RowRenderer(serializer(Contact, created_at=serializers.DateTimeField()))
    with pytest.raises(ImproperlyConfigured, match="'created_at' is not a text column"):
        RowRenderer(accepted, {"customer": with_dates})
    names = RowRenderer(serializer(Contact, name=serializers.CharField()))
    assert RowRenderer(accepted, {"customer": names}).inline == {"customer": ["name"]}


def test_the_row_renderer_formats_dates_and_ids_as_drf_in_any_time_zone():
    """UUIDs, dates and date-times are formatted by the renderer itself, with the time zone
    read once per page: the answer must stay DRF's in Bogotá, in UTC ("Z") and in a zone with
    summer time, with and without microseconds; a field with its own format or zone, and a
    naive value, keep DRF's own path."""
    import datetime as dt
    import uuid
    import zoneinfo

    from django.utils import timezone

    from ally360.api.serializers import RowRenderer
    from invoices.models import Invoice

    class Probe(ModelSerializer):
        as_text = serializers.DateTimeField(source="updated_at", format="%d/%m/%Y %H:%M")
        in_madrid = serializers.DateTimeField(
            source="issued_at", default_timezone=zoneinfo.ZoneInfo("Europe/Madrid")
        )

        class Meta:
            model = Invoice
            fields = ["id", "issue_date", "created_at", "as_text", "in_madrid"]

    renderer = RowRenderer(Probe())
    kinds = {name: kind for name, _source, kind, _field in renderer.plan}
    assert kinds == {
        "id": "str",
        "issue_date": "iso",
        "created_at": "datetime",
        "as_text": "value",
        "in_madrid": "value",
    }
    utc = dt.UTC
    rows = [
        {
            "id": uuid.uuid4(),
            "issue_date": dt.date(2026, 3, 29),
            "created_at": moment,
            "updated_at": moment,
            "issued_at": moment,
        }
        for moment in (
            dt.datetime(2026, 3, 29, 0, 30, tzinfo=utc),
            dt.datetime(2026, 7, 1, 23, 59, 59, 123456, tzinfo=utc),
            dt.datetime(2026, 12, 31, 12, 0, 0, 1, tzinfo=utc),
        )
    ]
    rows.append({**rows[0], "created_at": dt.datetime(2026, 5, 1, 8, 0)})  # naive
    for zone in ("America/Bogota", "UTC", "Europe/Madrid", "Asia/Kolkata"):
        with timezone.override(zoneinfo.ZoneInfo(zone)):
            expected = [Probe().to_representation(_Row(row)) for row in rows]
            assert renderer.render(rows) == expected, zone
    with timezone.override(zoneinfo.ZoneInfo("UTC")):
        assert renderer.render(rows[:1])[0]["created_at"] == "2026-03-29T00:30:00Z"


class _Row:
    """A row read as attributes, as DRF reads a model instance."""

    def __init__(self, values):
        self.__dict__.update(values)


@pytest.mark.django_db
def test_a_model_is_rendered_as_drf_renders_it(company_a):
    """The bases render a model instance with one `getattr` per plain field
    (`_ModelRepresentation`); every other way DRF reads an attribute must still answer as DRF's
    own `to_representation`: a callable (called), a missing attribute (default, null or left
    out), a related row that does not exist (None), a dotted source, a primary key, a nested
    serializer, a method field, `source="*"`."""
    import uuid
    from decimal import Decimal
    from unittest.mock import patch

    from ally360.api.serializers import ContactRefSerializer
    from ally360.tenancy import tenant_context
    from contacts.models import Contact
    from invoices.models import Invoice

    class Probe(ModelSerializer):
        status_label = serializers.CharField(source="get_status_display")
        missing_default = serializers.CharField(source="no_such_attribute", default="d")
        missing_null = serializers.CharField(source="no_such_attribute", allow_null=True)
        missing_skipped = serializers.CharField(source="no_such_attribute", required=False)
        customer_name = serializers.CharField(source="customer.name")
        customer_ref = ContactRefSerializer(source="customer")
        gone = serializers.PrimaryKeyRelatedField(source="seller", read_only=True)
        gone_row = serializers.CharField(source="seller", allow_null=True)
        method = serializers.SerializerMethodField()
        whole = serializers.CharField(source="*")

        class Meta:
            model = Invoice
            fields = [
                "id", "status", "total", "customer", "price_list", "status_label",
                "missing_default", "missing_null", "missing_skipped", "customer_name",
                "customer_ref", "gone", "gone_row", "method", "whole",
            ]  # fmt: skip

        def get_method(self, invoice):
            return f"{invoice.status}:{invoice.total}"

    with tenant_context(company_a):
        customer = Contact(name="Tienda Uno", id_type="CC", id_number="1020304050")
        # A seller id naming no row: reading `invoice.seller` raises DoesNotExist.
        invoice = Invoice(customer=customer, total=Decimal("1190.00"), seller_id=uuid.uuid4())
        ours = Probe().to_representation(invoice)
        drfs = serializers.ModelSerializer.to_representation(Probe(), invoice)
    assert ours == drfs
    assert ours["status_label"] == invoice.get_status_display()
    assert ours["missing_default"] == "d" and ours["missing_null"] is None
    assert "missing_skipped" not in ours
    assert ours["gone_row"] is None and ours["gone"] == invoice.seller_id
    assert ours["customer_ref"]["name"] == "Tienda Uno" and ours["price_list"] is None

    # A callable attribute is called once per render, as DRF calls it.
    calls = []
    invoice.counted = lambda: calls.append(1) or "counted"

    class Counting(ModelSerializer):
        counted = serializers.CharField()

        class Meta:
            model = Invoice
            fields = ["id", "counted"]

    with tenant_context(company_a):
        assert Counting().to_representation(invoice)["counted"] == "counted"
    assert len(calls) == 1

    # A missing attribute is read once too (a property raising AttributeError: DRF leaves the
    # field out when it is not required).
    reads = []

    def missing(_invoice):
        reads.append(1)
        raise AttributeError("not here")

    class Optional(ModelSerializer):
        maybe = serializers.CharField(required=False)

        class Meta:
            model = Invoice
            fields = ["id", "maybe"]

    with (
        patch.object(Invoice, "maybe", property(missing), create=True),
        tenant_context(company_a),
    ):
        assert "maybe" not in Optional().to_representation(invoice)
    assert len(reads) == 1

    # Fields changed after a first render (a kept serializer's) are rendered as they are now.
    kept = Probe()
    with tenant_context(company_a):
        kept.to_representation(invoice)
        kept.fields.pop("status")
        kept.fields["notes_again"] = serializers.CharField(source="notes")
        changed = kept.to_representation(invoice)
        assert changed == serializers.ModelSerializer.to_representation(kept, invoice)
    assert "status" not in changed and changed["notes_again"] == ""
