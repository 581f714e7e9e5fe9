"""The home page of a company (`/`): today's figures, each shown to the roles that may read it;
and the period reports page (`/reports/`), the API's reports in one page."""

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from ally360.documents import PaymentMethod
from ally360.pages import tenant_page
from inventory.selectors import low_stock_count
from invoices.selectors import receivables
from invoices.services import shift_cash_in_drawer
from pos.selectors import open_shift_of
from products.models import Tax

from .forms import PeriodForm
from .selectors import products_sold, sales_by_seller, sales_summary, tax_summary

TOP_PRODUCTS = 20


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


@require_GET
@tenant_page("reports", "read")
def reports_view(request):
    """Sales per day and per payment method, the best-selling products with their margin, sales
    and commission per seller, and the IVA/INC summary of a period (this month by default):
    `reports/sales`, `products`, `sellers` and `taxes` on one page."""
    form = PeriodForm(request.GET or PeriodForm.this_month())
    context = {"form": form}
    if form.is_valid():
        period = {
            "date_from": form.cleaned_data["date_from"],
            "date_to": form.cleaned_data["date_to"],
        }
        sales = sales_summary(**period)
        labels = dict(PaymentMethod.choices)
        for method in sales["methods"]:
            method["label"] = labels.get(method["method"], method["method"])
        taxes = tax_summary(**period)
        treatments = dict(Tax.Treatment.choices)
        for row in (*taxes["sales"], *taxes["purchases"]):
            row["treatment_label"] = treatments.get(row["treatment"], row["treatment"])
        products, product_totals = products_sold(**period)
        sellers, seller_totals = sales_by_seller(**period)
        context.update(
            sellers=sellers,
            seller_totals=seller_totals,
            sales=sales,
            products=products[:TOP_PRODUCTS],
            product_count=len(products),
            product_totals=product_totals,
            taxes=taxes,
        )
    status = 200 if form.is_valid() else 400
    return render(request, "reports/reports.html", context, status=status)
