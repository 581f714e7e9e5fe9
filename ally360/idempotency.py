"""`Idempotency-Key` on POSTs that create documents or payments.

The first request with a key stores its answer in the same transaction as the document it
created; a retry with the same key and body gets that answer back (header `Idempotent-Replayed`)
and creates nothing. The same key with a different body is a 409. Two concurrent requests with
one key serialize on the unique index: the second waits for the first to commit, then replays it.
A failed request rolls its record back, so it can be retried.

A key is the sending user's, for one operation: the route and its URL arguments (a UUID written
with or without hyphens is the same argument), not the literal path.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from functools import wraps

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from .api.renderers import ORJSONRenderer
from .db import insert_values, prepared_for_save
from .exceptions import Conflict, ValidationFailed
from .models import IdempotencyRecord
from .services import in_range_or_refused
from .tenancy import require_tenant_id

HEADER = "Idempotency-Key"
PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description="A unique key per operation (e.g. a UUID): a retry with the same key returns the "
    "first result and never creates a second document.",
)


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, cls=DjangoJSONEncoder)
    return hashlib.sha256(body.encode()).hexdigest()


def _scope(request) -> str:
    match = request.resolver_match
    arguments = ",".join(
        f"{name}={_canonical(value)}" for name, value in sorted(match.kwargs.items())
    )
    return f"{request.method} {match.view_name} {arguments}".rstrip()[:255]


def _canonical(value) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return str(value)


def idempotency_reserve(key: str, scope: str, fingerprint: str, user_id) -> uuid.UUID | None:
    """Insert the record, or return None when the key is taken (after waiting for a concurrent
    first request to finish). One statement: ON CONFLICT instead of a savepoint around an
    INSERT that may fail (three round trips)."""
    record_id = uuid.uuid4()
    now = timezone.now()
    values = {
        "id": record_id,
        "tenant": require_tenant_id(),
        "user": user_id,
        "created_at": now,
        "updated_at": now,
        "key": key,
        "scope": scope,
        "fingerprint": fingerprint,
    }
    connection = transaction.get_connection()
    columns, placeholders, params = insert_values(IdempotencyRecord, values, connection)
    table = connection.ops.quote_name(IdempotencyRecord._meta.db_table)
    with connection.cursor() as cursor:
        # Only identifiers from the model's metadata are formatted in; values are parameters.
        cursor.execute(
            f"INSERT INTO {table} ({columns}) "  # noqa: S608
            f"VALUES ({placeholders}) ON CONFLICT DO NOTHING RETURNING id",
            params,
        )
        return record_id if cursor.fetchone() is not None else None


def idempotent(view_method):
    @wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER, "").strip()
        if not key or request.method != "POST":
            return view_method(self, request, *args, **kwargs)
        if len(key) > 100:
            raise ValidationFailed(_("The Idempotency-Key header has at most 100 characters."))
        scope = _scope(request)
        fingerprint = _fingerprint(request)
        record_id = idempotency_reserve(key, scope, fingerprint, request.user.pk)
        if record_id is None:
            record = IdempotencyRecord.objects.get(user=request.user.pk, key=key, scope=scope)

            if record.fingerprint != fingerprint:
                raise Conflict(
                    _("This Idempotency-Key was already used with a different request."),
                    code="idempotency_key_reused",
                )
            if record.status_code is None:
                raise Conflict(
                    _("The first request with this Idempotency-Key did not complete."),
                    code="idempotency_key_incomplete",
                )
            return Response(
                record.response_body,
                status=record.status_code,
                headers={"Idempotent-Replayed": "true"},
            )
        response = view_method(self, request, *args, **kwargs)
        if 200 <= response.status_code < 300:
            idempotency_store(record_id, response.status_code, _answer_json(request, response))
        return response

    return wrapper


def _answer_json(request, response) -> bytes | None:
    """The answer's JSON, as DRF renders it. With JSON negotiated (the API's only renderer
    outside DEBUG) it is rendered now and kept as the response's content, which DRF then
    leaves as it is: the stored answer is the bytes the client gets, encoded once, not twice
    (JSON encoding was a twentieth of a POS sale)."""
    data = getattr(response, "data", None)
    if data is None:
        return None
    negotiated = getattr(request, "accepted_renderer", None)
    if type(negotiated) is not ORJSONRenderer:  # the browsable API in DEBUG: stored as JSON
        return ORJSONRenderer().render(data, "application/json", {"request": request})
    rendered = negotiated.render(data, request.accepted_media_type, {"request": request})
    response.content = rendered  # a rendered response is not rendered again
    response["Content-Type"] = response.content_type or negotiated.media_type
    return rendered


_STORE = """
    UPDATE core_idempotencyrecord
       SET status_code = %s, response_body = %s::jsonb, updated_at = %s
     WHERE id = %s AND tenant_id = %s
"""
_STORE_TEXT = _STORE.replace("%s::jsonb", "%s")  # SQLite keeps JSON as its text
_STORE_FIELDS = ("status_code", "updated_at", "id", "tenant")


def idempotency_store(record_id: uuid.UUID, status_code: int, answer: bytes | None) -> None:
    """Keep the answer (its JSON, or None) of a reserved key, in a hand-written statement (the
    ORM's UPDATE of this JSON row was a thirtieth of a POS sale); the other values are
    prepared as the ORM would."""
    connection = transaction.get_connection()
    meta = IdempotencyRecord._meta
    fields = [meta.get_field(name) for name in _STORE_FIELDS]
    status_code, now, record_id, tenant_id = prepared_for_save(
        fields, [status_code, timezone.now(), record_id, require_tenant_id()], connection
    )
    body = None if answer is None else answer.decode()
    sql = _STORE if connection.vendor == "postgresql" else _STORE_TEXT
    with connection.cursor() as cursor:
        cursor.execute(sql, [status_code, body, now, record_id, tenant_id])


def once_per_form(request, key: str, scope: str, act, *, used: str) -> tuple[dict, bool]:
    """The pages' Idempotency-Key: `act() -> dict` (what to remember of what it wrote) runs
    once per form, its hidden `key` reserved with the write, so a double click or a resent form
    finds what the first one did, `(remembered, False)`, instead of doing it twice. A failed
    write rolls the key back with it; the same key with other data is refused (`used`)."""
    posted = {name: request.POST.getlist(name) for name in sorted(request.POST)}
    posted.pop("csrfmiddlewaretoken", None)  # a new token per page: not the form's data
    fingerprint = hashlib.sha256(json.dumps(posted, sort_keys=True).encode()).hexdigest()
    with in_range_or_refused():  # a savepoint, as the API's refusal of such a value
        record_id = idempotency_reserve(key, scope, fingerprint, request.user.pk)
        if record_id is None:
            record = IdempotencyRecord.objects.get(user=request.user.pk, key=key, scope=scope)
            if record.fingerprint != fingerprint or not record.response_body:
                raise Conflict(used, code="form_used")
            return record.response_body, False
        remembered = act()
        IdempotencyRecord.objects.filter(pk=record_id).update(
            status_code=201, response_body=remembered
        )
    return remembered, True
