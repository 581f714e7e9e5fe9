"""Files: request an upload URL, confirm the stored object, download URLs, server-side writes.

Object keys are `ally360/{tenant_id}/{module}/{yyyy}/{mm}/{dd}/{uuid}`: every key of a company
starts with its own prefix, and an upload URL is valid for exactly one key.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ally360.db import serialize_in_tenant
from ally360.exceptions import (
    Conflict,
    NotFound,
    PermissionDeniedError,
    ServiceUnavailable,
    ValidationFailed,
)
from ally360.formatting import shown_quantity
from ally360.roles import has_permission
from ally360.services import ensure_tenant
from ally360.tenancy import require_tenant_id

from .backends import StorageUnavailable, UploadInstructions, backend
from .models import FileObject
from .selectors import record_attachments

logger = logging.getLogger(__name__)

MB = 1024 * 1024
IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCUMENT_TYPES = {"application/pdf", "application/xml", "text/xml", "text/csv", XLSX}
# What browsers and systems call a .csv file: Windows names it after the program that opens it
# (Excel), others after older CSV types or none at all.
CSV_LABELS = {
    "",
    "application/vnd.ms-excel",
    "application/csv",
    "application/x-csv",
    "text/comma-separated-values",
    "text/x-csv",
    "text/plain",
}


@dataclass(frozen=True)
class ModuleRule:
    types: frozenset[str]
    max_size: int
    # The permission module (ally360.roles) whose read and write a file of this module needs:
    # a bill's scan is as private as the bill.
    permission_module: str


IMAGES, DOCUMENTS = frozenset(IMAGE_TYPES), frozenset(DOCUMENT_TYPES)
MODULE_RULES = {
    "products": ModuleRule(IMAGES, 5 * MB, "catalog"),
    "company": ModuleRule(IMAGES, 5 * MB, "company"),
    "documents": ModuleRule(DOCUMENTS, 10 * MB, "files"),
    "invoices": ModuleRule(DOCUMENTS, 10 * MB, "invoices"),
    "bills": ModuleRule(DOCUMENTS, 10 * MB, "bills"),
    "contacts": ModuleRule(DOCUMENTS, 10 * MB, "contacts"),
}


def modules_allowed(role: str | None, action: str) -> list[str]:
    """The file modules whose files `role` may read or write."""
    return [
        module
        for module, rule in MODULE_RULES.items()
        if has_permission(role, rule.permission_module, action)
    ]


def _unavailable(exc: Exception) -> ServiceUnavailable:
    return ServiceUnavailable(
        _("File storage is unavailable right now; try again shortly."), code="storage_unavailable"
    )


def object_key(module: str, when: datetime | None = None) -> str:
    when = timezone.localtime(when or timezone.now())
    return (
        f"{settings.FILE_KEY_PREFIX}/{require_tenant_id()}/{module}/{when:%Y/%m/%d}/{uuid.uuid4()}"
    )


def declared_type(name: str, content_type: str) -> str:
    """The type a file is taken as: a .csv file is CSV whatever label the sender gave it (its
    content is still checked on confirmation: text, no binary)."""
    content_type = content_type.strip().lower()
    if content_type in CSV_LABELS and name.strip().lower().endswith(".csv"):
        return "text/csv"
    return content_type


def _check_declared(module: str, content_type: str, size: int) -> ModuleRule:
    rule = MODULE_RULES.get(module)
    if rule is None:
        message = _("Unknown module. Use one of: %(modules)s.") % {
            "modules": ", ".join(sorted(MODULE_RULES))
        }
        raise ValidationFailed(message, fields={"module": [message]})
    if content_type not in rule.types:
        accepted = {"type": content_type, "types": ", ".join(sorted(rule.types))}
        if content_type:
            message = _("%(type)s is not accepted here. Accepted: %(types)s.") % accepted
        else:
            message = _("The file's type is not known. Accepted: %(types)s.") % accepted
        raise ValidationFailed(message, code="type_not_allowed", fields={"content_type": [message]})
    if not 1 <= size <= rule.max_size:
        message = _("The size must be between 1 byte and %(max)s MB.") % {
            "max": rule.max_size // MB
        }
        raise ValidationFailed(message, code="size_not_allowed", fields={"size": [message]})
    return rule


@dataclass
class UploadStart:
    file: FileObject
    upload: UploadInstructions
    expires_at: datetime


def _require_module_write(role: str | None, module: str) -> None:
    if module not in modules_allowed(role, "write"):
        raise PermissionDeniedError(
            _("Your role cannot add or remove files of this module."), code="module_not_allowed"
        )


@transaction.atomic
def file_upload_start(
    *, module: str, name: str, content_type: str, size: int, user, role: str, base_url: str
) -> UploadStart:
    """Register a pending file and sign a direct upload for its staging key (15 minutes)."""
    content_type = declared_type(name, content_type)
    rule = _check_declared(module, content_type, size)
    _require_module_write(role, module)
    try:
        backend().ping()  # signing is local: make sure the upload has somewhere to go
    except StorageUnavailable as exc:
        raise _unavailable(exc)
    file = FileObject.objects.create(
        module=module,
        key=object_key(module),
        original_name=name.strip()[:255] or "file",
        content_type=content_type,
        size=size,
        uploaded_by=user,
    )
    upload = backend().upload_instructions(
        key=upload_key(file.key),
        content_type=content_type,
        max_size=rule.max_size,
        expires=settings.FILE_UPLOAD_EXPIRY,
        base_url=base_url,
    )
    expires_at = timezone.now() + timedelta(seconds=settings.FILE_UPLOAD_EXPIRY)
    return UploadStart(file=file, upload=upload, expires_at=expires_at)


MAGIC = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "application/pdf": (b"%PDF-",),
    XLSX: (b"PK\x03\x04",),
}


def content_matches(content_type: str, head: bytes) -> bool:
    """Do the first bytes look like the declared type?"""
    if content_type == "image/webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if content_type in MAGIC:
        return head.startswith(MAGIC[content_type])
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if content_type in ("application/xml", "text/xml"):
        return text.startswith(b"<")
    if content_type == "text/csv":
        return b"\x00" not in head
    return False


def upload_key(key: str) -> str:
    """Where the client uploads a file's bytes. Confirming copies them to the file's own key
    and checks that copy, so the upload URL, valid for its 15 minutes, can never replace a
    confirmed file's content."""
    return f"{key}.upload"


