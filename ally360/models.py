"""TenantModel: the base of every business model, scoped to the current tenant."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.sql.where import AND
from django.utils.translation import gettext_lazy as _

from .db import insert_rows, update_rows, write_together
from .money import MONEY
from .tenancy import (
    TenantMismatchError,
    TenantNotSetError,
    get_current_tenant_id,
    is_cross_tenant,
    require_tenant_id,
)


def assign_tenant(obj: models.Model) -> None:
    """Writes take the tenant from the context, never from input."""
    if obj.tenant_id is None:
        obj.tenant_id = require_tenant_id()
    else:
        check_same_tenant(obj)


def check_same_tenant(obj: models.Model) -> None:
    """An instance is saved, deleted or reloaded only inside its own tenant's context (or the
    explicit cross-tenant escape): the same fail-closed rule as the manager's querysets."""
    if obj.tenant_id != require_tenant_id():
        raise TenantMismatchError(
            f"{obj.__class__.__name__} belongs to another tenant than the current one."
        )


_NO_TENANT = object()


class TenantQuerySet(models.QuerySet):
    """A queryset that remembers the tenant it was built for and refuses to run for any other.

    Building a queryset (`filter`, `exclude`, `values`, `.query`) never touches the database and
    is allowed anywhere, so that class-level declarations (filters, serializers) can exist. Every
    operation that runs SQL checks, at that moment, that the current tenant is the one the
    queryset was built for: a queryset built without a tenant (e.g. at import time) or for
    another tenant raises instead of running.
    """

    _scope = _NO_TENANT  # the tenant id this queryset is filtered on, or "cross" for all_tenants

    def _clone(self):
        clone = super()._clone()
        clone._scope = self._scope
        return clone

    def _check_scope(self) -> None:
        if self._scope == "cross":
            if not is_cross_tenant():
                raise TenantNotSetError(
                    f"{self.model.__name__}.all_tenants is only usable inside cross_tenant()."
                )
            return
        current = require_tenant_id()
        if self._scope is _NO_TENANT:
            raise TenantNotSetError(
                f"This {self.model.__name__} queryset was built with no tenant active (at import "
                "time?). Build it inside the request: pass the manager, not a queryset."
            )
        if self._scope != current:
            raise TenantMismatchError(
                f"This {self.model.__name__} queryset belongs to another tenant than the current one."
            )

    # Every path that runs SQL goes through one of these.
    def _fetch_all(self):
        if self._result_cache is None:
            self._check_scope()
        super()._fetch_all()

    def _iterator(self, use_chunked_fetch, chunk_size):
        self._check_scope()
        yield from super()._iterator(use_chunked_fetch, chunk_size)

    def aiterator(self, chunk_size=2000):
        self._check_scope()
        return super().aiterator(chunk_size)

    def count(self):
        if self._result_cache is None:
            self._check_scope()
        return super().count()

    def exists(self):
        if self._result_cache is None:
            self._check_scope()
        return super().exists()

    def contains(self, obj):
        self._check_scope()
        return super().contains(obj)

    def aggregate(self, *args, **kwargs):
        self._check_scope()
        return super().aggregate(*args, **kwargs)

    def update(self, **kwargs):
        self._check_scope()
        return super().update(**kwargs)

    def _update(self, values):
        self._check_scope()
        return super()._update(values)

    def delete(self):
        self._check_scope()
        return super().delete()

    def explain(self, *, format=None, **options):
        self._check_scope()
        return super().explain(format=format, **options)

    def raw(self, raw_query, params=(), translations=None, using=None):
        self._check_scope()
        return super().raw(raw_query, params, translations, using)

    def bulk_create(self, objs, *args, **kwargs):
        self._check_scope()
        objs = list(objs)
        for obj in objs:
            assign_tenant(obj)
        if not (args or kwargs) and insert_rows(self, objs):
            return objs
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs, fields, batch_size=None):
        self._check_scope()
        objs = list(objs)
        if batch_size is None:
            updated = update_rows(self, objs, list(fields))
            if updated is not None:
                return updated
        return super().bulk_update(objs, fields, batch_size)

    def get_or_create(self, defaults=None, **kwargs):
        self._check_scope()
        return super().get_or_create(defaults, **kwargs)

    def update_or_create(self, defaults=None, create_defaults=None, **kwargs):
        self._check_scope()
        return super().update_or_create(defaults, create_defaults, **kwargs)

    def create(self, **kwargs):
        self._check_scope()
        return super().create(**kwargs)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """Fail-closed: querysets are filtered on the current tenant, and no query runs without one.

    Every operation that runs SQL (iteration, get, first, count, exists, aggregate, update,
    delete, values, in_bulk, iterator, bulk_create, bulk_update, get_or_create,
    update_or_create and their async variants) raises `TenantNotSetError` with no tenant.
    """

    def get_queryset(self):
        queryset = super().get_queryset()
        tenant_id = get_current_tenant_id()
        if tenant_id is None:
            return queryset  # unscoped, and refuses to run (see TenantQuerySet)
        # The condition `filter(tenant_id=...)` builds, added directly: resolving the lookup
        # path on every queryset cost 47 µs of the 10 µs this takes, a dozen times a request.
        # A test checks that the SQL is filter()'s.
        query = queryset.query
        tenant = self.model._meta.get_field("tenant")
        exact = tenant.get_lookup("exact")
        query.where.add(exact(tenant.get_col(query.get_initial_alias()), tenant_id), AND)
        queryset._scope = tenant_id
        return queryset


class CrossTenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """Unscoped access for the back-office, migrations and operator commands.

    Usable only inside `cross_tenant()`, which also lifts row-level security; grep for
    `all_tenants` to review every use.
    """

    def get_queryset(self):
        queryset = super().get_queryset()
        queryset._scope = "cross"
        return queryset


class Writes:
    """Rows to create and update, gathered to be written at once: on PostgreSQL in one
    statement (`ally360.db.write_together`), elsewhere by `bulk_create` and `bulk_update` in
    turn. For a document whose rows are all known before any is written — a POS sale's
    invoice, lines and payments, its stock rows and ledger: one round trip instead of three.
    The writes see the database as it was before them, so none may depend on another's rows;
    the caller runs them in its transaction before anything reads those rows."""

    def __init__(self):
        self._writes: list[tuple] = []

    def create(self, model: type[models.Model], objs) -> list:
        """`model.objects.bulk_create(objs)`, when run; the objects, with their tenant."""
        queryset = model.objects.all()
        queryset._check_scope()
        objs = list(objs)
        for obj in objs:
            assign_tenant(obj)
        self._writes.append(("create", queryset, objs))
        return objs

    def update(self, model: type[models.Model], objs, fields: list[str]) -> None:
        """`model.objects.bulk_update(objs, fields)`, when run."""
        queryset = model.objects.all()
        queryset._check_scope()
        self._writes.append(("update", queryset, list(objs), list(fields)))

    def run(self) -> None:
        writes, self._writes = self._writes, []
        if write_together(writes):
            return
        for kind, queryset, objs, *fields in writes:
            if kind == "create":
                queryset.bulk_create(objs)
            else:
                queryset.bulk_update(objs, fields[0])


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

    def delete(self, *args, **kwargs):
        if not is_cross_tenant():
            check_same_tenant(self)
        return super().delete(*args, **kwargs)

    def refresh_from_db(self, *args, **kwargs):
        if not is_cross_tenant():
            if "tenant_id" in self.get_deferred_fields():
                # `.only()` left the tenant out: load it first (the check reads it, and reading
                # a deferred field reloads the instance, which checks again, forever).
                super().refresh_from_db(fields=["tenant_id"])
            check_same_tenant(self)
        super().refresh_from_db(*args, **kwargs)


MONEY_FIELD = {**MONEY, "default": Decimal("0")}


class DocumentTotalsFields(models.Model):
    """The stored totals of a fiscal document (invoice, credit note, bill, debit note), set from
    its lines by `ally360.documents.apply_totals`."""

    subtotal = models.DecimalField(_("subtotal"), **MONEY_FIELD)
    discount_total = models.DecimalField(_("discount"), **MONEY_FIELD)
    tax_total = models.DecimalField(_("taxes"), **MONEY_FIELD)
    total = models.DecimalField(_("total"), **MONEY_FIELD)
    tax_breakdown = models.JSONField(_("taxes per tax"), default=list, blank=True)

    class Meta:
        abstract = True


class DocumentSequence(TenantModel):
    """The next internal number of one kind of document (see ally360.sequences)."""

    kind = models.CharField(max_length=40)
    next_value = models.PositiveBigIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "kind"], name="core_sequence_unique_kind"),
        ]

    def __str__(self):
        return f"{self.kind}: {self.next_value}"


class IdempotencyRecord(TenantModel):
    """The first answer to a request sent with an `Idempotency-Key` (see ally360.idempotency).

    Keys belong to the user who sent them: two cashiers whose tills both count keys from 1 make
    two sales, and nobody replays an answer made for another user's role."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    scope = models.CharField(
        max_length=255, help_text="Method, route name and URL arguments of the request."
    )
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request body.")
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True, encoder=DjangoJSONEncoder)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "user", "scope", "key"], name="core_idempotency_unique_user_key"
            ),
        ]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self):
        return f"{self.scope} {self.key}"


class TaskOutbox(models.Model):
    """A task to publish to the broker, written in the same transaction as the data it is about.

    After the commit the task is published and its row deleted; when the broker is down the row
    stays, and the beat job `publish_pending_tasks` publishes it once the broker is back. Tasks
    are idempotent, so the rare double publication (a crash between publish and delete) is safe.
    """

    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list, encoder=DjangoJSONEncoder)
    kwargs = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self):
        return self.task_name


__all__ = [
    "TenantModel",
    "TenantManager",
    "CrossTenantManager",
    "TenantNotSetError",
    "DocumentSequence",
]
