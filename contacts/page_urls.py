"""Customer and supplier pages (mounted at / by ally360.urls, namespace "pages")."""

from django.urls import path

from . import views

urlpatterns = [
    path("customers/", views.customer_list_view, name="customers"),
    path("customers/new/", views.customer_create_view, name="customer-new"),
    path("customers/<uuid:pk>/edit/", views.customer_edit_view, name="customer-edit"),
    *views.CUSTOMER_FILES.urls("customers/"),
    path("suppliers/", views.supplier_list_view, name="suppliers"),
    path("suppliers/new/", views.supplier_create_view, name="supplier-new"),
    path("suppliers/<uuid:pk>/edit/", views.supplier_edit_view, name="supplier-edit"),
    *views.SUPPLIER_FILES.urls("suppliers/"),
]
