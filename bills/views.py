"""Purchase pages: the supplier bills received (list, detail) and a supplier's invoice received
into a point of sale by barcode or SKU. Writes through `services.bill_create` and
`services.bill_issue` (the API's `POST bills/ {"issue": true}`), reads through `selectors`."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from ally360.pages import lines_document_page, tenant_page

from . import selectors, services
from .forms import PurchaseForm, PurchaseLineFormSet

PAGE_SIZE = 25
PURCHASE_SCOPE = "page purchase"


@require_GET
@tenant_page("bills", "read")
def purchase_list_view(request):
    bills = selectors.bill_list().select_related("supplier").order_by("-created_at")
    page = Paginator(bills, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "bills/purchase_list.html",
        {"page_obj": page, "can_create": request.page.may("bills", "write")},
    )


@require_http_methods(["GET", "POST"])
@tenant_page("bills", "write")
def purchase_create_view(request):
    """A supplier's invoice received: the bill is created and received at once (internal
    number, stock in at the net cost), as `POST bills/ {"issue": true}`; once per form."""

    def receive(data, lines) -> dict:
        bill = services.bill_create(
            user=request.user,
            supplier=data["supplier"],
            pdv=data["pdv"],
            supplier_invoice_number=data["supplier_invoice_number"],
            issue_date=data["issue_date"],
            notes=data["notes"],
            lines=lines,
        )
        bill = services.bill_issue(bill=bill, user=request.user)
        return {"id": str(bill.pk), "number": bill.number}

    return lines_document_page(
        request,
        form_class=PurchaseForm,
        formset_class=PurchaseLineFormSet,
        template="bills/purchase_form.html",
        scope=PURCHASE_SCOPE,
        create=receive,
        texts={
            "used": _("This form was already used for a purchase: open the page again."),
            "registered": _("Purchase %(number)s received."),
            "again": _("This purchase was already received."),
            "page": "pages:purchase",
        },
    )


@require_GET
@tenant_page("bills", "read")
def purchase_detail_view(request, pk):
    bill = selectors.bill_detail().filter(pk=pk).first()
    if bill is None:  # another company's too
        raise Http404
    return render(request, "bills/purchase_detail.html", {"bill": bill})
