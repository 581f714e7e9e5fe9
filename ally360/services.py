"""Small helpers shared by every app's services."""

from __future__ import annotations

import decimal
import functools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from django.db import DataError, IntegrityError, models, transaction
from django.db.models.deletion import ProtectedError, RestrictedError
from django.utils.translation import gettext as _

from .exceptions import Conflict, ValidationFailed
from .tenancy import require_tenant_id


def atomic_service(func: Callable) -> Callable:
    """`@transaction.atomic` for a service, plus `service.within(...)`: the same body without a
    savepoint of its own, for another service that composes it inside its transaction (each
    nested atomic block costs two round trips, SAVEPOINT and RELEASE, and the composite rolls
    back as a whole anyway)."""

    @functools.wraps(func)
    def within(*args, **kwargs):
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError(f"{func.__name__}.within() must run inside a transaction.")
        return func(*args, **kwargs)

    service = transaction.atomic(func)
    service.within = within
    return service


def ensure_tenant(*objects, field: str | None = None) -> None:
    """Refuse objects of another tenant passed to a service (RI checks bypass row security)."""
    tenant_id = require_tenant_id()
    for obj in objects:
        if obj is not None and getattr(obj, "tenant_id", tenant_id) != tenant_id:
            message = f"{obj.__class__.__name__} does not exist."
            raise ValidationFailed(message, fields={field: [message]} if field else None)


def model_update(instance: models.Model, data: dict, fields: Iterable[str]) -> list[str]:
    """Set the allowed `fields` present in `data`; save only what changed. Returns the names."""
    changed = []
    for name in fields:
        if name in data and getattr(instance, name) != data[name]:
            setattr(instance, name, data[name])
            changed.append(name)
    if changed:
        instance.full_clean(
            exclude=[f.name for f in instance._meta.fields if f.name not in changed]
        )
        update_fields = list(changed)
        if any(f.name == "updated_at" for f in instance._meta.fields):
            update_fields.append("updated_at")
        instance.save(update_fields=update_fields)
    return changed


def delete_unless_used(instance: models.Model, *, message: str) -> None:
    """Delete a row nothing refers to; a row used by documents answers 409 instead.

    Documents point at master data with PROTECT foreign keys, so the database itself tells
    whether the row is in use, without this app knowing the apps above it.
    """
    try:
        with transaction.atomic():
            instance.delete()
    except (ProtectedError, RestrictedError):
        raise Conflict(message, code="in_use")


def is_unique_violation(exc: IntegrityError) -> bool:
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if sqlstate is not None:
        return sqlstate == "23505"
    return "UNIQUE constraint failed" in str(exc)


@contextmanager
def in_range_or_refused() -> Iterator[None]:
    """A value no check caught that a column cannot hold (PostgreSQL's DataError; SQLite's
    adapter raises decimal.InvalidOperation), written by a page's service: the block's
    savepoint is rolled back and the page refuses it as the API does (400
    `value_out_of_range`), where it showed an error page."""
    try:
        with transaction.atomic():
            yield
    except (DataError, decimal.InvalidOperation) as exc:
        raise ValidationFailed(
            _("A value in the request is out of range."), code="value_out_of_range"
        ) from exc


@contextmanager
def unique_or_conflict(
    message: str, *, field: str | None = None, code: str = "duplicate"
) -> Iterator[None]:
    """Turn a unique-constraint violation in the block into a clear 409 (never a 500).

    Services check first for a friendly message; this catches the race the check cannot.
    """
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        raise Conflict(message, code=code, fields={field: [message]} if field else None)
