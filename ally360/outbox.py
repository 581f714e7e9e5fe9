"""Publishing Celery tasks through a transactional outbox (see `ally360.models.TaskOutbox`)."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone

logger = logging.getLogger("ally360.tasks")


def enqueue_on_commit(task, args: tuple, kwargs: dict):
    """Record the task with the current transaction and publish it after the commit."""
    from celery import current_app

    from .models import TaskOutbox

    row = TaskOutbox.objects.create(task_name=task.name, args=list(args), kwargs=kwargs)
    # Inline (eager) tasks raise their own errors; a real publication never fails the request.
    transaction.on_commit(partial(publish, row.pk), robust=not current_app.conf.task_always_eager)
    return row


def publish(row_id: int) -> bool:
    """Publish one outbox row and delete it; on a broker failure keep it for the sweeper.

    The row lock (skip locked) keeps the after-commit publication and the sweeper from
    publishing the same row twice.
    """
    from celery import current_app
    from celery.exceptions import NotRegistered
    from kombu.exceptions import OperationalError

    from .models import TaskOutbox

    with transaction.atomic():
        row = TaskOutbox.objects.select_for_update(skip_locked=True).filter(pk=row_id).first()
        if row is None:
            return False  # published already, or being published by another process
        try:
            current_app.tasks[row.task_name].apply_async(args=row.args, kwargs=row.kwargs)
        except (OperationalError, OSError, NotRegistered) as exc:
            # A broker outage passes; an unknown task name (renamed in a deploy) needs an
            # operator: both stay, counted, and never hold back the rows after them.
            log = logger.error if isinstance(exc, NotRegistered) else logger.warning
            log("Task %s not published (%r); it stays in the outbox.", row.task_name, exc)
            row.attempts += 1
            row.last_error = str(exc)[:2000]
            row.save(update_fields=["attempts", "last_error"])
            return False
        row.delete()
    return True


def publish_pending(older_than: timedelta = timedelta(seconds=30), limit: int = 500) -> int:
    """Beat: publish rows whose after-commit publication failed or never happened."""
    from .models import TaskOutbox

    cutoff = timezone.now() - older_than
    published = 0
    for row_id in (
        TaskOutbox.objects.filter(created_at__lte=cutoff)
        .order_by("attempts", "pk")  # rows that keep failing go last, never first
        .values_list("pk", flat=True)[:limit]
    ):
        try:
            published += publish(row_id)
        except Exception:  # one bad row must not stop the sweep
            logger.exception("Outbox row %s could not be published.", row_id)
    return published