@transaction.atomic
def file_upload_confirm(*, file: FileObject, role: str) -> FileObject:
    """Check the uploaded object against what was declared; a mismatch deletes it (400)."""
    return _confirm_locked(FileObject.objects.select_for_update().get(pk=file.pk), role)


def _confirm_locked(file: FileObject, role: str) -> FileObject:
    """`file_upload_confirm` of a file row the caller has locked and read again."""
    _require_module_write(role, file.module)
    if file.status == FileObject.Status.READY:
        return file
    if file.status != FileObject.Status.PENDING:
        raise Conflict(_("This file was deleted."), code="file_deleted")
    store = backend()
    try:
        # A confirmation cut short after the copy finds the copy: it is checked the same way.
        store.promote(upload_key(file.key), file.key)
        info = store.info(file.key)
        if info is None:
            raise ValidationFailed(
                _("Nothing was uploaded for this file yet."), code="not_uploaded"
            )
        problems = []
        if info.size != file.size:
            problems.append(
                _("the stored size is %(actual)s bytes, %(declared)s were declared")
                % {"actual": shown_quantity(info.size), "declared": shown_quantity(file.size)}
            )
        stored_type = (info.content_type or "").split(";")[0].strip().lower()
        if stored_type and stored_type != file.content_type:
            problems.append(_("it was stored as %(type)s") % {"type": stored_type})
        if not content_matches(file.content_type, info.head):
            problems.append(_("its content is not %(type)s") % {"type": file.content_type})
        if problems:
            store.delete(file.key)
            store.delete(upload_key(file.key))
            raise ValidationFailed(
                _(
                    "The upload does not match what was declared: %(problems)s. It was deleted; "
                    "request a new upload."
                )
                % {"problems": "; ".join(problems)},
                code="upload_mismatch",
            )
    except StorageUnavailable as exc:
        raise _unavailable(exc)
    file.status = FileObject.Status.READY
    file.confirmed_at = timezone.now()
    file.save(update_fields=["status", "confirmed_at", "updated_at"])
    return file


