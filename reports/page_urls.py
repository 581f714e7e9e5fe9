"""The home page (mounted at / by ally360.urls, namespace "pages")."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard_view, name="dashboard"),
    path("reports/", views.reports_view, name="reports"),
    path("receivables/", views.receivables_view, name="receivables"),
    path("payables/", views.payables_view, name="payables"),
]
