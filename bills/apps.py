from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillsConfig(AppConfig):
    name = "bills"
    verbose_name = _("Purchases")

    def ready(self):
        from accounts.services import register_company_setup

        from .services import withholding_concepts_seed

        register_company_setup(withholding_concepts_seed)
