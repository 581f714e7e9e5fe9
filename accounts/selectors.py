from __future__ import annotations

import hashlib
import uuid

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import QuerySet

from ally360.db import HandWritten

from .models import Company, Invitation, Membership, User

MEMBERSHIP_CACHE_SECONDS = 300
_NO_MEMBERSHIP = "-"


_USER_BY_ID = HandWritten("SELECT {columns} FROM accounts_user u WHERE u.id = %s", (User, "u"))
# With other select-list items, run whether or not the user is found; by their text.
_USER_BY_ID_WITH: dict[str, HandWritten] = {}


def user_by_id(user_id, *, also_select: tuple[str, list] | None = None) -> User | None:
    """The user of an id, or None. Hand-written, as every authenticated request reads it and
    building the ORM's query cost more Python than PostgreSQL took to run it. `also_select`
    (select-list items and their parameters: the tenant's setting, `tenant_setting_columns`)
    runs in the same statement, found or not; on PostgreSQL only."""
    try:
        user_id = User._meta.pk.to_python(user_id)
    except ValidationError:
        user_id = None
    if also_select is None:
        if user_id is None:
            return None
        found = _USER_BY_ID.rows([User._meta.pk.get_db_prep_value(user_id, connection)])
        return found[0][0] if found else None
    also, params = also_select
    statement = _USER_BY_ID_WITH.get(also)
    if statement is None:
        # Only fixed texts of our own code are formatted in; values are parameters.
        statement = _USER_BY_ID_WITH[also] = HandWritten(
            f"SELECT {{columns}} FROM (SELECT {also}) t "  # noqa: S608
            "LEFT JOIN accounts_user u ON u.id = %s",
            (User, "u"),
        )
    ((user,),) = statement.rows([*params, user_id])
    return user


def membership_cache_key(user_id, company_id) -> str:
    return f"membership:{company_id}:{user_id}"


def membership_generation_key(user_id, company_id) -> str:
    return f"membership-generation:{company_id}:{user_id}"


def membership_role_get(*, user_id: uuid.UUID, company_id: uuid.UUID) -> str | None:
    """The user's role in an active company, or None. Cached; services invalidate on change.

    A cached role is stored with the membership's generation read before the database, and
    is used only while that generation is current: a request that read the old role while a
    change committed stores it under the old generation, which the change replaced, so it is
    never used (a plain delete-on-change would lose to that late write for 5 minutes). One
    round trip reads both."""
    key = membership_cache_key(user_id, company_id)
    generation_key = membership_generation_key(user_id, company_id)
    found = cache.get_many([key, generation_key])
    generation = found.get(generation_key, "")
    cached = found.get(key)
    if isinstance(cached, tuple) and cached[1] == generation:
        return None if cached[0] == _NO_MEMBERSHIP else cached[0]
    role = (
        Membership.objects.filter(
            user_id=user_id, company_id=company_id, is_active=True, company__is_active=True
        )
        .values_list("role", flat=True)
        .first()
    )
    cache.set(key, (role or _NO_MEMBERSHIP, generation), MEMBERSHIP_CACHE_SECONDS)
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


def invitation_token_hash(token: str) -> str:
    """What an invitation stores of its token (the token itself is only in the e-mail)."""
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_by_token(token: str) -> Invitation | None:
    """The invitation a link's token names (any status), with its company and who sent it; None
    for a token that names none. What the accept page shows before `invitation_accept`."""
    if not token:
        return None
    return (
        Invitation.objects.select_related("company", "invited_by")
        .filter(token_hash=invitation_token_hash(token))
        .first()
    )


def account_exists(email: str) -> bool:
    return User.objects.filter(email=email).exists()
