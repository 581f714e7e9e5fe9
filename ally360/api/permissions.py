from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission

from ally360.roles import has_permission

DEFAULT_ACTIONS = {
    "list": "read",
    "retrieve": "read",
    "create": "write",
    "update": "write",
    "partial_update": "write",
    "destroy": "delete",
}


def current_role(request) -> str | None:
    return getattr(request.auth, "role", None)


class CompanyRequired(exceptions.PermissionDenied):
    default_detail = _(
        "Select a company first: send a context token from auth/select-company or the "
        "X-Company-ID header."
    )
    default_code = "company_required"


class RolePermission(BasePermission):
    """Checks the role matrix: `view.permission_module` and the action's verb.

    The verb is `view.action_permissions[action]` when declared (a verb, or a dict of verbs per
    HTTP method), else the CRUD default
    (read/write/delete, with delete falling back to write), else read or write by HTTP method.
    """

    def has_permission(self, request, view):
        if getattr(request.auth, "company_id", None) is None:
            raise CompanyRequired()
        verb = self.verb(request, view)
        # An action may name another module's rule: "payments.write".
        module, _sep, verb = (
            verb.rpartition(".") if "." in verb else (view.permission_module, "", verb)
        )
        return has_permission(current_role(request), module, verb)

    @staticmethod
    def verb(request, view) -> str:
        from ally360.roles import PERMISSIONS

        action = getattr(view, "action", None)
        declared = getattr(view, "action_permissions", {})
        if action in declared:
            verb = declared[action]
            # Per-method verbs for actions answering several methods: {"GET": "read", ...}.
            return verb[request.method] if isinstance(verb, dict) else verb
        verb = DEFAULT_ACTIONS.get(action)
        if verb is None:
            verb = "read" if request.method in SAFE_METHODS else "write"
        if verb == "delete" and "delete" not in PERMISSIONS.get(view.permission_module, {}):
            verb = "write"
        return verb
