"""Server-rendered pages: the signed-in user, the company chosen in the session, tenancy, roles.

One place decides what a page request may do, as `TenantJWTAuthentication` and `RolePermission`
do for the API:

* `tenant_page(module, action)` wraps every page of a company. It sends an anonymous visitor to
  `/login/` and a user with no company chosen to `/company/`; it re-checks the membership on
  every request with the API's cached lookup (`membership_role_get`), so a removed member or a
  deactivated company loses the pages at once; only then it activates the tenant (row-level
  security, inside the request's transaction: ATOMIC_REQUESTS) and checks the role matrix
  (`ally360.roles.PERMISSIONS`), answering a 403 page when the role may not.
* `public_page` wraps the pages without a company (sign-in, company chooser).
* The same matrix decides the menu (`MENU`, `layout` context processor).

Pages are Spanish unless the visitor chose another language (`set_language`, its cookie): the
browser's Accept-Language is not followed, so a till with an English browser still shows the
shop's language. Views render inside the request's transaction (`render`, never a lazy
TemplateResponse): queries in tenant context must run in it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from .exceptions import ServiceError
from .formatting import shown_amount
from .idempotency import once_per_form
from .roles import Role, can_see_costs, has_permission
from .services import in_range_or_refused
from .tenancy import activate_tenant

SESSION_COMPANY = "ally360_company_id"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class PageContext:
    """`request.page` on a company's page: the company and the member's role in it."""

    company_id: uuid.UUID
    company_name: str
    role: str

    def may(self, module: str, action: str = "read") -> bool:
        return has_permission(self.role, module, action)

    @property
    def show_costs(self) -> bool:
        return can_see_costs(self.role)

    @property
    def may_sell(self) -> bool:
        """The counter (`/pos/`) is theirs: its links are shown to them only."""
        return self.may("pos_sales", "write")

    @property
    def show_members(self) -> bool:
        """Members' e-mails are shown to the roles that read the team (and each member their
        own), as the API answers them: the documents are no way around the members list."""
        return self.may("members", "read")

    @property
    def role_label(self) -> str:
        return Role(self.role).label if self.role in Role.values else self.role


@dataclass(frozen=True)
class MenuEntry:
    url_name: str
    label: str
    module: str
    action: str


MENU = (
    MenuEntry("pages:dashboard", _("Home"), "company", "read"),
    MenuEntry("pages:pos", _("Point of sale"), "pos_sales", "write"),
    MenuEntry("pages:products", _("Products"), "catalog", "read"),
    MenuEntry("pages:invoices", _("Invoices"), "invoices", "read"),
    MenuEntry("pages:customers", _("Customers"), "contacts", "read"),
    MenuEntry("pages:purchases", _("Purchases"), "bills", "read"),
    MenuEntry("pages:reports", _("Reports"), "reports", "read"),
    MenuEntry("pages:files", _("Files"), "files", "read"),
    MenuEntry("pages:numbering", _("Numbering"), "numbering", "write"),
    MenuEntry("pages:pdvs", _("Stores and registers"), "pdvs", "write"),
    MenuEntry("pages:members", _("Team"), "members", "read"),
    MenuEntry("pages:settings", _("Company"), "company", "write"),
)


def menu_for(role: str | None, current: str | None = None) -> list[dict]:
    """The menu entries the role may open (the permission matrix decides, as for the API)."""
    if role is None:
        return []
    return [
        {"url": reverse(entry.url_name), "label": entry.label, "active": entry.url_name == current}
        for entry in MENU
        if has_permission(role, entry.module, entry.action)
    ]


def layout(request: HttpRequest) -> dict:
    """Template context processor: the company, the role's menu. Reads no database."""
    page = getattr(request, "page", None)
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match else None
    return {"page": page, "menu": menu_for(page.role if page else None, current)}


# --- language ----------------------------------------------------------------------------------


def use_page_language(request: HttpRequest) -> str:
    """The language the visitor chose (set_language's cookie), else the shop's (es-co)."""
    code = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if code not in dict(settings.LANGUAGES):
        code = settings.LANGUAGE_CODE
    translation.activate(code)
    request.LANGUAGE_CODE = code
    return code


