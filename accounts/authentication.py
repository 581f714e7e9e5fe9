"""API authentication: a JWT access or context token, and the company it acts for.

The company comes from a context token (`tenant_id` claim) or from an access token plus the
`X-Company-ID` header. Either way the membership is checked on every request (cached, and the
cache is invalidated on every membership change), and only then is the tenant activated.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import UntypedToken
from rest_framework_simplejwt.utils import aware_utcnow

from ally360.tenancy import activate_tenant, tenant_setting_columns

from .models import Company, User
from .selectors import membership_role_get, user_by_id
from .tokens import TOKEN_CLASSES, tokens_still_valid

COMPANY_HEADER = "HTTP_X_COMPANY_ID"

# Tokens whose signature, type and claims this process has verified, by their exact text: a
# client sends one token on every request of its lifetime, and decoding and verifying it anew
# (twice: its type picks its class) was a twentieth of a POS sale. A token that fails is never
# kept; expiry is checked again on every use; what can revoke a valid token (the user's
# `token_version`, the membership) is read on every request anyway.
_verified: dict[str, object] = {}
_MAX_VERIFIED = 4096


@dataclass(frozen=True)
class TenantAuth:
    """`request.auth`: the verified token and, when one is selected, the company and role."""

    token: object
    company_id: uuid.UUID | None = None
    role: str | None = None

    @property
    def company(self) -> Company | None:
        if self.company_id is None:
            return None
        return Company.objects.get(pk=self.company_id)


class CompanyNotFound(exceptions.NotFound):
    default_detail = _("Company not found.")
    default_code = "company_not_found"


class TenantJWTAuthentication(BaseAuthentication):
    www_authenticate_realm = "api"

    def authenticate_header(self, request):
        return f'Bearer realm="{self.www_authenticate_realm}"'

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != b"bearer":
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("The Authorization header must be 'Bearer <token>'."),
                code="bad_authorization_header",
            )
        token = self._validated_token(header[1].decode("latin-1"))
        try:
            company_id = self._requested_company(request, token)
        except exceptions.APIException:
            self._user(token)  # an unknown or inactive user, a revoked token: 401 first
            raise
        if company_id is None:
            return self._user(token), TenantAuth(token=token)
        user_id = self._user_id(token)
        role = None
        if user_id is not None:
            role = membership_role_get(user_id=user_id, company_id=company_id)
        if role is None:
            self._user(token)  # an unknown or inactive user hears 401 before any 404
            raise CompanyNotFound()
        # The membership (cached) is proven, so the tenant's setting goes to the database with
        # the user's row: one statement. A write allows generic plans for its transaction
        # (ally360.db) in it too. The user is checked before the tenant becomes current.
        generic_plans = request.method not in SAFE_METHODS
        setting = tenant_setting_columns(company_id, generic_plans=generic_plans)
        user = self._user(token, also_select=setting)
        activate_tenant(company_id, generic_plans=generic_plans, sent=setting is not None)
        return user, TenantAuth(token=token, company_id=company_id, role=role)

    def _validated_token(self, raw: str):
        token = _verified.get(raw)
        if token is not None:
            try:
                token.check_exp(current_time=aware_utcnow())  # expiry: checked on every use
            except TokenError:
                raise exceptions.AuthenticationFailed(
                    _("The token is invalid or expired."), code="token_not_valid"
                )
            return token
        token = self._verified_now(raw)
        if len(_verified) >= _MAX_VERIFIED:
            _verified.clear()
        _verified[raw] = token
        return token

    def _verified_now(self, raw: str):
        try:
            # The unverified type only picks the class; the class then verifies the signature,
            # the expiry and that the type is its own (one signature check per request).
            token_type = UntypedToken(raw, verify=False).payload.get(jwt_settings.TOKEN_TYPE_CLAIM)
            # Unverified, it may be anything: a list or a dict must not reach the lookup.
            token_class = TOKEN_CLASSES.get(token_type) if isinstance(token_type, str) else None
            if token_class is None:
                raise exceptions.AuthenticationFailed(
                    _("This token cannot be used to call the API."), code="token_not_valid"
                )
            return token_class(raw)
        except TokenError:
            raise exceptions.AuthenticationFailed(
                _("The token is invalid or expired."), code="token_not_valid"
            )

    @staticmethod
    def _user_id(token) -> uuid.UUID | None:
        try:
            return uuid.UUID(str(token.payload.get(jwt_settings.USER_ID_CLAIM)))
        except ValueError:
            return None

    def _user(self, token, *, also_select: tuple[str, list] | None = None) -> User:
        user_id = token.payload.get(jwt_settings.USER_ID_CLAIM)
        user = user_by_id(user_id, also_select=also_select) if user_id else None
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed(
                _("User not found or inactive."), code="user_inactive"
            )
        if not tokens_still_valid(user, token):
            raise exceptions.AuthenticationFailed(
                _("The token is invalid or expired."), code="token_not_valid"
            )
        return user

    def _requested_company(self, request, token) -> uuid.UUID | None:
        header_value = request.META.get(COMPANY_HEADER, "").strip()
        header_company = self._parse_company_id(header_value) if header_value else None
        token_company = token.payload.get("tenant_id")
        if token_company is not None:
            token_company = self._parse_company_id(token_company)
            if header_company is not None and header_company != token_company:
                raise exceptions.PermissionDenied(
                    _("X-Company-ID does not match the company of the context token."),
                    code="company_mismatch",
                )
            return token_company
        return header_company

    @staticmethod
    def _parse_company_id(value: str) -> uuid.UUID:
        try:
            return uuid.UUID(str(value))
        except ValueError:
            raise CompanyNotFound()
