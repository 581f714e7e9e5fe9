"""Purchase pages: the supplier bills received (list, detail), a supplier's invoice received
into a point of sale by barcode or SKU, and a payment of what a bill owes. Writes through
`services.bill_create` and `services.bill_issue` (the API's `POST bills/ {"issue": true}`) and
`services.supplier_payment_create` (`POST supplier-payments/`), reads through `selectors`."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ally360.exceptions import ValidationFailed
from ally360.pages import amount, form_once, lines_document_page, payment_void_page, tenant_page
from files.attachment_pages import RecordFiles

from . import selectors, services
from .forms import (
    BillReturnForm,
    PurchaseForm,
    PurchaseLineFormSet,
    SupplierBillsPaymentForm,
    SupplierPaymentForm,
    SupplierPaymentVoidForm,
)
from .models import Bill, SupplierPayment

PAGE_SIZE = 25
PURCHASE_SCOPE = "page purchase"
PAYMENT_SCOPE = "page supplier-payment"
PAYMENT_VOID_SCOPE = "page supplier-payment-void"
RETURN_SCOPE = "page debit-note"


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


def _bill_or_404(pk) -> Bill:
    return get_object_or_404(selectors.bill_detail(), pk=pk)  # another company's too


# The supplier's invoice as PDF or XML, its scan: under the purchase, for the back office.
PURCHASE_FILES = RecordFiles(
    name="purchase",
    module="bills",
    records=Bill.objects.all,
    permission_module="bills",
    page="pages:purchase",
)


def _purchase_page(request, bill, payment_form=None, status=200, payment_void=None):
    """The bill's page; `payment_void` is (payment id, bound form) when voiding one of its
    payments was refused, to show the errors on that payment's form."""
    if (
        payment_form is None
        and bill.status == Bill.Status.OPEN
        and request.page.may("supplier_payments", "write")
    ):
        payment_form = SupplierPaymentForm(
            initial={"amount": bill.balance, "payment_key": uuid.uuid4()}
        )
    allocations = list(bill.allocations.all())
    if request.page.may("supplier_payments", "void") and bill.status != Bill.Status.VOID:
        refused_id, refused_form = payment_void or (None, None)
        for allocation in allocations:
            payment = allocation.payment
            if payment.status == SupplierPayment.Status.ACTIVE:
                allocation.void_form = (
                    refused_form
                    if payment.pk == refused_id
                    else SupplierPaymentVoidForm(
                        initial={"void_key": uuid.uuid4()}, prefix=str(payment.pk)
                    )
                )
    return render(
        request,
        "bills/purchase_detail.html",
        {
            "bill": bill,
            "allocations": allocations,
            "payment_form": payment_form,
            "may_return": bill.status in (Bill.Status.OPEN, Bill.Status.PAID)
            and request.page.may("bills", "write"),
            "attachments": PURCHASE_FILES.context(request, bill),
        },
        status=status,
    )


@require_GET
@tenant_page("bills", "read")
def purchase_detail_view(request, pk):
    return _purchase_page(request, _bill_or_404(pk))


@require_POST
@tenant_page("supplier_payments", "write")
def purchase_payment_view(request, pk):
    """Paying what a received bill owes (`supplier_payment_create`, the bill its one
    allocation): not above the balance, dated between the bill's date and today, withholdings
    within the bill's own amounts; a refusal comes back on the form, nothing written. Once per
    form."""
    bill = _bill_or_404(pk)
    form = SupplierPaymentForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data

        def pay():
            payment = services.supplier_payment_create(
                user=request.user,
                supplier=bill.supplier,
                method=data["method"],
                allocations=[{"bill": bill, "amount": data["amount"]}],
                withholdings=_withholdings(bill, data),
                date_=data["date"],
                reference=data["reference"],
            )
            bill.refresh_from_db(fields=["balance"])
            return {
                "number": payment.number,
                "amount": amount(payment.amount),
                "balance": amount(bill.balance),
            }

        if form_once(
            request,
            form,
            key=f"{bill.pk}:{data['payment_key']}",
            scope=PAYMENT_SCOPE,
            act=pay,
            used=_("This form was already used for a payment: open the purchase again."),
            done=_("Payment %(number)s of %(amount)s registered: the bill owes %(balance)s."),
            again=_("This payment was already registered."),
            fields={
                "allocations.0.amount": "amount",
                "withholdings.0.amount": "withholding_amount",
                "withholdings.0.concept": "concept",
            },
        ):
            return redirect("pages:purchase", pk=bill.pk)
    return _purchase_page(request, bill, payment_form=form, status=400)


def _withholdings(bill, data) -> list[dict]:
    """The form's withholding, its base and amount as given or as `withholdings_suggest`
    computes them for the bill (nothing to withhold is a refusal on the concept)."""
    concept = data.get("concept")
    if concept is None:
        return []
    if data.get("withholding_amount") is not None:
        base, withheld = data["withholding_base"], data["withholding_amount"]
    else:
        suggested = services.withholdings_suggest(bills=[bill], concepts=[concept])
        if not suggested:
            message = _(
                "%(concept)s leaves nothing to withhold on this bill (below its minimum base, "
                "or already withheld)."
            ) % {"concept": concept.name}
            raise ValidationFailed(message, fields={"withholdings.0.concept": [message]})
        base, withheld = suggested[0]["base"], suggested[0]["amount"]
    return [{"bill": bill, "concept": concept, "base": base, "amount": withheld}]


