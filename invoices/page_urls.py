"""Sales pages (mounted at / by ally360.urls, namespace "pages")."""

from django.urls import path

from . import views

urlpatterns = [
    path("pos/", views.pos_view, name="pos"),
    path("pos/shift/open/", views.pos_shift_open_view, name="pos-shift-open"),
    path("pos/sale/", views.pos_sale_view, name="pos-sale"),
    path("pos/receipts/<uuid:pk>/", views.pos_receipt_view, name="pos-receipt"),
    path("pos/cash/", views.pos_cash_view, name="pos-cash"),
    path("pos/close/", views.pos_close_view, name="pos-close"),
    path("pos/shifts/<uuid:pk>/", views.shift_report_view, name="shift-report"),
    path("invoices/", views.invoice_list_view, name="invoices"),
    path("invoices/<uuid:pk>/", views.invoice_detail_view, name="invoice"),
    *views.INVOICE_FILES.urls("invoices/"),
    path("invoices/<uuid:pk>/pdf/", views.invoice_pdf_view, name="invoice-pdf"),
    path("invoices/<uuid:pk>/payments/", views.invoice_payment_view, name="invoice-payment"),
    path(
        "invoices/<uuid:pk>/payments/<uuid:payment_pk>/void/",
        views.payment_void_view,
        name="payment-void",
    ),
    path("invoices/<uuid:pk>/return/", views.invoice_return_view, name="invoice-return"),
    path("invoices/<uuid:pk>/credit/", views.invoice_credit_view, name="invoice-credit"),
    path("invoices/<uuid:pk>/void/", views.invoice_void_view, name="invoice-void"),
    path("numbering/", views.numbering_list_view, name="numbering"),
    path("numbering/new/", views.numbering_create_view, name="numbering-new"),
    path("numbering/<uuid:pk>/edit/", views.numbering_edit_view, name="numbering-edit"),
    path("numbering/<uuid:pk>/delete/", views.numbering_delete_view, name="numbering-delete"),
]
