from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.db.backends.signals import connection_created


def _install_tenant_guard(sender, connection, **kwargs):
    from .tenancy import guard_tenant_queries

    if (
        connection.vendor == "postgresql"
        and guard_tenant_queries not in connection.execute_wrappers
    ):
        connection.execute_wrappers.append(guard_tenant_queries)


def _load_timestamps_in_c(sender, connection, **kwargs):
    if connection.vendor == "postgresql":
        from .db import load_timestamps_in_c

        load_timestamps_in_c(connection)


class CoreConfig(AppConfig):
    name = "ally360"
    label = "core"
    verbose_name = "Ally360 core"

    def ready(self):
        from . import checks  # noqa: F401  (registers the system checks)
        from .db import plain_thread_local_connections

        plain_thread_local_connections()
        connection_created.connect(_install_tenant_guard, dispatch_uid="ally360-tenant-guard")
        connection_created.connect(_load_timestamps_in_c, dispatch_uid="ally360-timestamps")

        from django.db import connection

        if connection.vendor == "postgresql":
            from .db import cache_long_statements

            cache_long_statements()


class Ally360AdminConfig(AdminConfig):
    default_site = "ally360.admin.Ally360AdminSite"