# --- the company in the session ----------------------------------------------------------------


def session_company_id(request: HttpRequest) -> uuid.UUID | None:
    value = request.session.get(SESSION_COMPANY)
    if not value:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def session_company_set(request: HttpRequest, company_id) -> None:
    request.session[SESSION_COMPANY] = str(company_id)


def safe_next(request: HttpRequest, default: str = "/") -> str:
    """The `next` parameter when it points into this site, else `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _with_next(url_name: str, request: HttpRequest) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': request.get_full_path()})}"


# --- the page decorators -----------------------------------------------------------------------


def public_page(view: Callable) -> Callable:
    """A page without a company: the shop's language, nothing else."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        use_page_language(request)
        return view(request, *args, **kwargs)

    return wrapper


def tenant_page(module: str, action: str = "read") -> Callable:
    """A page of the company chosen in the session, open to the roles the matrix gives
    `module.action`. See the module's docstring."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            from accounts.models import Company
            from accounts.selectors import membership_role_get

            use_page_language(request)
            user = request.user
            if not user.is_authenticated:  # also a switched-off user (the backend drops them)
                return redirect(_with_next("pages:login", request))
            company_id = session_company_id(request)
            if company_id is None:
                return redirect(_with_next("pages:company", request))
            role = membership_role_get(user_id=user.pk, company_id=company_id)
            if role is None:
                request.session.pop(SESSION_COMPANY, None)
                messages.warning(request, _("You no longer have access to that company."))
                return redirect(_with_next("pages:company", request))
            # As the API: the tenant only after the membership is proven; a write lets its
            # transaction use generic plans (ally360.db).
            activate_tenant(company_id, generic_plans=request.method not in SAFE_METHODS)
            name = Company.objects.values_list("name", flat=True).get(pk=company_id)
            request.page = PageContext(company_id=company_id, company_name=name, role=role)
            if not has_permission(role, module, action):
                return forbidden(request)
            return view(request, *args, **kwargs)

        wrapper.page_permission = (module, action)
        return wrapper

    return decorator


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """The expired form's 403 (`CSRF_FAILURE_VIEW`) in the pages' language: Django answers it
    before any page code runs, in the browser's language otherwise."""
    from django.views.csrf import csrf_failure as django_csrf_failure

    if not request.path.startswith("/api/"):
        use_page_language(request)
    return django_csrf_failure(request, reason=reason)


def search_text(request: HttpRequest) -> str:
    """A list page's search box (`?q=`): trimmed, at most 100 characters, without NUL, which
    PostgreSQL's text cannot hold (a form field refuses it; a search just drops it)."""
    return request.GET.get("q", "").replace("\x00", "").strip()[:100]


# Money in a page's message as the page shows it ("30.000,00" in Spanish).
amount = shown_amount


def forbidden(request: HttpRequest, message: str | None = None) -> HttpResponse:

    return render(
        request,
        "403.html",
        {"message": message or _("Your role does not allow this page.")},
        status=403,
    )


# --- services from forms -----------------------------------------------------------------------


def run_service(service: Callable, **kwargs):
    """Call a service in a savepoint: when it raises (a `ServiceError`), whatever it wrote is
    rolled back and the page goes on in the request's transaction to show the form again."""
    with in_range_or_refused():
        return service(**kwargs)


def delete_page(request, service: Callable, *, done: str, gone, back, **kwargs):
    """A POST that deletes through `service(**kwargs)`: the `done` message and `gone` (the
    list the row left); the service's refusal (in use, the default one) as a message and
    `back` (the row's own page), nothing deleted."""
    try:
        run_service(service, **kwargs)
    except ServiceError as error:
        messages.error(request, error.message)
        return back
    messages.success(request, done)
    return gone


