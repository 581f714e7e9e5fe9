from django.urls import re_path

from ally360.api.routers import Router
from ally360.api.viewsets import UUID_PATTERN

from . import api

router = Router()
router.register("products", api.ProductViewSet, basename="product")
router.register("variants", api.VariantViewSet, basename="variant")
router.register("stock", api.StockViewSet, basename="stock")
router.register("stock-movements", api.StockMovementViewSet, basename="stock-movement")
router.register("adjustments", api.AdjustmentViewSet, basename="adjustment")
router.register("transfers", api.TransferViewSet, basename="transfer")
router.register("kardex", api.KardexViewSet, basename="kardex")

images = api.ProductImageViewSet.as_view({"get": "list", "post": "create"})
image = api.ProductImageViewSet.as_view({"patch": "partial_update", "delete": "destroy"})
UUID = UUID_PATTERN

urlpatterns = [
    re_path(rf"^products/(?P<product_pk>{UUID})/images/?$", images, name="product-images"),
    re_path(
        rf"^products/(?P<product_pk>{UUID})/images/(?P<pk>{UUID})/?$", image, name="product-image"
    ),
    *router.urls,
]
