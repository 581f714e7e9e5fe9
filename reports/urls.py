from ally360.api.routers import Router

from . import api

router = Router()
router.register("reports", api.ReportViewSet, basename="report")

urlpatterns = router.urls
