from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PosConfig(AppConfig):
    name = "pos"
    verbose_name = _("Points of sale")

    def ready(self):
        from accounts.services import register_company_setup

        from .services import pdv_create_main

        register_company_setup(pdv_create_main)
