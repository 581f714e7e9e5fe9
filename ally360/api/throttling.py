"""Per-company API rate limit with django-ratelimit's counters in the Django cache."""

from django.conf import settings
from django_ratelimit.core import get_usage
from rest_framework.throttling import BaseThrottle


def rate_limit_hit(request, *, group: str, key: str, rate: str) -> int | None:
    """Count one hit; return the seconds to wait when over the limit, else None.

    With the cache unreachable django-ratelimit fails open (RATELIMIT_FAIL_OPEN): counters cannot
    be kept, so nobody is limited rather than everybody.
    """
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
