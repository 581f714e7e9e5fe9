"""The OpenAPI schema's error answers: every operation documents the one error envelope of
`ally360.api.errors` for the statuses it can answer, so a client (and the fuzzing test) can
check an error answer against the schema like a success."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import get_lib_doc_excludes
from rest_framework import serializers

from .serializers import ModelSerializer, OverdueFieldsMixin, Serializer


def lib_doc_excludes() -> list:
    """drf-spectacular describes a schema component with the first docstring up its classes
    before DRF's own (`GET_LIB_DOC_EXCLUDES`): the project's base serializers stop it too, so a
    serializer without a docstring has no description instead of the base class's notes."""
    return [*get_lib_doc_excludes(), ModelSerializer, Serializer, OverdueFieldsMixin]


class ErrorDetailSerializer(Serializer):
    """What went wrong."""

    code = serializers.CharField(help_text="Stable, machine-readable: `validation_error`, …")
    message = serializers.CharField(help_text="For people, in the request's language.")
    fields = serializers.DictField(
        help_text="Per input field (nested as the input is), its messages; empty otherwise."
    )


class ErrorSerializer(Serializer):
    """Every error answer of the API."""

    error = ErrorDetailSerializer()


# Any operation: bad input or filter (400), no or bad token (401), a role that may not (403), an
# unknown id or company (404), a state that does not allow it (409: a write that breaks a rule,
# a download of a file not ready), too many requests (429), the database unavailable (503).
ERROR_STATUSES = ("400", "401", "403", "404", "409", "429", "503")


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status_code in ERROR_STATUSES:
            if status_code not in responses:
                responses[status_code] = self._get_response_for_code(
                    ErrorSerializer, status_code, direction=direction
                )
        return responses
