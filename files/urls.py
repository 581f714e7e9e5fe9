from ally360.api.routers import Router

from . import api

router = Router()
router.register("files", api.FileViewSet, basename="file")

urlpatterns = router.urls
