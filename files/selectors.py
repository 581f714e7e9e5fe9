"""Reads of files that other apps' pages and endpoints share."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import FileObject


def record_attachments(*, module: str, record_id) -> QuerySet[FileObject]:
    """The files attached to a record of `module`, oldest first; not the deleted ones."""
    return (
        FileObject.objects.filter(module=module, record_id=record_id)
        .exclude(status=FileObject.Status.DELETED)
        .order_by("created_at", "pk")
    )
