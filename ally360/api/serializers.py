"""Serializers shared by several apps' APIs."""

import copy
import operator
import threading
import uuid
from datetime import date

import orjson
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, ObjectDoesNotExist
from django.db import models
from django.db.models import F, Func
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.fields import (
    BuiltinSignatureError,
    SkipField,
    empty,
    is_simple_callable,
)
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

from ally360.documents import aging_bucket
from ally360.models import TenantModel
from ally360.money import MONEY


class _ModelRepresentation:
    """DRF's `to_representation` for a model instance, reading each plain field's attribute
    with one `getattr` (`_read`: DRF's `get_attribute` steps for a one-attribute source)
    instead of DRF's generic loop (a Mapping check by ABC and a callable check by `inspect`
    for each field of each row: a fifth of rendering a sale's answer). A field whose class
    reads its own way (related fields, `source="*"`, dotted sources) takes DRF's path, so the
    answer is DRF's (a test compares every way DRF reads an attribute)."""

    def to_representation(self, instance):
        if not isinstance(instance, models.Model):
            return super().to_representation(instance)
        ret = {}
        for field in self.fields.values():
            if field.write_only:
                continue
            try:
                source = _plain_source(field)
                if source is None:
                    attribute = field.get_attribute(instance)
                else:
                    attribute = _read(field, instance, source)
            except SkipField:
                continue
            check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            if check_for_none is None:
                ret[field.field_name] = None
            else:
                ret[field.field_name] = field.to_representation(attribute)
        return ret


_PLAIN_GET_ATTRIBUTE = serializers.Field.get_attribute


def _plain_source(field) -> str | None:
    """The one attribute a field reads with DRF's plain `Field.get_attribute`, else None
    (decided once per field: the fields are copies of their own serializer's)."""
    decided = field.__dict__.get("_plain_source", empty)
    if decided is empty:
        plain = type(field).get_attribute is _PLAIN_GET_ATTRIBUTE and len(field.source_attrs) == 1
        decided = field._plain_source = field.source_attrs[0] if plain else None
    return decided


def _read(field, instance, source: str):
    """`field.get_attribute(instance)` for a one-attribute source, as DRF's `get_attribute`
    and `Field.get_attribute` do it, the attribute read once."""
    try:
        value = getattr(instance, source)
    except ObjectDoesNotExist:
        return None
    except (KeyError, AttributeError):
        if field.default is not empty:
            return field.get_default()
        if field.allow_null:
            return None
        if not field.required:
            raise SkipField()
        return field.get_attribute(instance)  # raises DRF's own error, with its message
    if not callable(value):
        return value
    try:
        simple = is_simple_callable(value)
    except BuiltinSignatureError:
        return field.get_attribute(instance)  # raises DRF's own error, with its message
    if not simple:
        return value
    try:
        return value()
    except (AttributeError, KeyError) as exc:
        raise ValueError(
            f'Exception raised in callable attribute "{source}"; original exception was: {exc}'
        )


class ModelSerializer(_ModelRepresentation, serializers.ModelSerializer):
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
        return {name: _fresh_copy(field) for name, field in prototypes.items()}


class Serializer(_ModelRepresentation, serializers.Serializer):
    """DRF's Serializer, copying its declared fields for each instance the way ModelSerializer
    above does (`_fresh_copy`) instead of deep-copying them: DRF's deep copy calls every
    field's constructor again, about a thirtieth of a POS sale spent building input fields."""

    def get_fields(self):
        return {name: _fresh_copy(field) for name, field in self._declared_fields.items()}

    def to_internal_value(self, data):
        # An item of a list (a document line, an address) is always sent whole: it replaces
        # the old ones. DRF skips missing fields anywhere in a partial update (PATCH), which
        # left a line without its price to fail as an error page: its required fields stay
        # required, and its defaults apply, as in a POST.
        whole_item = (
            isinstance(self.parent, serializers.ListSerializer)
            and getattr(self.root, "partial", False)
            and isinstance(data, dict)
        )
        if whole_item:
            missing = {
                name: [field.error_messages["required"]]
                for name, field in self.fields.items()
                if field.required and not field.read_only and name not in data
            }
            if missing:
                raise serializers.ValidationError(missing)
        value = super().to_internal_value(data)
        if whole_item:
            for name, field in self.fields.items():
                if name not in data and not field.read_only and field.default is not empty:
                    # Not get_default(): in a partial update it skips the whole list.
                    default = field.default
                    value.setdefault(field.source, default() if callable(default) else default)
        return value


