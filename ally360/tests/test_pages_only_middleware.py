"""The pages' middleware (sessions, CSRF, Django's authentication, messages) is skipped for the
API and runs, unchanged, for everything else."""

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils.module_loading import import_string

from ally360.middleware import PagesCsrfViewMiddleware

pytestmark = pytest.mark.django_db


def test_the_api_skips_sessions_authentication_and_messages():
    seen = {}

    def view(request):
        seen.update(
            session=hasattr(request, "session"),
            user=hasattr(request, "user"),
            messages=hasattr(request, "_messages"),
        )
        if seen["session"]:
            request.session["visited"] = True  # a page that writes its session: a cookie
        return HttpResponse("ok")

    handler = view
    for path in reversed(settings.MIDDLEWARE):  # the settings' chain, in order
        handler = import_string(path)(handler)
    factory = RequestFactory()

    response = handler(factory.get("/inventory/"))
    assert seen == {"session": True, "user": True, "messages": True}
    assert settings.SESSION_COOKIE_NAME in response.cookies

    response = handler(factory.get("/api/v1/products/"))
    assert seen == {"session": False, "user": False, "messages": False}
    assert not response.cookies


def test_a_page_post_without_its_csrf_token_is_still_refused():
    middleware = PagesCsrfViewMiddleware(lambda request: HttpResponse("ok"))
    factory = RequestFactory()

    def page_view(request):
        return HttpResponse("ok")

    refused = middleware.process_view(factory.post("/inventory/"), page_view, (), {})
    assert refused is not None and refused.status_code == 403
    assert middleware.process_view(factory.post("/api/v1/products/"), page_view, (), {}) is None
