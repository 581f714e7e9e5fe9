"""Sign-in pages (mounted at / by ally360.urls, namespace "pages")."""

from django.urls import path

from . import views

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("company/", views.company_view, name="company"),
]
