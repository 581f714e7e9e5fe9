"""Points of sale, their cash registers, and sellers: what a shop with a second store sets up
before selling there. Every role reads them; owners and admins write, through the services
the API calls (`pdv_create`, `pdv_update`, `pdv_delete`, `cash_register_*`, `seller_*`), so the
rules (one main point of sale, codes unique, nothing closed with stock or an open shift, a
row in use deactivated rather than deleted) and their messages are the API's."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
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

from . import services
from .forms import CashRegisterEditForm, CashRegisterForm, PDVForm, SellerForm
from .models import PDV, CashRegister, PDVAccess, Seller, Shift

PDV_SCOPE = "page pdv"
REGISTER_SCOPE = "page cash-register"
SELLER_SCOPE = "page seller"


def _pdvs_with_registers():
    """Points of sale, main first, each with its registers and their open shift (the cashier),
    in three queries whatever their number."""
    open_shifts = Shift.objects.filter(status=Shift.Status.OPEN).select_related("user")
    registers = CashRegister.objects.order_by("name").prefetch_related(
        Prefetch("shifts", queryset=open_shifts, to_attr="open_shifts")
    )
    return PDV.objects.prefetch_related(Prefetch("cash_registers", queryset=registers))


def _pdv_or_404(pk) -> PDV:
    return get_object_or_404(_pdvs_with_registers(), pk=pk)  # another company's too


@require_http_methods(["GET", "POST"])
@tenant_page("pdvs", "read")
def pdv_list_view(request):
    """The points of sale with their registers; managers add one (once per form)."""
    may_write = request.page.may("pdvs", "write")
    if request.method == "POST" and not may_write:
        return forbidden(request)
    form = None
    if may_write:
        form = PDVForm(request.POST or None, initial={"key": uuid.uuid4()})
    if request.method == "POST" and form.is_valid():

        def create() -> dict:
            pdv = services.pdv_create(**form.pdv_data())
            return {"id": str(pdv.pk), "name": pdv.name}

        created = form_once(
            request,
            form,
            key=str(form.cleaned_data["key"]),
            scope=PDV_SCOPE,
            act=create,
            done=_("Point of sale %(name)s created: add its cash registers and its numbering."),
            again=_("It was already created."),
        )
        if created:
            return redirect("pages:pdv", pk=created["id"])
    return render(
        request,
        "pos/pdv_list.html",
        {"pdvs": _pdvs_with_registers(), "form": form},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
@tenant_page("pdvs", "read")
def pdv_detail_view(request, pk):
    """A point of sale: its details, who may open shifts there, and its registers. Managers
    change them (`pdv_update`; the main one is neither unset nor closed, one with stock or an
    open shift is not closed) and add, rename, deactivate or delete registers."""
    pdv = _pdv_or_404(pk)
    may_write = request.page.may("pdvs", "write")
    if request.method == "POST" and not may_write:
        return forbidden(request)
    form = None
    if may_write:
        form = PDVForm(request.POST or None, instance=pdv, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            saved = run_service(services.pdv_update, pdv=pdv, data=form.pdv_data())
        except ServiceError as error:
            form_service_error(form, error)
        else:
            messages.success(request, _("%(name)s saved.") % {"name": saved.name})
            return redirect("pages:pdv", pk=pdv.pk)
        pdv = _pdv_or_404(pk)  # as stored: the service may have changed the object it refused
    return _pdv_page(request, pdv, form=form, status=400 if request.method == "POST" else 200)


def _pdv_page(request, pdv, *, form=None, register_form=None, status=200):
    may_write = request.page.may("cash_registers", "write")
    registers = list(pdv.cash_registers.all())
    for register in registers:
        register.edit_form = (
            CashRegisterEditForm(
                prefix=str(register.pk),
                initial={"name": register.name, "is_active": register.is_active},
            )
            if may_write
            else None
        )
    if register_form is None and may_write:
        register_form = CashRegisterForm(initial={"key": uuid.uuid4()})
    allowed = list(PDVAccess.objects.filter(pdv=pdv).select_related("user").order_by("user__email"))
    ticked = set(form.initial.get("allowed_users", ())) if form else set()
    return render(
        request,
        "pos/pdv_detail.html",
        {
            "pdv": pdv,
            "form": form,
            "registers": registers,
            "register_form": register_form,
            "allowed": [access.user for access in allowed],
            # Kept for the store but not among the ticks (suspended): the store stays closed
            # to the other members while they are listed.
            "allowed_suspended": [a.user for a in allowed if form and a.user_id not in ticked],
        },
        status=status,
    )


@require_POST
@tenant_page("pdvs", "write")
def pdv_delete_view(request, pk):
    """A point of sale deleted (`pdv_delete`): not the main one, nor one holding stock,
    registers or documents (deactivated instead)."""
    pdv = _pdv_or_404(pk)
    return delete_page(
        request,
        services.pdv_delete,
        pdv=pdv,
        done=_("Point of sale %(name)s deleted.") % {"name": pdv.name},
        gone=redirect("pages:pdvs"),
        back=redirect("pages:pdv", pk=pdv.pk),
    )


@require_POST
@tenant_page("cash_registers", "write")
def cash_register_create_view(request, pk):
    """A new register at the point of sale (`cash_register_create`), once per form; a name
    the point of sale already has comes back on the form."""
    pdv = _pdv_or_404(pk)
    form = CashRegisterForm(request.POST)
    if form.is_valid() and form_once(
        request,
        form,
        key=f"{pdv.pk}:{form.cleaned_data['key']}",
        scope=REGISTER_SCOPE,
        act=lambda: {
            "name": services.cash_register_create(pdv=pdv, name=form.cleaned_data["name"]).name
        },
        done=_("Register %(name)s created."),
        again=_("It was already created."),
    ):
        return redirect("pages:pdv", pk=pdv.pk)
    editing = None
    if request.page.may("pdvs", "write"):
        editing = PDVForm(instance=pdv, editing=True)
    return _pdv_page(request, pdv, form=editing, register_form=form, status=400)


@require_POST
@tenant_page("cash_registers", "write")
def cash_register_update_view(request, pk):
    """A register renamed, or (de)activated (`cash_register_update`: not while a shift is open
    on it); a refusal as a message, nothing written."""
    register = get_object_or_404(CashRegister, pk=pk)
    form = CashRegisterEditForm(request.POST, prefix=str(register.pk))
    if not form.is_valid():
        for name, errors in form.errors.items():
            messages.error(request, f"{form.fields[name].label}: {' '.join(errors)}")
    else:
        try:
            run_service(services.cash_register_update, register=register, data=form.cleaned_data)
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("%(name)s saved.") % {"name": form.cleaned_data["name"]})
    return redirect("pages:pdv", pk=register.pdv_id)


@require_POST
@tenant_page("cash_registers", "write")
def cash_register_delete_view(request, pk):
    """A register deleted (`cash_register_delete`): not one that has had shifts."""
    register = get_object_or_404(CashRegister, pk=pk)
    back = redirect("pages:pdv", pk=register.pdv_id)
    return delete_page(
        request,
        services.cash_register_delete,
        register=register,
        done=_("Register %(name)s deleted.") % {"name": register.name},
        gone=back,
        back=back,
    )


@require_http_methods(["GET", "POST"])
@tenant_page("sellers", "read")
def seller_list_view(request):
    """The sellers (invoices name one; a customer may have a default one); managers add one,
    once per form."""
    may_write = request.page.may("sellers", "write")
    if request.method == "POST" and not may_write:
        return forbidden(request)
    form = None
    if may_write:
        form = SellerForm(request.POST or None, initial={"key": uuid.uuid4()})
    if request.method == "POST" and form.is_valid():

        def create() -> dict:
            return {"name": services.seller_create(**form.seller_data()).name}

        if form_once(
            request,
            form,
            key=str(form.cleaned_data["key"]),
            scope=SELLER_SCOPE,
            act=create,
            done=_("Seller %(name)s created."),
            again=_("It was already created."),
        ):
            return redirect("pages:sellers")
    sellers = Seller.objects.select_related("user").order_by("-is_active", "name")
    return render(
        request,
        "pos/seller_list.html",
        {"sellers": sellers, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
@tenant_page("sellers", "write")
def seller_edit_view(request, pk):
    """A seller's details (`seller_update`); a member already linked to another seller comes
    back on the form, nothing written."""
    seller = get_object_or_404(Seller, pk=pk)
    form = SellerForm(request.POST or None, instance=seller, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            run_service(services.seller_update, seller=seller, data=form.seller_data())
        except ServiceError as error:
            form_service_error(form, error)
        else:
            messages.success(request, _("Seller %(name)s saved.") % {"name": seller.name})
            return redirect("pages:sellers")
        seller.refresh_from_db()
    return render(
        request,
        "pos/seller_form.html",
        {"form": form, "seller": seller},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@tenant_page("sellers", "write")
def seller_delete_view(request, pk):
    """A seller deleted (`seller_delete`): not one named on documents (deactivated instead)."""
    seller = get_object_or_404(Seller, pk=pk)
    return delete_page(
        request,
        services.seller_delete,
        seller=seller,
        done=_("Seller %(name)s deleted.") % {"name": seller.name},
        gone=redirect("pages:sellers"),
        back=redirect("pages:seller", pk=seller.pk),
    )
