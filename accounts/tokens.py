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


# The user's `token_version` when the token was issued; access tokens made from a refresh token
# copy it.
VERSION_CLAIM = "ver"


def tokens_for_user(user) -> dict:
    refresh = RefreshToken.for_user(user)
    refresh[VERSION_CLAIM] = user.token_version
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def context_token_for(
    user, company_id, role: str, *, expires_by: int | None = None
) -> ContextToken:
    """A token for one company. `expires_by` (a timestamp, the `exp` of the token that asked
    for it) caps its expiry: selecting again and again never extends a session past the
    token it started from."""
    token = ContextToken.for_user(user)
    token[VERSION_CLAIM] = user.token_version
    token["tenant_id"] = str(company_id)
    token["role"] = role
    if expires_by is not None and expires_by < token["exp"]:
        token["exp"] = expires_by
    return token


def tokens_still_valid(user, token) -> bool:
    """False for a token issued before the user's password last changed or was reset (an
    earlier `token_version`): whoever held it no longer holds the account."""
    return token.payload.get(VERSION_CLAIM, 0) == user.token_version


TOKEN_CLASSES = {"access": AccessToken, "context": ContextToken}
