"""The files page (mounted at / by ally360.urls, namespace "pages")."""

from django.urls import path

from . import page_views

urlpatterns = [
    path("files/", page_views.file_list_view, name="files"),
    path("files/upload/", page_views.file_upload_start_view, name="file-upload"),
    path("files/confirm/", page_views.file_confirm_view, name="file-confirm"),
    path("files/<uuid:pk>/download/", page_views.file_download_view, name="file-download"),
    path("files/<uuid:pk>/delete/", page_views.file_delete_view, name="file-delete"),
]
