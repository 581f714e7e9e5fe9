"""Sales pages: the POS counter (shift open, sale, receipt, close, shift report) and the
invoices (list, detail, PDF).

Thin, as the API: forms check the shape, services write (`pos.services.shift_open`,
`services.pos_sale_create`, `services.shift_close`), selectors read. Every page runs through
`ally360.pages.tenant_page` (membership, tenant, role matrix).
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.paginator import Page
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ally360.documents import PaymentMethod
from ally360.exceptions import ServiceError, ValidationFailed
from ally360.idempotency import once_per_form
from ally360.pages import (
    FORM_USED,
    amount,
    delete_page,
    form_once,
    form_service_error,
    payment_void_page,
    run_service,
    search_text,
    tenant_page,
)
from files.attachment_pages import RecordFiles
from pos.selectors import open_shift_of, registers_to_open, shifts_visible_to
from pos.services import shift_open

from . import selectors, services
from .forms import (
    CashMovementForm,
    InvoiceCreditForm,
    InvoicePaymentForm,
    InvoiceReturnForm,
    InvoiceVoidForm,
    NumberingRangeEditForm,
    NumberingRangeForm,
    PaymentVoidForm,
    PosSaleForm,
    SaleLineFormSet,
    ShiftCloseForm,
    ShiftOpenForm,
)
from .models import CreditNote, Invoice, NumberingRange, Payment

PAGE_SIZE = 25
SALE_SCOPE = "page pos-sale"
PAYMENT_SCOPE = "page invoice-payment"
CASH_SCOPE = "page cash-movement"
RETURN_SCOPE = "page invoice-return"
CREDIT_SCOPE = "page invoice-credit"
VOID_SCOPE = "page invoice-void"
PAYMENT_VOID_SCOPE = "page payment-void"
NUMBERING_SCOPE = "page numbering"


# --- POS: shift open ---------------------------------------------------------------------------


@require_GET
@tenant_page("pos_sales", "write")
def pos_view(request):
    """The counter: the open-shift form without a shift, the sale form with one."""
    shift = open_shift_of(request.user)
    if shift is None:
        form = ShiftOpenForm(registers=registers_to_open())
        return render(request, "invoices/pos_open.html", {"form": form})
    return _sale_page(request, shift, PosSaleForm(initial={"sale_key": uuid.uuid4()}))


@require_POST
@tenant_page("shifts", "write")
def pos_shift_open_view(request):
    if open_shift_of(request.user) is not None:
        return redirect("pages:pos")
    form = ShiftOpenForm(request.POST, registers=registers_to_open())
    if form.is_valid():
        try:
            run_service(
                shift_open,
                user=request.user,
                role=request.page.role,
                register=form.cleaned_data["register"],
                opening_cash=form.cleaned_data["opening_cash"],
            )
        except ServiceError as error:
            form_service_error(form, error)
        else:
            messages.success(request, _("Shift opened. You can sell now."))
            return redirect("pages:pos")
    return render(request, "invoices/pos_open.html", {"form": form}, status=400)


# --- POS: the sale -----------------------------------------------------------------------------


def _sale_page(request, shift, form, formset=None, quote=None, status=200):
    if formset is None:
        formset = SaleLineFormSet(prefix="lines")
    return render(
        request,
        "invoices/pos_sale.html",
        {"shift": shift, "form": form, "formset": formset, "quote": quote},
        status=status,
    )


def _rows_formset(lines_formset):
    """The lines kept (their rows as typed) plus blank rows to scan into."""
    initial = [
        {key: form.cleaned_data.get(key) for key in ("code", "quantity", "discount_pct")}
        for form in lines_formset.forms
        if form.cleaned_data.get("code")
    ]
    return SaleLineFormSet(prefix="lines", initial=initial)


@require_POST
@tenant_page("pos_sales", "write")
def pos_sale_view(request):
    """`action=quote` (the default button: Enter after a scan) prices the lines and shows the
    total; `action=charge` makes the sale (`pos_sale_create`, the API's arguments) and shows
    the receipt. Any service error goes back to the form, nothing written."""
    shift = open_shift_of(request.user)
    if shift is None:
        messages.warning(request, _("Open a shift before selling."))
        return redirect("pages:pos")
    form = PosSaleForm(request.POST)
    formset = SaleLineFormSet(request.POST, prefix="lines")
    if not (form.is_valid() & formset.is_valid()):
        return _sale_page(request, shift, form, formset, status=400)
    arguments = {
        "user": request.user,
        "role": request.page.role,
        "lines": formset.lines,
        "customer": form.cleaned_data["customer"],
        "seller": form.cleaned_data["seller"],
    }
    action = request.POST.get("action")
    try:
        if action == "credit":
            return _sell_once(
                request,
                form,
                lambda: services.counter_credit_sale_create(
                    down_payment=form.tenders(), **arguments
                ),
                "pages:invoice",
            )
        if action != "charge":
            quote = run_service(services.pos_sale_quote, **arguments)
            if quote.needs_identified_customer:
                form.add_error(
                    "customer",
                    _(
                        "Above %(limit)s before tax the DIAN requires an electronic invoice: "
                        "give the customer's ID or NIT."
                    )
                    % {"limit": amount(quote.limit)},
                )
            return _sale_page(request, shift, form, _rows_formset(formset), quote=quote)

        def charge():
            sale = services.pos_sale_create(tenders=form.tenders(), **arguments)
            return sale.invoice, sale.warnings

        return _sell_once(request, form, charge, "pages:pos-receipt")
    except ServiceError as error:
        if not formset.add_service_error(error):
            form_service_error(form, error, {"tenders": "cash"})
        # The total stays on the page (and the change preview with it) when the lines price.
        quote = _quote_or_none(arguments) if action in ("charge", "credit") else None
        return _sale_page(request, shift, form, formset, quote=quote, status=400)


def _quote_or_none(arguments: dict):
    """The lines' quote, or None when they do not price (an unknown code, a discount above the
    seller's limit): what the refused sale page shows as its total."""
    try:
        return run_service(services.pos_sale_quote, **arguments)
    except ServiceError:
        return None


def _sell_once(request, form, sell, shown_on: str):
    """The sale (`sell() -> (invoice, warnings)`: charged, or on credit) once per form; a
    repeat shows the first sale (`shown_on`: its receipt, or the credit invoice)."""
    sold = {}

    def act():
        sold["invoice"], sold["warnings"] = sell()
        return {"invoice": str(sold["invoice"].pk)}

    remembered, first = once_per_form(
        request,
        str(form.cleaned_data["sale_key"]),
        SALE_SCOPE,
        act,
        used=_("This form was already used for a sale: start a new sale."),
    )
    if not first:
        messages.info(request, _("This sale was already registered."))
        return redirect(shown_on, pk=remembered["invoice"])
    invoice = sold["invoice"]
    for warning in sold["warnings"]:
        messages.warning(request, warning)
    if shown_on == "pages:invoice":
        sold_on_credit = {
            "number": invoice.full_number,
            "customer": invoice.customer.name,
            "owed": amount(invoice.balance),
            "paid": amount(invoice.amount_paid),
        }
        if invoice.amount_paid:
            message = _("Sold on credit: %(number)s, %(customer)s paid %(paid)s and owes %(owed)s.")
        else:
            message = _("Sold on credit: %(number)s, %(customer)s owes %(owed)s.")
        messages.success(request, message % sold_on_credit)
    return redirect(shown_on, pk=invoice.pk)


@require_GET
@tenant_page("invoices", "read")
def pos_receipt_view(request, pk):
    from accounts.models import Company

    invoice = get_object_or_404(selectors.invoice_detail().select_related("numbering_range"), pk=pk)
    payments = [p for p in invoice.payments.all() if p.status == p.Status.ACTIVE]
    change = sum((p.change for p in payments), start=0)
    # What a POS receipt must show the DIAN: the seller's NIT and the numbering authorization.
    company = Company.objects.get(pk=request.page.company_id)
    return render(
        request,
        "invoices/pos_receipt.html",
        {"invoice": invoice, "payments": payments, "change": change, "company": company},
    )


# --- POS: cash in and out of the drawer --------------------------------------------------------


def _refuse_if_shown_for_another_shift(request, form, shift) -> None:
    """A form carries the shift it was shown for (hidden `shift`): sent once that shift was
    closed and another opened, it is refused, nothing written."""
    if (
        request.method == "POST"
        and form.is_valid()
        and form.cleaned_data["shift"] not in (None, shift.pk)
    ):
        form.add_error(None, _("This form was opened for a shift now closed: open it again."))


@require_http_methods(["GET", "POST"])
@tenant_page("shifts", "write")
def pos_cash_view(request):
    """Cash into or out of the open shift's drawer, with its reason; out at most what the
    drawer holds. Once per form, as a sale."""
    shift = open_shift_of(request.user)
    if shift is None:
        messages.info(request, _("You have no open shift."))
        return redirect("pages:pos")
    form = CashMovementForm(
        request.POST or None, initial={"movement_key": uuid.uuid4(), "shift": shift.pk}
    )
    # Shown during a shift since closed: its "the drawer should hold" was that shift's.
    _refuse_if_shown_for_another_shift(request, form, shift)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def move():
            movement = services.drawer_cash_movement(
                shift=shift,
                user=request.user,
                role=request.page.role,
                kind=data["kind"],
                amount=data["amount"],
                reason=data["reason"],
            )
            return {"movement": str(movement.pk)}

        try:
            _moved, first = once_per_form(
                request,
                str(data["movement_key"]),
                CASH_SCOPE,
                move,
                used=FORM_USED,
            )
        except ServiceError as error:
            if error.code == "not_enough_cash":  # it names no field: it is about the amount
                form.add_error("amount", error.message)
            else:
                form_service_error(form, error)
        else:
            if first:
                messages.success(
                    request,
                    _("Registered. The drawer should hold %(cash)s.")
                    % {"cash": amount(services.shift_cash_in_drawer(shift))},
                )
            return redirect("pages:pos")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "invoices/pos_cash.html",
        {"form": form, "shift": shift, "cash": services.shift_cash_in_drawer(shift)},
        status=status,
    )