_kept = threading.local()


def _kept_serializer(serializer_class, **arguments):
    """This thread's kept serializer of the class, made with `arguments` on first use."""
    kept = getattr(_kept, "serializers", None)
    if kept is None:
        kept = _kept.serializers = {}
    serializer = kept.get(serializer_class)
    if serializer is None:
        serializer = kept[serializer_class] = serializer_class(**arguments)
    return serializer


def answer_of(serializer_class, instance, context: dict) -> dict:
    """`serializer_class(instance, context=context).data`, from one serializer per class and
    thread, kept with its fields between calls: building a document's fields (its lines' and
    payments' too) cost as much as rendering them, a tenth of a POS sale. Only for
    serializers that keep nothing of a call but `instance` and the context (a test compares
    the answers with a new serializer's, one context after another)."""
    serializer = _kept_serializer(serializer_class, context=context)
    serializer.instance = instance
    serializer._context = context
    try:
        return serializer.to_representation(instance)
    finally:
        serializer.instance, serializer._context = None, {}


def validated_by_kept(serializer_class, data, context: dict) -> dict:
    """`serializer_class(data=data, context=context)`'s validated data (or its
    ValidationError), from one serializer per class and thread kept with its fields, as
    `answer_of` keeps an answer's: for the busiest input (a POS sale's). Each call starts from
    its own data and context, and leaves none behind (a test sends a sale after a refused one,
    and sales of two roles in turn)."""
    serializer = _kept_serializer(serializer_class, data=data, context=context)
    serializer.initial_data = data
    serializer._context = context
    try:
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
    finally:
        serializer.initial_data, serializer._context = None, {}
        for state in ("_validated_data", "_errors", "_data"):
            serializer.__dict__.pop(state, None)


def _fresh_copy(field: serializers.Field) -> serializers.Field:
    """A leaf field's state is its constructor's (never changed by a request) plus what bind()
    sets on the copy, so a shallow copy is a fresh field; DRF's deep copy calls the constructor
    again. Fields that hold other fields (nested serializers, list children, many-related) are
    bound to them, so they are copied deeply, as DRF does."""
    holds_fields = isinstance(field, (serializers.BaseSerializer, serializers.ManyRelatedField))
    if holds_fields or hasattr(field, "child"):
        return copy.deepcopy(field)
    # What copy.copy() does for a plain object, without its generic reduce protocol (a third of
    # the cost, for the hundred-odd fields a document's answer copies).
    fresh = object.__new__(type(field))
    fresh.__dict__.update(field.__dict__)
    return fresh


class ContactRefSerializer(Serializer):
    """A customer or supplier as shown inside a document."""

    id = serializers.UUIDField()
    name = serializers.CharField()
    identification = serializers.CharField()


class VoidSerializer(Serializer):
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

    def objects_by_pk(self, keys: set[str]) -> dict:
        """{str(pk): object} of the keys found, in one query."""
        return {str(obj.pk): obj for obj in self.get_queryset().filter(pk__in=keys)}


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
                self.bulk_lookup[name] = field.objects_by_pk(keys)
        try:
            return super().to_internal_value(data)
        finally:
            self.bulk_lookup = {}  # a kept serializer holds no request's rows after it


def _uuid_key(value) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except (TypeError, ValueError, AttributeError):
        return None


class AgingBalanceSerializer(Serializer):
    """An open balance and its split by days past due (`ally360.documents.AGING_BUCKETS`):
    receivables per customer, payables per supplier, and their totals."""

    balance = serializers.DecimalField(source="open_balance", **MONEY)
    current = serializers.DecimalField(**MONEY)
    days_1_30 = serializers.DecimalField(**MONEY)
    days_31_60 = serializers.DecimalField(**MONEY)
    days_61_90 = serializers.DecimalField(**MONEY)
    over_90 = serializers.DecimalField(**MONEY)


