from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ally360.models import TenantModel


class FileObject(TenantModel):
    """Metadata of one stored object; the bytes live in S3/MinIO or on local disk."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for upload")
        READY = "ready", _("Ready")
        DELETED = "deleted", _("Deleted")

    module = models.CharField(_("module"), max_length=20)
    purpose = models.CharField(
        _("purpose"), max_length=20, blank=True, help_text=_("e.g. logo, thumbnail, pdf")
    )
    key = models.CharField(_("object key"), max_length=255, unique=True)
    original_name = models.CharField(_("original name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=120)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)
    # The record of its module this file is attached to (a bill's scan, a contact's RUT): an id,
    # not a foreign key, because files sits below every app that attaches files.
    record_id = models.UUIDField(_("attached to"), null=True, blank=True)
    upload_cleared = models.BooleanField(
        _("upload key cleared"),
        default=False,
        help_text=_("Its upload URL has expired and its staging key was emptied, or it had none."),
    )

    class Meta:
        verbose_name = _("file")
        verbose_name_plural = _("files")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"]),
            models.Index(fields=["tenant", "module", "status"]),
            models.Index(fields=["status", "created_at"]),
            models.Index(
                fields=["tenant", "record_id"],
                condition=models.Q(record_id__isnull=False),
                name="file_attached_idx",
            ),
            # The sweep of expired upload URLs reads only the files it has not cleared yet.
            models.Index(
                fields=["created_at"],
                condition=models.Q(upload_cleared=False),
                name="file_upload_uncleared_idx",
            ),
        ]

    def __str__(self):
        return self.original_name