# --- POS: close and report ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@tenant_page("shifts", "write")
def pos_close_view(request):
    shift = open_shift_of(request.user)
    if shift is None:
        messages.info(request, _("You have no open shift."))
        return redirect("pages:pos")
    # Besides the cash, each method the shift took money by is counted (card slips, wallets).
    methods = [method for method, amount in services.shift_expected(shift).items() if amount]
    form = ShiftCloseForm(request.POST or None, methods=methods, initial={"shift": shift.pk})
    # A count made for a shift someone else closed since must not close the cashier's next one.
    _refuse_if_shown_for_another_shift(request, form, shift)
    if request.method == "POST" and form.is_valid():
        try:
            closed = run_service(
                services.shift_close,
                shift=shift,
                user=request.user,
                role=request.page.role,
                counted=form.counted(),
                notes=form.cleaned_data["notes"],
            )
        except ServiceError as error:
            form_service_error(form, error, {"counted.cash": "counted_cash"})
        else:
            messages.success(request, _("Shift closed."))
            return redirect("pages:shift-report", pk=closed.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "invoices/pos_close.html", {"shift": shift, "form": form}, status=status)


@require_GET
@tenant_page("shifts", "read")
def shift_report_view(request, pk):
    shift = get_object_or_404(  # another company's, or a shift this role does not see
        shifts_visible_to(request.user, request.page.role).select_related(
            "register", "register__pdv", "user"
        ),
        pk=pk,
    )
    report = selectors.shift_report(shift)
    labels = dict(PaymentMethod.choices)

    def labelled(per_method: dict) -> list[tuple[str, object]]:
        return [(str(labels.get(method, method)), entry) for method, entry in per_method.items()]

    return render(
        request,
        "invoices/shift_report.html",
        {
            "shift": shift,
            # The cashier's e-mail only to who may read the members, as `shifts/{id}`.
            "show_members": request.page.may("members", "read"),
            "report": report,
            "methods": labelled(report["sales_by_method"]),
            "collections": labelled(report["collections_by_method"]),
            "refunds": labelled(report["refunds_by_method"]),
            # What the close checks per method: the drawer's cash, the card terminal's and
            # each wallet's totals.
            "expected": labelled(report["expected_by_method"]),
            "counted": labelled(report["counted_by_method"]),
        },
    )