def file_download(*, file: FileObject, base_url: str) -> tuple[str, datetime]:
    if file.status != FileObject.Status.READY:
        raise Conflict(
            _("This file is not ready (%(status)s).") % {"status": file.get_status_display()},
            code="file_not_ready",
        )
    store = backend()
    try:
        store.ping()
    except StorageUnavailable as exc:
        raise _unavailable(exc)
    url = store.download_url(
        key=file.key,
        filename=file.original_name,
        content_type=file.content_type,
        expires=settings.FILE_DOWNLOAD_EXPIRY,
        base_url=base_url,
    )

    return url, timezone.now() + timedelta(seconds=settings.FILE_DOWNLOAD_EXPIRY)


# Files the server writes for a record (`FileObject.purpose`); "logo" is the user's own.
SERVER_PURPOSES = frozenset({"pdf", "thumbnail"})


def file_in_use(file: FileObject) -> bool:
    """The company logo, or a file another record points to (a product image or its
    thumbnail, a document's PDF): found from the model relations, so files imports no app."""
    if file.purpose == "logo" and file.status == FileObject.Status.READY:
        return True
    return any(
        relation.related_model._default_manager.filter(**{relation.field.name: file}).exists()
        # hidden too: the foreign keys to files have no reverse accessor (related_name="+")
        for relation in FileObject._meta.get_fields(include_hidden=True)
        if relation.auto_created
        and not relation.concrete
        and (relation.one_to_many or relation.one_to_one)
    )


@transaction.atomic
def file_delete_unused(*, file: FileObject, role: str, record=None) -> FileObject:
    """What `DELETE files/{id}/` does: a file in use is removed through its owner instead (the
    product image, the logo), never from under it (409). An attached file is removed through
    its `record`, whose rules the caller applied (`DELETE {record}/attachments/{file}`)."""
    file = FileObject.objects.select_for_update().get(pk=file.pk)
    _require_module_write(role, file.module)
    # A file the server wrote (a PDF, a thumbnail) goes with what it was made for: a PDF
    # replaced since may still be waiting in an e-mail; the purge job removes it after.
    if file.purpose in SERVER_PURPOSES or file_in_use(file):
        raise Conflict(
            _("This file is in use (a product image, the company logo or a document's PDF)."),
            code="file_in_use",
        )
    if file.record_id is not None and (record is None or record.pk != file.record_id):
        # Removed through its record, which applies the record's own rules (a seller's own
        # invoices only).
        message = _("This file is attached to a record: remove it from the record.")
        raise Conflict(message, code="file_attached")
    return file_delete(file=file)


@transaction.atomic
def file_delete(*, file: FileObject) -> FileObject:
    """Delete the stored object and mark the file deleted (callers detach it first)."""
    file = FileObject.objects.select_for_update().get(pk=file.pk)
    if file.status == FileObject.Status.DELETED:
        return file
    try:
        backend().delete(file.key)
        if file.status == FileObject.Status.PENDING:
            backend().delete(upload_key(file.key))
    except StorageUnavailable as exc:
        raise _unavailable(exc)
    file.status = FileObject.Status.DELETED
    file.deleted_at = timezone.now()
    file.save(update_fields=["status", "deleted_at", "updated_at"])
    return file


def file_forget(*, file: FileObject) -> FileObject:
    """Mark a file deleted now and remove its object once the transaction commits: for files
    that go with a record being deleted, which must not depend on the object store (a store
    that is down leaves the object behind, logged, never a record pointing to nothing)."""
    keys = [file.key] + ([upload_key(file.key)] if file.status == FileObject.Status.PENDING else [])
    file.status = FileObject.Status.DELETED
    file.deleted_at = timezone.now()
    file.save(update_fields=["status", "deleted_at", "updated_at"])

    def remove_object():
        for key in keys:
            try:
                backend().delete(key)
            except Exception:  # after the commit nothing may fail the request: log, leave it
                logger.exception("Object %s of a deleted file left in storage.", key)

    transaction.on_commit(remove_object)
    return file


