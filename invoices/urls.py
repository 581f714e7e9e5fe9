from ally360.api.routers import Router

from . import api

router = Router()
router.register("numbering-ranges", api.NumberingRangeViewSet, basename="numbering-range")
router.register("invoices", api.InvoiceViewSet, basename="invoice")
router.register("payments", api.PaymentViewSet, basename="payment")
router.register("credit-notes", api.CreditNoteViewSet, basename="credit-note")
router.register("receivables", api.ReceivableViewSet, basename="receivable")
router.register("shifts", api.ShiftViewSet, basename="shift")
router.register("pos/sales", api.PosSaleViewSet, basename="pos-sale")

urlpatterns = [*api.InvoiceAttachmentViewSet.urls("invoices", "invoice"), *router.urls]
