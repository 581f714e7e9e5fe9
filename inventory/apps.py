from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = _("Inventory")

    def ready(self):
        from . import catalog_cache

        connection_created.connect(catalog_cache.install, dispatch_uid="ally360-catalog-cache")
