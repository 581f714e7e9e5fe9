from ally360.api.routers import Router

from . import api

router = Router()
router.register("products", api.ProductViewSet, basename="product")
router.register("variants", api.VariantViewSet, basename="variant")
router.register("stock", api.StockViewSet, basename="stock")
router.register("stock-movements", api.StockMovementViewSet, basename="stock-movement")
router.register("adjustments", api.AdjustmentViewSet, basename="adjustment")
router.register("transfers", api.TransferViewSet, basename="transfer")
router.register("kardex", api.KardexViewSet, basename="kardex")

urlpatterns = router.urls
