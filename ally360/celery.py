import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ally360.settings")

app = Celery("ally360", task_cls="ally360.tasks:TenantAwareTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="ally360.tasks.publish_pending_tasks")
def publish_pending_tasks() -> int:
    """Beat: publish the tasks a broker outage kept in the outbox."""
    from .outbox import publish_pending

    return publish_pending()


@app.task(name="ally360.tasks.purge_idempotency_records")
def purge_idempotency_records() -> int:
    """Beat: idempotency keys are kept 24 hours (a retry comes within seconds or minutes)."""
    from .tasks import purge_idempotency_records as purge

    return purge()