class MemberEmailField(serializers.CharField):
    """A member's e-mail (who made a document, a shift's cashier): shown to whoever may read the
    company's members and to that member; null to the others, whose co-workers' addresses are
    not theirs to collect through the documents."""

    def __init__(self, **kwargs):
        kwargs.update(read_only=True, allow_null=True, default=None)
        super().__init__(**kwargs)

    def to_representation(self, value):
        request = self.context.get("request")
        own = request is not None and getattr(request.user, "email", None) == value
        if not (own or self.context.get("show_members", False)):
            return None
        return super().to_representation(value)


def as_of_date(request) -> date:
    """`?as_of=` (an ISO date; 400 when malformed) or today in the company's time zone."""
    value = request.query_params.get("as_of")
    if not value:
        return timezone.localdate()
    try:
        return serializers.DateField().run_validation(value)
    except serializers.ValidationError as exc:  # named after the parameter, like the filters
        raise serializers.ValidationError({"as_of": exc.detail})


class OverdueFieldsMixin(serializers.Serializer):
    """Balance, days past due and aging bucket of an open invoice or bill at the end of
    `context["as_of"]` (the document annotated with `balance_on`)."""

    balance_as_of = serializers.DecimalField(
        source="balance_on",
        read_only=True,
        help_text="What was owed at the end of `as_of` (today's `balance` from today on).",
        **MONEY,
    )
    days_overdue = serializers.SerializerMethodField()
    bucket = serializers.SerializerMethodField()

    def get_days_overdue(self, document) -> int:
        if document.due_date is None:
            return 0
        return max(0, (self.context["as_of"] - document.due_date).days)

    def get_bucket(self, document) -> str:
        return aging_bucket(self.get_days_overdue(document))


_FIXED_POINT = operator.methodcaller("__format__", "f")  # format(value, "f")
_ISO_FORMAT = operator.methodcaller("isoformat")


def _same(value):
    return value


def _datetime_renderer(field, zone):
    def render(value):
        return _iso_datetime(value, zone) if value.tzinfo else field.to_representation(value)

    return render


def _iso_datetime(value, zone) -> str:
    """DRF's ISO 8601 rendering of an aware date-time in `zone` (UTC written as "Z")."""
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class RelatedRowJSON(Func):
    """Columns of the row a foreign key points to, as the text of one JSON object, read by a
    correlated subquery in the outer statement: `(SELECT json_build_object('name', r.name, …)
    FROM contacts_contact r WHERE r.id = invoice.customer_id AND r.tenant_id =
    invoice.tenant_id)`. A subquery, not a join: with row-level security on both tables a join
    made the planner sort the whole company instead of walking a page's index; the subquery
    runs once per row the page returns. Written here rather than as an ORM `Subquery`, whose
    building and compiling on every request cost more than the second query it replaces."""

    output_field = models.TextField()

    def __init__(self, key: str, model, columns: list[str]):
        if not all(column.isidentifier() for column in columns):  # they become SQL literals
            raise ImproperlyConfigured(f"{model.__name__}: columns {columns} are not names")
        scoped = issubclass(model, TenantModel)
        super().__init__(F(key), *([F("tenant")] if scoped else []))
        self.model, self.columns, self.scoped = model, columns, scoped

    def as_sql(self, compiler, connection, **extra_context):
        quote = connection.ops.quote_name
        key_sql, key_params = compiler.compile(self.source_expressions[0])
        meta = self.model._meta
        pairs = ", ".join(
            f"'{column}', inline_row.{quote(meta.get_field(column).column)}"
            for column in self.columns
        )
        if connection.vendor == "postgresql":
            row = f"JSON_BUILD_OBJECT({pairs})::text"  # text: orjson parses it, not psycopg
        else:
            row = f"JSON_OBJECT({pairs})"
        # Identifiers from the models' metadata, quoted; the values stay parameters.
        sql = (
            f"(SELECT {row} FROM {quote(meta.db_table)} inline_row"  # noqa: S608
            f" WHERE inline_row.{quote(meta.pk.column)} = {key_sql}"
        )
        params = list(key_params)
        if self.scoped:
            tenant_sql, tenant_params = compiler.compile(self.source_expressions[1])
            sql += f" AND inline_row.{quote(meta.get_field('tenant').column)} = {tenant_sql}"
            params += tenant_params
        return sql + ")", params