# --- invoices ----------------------------------------------------------------------------------


class LookaheadPage(Page):
    """A page read with one row more than it shows: "next" without counting the company's
    invoices (a COUNT over 100,000 rows for a page of 25)."""

    def __init__(self, rows, number, per_page):
        self.has_more = len(rows) > per_page
        super().__init__(rows[:per_page], number, paginator=None)

    def has_next(self):
        return self.has_more

    def has_previous(self):
        return self.number > 1

    def next_page_number(self):
        return self.number + 1

    def previous_page_number(self):
        return self.number - 1


MAX_PAGE = 100_000  # an offset PostgreSQL can take (a bigint), far past any shop's book


def page_number(request) -> int:
    try:
        return min(MAX_PAGE, max(1, int(request.GET.get("page", "1"))))
    except ValueError:
        return 1


@require_GET
@tenant_page("invoices", "read")
def invoice_list_view(request):
    """Newest first, searched by number, customer name or ID; `?customer=` keeps one
    customer's (the receivables page links there)."""
    from contacts.models import Contact

    query = search_text(request)
    try:
        customer = Contact.objects.filter(pk=uuid.UUID(request.GET.get("customer", ""))).first()
    except ValueError:  # none given, or not an id
        customer = None
    number = page_number(request)
    start = (number - 1) * PAGE_SIZE
    invoices = selectors.invoice_search(query, customer_id=customer.pk if customer else None)
    rows = list(invoices[start : start + PAGE_SIZE + 1])
    page = LookaheadPage(rows, number, PAGE_SIZE)
    return render(
        request,
        "invoices/invoice_list.html",
        {"page_obj": page, "q": query, "customer": customer},
    )


