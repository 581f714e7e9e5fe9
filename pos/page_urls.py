"""Points of sale, cash registers and sellers pages (mounted at / by ally360.urls, namespace
"pages")."""

from django.urls import path

from . import views

urlpatterns = [
    path("points-of-sale/", views.pdv_list_view, name="pdvs"),
    path("points-of-sale/<uuid:pk>/", views.pdv_detail_view, name="pdv"),
    path("points-of-sale/<uuid:pk>/delete/", views.pdv_delete_view, name="pdv-delete"),
    path(
        "points-of-sale/<uuid:pk>/registers/",
        views.cash_register_create_view,
        name="cash-register-new",
    ),
    path("cash-registers/<uuid:pk>/", views.cash_register_update_view, name="cash-register"),
    path(
        "cash-registers/<uuid:pk>/delete/",
        views.cash_register_delete_view,
        name="cash-register-delete",
    ),
    path("sellers/", views.seller_list_view, name="sellers"),
    path("sellers/<uuid:pk>/", views.seller_edit_view, name="seller"),
    path("sellers/<uuid:pk>/delete/", views.seller_delete_view, name="seller-delete"),
]
