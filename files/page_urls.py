"""The files page and the company's page, with its logo (mounted at / by ally360.urls,
namespace "pages")."""

from django.urls import path

from . import company_views, page_views

urlpatterns = [
    path("files/", page_views.file_list_view, name="files"),
    path("files/upload/", page_views.file_upload_start_view, name="file-upload"),
    path("files/confirm/", page_views.file_confirm_view, name="file-confirm"),
    path("files/<uuid:pk>/download/", page_views.file_download_view, name="file-download"),
    path("files/<uuid:pk>/delete/", page_views.file_delete_view, name="file-delete"),
    path("settings/", company_views.company_settings_view, name="settings"),
    path("settings/logo/", company_views.logo_set_view, name="settings-logo"),
    path(
        "settings/logo/upload/", company_views.logo_upload_start_view, name="settings-logo-upload"
    ),
    path("settings/logo/remove/", company_views.logo_remove_view, name="settings-logo-remove"),
]
