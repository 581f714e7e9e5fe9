"""The home page of a company (`/`): today's figures, each shown to the roles that may read it;
and the period reports page (`/reports/`), the API's reports in one page."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from ally360.documents import PaymentMethod
from ally360.pages import tenant_page
from bills.selectors import payables
from inventory.selectors import low_stock_count
from invoices.selectors import receivables
from invoices.services import shift_cash_in_drawer
from pos.selectors import open_shift_of
from products.models import Tax

from .forms import AsOfForm, PeriodForm
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


AGING_PAGE_SIZE = 50


@require_GET
@tenant_page("receivables", "read")
def receivables_view(request):
    """What customers owe ("Cartera"), per customer in aging buckets at the end of a day
    (today by default), the largest balance first: `receivables/` on a page."""
    return _aging_page(request, report=receivables, party="customer", count="invoices")


@require_GET
@tenant_page("payables", "read")
def payables_view(request):
    """What the company owes its suppliers, per supplier in aging buckets, the largest balance
    first, each with a link to pay several of its bills at once: `payables/` on a page."""
    return _aging_page(request, report=payables, party="supplier", count="bills")


def _aging_page(request, *, report, party: str, count: str):
    form = AsOfForm(request.GET or None)
    as_of = form.cleaned_data["as_of"] if form.is_valid() else None
    context = {"form": form, "party": party}
    if form.is_bound and not form.is_valid():
        return render(request, "reports/aging.html", context, status=400)
    rows, totals = report(as_of=as_of or timezone.localdate())
    page = Paginator(rows, AGING_PAGE_SIZE).get_page(request.GET.get("page"))
    for row in page:  # the template reads the same names for customers and suppliers
        row["party_id"] = row[f"{party}_id"]
        row["name"] = row[f"{party}__name"]
        row["id_number"] = row[f"{party}__id_number"]
        row["documents"] = row[count]
    context.update(
        page_obj=page,
        totals=totals,
        documents=totals[count],
        as_of=as_of or timezone.localdate(),
        as_of_query=as_of.isoformat() if as_of else "",
        can_pay=party == "supplier" and request.page.may("supplier_payments", "write"),
    )
    return render(request, "reports/aging.html", context)
