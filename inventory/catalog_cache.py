"""Whole pages of the catalog lists (`products/`, `variants/`), cached per company.

A catalog page reads ten statements over five levels (products, variants, stock per point of
sale, taxes, prices, images), while a shop's catalog changes far less often than the counter
and the back-office read it. A page is stored with the generations it was read under — the
company's and the one for writes made outside any company — and served only while both are
still current; every answer keeps its own key (company, role, the full URL with its host).

Invalidation does not rely on each service remembering it. Every statement the application runs
passes through `note_catalog_writes`, a database execute wrapper like the tenant guard: an
INSERT, UPDATE or DELETE on a table a catalog page reads gives the company a new generation once
the transaction commits. A rolled-back transaction, or savepoint, drops it with its writes.
Services, the back-office, commands, tasks and the pages are covered alike. A test reads the SQL
of every catalog list shape and checks that each table it names is watched, so a level added
later cannot be forgotten.

Why this is safe against a read racing a write: a generation is read before the database, so a
page read under it holds at least what had committed when it changed; a request that read the
old data while a write committed stores it with the old generation, which is never served again.
A missing generation (Redis restarted, or evicted it) is replaced by a new random one, never
read as "no change". A write whose new generation cannot be stored (Redis down at that moment,
back a second later with its keys) leaves pages at most `CATALOG_CACHE_SECONDS` old; sales and
stock never read these pages, they read and lock their own rows.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import get_language

from ally360.tenancy import get_current_tenant_id

_GENERATION_KEY = "catalog-generation:{}"
_PAGE_KEY = "catalog-page:{}:{}"
_ANY_COMPANY = "all"  # writes made outside any company (the back-office, commands)
_WRITE = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
_WRITE_INITIALS = frozenset("IUDiud \n")

# Pages of more rows are read every time, not kept: Redis is also the broker and evicts
# nothing, and a caller varying its URLs at the API's rate limit (600 a minute) then keeps
# at most 600 pages of 50 products per company alive (each lives CATALOG_CACHE_SECONDS).
MAX_PAGE_ROWS = 50

_watched: frozenset[str] | None = None


def enabled() -> bool:
    return settings.CATALOG_CACHE_SECONDS > 0


def catalog_tables() -> frozenset[str]:
    """Every table a catalog page reads (checked against their SQL by a test)."""
    global _watched
    if _watched is None:
        from files.models import FileObject
        from pos.models import PDV
        from products.models import (
            Brand,
            Category,
            PriceList,
            PriceListItem,
            Product,
            ProductImage,
            ProductTax,
            Tax,
            Unit,
            Variant,
        )

        from .models import Stock

        models = (Brand, Category, FileObject, PDV, PriceList, PriceListItem, Product)
        models += (ProductImage, ProductTax, Stock, Tax, Unit, Variant)
        _watched = frozenset(model._meta.db_table for model in models)
    return _watched


def note_catalog_writes(execute, sql, params, many, context):
    """Database execute wrapper: a write to a catalog table renews its company's generation at
    once and again when the transaction commits.

    At once, because a page read later in the same transaction (its own request, or a test) sees
    the write; on commit, because a page read by others in between still holds the old rows."""
    result = execute(sql, params, many, context)
    if isinstance(sql, str) and sql[:1] in _WRITE_INITIALS:
        match = _WRITE.match(sql)
        if match and match.group(1) in catalog_tables():
            scope = get_current_tenant_id() or _ANY_COMPANY
            _renew(scope)
            _renew_on_commit(context["connection"], scope)
    return result


def _renew_on_commit(connection, scope) -> None:
    # Once per transaction and company: a sale writes several catalog rows.
    for _savepoints, callback, *_ in connection.run_on_commit:
        if getattr(callback, "catalog_scope", None) == scope:
            return
    callback = partial(_renew, scope)
    callback.catalog_scope = scope
    connection.on_commit(callback)  # in autocommit: at once


def _renew(scope) -> None:
    cache.set(_GENERATION_KEY.format(scope), uuid.uuid4().hex, None)  # no expiry, see above


def install(connection, **kwargs) -> None:
    """`connection_created` receiver."""
    if enabled() and note_catalog_writes not in connection.execute_wrappers:
        connection.execute_wrappers.append(note_catalog_writes)


def cached_page(request, tenant_id, role: str | None, build: Callable[[], object]):
    """The page's answer from the cache while the catalog has not changed, else `build()`'s,
    stored. With the cache off or not answering, `build()`'s."""
    if not enabled():
        return build()
    # The host makes the answer's links and image URLs; the language, should a label be shown.
    shown_for = f"{role}|{get_language()}|{request.build_absolute_uri()}"
    page_key = _PAGE_KEY.format(tenant_id, hashlib.sha256(shown_for.encode()).hexdigest())
    generation_keys = [_GENERATION_KEY.format(tenant_id), _GENERATION_KEY.format(_ANY_COMPANY)]
    found = cache.get_many([page_key, *generation_keys])
    generations = _generations(found, generation_keys)
    if generations is None:
        return build()
    cached = found.get(page_key)
    if isinstance(cached, tuple) and cached[0] == generations:
        return cached[1]
    data = build()
    cache.set(page_key, (generations, data), settings.CATALOG_CACHE_SECONDS)
    return data


def _generations(found: dict, keys: list[str]) -> tuple[str, ...] | None:
    missing = [key for key in keys if key not in found]
    if missing:
        for key in missing:
            cache.add(key, uuid.uuid4().hex, None)
        found = {**found, **cache.get_many(missing)}
        if any(key not in found for key in keys):
            return None  # the cache does not answer: read the database
    return tuple(found[key] for key in keys)
