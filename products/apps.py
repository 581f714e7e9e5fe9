from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProductsConfig(AppConfig):
    name = "products"
    verbose_name = _("Products")

    def ready(self):
        from accounts.services import register_company_setup

        from .services import catalog_seed

        register_company_setup(catalog_seed)
