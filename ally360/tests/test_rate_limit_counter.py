"""The rate-limit counter kept in one Redis round trip counts django-ratelimit's own bucket."""

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from django_ratelimit.core import get_usage

from ally360.api.throttling import rate_limit_hit

pytestmark = pytest.mark.redis


def test_one_round_trip_counts_django_ratelimits_bucket_and_limits_at_its_rate(settings):
    settings.RATELIMIT_ENABLE = True
    request = RequestFactory().get("/")
    cache.clear()

    def usage():
        return get_usage(request, group="probe", key=lambda *_: "k", rate="3/m", increment=False)

    waits = [rate_limit_hit(request, group="probe", key="k", rate="3/m") for _ in range(5)]
    assert waits[:3] == [None] * 3
    assert all(isinstance(wait, int) and 1 <= wait <= 60 for wait in waits[3:])
    assert usage()["count"] == 5 and usage()["should_limit"]
    # The bucket expires with its window, as django-ratelimit's would.
    from django_ratelimit import ALL
    from django_ratelimit.core import EXPIRATION_FUDGE, _get_window, _make_cache_key

    raw = cache.client.get_client()
    bucket = cache.make_key(_make_cache_key("probe", _get_window("k", 60), "3/m", "k", ALL))
    assert 0 < raw.ttl(bucket) <= 60 + EXPIRATION_FUDGE
    # Another key, another bucket.
    assert rate_limit_hit(request, group="probe", key="other", rate="3/m") is None


@pytest.mark.parametrize("fail_open", [True, False])
def test_with_redis_down_the_counter_follows_ratelimit_fail_open(settings, fail_open):
    from ally360.settings import cache_config
    from conftest import free_port

    settings.CACHES = {"default": cache_config(f"redis://127.0.0.1:{free_port()}/0")}
    settings.RATELIMIT_ENABLE = True
    settings.RATELIMIT_FAIL_OPEN = fail_open
    request = RequestFactory().get("/")
    wait = rate_limit_hit(request, group="probe", key="k", rate="3/m")
    assert wait == (None if fail_open else 1)
