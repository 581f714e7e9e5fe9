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
