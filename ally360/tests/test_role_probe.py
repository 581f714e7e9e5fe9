"""A role probe generated from the OpenAPI schema and the role matrix.

For every operation that the matrix (`ally360.roles.PERMISSIONS`, DESIGN's table) closes to a
role, a member with that role sends a plausible request carrying the company's own ids: it must
answer 403, and the company's rows must be the same afterwards. Per-app tests cover what the
allowed roles can do; this probe makes sure no endpoint forgets the matrix.
"""

import re
import uuid

import pytest
from django.urls import resolve

from ally360.api.permissions import RolePermission
from ally360.roles import Role, has_permission
from ally360.tests.test_cross_tenant_probe import (
    Payloads,
    build_world,
    checksum,
    id_lookup,
    ids_by_model,
    schema_operations,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

CHECKED = {"operations": 0, "requests": 0}


class _Request:
    def __init__(self, method):
        self.method = method


def matrix_rule(path: str, method: str):
    """(module, verb) the matrix applies to this operation, or None when the view is not under
    the matrix (public auth endpoints, the user's own companies and profile)."""
    match = resolve(re.sub(r"{\w+}", str(uuid.uuid4()), path))
    view_class = getattr(match.func, "cls", None)
    if view_class is None or RolePermission not in view_class.permission_classes:
        return None
    view = view_class()
    actions = getattr(match.func, "actions", None)
    # A viewset maps the method to its action; a plain view names the action after the method.
    view.action = actions.get(method) if actions else method

    verb = RolePermission.verb(_Request(method.upper()), view)
    module, _sep, verb = (
        verb.rpartition(".") if "." in verb else (view_class.permission_module, "", verb)
    )
    return module, verb


def test_every_operation_closed_to_a_role_answers_403_and_writes_nothing(
    company_a, owner_a, make_shop, client_as, settings
):
    settings.API_RATE_LIMIT = "100000/m"
    build_world(company_a, owner_a, make_shop, "FA")
    clients = {
        role: client_as(company_a, role)
        for role in (Role.ADMIN, Role.ACCOUNTANT, Role.SELLER, Role.VIEWER)
    }
    ids = ids_by_model(company_a)
    before = checksum(company_a)
    spec = owner_a.get("/api/v1/schema/?format=json").json()
    payloads = Payloads(spec)
    failures, outside_matrix = [], []

    id_of = id_lookup(ids)

    for path, method, _operation, body_schema in schema_operations(spec):
        rule = matrix_rule(path, method)
        if rule is None:
            outside_matrix.append(f"{method.upper()} {path}")
            continue
        CHECKED["operations"] += 1
        denied = [role for role in clients if not has_permission(role, *rule)]
        url = re.sub(r"{\w+}", lambda m: str(uuid.uuid4()), path)
        body = payloads.value(body_schema, "", id_of) if body_schema else None
        for role in denied:
            CHECKED["requests"] += 1
            client = clients[role]
            response = (
                client.get(url)
                if method == "get"
                else getattr(client, method)(url, body, format="json")
            )
            if response.status_code != 403:
                failures.append(
                    f"{role} {method.upper()} {path} ({'.'.join(rule)}): "
                    f"{response.status_code} {response.content[:120]!r}"
                )
    print(
        f"role probe: {CHECKED['operations']} operations, {CHECKED['requests']} denied requests; "
        f"outside the matrix: {len(outside_matrix)}"
    )
    assert not failures, "\n".join(failures)
    assert checksum(company_a) == before
    assert CHECKED["requests"] > 100
    # Only the public auth endpoints and the signed-in user's own resources skip the matrix.
    assert all(
        op.split(" ")[1].startswith(
            ("/api/v1/auth/", "/api/v1/companies/", "/api/v1/invitations/accept", "/api/v1/schema/")
        )
        for op in outside_matrix
    ), outside_matrix
