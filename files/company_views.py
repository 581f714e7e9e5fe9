"""The company's own page ("Empresa" in the managers' menu): its data, printed on invoices and
receipts, and its counter rules (`company_update`, as `PATCH companies/current/`); and its logo,
sent from the browser straight to storage (files.page_uploads), set with `company_logo_set`, as
`PUT companies/current/logo`, and removed with `company_logo_remove`. It lives here, above
`accounts`, because the logo is a file."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services
from accounts.forms import CompanySettingsForm
from accounts.models import Company
from ally360.exceptions import ServiceError
from ally360.pages import delete_page, form_service_error, run_service, tenant_page

from . import services as file_services
from .page_uploads import upload_start_response, use_upload

LOGO_SCOPE = "page company-logo"


@require_http_methods(["GET", "POST"])
@tenant_page("company", "write")
def company_settings_view(request):
    """The company's data and counter rules; a malformed NIT or a wrong check digit comes back
    on the form, nothing written."""
    company = Company.objects.get(pk=request.page.company_id)
    form = CompanySettingsForm.for_company(company, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            saved = run_service(services.company_update, company=company, data=form.changes())
        except ServiceError as error:
            form_service_error(form, error)
        else:
            messages.success(request, _("%(name)s saved.") % {"name": saved.name})
            return redirect("pages:settings")
    logo = file_services.company_logo()
    return render(
        request,
        "files/company.html",
        {
            "form": form,
            "company": company,
            "logo_url": (
                file_services.signed_url(logo, base_url=request.build_absolute_uri("/"))
                if logo
                else None
            ),
            "types": ",".join(sorted(file_services.IMAGE_TYPES)),
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@tenant_page("company", "write")
def logo_upload_start_view(request):
    return upload_start_response(request, "company")


@require_POST
@tenant_page("company", "write")
def logo_set_view(request):
    """The uploaded picture made the logo, replacing the previous one (`company_logo_set`,
    which checks it as `file_upload_confirm` does in its turn), once per file; a refusal as a
    message."""
    return use_upload(
        request,
        modules=("company",),
        use=lambda file, role: file_services.company_logo_set(file=file, confirm_as=role),
        scope=LOGO_SCOPE,
        back=redirect("pages:settings"),
        texts={
            "not_found": _("That upload was not found: send the image again."),
            "used": _("This image was already sent: choose it again to use it."),
            "done": _("Logo %(name)s saved: invoices print it."),
            "again": _("The logo was already saved."),
        },
    )


@require_POST
@tenant_page("company", "write")
def logo_remove_view(request):
    """The logo removed with its stored object (`company_logo_remove`); storage down is a
    message, nothing removed."""
    back = redirect("pages:settings")
    return delete_page(
        request, file_services.company_logo_remove, done=_("Logo removed."), gone=back, back=back
    )
