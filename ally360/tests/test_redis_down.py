"""With Redis down the API still answers: caches degrade to the database and rate limits fail
open (the documented behaviour), each failure logged."""

import logging

import pytest

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from ally360.settings import cache_config
from conftest import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {"default": cache_config(f"redis://127.0.0.1:{free_port()}/0")}
    settings.RATELIMIT_ENABLE = True


def test_logins_and_company_requests_work_and_limits_fail_open(redis_down, api, owner_a, caplog):
    user = UserFactory()
    with caplog.at_level(logging.ERROR, logger="ally360.cache"):
        statuses = [
            api.post(
                "/api/v1/auth/login", {"email": user.email, "password": "wrong"}, format="json"
            ).status_code
            for _ in range(12)
        ]
        assert statuses == [400] * 12  # no 429: the counters cannot be kept
        ok = api.post(
            "/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
        )
        assert ok.status_code == 200
        # Membership checks fall back to the database on every request.
        assert owner_a.get("/api/v1/companies/current/").status_code == 200
        assert owner_a.get("/api/v1/contacts/").status_code == 200
    assert any("Connection" in record.getMessage() or record.exc_info for record in caplog.records)
