"""Whole pages of the catalog lists (`products/`, `variants/`), cached per company.

A catalog page reads ten statements over five levels (products, variants, taxes, prices,
images), while a shop's catalog changes far less often than the counter and the back-office
read it. A page is stored with the generations it was read under — the company's and the one
for writes made outside any company — and served only while both are still current; every
answer keeps its own key (company, role, language, the full URL with its host). Stock is not
kept with it: every sale changes it, so each answer reads its page's stock anew (one statement,
`inventory.api.StockFiller`), pages filtered on stock levels are never kept, and a sale renews
no page.

Invalidation does not rely on each service remembering it. Every statement the application runs
passes through `note_catalog_writes`, a database execute wrapper like the tenant guard: any
statement but a read that names a table a catalog page reads (an INSERT, UPDATE or DELETE
however written: a CTE, comments, a schema, any case) gives the company a new generation when
its transaction commits, once per transaction; a rolled-back transaction, or savepoint, drops it
with its writes. Services, the back-office, commands, tasks and the pages are covered alike, and
every process with Redis watches, also one with the cache itself turned off. A test reads the
SQL of every catalog list shape and checks that each table it names is watched, so a level added
later cannot be forgotten.

Why this is safe against a read racing a write: a generation is read before the database, so a
page read under it holds at least what had committed when it changed; a request that read the
old data while a write committed stores it with the old generation, which is never served again.
A transaction that has written catalog rows itself reads its pages from the database and keeps
none (they hold rows that may still roll back). A missing generation (Redis restarted, or
evicted it) is replaced by a new random one, never read as "no change". A write whose new
generation cannot be stored (Redis down at that moment, back a second later with its keys)
leaves pages at most `CATALOG_CACHE_SECONDS` old; sales never read these pages, they read and
lock their own rows.

What is kept is bounded, since Redis is also the broker and evicts nothing: pages of at most
`MAX_PAGE_ROWS` rows and `MAX_PAGE_BYTES`, with no query parameter the list does not read, and at
most `MAX_STORED_BYTES_PER_MINUTE` of new pages a minute per company, each for
`CATALOG_CACHE_SECONDS`.
"""

from __future__ import annotations

import hashlib
import pickle
import re
import time
import uuid
from collections.abc import Callable
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils.translation import get_language

from ally360.tenancy import get_current_tenant_id

_GENERATION_KEY = "catalog-generation:{}"
_PAGE_KEY = "catalog-page:{}:{}"
_STORED_KEY = "catalog-stored-bytes:{}:{}"
_ANY_COMPANY = "all"  # writes made outside any company (the back-office, commands)
# Statements that only read (a lock is not a change); anything else naming a catalog table is
# taken for a write — a read mistaken for one only costs a renewal.
_READS = ("SELECT", "SAVEPOINT", "RELEASE", "ROLLBACK", "SHOW", "SET ", "BEGIN", "COMMIT")

MAX_PAGE_ROWS = 50
MAX_PAGE_BYTES = 256 * 1024
MAX_STORED_BYTES_PER_MINUTE = 16 * 1024 * 1024

_watched: frozenset[str] | None = None
_naming_watched: re.Pattern | None = None
_decisions: dict[str, bool] = {}
_MAX_DECISIONS = 4096


def enabled() -> bool:
    return settings.CATALOG_CACHE_SECONDS > 0


def _watching() -> bool:
    """Writes are watched wherever another process may serve pages: with the cache on, or with
    a shared (Redis) cache even if this process serves none."""
    return enabled() or "redis" in settings.CACHES["default"]["BACKEND"].lower()


def catalog_tables() -> frozenset[str]:
    """Every table a catalog page reads (checked against their SQL by a test)."""
    global _watched
    if _watched is None:
        from files.models import FileObject
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

        # Not the stock (nor the points of sale it names): pages are kept without it and read
        # it on every answer, since a sale changes it (`inventory.api.StockFiller`).
        models = (Brand, Category, FileObject, PriceList, PriceListItem, Product)
        models += (ProductImage, ProductTax, Tax, Unit, Variant)
        _watched = frozenset(model._meta.db_table for model in models)
    return _watched


