"""Per-company API rate limit with django-ratelimit's counters in the Django cache."""

import logging
import time

from django.conf import settings
from django.core.cache import caches
from django_ratelimit import ALL
from django_ratelimit.core import (
    EXPIRATION_FUDGE,
    _get_window,
    _make_cache_key,
    _split_rate,
    get_usage,
)
from redis.exceptions import RedisError
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger("ally360.cache")


def rate_limit_hit(request, *, group: str, key: str, rate: str) -> int | None:
    """Count one hit; return the seconds to wait when over the limit, else None.

    With the cache unreachable the limit fails open (RATELIMIT_FAIL_OPEN, our setting): counters
    cannot be kept, so nobody is limited rather than everybody.
    """
    if not settings.RATELIMIT_ENABLE:
        return None
    cache = caches[settings.RATELIMIT_USE_CACHE]
    if hasattr(cache, "client") and hasattr(cache.client, "get_client"):  # django-redis
        return _redis_hit(cache, group=group, key=key, rate=rate)
    usage = get_usage(
        getattr(request, "_request", request),
        group=group,
        key=lambda _group, _request: key,
        rate=rate,
        increment=True,
    )
    if usage is None or not usage["should_limit"]:
        return None
    return max(1, usage["time_left"])


def _redis_hit(cache, *, group: str, key: str, rate: str) -> int | None:
    """django-ratelimit's count of the same bucket (its window and key, a test checks they
    agree), in one round trip: create the bucket with its expiry if it is new (SET NX EX, as
    its `add` does), then INCR. django-ratelimit's own `add` then `incr` is two, on every API
    request."""
    limit, period = _split_rate(rate)
    window = _get_window(key, period)
    bucket = cache.make_key(_make_cache_key(group, window, rate, key, ALL))
    try:
        pipeline = cache.client.get_client(write=True).pipeline(transaction=False)
        pipeline.set(bucket, 0, ex=period + EXPIRATION_FUDGE, nx=True)
        pipeline.incr(bucket)
        _created, count = pipeline.execute()
    except RedisError:
        logger.exception("Rate-limit counter %s not kept", group)
        # As django-ratelimit: let everybody through, or (not failing open) nobody.
        return None if settings.RATELIMIT_FAIL_OPEN else 1
    if count <= limit:
        return None
    return max(1, window - int(time.time()))


class TenantRateThrottle(BaseThrottle):
    def allow_request(self, request, view):
        company_id = getattr(request.auth, "company_id", None)
        if company_id is None:
            key = f"user:{request.user.pk}" if request.user.is_authenticated else None
        else:
            key = f"tenant:{company_id}"
        if key is None:
            return True
        self._wait = rate_limit_hit(request, group="api", key=key, rate=settings.API_RATE_LIMIT)
        return self._wait is None

    def wait(self):
        return self._wait
