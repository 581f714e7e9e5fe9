from rest_framework.routers import SimpleRouter


class Router(SimpleRouter):
    """Collections and objects end in a slash (`/invoices/`, `/invoices/{id}/`); actions may be
    called with or without one (`/invoices/{id}/issue`): a POST must never meet a redirect."""

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"
