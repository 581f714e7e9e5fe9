"""E-mail delivery through a real Celery worker on the Redis broker."""

import pytest
from django.core import mail

from accounts.models import OutboundEmail
from accounts.services import user_register
from conftest import wait_for


@pytest.mark.postgres
@pytest.mark.redis
def test_verification_email_is_delivered_by_a_worker_after_commit(celery_worker_redis):
    mail.outbox.clear()
    user, _ = user_register(email="worker@example.co", password="Cafe-con-leche-77")
    email = OutboundEmail.objects.get(to=user.email)
    wait_for(lambda: OutboundEmail.objects.get(pk=email.pk).status == OutboundEmail.Status.SENT)
    assert [m.to for m in mail.outbox] == [["worker@example.co"]]
    assert "verify-email?token=" in mail.outbox[0].body


@pytest.mark.postgres
@pytest.mark.redis
def test_a_sent_email_is_never_sent_twice(celery_worker_redis):
    from accounts.tasks import send_outbound_email

    mail.outbox.clear()
    user, _ = user_register(email="once@example.co", password="Cafe-con-leche-77")
    email = OutboundEmail.objects.get(to=user.email)
    wait_for(lambda: OutboundEmail.objects.get(pk=email.pk).status == OutboundEmail.Status.SENT)
    # A duplicate delivery (e.g. the sweeper re-enqueued it) is a no-op.
    result = send_outbound_email.apply(args=[str(email.pk)]).get()
    assert result == "skipped"
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_the_sweeper_resends_emails_whose_task_was_lost():
    """The broker was down at commit time: the outbox row waits and the beat sweeper sends it."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.tasks import resend_pending_emails

    mail.outbox.clear()
    lost = OutboundEmail.objects.create(kind="test", to="lost@example.co", subject="S", body="B")
    OutboundEmail.objects.filter(pk=lost.pk).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    fresh = OutboundEmail.objects.create(kind="test", to="fresh@example.co", subject="S", body="B")
    assert resend_pending_emails.apply().get() == 1
    assert [m.to for m in mail.outbox] == [["lost@example.co"]]
    fresh.refresh_from_db()
    assert fresh.status == OutboundEmail.Status.PENDING


class FlakySMTPBackend:
    """An SMTP server that drops the connection the first `failures` times, then delivers (into
    Django's test outbox): the transient fault the task must ride out."""

    failures = 0

    def __init__(self, *args, **kwargs):
        from django.core.mail.backends.locmem import EmailBackend

        self.delivering = EmailBackend(*args, **kwargs)

    def send_messages(self, messages):
        import smtplib

        if FlakySMTPBackend.failures > 0:
            FlakySMTPBackend.failures -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return self.delivering.send_messages(messages)


@pytest.mark.postgres
@pytest.mark.redis
def test_a_transient_smtp_failure_is_retried_by_the_worker_until_sent(
    celery_worker_redis, settings
):
    from accounts.tasks import send_outbound_email

    settings.EMAIL_BACKEND = f"{__name__}.FlakySMTPBackend"
    mail.outbox.clear()
    FlakySMTPBackend.failures = 2
    email = OutboundEmail.objects.create(kind="test", to="a@example.co", subject="S", body="B")
    send_outbound_email.delay(str(email.pk))
    # Retried with exponential back-off (about 1 s, then 2 s, with jitter).
    wait_for(lambda: OutboundEmail.objects.get(pk=email.pk).status == OutboundEmail.Status.SENT)
    email.refresh_from_db()
    assert (email.attempts, email.last_error) == (3, "")
    assert [m.to for m in mail.outbox] == [["a@example.co"]]


@pytest.mark.django_db
def test_an_email_that_keeps_failing_is_marked_failed_after_the_last_attempt(settings):
    from accounts.tasks import MAX_ATTEMPTS, send_outbound_email

    settings.EMAIL_BACKEND = f"{__name__}.FlakySMTPBackend"
    mail.outbox.clear()
    FlakySMTPBackend.failures = 1
    down = OutboundEmail.objects.create(
        kind="test", to="b@example.co", subject="S", body="B", attempts=MAX_ATTEMPTS - 1
    )
    assert send_outbound_email.apply(args=[str(down.pk)]).get() == "failed"
    down.refresh_from_db()
    assert (down.status, down.attempts) == (OutboundEmail.Status.FAILED, MAX_ATTEMPTS)
    assert "unexpectedly closed" in down.last_error and mail.outbox == []
    assert down.body == "B"  # kept for the operator: it carries no secret


@pytest.mark.django_db
def test_a_reset_link_that_could_not_be_delivered_does_not_stay_readable(settings):
    """Given up on, a one-time link is as sensitive as a delivered one: the body goes."""
    from accounts.tasks import MAX_ATTEMPTS, REDACTED_BODY, send_outbound_email

    settings.EMAIL_BACKEND = f"{__name__}.FlakySMTPBackend"
    FlakySMTPBackend.failures = 1
    reset = OutboundEmail.objects.create(
        kind="password_reset",
        to="b@example.co",
        subject="S",
        body="https://app/reset/abc/secret-token",
        attempts=MAX_ATTEMPTS - 1,
    )
    assert send_outbound_email.apply(args=[str(reset.pk)]).get() == "failed"
    reset.refresh_from_db()
    assert (reset.status, reset.body) == (OutboundEmail.Status.FAILED, REDACTED_BODY)


@pytest.mark.django_db
def test_an_email_whose_attachment_is_gone_fails_at_once_instead_of_forever():
    from accounts.tasks import resend_pending_emails, send_outbound_email

    mail.outbox.clear()
    orphan = OutboundEmail.objects.create(
        kind="test",
        to="c@example.co",
        subject="S",
        body="B",
        attachments=[
            {"storage_key": "ally360/gone.pdf", "filename": "FV1.pdf", "content_type": "x/y"}
        ],
    )
    assert send_outbound_email.apply(args=[str(orphan.pk)]).get() == "failed"
    orphan.refresh_from_db()
    assert (orphan.status, orphan.attempts) == (OutboundEmail.Status.FAILED, 1)
    assert "gone.pdf" in orphan.last_error and mail.outbox == []
    assert resend_pending_emails(older_than_seconds=0) == 0  # nothing left to re-queue


@pytest.mark.django_db
def test_a_long_smtp_outage_is_ridden_out_by_the_sweeper_at_growing_intervals(settings):
    """After the worker's quick retries, the sweeper tries again when each attempt is due (1,
    2, 4 … minutes, at most an hour) until the twelfth, hours later."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.tasks import (
        MAX_ATTEMPTS,
        QUICK_RETRIES,
        resend_pending_emails,
        retry_delay,
        send_outbound_email,
    )

    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 7, 11)] == [60, 120, 240, 3600, 3600]
    settings.EMAIL_BACKEND = f"{__name__}.FlakySMTPBackend"
    mail.outbox.clear()
    FlakySMTPBackend.failures = 1000  # the mail server stays down
    email = OutboundEmail.objects.create(kind="test", to="d@example.co", subject="S", body="B")
    OutboundEmail.objects.filter(pk=email.pk).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    for _quick in range(QUICK_RETRIES):  # the worker retries these (run one by one here)
        with pytest.raises(Exception, match="unexpectedly closed"):
            send_outbound_email.apply(args=[str(email.pk)], throw=True).get()
    assert send_outbound_email.apply(args=[str(email.pk)]).get() == "retry_later"
    email.refresh_from_db()
    assert email.attempts == 1 + QUICK_RETRIES

    waited = timedelta(0)
    passes = []
    while email.status == OutboundEmail.Status.PENDING:
        assert resend_pending_emails(older_than_seconds=0) == 0  # not due yet
        waited += email.next_attempt_at - timezone.now()
        OutboundEmail.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
        assert resend_pending_emails(older_than_seconds=0) == 1  # due: one attempt per pass
        email.refresh_from_db()
        passes.append(email.attempts)
    assert passes == list(range(2 + QUICK_RETRIES, MAX_ATTEMPTS + 1))
    assert email.status == OutboundEmail.Status.FAILED and mail.outbox == []
    assert waited > timedelta(hours=5)  # the outage the e-mail rode out
    FlakySMTPBackend.failures = 0


@pytest.mark.django_db
def test_an_attachment_the_object_store_cannot_give_now_is_retried_like_a_mail_server(
    s3_storage, object_store_outage
):
    """With the object store down the attempt counts and waits for its next turn (before, an
    unexpected error: retried every minute for ever, never counted); once the store is back
    the e-mail goes out with its attachment."""
    from accounts.tasks import send_outbound_email
    from files.backends import StorageUnavailable, backend

    backend().save("ally360/test/FV1.pdf", b"%PDF-1.7 test", "application/pdf")
    mail.outbox.clear()
    email = OutboundEmail.objects.create(
        kind="test",
        to="c@example.co",
        subject="S",
        body="B",
        attachments=[
            {
                "storage_key": "ally360/test/FV1.pdf",
                "filename": "FV1.pdf",
                "content_type": "application/pdf",
            }
        ],
    )
    with object_store_outage(), pytest.raises(StorageUnavailable):
        # The worker's quick retries are spent: the error ends the task, the row waits.
        send_outbound_email.apply(args=[str(email.pk)], retries=3).get()
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutboundEmail.Status.PENDING, 1)
    assert email.next_attempt_at is not None and mail.outbox == []
    assert send_outbound_email.apply(args=[str(email.pk)]).get() == "sent"
    (message,) = mail.outbox
    assert message.attachments[0][1] == b"%PDF-1.7 test"