@transaction.atomic
def file_store(
    *, module: str, name: str, content_type: str, content: bytes, purpose: str = "", user=None
) -> FileObject:
    """Write bytes produced on the server (thumbnails, PDFs) as a ready file."""
    file = FileObject(
        module=module,
        purpose=purpose,
        key=object_key(module),
        original_name=fit_name(name),
        content_type=content_type,
        size=len(content),
        uploaded_by=user,
        status=FileObject.Status.READY,
        confirmed_at=timezone.now(),
        upload_cleared=True,  # written here: it never had an upload URL
    )
    # The row first: a row that cannot be saved leaves no object behind in storage.
    file.save()
    backend().save(file.key, content, content_type)
    return file


def fit_name(name: str) -> str:
    """A name derived from an uploaded one (a thumbnail's `-thumb.webp`), shortened to fit
    the column: the stem gives way, the extension stays."""
    limit = FileObject._meta.get_field("original_name").max_length
    if len(name) <= limit:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or len(extension) >= limit - 1:
        return name[:limit]
    return f"{stem[: limit - len(extension) - 1]}.{extension}"


def file_read(*, file: FileObject) -> bytes:
    return backend().read(file.key)


def require_ready(
    file: FileObject,
    *,
    module: str,
    types: set[str] | None = None,
    field: str = "file",
    confirm_as: str | None = None,
) -> FileObject:
    """A file another app is about to use, confirmed and of the right module and type: locked
    and read again, in the caller's transaction. A delete (`file_delete_unused`, `file_delete`)
    takes the same lock, so it either ends first and the file is refused here, or waits for the
    caller and then finds the file in use.

    `confirm_as` (a role): a pending upload is confirmed here, as `file_upload_confirm` would,
    for the pages, which check and use an upload in one step. Confirming it before calling the
    service would lock the file before the caller's own lock (the product, the logo's turn),
    the reverse of the API's order: the two could deadlock on the same file."""
    file = FileObject.objects.select_for_update().get(pk=file.pk)
    if file.status == FileObject.Status.DELETED:
        message = _("This file was deleted.")
        raise ValidationFailed(message, fields={field: [message]})
    if file.module != module or (types and file.content_type not in types):
        message = _("This file cannot be used here.")
        raise ValidationFailed(message, fields={field: [message]})
    if file.status == FileObject.Status.PENDING and confirm_as is not None:
        file = _confirm_locked(file, confirm_as)
    if file.status != FileObject.Status.READY:
        message = _("Confirm the upload first.")
        raise ValidationFailed(message, fields={field: [message]})
    return file


STALE_AFTER = timedelta(hours=24)


def purge_stale_uploads(older_than: timedelta = STALE_AFTER) -> int:
    """Delete the current tenant's uploads never confirmed, with their objects."""
    purged = 0
    store = backend()
    stale = FileObject.objects.filter(
        status=FileObject.Status.PENDING, created_at__lt=timezone.now() - older_than
    )
    for file in stale.select_for_update(skip_locked=True)[:1000]:
        store.delete(upload_key(file.key))
        store.delete(file.key)

        file.status = FileObject.Status.DELETED
        file.deleted_at = timezone.now()
        file.upload_cleared = True
        file.save(update_fields=["status", "deleted_at", "upload_cleared", "updated_at"])
        purged += 1
    return purged


# An upload URL signed by this server is not used after its expiry by a storage whose clock is
# a little behind.
CLOCK_MARGIN = timedelta(minutes=5)


def upload_urls_expired_before() -> datetime:
    return timezone.now() - timedelta(seconds=settings.FILE_UPLOAD_EXPIRY) - CLOCK_MARGIN


@transaction.atomic
def clear_expired_upload_keys(limit: int = 500) -> int:
    """Empty the staging keys of the current tenant's confirmed or deleted files whose upload
    URL has expired; return how many files were cleared.

    Storage accepts a second upload to a URL until it expires, also after its file was confirmed
    or deleted. That object is never served (confirming copied the first one), but it would stay
    in the bucket. Once the URL has expired nothing can land there again: one delete per file,
    once, ends it. The files are marked in the transaction and their keys deleted once it
    commits, so no row stays locked while the store answers (as `file_forget` does); a delete
    that fails then leaves a stray object, logged, never a file that lost its bytes.
    """
    expired = FileObject.objects.filter(
        upload_cleared=False, created_at__lt=upload_urls_expired_before()
    ).exclude(status=FileObject.Status.PENDING)  # a pending upload may still be confirmed
    rows = list(expired.select_for_update(skip_locked=True).values_list("pk", "key")[:limit])
    FileObject.objects.filter(pk__in=[pk for pk, _key in rows]).update(upload_cleared=True)

    def delete_keys():
        store = backend()
        for _pk, key in rows:
            try:
                store.delete(upload_key(key))
            except Exception:  # after the commit nothing may fail the job: log, leave it
                logger.exception("Upload key of %s left in storage.", key)

    transaction.on_commit(delete_keys)
    return len(rows)


