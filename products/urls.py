from ally360.api.routers import Router

from . import api

router = Router()
router.register("categories", api.CategoryViewSet, basename="category")
router.register("brands", api.BrandViewSet, basename="brand")
router.register("taxes", api.TaxViewSet, basename="tax")
router.register("units", api.UnitViewSet, basename="unit")
router.register("price-lists", api.PriceListViewSet, basename="price-list")

urlpatterns = router.urls