def form_service_error(form, error: ServiceError, field_map: dict[str, str] | None = None) -> None:
    """Put a service error on a form: field errors on the fields they name (through
    `field_map` when the form's names differ), the message on the form when no field took it."""
    placed = False
    for key, field_messages in (error.fields or {}).items():
        name = (field_map or {}).get(key, key)
        if name in form.fields:
            for message in _as_list(field_messages):
                form.add_error(name, str(message))
            placed = True
    if not placed:
        form.add_error(None, error.message)


def _as_list(value) -> Iterable:
    return value if isinstance(value, (list, tuple)) else [value]


# --- error pages -------------------------------------------------------------------------------


def handler404(request, exception=None):
    """404: the API's JSON error under /api/, a page elsewhere."""
    from .api.errors import handler404 as api_handler404

    if request.path.startswith("/api/"):
        return api_handler404(request, exception)
    use_page_language(request)
    return render(request, "404.html", status=404)


class VoidForm(forms.Form):
    """A document or payment voided with its reason, once per form (its hidden `void_key`)."""

    reason = forms.CharField(label=_("Reason for voiding"), max_length=255)
    void_key = forms.UUIDField(widget=forms.HiddenInput)  # one void per form


# A form sent again with other data, unless the page says what to open again.
FORM_USED = _("This form was already used: open it again.")


def form_once(
    request, form, *, key: str, scope: str, act, done, again: str, used=FORM_USED, fields=None
):
    """`act() -> dict` (never empty) once per form (`once_per_form`, its `key` the form's hidden
    one): its result — the first request's when the form was sent before — after the success
    message (`done % result`, or `done(result)`) or `again`, `used` when the form was sent
    before with other data; None with the service's refusal on `form` (`fields` maps the
    service's field names to the form's), nothing written."""
    try:
        result, first = once_per_form(request, key, scope, act, used=used)
    except ServiceError as error:
        form_service_error(form, error, fields)
        return None
    if first:
        messages.success(request, done(result) if callable(done) else done % result)
    else:
        messages.info(request, again)
    return result


def payment_void_page(request, payment, form, *, act, scope, used, done, back, refused):
    """A payment voided from its document's page, once per form (`form`: a bound `VoidForm`):
    `act(reason) -> dict` for the `done` message, then `back` (the document's page). A refusal
    shows on that payment's form (`refused()`: the page with it), or as a message when the
    payment was voided meanwhile and has no form any more."""
    if form.is_valid() and form_once(
        request,
        form,
        key=f"{payment.pk}:{form.cleaned_data['void_key']}",
        scope=scope,
        act=lambda: act(form.cleaned_data["reason"]),
        used=used,
        done=done,
        again=_("This payment was already voided."),
    ):
        return back
    payment.refresh_from_db(fields=["status"])
    if payment.status != payment.Status.ACTIVE:
        messages.error(
            request, " ".join(form.non_field_errors()) or _("The payment is already void.")
        )
        return back
    return refused()


# --- documents of product rows ------------------------------------------------------------------


def lines_document_page(request, *, form_class, formset_class, template, scope, create, texts):
    """The page of a document entered as a form and rows of products (a count, a transfer, a
    purchase): GET a blank form; POST `create(data, lines) -> {"id", "number"}` once per form
    (the form's hidden `document_key`), then the document's page (`texts["page"]`). Refusals
    come back on the form and its rows (`formset.add_service_error`), nothing written."""
    if request.method == "GET":
        form = form_class(initial={"document_key": uuid.uuid4()})
        context = {"form": form, "formset": formset_class(prefix="lines")}
        return render(request, template, context)
    form = form_class(request.POST)
    formset = formset_class(request.POST, prefix="lines")
    if form.is_valid() and formset.is_valid():
        data = form.cleaned_data
        try:
            done, first = once_per_form(
                request,
                str(data["document_key"]),
                scope,
                lambda: create(data, formset.lines),
                used=texts["used"],
            )
        except ServiceError as error:
            if not formset.add_service_error(error):
                form_service_error(form, error)
        else:
            if first:
                messages.success(request, texts["registered"] % done)
            else:
                messages.info(request, texts["again"])
            return redirect(texts["page"], pk=done["id"])
    return render(request, template, {"form": form, "formset": formset}, status=400)
