"""The catalog's taxes and units of measure: every role reads them; owners and admins add,
change or delete them through the services the API calls (`tax_*`, `unit_*` in
products.services), so a zero rate that is not exempt, a kind changed under products, a name or
code already used, or a row in use deleted come back with the API's message, nothing written."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ally360.exceptions import ServiceError
from ally360.pages import (
    delete_page,
    forbidden,
    form_once,
    form_service_error,
    run_service,
    tenant_page,
)
from products import services as product_services
from products.models import ProductTax, Tax, Unit

from .forms import TaxForm, UnitForm

TAX_SCOPE = "page tax"
UNIT_SCOPE = "page unit"


@require_http_methods(["GET", "POST"])
@tenant_page("catalog", "read")
def tax_list_view(request):
    """The taxes (with how many products carry each) and the units (with how many products
    are sold in each); managers add either, once per form."""
    may_write = request.page.may("catalog", "write")
    if request.method == "POST" and not may_write:
        return forbidden(request)
    posted = request.POST if request.method == "POST" else None
    adding_unit = posted is not None and "unit-code" in posted
    tax_form = unit_form = None
    if may_write:
        tax_form = TaxForm(None if adding_unit else posted, initial={"key": uuid.uuid4()})
        unit_form = UnitForm(posted if adding_unit else None, initial={"key": uuid.uuid4()})
    form = unit_form if adding_unit else tax_form
    if posted is not None and form.is_valid():
        if adding_unit:

            def create() -> dict:
                return {"name": product_services.unit_create(**form.unit_data()).name}

            scope, done = UNIT_SCOPE, _("Unit %(name)s created.")
        else:

            def create() -> dict:
                return {"name": product_services.tax_create(**form.tax_data()).name}

            scope, done = TAX_SCOPE, _("Tax %(name)s created.")
        if form_once(
            request,
            form,
            key=str(form.cleaned_data["key"]),
            scope=scope,
            act=create,
            done=done,
            again=_("It was already created."),
        ):
            return redirect("pages:taxes")
    products_per_tax = dict(
        ProductTax.objects.values("tax_id").annotate(n=Count("id")).values_list("tax_id", "n")
    )
    taxes = list(Tax.objects.order_by("kind", "-rate", "name"))
    for tax in taxes:
        tax.product_count = products_per_tax.get(tax.pk, 0)
    units = Unit.objects.annotate(product_count=Count("products")).order_by("name")
    return render(
        request,
        "inventory/taxes.html",
        {"taxes": taxes, "units": units, "tax_form": tax_form, "unit_form": unit_form},
        status=400 if posted is not None else 200,
    )


def _edit_page(request, row, form, service, argument: str, data, texts: dict):
    """A tax's or unit's edit page: `service(<argument>=row, data=…)`, then the list; a refusal
    on the form, nothing written."""
    if request.method == "POST" and form.is_valid():
        try:
            run_service(service, **{argument: row, "data": data()})
        except ServiceError as error:
            form_service_error(form, error)
        else:
            messages.success(request, _("%(name)s saved.") % {"name": form.cleaned_data["name"]})
            return redirect("pages:taxes")
    return render(
        request,
        "inventory/catalog_setting_form.html",
        {
            "form": form,
            "row": row,
            "action": reverse(texts["url"], args=[row.pk]),
            "delete_action": reverse(f"{texts['url']}-delete", args=[row.pk]),
            **texts,
        },
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
@tenant_page("catalog", "write")
def tax_edit_view(request, pk):
    """A tax's name, kind, treatment, rate and state (`tax_update`). Documents keep the rates
    they were issued with; the shelf price of the products that carry it follows the new rate."""
    tax = get_object_or_404(Tax, pk=pk)
    initial = {
        "name": tax.name,
        "kind": tax.kind,
        "treatment": tax.treatment,
        "rate": tax.rate,
        "is_active": tax.is_active,
    }
    form = TaxForm(request.POST or None, editing=True, initial=initial)
    texts = {
        "url": "pages:tax",
        "title": _("Edit tax"),
        "note": _(
            "Issued documents keep the rate they were issued with. Products that carry this "
            "tax keep their price before tax, so their shelf price follows a new rate."
        ),
        "delete_label": _("Delete the tax"),
        "confirm": _("Delete this tax? One that products carry cannot be deleted."),
    }
    return _edit_page(request, tax, form, product_services.tax_update, "tax", form.tax_data, texts)


@require_http_methods(["GET", "POST"])
@tenant_page("catalog", "write")
def unit_edit_view(request, pk):
    """A unit's code, name, DIAN code and whether it is sold in fractions (`unit_update`)."""
    unit = get_object_or_404(Unit, pk=pk)
    initial = {
        "code": unit.code,
        "name": unit.name,
        "dian_code": unit.dian_code,
        "allows_decimals": unit.allows_decimals,
    }
    form = UnitForm(request.POST or None, editing=True, initial=initial)
    texts = {
        "url": "pages:unit",
        "title": _("Edit unit"),
        "note": "",
        "delete_label": _("Delete the unit"),
        "confirm": _("Delete this unit? One that products use cannot be deleted."),
    }
    return _edit_page(
        request, unit, form, product_services.unit_update, "unit", form.unit_data, texts
    )


@require_POST
@tenant_page("catalog", "write")
def tax_delete_view(request, pk):
    """A tax deleted (`tax_delete`): not one that products carry (deactivated instead)."""
    tax = get_object_or_404(Tax, pk=pk)
    return delete_page(
        request,
        product_services.tax_delete,
        tax=tax,
        done=_("Tax %(name)s deleted.") % {"name": tax.name},
        gone=redirect("pages:taxes"),
        back=redirect("pages:tax", pk=tax.pk),
    )


@require_POST
@tenant_page("catalog", "write")
def unit_delete_view(request, pk):
    """A unit deleted (`unit_delete`): not one that products use."""
    unit = get_object_or_404(Unit, pk=pk)
    return delete_page(
        request,
        product_services.unit_delete,
        unit=unit,
        done=_("Unit %(name)s deleted.") % {"name": unit.name},
        gone=redirect("pages:taxes"),
        back=redirect("pages:unit", pk=unit.pk),
    )
