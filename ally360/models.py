"""TenantModel: the base of every business model, scoped to the current tenant."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from .tenancy import (
    TenantMismatchError,
    TenantNotSetError,
    get_current_tenant_id,
    is_cross_tenant,
    require_tenant_id,
)


def assign_tenant(obj: models.Model) -> None:
    """Writes take the tenant from the context, never from input."""
    current = get_current_tenant_id()
    if obj.tenant_id is None:
        obj.tenant_id = require_tenant_id()
    elif current is not None and obj.tenant_id != current:
        raise TenantMismatchError(
            f"{obj.__class__.__name__} belongs to another tenant than the current one."
        )


class TenantQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for obj in objs:
            assign_tenant(obj)
        return super().bulk_create(objs, *args, **kwargs)

    async def abulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for obj in objs:
            assign_tenant(obj)
        return await super().abulk_create(objs, *args, **kwargs)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """Fail-closed: every operation filters on the current tenant, or raises without one.

    Every queryset operation (iteration, get, count, exists, aggregate, update, delete, values,
    in_bulk, iterator, bulk_create, bulk_update, get_or_create, update_or_create and their async
    variants) starts from `get_queryset()`, which raises `TenantNotSetError` with no tenant.
    """

    def get_queryset(self):
        return super().get_queryset().filter(tenant_id=require_tenant_id())


class CrossTenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """Unscoped access for the back-office, migrations and operator commands.

    Usable only inside `cross_tenant()`, which also lifts row-level security; grep for
    `all_tenants` to review every use.
    """

    def get_queryset(self):
        if not is_cross_tenant():
            raise TenantNotSetError(
                f"{self.model.__name__}.all_tenants is only usable inside cross_tenant()."
            )
        return super().get_queryset()


class TenantModel(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(
        "accounts.Company",
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        verbose_name=_("company"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = TenantManager()
    all_tenants = CrossTenantManager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not is_cross_tenant():
            assign_tenant(self)
        super().save(*args, **kwargs)


__all__ = ["TenantModel", "TenantManager", "CrossTenantManager", "TenantNotSetError"]
