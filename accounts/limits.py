"""The sign-in limits, one rule for the API and the pages.

django-ratelimit's counters in the Django cache (Redis): 10 tries a minute per client IP and 5 a
minute per e-mail. The API's `auth/login` and the page `/login/` count in the same buckets, so
switching between them gives no extra tries.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings

from ally360.api.throttling import rate_limit_hit

LOGIN_IP_RATE = "10/m"
LOGIN_EMAIL_RATE = "5/m"


# One IPv6 host is given a whole /64 to pick addresses from (django-ratelimit's own `ip` key
# masks it the same way): counted per address, each try could come from a new one.
IPV6_LIMIT_PREFIX = 64


def client_ip(request) -> str:
    """The client's address for the per-IP limits — an IPv6 client's /64 network. Behind
    proxies that append to X-Forwarded-For, only the entries they added can be trusted: the one
    the nearest of `RATELIMIT_TRUSTED_PROXIES` wrote (the client can put anything before it)."""
    meta_key = settings.RATELIMIT_IP_META_KEY or "REMOTE_ADDR"
    entries = [part.strip() for part in request.META.get(meta_key, "").split(",") if part.strip()]
    if not entries:
        return "unknown"
    entry = entries[-min(settings.RATELIMIT_TRUSTED_PROXIES, len(entries))]
    if entry.startswith("["):  # "[2001:db8::1]:443": an IPv6 address with a port
        entry = entry[1:].partition("]")[0]
    elif entry.count(":") == 1:  # "203.0.113.7:443"
        entry = entry.partition(":")[0]
    try:
        address = ipaddress.ip_address(entry)
    except ValueError:  # what a proxy wrote is not an address: counted as it is
        return entry
    if address.version == 4:
        return str(address)
    if address.ipv4_mapped is not None:  # an IPv4 client of a dual-stack socket
        return str(address.ipv4_mapped)
    return str(ipaddress.ip_network(f"{address}/{IPV6_LIMIT_PREFIX}", strict=False))


def login_ip_limit_wait(request) -> int | None:
    """Count one sign-in try from this client's IP; the seconds to wait when over the limit."""
    return rate_limit_hit(
        request, group="auth.login.ip", key=f"ip:{client_ip(request)}", rate=LOGIN_IP_RATE
    )


def login_email_limit_wait(request, *, email: str) -> int | None:
    """Count one sign-in try for a (normalized) e-mail; the seconds to wait when over."""
    if not email:
        return None
    return rate_limit_hit(
        request, group="auth.login.email", key=f"email:{email}", rate=LOGIN_EMAIL_RATE
    )


def login_limit_wait(request, *, email: str) -> int | None:
    """Both, in the API's order: the per-IP limit first, then the per-e-mail one."""
    wait = login_ip_limit_wait(request)
    if wait is not None:
        return wait
    return login_email_limit_wait(request, email=email)
