"""The company's files page ("Archivos"): the documents, scans and spreadsheets kept with the
company (modules `documents`, `invoices`, `bills`, `contacts`), each role seeing the modules
whose records it reads, as `GET files/`. A file is sent from the browser straight to storage
(files.page_uploads), confirmed (`file_upload_confirm`), downloaded through a short-lived signed
URL (`file_download`) and deleted unless in use (`file_delete_unused`). Product images and the
logo have their own pages."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from ally360.exceptions import ServiceError
from ally360.pages import delete_page, tenant_page

from . import services
from .models import FileObject
from .page_uploads import upload_start_response, use_upload

PAGE_SIZE = 25
FILE_SCOPE = "page file"
# The modules this page keeps; images go on their product's page and the logo on the company's.
MODULE_LABELS = {
    "documents": gettext_lazy("Documents"),
    "invoices": gettext_lazy("Sales"),
    "bills": gettext_lazy("Purchases"),
    "contacts": gettext_lazy("Customers and suppliers"),
}


def _modules(request, action: str) -> list[str]:
    allowed = services.modules_allowed(request.page.role, action)
    return [module for module in MODULE_LABELS if module in allowed]


def _file_or_404(request, pk) -> FileObject:
    """Another company's file, or one of a module the role does not read: 404."""
    return get_object_or_404(FileObject, pk=pk, module__in=_modules(request, "read"))


@require_GET
@tenant_page("files", "read")
def file_list_view(request):
    """The files kept, newest first, 25 per page, narrowed to one module by `?module=`."""
    readable = _modules(request, "read")
    module = request.GET.get("module", "")
    shown = [module] if module in readable else readable
    files = (
        # Files people kept; those the system made (a document's PDF) show on their document.
        FileObject.objects.filter(module__in=shown, status=FileObject.Status.READY, purpose="")
        .select_related("uploaded_by")
        .order_by("-created_at", "-pk")
    )
    page = Paginator(files, PAGE_SIZE).get_page(request.GET.get("page"))
    writable = _modules(request, "write")
    for file in page:
        file.module_label = MODULE_LABELS[file.module]
        file.may_delete = (
            file.module in writable and file.record_id is None
        )  # else under its record
    return render(
        request,
        "files/file_list.html",
        {
            "page_obj": page,
            "module": module if module in readable else "",
            "readable": [(name, MODULE_LABELS[name]) for name in readable],
            "writable": [(name, MODULE_LABELS[name]) for name in writable],
            "types": ",".join(sorted(services.DOCUMENTS)),
        },
    )


@require_POST
@tenant_page("files", "write")
def file_upload_start_view(request):
    """JSON for the page's script: where to send the file of the module chosen."""
    module = request.POST.get("module", "")
    if module not in _modules(request, "write"):
        return JsonResponse({"error": _("Choose where the file belongs.")}, status=400)
    return upload_start_response(request, module)


@require_POST
@tenant_page("files", "write")
def file_confirm_view(request):
    """The sent file checked against what was declared (`file_upload_confirm`: size, stored
    type, first bytes; a mismatch deletes it), once per file."""
    return use_upload(
        request,
        modules=tuple(MODULE_LABELS),
        use=lambda file, role: services.file_upload_confirm(file=file, role=role),
        scope=FILE_SCOPE,
        back=redirect("pages:files"),
        texts={
            "not_found": _("That upload was not found: send the file again."),
            "used": _("This file was already sent: choose it again to keep it."),
            "done": _("File %(name)s kept."),
            "again": _("The file was already kept."),
        },
    )


@require_GET
@tenant_page("files", "read")
def file_download_view(request, pk):
    """To the file through a short-lived signed URL (`file_download`); storage down is a
    message, not an error page."""
    return download_page(request, _file_or_404(request, pk), back=redirect("pages:files"))


def download_page(request, file: FileObject, *, back):
    """To `file` through a short-lived signed URL (`file_download`); a refusal (storage down,
    a file not ready) is a message on `back`, not an error page."""
    try:
        url, _expires = services.file_download(file=file, base_url=request.build_absolute_uri("/"))
    except ServiceError as error:
        messages.error(request, error.message)
        return back
    return redirect(url)


@require_POST
@tenant_page("files", "write")
def file_delete_view(request, pk):
    """A file deleted with its stored object (`file_delete_unused`): not one in use."""
    return file_delete_page(request, _file_or_404(request, pk), back=redirect("pages:files"))


def file_delete_page(request, file: FileObject, *, back, record=None):
    """`file` deleted with its stored object (`file_delete_unused`; through its `record` when
    attached), then `back`, with the message of what happened."""
    return delete_page(
        request,
        services.file_delete_unused,
        file=file,
        role=request.page.role,
        record=record,
        done=_("File %(name)s deleted.") % {"name": file.original_name},
        gone=back,
        back=back,
    )
