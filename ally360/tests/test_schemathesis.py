"""Property-based fuzzing of every operation of the OpenAPI schema with Schemathesis, as an
authenticated owner of a company with data: no 5xx, and responses match the schema."""

from contextlib import contextmanager
from functools import partial

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
    status_code_conformance,
)

from ally360.tests.test_cross_tenant_probe import build_world, ids_by_model, path_ids

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

EXAMPLES_PER_OPERATION = 8
FUZZED = {"operations": 0, "examples": 0}


@contextmanager
def wsgi_keeps_test_connection():
    """Schemathesis calls the real WSGI handler, which closes the database connection after
    each request (and with it the test's transaction); Django's own test client avoids that
    the same way. Entered after the set-up's test-client requests: the test client connects
    the handler again after each of its own requests."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def owner_headers(owner_a):
    return {
        "Authorization": owner_a._credentials["HTTP_AUTHORIZATION"],
        "Accept-Encoding": "identity",
    }


# Logging out and changing the password end the fuzzer's own session; deactivating the company
# ends every session. They have dedicated tests.
SKIPPED = {
    "POST /api/v1/auth/logout",
    "POST /api/v1/auth/change-password",
    "DELETE /api/v1/companies/current/",
}
# Every answer, error answers included, has a status the schema documents for the operation and
# matches that status's schema (`ally360.api.schema`: one error envelope).
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]


def fuzz(strategy, checks, headers, calls, statuses=None):
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
        if statuses is not None:
            statuses.append(response.status_code)
        case.validate_response(response, checks=checks)

    return run


def with_path(case, values):
    case.path_parameters = {name: str(value) for name, value in values.items()}
    return case


def test_every_operation_survives_fuzzing(company_a, make_shop, owner_a, owner_headers, settings):
    import logging

    settings.API_RATE_LIMIT = "100000/m"
    settings.RATELIMIT_ENABLE = False
    logging.getLogger("django.request").setLevel(logging.CRITICAL)
    build_world(company_a, owner_a, make_shop, "FA")  # a row of every kind
    ids = ids_by_model(company_a)

    with wsgi_keeps_test_connection():
        fuzz_every_operation(company_a, ids, owner_headers)


def fuzz_every_operation(company_a, ids, owner_headers):
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())
    fuzzed = [result.ok() for result in schema.get_all_operations()]
    fuzzed = [operation for operation in fuzzed if operation.label not in SKIPPED]
    # Deletions last, children before their parents: a DELETE that succeeds takes its row (and
    # what hangs from it) away from every operation fuzzed after it on the company's own ids.
    fuzzed.sort(
        key=lambda op: (
            op.method.upper() == "DELETE",
            -op.path.count("/") if op.method.upper() == "DELETE" else 0,
        )
    )
    own_ids = {  # read before fuzzing: the test's own queries stay out of the fuzzer's way
        operation.path: path_ids(operation.path, company_a, ids)
        for operation in fuzzed
        if operation.path_parameters
    }
    failures, examples, operations, on_objects, not_reached = [], 0, 0, 0, []
    for operation in fuzzed:
        operations += 1
        calls = []

        # Valid inputs must get a valid response; invalid ones a 4xx, never a 5xx.
        for mode, checks in (
            (GenerationMode.POSITIVE, CHECKS),
            (GenerationMode.NEGATIVE, CHECKS),
        ):
            run = fuzz(operation.as_strategy(generation_mode=mode), checks, owner_headers, calls)
            try:
                run()
            except (Exception, BaseExceptionGroup) as exc:  # one report per operation and mode
                failures.append(f"{operation.label} ({mode.value}): {str(exc)[:3000]}")
        # Random ids in the path only reach the 404: once more with ids of the company's rows,
        # which must find them (a DELETE may find its row gone in later examples).
        if operation.path_parameters:
            on_objects += 1
            strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE).map(
                partial(with_path, values=own_ids[operation.path])
            )
            statuses = []
            try:
                fuzz(strategy, CHECKS, owner_headers, calls, statuses)()
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{operation.label} (real ids): {str(exc)[:3000]}")
            if statuses and all(status == 404 for status in statuses):
                not_reached.append(operation.label)
        examples += len(calls)
    FUZZED.update(operations=operations, examples=examples, on_objects=on_objects)
    print(
        f"schemathesis: {operations} operations, {examples} examples; "
        f"{on_objects} operations also on the company's own rows"
    )
    assert not failures, "\n\n".join(failures)
    assert not not_reached, f"only 404 with real ids: {not_reached}"
