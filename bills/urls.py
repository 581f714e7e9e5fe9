from ally360.api.routers import Router

from . import api

router = Router()
router.register("bills", api.BillViewSet, basename="bill")
router.register("supplier-payments", api.SupplierPaymentViewSet, basename="supplier-payment")
router.register(
    "withholding-concepts", api.WithholdingConceptViewSet, basename="withholding-concept"
)
router.register("debit-notes", api.DebitNoteViewSet, basename="debit-note")
router.register("payables", api.PayableViewSet, basename="payable")

urlpatterns = [*api.BillAttachmentViewSet.urls("bills", "bill"), *router.urls]
