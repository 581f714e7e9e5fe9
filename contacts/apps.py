from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = _("Contacts")

    def ready(self):
        from accounts.services import register_company_setup

        from .services import contact_create_final_consumer

        register_company_setup(contact_create_final_consumer)
