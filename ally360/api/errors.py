"""One JSON error shape for the whole API: {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

import decimal
import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django_ratelimit.exceptions import Ratelimited
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import set_rollback

from ally360.exceptions import ServiceError

logger = logging.getLogger("ally360.api")


def error_body(code: str, message: str, fields: dict | None = None, **extra) -> dict:
    body = {"code": code, "message": message, "fields": fields or {}}
    body.update(extra)
    return {"error": body}


def database_unavailable_body() -> tuple[dict, dict]:
    """The answer (body, headers) when the database went away mid-request or at commit: the
    transaction is lost as a whole, so nothing was written and the client may try again."""
    message = _("The database is unavailable. Nothing was saved; try again.")
    return error_body("database_unavailable", message), {"Retry-After": "5"}


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for value in detail.values():
            return _first_message(value)
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def _error_code(detail, default: str) -> str:
    code = getattr(detail, "code", None)
    return code if isinstance(code, str) else default


def exception_handler(exc, context):
    """DRF exception handler; every failed request is also rolled back."""
    headers = {}
    if isinstance(exc, (DataError, decimal.InvalidOperation)):
        # A value the database cannot store or compare (an out-of-range number or time zone in a
        # filter): the client's input, not a server fault. SQLite's adapter (the embedded
        # default) refuses a number too large for its column with InvalidOperation where
        # PostgreSQL answers DataError.
        logger.warning("Value out of range in %s: %s", context.get("view"), exc)
        set_rollback()
        return Response(
            error_body("value_out_of_range", _("A value in the request is out of range.")),
            status=400,
        )
    if isinstance(exc, (OperationalError, InterfaceError)):
        # The database went away mid-request (restart, failover, killed connection): the
        # transaction is lost as a whole, so nothing was written.
        logger.error("Database unavailable during %s: %s", context.get("view"), exc)
        set_rollback()
        body, headers = database_unavailable_body()
        return Response(body, status=503, headers=headers)

    if isinstance(exc, ServiceError):
        set_rollback()
        body = error_body(exc.code, exc.message, exc.fields, **exc.extra)
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, Ratelimited):
        exc = exceptions.Throttled()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if not isinstance(exc, exceptions.APIException):
        return None

    set_rollback()
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None) is not None:
        headers["Retry-After"] = str(max(1, int(exc.wait)))

    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, list):
            detail = {"non_field_errors": detail}
        message = _first_message(detail) if detail else _("Invalid input.")
        body = error_body("validation_error", message, detail)
    elif isinstance(exc, exceptions.Throttled):
        body = error_body("rate_limited", _("Too many requests. Try again later."))
        headers.setdefault("Retry-After", "60")
    else:
        default_code = getattr(exc, "default_code", "error")
        body = error_body(_error_code(exc.detail, default_code), _first_message(exc.detail))
    return Response(body, status=exc.status_code, headers=headers)


def json_error(request, code: str, message: str, status_code: int) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status_code)


def handler404(request, exception=None):
    if request.path.startswith("/api/"):
        return json_error(request, "not_found", _("Not found."), status.HTTP_404_NOT_FOUND)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request):
    if request.path.startswith("/api/"):
        return json_error(
            request,
            "server_error",
            _("Internal server error."),
            status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    from django.views.defaults import server_error

    return server_error(request)


__all__ = ["exception_handler", "handler404", "handler500", "error_body"]
