"""A record's files on its page ("Archivos adjuntos" under a purchase, an invoice, a customer or
a supplier): listed oldest first, sent from the browser straight to storage
(files.page_uploads), attached with `file_attach` — checked as `file_upload_confirm` does once
the record is locked, the API's order —, downloaded through a short-lived signed URL
(`file_download`) and deleted (`file_delete_unused`). The same services as
`{records}/{id}/attachments`, so a module's types, sizes, roles and limit hold.

Each app describes its records' files once (`RecordFiles`), mounts `.urls(prefix)` and puts
`.context(request, record)` in the record's page as `attachments`, which includes
`files/attachments.html`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ally360.exceptions import ServiceError
from ally360.pages import tenant_page

from . import selectors, services
from .models import FileObject
from .page_uploads import upload_start_response, use_upload
from .page_views import download_page, file_delete_page

ATTACHMENT_SCOPE = "page attachment"


@dataclass(frozen=True)
class RecordFiles:
    """The files of one kind of record on its page. `name` prefixes the routes' names,
    `module` is the files' module, `records()` the queryset the page finds its record in (so
    another company's is a 404), `permission_module` what the role needs to read them
    (`read`) and to attach or delete them (`write`), `page` the URL name of the record's page,
    where each route comes back. `check(record, user, role)`, when given, is the record's own
    rule for changing its files (it raises the service's refusal)."""

    name: str
    module: str
    records: Callable
    permission_module: str
    page: str
    check: Callable | None = None

    def urls(self, prefix: str) -> list:
        """The routes under `{prefix}<pk>/attachments/`: `{name}-attachment-upload`,
        `-attach`, `-download` and `-delete`."""
        base = f"{prefix}<uuid:pk>/attachments/"
        write = tenant_page(self.permission_module, "write")
        read = tenant_page(self.permission_module, "read")
        return [
            path(
                f"{base}upload/",
                require_POST(write(self.upload_start)),
                name=f"{self.name}-attachment-upload",
            ),
            path(
                f"{base}attach/",
                require_POST(write(self.attach)),
                name=f"{self.name}-attachment-attach",
            ),
            path(
                f"{base}<uuid:file_pk>/",
                require_GET(read(self.download)),
                name=f"{self.name}-attachment-download",
            ),
            path(
                f"{base}<uuid:file_pk>/delete/",
                require_POST(write(self.delete)),
                name=f"{self.name}-attachment-delete",
            ),
        ]

    def context(self, request, record) -> dict:
        """What `files/attachments.html` shows of the record's files: each with its download
        and delete address, and the form to send another where the role may."""
        files = list(
            selectors.record_attachments(module=self.module, record_id=record.pk)
            .filter(status=FileObject.Status.READY)
            .select_related("uploaded_by")
        )
        for file in files:
            file.download_url = self._url("download", record, file)
            file.delete_url = self._url("delete", record, file)
        return {
            "files": files,
            "may_write": request.page.may(self.permission_module, "write")
            and self._may_change(request, record),
            "full": len(files) >= services.MAX_ATTACHMENTS,
            "max": services.MAX_ATTACHMENTS,
            "start": self._url("upload", record),
            "action": self._url("attach", record),
            "types": ",".join(sorted(services.MODULE_RULES[self.module].types)),
        }

    def _url(self, route: str, record, file=None) -> str:
        args = [record.pk] if file is None else [record.pk, file.pk]
        return reverse(f"pages:{self.name}-attachment-{route}", args=args)

    def _record_or_404(self, pk):
        return get_object_or_404(self.records(), pk=pk)

    def _file_or_404(self, record, file_pk) -> FileObject:
        attached = selectors.record_attachments(module=self.module, record_id=record.pk)
        return get_object_or_404(attached, pk=file_pk)

    def upload_start(self, request, pk):
        """JSON for the page's script: where to send the file, or the refusal's message (the
        record's own rule first: nothing is sent for a file that could not be attached)."""
        record = self._record_or_404(pk)
        try:
            self._check(request, record)
        except ServiceError as error:
            return JsonResponse({"error": error.message}, status=error.status_code)
        return upload_start_response(request, self.module)

    def attach(self, request, pk):
        """The sent file checked and attached, once per file."""
        record = self._record_or_404(pk)

        def use(file, role):
            self._check(request, record)
            services.file_attach(
                record=record, module=self.module, file=file, role=role, confirm_as=role
            )

        return use_upload(
            request,
            modules=(self.module,),
            use=use,
            scope=ATTACHMENT_SCOPE,
            key=str(record.pk),
            back=redirect(self.page, pk=record.pk),
            texts={
                "not_found": _("That upload was not found: send the file again."),
                "used": _("This file was already sent: choose it again to attach it."),
                "done": _("File %(name)s attached."),
                "again": _("The file was already attached."),
            },
        )

    def download(self, request, pk, file_pk):
        """To the file through a short-lived signed URL; storage down is a message."""
        record = self._record_or_404(pk)
        file = self._file_or_404(record, file_pk)
        return download_page(request, file, back=redirect(self.page, pk=record.pk))

    def delete(self, request, pk, file_pk):
        """The file deleted with its stored object."""
        record = self._record_or_404(pk)
        file = self._file_or_404(record, file_pk)
        back = redirect(self.page, pk=record.pk)
        try:
            self._check(request, record)
        except ServiceError as error:
            messages.error(request, error.message)
            return back
        return file_delete_page(request, file, back=back, record=record)

    def _may_change(self, request, record) -> bool:
        try:
            self._check(request, record)
        except ServiceError:
            return False
        return True

    def _check(self, request, record) -> None:
        if self.check is not None:
            self.check(record, request.user, request.page.role)
