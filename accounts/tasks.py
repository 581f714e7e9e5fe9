import logging
import smtplib
from datetime import timedelta

from celery import shared_task
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from files.backends import StorageUnavailable, backend

from .models import OutboundEmail
from .services import expired_tokens_purge, invitations_expire

logger = logging.getLogger(__name__)

# A blip is ridden out by the worker's own quick retries (seconds apart); a longer SMTP outage
# by the beat sweeper, at growing intervals (`retry_delay`): the twelve attempts span about
# six hours, so an e-mail survives an afternoon without its mail server.
QUICK_RETRIES = 3
MAX_ATTEMPTS = 12
# SMTP refusals, network failures and an object store that does not answer (attachments) are
# worth retrying; bad data is not.
TRANSIENT_EMAIL_ERRORS = (smtplib.SMTPException, OSError, StorageUnavailable)
# E-mails whose body carries a one-time secret (a reset, verification or invitation link).
ONE_TIME_LINK_KINDS = {"verify_email", "password_reset", "invitation"}
REDACTED_BODY = "[removed once sent: it carried a one-time link]"


def retry_delay(attempts: int) -> timedelta:
    """How long the sweeper waits after a failed attempt: 1, 2, 4 … minutes, at most an hour."""
    return timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 3600))


def _attachments(email: OutboundEmail) -> list[tuple[str, bytes, str]]:
    """Read through the file backend: a missing object is FileNotFoundError (permanent), an
    object store that does not answer is StorageUnavailable (retried like a mail server)."""
    return [
        (item["filename"], backend().read(item["storage_key"]), item["content_type"])
        for item in email.attachments
    ]


@shared_task(
    bind=True,
    autoretry_for=TRANSIENT_EMAIL_ERRORS,
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=QUICK_RETRIES,
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
            email.next_attempt_at = timezone.now() + retry_delay(email.attempts)
            if permanent or email.attempts >= MAX_ATTEMPTS:
                email.status = OutboundEmail.Status.FAILED
        if email.status != OutboundEmail.Status.PENDING and email.kind in ONE_TIME_LINK_KINDS:
            # The link is the password, the address or the invitation: once delivered (or
            # given up on), it must not stay readable in the outbox (or the back-office).
            email.body = REDACTED_BODY
        email.save(
            update_fields=["status", "sent_at", "attempts", "last_error", "next_attempt_at", "body"]
        )
    if error is not None:
        logger.warning("E-mail %s not sent (attempt %s): %s", email_id, email.attempts, error)
        if email.status != OutboundEmail.Status.PENDING:
            return "failed"
        if email.attempts <= QUICK_RETRIES:
            raise error  # the worker's quick retries: a blip
        return "retry_later"  # the sweeper's, at next_attempt_at: one attempt per pass

    return "sent"


@shared_task
def resend_pending_emails(older_than_seconds: int = 60) -> int:
    """Re-enqueue outbox rows whose task was lost (the broker was down at commit time) or whose
    worker gave up its quick retries, once their next attempt is due."""
    now = timezone.now()
    pending = list(
        OutboundEmail.objects.filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
            status=OutboundEmail.Status.PENDING,
            created_at__lte=now - timedelta(seconds=older_than_seconds),
            attempts__lt=MAX_ATTEMPTS,
        )
        .order_by("created_at")
        .values_list("id", flat=True)[:500]
    )

    for email_id in pending:
        send_outbound_email.delay(str(email_id))
    return len(pending)


@shared_task
def expire_invitations() -> int:
    return invitations_expire()


@shared_task
def purge_expired_tokens() -> int:
    return expired_tokens_purge()
