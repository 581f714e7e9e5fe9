from django.urls import path

from ally360.api.routers import Router

from . import api

router = Router()
router.register("files", api.FileViewSet, basename="file")

company_logo = api.CompanyLogoView.as_view(
    {"get": "retrieve", "put": "set", "post": "set", "delete": "remove"}
)

urlpatterns = [
    path("companies/current/logo", company_logo, name="company-logo"),
    *router.urls,
]
