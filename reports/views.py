"""The home page of a company (`/`): today's figures, each shown to the roles that may read it."""

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from ally360.pages import tenant_page
from inventory.selectors import low_stock_count
from invoices.selectors import receivables
from invoices.services import shift_cash_in_drawer
from pos.selectors import open_shift_of

from .selectors import sales_summary


@require_GET
@tenant_page("company", "read")
def dashboard_view(request):
    page = request.page
    shift = open_shift_of(request.user)
    context = {"shift": shift, "can_sell": page.may("pos_sales", "write")}
    if page.may("invoices", "read"):
        today = timezone.localdate()
        totals = sales_summary(date_from=today, date_to=today)["totals"]
        context["sales"] = {"count": totals["invoices"], "total": totals["net_total"]}
    if page.may("receivables", "read"):
        _rows, context["receivables"] = receivables()
    if page.may("stock", "read"):
        context["low_stock"] = low_stock_count()
    if shift is not None:
        context["cash_in_drawer"] = shift_cash_in_drawer(shift)
    return render(request, "reports/dashboard.html", context)
