from __future__ import annotations

import uuid

from django.core.cache import cache
from django.db.models import QuerySet

from .models import Company, Invitation, Membership, User

MEMBERSHIP_CACHE_SECONDS = 300
_NO_MEMBERSHIP = "-"


def membership_cache_key(user_id, company_id) -> str:
    return f"membership:{company_id}:{user_id}"


def membership_role_get(*, user_id: uuid.UUID, company_id: uuid.UUID) -> str | None:
    """The user's role in an active company, or None. Cached; services invalidate on change."""
    key = membership_cache_key(user_id, company_id)
    cached = cache.get(key)
    if cached is not None:
        return None if cached == _NO_MEMBERSHIP else cached
    role = (
        Membership.objects.filter(
            user_id=user_id, company_id=company_id, is_active=True, company__is_active=True
        )
        .values_list("role", flat=True)
        .first()
    )
    cache.set(key, role or _NO_MEMBERSHIP, MEMBERSHIP_CACHE_SECONDS)
    return role


def user_memberships(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user, is_active=True, company__is_active=True)
        .select_related("company")
        .order_by("company__name")
    )


def company_members(*, company: Company) -> QuerySet[Membership]:
    return Membership.objects.filter(company=company).select_related("user").order_by("user__email")


def company_invitations(*, company: Company) -> QuerySet[Invitation]:
    return Invitation.objects.filter(company=company).select_related("invited_by")
