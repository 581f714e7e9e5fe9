from ally360.api.routers import Router

from . import api

router = Router()
router.register("contacts", api.ContactViewSet, basename="contact")

urlpatterns = [*api.ContactAttachmentViewSet.urls("contacts", "contact"), *router.urls]
