"""The pages' side of a direct upload (static/ally360/pages.js, `form[data-direct-upload]`): the
script asks a page for an upload URL, sends the file straight to storage, then posts the file's
id back to the page, which confirms and uses it. The same services as `files/upload` and
`files/{id}/confirm`, so the modules' types, sizes and content checks hold."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import JsonResponse
from django.utils.translation import gettext as _

from ally360.exceptions import ServiceError
from ally360.pages import form_once, run_service

from . import services
from .models import FileObject


class UploadStartForm(forms.Form):
    """What the browser declares of the file it is about to send."""

    name = forms.CharField(max_length=255)
    # Empty when the browser does not know the type (the service decides by the name).
    content_type = forms.CharField(max_length=120, required=False)
    size = forms.IntegerField(min_value=1)


class UploadedFileForm(forms.Form):
    """The file the script sent, by id (one of the company's, or "not found")."""

    file = forms.UUIDField()


def upload_start_response(request, module: str) -> JsonResponse:
    """JSON for the page's script: where to send the file (`file_upload_start`), or the
    refusal's message (a type or size the module does not take, storage down). A file the
    browser gives no type is declared as unknown, which the service refuses by name."""
    form = UploadStartForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"error": _("Choose a file.")}, status=400)
    try:
        start = run_service(
            services.file_upload_start,
            module=module,
            user=request.user,
            role=request.page.role,
            base_url=request.build_absolute_uri("/"),
            **form.cleaned_data,
        )
    except ServiceError as error:
        return JsonResponse({"error": error.message}, status=error.status_code)
    upload = start.upload
    return JsonResponse(
        {"file": str(start.file.pk), "upload": {"url": upload.url, "fields": upload.fields}},
        status=201,
    )


def use_upload(request, *, modules, use, scope: str, key: str = "", back, texts: dict):
    """The file the page's script sent (the POST's `file`, one of `modules`) given to
    `use(file, role)`, once per file (and `key`: what it is used for); then `back`. `use`
    confirms the upload (size, stored type, first bytes; a mismatch is deleted) with its own
    service (`file_upload_confirm`, or a service's `confirm_as`), which locks the file only
    after what the service locks first, in the API's order. An unknown file (another
    company's too) is `texts["not_found"]`; a refusal, the service's message; the others
    (`used`, `done` with %(name)s, `again`) are form_once's."""
    form = UploadedFileForm(request.POST)
    file = (
        FileObject.objects.filter(pk=form.cleaned_data["file"]).first() if form.is_valid() else None
    )
    if file is None or file.module not in modules:
        messages.error(request, texts["not_found"])
        return back

    def act() -> dict:
        use(file, request.page.role)
        return {"name": file.original_name}

    form_once(
        request,
        form,
        key=f"{key}:{file.pk}",
        scope=scope,
        act=act,
        used=texts["used"],
        done=texts["done"],
        again=texts["again"],
    )
    for errors in form.errors.values():  # the services' refusal, if any
        messages.error(request, " ".join(errors))
    return back