class RowRenderer:
    """Renders `values()` rows exactly as a ModelSerializer renders the model instances.

    For the longest, busiest lists (invoices, bills): a row dict costs a fraction of a model
    instance, and DRF's per-field attribute lookup on every row costs more than formatting the
    value. Each field's own `to_representation` still formats it (decimal places, time zone,
    choices), so the answer is the serializer's, and the serializer stays the schema. Only plain
    model fields, primary-key relations and nested serializers of a foreign key (read with the
    page's statement, or one query for the page through the related model's tenant-scoped
    manager) are supported; anything else is refused when the renderer is built, not silently
    rendered differently.
    `related` may give the queryset a nested foreign key is read from (by source name), e.g. one
    that loads only the columns the nested serializer shows, or a RowRenderer that renders it as
    rows read with the page's own statement (`RelatedRowJSON`; text columns only).
    `handlers` render the fields the renderer cannot (method fields, nested lists) from the row,
    by field name, reading the columns named in `reads`; `omit` leaves fields out of the answer
    (costs a role may not see). `model` names the model of a plain `Serializer`.
    """

    _VALUE, _ID, _NESTED, _HANDLED, _DECIMAL = "value", "id", "nested", "handled", "decimal"
    _STR, _ISO, _DATETIME = "str", "iso", "datetime"

    def __init__(
        self,
        serializer: serializers.Serializer,
        related: dict | None = None,
        *,
        handlers: dict | None = None,
        omit=(),
        model=None,
        reads=(),
    ):
        self.model = model or serializer.Meta.model
        self.related = related or {}
        self.reads = tuple(reads)
        self.plan = []
        for name, field in serializer.fields.items():
            if field.write_only or name in omit:
                continue
            if handlers and name in handlers:
                self.plan.append((name, None, self._HANDLED, handlers[name]))
                continue
            model_field = self._model_field(name, field)
            if isinstance(field, serializers.BaseSerializer):
                if not model_field.many_to_one or getattr(field, "many", False):
                    raise ImproperlyConfigured(f"{name}: only a foreign key can be nested")
                kind = self._NESTED
            elif isinstance(field, serializers.PrimaryKeyRelatedField) and field.pk_field is None:
                # A UUID key as the string the JSON encoder would make of it, made here.
                uuid_key = isinstance(model_field.target_field, models.UUIDField)
                kind = self._STR if uuid_key else self._ID
            elif isinstance(field, (serializers.RelatedField, serializers.SerializerMethodField)):
                raise ImproperlyConfigured(f"{name}: {type(field).__name__} is not supported")
            elif self._stored_as_rendered(field, model_field):
                kind = self._DECIMAL
            else:
                kind = self._formatted_directly(field)
            if kind is None:
                kind = self._VALUE
            self.plan.append((name, field.source, kind, field))
        self.inline = {
            source: columns
            for _name, source, kind, _field in self.plan
            if kind == self._NESTED and (columns := self._inline_columns(source)) is not None
        }

    @staticmethod
    def _stored_as_rendered(field, model_field) -> bool:
        """A decimal the database returns with exactly the places the field renders (NUMERIC
        columns keep their scale; Django quantizes SQLite's): quantizing it again changes
        nothing, so the field's string is the value's own: 0.2 µs instead of 1.7."""
        return (
            type(field) is serializers.DecimalField
            and isinstance(model_field, models.DecimalField)
            and field.decimal_places == model_field.decimal_places
            and (field.max_digits is None or field.max_digits >= model_field.max_digits)
            and getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
            and not field.localize
            and not getattr(field, "normalize_output", False)
        )

    @classmethod
    def _formatted_directly(cls, field) -> str | None:
        """The kinds whose DRF `to_representation` is one call on the value, made here without
        DRF's per-value steps: a UUID's string, an ISO date, and an ISO date-time in the current
        time zone, looked up once per page instead of once per row (asgiref's context-local
        read was a sixth of rendering an invoice page). None for any other field or format."""
        kind = type(field)
        if kind is serializers.UUIDField and field.uuid_format == "hex_verbose":
            return cls._STR
        if (
            kind is serializers.DateField
            and getattr(field, "format", api_settings.DATE_FORMAT) == ISO_8601
        ):
            return cls._ISO
        if (
            kind is serializers.DateTimeField
            and getattr(field, "format", api_settings.DATETIME_FORMAT) == ISO_8601
            and not hasattr(field, "timezone")
            and settings.USE_TZ
        ):
            return cls._DATETIME
        return None

    def _model_field(self, name, field):
        if field.source == "*" or "." in field.source:
            raise ImproperlyConfigured(f"{name}: source {field.source!r} is not a model field")
        try:
            model_field = self.model._meta.get_field(field.source)
        except FieldDoesNotExist:
            model_field = None
        if getattr(model_field, "column", None) is None:  # a property, reverse or many-to-many
            raise ImproperlyConfigured(f"{name}: {field.source!r} is not a column of the model")
        return model_field

    def rows(self, queryset, *extra: str):
        """The queryset as rows holding just the serializer's columns (foreign keys as ids), and
        the columns the handlers read (`reads`, `extra`)."""
        inline = {
            self._inline_name(source): RelatedRowJSON(source, self.related[source].model, columns)
            for source, columns in self.inline.items()
        }
        return queryset.values(*dict.fromkeys([*self.columns(), *extra]), **inline)

    def columns(self) -> list[str]:
        """What `rows` reads of this renderer's own model, besides `extra`."""
        sources = [source for _name, source, kind, _field in self.plan if kind != self._HANDLED]
        return list(dict.fromkeys([*sources, *self.reads]))

    def _inline_columns(self, source) -> list[str] | None:
        """The columns a nested foreign key's RowRenderer reads besides the key, which must all
        be text: they come as one JSON object of strings (exact both ways) from `RelatedRowJSON`
        in the page's own statement. None when `related` gives no RowRenderer for it."""
        related = self.related.get(source)
        if not isinstance(related, RowRenderer):
            return None
        if issubclass(related.model, TenantModel) and not issubclass(self.model, TenantModel):
            raise ImproperlyConfigured(f"{source}: the subquery is scoped by the row's company")
        pk = related.model._meta.pk.attname
        columns = [column for column in related.columns() if column != pk]
        for column in columns:
            try:
                internal_type = related.model._meta.get_field(column).get_internal_type()
            except FieldDoesNotExist:
                internal_type = None
            if internal_type not in ("CharField", "TextField"):
                raise ImproperlyConfigured(f"{source}: {column!r} is not a text column")
        return columns

    @staticmethod
    def _inline_name(source) -> str:
        return f"{source}_inline_row"

    def render(self, rows) -> list[dict]:
        rows = list(rows)
        nested = {
            source: self._related(source, field, rows)
            for _name, source, kind, field in self.plan
            if kind == self._NESTED
        }
        converters = self._converters(timezone.get_current_timezone(), nested)
        rendered = []
        for row in rows:
            item = {}
            for name, source, convert in converters:
                if source is None:
                    item[name] = convert(row)  # a handler
                elif (value := row[source]) is None:
                    item[name] = None
                else:
                    item[name] = convert(value)
            rendered.append(item)
        return rendered

    def _converters(self, zone, nested: dict) -> list[tuple]:
        """Per field, its name, its column (None for a handler, which gets the row) and the one
        call that renders a value other than None, chosen once per page instead of per value."""
        converters = []
        for name, source, kind, field in self.plan:
            if kind == self._HANDLED:
                converters.append((name, None, field))
                continue
            if kind == self._DECIMAL:
                convert = _FIXED_POINT
            elif kind == self._VALUE:
                convert = field.to_representation
            elif kind == self._STR:
                convert = str
            elif kind == self._ISO:
                convert = _ISO_FORMAT
            elif kind == self._DATETIME:
                convert = _datetime_renderer(field, zone)
            elif kind == self._ID:
                convert = _same
            else:
                convert = nested[source].__getitem__
            converters.append((name, source, convert))
        return converters

    def _related(self, source, field, rows) -> dict:
        related = self.related.get(source)
        if source in self.inline:
            # One JSON object per distinct key (a page's sales share the final consumer).
            texts = {row[source]: row[self._inline_name(source)] for row in rows}
            pk = related.model._meta.pk.attname
            found = [
                {**orjson.loads(text), pk: key}
                for key, text in texts.items()
                if key is not None and text is not None
            ]
            return dict(zip((row[pk] for row in found), related.render(found), strict=True))
        ids = {row[source] for row in rows} - {None}
        if related is None:
            related = self.model._meta.get_field(source).related_model.objects.all()
        return {obj.pk: field.to_representation(obj) for obj in related.filter(pk__in=ids)}
