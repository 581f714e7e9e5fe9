from django.apps import AppConfig


class TenancyTestAppConfig(AppConfig):
    """A tenant model used only by the tenancy tests (installed by the test settings)."""

    name = "ally360.tests.tenancy_app"
    label = "tenancy_test"