# The customer's purchase order, a signed delivery note: under the invoice.
INVOICE_FILES = RecordFiles(
    name="invoice",
    module="invoices",
    records=Invoice.objects.all,
    permission_module="invoices",
    page="pages:invoice",
    check=lambda invoice, user, role: services.invoice_files_check(
        invoice=invoice, user=user, role=role
    ),
)


def _allowed(check, invoice, request) -> bool:
    """`check` (a service's rule on what this member may do with the invoice) lets them."""
    try:
        check(invoice=invoice, user=request.user, role=request.page.role)
    except ServiceError:
        return False
    return True


def _invoice_page(
    request, invoice, payment_form=None, void_form=None, status=200, payment_void=None
):
    """The invoice's page; `payment_void` is (payment id, bound form) when voiding one of its
    payments was refused, to show the errors on that payment's form."""
    if (
        payment_form is None
        and invoice.status == Invoice.Status.OPEN
        and request.page.may("payments", "write")
        and _allowed(services.invoice_payments_check, invoice, request)
    ):
        payment_form = InvoicePaymentForm(
            initial={"amount": invoice.balance, "payment_key": uuid.uuid4()}
        )
    voidable = invoice.status == Invoice.Status.OPEN or (
        invoice.status == Invoice.Status.PAID and invoice.total == 0  # paid by nothing
    )
    if void_form is None and voidable and request.page.may("invoices", "void"):
        void_form = InvoiceVoidForm(initial={"void_key": uuid.uuid4()})
    payments = invoice.payments.all()
    if request.page.may("payments", "void") and invoice.status != Invoice.Status.VOID:
        refused_id, refused_form = payment_void or (None, None)
        for payment in payments:
            if payment.status == Payment.Status.ACTIVE:
                payment.void_form = (
                    refused_form
                    if payment.pk == refused_id
                    else PaymentVoidForm(initial={"void_key": uuid.uuid4()}, prefix=str(payment.pk))
                )
    return render(
        request,
        "invoices/invoice_detail.html",
        {
            "invoice": invoice,
            "lines": invoice.lines.all(),
            "payments": payments,
            "credit_notes": invoice.credit_notes.all(),
            "has_pdf": invoice.status != Invoice.Status.DRAFT,
            "payment_form": payment_form,
            "void_form": void_form,
            "may_return": invoice.status in (Invoice.Status.OPEN, Invoice.Status.PAID)
            and request.page.may("credit_notes", "write"),
            "attachments": INVOICE_FILES.context(request, invoice),
        },
        status=status,
    )