def _names_a_watched_table(sql: str) -> bool:
    global _naming_watched
    if _naming_watched is None:
        names = "|".join(sorted(catalog_tables()))
        _naming_watched = re.compile(rf"(?<![\w$])(?:{names})(?![\w$])")
    return _naming_watched.search(sql.lower()) is not None


def note_catalog_writes(execute, sql, params, many, context):
    """Database execute wrapper: a statement that may change a catalog table renews its
    company's generation when the transaction commits (at once in autocommit)."""
    result = execute(sql, params, many, context)
    if isinstance(sql, str) and _may_write_catalog(sql):
        _renew_on_commit(context["connection"], str(get_current_tenant_id() or _ANY_COMPANY))
    return result


def _may_write_catalog(sql: str) -> bool:
    if sql.startswith("SELECT"):  # Django's reads, without copying them
        return False
    # The ORM sends the same few texts over and over (their values go apart, as parameters):
    # each is lowered and searched once per process, not once per statement.
    decision = _decisions.get(sql)
    if decision is None:
        decision = not sql.lstrip()[:9].upper().startswith(_READS) and _names_a_watched_table(sql)
        if len(_decisions) >= _MAX_DECISIONS:  # raw SQL with its values written in
            _decisions.clear()
        _decisions[sql] = decision
    return decision


def _renew_on_commit(connection, scope: str) -> None:
    if _pending(connection, scope):  # once per transaction and company
        return
    callback = partial(_renew, scope)
    callback.catalog_scope = scope
    connection.on_commit(callback)  # in autocommit: at once


def _pending(connection, *scopes: str) -> bool:
    """Whether this connection's transaction has catalog writes of these scopes to commit."""
    return any(
        getattr(callback, "catalog_scope", None) in scopes
        for _savepoints, callback, *_ in connection.run_on_commit
    )


def _renew(scope: str) -> None:
    cache.set(_GENERATION_KEY.format(scope), uuid.uuid4().hex, None)  # no expiry, see above


def install(connection, **kwargs) -> None:
    """`connection_created` receiver."""
    if _watching() and note_catalog_writes not in connection.execute_wrappers:
        connection.execute_wrappers.append(note_catalog_writes)


def cached_page(request, tenant_id, role: str | None, build: Callable[[], object]):
    """The page's answer from the cache while the catalog has not changed, else `build()`'s,
    stored. With the cache off or not answering, or in a transaction that wrote catalog rows,
    `build()`'s."""
    if not enabled() or _pending(connection, str(tenant_id), _ANY_COMPANY):
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
        return pickle.loads(cached[1])  # noqa: S301 - our own bytes, from our own Redis
    data = build()
    _store(tenant_id, page_key, generations, data)
    return data


def _store(tenant_id, page_key: str, generations: tuple, data) -> None:
    blob = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
    if len(blob) > MAX_PAGE_BYTES:
        return
    budget = _STORED_KEY.format(tenant_id, _minute())
    cache.add(budget, 0, 120)
    try:
        stored = cache.incr(budget, len(blob))
    except ValueError:  # the budget is gone: the cache does not answer
        return
    if stored and stored <= MAX_STORED_BYTES_PER_MINUTE:  # None: Redis down, error ignored
        cache.set(page_key, (generations, blob), settings.CATALOG_CACHE_SECONDS)


def _minute() -> int:
    return int(time.time() // 60)


def _generations(found: dict, keys: list[str]) -> tuple[str, ...] | None:
    missing = [key for key in keys if key not in found]
    if missing:
        for key in missing:
            cache.add(key, uuid.uuid4().hex, None)
        found = {**found, **cache.get_many(missing)}
        if any(key not in found for key in keys):
            return None  # the cache does not answer: read the database
    return tuple(found[key] for key in keys)
