"""Purchase pages (mounted at / by ally360.urls, namespace "pages")."""

from django.urls import path

from . import views

urlpatterns = [
    path("purchases/", views.purchase_list_view, name="purchases"),
    path("purchases/new/", views.purchase_create_view, name="purchase-new"),
    path("purchases/<uuid:pk>/", views.purchase_detail_view, name="purchase"),
    *views.PURCHASE_FILES.urls("purchases/"),
    path("purchases/<uuid:pk>/payments/", views.purchase_payment_view, name="purchase-payment"),
    path("purchases/<uuid:pk>/return/", views.purchase_return_view, name="purchase-return"),
    path(
        "purchases/<uuid:pk>/payments/<uuid:payment_pk>/void/",
        views.supplier_payment_void_view,
        name="supplier-payment-void",
    ),
    path(
        "suppliers/<uuid:pk>/payment/",
        views.supplier_bills_payment_view,
        name="supplier-payment",
    ),
]
