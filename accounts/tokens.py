"""JWTs: access (15 min) and rotating refresh (7 days) from simplejwt, plus the context token.

A context token is what `auth/select-company` returns: an access token that also names the
company (`tenant_id`) and the role at the time it was issued. The role in the token is
informational: every request re-checks the membership, so a removed member loses access at once.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, Token


class ContextToken(Token):
    token_type = "context"

    @property
    def lifetime(self):
        return settings.CONTEXT_TOKEN_LIFETIME


def tokens_for_user(user) -> dict:
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def context_token_for(user, company_id, role: str) -> ContextToken:
    token = ContextToken.for_user(user)
    token["tenant_id"] = str(company_id)
    token["role"] = role
    return token


TOKEN_CLASSES = {"access": AccessToken, "context": ContextToken}