@require_http_methods(["GET", "POST"])
@tenant_page("bills", "write")
def purchase_return_view(request, pk):
    """Goods sent back to the supplier: a debit note (`debit_note_create`) for the quantities
    given; the goods leave stock and what the bill owes goes down (beyond it, the supplier owes
    the difference back). A refusal on the form, nothing written; once per form."""
    bill = _bill_or_404(pk)
    if bill.status not in (Bill.Status.OPEN, Bill.Status.PAID):
        messages.error(request, _("Only a received bill takes returns."))
        return redirect("pages:purchase", pk=bill.pk)
    lines = selectors.returnable_bill_lines(bill)
    if request.method == "GET":
        form = BillReturnForm(lines=lines, initial={"note_key": uuid.uuid4()})
        return render(request, "bills/purchase_return.html", {"bill": bill, "form": form})
    form = BillReturnForm(request.POST, lines=lines)
    if form.is_valid():
        returned = form.returned()
        if not returned:
            form.add_error(None, _("Give the quantity sent back of at least one line."))
        else:
            data = form.cleaned_data

            def send_back():
                note = services.debit_note_create(
                    bill=bill,
                    user=request.user,
                    reason=data["reason"],
                    issue_date=data["issue_date"],
                    lines=[{"bill_line": line, "quantity": qty} for line, qty in returned],
                )
                return {"number": note.number, "total": amount(note.total)}

            if form_once(
                request,
                form,
                key=f"{bill.pk}:{data['note_key']}",
                scope=RETURN_SCOPE,
                act=send_back,
                used=_("This form was already used for a return: open the purchase again."),
                done=_("Debit note %(number)s for %(total)s: the goods left stock."),
                again=_("This return was already registered."),
                fields=form.service_fields(returned),
            ):
                return redirect("pages:purchase", pk=bill.pk)
    return render(request, "bills/purchase_return.html", {"bill": bill, "form": form}, status=400)


@require_http_methods(["GET", "POST"])
@tenant_page("supplier_payments", "write")
def supplier_bills_payment_view(request, pk):
    """One payment over several of a supplier's open bills (`supplier_payment_create` with an
    allocation per bill given an amount): each never above its balance; a refusal on the
    form, nothing written; once per form. Withholdings are practised from a single bill's
    page."""
    from contacts.models import Contact

    supplier = get_object_or_404(Contact, pk=pk)  # another company's too
    bills = list(selectors.open_bills().filter(supplier=supplier).order_by("due_date", "number"))
    if not (supplier.is_supplier or bills or supplier.bills.exists()):
        # A contact no longer marked a supplier is still paid what is owed to it, as by the API
        # (and a form of it sent again shows the payment made).
        raise Http404
    if request.method == "GET":
        form = SupplierBillsPaymentForm(bills=bills, initial={"payment_key": uuid.uuid4()})
        return render(request, "bills/supplier_payment.html", {"supplier": supplier, "form": form})
    form = SupplierBillsPaymentForm(request.POST, bills=bills)
    if form.is_valid():
        allocations = form.allocations()
        data = form.cleaned_data
        # Sent again after paying its bills in full, the form has no amounts left to read:
        # `form_once` then shows the first payment.
        if not allocations and not form.amounts_for_closed_bills():
            form.add_error(None, _("Give the amount paid of at least one bill."))
        else:

            def pay() -> dict:
                if form.amounts_for_closed_bills():  # checked here: a resent form replays
                    raise ValidationFailed(
                        _(
                            "A bill of this form is no longer open (paid or voided meanwhile): "
                            "review the amounts."
                        )
                    )
                payment = services.supplier_payment_create(
                    user=request.user,
                    supplier=supplier,
                    method=data["method"],
                    allocations=allocations,
                    date_=data["date"],
                    reference=data["reference"],
                )
                return {"number": payment.number, "amount": amount(payment.amount)}

            if form_once(
                request,
                form,
                key=f"{supplier.pk}:{data['payment_key']}",
                scope=PAYMENT_SCOPE,
                act=pay,
                used=_("This form was already used for a payment: open the page again."),
                done=_("Payment %(number)s of %(amount)s registered."),
                again=_("This payment was already registered."),
                fields=form.service_fields(allocations),
            ):
                return redirect("pages:purchases")
    return render(
        request,
        "bills/supplier_payment.html",
        {"supplier": supplier, "form": form},
        status=400,
    )


@require_POST
@tenant_page("supplier_payments", "void")
def supplier_payment_void_view(request, pk, payment_pk):
    """A payment of the bill voided with its reason (`supplier_payment_void`): every bill it
    paid owes it again; a refusal (a bill of it void) on that payment's form, nothing written.
    Once per form."""
    bill = _bill_or_404(pk)
    # Another company's, or another bill's: 404 (one allocation per payment and bill).
    payment = get_object_or_404(SupplierPayment, pk=payment_pk, allocations__bill=bill)
    form = SupplierPaymentVoidForm(request.POST, prefix=str(payment.pk))

    def void(reason: str) -> dict:
        services.supplier_payment_void(payment=payment, user=request.user, reason=reason)
        return {"number": payment.number}

    return payment_void_page(
        request,
        payment,
        form,
        act=void,
        scope=PAYMENT_VOID_SCOPE,
        used=_("This form was already used to void: open the purchase again."),
        done=_("Payment %(number)s voided: its bills owe it again."),
        back=redirect("pages:purchase", pk=bill.pk),
        # The bill as it stands (nothing written), the refusal on that payment's form.
        refused=lambda: _purchase_page(
            request, _bill_or_404(pk), status=400, payment_void=(payment.pk, form)
        ),
    )
