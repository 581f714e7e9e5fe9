"""The current tenant: a ContextVar, mirrored into PostgreSQL for row-level security.

The tenant is set in one of two ways only:

* by the API authentication, after it has proven that the user is an active member of the
  company (`activate_tenant`); `TenantContextMiddleware` resets it when the request ends;
* by `tenant_context(tenant_id)` for code outside a request (Celery tasks, commands, tests).

Either way the id is also written to the transaction-local setting `app.tenant_id`, which the
row-level-security policies compare with each row's `tenant_id`. Being transaction-local it can
never survive on a pooled connection. `cross_tenant()` is the single, greppable escape used by the
back-office, migrations and operator commands.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from .db import GENERIC_PLANS_SQL

TENANT_SETTING = "app.tenant_id"
BYPASS_SETTING = "app.rls_bypass"

_current_tenant: ContextVar[uuid.UUID | None] = ContextVar("ally360_tenant", default=None)
_cross_tenant: ContextVar[bool] = ContextVar("ally360_cross_tenant", default=False)


class TenantNotSetError(RuntimeError):
    """A tenant-scoped query was attempted with no current tenant."""


class TenantMismatchError(RuntimeError):
    """An object of one tenant was about to be written under another tenant."""


def _as_uuid(tenant) -> uuid.UUID:
    if isinstance(tenant, uuid.UUID):
        return tenant
    if hasattr(tenant, "pk"):
        return tenant.pk
    return uuid.UUID(str(tenant))


def get_current_tenant_id() -> uuid.UUID | None:
    return _current_tenant.get()


def require_tenant_id() -> uuid.UUID:
    tenant_id = _current_tenant.get()
    if tenant_id is None:
        raise TenantNotSetError(
            "No tenant is active. Tenant data can only be read or written inside a request "
            "authenticated for a company or inside tenant_context(tenant_id); cross-tenant "
            "back-office code uses Model.all_tenants inside cross_tenant()."
        )
    return tenant_id


def is_cross_tenant() -> bool:
    return _cross_tenant.get()


def _set_database_setting(name: str, value: str, using: str) -> str | None:
    """Set a transaction-local setting and return its previous value (PostgreSQL only)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting(%s, true), set_config(%s, %s, true)", [name, name, value]
        )
        return cursor.fetchone()[0] or ""


def tenant_setting_columns(
    tenant, *, generic_plans: bool, using: str = DEFAULT_DB_ALIAS
) -> tuple[str, list] | None:
    """The database side of `activate_tenant` as select-list items and their parameters, for a
    caller to send within a statement it runs anyway (the authentication, with the user's row:
    one round trip less on every request); None where the setting goes alone (not PostgreSQL,
    or outside a transaction). The caller then calls `activate_tenant(..., sent=True)`."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return None
    columns = "set_config(%s, %s, true)" + (f", {GENERIC_PLANS_SQL}" if generic_plans else "")
    return columns, [TENANT_SETTING, str(_as_uuid(tenant))]


def activate_tenant(
    tenant, *, using: str = DEFAULT_DB_ALIAS, generic_plans: bool = False, sent: bool = False
) -> uuid.UUID:
    """Make `tenant` current for the rest of the request.

    Called by the API authentication once membership is proven; the request's transaction
    (ATOMIC_REQUESTS) carries the database setting and `TenantContextMiddleware` resets the
    ContextVar when the request ends. `generic_plans` (write requests) also lets PostgreSQL
    reuse generic plans until the transaction ends, in the same statement (`ally360.db`).
    `sent`: the caller sent `tenant_setting_columns` in this transaction already.
    """
    tenant_id = _as_uuid(tenant)
    _current_tenant.set(tenant_id)
    if sent:
        return tenant_id
    connection = connections[using]
    if generic_plans and connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT set_config(%s, %s, true), {GENERIC_PLANS_SQL}",
                [TENANT_SETTING, str(tenant_id)],
            )
    else:
        _set_database_setting(TENANT_SETTING, str(tenant_id), using)
    return tenant_id


@contextmanager
def _database_setting(name: str, value: str, using: str) -> Iterator[None]:
    with transaction.atomic(using=using):
        previous = _set_database_setting(name, value, using)
        yield
        # On an exception the (sub)transaction rolls back and PostgreSQL restores the
        # setting itself; on success a released savepoint would keep it, so restore it.
        connection = connections[using]
        if previous is not None and not connection.needs_rollback:
            _set_database_setting(name, previous, using)


@contextmanager
def tenant_context(tenant, *, using: str = DEFAULT_DB_ALIAS) -> Iterator[uuid.UUID]:
    """Run the block as `tenant`, inside a transaction that carries the tenant setting."""
    tenant_id = _as_uuid(tenant)
    token = _current_tenant.set(tenant_id)
    try:
        with _database_setting(TENANT_SETTING, str(tenant_id), using):
            yield tenant_id
    finally:
        _current_tenant.reset(token)


@contextmanager
def no_tenant() -> Iterator[None]:
    """Run the block with no tenant (e.g. a user-level lookup inside a tenant request)."""
    token = _current_tenant.set(None)
    try:
        yield
    finally:
        _current_tenant.reset(token)


@contextmanager
def cross_tenant(*, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """THE escape from tenant isolation (ORM scoping and row-level security).

    Only the admin back-office, migrations and operator commands may use it; grep for
    `cross_tenant(` to review every use.
    """
    token = _cross_tenant.set(True)
    try:
        with _database_setting(BYPASS_SETTING, "on", using):
            yield
    finally:
        _cross_tenant.reset(token)


@contextmanager
def request_scope() -> Iterator[None]:
    """Start a request or task with no tenant and guarantee the reset afterwards."""
    tenant_token = _current_tenant.set(None)
    cross_token = _cross_tenant.set(False)
    try:
        yield
    finally:
        _current_tenant.reset(tenant_token)
        _cross_tenant.reset(cross_token)


def guard_tenant_queries(execute, sql, params, many, context):
    """Database execute wrapper: tenant queries must run inside a transaction.

    Outside a transaction a transaction-local setting would already be gone, and row-level
    security would silently hide every row. Failing loudly finds such code at once.
    """
    connection = context["connection"]
    if (
        _current_tenant.get() is not None or _cross_tenant.get()
    ) and not connection.in_atomic_block:
        raise TenantNotSetError(
            "A query ran in tenant context outside a transaction; wrap the code in "
            "tenant_context(...) so the row-level-security setting applies."
        )
    return execute(sql, params, many, context)