@require_GET
@tenant_page("invoices", "read")
def invoice_detail_view(request, pk):
    # Another company's too: its rows are not this tenant's.
    invoice = get_object_or_404(selectors.invoice_detail(), pk=pk)
    return _invoice_page(request, invoice)


@require_POST
@tenant_page("payments", "write")
def invoice_payment_view(request, pk):
    """A customer paying what an invoice owes (a sale on credit, an invoice): the service's
    rules hold — not above the balance, cash only into the cashier's open shift, a seller on
    their own documents — and a refusal comes back on the form, nothing written."""
    invoice = get_object_or_404(selectors.invoice_detail(), pk=pk)
    form = InvoicePaymentForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data

        def pay():
            payment = services.payment_create(
                invoice=invoice,
                user=request.user,
                role=request.page.role,
                method=data["method"],
                amount=data["amount"],
                reference=data["reference"],
            )
            return {"amount": amount(payment.amount), "balance": amount(payment.invoice.balance)}

        if form_once(
            request,
            form,
            key=f"{invoice.pk}:{data['payment_key']}",
            scope=PAYMENT_SCOPE,
            act=pay,
            used=_("This form was already used for a payment: open the invoice again."),
            done=lambda paid: (
                _("Payment of %(amount)s registered: %(number)s owes %(balance)s.")
                % {**paid, "number": invoice.full_number}
            ),
            again=_("This payment was already registered."),
        ):
            return redirect("pages:invoice", pk=invoice.pk)
    return _invoice_page(request, invoice, payment_form=form, status=400)


@require_POST
@tenant_page("invoices", "void")
def invoice_void_view(request, pk):
    """An open invoice voided with its reason (`invoice_void`): the goods come back to stock and
    the number stays used; an invoice with payments or credit notes is refused on the form (void
    the payments first, or issue a credit note), nothing written. Once per form."""
    invoice = get_object_or_404(selectors.invoice_detail(), pk=pk)
    form = InvoiceVoidForm(request.POST)
    if form.is_valid():

        def void():
            services.invoice_void(
                invoice=invoice, user=request.user, reason=form.cleaned_data["reason"]
            )
            return {"number": invoice.full_number}

        if form_once(
            request,
            form,
            key=f"{invoice.pk}:{form.cleaned_data['void_key']}",
            scope=VOID_SCOPE,
            act=void,
            used=_("This form was already used to void: open the invoice again."),
            done=_("Invoice %(number)s voided."),
            again=_("This invoice was already voided."),
        ):
            return redirect("pages:invoice", pk=invoice.pk)
    return _invoice_page(request, invoice, void_form=form, status=400)


@require_POST
@tenant_page("payments", "void")
def payment_void_view(request, pk, payment_pk):
    """A payment of the invoice voided with its reason (`payment_void`): the invoice owes it
    again and a cash payment's money leaves the drawer it came into; a refusal (a closed
    shift, a drawer holding less, a credit note that gave it back) comes back on that
    payment's form, nothing written. Once per form."""
    invoice = get_object_or_404(selectors.invoice_detail(), pk=pk)
    payment = get_object_or_404(invoice.payments.all(), pk=payment_pk)  # or another invoice's
    form = PaymentVoidForm(request.POST, prefix=str(payment.pk))

    def void(reason: str) -> dict:
        services.payment_void(payment=payment, user=request.user, reason=reason)
        return {"amount": amount(payment.amount), "number": invoice.full_number}

    return payment_void_page(
        request,
        payment,
        form,
        act=void,
        scope=PAYMENT_VOID_SCOPE,
        used=_("This form was already used to void: open the invoice again."),
        done=_("Payment of %(amount)s on %(number)s voided."),
        back=redirect("pages:invoice", pk=invoice.pk),
        # The invoice as it stands (nothing written), the refusal on that payment's form.
        refused=lambda: _invoice_page(
            request,
            selectors.invoice_detail().get(pk=invoice.pk),
            status=400,
            payment_void=(payment.pk, form),
        ),
    )


