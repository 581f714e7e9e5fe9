from ally360.api.routers import Router

from . import api

router = Router()
router.register("pdvs", api.PDVViewSet, basename="pdv")
router.register("sellers", api.SellerViewSet, basename="seller")
router.register("cash-registers", api.CashRegisterViewSet, basename="cash-register")


urlpatterns = router.urls
