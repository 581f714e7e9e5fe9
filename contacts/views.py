"""Customer and supplier pages: the lists (search), a new customer (a cashier needs one for a
sale on credit) or supplier, and editing either. Reads through `selectors`, writes through
`services.contact_create` and `services.contact_update` (the API's)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from ally360.exceptions import ServiceError
from ally360.idempotency import once_per_form
from ally360.pages import form_service_error, run_service, search_text, tenant_page
from ally360.roles import SELLER
from files.attachment_pages import RecordFiles

from . import selectors, services
from .forms import CustomerEditForm, CustomerForm, SupplierEditForm, SupplierForm

PAGE_SIZE = 25
CONTACT_SCOPE = "page contact"


@require_GET
@tenant_page("contacts", "read")
def customer_list_view(request):
    query = search_text(request)
    page = Paginator(selectors.customer_search(query), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "contacts/customer_list.html",
        {"page_obj": page, "q": query, "can_create": request.page.may("contacts", "write")},
    )


@require_http_methods(["GET", "POST"])
@tenant_page("contacts", "write")
def customer_create_view(request):
    form = CustomerForm(request.POST or None, credit_terms=request.page.role != SELLER)
    return _contact_create_page(
        request,
        form,
        "contacts/customer_form.html",
        created=_("Customer %(name)s created: give %(number)s at the counter."),
        then=lambda customer: (
            f"{reverse('pages:customers')}?{urlencode({'q': customer['number']})}"
        ),
    )


def _contact_create_page(request, form, template: str, *, created: str, then):
    """A new contact's form page: `contact_create` once per form (its hidden `contact_key`; a
    post without it, not from the page, creates as the API does), then `then(contact)`; a
    refusal on the form, nothing written."""
    if request.method == "POST" and form.is_valid():

        def create() -> dict:
            contact = services.contact_create(role=request.page.role, **form.contact_data())
            return {"id": str(contact.pk), "name": contact.name, "number": contact.id_number}

        key = form.cleaned_data.get("contact_key")
        try:
            if key is None:
                contact, first = run_service(create), True
            else:
                contact, first = once_per_form(
                    request,
                    str(key),
                    CONTACT_SCOPE,
                    create,
                    used=_("This form was already used for a contact: open the page again."),
                )
        except ServiceError as error:
            form_service_error(form, error, {"phones": "phone", "addresses": "address"})
        else:
            if first:
                messages.success(request, created % contact)
            else:
                messages.info(request, _("This contact was already created."))
            return redirect(then(contact))
    status = 400 if request.method == "POST" else 200
    return render(request, template, {"form": form}, status=status)


@require_GET
@tenant_page("bills", "read")
def supplier_list_view(request):
    """The suppliers, for the purchases (the roles that buy read them here)."""
    query = search_text(request)
    page = Paginator(selectors.supplier_search(query), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "contacts/supplier_list.html",
        {
            "page_obj": page,
            "q": query,
            "can_create": request.page.may("bills", "write"),
            "can_pay": request.page.may("supplier_payments", "write"),
        },
    )


@require_http_methods(["GET", "POST"])
@tenant_page("bills", "write")
def supplier_create_view(request):
    return _contact_create_page(
        request,
        SupplierForm(request.POST or None),
        "contacts/supplier_form.html",
        created=_("Supplier %(name)s created."),
        then=lambda _supplier: reverse("pages:purchase-new"),
    )


# A contact's RUT, a chamber of commerce certificate: on its edit page. Suppliers' pages are
# the buying roles', as the page itself.
CUSTOMER_FILES = RecordFiles(
    name="customer",
    module="contacts",
    records=lambda: selectors.customer_search(""),
    permission_module="contacts",
    page="pages:customer-edit",
)
SUPPLIER_FILES = RecordFiles(
    name="supplier",
    module="contacts",
    records=lambda: selectors.supplier_search(""),
    permission_module="bills",
    page="pages:supplier-edit",
)


@require_http_methods(["GET", "POST"])
@tenant_page("contacts", "write")
def customer_edit_view(request, pk):
    """A customer's details: `contact_update`, as `PATCH contacts/{id}` (the NIT's check digit,
    duplicates, the final consumer's identification and who may change credit terms are the
    service's). Sellers edit everything but the credit terms and whether it is active."""
    customer = get_object_or_404(selectors.customer_search(""), pk=pk)  # another company's too
    form = CustomerEditForm(
        request.POST or None, contact=customer, credit_terms=request.page.role != SELLER
    )
    return _contact_edit_page(
        request,
        form,
        customer,
        "contacts/customer_form.html",
        saved=_("Customer %(name)s saved."),
        then="pages:customers",
        files=CUSTOMER_FILES,
    )


@require_http_methods(["GET", "POST"])
@tenant_page("bills", "write")
def supplier_edit_view(request, pk):
    """A supplier's details, by the roles that buy: `contact_update`, as `PATCH contacts/{id}`
    (the NIT's check digit and duplicates are the service's)."""
    supplier = get_object_or_404(selectors.supplier_search(""), pk=pk)  # another company's too
    form = SupplierEditForm(request.POST or None, contact=supplier)
    return _contact_edit_page(
        request,
        form,
        supplier,
        "contacts/supplier_form.html",
        saved=_("Supplier %(name)s saved."),
        then="pages:suppliers",
        files=SUPPLIER_FILES,
    )


def _contact_edit_page(
    request, form, contact, template: str, *, saved: str, then: str, files: RecordFiles
):
    """An edit form page: `contact_update`, then the list searched for the contact; a refusal
    on the form, nothing written. Under the form, the contact's files."""
    if request.method == "POST" and form.is_valid():
        try:
            contact = run_service(
                services.contact_update,
                contact=contact,
                role=request.page.role,
                data=form.contact_data(),
            )
        except ServiceError as error:
            form_service_error(form, error, {"phones": "phone", "addresses": "address"})
        else:
            messages.success(request, saved % {"name": contact.name})
            return redirect(f"{reverse(then)}?{urlencode({'q': contact.id_number})}")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        template,
        {"form": form, "contact": contact, "attachments": files.context(request, contact)},
        status=status,
    )
