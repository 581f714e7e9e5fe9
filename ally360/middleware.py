from .tenancy import request_scope


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
