"""Property-based fuzzing of every operation of the OpenAPI schema with Schemathesis, as an
authenticated owner of a company with data: no 5xx, and responses match the schema."""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

from conftest import client_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

EXAMPLES_PER_OPERATION = 8
FUZZED = {"operations": 0, "examples": 0}


@pytest.fixture
def keep_test_connection():
    """Schemathesis calls the real WSGI handler, which closes the database connection after
    each request (and with it the test's transaction); Django's own test client avoids that
    the same way."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def owner_headers(company_a):
    from accounts.models import Membership

    owner = Membership.objects.get(company=company_a, role="owner").user
    client = client_for(owner, company_a)
    return {
        "Authorization": client._credentials["HTTP_AUTHORIZATION"],
        "Accept-Encoding": "identity",
    }


# Logging out and changing the password end the fuzzer's own session; deactivating the company
# ends every session. They have dedicated tests.
SKIPPED = {
    "POST /api/v1/auth/logout",
    "POST /api/v1/auth/change-password",
    "DELETE /api/v1/companies/current/",
}
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def fuzz(strategy, checks, headers, calls):
    @hypothesis_settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    @given(case=strategy)
    def run(case):
        calls.append(1)
        response = case.call(headers=headers)
        case.validate_response(response, checks=checks)

    return run


def test_every_operation_survives_fuzzing(
    keep_test_connection, company_a, make_shop, owner_headers, settings
):
    import logging

    settings.API_RATE_LIMIT = "100000/m"
    settings.RATELIMIT_ENABLE = False
    logging.getLogger("django.request").setLevel(logging.CRITICAL)
    make_shop(company_a)

    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())
    failures, examples, operations = [], 0, 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.label in SKIPPED:
            continue
        operations += 1
        calls = []

        # Valid inputs must get a valid response; invalid ones a 4xx, never a 5xx.
        for mode, checks in (
            (GenerationMode.POSITIVE, CHECKS),
            (GenerationMode.NEGATIVE, [not_a_server_error]),
        ):
            run = fuzz(operation.as_strategy(generation_mode=mode), checks, owner_headers, calls)
            try:
                run()
            except (Exception, BaseExceptionGroup) as exc:  # one report per operation and mode
                failures.append(f"{operation.label} ({mode.value}): {str(exc)[:3000]}")
        examples += len(calls)
    FUZZED.update(operations=operations, examples=examples)
    print(f"schemathesis: {operations} operations, {examples} examples")
    assert not failures, "\n\n".join(failures)
