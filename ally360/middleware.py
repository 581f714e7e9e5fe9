import logging

from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import IntegrityError, InterfaceError, OperationalError
from django.http import JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.utils.translation import gettext as _

from .api.errors import database_unavailable_body, json_error
from .tenancy import request_scope

logger = logging.getLogger(__name__)

FOREIGN_KEY_VIOLATION = "23503"
API_PREFIX = "/api/"


class PagesOnly:
    """Mixed into a middleware only the pages and the back-office use: `/api/` requests skip it.

    The API authenticates by token in DRF and keeps no session, messages or CSRF cookie;
    Django's session, CSRF, authentication and messages middleware still ran on each of its
    requests (2.4 % of a POS sale's instructions). Subclasses of Django's own, so every other
    request is handled exactly as before and the admin's checks still find them.
    """

    def __call__(self, request):
        if request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        return super().__call__(request)


class PagesSessionMiddleware(PagesOnly, SessionMiddleware):
    pass


class PagesCsrfViewMiddleware(PagesOnly, CsrfViewMiddleware):
    def process_view(self, request, callback, callback_args, callback_kwargs):
        if request.path_info.startswith(API_PREFIX):
            return None  # DRF's views are exempt anyway
        return super().process_view(request, callback, callback_args, callback_kwargs)


class PagesAuthenticationMiddleware(PagesOnly, AuthenticationMiddleware):
    pass


class PagesMessageMiddleware(PagesOnly, MessageMiddleware):
    pass


class TenantContextMiddleware:
    """Every request starts with no tenant and ends with none, also after exceptions.

    The tenant itself is set by the API authentication once membership is proven; setting and
    resetting in one `__call__` keeps the ContextVar token valid (asgiref#267).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with request_scope():
            return self.get_response(request)


class QueryCountHeaderMiddleware:
    """Benchmarks only (`QUERY_COUNT_HEADER=1`): every answer carries `X-Query-Count`, the SQL
    statements the request ran, so a load run can report queries per request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.db import connection

        executed = 0

        def count(execute, sql, params, many, context):
            nonlocal executed
            executed += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            response = self.get_response(request)
        response["X-Query-Count"] = str(executed)
        return response


class CommitFailureMiddleware:
    """A request's transaction commits after its view returned (ATOMIC_REQUESTS), so a
    failure there — a deferred foreign key whose row a concurrent request deleted, a deadlock
    or serialization failure found at commit — never reaches the API's error handler. The
    commit failed, so nothing was saved: the client hears that, and that it may try again,
    instead of an error page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        api = request.path.startswith(API_PREFIX)
        if not api and (storage := getattr(request, "_messages", None)) is not None:
            # The view's transaction rolled back: what a page queued as done ("Shift opened",
            # a sale's warnings) did not happen, and the next page must not say it did.
            storage._queued_messages.clear()

        sqlstate = getattr(exception.__cause__, "sqlstate", None)
        if isinstance(exception, IntegrityError) and sqlstate == FOREIGN_KEY_VIOLATION:
            # Foreign keys are checked at commit (deferred): a row this request refers to was
            # deleted by another one meanwhile. Any other integrity error is a bug: an error
            # page, as before.
            logger.warning("Commit failed on %s: %s", request.path, exception, exc_info=True)
            message = _(
                "A change made at the same time conflicts with this one. Nothing was saved."
            )
            if api:
                return json_error(request, "conflict", message, 409)
            return render(request, "try_again.html", {"message": message}, status=409)
        if isinstance(exception, (OperationalError, InterfaceError)):
            logger.error("Database failure on %s: %s", request.path, exception, exc_info=True)
            body, headers = database_unavailable_body()
            if api:
                return JsonResponse(body, status=503, headers=headers)
            # A page (or the back-office) says the same, as a page.
            context = {"message": body["error"]["message"]}
            response = render(request, "try_again.html", context, status=503)
            for name, value in headers.items():
                response[name] = value

            return response

        return None
