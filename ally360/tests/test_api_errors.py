"""One JSON error shape under /api/, and the request context is always reset."""

import pytest
from django.test import Client, override_settings
from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny

from ally360.middleware import TenantContextMiddleware
from ally360.tenancy import activate_tenant, get_current_tenant_id

pytestmark = pytest.mark.django_db


def test_unknown_api_path_answers_json_404(api):
    response = api.get("/api/v1/does-not-exist/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "Not found.", "fields": {}}
    }
    # Spanish (es-co) is the default language.
    spanish = api.get("/api/v1/does-not-exist/")
    assert spanish.json()["error"]["message"] == "No encontrado."


def test_wrong_method_answers_json_405(api):
    response = api.get("/api/v1/auth/login")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_validation_errors_carry_fields(api):
    response = api.post("/api/v1/auth/login", {"email": "not-an-email"}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"email", "password"}


def test_missing_credentials_answer_401_with_the_error_shape(api):
    response = api.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


@api_view(["GET"])
@permission_classes([AllowAny])
def _exploding_view(request):
    raise RuntimeError("boom")


urlpatterns = [path("api/v1/explode", _exploding_view)]
handler500 = "ally360.api.errors.handler500"


@override_settings(ROOT_URLCONF=__name__)
def test_server_errors_under_api_answer_json_500():
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/explode")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"


def test_middleware_resets_the_tenant_after_an_exception(company_a):
    def view_that_fails(request):
        activate_tenant(company_a)
        assert get_current_tenant_id() == company_a.id
        raise ValueError("view failed")

    middleware = TenantContextMiddleware(view_that_fails)
    with pytest.raises(ValueError):
        middleware(object())
    assert get_current_tenant_id() is None


def test_next_request_on_the_same_thread_has_no_tenant(company_a, owner_a, api):
    seen = {}

    def probe(request):
        seen["tenant"] = get_current_tenant_id()
        from django.http import HttpResponse

        return HttpResponse()

    assert owner_a.get("/api/v1/companies/current/").status_code == 200
    assert get_current_tenant_id() is None
    TenantContextMiddleware(probe)(object())
    assert seen["tenant"] is None
