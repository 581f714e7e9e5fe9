"""Base viewsets: tenant-scoped querysets, role permissions, UUID lookups."""

from __future__ import annotations

from rest_framework import mixins, viewsets
from rest_framework.permissions import IsAuthenticated

from .permissions import RolePermission, current_role

UUID_PATTERN = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"


class TenantViewSet(viewsets.GenericViewSet):
    """A viewset over a TenantModel.

    `get_queryset()` starts from the scoped manager, so another tenant's id in the URL is a 404;
    related fields declared with `queryset=Model.objects` are resolved per request through the
    same manager, so another tenant's id in a payload is "does not exist" (400).
    """

    model = None
    permission_module: str = ""
    permission_classes = [IsAuthenticated, RolePermission]
    lookup_value_regex = UUID_PATTERN

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            # Schema generation only needs the model; no tenant exists then.
            return self.model._base_manager.none()
        return self.base_queryset()

    def base_queryset(self):
        return self.model.objects.all()

    @property
    def role(self) -> str | None:
        return current_role(self.request)

    @property
    def tenant_id(self):
        return self.request.auth.company_id


class TenantModelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Read endpoints come from DRF; writes are explicit methods that call services."""
