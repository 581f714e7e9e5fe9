"""`Idempotency-Key` on POSTs that create documents or payments.

The first request with a key stores its answer in the same transaction as the document it
created; a retry with the same key and body gets that answer back (header `Idempotent-Replayed`)
and creates nothing. The same key with a different body is a 409. Two concurrent requests with
one key serialize on the unique index: the second waits for the first to commit, then replays it.
A failed request rolls its record back, so it can be retried.
"""

from __future__ import annotations

import hashlib
import json
from functools import wraps

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from .exceptions import Conflict, ValidationFailed
from .models import IdempotencyRecord

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


def idempotent(view_method):
    @wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER, "").strip()
        if not key or request.method != "POST":
            return view_method(self, request, *args, **kwargs)
        if len(key) > 100:
            raise ValidationFailed(_("The Idempotency-Key header has at most 100 characters."))
        scope = f"{request.method} {request.path}"[:255]
        fingerprint = _fingerprint(request)
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    key=key, scope=scope, fingerprint=fingerprint
                )
        except IntegrityError:
            record = IdempotencyRecord.objects.get(key=key, scope=scope)
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
            record.status_code = response.status_code
            record.response_body = response.data
            record.save(update_fields=["status_code", "response_body", "updated_at"])
        return response

    return wrapper
