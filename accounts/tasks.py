import logging
import smtplib
from datetime import timedelta

from celery import shared_task
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from .models import OutboundEmail
from .services import invitations_expire

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# SMTP refusals and network failures are worth retrying; bad data is not.
TRANSIENT_EMAIL_ERRORS = (smtplib.SMTPException, OSError)


def _attachments(email: OutboundEmail) -> list[tuple[str, bytes, str]]:
    from django.core.files.storage import storages

    result = []
    for item in email.attachments:
        with storages["default"].open(item["storage_key"], "rb") as handle:
            result.append((item["filename"], handle.read(), item["content_type"]))
    return result


@shared_task(
    bind=True,
    autoretry_for=TRANSIENT_EMAIL_ERRORS,
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=MAX_ATTEMPTS,
)
def send_outbound_email(self, email_id: str) -> str:
    """Deliver one outbox row. Idempotent: the row lock and its status mean a sent row is never
    sent twice, even when the sweeper re-enqueues it while the first task still runs."""
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update().filter(id=email_id).first()
        if email is None or email.status != OutboundEmail.Status.PENDING:
            return "skipped"
        email.attempts += 1
        message = EmailMessage(subject=email.subject, body=email.body, to=[email.to])
        permanent = False
        try:
            # Inside the try: reading an attachment is part of the attempt, and counts.
            for attachment in _attachments(email):
                message.attach(*attachment)
            message.send(fail_silently=False)
            error = None
        except FileNotFoundError as exc:  # the attachment is gone: no retry brings it back
            error, permanent = exc, True
        except TRANSIENT_EMAIL_ERRORS as exc:
            error = exc
        if error is None:
            email.status = OutboundEmail.Status.SENT
            email.sent_at = timezone.now()
            email.last_error = ""
        else:
            email.last_error = str(error)[:2000]
            if permanent or email.attempts >= MAX_ATTEMPTS:
                email.status = OutboundEmail.Status.FAILED

        email.save(update_fields=["status", "sent_at", "attempts", "last_error"])
    if error is not None:
        logger.warning("E-mail %s not sent (attempt %s): %s", email_id, email.attempts, error)
        if email.status == OutboundEmail.Status.PENDING:
            raise error
        return "failed"
    return "sent"


@shared_task
def resend_pending_emails(older_than_seconds: int = 60) -> int:
    """Re-enqueue outbox rows whose task was lost (e.g. the broker was down at commit time)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    pending = list(
        OutboundEmail.objects.filter(
            status=OutboundEmail.Status.PENDING, created_at__lte=cutoff, attempts__lt=MAX_ATTEMPTS
        ).values_list("id", flat=True)[:500]
    )
    for email_id in pending:
        send_outbound_email.delay(str(email_id))
    return len(pending)


@shared_task
def expire_invitations() -> int:
    return invitations_expire()
