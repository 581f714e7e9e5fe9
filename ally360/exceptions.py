"""Business errors raised by services and mapped to the API's one error shape.

Services raise these; the API exception handler answers
`{"error": {"code", "message", "fields"}}` with the status each class carries.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    status_code = 400
    default_code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        fields: dict | None = None,
        extra: dict[str, Any] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.fields = fields or {}
        self.extra = extra or {}


class ValidationFailed(ServiceError):
    """The input is wrong (400)."""

    status_code = 400
    default_code = "validation_error"


class AuthenticationError(ServiceError):
    status_code = 401
    default_code = "not_authenticated"


class PermissionDeniedError(ServiceError):
    status_code = 403
    default_code = "permission_denied"


class NotFound(ServiceError):
    status_code = 404
    default_code = "not_found"


class Conflict(ServiceError):
    """The request is well formed but the current state forbids it (409)."""

    status_code = 409
    default_code = "conflict"


class ServiceUnavailable(ServiceError):
    status_code = 503
    default_code = "service_unavailable"