def signed_url(file: FileObject, *, base_url: str) -> str:
    """A download URL to embed in a response (signing only, no round trip to storage)."""
    return backend().download_url(
        key=file.key,
        filename=file.original_name,
        content_type=file.content_type,
        expires=settings.FILE_DOWNLOAD_EXPIRY,
        base_url=base_url,
    )


# --- the company logo --------------------------------------------------------------------------


def company_logo() -> FileObject | None:
    return (
        FileObject.objects.filter(module="company", purpose="logo", status=FileObject.Status.READY)
        .order_by("-confirmed_at")
        .first()
    )


@transaction.atomic
def company_logo_set(*, file: FileObject, confirm_as: str | None = None) -> FileObject:
    """`confirm_as`: a pending upload is confirmed in turn (`require_ready`), for the page."""
    # Two logos set at once would both find the same previous one and leave two.
    serialize_in_tenant("company_logo")
    file = require_ready(file, module="company", types=IMAGE_TYPES, confirm_as=confirm_as)
    previous = company_logo()
    file.purpose = "logo"
    file.save(update_fields=["purpose", "updated_at"])
    if previous is not None and previous.pk != file.pk:
        file_delete(file=previous)
    return file


@transaction.atomic
def company_logo_remove() -> None:
    logo = company_logo()
    if logo is not None:
        file_delete(file=logo)


# --- attachments: a record's files (a bill's scan, a contact's RUT) ----------------------------

MAX_ATTACHMENTS = 20


@transaction.atomic
def file_attach(
    *, record, module: str, file: FileObject, role: str, confirm_as: str | None = None
) -> FileObject:
    """Attach a confirmed upload of `module` to `record`, a row of the app that owns that
    module (the caller found it as the role sees it). The record is locked first, then the
    file (`require_ready`): two attachments at once count right, a delete of the record waits
    or is waited for, and a delete of the file either ends first or finds it attached.
    `confirm_as` (a role): a pending upload is confirmed here, for the pages."""
    ensure_tenant(file, field="file")
    _require_module_write(role, module)
    # NO KEY: a plain FOR UPDATE would also block every document's foreign-key check on the
    # record (a contact is on every sale), while the delete of the record still waits. A page's
    # confirmation (`confirm_as`) then talks to storage under this lock, as a product image's
    # does: a slow store delays only what changes this one record, never a sale.
    locked = type(record)._default_manager.select_for_update(no_key=True).filter(pk=record.pk)
    if not locked.values_list("pk", flat=True):
        raise NotFound(_("This record no longer exists."), code="not_found")
    file = require_ready(file, module=module, confirm_as=confirm_as)
    if file.record_id == record.pk:
        return file  # attached already: a retry
    if file.purpose:  # written by the server (a document's PDF): it belongs to its document
        message = _("This file cannot be used here.")
        raise ValidationFailed(message, fields={"file": [message]})
    if file.record_id is not None:
        message = _("This file is attached to another record.")
        raise Conflict(message, code="attached_elsewhere", fields={"file": [message]})
    if record_attachments(module=module, record_id=record.pk).count() >= MAX_ATTACHMENTS:
        raise Conflict(
            _("A record keeps up to %(max)s files: delete one first.") % {"max": MAX_ATTACHMENTS},
            code="too_many_attachments",
        )
    file.record_id = record.pk
    file.save(update_fields=["record_id", "updated_at"])
    return file


def record_attachments_forget(*, module: str, record_id) -> int:
    """The files of a record being deleted go with it (`file_forget`): called by the record's
    delete service, in its transaction, once the record is gone."""
    files = list(record_attachments(module=module, record_id=record_id).select_for_update())
    for file in files:
        file_forget(file=file)
    return len(files)