@require_http_methods(["GET", "POST"])
@tenant_page("credit_notes", "write")
def invoice_return_view(request, pk):
    """Goods brought back: a return credit note for the quantities given, the goods back in
    stock (by default) and what was paid beyond the balance refunded — in cash from the user's
    open shift unless another method is chosen. Once per form, as a sale."""
    invoice = _creditable_invoice(pk)
    if invoice is None:
        messages.error(request, _("Only an issued invoice takes returns."))
        return redirect("pages:invoice", pk=pk)
    lines = selectors.returnable_lines(invoice)
    form = InvoiceReturnForm(request.POST or None, lines=lines, initial={"note_key": uuid.uuid4()})
    if form.is_valid():
        returned = form.returned()
        if not returned:
            form.add_error(None, _("Give the quantity brought back of at least one line."))
        elif _credit_note_once(
            request,
            form,
            invoice,
            scope=RETURN_SCOPE,
            used=_("This form was already used for a return: open the invoice again."),
            again=_("This return was already registered."),
            fields=form.service_fields(returned),
            concept=CreditNote.Concept.PARTIAL_RETURN,
            lines=[{"invoice_line": line, "quantity": qty} for line, qty in returned],
            return_stock=form.cleaned_data["return_stock"],
        ):
            return redirect("pages:invoice", pk=invoice.pk)
    return render(
        request,
        "invoices/invoice_return.html",
        {"invoice": invoice, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
@tenant_page("credit_notes", "write")
def invoice_credit_view(request, pk):
    """A credit note for value — a discount, a price adjustment, another correction — or an
    annulment of what is left of the invoice, through `services.credit_note_create` as
    `POST credit-notes/`; what was paid beyond the balance refunded as on a return. Once per
    form."""
    invoice = _creditable_invoice(pk)
    if invoice is None:
        messages.error(request, _("Only an issued invoice takes credit notes."))
        return redirect("pages:invoice", pk=pk)
    lines = selectors.creditable_lines(invoice)
    form = InvoiceCreditForm(request.POST or None, lines=lines, initial={"note_key": uuid.uuid4()})
    if form.is_valid():
        credited = form.credited()
        if _credit_note_once(
            request,
            form,
            invoice,
            scope=CREDIT_SCOPE,
            used=_("This form was already used for a credit note: open the invoice again."),
            again=_("This credit note was already issued."),
            fields=form.service_fields(credited),
            concept=form.cleaned_data["concept"],
            lines=credited,  # an annulment takes none: the service refuses any
            return_stock=form.cleaned_data["return_stock"],
        ):
            return redirect("pages:invoice", pk=invoice.pk)
    return render(
        request,
        "invoices/invoice_credit.html",
        {"invoice": invoice, "form": form},
        status=400 if request.method == "POST" else 200,
    )


def _creditable_invoice(pk) -> Invoice | None:
    """The invoice a credit note may correct (issued, not void); None for one of this company
    that takes none; 404 for any other id."""
    invoice = get_object_or_404(selectors.invoice_detail(), pk=pk)
    return invoice if invoice.status in (Invoice.Status.OPEN, Invoice.Status.PAID) else None


def _credit_note_once(request, form, invoice, *, scope, used, again, fields, **note) -> bool:
    """`services.credit_note_create` once per form (the form's `note_key`), its reason and
    refund method from the form; True when issued (or issued by this form before), False with
    the refusal on the form."""
    data = form.cleaned_data

    def issue():
        try:
            created = services.credit_note_create(
                invoice=invoice,
                user=request.user,
                role=request.page.role,
                reason=data["reason"],
                refund_method=data["refund_method"],
                **note,
            )
        except ServiceError as error:
            if error.code != "refund_needs_shift":
                raise
            # The service's message names the API's field (`refund_shift`): say it in the
            # page's words, on the refund method.
            message = _(
                "A cash refund comes out of your open shift: open one, or refund by another method."
            )
            raise ValidationFailed(
                message, code=error.code, fields={"refund_method": [message]}
            ) from error
        return {
            "number": created.full_number,
            "total": amount(created.total),
            "refund": amount(created.refund_amount),
            "method": created.get_refund_method_display() if created.refund_amount else "",
        }

    def issued(done: dict) -> str:
        if done["method"]:
            return (
                _("Credit note %(number)s for %(total)s: refund %(refund)s by %(method)s.") % done
            )
        return _("Credit note %(number)s for %(total)s: it lowers what the invoice owes.") % done

    done = form_once(
        request,
        form,
        key=f"{invoice.pk}:{data['note_key']}",
        scope=scope,
        act=issue,
        used=used,
        done=issued,
        again=again,
        fields=fields,
    )
    return done is not None


@require_GET
@tenant_page("invoices", "read")
def invoice_pdf_view(request, pk):
    """The PDF through the files mechanism: a signed download URL when it is ready, else it is
    queued and the detail page says so."""
    from files.services import file_download

    invoice = get_object_or_404(Invoice, pk=pk)
    try:
        pdf = services.document_pdf_request(document=invoice)
        if pdf is None:
            messages.info(request, _("The PDF is being prepared: try again in a few seconds."))
            return redirect("pages:invoice", pk=invoice.pk)
        url, _expires = file_download(file=pdf, base_url=request.build_absolute_uri("/"))
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect("pages:invoice", pk=invoice.pk)
    return redirect(url)


# --- numbering (DIAN resolutions) ---------------------------------------------------------------


@require_GET
@tenant_page("numbering", "read")
def numbering_list_view(request):
    """The DIAN numbering ranges per point of sale and document: the next number, what is left
    and the service's warnings (fewer than 10 % of the numbers or 10 days left)."""
    ranges = list(
        NumberingRange.objects.select_related("pdv").order_by(
            "pdv__name", "document_type", "-is_active", "-valid_to"
        )
    )
    for numbering in ranges:
        numbering.remaining = max(0, numbering.range_to - numbering.next_number + 1)
        numbering.warnings = services.range_warnings(numbering) if numbering.is_active else []
    return render(
        request,
        "invoices/numbering_list.html",
        {"ranges": ranges, "can_create": request.page.may("numbering", "write")},
    )


@require_http_methods(["GET", "POST"])
@tenant_page("numbering", "write")
def numbering_create_view(request):
    """A new DIAN resolution (`numbering_range_create`, as `POST numbering-ranges/`); a refusal
    (overlapping numbers, a backwards range or validity) on the form, nothing written. Once per
    form: a double click does not meet its own range as an overlap."""
    form = NumberingRangeForm(request.POST or None, initial={"range_key": uuid.uuid4()})
    if request.method == "POST" and form.is_valid():

        def load() -> dict:
            numbering = services.numbering_range_create(**form.range_data())
            return {"range": str(numbering)}

        if form_once(
            request,
            form,
            key=str(form.cleaned_data["range_key"]),
            scope=NUMBERING_SCOPE,
            act=load,
            done=_("Resolution %(range)s loaded."),
            again=_("This resolution was already loaded."),
        ):
            return redirect("pages:numbering")
    status = 400 if request.method == "POST" else 200
    return render(request, "invoices/numbering_form.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
@tenant_page("numbering", "write")
def numbering_edit_view(request, pk):
    """A range changed (`numbering_range_update`): extended, its validity moved, switched on or
    off; once used, what its numbers were issued under stays (the service refuses it on the
    form, nothing written)."""
    # Another company's too: 404.
    numbering = get_object_or_404(NumberingRange.objects.select_related("pdv"), pk=pk)
    form = NumberingRangeEditForm(request.POST or None, numbering=numbering)
    if request.method == "POST" and form.is_valid():
        try:
            numbering = run_service(
                services.numbering_range_update, numbering=numbering, data=form.range_data()
            )
        except ServiceError as error:
            form_service_error(form, error)
        else:
            messages.success(request, _("Range %(range)s saved.") % {"range": numbering})
            return redirect("pages:numbering")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "invoices/numbering_form.html",
        {"form": form, "numbering": numbering},
        status=status,
    )


@require_POST
@tenant_page("numbering", "write")
def numbering_delete_view(request, pk):
    """A DIAN range deleted (`numbering_range_delete`, as `DELETE numbering-ranges/{id}/`): only
    one that issued no number (a used one is deactivated instead)."""
    numbering = get_object_or_404(NumberingRange, pk=pk)
    back = redirect("pages:numbering")
    return delete_page(
        request,
        services.numbering_range_delete,
        numbering=numbering,
        done=_("Range %(resolution)s deleted.") % {"resolution": numbering.resolution_number},
        gone=back,
        back=back,
    )
