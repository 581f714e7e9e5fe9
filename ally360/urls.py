from importlib import import_module

from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from ally360.api.errors import handler500 as api_handler500
from files.views import local_download, local_upload

# In the order a path is looked for: the counter's (POS sales, barcode lookups, products) first.
API_APPS = [
    "invoices",
    "inventory",
    "accounts",
    "files",
    "pos",
    "products",
    "contacts",
    "bills",
    "reports",
]


def health(request):
    return JsonResponse({"status": "ok"})


# One flat list, not an include per app: Django records every pattern tried before the match,
# and a failed include costs a copy of all of its own (a tenth of a millisecond per request).
api_v1 = [pattern for app in API_APPS for pattern in import_module(f"{app}.urls").urlpatterns]
# The server-rendered pages (Spanish by default) of each app, one namespace: "pages:<name>".
PAGE_APPS = ["accounts", "contacts", "inventory", "invoices", "bills", "pos", "files", "reports"]
pages = [path("", include(f"{app}.page_urls")) for app in PAGE_APPS]
api_v1.append(path("schema/", SpectacularAPIView.as_view(), name="schema"))

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("admin/", admin.site.urls),
    path("health", health, name="health"),
    path("files/local/upload/<str:token>", local_upload, name="files-local-upload"),
    path("files/local/download/<str:token>", local_download, name="files-local-download"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include((pages, "pages"))),
]

# JSON under /api/, a page elsewhere.
handler404 = "ally360.pages.handler404"
handler500 = api_handler500
